// Scratch network namespaces for tests that need the real kernel (iptables, nft, ip). Every
// namespace is named `upt-test-<pid>-<n>`, so a test only ever touches namespaces it created, and
// each one is removed again: by its owner in a finally block, and by `destroyAllNetns` (register
// it with afterAll) and a process exit hook for whatever a crash left behind. The machine's own
// namespace is never changed: commands run through `ip netns exec`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code, or 128 + signal number when the command was killed. */
  readonly exitCode: number;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** Runs a program (no shell) and captures everything it says. */
export function run(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): RunResult {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("run: empty command");
  const result = spawnSync(program, args, {
    input: options.input,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${program}: ${result.error.message}`);
  const exitCode = result.status ?? 128 + (SIGNALS[result.signal ?? ""] ?? 0);
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
}

const SBIN_PATHS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

/** The full path of a program on the usual root PATH, or null. */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(":").filter((d) => d !== ""), ...SBIN_PATHS];
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * Why tests that need root, namespaces and the given programs cannot run here, or null when they
 * can. Checked once per call; cheap enough for describe-time use.
 */
export function kernelTestProblem(programs: readonly string[] = ["ip", "iptables", "iptables-save"]): string | null {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "not running as root";
  for (const program of programs) {
    if (findProgram(program) === null) return `\`${program}' is not installed`;
  }
  return namespaceProblem();
}

let namespaceProbe: string | null | undefined;

/** Whether this machine lets us make a network namespace at all (probed once, then remembered). */
function namespaceProblem(): string | null {
  if (namespaceProbe !== undefined) return namespaceProbe;
  try {
    withNetns(() => undefined);
    namespaceProbe = null;
  } catch (error) {
    namespaceProbe = `cannot create a network namespace: ${(error as Error).message}`;
  }
  return namespaceProbe;
}

/** True under CI (CI=true): missing root or tools must then fail the run instead of skipping it. */
export const IN_CI = process.env.CI === "true";

/**
 * What a kernel test file calls at describe time: returns true when the tests must be skipped
 * (and says why on the console); under CI it throws instead, so a CI machine that cannot run them
 * fails loudly rather than passing with nothing tested.
 */
export function skipKernelTests(what: string, programs?: readonly string[]): boolean {
  const problem = kernelTestProblem(programs);
  if (problem === null) return false;
  if (IN_CI) throw new Error(`${what} need root, network namespaces and iptables, and CI=true forbids skipping them: ${problem}`);
  console.warn(`[skipped] ${what}: ${problem} (run as root with iptables installed to compare against the kernel)`);
  return true;
}

let counter = 0;
const live = new Set<Netns>();

export class Netns {
  private destroyed = false;

  private constructor(readonly name: string) {}

  /** Creates `upt-test-<pid>-<n>`; throws with ip's message when it cannot. */
  static create(): Netns {
    for (let attempt = 0; attempt < 100; attempt++) {
      const name = `upt-test-${process.pid}-${counter++}`;
      if (existsSync(`/run/netns/${name}`)) continue;
      const result = run(["ip", "netns", "add", name]);
      if (result.exitCode !== 0) throw new Error(`ip netns add ${name} failed: ${result.stderr.trim()}`);
      const ns = new Netns(name);
      live.add(ns);
      return ns;
    }
    throw new Error("no free upt-test namespace name");
  }

  /** Runs argv inside the namespace (`ip netns exec NAME argv...`). */
  exec(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): RunResult {
    if (this.destroyed) throw new Error(`namespace ${this.name} was already destroyed`);
    return run(["ip", "netns", "exec", this.name, ...argv], options);
  }

  /** Runs a bash script inside the namespace, given on stdin. */
  script(text: string, options: { timeoutMs?: number } = {}): RunResult {
    return this.exec(["bash", "-s"], { input: text, timeoutMs: options.timeoutMs });
  }

  /** Removes the namespace; safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    const result = run(["ip", "netns", "del", this.name]);
    if (result.exitCode !== 0 && existsSync(`/run/netns/${this.name}`)) {
      throw new Error(`ip netns del ${this.name} failed: ${result.stderr.trim()}`);
    }
  }
}

/** Runs `fn` with a fresh namespace that is removed afterwards, whatever happens. */
export function withNetns<T>(fn: (ns: Netns) => T): T {
  const ns = Netns.create();
  try {
    return fn(ns);
  } finally {
    ns.destroy();
  }
}

/** Removes every namespace this process created and still holds (for afterAll and crashes). */
export function destroyAllNetns(): void {
  const errors: string[] = [];
  for (const ns of [...live]) {
    try {
      ns.destroy();
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  if (errors.length > 0) throw new Error(errors.join("\n"));
}

process.once("exit", () => {
  for (const ns of [...live]) {
    try {
      ns.destroy();
    } catch {
      // Exiting anyway; nothing more can be done here.
    }
  }
});
