// Splits an iptables-restore line into words the way iptables-restore does: whitespace separates,
// double quotes group, and inside quotes a backslash escapes the next character.

export class UnterminatedQuote extends Error {}

export function splitRestoreLine(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === "\\" && i + 1 < line.length) {
        current += line[++i];
      } else if (ch === '"') {
        quoted = false;
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quoted) throw new UnterminatedQuote("unterminated quote");
  if (inWord) words.push(current);
  return words;
}
