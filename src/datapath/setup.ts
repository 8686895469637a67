// The datapath recipe of shared/docs/PRODUCT.md, applied to the CURRENT network namespace (the
// daemon runs as `ip netns exec NS uptables daemon ...`), and undone exactly.
//
// What it makes, all recognisable by name, preference and table number so that `uptables daemon
// --cleanup` finds it even after kill -9:
//   - a TUN `upt-X` per taken interface X (longer names: `upt-` + 6 characters + `-` + 4 hex of a
//     hash), and `upt-OUTPUT` for locally generated packets; all non-persistent, so the kernel
//     deletes them (and their routes) when the daemon's process dies;
//   - routing table 27000 + i per taken interface (`default dev upt-X`), 27999 for OUTPUT (a route
//     per local address and main-table prefix via upt-OUTPUT with the source the kernel would pick,
//     `throw` for broadcast, multicast and unusable routes so the kernel handles those);
//   - rules `pref 10 iif X ipproto P lookup 270NN` for P in tcp, udp, icmp (see DIVERTED_PROTOCOLS:
//     other protocols stay with the kernel), `pref 11 iif X to 127.0.0.0/8 blackhole`, `pref 12 iif
//     lo lookup 27999`, `pref 50 lookup local`, and `pref 0 lookup local` deleted;
//   - sysctls: all.rp_filter=0, all.send_redirects=0, ip_forward=1, ip/tcp/udp_early_demux=0 (see
//     EARLY_DEMUX_SYSCTLS), route_localnet=1 on each taken interface, and on each TUN rp_filter=0,
//     accept_local=1, send_redirects=0, route_localnet=1. ICMP redirects are the engine's to send
//     (engine/icmp-redirect.ts), from send_redirects as the host had it (hostSysctl).
//
// Loopback addresses (127.0.0.0/8) go through the engine too, because netfilter sees them:
//   - The host's own packets to 127/8: table 27999 routes the loopback net via upt-OUTPUT with
//     `src 127.0.0.1`, so nat OUTPUT can DNAT `curl 127.0.0.1:8080` elsewhere and the engine, not
//     the kernel, answers whether a 127/8 source may leave on a real interface (the kernel's output
//     martian check, route_localnet). Looped back, they come out of upt-OUTPUT to the local table.
//     (Earlier versions kept 127/8 with the kernel by `pref 9 to 127.0.0.0/8 lookup local`, which
//     hid it from nat OUTPUT; --cleanup still removes that rule.)
//   - 127/8 arriving on a taken interface: the kernel drops it as a martian before the policy
//     rules unless route_localnet is on, but in the kernel's own path PREROUTING (raw DROP, DNAT)
//     runs first. So the daemon sets conf/X/route_localnet=1 (journaled), the rules divert TCP, UDP
//     and ICMP into the TUN, `pref 11` blackholes the rest as the martian check would, and the
//     engine applies the martian check after PREROUTING with the host's own value (conf/all OR
//     conf/X, the latter as it was before the daemon: hostSysctl). A change the host makes to
//     conf/X/route_localnet while X is taken is not seen; conf/all is.
//   - Every TUN has route_localnet=1, so packets from or to 127/8 that the engine accepted (an
//     un-DNATed answer from 127.0.0.1, the host's looped-back packets) pass the kernel again.
// Every change is appended to a journal, /run/uptables/datapath-<netns inode>.json, BEFORE it is
// made (old sysctl values included); teardown() undoes the journal in reverse order and removes it.
// Interfaces can also be taken over and released while the daemon runs (takeOver/release, driven by
// interface-follower.ts): the same journal records them, so shutdown and --cleanup undo them too.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { formatAddress, parseDottedQuad, prefixToMask } from "../core/net/ipv4-address.ts";
import type { HostView } from "../core/host/host-view.ts";
import { TUN_F_CSUM, TUN_F_TSO4, TunDevice } from "../io/tun.ts";
import { readProcSysctl, type IpRouteEntry } from "./host-reader.ts";

