// Whose netfilter the host namespace runs: the kernel's (iptables, iptables-restore, conntrack,
// iptables-save) or uptables' daemon (uptables, uptables-restore, uptables conntrack,
// uptables-save), behind one interface so a lab's steps read the same in both modes.
import { join } from "node:path";
import { requestSync } from "../control/client.ts";
import { CONTROL_DIR, type ControlRequest } from "../control/protocol.ts";
import { parseStatus } from "../control/daemon-status.ts";
import { LabRunError, nodeArgv, runIn, sleep, startDetached, waitForText, type Ran } from "./commands.ts";
import type { Mode } from "./format.ts";
import { saveState, workDir, type LabState } from "./state.ts";

export interface HostFirewall {
  readonly mode: Mode;
  /** Makes the firewall live (userspace: starts the daemon and waits for its socket). */
  start(): Promise<void>;
  /** One iptables command line (the arguments after `iptables`). */
  iptables(netns: string, args: readonly string[]): Ran;
  restore(netns: string, text: string): Ran;
  /** `-save -c` text. */
  save(): Ran;
  list(table: string, chain: string | null): Ran;
  conntrack(): Ran;
  /**
   * Returns once the firewall sees a change just made to namespace `netns` (a sysctl, a route):
   * the kernel at once; the daemon, for its own namespace, after its next full read of the host
   * (it polls once a second).
   */
  hostChanged(netns: string): Promise<void>;
  /** Stops it; returns a problem (the daemon did not exit 0) or null. */
  stop(): Promise<string | null>;
}

/** The lab's rules in other namespaces than the host always go to the kernel: only the host is under test. */
class KernelFirewall implements HostFirewall {
  readonly mode: Mode = "kernel";
  constructor(protected readonly host: string) {}

  async start(): Promise<void> {}

  async hostChanged(_netns: string): Promise<void> {}

  iptables(netns: string, args: readonly string[]): Ran {
    return runIn(netns, ["iptables", ...args]);
  }

  restore(netns: string, text: string): Ran {
    return runIn(netns, ["iptables-restore"], { input: text });
  }

  save(): Ran {
    return runIn(this.host, ["iptables-save", "-c"]);
  }

  list(table: string, chain: string | null): Ran {
    return runIn(this.host, ["iptables", "-t", table, "-L", ...(chain ? [chain] : []), "-n", "-v", "-x"]);
  }

  conntrack(): Ran {
    return runIn(this.host, ["conntrack", "-L"]);
  }

  async stop(): Promise<string | null> {
    return null;
  }
}

const DAEMON_READY = "ready (pid";

class UserspaceFirewall extends KernelFirewall {
  override readonly mode: Mode = "userspace";
  private daemon: { pid: number; exited: Promise<number | string> } | null = null;
  private readonly log: string;

  constructor(host: string, private readonly state: LabState) {
    super(host);
    this.log = join(workDir(state.prefix), "daemon.log");
  }

  override async start(): Promise<void> {
    this.daemon = startDetached(this.host, nodeArgv("bin/uptables.mjs", ["daemon"]), this.log);
    this.state.processes.push({ pid: this.daemon.pid, what: "daemon", netns: this.host });
    saveState(this.state);
    await waitForText(this.log, DAEMON_READY, this.daemon.pid, "uptables daemon");
  }

  override iptables(netns: string, args: readonly string[]): Ran {
    return netns === this.host ? runIn(netns, nodeArgv("bin/uptables.mjs", args)) : super.iptables(netns, args);
  }

  override restore(netns: string, text: string): Ran {
    return netns === this.host ? runIn(netns, nodeArgv("bin/uptables-restore.mjs"), { input: text }) : super.restore(netns, text);
  }

  // The snapshots after every probe ask the daemon's control socket directly, as `uptables-save
  // -c`, `uptables -L` and `uptables conntrack -L` do, without starting node for each.
  private ask(command: string, request: ControlRequest): Ran {
    const socket = join(CONTROL_DIR, `${this.state.hostNetnsInode}.sock`);
    try {
      return { command, ...requestSync(socket, request) };
    } catch (error) {
      return { command, stdout: "", stderr: (error as Error).message, exitCode: 1 };
    }
  }

  override save(): Ran {
    return this.ask("uptables-save -c", { op: "save", counters: true });
  }

  override list(table: string, chain: string | null): Ran {
    const argv = ["-t", table, "-L", ...(chain ? [chain] : []), "-n", "-v", "-x"];
    return this.ask(`uptables ${argv.join(" ")}`, { op: "iptables", argv });
  }

  override conntrack(): Ran {
    return this.ask("uptables conntrack -L", { op: "conntrack", args: ["-L"] });
  }

  /** Waits for two more reads of the host, so that one began after the change (`host_reads`). */
  override async hostChanged(netns: string): Promise<void> {
    if (netns !== this.host) return;
    const reads = (): number => {
      const ran = this.ask("uptables daemon --stats", { op: "stats" });
      if (ran.exitCode !== 0) throw new LabRunError(`cannot read the daemon's status: ${ran.stderr.trim()}`);
      return parseStatus(ran.stdout).hostReads;
    };
    const target = reads() + 2;
    const deadline = Date.now() + 10_000;
    while (reads() < target) {
      if (Date.now() > deadline) throw new LabRunError("the daemon did not read the host again within 10 s");
      await sleep(100);
    }
  }

  override async stop(): Promise<string | null> {
    if (this.daemon === null) return null;
    const { pid, exited } = this.daemon;
    this.daemon = null;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return `the daemon (pid ${pid}) was already gone`;
    }
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("no exit after 15 s"), 15_000))]);
    return code === 0 ? null : `the daemon exited with ${code} on SIGTERM`;
  }

  daemonLog(): string {
    return this.log;
  }
}

export function hostFirewall(mode: Mode, host: string, state: LabState): HostFirewall {
  if (mode !== "kernel" && mode !== "userspace") throw new LabRunError(`unknown mode ${mode as string}`);
  return mode === "kernel" ? new KernelFirewall(host) : new UserspaceFirewall(host, state);
}
