// Network namespaces and the processes run in them, for the end-to-end benchmarks. Every
// namespace is named `upt-bench-<pid>-...` and removed by `removeAll` (the caller's finally and its
// signal handlers), so the machine's own namespace is never touched and nothing is left behind.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Children run from the repository, so `node --import tsx` finds tsx. */
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export class BenchError extends Error {}

export interface Finished {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * On SIGINT/SIGTERM/SIGHUP: runs `cleanup` (remove namespaces, files), says so and exits 130.
 * Returns the function that takes the handlers away again.
 */
export function cleanUpOnSignals(what: string, cleanup: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    process.stderr.write(`\n${what}: ${signal}: namespaces removed\n`);
    process.exit(130);
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const sig of signals) process.on(sig, onSignal);
  return () => {
    for (const sig of signals) process.removeListener(sig, onSignal);
  };
}

/** Namespaces and children of one benchmark run. */
export class BenchNamespaces {
  private readonly names: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private serial = 0;

  constructor(readonly prefix = `upt-bench-${process.pid}`) {}

  /** Creates `<prefix>-<n>-<role>` with lo up. */
  create(role: string): string {
    const name = `${this.prefix}-${this.serial++}-${role}`;
    this.ip(["netns", "add", name]);
    this.names.push(name);
    this.exec(name, ["ip", "link", "set", "lo", "up"]);
    return name;
  }

  /** `ip ARGS` in the caller's namespace (only `ip netns ...` and `ip -n NS ...` are used). */
  ip(args: string[]): void {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0) throw new BenchError(`ip ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`);
  }

  /** Runs a command in a namespace and waits for it; throws when it fails. */
  exec(ns: string, argv: string[], input?: string): string {
    const r = spawnSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8", input, timeout: 60_000 });
    if (r.status !== 0) throw new BenchError(`${argv.join(" ")} in ${ns}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
    return r.stdout;
  }

  /** Runs a command in a namespace without blocking the event loop (so progress and signals go on). */
  run(ns: string, argv: string[], timeoutMs: number): Promise<Finished> {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    this.children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ stdout, stderr, code });
      });
    });
  }

  /** Starts a long-running program in a namespace and waits until it prints `readyText`. */
  start(ns: string, argv: string[], readyText: string, timeoutMs = 30_000): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    this.children.add(child);
    let output = "";
    child.on("close", () => this.children.delete(child));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchError(`${argv.join(" ")}: not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (output.includes(readyText)) {
          clearTimeout(timer);
          resolve({ child, output: () => output });
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new BenchError(`${argv.join(" ")} exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
  }

  /** Asks a child to stop (SIGTERM), and kills it if it has not after `graceMs`. */
  async stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills every child still running and removes every namespace made (also on failure and signals). */
  removeAll(): string[] {
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
    const problems: string[] = [];
    for (const name of this.names.splice(0)) {
      const r = spawnSync("ip", ["netns", "del", name], { encoding: "utf8" });
      if (r.status !== 0 && existsSync(`/run/netns/${name}`)) problems.push(`ip netns del ${name}: ${r.stderr.trim()}`);
    }
    return problems;
  }

  /** Removes the namespaces made so far (between modes: each mode gets a fresh topology). */
  async removeNamespaces(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c, 2000)));
    const problems = this.removeAll();
    if (problems.length > 0) throw new BenchError(problems.join("\n"));
  }
}