export const TUN_PREFIX = "upt-";
export const OUTPUT_TUN = "upt-OUTPUT";
export const TABLE_BASE = 27000;
export const OUTPUT_TABLE = 27999;
export const MAX_INTERFACES = OUTPUT_TABLE - TABLE_BASE;
export const PREF_LOOPBACK = 9;
export const PREF_DIVERT = 10;
export const PREF_LOCALNET_GUARD = 11;
export const PREF_OUTPUT = 12;
export const PREF_LOCAL = 50;
/**
 * Only these protocols are diverted from the taken interfaces. A bare `iif X lookup T` rule also
 * catches the route look-up ARP makes for a request's target address (arp_process ->
 * ip_route_input): the target is then no longer RTN_LOCAL and the host stops answering ARP on X.
 * ARP's look-up has no IP protocol, so `ipproto` selectors leave it alone.
 */
export const DIVERTED_PROTOCOLS = ["tcp", "udp", "icmp"] as const;
/**
 * Early demux off. With it, a packet arriving on a taken interface is matched to an established
 * local socket before routing (ip_rcv_finish: skb->sk set); the diversion then routes it into the
 * TUN and ip_forward drops it because it already belongs to a socket, so replies to the host's own
 * connections never arrive. ip_early_demux gates the per-protocol switches; all that exist are
 * turned off so that none is left on.
 */
export const EARLY_DEMUX_SYSCTLS = ["net.ipv4.ip_early_demux", "net.ipv4.tcp_early_demux", "net.ipv4.udp_early_demux"] as const;

export class DatapathSetupError extends Error {}

/** The TUN name for interface `iface`: `upt-<iface>`, shortened deterministically past 15 characters. */
export function tunNameFor(iface: string): string {
  const name = `${TUN_PREFIX}${iface}`;
  if (name.length <= 15) return name;
  const hash = createHash("sha256").update(iface).digest("hex").slice(0, 4);
  return `${TUN_PREFIX}${iface.slice(0, 6)}-${hash}`;
}

export function isDatapathTable(table: number): boolean {
  return table >= TABLE_BASE && table <= OUTPUT_TABLE;
}

// --- running commands ------------------------------------------------------------------------

export type Logger = (line: string) => void;

function ip(args: readonly string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new DatapathSetupError(`ip ${args.join(" ")} failed: ${(e.stderr ?? e.message).toString().trim()}`);
  }
}

/** Runs `ip -force -batch -`: every line, errors reported but not stopping the rest. */
function ipBatch(lines: readonly string[]): string {
  if (lines.length === 0) return "";
  const r = spawnSync("ip", ["-force", "-batch", "-"], { input: `${lines.join("\n")}\n`, encoding: "utf8" });
  return r.status === 0 ? "" : (r.stderr || `ip -batch exited ${r.status}`).trim();
}

function ipJson<T>(args: readonly string[]): T {
  const text = ip(["-j", ...args]).trim();
  return (text === "" ? [] : JSON.parse(text)) as T;
}

function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, "/")}`;
}

function confPath(iface: string, key: string): string {
  // Interface names may contain dots; build the path directly.
  return `/proc/sys/net/ipv4/conf/${iface}/${key}`;
}

function readSysctl(path: string): string {
  return readFileSync(path, "utf8").trim();
}

function writeSysctl(path: string, value: string): void {
  writeFileSync(path, `${value}\n`);
}

// --- safety ----------------------------------------------------------------------------------

export function netnsInode(path = "/proc/self/ns/net"): number {
  return statSync(path).ino;
}

/** Null when the current namespace is not the machine's own (PID 1's), else why it looks like it. */
export function rootNamespaceProblem(): string | null {
  const own = netnsInode();
  try {
    if (own === netnsInode("/proc/1/ns/net")) return "this is the machine's own network namespace (the same as PID 1's)";
    return null;
  } catch (error) {
    // PID 1's namespace may be out of reach (a sandbox, a container); a namespace named in
    // /run/netns (ip netns add) is not the machine's own.
    try {
      for (const name of readdirSync("/run/netns")) {
        if (netnsInode(`/run/netns/${name}`) === own) return null;
      }
    } catch {
      // No /run/netns.
    }
    return `cannot compare this network namespace with the machine's own (${(error as Error).message}) and it is not one of /run/netns`;
  }
}

function which(program: string): boolean {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (dir !== "" && existsSync(`${dir}/${program}`)) return true;
  }
  return false;
}

