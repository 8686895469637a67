// Waiting on what a child process prints (a tool that says it is ready, a line that must come).
import type { ChildProcess } from "node:child_process";

/**
 * Resolves, once the child's `stream` output so far passes `test`, with a function returning all
 * of it up to now (it keeps collecting); rejects after `timeoutMs`.
 */
export function outputWhen(child: ChildProcess, stream: "stdout" | "stderr", test: (text: string) => boolean, timeoutMs = 20_000): Promise<() => string> {
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.spawnargs.join(" ")} never printed what was awaited:\n${output}`)), timeoutMs);
    child[stream]!.on("data", (d: Buffer) => {
      output += d.toString();
      if (test(output)) {
        clearTimeout(timer);
        resolve(() => output);
      }
    });
  });
}
