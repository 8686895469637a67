// `uptables daemon`: takes over the current network namespace's forwarding, input and output
// (run it as `ip netns exec NS uptables daemon ...`) and moves its packets through the engine.
//
//   uptables daemon [--interfaces a,b] [--ruleset FILE] [--verbose]
//                   [--force-kernel-rules] [--allow-root-namespace]
//   uptables daemon --cleanup
//   uptables daemon --stats [--json]      (asks the running daemon of this namespace)
//
// Exit codes: 0 stopped by SIGINT/SIGTERM (or --cleanup done), 1 setup or runtime failure (what it
// made is undone first), 2 bad usage or rule set.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { CompileError } from "../core/engine/compile.ts";
import { Netfilter } from "../core/engine/netfilter.ts";
import { RuleSet } from "../core/rules/model.ts";
import { HostReader } from "../datapath/host-reader.ts";
import { InterfaceFollower, takeableInterfaces, type LinkSummary } from "../datapath/interface-follower.ts";
import { PacketLoop } from "../datapath/loop.ts";
import { cleanupLeftovers, Datapath, DatapathSetupError } from "../datapath/setup.ts";
import { loadRuleset, RulesetFileError } from "./ruleset-file.ts";
import { ControlServer, removeStaleSocket } from "../control/server.ts";
import { socketPathForCurrentNetns } from "../control/protocol.ts";
import { collectStatus } from "../control/daemon-status.ts";
import { daemonStatsMain } from "./daemon-stats.ts";

export const DAEMON_USAGE = `Usage: uptables daemon [options]
       uptables daemon --cleanup
       uptables daemon --stats [--json]

Takes over the current network namespace's packets (run it as: ip netns exec NS uptables daemon):
each taken interface X gets a TUN upt-X, locally generated packets go through upt-OUTPUT, and the
uptables engine filters and NATs them in place of the kernel's netfilter.

Options:
  --interfaces a,b         interfaces to take over (default: all but lo and bridge ports, and
                           those that appear while it runs; gone ones are given back)
  --ruleset FILE           initial rule set (an iptables-save file); default: empty, all ACCEPT
  --verbose                a log line per packet
  --offload                open the TUNs with IFF_VNET_HDR and checksum/TCP segmentation offload:
                           TCP passes as super-packets of up to 64 KB (fewer, larger packets)
  --force-kernel-rules     start even if kernel iptables/nftables rules exist here
  --allow-root-namespace   start even in the machine's own network namespace (dangerous)
  --cleanup                remove what a daemon that was killed left behind (rules, tables, TUNs,
                           sysctls), then exit
  --stats                  print the running daemon's packet counters (in, accepted, dropped by
                           reason), conntrack counters and memory, one "name value" a line
  --json                   with --stats: the same as JSON
`;

class UsageError extends Error {}

interface DaemonArgs {
  interfaces: string[] | null;
  ruleset: string | null;
  verbose: boolean;
  cleanup: boolean;
  forceKernelRules: boolean;
  allowRootNamespace: boolean;
  help: boolean;
  stats: boolean;
  json: boolean;
  offload: boolean;
}

