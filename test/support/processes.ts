// Child processes in a test's network namespaces: start one and wait for the line that says it is
// ready, wait for one to exit.
import { spawn, type ChildProcess } from "node:child_process";
import type { Netns } from "./netns.ts";
import { REPO_ROOT } from "./corpus.ts";

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** Every child started is pushed here at once, so an afterEach can kill it even if it never got ready. */
  readonly track?: ChildProcess[];
}

/** Spawns argv in a namespace (cwd: the repository) and waits until `readyText` appears in its output. */
export function startChild(ns: Netns, argv: string[], readyText: string, opts: StartOptions = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const child = spawn("ip", ["netns", "exec", ns.name, ...argv], { cwd: REPO_ROOT, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  opts.track?.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(" ")}: no "${readyText}" after ${timeoutMs} ms:\n${output}`)), timeoutMs);
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
      reject(new Error(`${argv.join(" ")} exited (${code ?? signal}) before "${readyText}":\n${output}`));
    });
  });
}

/** The child's exit code, or the signal that ended it. */
export function waitExit(child: ChildProcess, timeoutMs = 20_000): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit in ${timeoutMs} ms`)), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal!);
    });
  });
}
