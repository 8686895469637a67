// Running programs for the lab runner: inside a lab namespace (`ip netns exec`), never a shell
// unless a lab's `shell:` step asks for one. The only module of src/lab that spawns directly.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");

export interface Ran {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** A command of the runner failed: what ran and what it said. */
export class LabRunError extends Error {}

export function run(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Ran {
  const [program, ...args] = argv;
  const result = spawnSync(program!, args, { input: options.input, encoding: "utf8", timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 << 20 });
  const command = argv.join(" ");
  if (result.error) return { command, stdout: "", stderr: `${program}: ${result.error.message}`, exitCode: 127 };
  return { command, stdout: result.stdout, stderr: result.stderr, exitCode: result.status ?? 128 };
}

export function runIn(netns: string, argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Ran {
  return run(["ip", "netns", "exec", netns, ...argv], options);
}

/** Runs and throws LabRunError unless the command exits 0. */
export function must(argv: readonly string[], options: { input?: string } = {}): Ran {
  const ran = run(argv, options);
  if (ran.exitCode !== 0) throw new LabRunError(`\`${ran.command}\` failed (exit ${ran.exitCode}): ${ran.stderr.trim() || ran.stdout.trim()}`);
  return ran;
}

/** node with tsx, for the project's own programs (services, probe client, uptables). */
export function nodeArgv(script: string, args: readonly string[] = []): string[] {
  return [process.execPath, "--import", "tsx", join(REPO, script), ...args];
}

/**
 * Starts a long-running program in a namespace, detached (its own process group, so a Ctrl-C in
 * the terminal reaches only the runner, which then stops everything in order) with its output in
 * `logFile`. Returns the pid at once; see waitForText.
 */
export function startDetached(netns: string, argv: readonly string[], logFile: string): { pid: number; exited: Promise<number | string> } {
  const fd = openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", netns, ...argv], { cwd: REPO, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  child.unref();
  if (child.pid === undefined) throw new LabRunError(`cannot start ${argv.join(" ")}`);
  return { pid: child.pid, exited };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Blocks the thread (for synchronous teardown in a signal handler). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits until `text` appears in the log file, or throws when the process died or time ran out. */
export async function waitForText(logFile: string, text: string, pid: number, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readFileSync(logFile, "utf8");
    if (log.includes(text)) return;
    if (!isAlive(pid)) throw new LabRunError(`${what} exited before it was ready:\n${log.trim()}`);
    if (Date.now() > deadline) throw new LabRunError(`${what} not ready after ${timeoutMs / 1000} s:\n${log.trim()}`);
    await sleep(50);
  }
}
