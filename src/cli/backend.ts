// Where the CLI's rules live: a rule-set file (--ruleset FILE or UPTABLES_RULESET) or, later, the
// daemon of the current network namespace.
import type { RuleSet } from "../core/rules/model.ts";
import { loadRuleset, storeRuleset, withRulesetLock } from "./ruleset-file.ts";

export interface Backend {
  /** Runs `fn` on the rule set; when it returns true the rule set is stored. */
  update<T>(fn: (rules: RuleSet) => { result: T; changed: boolean }): T;
}

/** Takes `--ruleset FILE` / `--ruleset=FILE` out of argv; falls back to UPTABLES_RULESET. */
export function extractRulesetOption(argv: string[]): { argv: string[]; ruleset: string | null } {
  const rest: string[] = [];
  let ruleset: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--ruleset") {
      const value = argv[i + 1];
      if (value === undefined) throw new Error("option \"--ruleset\" requires an argument");
      ruleset = value;
      i++;
    } else if (word.startsWith("--ruleset=")) {
      ruleset = word.slice("--ruleset=".length);
    } else {
      rest.push(word);
    }
  }
  return { argv: rest, ruleset: ruleset ?? process.env.UPTABLES_RULESET ?? null };
}

export function fileBackend(path: string): Backend {
  return {
    update(fn) {
      return withRulesetLock(path, () => {
        const rules = loadRuleset(path);
        const { result, changed } = fn(rules);
        if (changed) storeRuleset(path, rules);
        return result;
      });
    },
  };
}

export class NoBackendError extends Error {}

export function openBackend(ruleset: string | null): Backend {
  if (ruleset !== null) return fileBackend(ruleset);
  throw new NoBackendError(
    "no rule set to work on: give --ruleset FILE (or set UPTABLES_RULESET) to use an iptables-save file; " +
      "talking to a running `uptables daemon` is not available in this version",
  );
}
