// -m comment: a note carried with the rule, matching every packet (libxt_comment, xt_comment).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { saveString } from "../format.ts";

/** XT_MAX_COMMENT_LEN is 256 bytes including the terminating NUL. */
const MAX_COMMENT = 255;

export const commentMatch = defineMatch<{ comment: string | null }>({
  name: "comment",
  options: [{ name: "comment", hasArg: true }],
  init: () => ({ comment: null }),
  parse(data, _option, arg) {
    if (Buffer.byteLength(arg!) > MAX_COMMENT) {
      throw new ParameterProblem(`comment: option "--comment" must be no longer than ${MAX_COMMENT} characters.\n`);
    }
    data.comment = arg!;
  },
  finalCheck(data) {
    if (data.comment === null) throw new ParameterProblem(`comment: option "--comment" must be specified\n`);
  },
  save: (data) => `--comment ${saveString(data.comment ?? "")}`,
  print: (data) => `/* ${data.comment} */`,
});