/** Kernel firewall rules in this namespace that would filter or NAT packets a second time. */
export function kernelRulesProblem(): string | null {
  const problems: string[] = [];
  if (which("iptables-save")) {
    const r = spawnSync("iptables-save", [], { encoding: "utf8" });
    const lines = (r.stdout ?? "").split("\n");
    const rules = lines.filter((l) => l.startsWith("-A ")).length;
    const policies = lines.filter((l) => /^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) (DROP|REJECT)/.test(l)).length;
    if (rules > 0 || policies > 0) problems.push(`iptables has ${rules} rule(s)${policies > 0 ? ` and ${policies} DROP policy(ies)` : ""} (iptables-save)`);
  }
  if (which("nft")) {
    const r = spawnSync("nft", ["list", "ruleset"], { encoding: "utf8" });
    const lines = (r.stdout ?? "").split("\n").map((l) => l.trim());
    const ruleLines = lines.filter(
      (l) => l !== "" && l !== "}" && !/^(table|chain|set|map|flowtable|type|policy|elements|flags|hook|devices|counter) ?/.test(l) && !l.endsWith("{"),
    );
    const drops = lines.filter((l) => /policy drop/.test(l)).length;
    if (ruleLines.length > 0 || drops > 0) problems.push(`nftables has rules (nft list ruleset: ${ruleLines.length} rule line(s)${drops > 0 ? `, ${drops} drop policy(ies)` : ""})`);
  }
  return problems.length === 0 ? null : problems.join("; ");
}

// --- the journal -----------------------------------------------------------------------------

export type JournalEntry =
  | { kind: "sysctl"; path: string; old: string }
  | { kind: "tun"; name: string }
  | { kind: "table"; table: number }
  | { kind: "rule-added"; spec: string[] }
  | { kind: "rule-deleted"; spec: string[] };

export interface Journal {
  pid: number;
  netns: number;
  started: string;
  entries: JournalEntry[];
}

export function stateDir(): string {
  return process.env.UPTABLES_STATE_DIR ?? "/run/uptables";
}

export function journalPath(inode = netnsInode()): string {
  return `${stateDir()}/datapath-${inode}.json`;
}

export function readJournal(path = journalPath()): Journal | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Journal;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// --- leftovers -------------------------------------------------------------------------------

interface IpRule {
  priority: number;
  src?: string;
  dst?: string;
  dstlen?: number;
  iif?: string;
  ipproto?: string;
  table?: string;
  action?: string;
}

interface IpLink {
  ifname: string;
  linkinfo?: { info_kind?: string };
}

/** What a daemon made in this namespace and did not remove (by name, preference and table). */
export function findLeftovers(): { rules: IpRule[]; tables: number[]; tuns: string[]; localMoved: boolean; loopbackRule: boolean } {
  const rules = ipJson<IpRule[]>(["rule", "show"]);
  const ours = rules.filter(
    (r) => (r.table !== undefined && /^\d+$/.test(r.table) && isDatapathTable(Number(r.table))) || (r.priority === PREF_LOCALNET_GUARD && r.action === "blackhole"),
  );
  const hasPref0Local = rules.some((r) => r.priority === 0 && r.table === "local" && r.dst === undefined && r.iif === undefined);
  const hasPref50Local = rules.some((r) => r.priority === PREF_LOCAL && r.table === "local" && r.dst === undefined && r.iif === undefined);
  const loopbackRule = rules.some((r) => r.priority === PREF_LOOPBACK && r.table === "local" && r.dst === "127.0.0.0" && r.dstlen === 8);
  const routes = ipJson<(IpRouteEntry & { table?: string })[]>(["route", "show", "table", "all"]);
  const tables = [...new Set(routes.map((r) => Number(r.table)).filter((t) => Number.isInteger(t) && isDatapathTable(t)))].sort();
  const links = ipJson<IpLink[]>(["-d", "link", "show"]);
  const tuns = links.filter((l) => l.ifname.startsWith(TUN_PREFIX) && l.linkinfo?.info_kind === "tun").map((l) => l.ifname);
  return { rules: ours, tables, tuns, localMoved: hasPref50Local && !hasPref0Local, loopbackRule };
}

