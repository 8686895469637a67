// A running `uptables daemon` (default interface choice) takes over interfaces that appear after it
// started, as `docker network create` + `docker run -p 8081:80` make them, and releases those that
// go away; shutdown and --cleanup undo the late ones too. In scratch namespaces:
//
//   outside 192.168.0.50 -- eth0 [host] docker0 172.17.0.1/16 -- container 172.17.0.2      (at start)
//                                       br-net2 172.18.0.1/16 -- container2 172.18.0.2  (while it runs)
//
// Needs root, namespaces, iproute2, curl and the native TUN build. Under CI=true a machine that
// cannot run these fails the file; elsewhere it is skipped, loudly.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  DAEMON_ENTRY as ENTRY,
  daemonTestsCannotRun,
  DEFAULT_RULES,
  DOCKER_RULES as RULES,
  hostState,
  PEER_SERVER,
  Scratch,
  sh,
  UPTABLES_CLI as CLI,
  wireDockerHost,
  type HostState,
} from "../support/datapath-lab.ts";
import { destroyAllNetns, Netns } from "../support/netns.ts";
import { startChild, waitExit } from "../support/processes.ts";

const why = daemonTestsCannotRun("uptables daemon new-interface tests", ["ip", "curl"]);
afterAll(() => destroyAllNetns());
const scratch = new Scratch();
const { namespaces, children, dirs } = scratch;
afterEach(() => scratch.cleanup());

interface Setup {
  host: Netns;
  container2: Netns;
  outside: Netns;
  stateDir: string;
  daemon: { child: ChildProcess; output: () => string };
  /** The host namespace before the daemon started. */
  before: HostState;
}

/** Docker's default host with the daemon running on it (Docker's default rule set), and a namespace for a second container. */
async function startDaemonHost(): Promise<Setup> {
  const [host, container, container2, outside] = [Netns.create(), Netns.create(), Netns.create(), Netns.create()];
  namespaces.push(host, container, container2, outside);
  wireDockerHost(host, container, outside);
  await startChild(outside, ["node", "-e", PEER_SERVER("192.168.0.50")], "listening", { track: children });
  const stateDir = mkdtempSync(join(tmpdir(), "upt-follow-state-"));
  dirs.push(stateDir);
  const env = { ...process.env, UPTABLES_STATE_DIR: stateDir };
  const before = hostState(host);
  const daemon = await startChild(host, ["node", "--import", "tsx", ENTRY, "--ruleset", RULES], "ready (pid", { env, track: children });
  return { host, container2, outside, stateDir, daemon, before };
}

/** What `docker network create net2` and `docker run --network net2 -p 8081:80` do to the links. */
async function addSecondNetwork(s: Setup): Promise<void> {
  sh(s.host, `ip link add br-net2 type bridge
ip addr add 172.18.0.1/16 dev br-net2
ip link set br-net2 up
ip link add vethc2 type veth peer name eth0 netns ${s.container2.name}
ip link set vethc2 master br-net2 up`);
  sh(s.container2, "ip link set lo up\nip addr add 172.18.0.2/16 dev eth0\nip link set eth0 up\nip route add default via 172.18.0.1");
  await startChild(s.container2, ["node", "-e", PEER_SERVER("172.18.0.2")], "listening", { track: children });
}

