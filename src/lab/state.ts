// What a lab run or `lab up` built, on disk under /run/uptables/labs/, written before each thing
// is made: so `lab down` and `lab status` work from another shell, and whatever a crashed runner
// built can still be removed. One file per lab instance: <prefix>.json, with <prefix>/ beside it
// for logs and captures.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Mode } from "./format.ts";

export const LABS_DIR = process.env.UPTABLES_LAB_STATE_DIR ?? "/run/uptables/labs";
/** `lab up` builds one lab at a time under this prefix; runs use upt-run-<pid>. */
export const UP_PREFIX = "upt-lab";

export interface LabProcess {
  readonly pid: number;
  /** "daemon", "service http 80 in container", "tcpdump eth0 in host", ... */
  readonly what: string;
  readonly netns: string;
}

export interface LabState {
  readonly prefix: string;
  readonly lab: string;
  readonly file: string;
  readonly mode: Mode;
  /** The process that built it (`lab up` exits; a run stays until it is done). */
  readonly ownerPid: number;
  readonly startedAt: string;
  readonly namespaces: string[];
  readonly processes: LabProcess[];
  /** The host namespace's inode: names the daemon's socket and journal under /run/uptables. */
  hostNetnsInode: number | null;
  /** Set once the lab is built and its rules loaded. */
  ready: boolean;
}

export function statePath(prefix: string): string {
  return join(LABS_DIR, `${prefix}.json`);
}

export function workDir(prefix: string): string {
  return join(LABS_DIR, prefix);
}

export function realNetns(prefix: string, name: string): string {
  return `${prefix}-${name}`;
}

export function saveState(state: LabState): void {
  mkdirSync(LABS_DIR, { recursive: true, mode: 0o700 });
  const path = statePath(state.prefix);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function readState(prefix: string): LabState | null {
  const path = statePath(prefix);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, "utf8")) as LabState;
}

/** Every lab instance with a state file (up and runs, also those whose runner died). */
export function allStates(): LabState[] {
  if (!existsSync(LABS_DIR)) return [];
  return readdirSync(LABS_DIR)
    .filter((f) => f.endsWith(".json"))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(LABS_DIR, f), "utf8")) as LabState];
      } catch {
        return [];
      }
    });
}