function ruleSpec(r: IpRule): string[] {
  const spec = ["pref", String(r.priority)];
  if (r.dst !== undefined && r.dst !== "all") spec.push("to", r.dstlen === undefined ? r.dst : `${r.dst}/${r.dstlen}`);
  if (r.iif !== undefined) spec.push("iif", r.iif);
  if (r.ipproto !== undefined) spec.push("ipproto", r.ipproto);
  if (r.action === "blackhole") spec.push("blackhole");
  else spec.push("lookup", r.table ?? "main");
  return spec;
}

/**
 * `uptables daemon --cleanup`: undoes what a daemon that did not stop cleanly left in this
 * namespace (its journal first, for the old sysctl values, then anything recognisable). Returns
 * what it did, one line per change. Refuses while the daemon that wrote the journal still runs.
 */
export function cleanupLeftovers(log: Logger): string[] {
  const done: string[] = [];
  const path = journalPath();
  const journal = readJournal(path);
  if (journal !== null && journal.pid !== process.pid && processAlive(journal.pid)) {
    throw new DatapathSetupError(`a daemon (pid ${journal.pid}) is still running in this namespace: stop it (SIGTERM) instead`);
  }
  if (journal !== null) {
    for (const line of undoEntries(journal.entries, log)) done.push(line);
  }
  const left = findLeftovers();
  if (left.localMoved) {
    ip(["rule", "add", "pref", "0", "lookup", "local"]);
    done.push("ip rule add pref 0 lookup local");
  }
  for (const r of left.rules) {
    const spec = ruleSpec(r);
    ipBatch([`rule del ${spec.join(" ")}`]);
    done.push(`ip rule del ${spec.join(" ")}`);
  }
  if (left.localMoved || left.rules.length > 0) {
    const again = ipJson<IpRule[]>(["rule", "show"]);
    for (const r of again) {
      if (r.priority === PREF_LOCAL && r.table === "local" && r.dst === undefined && r.iif === undefined && again.some((x) => x.priority === 0 && x.table === "local")) {
        ip(["rule", "del", "pref", String(PREF_LOCAL), "lookup", "local"]);
        done.push(`ip rule del pref ${PREF_LOCAL} lookup local`);
      }
    }
    if (left.loopbackRule) {
      ip(["rule", "del", "pref", String(PREF_LOOPBACK), "to", "127.0.0.0/8", "lookup", "local"]);
      done.push(`ip rule del pref ${PREF_LOOPBACK} to 127.0.0.0/8 lookup local`);
    }
  }
  for (const t of left.tables) {
    ip(["route", "flush", "table", String(t)]);
    done.push(`ip route flush table ${t}`);
  }
  for (const name of left.tuns) {
    ipBatch([`link del ${name}`]);
    done.push(`ip link del ${name}`);
  }
  if (existsSync(path)) unlinkSync(path);
  return done;
}

function undoEntries(entries: readonly JournalEntry[], log: Logger): string[] {
  const done: string[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    try {
      switch (e.kind) {
        case "sysctl":
          if (existsSync(e.path) && readSysctl(e.path) !== e.old) {
            writeSysctl(e.path, e.old);
            done.push(`${e.path} = ${e.old}`);
          }
          break;
        case "tun": {
          const gone = spawnSync("ip", ["link", "show", e.name], { encoding: "utf8" }).status !== 0;
          if (!gone) {
            ipBatch([`link del ${e.name}`]);
            done.push(`ip link del ${e.name}`);
          }
          break;
        }
        case "table":
          if (ip(["route", "show", "table", String(e.table)]).trim() !== "") {
            ip(["route", "flush", "table", String(e.table)]);
            done.push(`ip route flush table ${e.table}`);
          }
          break;
        case "rule-added": {
          const err = ipBatch([`rule del ${e.spec.join(" ")}`]);
          if (err === "") done.push(`ip rule del ${e.spec.join(" ")}`);
          break;
        }
        case "rule-deleted": {
          const exists = ipJson<IpRule[]>(["rule", "show"]).some((r) => ruleSpec(r).join(" ") === e.spec.join(" "));
          if (!exists) {
            ip(["rule", "add", ...e.spec]);
            done.push(`ip rule add ${e.spec.join(" ")}`);
          }
          break;
        }
      }
    } catch (error) {
      log(`teardown: could not undo ${JSON.stringify(e)}: ${(error as Error).message}`);
    }
  }
  return done;
}

