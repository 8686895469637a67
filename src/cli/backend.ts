// Where the CLI's rules live: a rule-set file (--ruleset FILE or UPTABLES_RULESET) or the daemon
// of the current network namespace (its control socket, /run/uptables/<netns inode>.sock).
import type { RuleSet } from "../core/rules/model.ts";
import { ControlConnectError, requestSync } from "../control/client.ts";
import { applyRuleRequest } from "../control/execute.ts";
import { socketPathForCurrentNetns, type ControlReply, type ControlRequest } from "../control/protocol.ts";
import { loadRuleset, storeRuleset, withRulesetLock } from "./ruleset-file.ts";

export interface Backend {
  /** Carries out one command (iptables, save, restore, conntrack) and says what it printed. */
  run(request: ControlRequest): ControlReply;
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
  // An empty UPTABLES_RULESET counts as unset (a shell's `UPTABLES_RULESET= cmd`), as with --ruleset "".
  const fromEnvironment = process.env.UPTABLES_RULESET;
  return { argv: rest, ruleset: ruleset ?? (fromEnvironment ? fromEnvironment : null) };
}

/** Runs `fn` on the rule set of a file, under its lock; stores it when `fn` says it changed. */
export function updateRulesetFile<T>(path: string, fn: (rules: RuleSet) => { result: T; changed: boolean }): T {
  return withRulesetLock(path, () => {
    const rules = loadRuleset(path);
    const { result, changed } = fn(rules);
    if (changed) storeRuleset(path, rules);
    return result;
  });
}

export function fileBackend(path: string): Backend {
  return {
    run(request) {
      if (request.op === "conntrack" || request.op === "stats") {
        throw new NoBackendError(`${request.op} needs a running \`uptables daemon\` (a rule-set file holds no connections or counters)`);
      }
      const outcome = updateRulesetFile(path, (rules) => {
        const result = applyRuleRequest(rules, request);
        return { result, changed: result.changed };
      });
      return { stdout: outcome.stdout, stderr: outcome.stderr, exitCode: outcome.exitCode };
    },
  };
}

export const NO_DAEMON_MESSAGE =
  "no uptables daemon runs in this network namespace (start one with `uptables daemon`), or give --ruleset FILE";

/** The daemon of the current network namespace, through its control socket. */
export function daemonBackend(socketPath: string = socketPathForCurrentNetns()): Backend {
  return {
    run(request) {
      try {
        return requestSync(socketPath, request);
      } catch (error) {
        if (error instanceof ControlConnectError && (error.code === "ENOENT" || error.code === "ECONNREFUSED")) {
          throw new NoBackendError(NO_DAEMON_MESSAGE);
        }
        if (error instanceof ControlConnectError && error.code === "EACCES") {
          throw new NoBackendError(`cannot talk to the uptables daemon (${socketPath}): Permission denied (you must be root)`);
        }
        throw new NoBackendError((error as Error).message);
      }
    },
  };
}

export class NoBackendError extends Error {}

export function openBackend(ruleset: string | null): Backend {
  if (ruleset !== null) return fileBackend(ruleset);
  return daemonBackend(process.env.UPTABLES_SOCKET ?? undefined);
}