function parseArgs(argv: readonly string[]): DaemonArgs {
  const args: DaemonArgs = { interfaces: null, ruleset: null, verbose: false, cleanup: false, forceKernelRules: false, allowRootNamespace: false, help: false, stats: false, json: false, offload: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`option ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--interfaces":
      case "-i":
        args.interfaces = value().split(",").map((s) => s.trim()).filter((s) => s !== "");
        if (args.interfaces.length === 0) throw new UsageError("--interfaces needs at least one interface");
        break;
      case "--ruleset":
        args.ruleset = value();
        break;
      case "--verbose":
      case "-v":
        args.verbose = true;
        break;
      case "--cleanup":
        args.cleanup = true;
        break;
      case "--force-kernel-rules":
        args.forceKernelRules = true;
        break;
      case "--allow-root-namespace":
        args.allowRootNamespace = true;
        break;
      case "--stats":
        args.stats = true;
        break;
      case "--offload":
        args.offload = true;
        break;
      case "--json":
        args.json = true;
        break;
      case "-h":
      case "--help":
        args.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  return args;
}

function log(line: string): void {
  process.stderr.write(`uptables daemon: ${line}\n`);
}

/** The interfaces taken over at start without --interfaces (see interface-follower.ts). */
function defaultInterfaces(): string[] {
  return takeableInterfaces(JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" })) as LinkSummary[]);
}

export async function daemonMain(argv: readonly string[]): Promise<number> {
  let args: DaemonArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`uptables daemon: ${(error as Error).message}\nTry \`uptables daemon --help'.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  if (args.stats) return daemonStatsMain(args.json);
  if (process.platform !== "linux") {
    log(`the datapath needs Linux (this is ${process.platform})`);
    return 1;
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    log("needs root (CAP_NET_ADMIN): TUN devices, routing rules and sysctls");
    return 1;
  }
  if (args.cleanup) {
    try {
      const done = cleanupLeftovers(log);
      const socketPath = socketPathForCurrentNetns();
      if (await removeStaleSocket(socketPath)) done.push(`removed the stale control socket ${socketPath}`);
      for (const line of done) log(`cleanup: ${line}`);
      log(done.length === 0 ? "cleanup: nothing to remove" : `cleanup: ${done.length} change(s) undone`);
      return 0;
    } catch (error) {
      log(`cleanup failed: ${(error as Error).message}`);
      return 1;
    }
  }

  let rules: RuleSet;
  try {
    if (args.ruleset !== null && !existsSync(args.ruleset)) throw new RulesetFileError(`rule set file ${args.ruleset} does not exist`);
    rules = args.ruleset === null ? new RuleSet() : loadRuleset(args.ruleset);
    if (args.ruleset !== null && rules.tables.size === 0) log(`warning: ${args.ruleset} holds no rules (missing or empty)`);
  } catch (error) {
    log((error as Error).message);
    return 2;
  }

  const interfaces = args.interfaces ?? defaultInterfaces();
  if (interfaces.length === 0) {
    log("no interfaces to take over (only lo here?)");
    return 1;
  }

  let datapath: Datapath;
  try {
    datapath = Datapath.create({ interfaces, forceKernelRules: args.forceKernelRules, allowRootNamespace: args.allowRootNamespace, vnetHeader: args.offload, log });
  } catch (error) {
    log(error instanceof DatapathSetupError ? error.message : `setup failed: ${(error as Error).stack ?? error}`);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let reader: HostReader | null = null;
    let loop: PacketLoop | null = null;
    let control: ControlServer | null = null;
    let stopped = false;
    const stop = (code: number, why: string): void => {
      if (stopped) return;
      stopped = true;
      log(`stopping: ${why}`);
      reader?.stop();
      control?.stopSync();
      loop?.stop();
      if (loop !== null) {
        const s = loop.stats;
        log(`packets: ${s.packetsIn} in, ${s.accepted} accepted, ${s.dropped} dropped, ${s.replies} REJECT replies`);
      }
      const undone = datapath.teardown();
      log(`removed the datapath (${undone.length} change(s) undone)`);
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(sig, onSignal);
      process.removeListener("uncaughtException", onFatal);
      process.removeListener("unhandledRejection", onFatal);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals): void => stop(0, signal);
    const onFatal = (error: unknown): void => stop(1, `fatal error: ${(error as Error)?.stack ?? String(error)}`);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
    process.on("uncaughtException", onFatal);
    process.on("unhandledRejection", onFatal);

    const exclude = (name: string): boolean => datapath.tunNames.has(name);
    let engine: Netfilter | null = null;
    // Without --interfaces, interfaces that appear (or go) while the daemon runs are taken over (released).
    let follower: InterfaceFollower | null = null;
    reader = new HostReader(
      exclude,
      datapath.ipForwardBefore,
      (snapshot) => {
        if (engine === null || stopped) return;
        follower?.update(snapshot.addrs);
        engine.host = snapshot.view;
        datapath.syncOutputTable(snapshot.view, snapshot.routes);
        log(`host changed: ${snapshot.view.describe().replace(/\n/g, "; ")}`);
      },
      (error) => log(`cannot read the host: ${error.message}`),
      1000,
      (path) => datapath.hostSysctl(path),
    );
    reader
      .start()
      .then((snapshot) => {
        if (stopped) return;
        try {
          engine = new Netfilter(rules, { host: snapshot.view, decrementTtl: false });
        } catch (error) {
          stop(error instanceof CompileError ? 2 : 1, `the rule set cannot run: ${(error as Error).message}`);
          return;
        }
        datapath.syncOutputTable(snapshot.view, snapshot.routes);
        loop = new PacketLoop(
          engine,
          [...datapath.taken.map((t) => ({ tun: t.tun, iface: t.iface })), { tun: datapath.output!, iface: null }],
          { verbose: args.verbose, log, onFatal: (error) => stop(1, error.message) },
        );
        loop.start();
        if (args.interfaces === null) {
          follower = new InterfaceFollower(datapath, loop, log);
          follower.update(snapshot.addrs); // what appeared since the interfaces were listed
        }
        // The control socket (uptables / uptables-save / uptables-restore / uptables conntrack
        // without --ruleset): commands run on `rules` and are compiled into `engine`.
        const running = engine;
        const packets = loop.stats;
        const startedAt = Date.now();
        const status = () =>
          collectStatus({
            startedAt,
            hostReads: reader?.reads ?? 0,
            packets,
            engineDrops: running.drops,
            tunStats: [...datapath.taken.map((t) => t.tun.stats), datapath.output!.stats],
            conntrack: { stats: running.conntrack.table.stats, entries: running.conntrack.table.confirmedCount, maxEntries: running.conntrack.table.maxEntries },
          });
        control = new ControlServer({ socketPath: socketPathForCurrentNetns(), rules, engine, log, status });
        const server = control;
        return server.start().then(() => {
          if (stopped) {
            server.stopSync();
            return;
          }
          datapath.divert();
          if (!datapath.ipForwardBefore) log("note: ip_forward was 0 here; the engine drops forwarded packets as the kernel would");
          log(`control socket: ${server.socketPath}`);
          log(`ready (pid ${process.pid}): ${datapath.taken.map((t) => t.iface).join(", ")}${args.ruleset ? `, rules from ${args.ruleset}` : ", no rules (all ACCEPT)"}`);
        });
      })
      .catch((error: Error) => stop(1, `startup failed: ${error.message}`));
  });
}