// --- setup -----------------------------------------------------------------------------------

export interface SetupOptions {
  /** Interfaces to take over. */
  interfaces: readonly string[];
  forceKernelRules?: boolean;
  allowRootNamespace?: boolean;
  /**
   * Open the TUNs with IFF_VNET_HDR and checksum + TCP segmentation offload (TUN_F_CSUM|TUN_F_TSO4):
   * TCP then arrives as super-packets of up to 64 KB, each behind a virtio_net_hdr.
   */
  vnetHeader?: boolean;
  log: Logger;
}

export interface TakenInterface {
  readonly iface: string;
  readonly tunName: string;
  readonly table: number;
  readonly tun: TunDevice;
}

/** The datapath's kernel side: the TUNs, tables and rules, and how to undo them. */
export class Datapath {
  readonly taken: TakenInterface[] = [];
  output: TunDevice | null = null;
  /** ip_forward before the daemon set it to 1: the engine forwards only if the host did. */
  ipForwardBefore = true;
  /** TUNs opened with a virtio_net_hdr and offloads (SetupOptions.vnetHeader). */
  vnetHeader = false;
  private readonly journal: Journal;
  private readonly path: string;
  private torn = false;
  /** divert() ran: interfaces taken over from now on get their rules at once. */
  private diverted = false;
  private outputRoutes = new Map<string, string>();

  private constructor(private readonly log: Logger) {
    this.path = journalPath();
    this.journal = { pid: process.pid, netns: netnsInode(), started: new Date().toISOString(), entries: [] };
  }

  /** The names of the daemon's own devices (excluded from the host view). */
  get tunNames(): Set<string> {
    return new Set([...this.taken.map((t) => t.tunName), OUTPUT_TUN]);
  }

  /** Checks that the namespace may be taken over (throws DatapathSetupError with the reason). */
  static check(options: SetupOptions): void {
    if (!options.allowRootNamespace) {
      const problem = rootNamespaceProblem();
      if (problem !== null) {
        throw new DatapathSetupError(
          `refusing to take over ${problem}; run it in a namespace (ip netns exec NS uptables daemon ...), or pass --allow-root-namespace if you really mean it`,
        );
      }
    }
    if (!options.forceKernelRules) {
      const problem = kernelRulesProblem();
      if (problem !== null) {
        throw new DatapathSetupError(
          `kernel firewall rules exist in this namespace: ${problem}; packets would be filtered and NATed twice. Flush them (iptables -F; iptables -t nat -F; nft flush ruleset) or pass --force-kernel-rules`,
        );
      }
    }
    const journal = readJournal();
    if (journal !== null) {
      const who = processAlive(journal.pid) ? `a daemon (pid ${journal.pid}) is running in this namespace` : `a daemon (pid ${journal.pid}) did not stop cleanly here`;
      throw new DatapathSetupError(`${who} (${journalPath()}); run \`uptables daemon --cleanup' first`);
    }
    const left = findLeftovers();
    if (left.rules.length > 0 || left.tables.length > 0 || left.tuns.length > 0 || left.localMoved) {
      throw new DatapathSetupError("leftovers of an earlier daemon are in this namespace (rules, tables 27000-27999 or upt- TUNs); run `uptables daemon --cleanup' first");
    }
    const links = new Set(ipJson<IpLink[]>(["link", "show"]).map((l) => l.ifname));
    for (const iface of options.interfaces) {
      if (!links.has(iface)) throw new DatapathSetupError(`no interface ${iface} in this namespace`);
      if (iface === "lo") throw new DatapathSetupError("lo cannot be taken over (locally generated packets go through upt-OUTPUT)");
      if (iface.startsWith(TUN_PREFIX)) throw new DatapathSetupError(`${iface} looks like a datapath TUN (upt-*); it cannot be taken over`);
    }
    const names = options.interfaces.map(tunNameFor);
    if (new Set(names).size !== names.length) throw new DatapathSetupError(`two interfaces map to the same TUN name: ${names.join(", ")}`);
    if (options.interfaces.length > MAX_INTERFACES) throw new DatapathSetupError(`at most ${MAX_INTERFACES} interfaces`);
  }

