// Splits the rule part of an iptables-restore line into words exactly as iptables-restore 1.8.9
// does (add_param_to_argv), quirks included, since a file means what iptables makes of it:
// - blanks, tabs and newlines separate words; several in a row count as one;
// - a double quote opens a quoted part, in which blanks are kept and a backslash takes the next
//   character as it is (`"a \"b\""` is `a "b"`); outside quotes a backslash is an ordinary character;
// - the closing quote ends the word there (`ab"c d"e` is `abc d` and `e`, `""` an empty word);
// - an unterminated quote takes the rest of the line, newline included, into the last word;
// - a word of 1024 bytes or more is refused ("Parameter too long!").
// uptables' own rule-set files also write a newline inside quotes as "\n" (`escapedNewlines`).
import { ParameterProblem } from "../rules/errors.ts";

/** iptables-restore's param_buffer: a word must stay below this many bytes. */
export const MAX_PARAMETER_LENGTH = 1024;

/** The bytes a character takes in UTF-8 (iptables counts bytes). */
function utf8Length(ch: string): number {
  const code = ch.codePointAt(0)!;
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

export function splitRestoreLine(line: string, opts: { readonly escapedNewlines?: boolean } = {}): string[] {
  const words: string[] = [];
  let word = "";
  let wordBytes = 0;
  let quoted = false;
  let escaped = false;
  const add = (ch: string): void => {
    word += ch;
    wordBytes += utf8Length(ch);
    if (wordBytes >= MAX_PARAMETER_LENGTH) throw new ParameterProblem("Parameter too long!");
  };
  for (const ch of line) {
    if (quoted) {
      if (escaped) {
        add(ch === "n" && opts.escapedNewlines ? "\n" : ch);
        escaped = false;
        continue;
      }
      if (ch === "\\") {
        escaped = true;
        continue;
      }
      if (ch !== '"') {
        add(ch);
        continue;
      }
      // The closing quote ends the word, even an empty one.
      quoted = false;
      words.push(word);
      word = "";
      wordBytes = 0;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\n") {
      if (word === "") continue;
      words.push(word);
      word = "";
      wordBytes = 0;
      continue;
    }
    add(ch);
  }
  // The end of the line ends the last word (the newline of the line usually did already).
  if (word !== "") words.push(word);
  return words;
}
