// Builds a lab's topology and removes it again. Everything is made inside the lab's own
// namespaces: veth pairs are created directly between two lab namespaces (`ip -n A link add X
// type veth peer name Y netns B`), so the machine's own namespace is never touched. Each namespace
// is recorded in the state file before it is created; destroy() works from that file alone.
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { CONTROL_DIR } from "../control/protocol.ts";
import { isAlive, LabRunError, must, run, sleepSync } from "./commands.ts";
import type { Lab } from "./format.ts";
import { realNetns, saveState, statePath, workDir, type LabState } from "./state.ts";

/** IPv6 is off in lab namespaces: its router solicitations would only add noise to the captures. */
const QUIET_SYSCTLS = { "net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1" };

function setSysctls(netns: string, sysctls: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(sysctls)) {
    // Without br_netfilter there is no net.bridge.* and bridged frames never see iptables:
    // asking for 0 is then already true.
    if (key.startsWith("net.bridge.") && value === "0" && run(["ip", "netns", "exec", netns, "sysctl", "-n", key]).exitCode !== 0) continue;
    must(["ip", "netns", "exec", netns, "sysctl", "-qw", `${key}=${value}`]);
  }
}

export function buildTopology(lab: Lab, state: LabState, progress: (line: string) => void): void {
  const ns = (name: string): string => realNetns(state.prefix, name);
  for (const spec of lab.namespaces) {
    progress(`namespace ${ns(spec.name)}`);
    if (existsSync(`/run/netns/${ns(spec.name)}`)) throw new LabRunError(`namespace ${ns(spec.name)} already exists (another lab? try \`uptables lab down\`)`);
    state.namespaces.push(ns(spec.name));
    saveState(state);
    must(["ip", "netns", "add", ns(spec.name)]);
    must(["ip", "-n", ns(spec.name), "link", "set", "lo", "up"]);
    setSysctls(ns(spec.name), { ...QUIET_SYSCTLS, ...spec.sysctls });
  }
  state.hostNetnsInode = statSync(`/run/netns/${ns(lab.namespaces.find((n) => n.host)!.name)}`).ino;
  saveState(state);
  for (const bridge of lab.bridges) {
    progress(`bridge ${bridge.name} in ${bridge.in}`);
    must(["ip", "-n", ns(bridge.in), "link", "add", bridge.name, "type", "bridge"]);
    for (const address of bridge.addresses) must(["ip", "-n", ns(bridge.in), "addr", "add", address, "dev", bridge.name]);
    must(["ip", "-n", ns(bridge.in), "link", "set", bridge.name, "up"]);
  }
  for (const [a, b] of lab.links) {
    progress(`veth ${a.in}/${a.name} - ${b.in}/${b.name}`);
    must(["ip", "-n", ns(a.in), "link", "add", a.name, "type", "veth", "peer", "name", b.name, "netns", ns(b.in)]);
    for (const end of [a, b]) {
      if (end.bridge !== null) must(["ip", "-n", ns(end.in), "link", "set", end.name, "master", end.bridge]);
      if (end.hairpin) must(["ip", "-n", ns(end.in), "link", "set", end.name, "type", "bridge_slave", "hairpin", "on"]);
      for (const address of end.addresses) must(["ip", "-n", ns(end.in), "addr", "add", address, "dev", end.name]);
      must(["ip", "-n", ns(end.in), "link", "set", end.name, "up"]);
    }
  }
  for (const route of lab.routes) {
    progress(`route ${route.to} in ${route.in}`);
    must(["ip", "-n", ns(route.in), "route", "add", route.to, ...(route.via ? ["via", route.via] : []), ...(route.dev ? ["dev", route.dev] : [])]);
  }
}

/** The interfaces to capture on: every bridge and every veth end, as [namespace, interface]. */
export function labInterfaces(lab: Lab): [string, string][] {
  return [...lab.bridges.map((b): [string, string] => [b.in, b.name]), ...lab.links.flatMap(([a, b]): [string, string][] => [[a.in, a.name], [b.in, b.name]])];
}

function waitGone(pid: number, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    sleepSync(20);
  }
  return true;
}

/**
 * Removes everything a state file records: stops the daemon (SIGTERM, so it undoes its setup) and
 * the other processes, kills whatever else still runs in the namespaces, deletes the namespaces
 * (and with them their links), the daemon's files under /run/uptables, the work directory and the
 * state file. Synchronous, so a signal handler can call it. Returns what it could not remove.
 */
export function destroyLab(state: LabState): string[] {
  const problems: string[] = [];
  for (const p of [...state.processes].sort((x, y) => Number(y.what === "daemon") - Number(x.what === "daemon"))) {
    if (!isAlive(p.pid)) continue;
    try {
      process.kill(p.pid, p.what === "daemon" || p.what.startsWith("tcpdump") ? "SIGTERM" : "SIGKILL");
    } catch {
      continue;
    }
    if (!waitGone(p.pid, p.what === "daemon" ? 10_000 : 2_000)) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
      waitGone(p.pid, 2_000);
    }
  }
  for (const netns of state.namespaces) {
    if (!existsSync(`/run/netns/${netns}`)) continue;
    // Anything still running inside (a service started by a shell step, ...) keeps the namespace alive.
    for (const pid of run(["ip", "netns", "pids", netns]).stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    const del = run(["ip", "netns", "del", netns]);
    if (del.exitCode !== 0 && existsSync(`/run/netns/${netns}`)) problems.push(`ip netns del ${netns}: ${del.stderr.trim()}`);
  }
  if (state.hostNetnsInode !== null) {
    for (const file of [`${state.hostNetnsInode}.sock`, `datapath-${state.hostNetnsInode}.json`, `datapath-${state.hostNetnsInode}.json.tmp`]) {
      rmSync(join(CONTROL_DIR, file), { force: true });
    }
  }
  rmSync(workDir(state.prefix), { recursive: true, force: true });
  if (problems.length === 0) rmSync(statePath(state.prefix), { force: true });
  return problems;
}