  /**
   * Builds the datapath. On failure, whatever was made is undone before the error is thrown.
   * The rules that divert traffic are added by divert(), once the loop reads the TUNs.
   */
  static create(options: SetupOptions): Datapath {
    Datapath.check(options);
    mkdirSync(stateDir(), { recursive: true });
    const dp = new Datapath(options.log);
    dp.vnetHeader = options.vnetHeader ?? false;
    try {
      dp.save();
      dp.ipForwardBefore = readSysctl(sysctlPath("net.ipv4.ip_forward")) === "1";
      dp.setSysctl(sysctlPath("net.ipv4.conf.all.rp_filter"), "0");
      dp.setSysctl(sysctlPath("net.ipv4.conf.all.send_redirects"), "0");
      dp.setSysctl(sysctlPath("net.ipv4.ip_forward"), "1");
      for (const key of EARLY_DEMUX_SYSCTLS) if (existsSync(sysctlPath(key))) dp.setSysctl(sysctlPath(key), "0");
      for (const iface of [...options.interfaces].sort()) dp.attach(iface);
      dp.output = dp.openTun(OUTPUT_TUN);
      dp.record({ kind: "table", table: OUTPUT_TABLE });
      return dp;
    } catch (error) {
      dp.teardown();
      throw error;
    }
  }

  /** Gives `iface` its TUN and routing table (`default dev upt-X`), the lowest table number free. */
  private attach(iface: string): TakenInterface {
    const tunName = tunNameFor(iface);
    const used = new Set(this.taken.map((t) => t.table));
    let table = TABLE_BASE;
    while (used.has(table)) table++;
    const tun = this.openTun(tunName);
    this.setSysctl(confPath(iface, "route_localnet"), "1"); // see "Loopback addresses" above
    this.record({ kind: "table", table });
    ip(["route", "add", "default", "dev", tunName, "table", String(table)]);
    const taken = { iface, tunName, table, tun };
    this.taken.push(taken);
    return taken;
  }

  /** The policy rules that send `iface`'s TCP, UDP and ICMP into its TUN's table. */
  private static divertSpecs(t: TakenInterface): string[][] {
    const specs = DIVERTED_PROTOCOLS.map((proto) => ["pref", String(PREF_DIVERT), "iif", t.iface, "ipproto", proto, "lookup", String(t.table)]);
    // route_localnet=1 on the interface lets other protocols to 127/8 in: drop them as the martian check would.
    specs.push(["pref", String(PREF_LOCALNET_GUARD), "iif", t.iface, "to", "127.0.0.0/8", "blackhole"]);
    return specs;
  }

  /**
   * Takes over an interface that appeared while the daemon runs: its TUN, table and (once divert()
   * ran) its rules, journaled like the ones made at start. On failure what was made is undone and
   * a DatapathSetupError thrown; the interfaces already taken are not touched.
   */
  takeOver(iface: string): TakenInterface {
    if (this.torn) throw new DatapathSetupError(`cannot take over ${iface}: the datapath is being removed`);
    if (this.taken.some((t) => t.iface === iface)) throw new DatapathSetupError(`${iface} is taken over already`);
    if (iface === "lo" || iface.startsWith(TUN_PREFIX)) throw new DatapathSetupError(`${iface} cannot be taken over`);
    const tunName = tunNameFor(iface);
    const clash = this.taken.find((t) => t.tunName === tunName);
    if (clash !== undefined) throw new DatapathSetupError(`${iface} and ${clash.iface} map to the same TUN name ${tunName}`);
    if (this.taken.length >= MAX_INTERFACES) throw new DatapathSetupError(`cannot take over ${iface}: at most ${MAX_INTERFACES} interfaces`);
    const journalLength = this.journal.entries.length;
    let taken: TakenInterface | null = null;
    try {
      taken = this.attach(iface);
      if (this.diverted) for (const spec of Datapath.divertSpecs(taken)) this.addRule(spec);
      return taken;
    } catch (error) {
      const made = this.journal.entries.splice(journalLength);
      if (taken !== null) {
        this.taken.splice(this.taken.indexOf(taken), 1);
        taken.tun.close();
      }
      undoEntries(made, this.log);
      this.save();
      throw error instanceof DatapathSetupError ? error : new DatapathSetupError(`cannot take over ${iface}: ${(error as Error).message}`);
    }
  }

