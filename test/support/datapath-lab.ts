// Pieces shared by the tests that run `uptables daemon` in scratch namespaces: Docker's default
// bridge host, scripts that must succeed, and a snapshot of what the daemon may change in the host
// namespace (to check that it undid all of it).
//
//   outside 192.168.0.50 --veth-- eth0 192.168.0.100 [host] docker0 172.17.0.1/16 --bridge-- container 172.17.0.2
import type { ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tunAddonProblem } from "../../src/io/tun.ts";
import { REPO_ROOT } from "./corpus.ts";
import { IN_CI, kernelTestProblem, type Netns } from "./netns.ts";
import { waitExit } from "./processes.ts";

export const DOCKER_RULES = join(REPO_ROOT, "lab/rulesets/docker-27-default.rules");
export const DAEMON_ENTRY = join(REPO_ROOT, "src/cli/daemon-entry.ts");
export const UPTABLES_CLI = join(REPO_ROOT, "bin/uptables.mjs");

/**
 * At describe time: null when daemon tests can run here (root, namespaces, `programs`, /dev/net/tun,
 * the TUN addon), else the reason, after warning that `what` is skipped. Under CI=true it throws
 * instead: a CI machine that cannot run them must fail.
 */
export function daemonTestsCannotRun(what: string, programs: readonly string[]): string | null {
  const why = kernelTestProblem(programs) ?? (existsSync("/dev/net/tun") ? tunAddonProblem() : "/dev/net/tun is missing (modprobe tun)");
  if (why === null) return null;
  if (IN_CI) throw new Error(`${what} need root, network namespaces, ${programs.join(", ")} and the TUN addon, and CI=true forbids skipping them: ${why}`);
  console.warn(`[skipped] ${what}: ${why}`);
  return why;
}

/** What a daemon test made: killed and removed by cleanup() (its afterEach), whatever happened. */
export class Scratch {
  readonly namespaces: Netns[] = [];
  readonly children: ChildProcess[] = [];
  readonly dirs: string[] = [];

  async cleanup(): Promise<void> {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await waitExit(child);
      }
    }
    for (const ns of this.namespaces.splice(0)) ns.destroy();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a bash script (with `set -e`) in the namespace; throws with its stderr when it fails. */
export function sh(ns: Netns, script: string): string {
  const r = ns.script(`set -e\n${script}`);
  if (r.exitCode !== 0) throw new Error(`script in ${ns.name} failed (${r.exitCode}): ${r.stderr}\n${script}`);
  return r.stdout;
}

/** Wires host, container and outside as in the picture above (no servers, no rules). */
export function wireDockerHost(host: Netns, container: Netns, outside: Netns): void {
  sh(host, `ip link set lo up
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
ip link add vethc type veth peer name eth0 netns ${container.name}
ip link set vethc master docker0 up
ip link add eth0 type veth peer name eth0 netns ${outside.name}
ip addr add 192.168.0.100/24 dev eth0
ip link set eth0 up
sysctl -qw net.ipv4.ip_forward=1`);
  sh(container, "ip link set lo up\nip addr add 172.17.0.2/16 dev eth0\nip link set eth0 up\nip route add default via 172.17.0.1");
  sh(outside, "ip link set lo up\nip addr add 192.168.0.50/24 dev eth0\nip link set eth0 up");
}

/** A one-line node HTTP server answering "peer <client address>", printing "listening" when ready. */
export const PEER_SERVER = (address: string): string =>
  `require("http").createServer((q,s)=>s.end("peer "+q.socket.remoteAddress.replace(/^::ffff:/,""))).listen(80,"${address}",()=>console.log("listening"))`;

export interface HostState {
  rules: string;
  links: string[];
  tables: string[];
  sysctls: Record<string, string>;
}

/** `ip rule show` of a namespace nobody changed. */
export const DEFAULT_RULES = "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n";

/** The policy rules, links, routing tables and sysctls of a namespace: what the daemon changes. */
export function hostState(ns: Netns): HostState {
  const rules = ns.exec(["ip", "rule", "show"]).stdout;
  const links = (JSON.parse(ns.exec(["ip", "-j", "link", "show"]).stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
  const routes = JSON.parse(ns.exec(["ip", "-j", "route", "show", "table", "all"]).stdout) as { table?: string }[];
  const tables = [...new Set(routes.map((r) => r.table ?? "main"))].sort();
  const sysctls: Record<string, string> = {};
  for (const key of ["net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.accept_local", "net.ipv4.ip_early_demux", "net.ipv4.tcp_early_demux", "net.ipv4.udp_early_demux"]) {
    sysctls[key] = ns.exec(["sysctl", "-n", key]).stdout.trim();
  }
  return { rules, links, tables, sysctls };
}
