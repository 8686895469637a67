// An offline rule set kept in an iptables-save file (with counters). Writers take a lock file
// (as iptables' --wait takes xtables.lock), write a temporary file and rename it over the old one,
// so concurrent commands never interleave and a crash never leaves half a file.
import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, fsyncSync } from "node:fs";
import { RuleSet } from "../core/rules/model.ts";
import { restore, RestoreError } from "../core/iptables/restore.ts";
import { formatSave } from "../core/iptables/save.ts";
import { formatRestoreError } from "../core/iptables/run.ts";

const LOCK_TIMEOUT_MS = 30_000;
const LOCK_RETRY_MS = 20;

export class RulesetFileError extends Error {}

/**
 * The rule set a rule-set file's text holds (the exact state, counters and all); throws RestoreError
 * when the text is not one.
 */
export function parseRulesetText(text: string): RuleSet {
  const rules = new RuleSet();
  restore(rules, text, { counters: true, ruleSetFile: true });
  return rules;
}

/** Reads the rule set in `path`; an absent or empty file is an empty rule set. */
export function loadRuleset(path: string): RuleSet {
  if (!existsSync(path)) return new RuleSet();
  const text = readFileSync(path, "utf8");
  try {
    return parseRulesetText(text);
  } catch (error) {
    if (error instanceof RestoreError) {
      throw new RulesetFileError(`rule set file ${path} is not valid:\n${formatRestoreError("uptables-restore", error)}`);
    }
    throw error;
  }
}

export function storeRuleset(path: string, rules: RuleSet): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, "w", 0o644);
  try {
    writeSync(fd, formatSave(rules, { counters: true, kernelView: true }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lockHolderIsGone(lockPath: string): boolean {
  try {
    const pid = Number(readFileSync(lockPath, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Runs `fn` holding `path`.lock; a lock left by a dead process is taken over. */
export function withRulesetLock<T>(path: string, fn: () => T): T {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (lockHolderIsGone(lockPath)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Another waiter removed it first.
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new RulesetFileError(`Another app is currently holding the xtables lock (${lockPath}); gave up after ${LOCK_TIMEOUT_MS / 1000}s`);
      }
      sleep(LOCK_RETRY_MS);
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