  /**
   * Gives an interface back to the kernel (it went away, or became a bridge port): its rules are
   * deleted first, then its TUN closed (the kernel deletes it) and its table flushed, and the
   * journal forgets them. Returns the TUN that was closed, or null when `iface` was not taken.
   */
  release(iface: string): TunDevice | null {
    const at = this.taken.findIndex((t) => t.iface === iface);
    if (at < 0) return null;
    const t = this.taken[at]!;
    const specs = new Set(Datapath.divertSpecs(t).map((spec) => spec.join(" ")));
    const localnet = confPath(t.iface, "route_localnet");
    const mine = (e: JournalEntry): boolean =>
      (e.kind === "rule-added" && specs.has(e.spec.join(" "))) ||
      (e.kind === "tun" && e.name === t.tunName) ||
      (e.kind === "table" && e.table === t.table) ||
      (e.kind === "sysctl" && e.path === localnet);
    const entries = this.journal.entries.filter(mine);
    undoEntries(entries.filter((e) => e.kind !== "tun"), this.log);
    t.tun.close();
    undoEntries(entries.filter((e) => e.kind === "tun"), this.log);
    this.taken.splice(at, 1);
    this.journal.entries = this.journal.entries.filter((e) => !mine(e));
    this.save();
    return t.tun;
  }

