// Ties each extension to its name so the parser can load `-m NAME` / `-j NAME` and the saver can
// print them. Adding an extension means adding its file and one line in matches/index.ts or targets/index.ts.
import type { MatchExtension, TargetExtension } from "./extension.ts";
import { ALL_MATCHES } from "./matches/index.ts";
import { ALL_TARGETS } from "./targets/index.ts";

const matches = new Map<string, MatchExtension>();
const targets = new Map<string, TargetExtension>();
for (const m of ALL_MATCHES) matches.set(m.name, m);
for (const t of ALL_TARGETS) targets.set(t.name, t);

export function findMatch(name: string): MatchExtension | undefined {
  return matches.get(name);
}

export function findTarget(name: string): TargetExtension | undefined {
  return targets.get(name);
}

export function matchNames(): string[] {
  return [...matches.keys()];
}

export function targetNames(): string[] {
  return [...targets.keys()];
}