/** Waits until the daemon has logged `text` (it polls the host once a second). */
async function logged(daemon: Setup["daemon"], text: string, timeoutMs = 15_000): Promise<void> {
  for (let waited = 0; !daemon.output().includes(text); waited += 100) {
    if (waited >= timeoutMs) throw new Error(`the daemon did not log "${text}" within ${timeoutMs} ms:\n${daemon.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The uptables CLI in the namespace (no --ruleset: it talks to the daemon's control socket). */
function cli(ns: Netns, args: string[]): string {
  const r = ns.exec(["env", "-u", "UPTABLES_RULESET", "-u", "UPTABLES_SOCKET", "node", CLI, ...args], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`uptables ${args.join(" ")} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

function curl(ns: Netns, url: string): { body: string; exit: number } {
  const r = ns.exec(["curl", "-s", "-m", "5", url], { timeoutMs: 10_000 });
  return { body: r.stdout, exit: r.exitCode };
}

/** Docker's rules for net2's container publishing 8081 -> 172.18.0.2:80, added through the control socket. */
const NET2_RULES = [
  ["-t", "nat", "-I", "DOCKER", "-i", "br-net2", "-j", "RETURN"],
  ["-t", "nat", "-A", "DOCKER", "!", "-i", "br-net2", "-p", "tcp", "--dport", "8081", "-j", "DNAT", "--to-destination", "172.18.0.2:80"],
  ["-t", "nat", "-I", "POSTROUTING", "-s", "172.18.0.0/16", "!", "-o", "br-net2", "-j", "MASQUERADE"],
  ["-A", "FORWARD", "-o", "br-net2", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
  ["-A", "FORWARD", "-o", "br-net2", "-j", "DOCKER"],
  ["-A", "FORWARD", "-i", "br-net2", "!", "-o", "br-net2", "-j", "ACCEPT"],
  ["-A", "DOCKER", "-d", "172.18.0.2/32", "!", "-i", "br-net2", "-o", "br-net2", "-p", "tcp", "--dport", "80", "-j", "ACCEPT"],
];

/** The packet count of the first line of a `-L -n -v` listing that contains `text`. */
function packets(listing: string, text: string): number {
  const line = listing.split("\n").find((l) => l.includes(text));
  if (line === undefined) throw new Error(`no line with "${text}" in:\n${listing}`);
  return Number(line.trim().split(/\s+/)[0]);
}

describe.skipIf(why !== null)("uptables daemon follows interfaces that appear and go while it runs", () => {
  it("a new bridge with a published container works through the engine; a removed one is released; SIGTERM undoes all", async () => {
    const s = await startDaemonHost();
    const before = s.before;

    await addSecondNetwork(s);
    await logged(s.daemon, "took over br-net2");
    // The bridge port is the bridge's business: never taken over.
    expect(s.daemon.output()).not.toContain("took over vethc2");
    const during = hostState(s.host);
    expect(during.links).toContain("upt-br-net2");
    expect(during.links).not.toContain("upt-vethc2");
    for (const proto of ["tcp", "udp", "icmp"]) expect(during.rules).toMatch(new RegExp(`10:\\tfrom all iif br-net2 ipproto ${proto} lookup 270\\d\\d\\n`));

    for (const rule of NET2_RULES) cli(s.host, rule);
    // Published port: DNAT on eth0, the container's reply un-DNATed on br-net2 (only if br-net2 is
    // the engine's: the kernel has no conntrack entry for it).
    expect(curl(s.outside, "http://192.168.0.100:8081/").body).toBe("peer 192.168.0.50");
    // Egress from the new network: MASQUERADE for packets that came in on br-net2.
    expect(curl(s.container2, "http://192.168.0.50/").body).toBe("peer 192.168.0.100");
    const nat = cli(s.host, ["-t", "nat", "-L", "-n", "-v"]);
    expect(packets(nat, "dpt:8081 to:172.18.0.2:80")).toBe(1);
    expect(packets(nat, "!br-net2  172.18.0.0/16")).toBe(1);

    // A bridge that comes and goes: taken over, then released with its TUN, rules and table.
    sh(s.host, "ip link add br-gone type bridge\nip link set br-gone up");
    await logged(s.daemon, "took over br-gone");
    expect(hostState(s.host).rules).toContain("iif br-gone");
    sh(s.host, "ip link del br-gone");
    await logged(s.daemon, "released br-gone (it went away)");
    const after = hostState(s.host);
    expect(after.rules).not.toContain("br-gone");
    expect(after.links).not.toContain("upt-br-gone");
    expect(readFileSync(join(s.stateDir, readdirSync(s.stateDir).find((f) => f.startsWith("datapath-"))!), "utf8")).not.toContain("br-gone");
    // The new network still works.
    expect(curl(s.outside, "http://192.168.0.100:8081/").body).toBe("peer 192.168.0.50");

    s.daemon.child.kill("SIGTERM");
    expect(await waitExit(s.daemon.child)).toBe(0);
    // Nothing of the daemon is left; the host keeps what "Docker" made.
    const left = hostState(s.host);
    expect(left).toEqual({ ...before, links: [...before.links, "br-net2", "vethc2"].sort() });
    expect(left.rules).toBe(DEFAULT_RULES);
    expect(readdirSync(s.stateDir)).toEqual([]);
  }, 120_000);

  it("kill -9 after a late take-over: --cleanup removes the late TUN's rules and table too", async () => {
    const s = await startDaemonHost();
    const before = s.before;
    await addSecondNetwork(s);
    await logged(s.daemon, "took over br-net2");
    s.daemon.child.kill("SIGKILL");
    expect(await waitExit(s.daemon.child)).toBe("SIGKILL");
    expect(hostState(s.host).rules).toContain("iif br-net2");

    const env = ["env", `UPTABLES_STATE_DIR=${s.stateDir}`];
    const cleanup = s.host.exec([...env, "node", "--import", "tsx", ENTRY, "--cleanup"], { timeoutMs: 30_000 });
    expect(cleanup.exitCode).toBe(0);
    expect(cleanup.stderr).toContain("iif br-net2");
    expect(hostState(s.host)).toEqual({ ...before, links: [...before.links, "br-net2", "vethc2"].sort() });
    expect(readdirSync(s.stateDir)).toEqual([]);
  }, 120_000);
});
