// Random words and word-list mutations for the command and restore fuzzers.
import type { Rng } from "./rng.ts";
import { vocabulary } from "./fuzz-corpus.ts";

export const INTERFACES = [
  "eth0", "docker0", "lo", "br-dummy", "eth+", "+", "docker+", "veth1234567890a", "veth1234567890ab", "a/b",
  "a b", "x".repeat(15), "x".repeat(16), "ens3", "wlan0", "é", "-", "!",
];

const CHARS = "aZ09-_!./:,=+ \t\"'\\*#[]é中🙂\u0000\u00ff";

/** A random string: printable, control characters, unicode, sometimes very long. */
export function randomString(rng: Rng): string {
  const kind = rng.int(10);
  if (kind === 0) return "";
  if (kind === 1) {
    // very long
    const ch = rng.pick(["a", "-", "1", "é", "🙂", " "]);
    return ch.repeat(rng.pick([255, 256, 1000, 4096, 70000]));
  }
  const n = rng.range(1, 12);
  let s = "";
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.15)) s += String.fromCharCode(rng.int(0x30000) < 0xd800 ? rng.int(0xd800) : rng.range(0xe000, 0xffff));
    else if (rng.chance(0.05)) s += String.fromCharCode(rng.range(0xd800, 0xdfff)); // lone surrogate
    else s += CHARS[rng.int(CHARS.length)]!;
  }
  return s;
}

/** One word from any category of the vocabulary. */
export function randomToken(rng: Rng): string {
  const v = vocabulary();
  switch (rng.int(14)) {
    case 0:
    case 1:
      return rng.pick(v.options);
    case 2:
    case 3:
      return rng.pick(v.extensionOptions);
    case 4:
      return rng.pick(v.matchNames);
    case 5:
      return rng.pick(v.targetNames);
    case 6:
      return rng.pick(v.tables);
    case 7:
      return rng.pick(v.chains);
    case 8:
      return rng.pick(v.addresses);
    case 9:
      return rng.pick(v.ports);
    case 10:
      return rng.pick(v.numbers);
    case 11:
      return rng.pick(v.values);
    case 12:
      return rng.chance(0.5) ? rng.pick(v.garbage) : randomString(rng);
    default:
      return rng.pick(INTERFACES);
  }
}

/** A value for an extension option. */
export function randomValue(rng: Rng): string {
  const v = vocabulary();
  return rng.weighted<() => string>([
    [5, () => rng.pick(v.values)],
    [3, () => rng.pick(v.ports)],
    [3, () => rng.pick(v.addresses)],
    [2, () => rng.pick(v.numbers)],
    [1, () => randomString(rng)],
  ])();
}

/** Changes one character somewhere in the word (insert, delete, replace, case). */
export function mutateChars(rng: Rng, word: string): string {
  const at = rng.int(word.length + 1);
  switch (rng.int(5)) {
    case 0:
      return word.slice(0, at) + CHARS[rng.int(CHARS.length)]! + word.slice(at);
    case 1:
      return word.slice(0, at) + word.slice(at + 1);
    case 2:
      return word.slice(0, at) + CHARS[rng.int(CHARS.length)]! + word.slice(at + 1);
    case 3:
      return rng.chance(0.5) ? word.toUpperCase() : word.toLowerCase();
    default:
      return word.slice(0, at);
  }
}

const COMMAND_LETTERS = ["-A", "-I", "-D", "-C", "-R", "-N", "-X", "-E", "-P", "-L", "-S", "-F", "-Z"];

/** One mutation of a word list; returns a new list. */
export function mutateTokens(rng: Rng, tokens: readonly string[]): string[] {
  const out = [...tokens];
  const at = rng.int(out.length);
  switch (rng.int(13)) {
    case 0: // delete
      if (out.length > 0) out.splice(at, 1);
      break;
    case 1: // duplicate
      if (out.length > 0) out.splice(at, 0, out[at]!);
      break;
    case 2: {
      // swap two
      const b = rng.int(out.length);
      if (out.length > 1) [out[at], out[b]] = [out[b]!, out[at]!];
      break;
    }
    case 3: // replace with a word of the vocabulary
      if (out.length > 0) out[at] = randomToken(rng);
      break;
    case 4: {
      // flip "!": remove one, or put one before a word
      const bang = out.indexOf("!");
      if (bang >= 0 && rng.chance(0.5)) out.splice(bang, 1);
      else out.splice(rng.int(out.length + 1), 0, "!");
      break;
    }
    case 5: // truncate
      out.length = rng.int(out.length + 1);
      break;
    case 6: // change one character
      if (out.length > 0) out[at] = mutateChars(rng, out[at]!);
      break;
    case 7: {
      // change the command
      const i = out.findIndex((w) => COMMAND_LETTERS.includes(w));
      if (i >= 0) out[i] = rng.pick(COMMAND_LETTERS);
      else out.splice(rng.int(out.length + 1), 0, rng.pick(COMMAND_LETTERS));
      break;
    }
    case 8: // insert a word
      out.splice(rng.int(out.length + 1), 0, randomToken(rng));
      break;
    case 9: // insert an extension option with a value
      out.splice(rng.int(out.length + 1), 0, rng.pick(vocabulary().extensionOptions), randomValue(rng));
      break;
    case 10: // join two words
      if (out.length > 1 && at + 1 < out.length) out.splice(at, 2, out[at]! + rng.pick(["", "=", ",", " "]) + out[at + 1]!);
      break;
    case 11: {
      // split a word
      const w = out[at];
      if (w !== undefined && w.length > 1) {
        const cut = rng.range(1, w.length - 1);
        out.splice(at, 1, w.slice(0, cut), w.slice(cut));
      }
      break;
    }
    default: // replace a value with another of its kind
      if (out.length > 0) out[at] = randomValue(rng);
      break;
  }
  return out;
}