  private openTun(name: string): TunDevice {
    this.record({ kind: "tun", name });
    let tun: TunDevice;
    try {
      tun = TunDevice.open(name, this.vnetHeader ? { vnetHeader: true, offloads: TUN_F_CSUM | TUN_F_TSO4 } : {});
    } catch (error) {
      throw new DatapathSetupError(`cannot open TUN ${name}: ${(error as Error).message}`);
    }
    // IPv4 only: no IPv6 link-local address and router solicitations on the TUN. Before it is up,
    // or the kernel's first IPv6 packets (MLD reports) reach the engine and count as ip-header drops.
    if (existsSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`)) writeSysctl(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, "1");
    ip(["link", "set", name, "up"]);
    // The TUN's own sysctls vanish with it; no need to journal them.
    writeSysctl(confPath(name, "rp_filter"), "0");
    writeSysctl(confPath(name, "accept_local"), "1");
    writeSysctl(confPath(name, "send_redirects"), "0");
    writeSysctl(confPath(name, "route_localnet"), "1"); // 127/8 in and out of the TUN: the engine judges
    this.log(`opened TUN ${name}`);
    return tun;
  }

  /** Syncs the OUTPUT table with the host's local addresses and main routes (recipe step 7). */
  syncOutputTable(view: HostView, mainRoutes: readonly IpRouteEntry[]): void {
    const desired = new Map<string, string>();
    const table = String(OUTPUT_TABLE);
    for (const iface of view.interfaces.values()) {
      for (const a of iface.addresses) {
        const addr = formatAddress(a.address);
        desired.set(`${addr}/32`, `route replace ${addr}/32 dev ${OUTPUT_TUN} src ${addr} table ${table}`);
        if (iface.name === "lo" && view.isLoopbackAddress(a.address) && a.prefixLength < 32) {
          // The whole loopback net is local (`local 127.0.0.0/8 dev lo`): the host's packets to any of it.
          const net = `${formatAddress((a.address & prefixToMask(a.prefixLength)) >>> 0)}/${a.prefixLength}`;
          desired.set(net, `route replace ${net} dev ${OUTPUT_TUN} src ${addr} table ${table}`);
        }
        if (a.prefixLength < 31) {
          const b = formatAddress(a.broadcast);
          desired.set(`${b}/32`, `route replace throw ${b}/32 table ${table}`);
        }
      }
    }
    for (const r of mainRoutes) {
      const dst = r.dst === "default" ? "0.0.0.0/0" : r.dst.includes("/") ? r.dst : `${r.dst}/32`;
      if (desired.has(dst)) continue;
      const type = r.type ?? "unicast";
      if (type !== "unicast" || r.dev === undefined || !view.interfaces.has(r.dev)) {
        desired.set(dst, `route replace throw ${dst} table ${table}`);
        continue;
      }
      let src = r.prefsrc ?? null;
      if (src === null) {
        const nextHop = r.gateway !== undefined ? parseDottedQuad(r.gateway) : 0;
        const chosen = view.selectSource(r.dev, nextHop ?? 0);
        src = chosen === null ? null : formatAddress(chosen);
      }
      desired.set(dst, `route replace ${dst} dev ${OUTPUT_TUN}${src === null ? "" : ` src ${src}`} table ${table}`);
    }
    desired.set("224.0.0.0/4", `route replace throw 224.0.0.0/4 table ${table}`);
    desired.set("255.255.255.255/32", `route replace throw 255.255.255.255/32 table ${table}`);
    const lines: string[] = [];
    for (const [dst] of this.outputRoutes) if (!desired.has(dst)) lines.push(`route del ${dst} table ${table}`);
    for (const [dst, line] of desired) if (this.outputRoutes.get(dst) !== line) lines.push(line);
    if (lines.length === 0) return;
    const err = ipBatch(lines);
    if (err !== "") this.log(`OUTPUT table ${table}: ${err}`);
    this.outputRoutes = desired;
    this.log(`OUTPUT table ${table}: ${desired.size} routes (${lines.length} changed)`);
  }

  /** Adds the policy rules that divert traffic into the TUNs (recipe step 3). */
  divert(): void {
    for (const t of this.taken) for (const spec of Datapath.divertSpecs(t)) this.addRule(spec);
    this.diverted = true;
    this.addRule(["pref", String(PREF_OUTPUT), "iif", "lo", "lookup", String(OUTPUT_TABLE)]);
    this.addRule(["pref", String(PREF_LOCAL), "lookup", "local"]);
    const rules = ipJson<IpRule[]>(["rule", "show"]);
    if (rules.some((r) => r.priority === 0 && r.table === "local" && r.dst === undefined && r.iif === undefined)) {
      this.record({ kind: "rule-deleted", spec: ["pref", "0", "lookup", "local"] });
      ip(["rule", "del", "pref", "0", "lookup", "local"]);
    }
    this.log(`diverting ${this.taken.map((t) => `${t.iface} -> ${t.tunName} (table ${t.table})`).join(", ")}; OUTPUT -> ${OUTPUT_TUN} (table ${OUTPUT_TABLE})`);
  }

  private addRule(spec: string[]): void {
    this.record({ kind: "rule-added", spec });
    ip(["rule", "add", ...spec]);
  }

  /**
   * A sysctl as the host set it: for one the daemon overrode (route_localnet of a taken
   * interface), the value it had before; else the current one. The host reader's view of the host.
   */
  hostSysctl(path: string): string | null {
    for (let i = this.journal.entries.length - 1; i >= 0; i--) {
      const e = this.journal.entries[i]!;
      if (e.kind === "sysctl" && e.path === path) return e.old;
    }
    return readProcSysctl(path);
  }

  private setSysctl(path: string, value: string): void {
    const old = readSysctl(path);
    if (old === value) return;
    this.record({ kind: "sysctl", path, old });
    writeSysctl(path, value);
  }

  private record(entry: JournalEntry): void {
    this.journal.entries.push(entry);
    this.save();
  }

  private save(): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.journal, null, 1)}\n`);
    renameSync(tmp, this.path);
  }

  /** Undoes everything, in reverse order; idempotent, never throws (problems are logged). */
  teardown(): string[] {
    if (this.torn) return [];
    this.torn = true;
    // Rules first (they were added last): traffic goes back to the kernel before the TUNs close.
    const entries = this.journal.entries;
    const closeAll = (): void => {
      for (const t of this.taken) t.tun.close();
      this.output?.close();
    };
    const rulesAndSysctls = entries.filter((e) => e.kind !== "tun");
    const done = undoEntries(rulesAndSysctls, this.log);
    closeAll();
    done.push(...undoEntries(entries.filter((e) => e.kind === "tun"), this.log));
    try {
      if (existsSync(this.path)) unlinkSync(this.path);
    } catch (error) {
      this.log(`teardown: cannot remove ${this.path}: ${(error as Error).message}`);
    }
    return done;
  }
}
