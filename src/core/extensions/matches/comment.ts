// -m comment: a note carried with the rule, matching every packet (libxt_comment, xt_comment).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { saveString } from "../format.ts";

/** XT_MAX_COMMENT_LEN is 256 bytes including the terminating NUL. */
const MAX_COMMENT = 255;

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes (a character cut in two is dropped). */
function truncateUtf8(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}

export const commentMatch = defineMatch<{ comment: string | null }>({
  name: "comment",
  options: [{ name: "comment", hasArg: true }],
  init: () => ({ comment: null }),
  parse(data, _option, arg) {
    // iptables 1.8.9 keeps the first 255 bytes of a longer comment, without a word.
    data.comment = truncateUtf8(arg!, MAX_COMMENT);
  },
  finalCheck(data) {
    if (data.comment === null) throw new ParameterProblem(`comment: option "--comment" must be specified\n`);
  },
  save: (data) => `--comment ${saveString(data.comment ?? "")}`,
  compile: () => () => true,
  print: (data) => `/* ${data.comment} */`,
});
