// The host's own traffic with `uptables daemon`: the same probes with the kernel's iptables and with
// the daemon, in scratch namespaces (Docker's default bridge host, see datapath-lab.ts):
//   - the host's connection to a plain neighbour through a taken interface (the reply must not be
//     early-demuxed to the socket, or the kernel refuses to divert it into the TUN);
//   - seed 000's localhost forwarding: `curl 127.0.0.1:8080` DNATed by nat OUTPUT to the container,
//     refused (martian source) until route_localnet=1; the outside machine, routing 127.0.0.0/8 to
//     the host, reaching 127.0.0.1:8080 through PREROUTING's DNAT, and the host's 127.0.0.1-only
//     page only with route_localnet=1 (CVE-2020-8558); plain loopback traffic still works.
// Needs root, namespaces, iproute2, iptables, curl and the native TUN build. Under CI=true a machine
// that cannot run these fails the file; elsewhere it is skipped, loudly.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DAEMON_ENTRY as ENTRY, daemonTestsCannotRun, hostState, PEER_SERVER, Scratch, sh, wireDockerHost } from "../support/datapath-lab.ts";
import { destroyAllNetns, Netns } from "../support/netns.ts";
import { startChild, waitExit } from "../support/processes.ts";

const why = daemonTestsCannotRun("uptables daemon host-traffic tests", ["ip", "iptables-restore", "curl"]);
afterAll(() => destroyAllNetns());
const scratch = new Scratch();
const { namespaces, children, dirs } = scratch;
afterEach(() => scratch.cleanup());

/** Seed 000's rules on Docker's host: 127.0.0.1:8080 forwarded to the container, source masqueraded. */
const RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A POSTROUTING -s 127.0.0.1/32 -o docker0 -j MASQUERADE
COMMIT
`;

interface Lab {
  host: Netns;
  outside: Netns;
  rulesFile: string;
  stateDir: string;
}

/** Docker's host with servers on the container, outside, and the host's 127.0.0.1 only. */
async function buildLab(): Promise<Lab> {
  const [host, container, outside] = [Netns.create(), Netns.create(), Netns.create()];
  namespaces.push(host, container, outside);
  wireDockerHost(host, container, outside);
  for (const [ns, address] of [[container, "172.17.0.2"], [outside, "192.168.0.50"], [host, "127.0.0.1"]] as const) {
    await startChild(ns, ["node", "-e", PEER_SERVER(address)], "listening", { track: children });
  }
  const dir = mkdtempSync(join(tmpdir(), "upt-host-traffic-"));
  dirs.push(dir);
  const rulesFile = join(dir, "rules");
  writeFileSync(rulesFile, RULES);
  return { host, outside, rulesFile, stateDir: mkdtempSync(join(dir, "state-")) };
}

/** "peer <address>" from the server, or "exit <curl's code>" (28: timeout). */
function curl(ns: Netns, url: string): string {
  const r = ns.exec(["curl", "-s", "-m", "3", url], { timeoutMs: 10_000 });
  return r.exitCode === 0 ? r.stdout : `exit ${r.exitCode}`;
}

/** The outside machine becomes the attacker: no loopback address of its own, 127.0.0.0/8 via the host. */
function routeLoopbackToHost(outside: Netns): void {
  sh(outside, "ip address del 127.0.0.1/8 dev lo\nip route add 127.0.0.0/8 via 192.168.0.100 dev eth0\nsysctl -qw net.ipv4.conf.all.route_localnet=1");
}

const BEFORE_LOCALNET = {
  toNeighbour: "peer 192.168.0.100",
  ownLoopback: "peer 127.0.0.1",
  forwardedLoopback: "exit 28",
  neighbourForwarded: "peer 192.168.0.50",
  neighbourAdmin: "exit 28",
};
const AFTER_LOCALNET = { forwardedLoopback: "peer 172.17.0.1", neighbourAdmin: "peer 192.168.0.50" };

function probesBefore(lab: Lab): typeof BEFORE_LOCALNET {
  return {
    toNeighbour: curl(lab.host, "http://192.168.0.50/"),
    ownLoopback: curl(lab.host, "http://127.0.0.1/"),
    forwardedLoopback: curl(lab.host, "http://127.0.0.1:8080/"),
    neighbourForwarded: curl(lab.outside, "http://127.0.0.1:8080/"),
    neighbourAdmin: curl(lab.outside, "http://127.0.0.1/"),
  };
}

function probesAfter(lab: Lab): typeof AFTER_LOCALNET {
  return { forwardedLoopback: curl(lab.host, "http://127.0.0.1:8080/"), neighbourAdmin: curl(lab.outside, "http://127.0.0.1/") };
}

/** Waits until the daemon logged `text` once more than `seen` times (it polls the host every second). */
async function loggedAgain(output: () => string, text: string, seen: number, timeoutMs = 15_000): Promise<void> {
  const count = (): number => output().split(text).length - 1;
  for (let waited = 0; count() <= seen; waited += 100) {
    if (waited >= timeoutMs) throw new Error(`the daemon did not log "${text}" again within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(why !== null)("the host's own traffic through the daemon", () => {
  it("kernel iptables: the reference", async () => {
    const lab = await buildLab();
    routeLoopbackToHost(lab.outside);
    const r = lab.host.exec(["iptables-restore"], { input: RULES });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(probesBefore(lab)).toEqual(BEFORE_LOCALNET);
    sh(lab.host, "sysctl -qw net.ipv4.conf.all.route_localnet=1");
    expect(probesAfter(lab)).toEqual(AFTER_LOCALNET);
  }, 120_000);

  it("daemon: the same answers; early demux and route_localnet restored at SIGTERM", async () => {
    const lab = await buildLab();
    routeLoopbackToHost(lab.outside);
    const before = hostState(lab.host);
    const localnetBefore = lab.host.exec(["sysctl", "-n", "net.ipv4.conf.docker0.route_localnet", "net.ipv4.conf.eth0.route_localnet"]).stdout;
    const env = { ...process.env, UPTABLES_STATE_DIR: lab.stateDir };
    const daemon: { child: ChildProcess; output: () => string } = await startChild(lab.host, ["node", "--import", "tsx", ENTRY, "--ruleset", lab.rulesFile], "ready (pid", {
      env,
      track: children,
    });
    expect(lab.host.exec(["sysctl", "-n", "net.ipv4.ip_early_demux"]).stdout.trim()).toBe("0");
    expect(probesBefore(lab)).toEqual(BEFORE_LOCALNET);

    const seen = daemon.output().split("host changed").length - 1;
    sh(lab.host, "sysctl -qw net.ipv4.conf.all.route_localnet=1");
    await loggedAgain(daemon.output, "host changed", seen);
    expect(probesAfter(lab)).toEqual(AFTER_LOCALNET);

    sh(lab.host, "sysctl -qw net.ipv4.conf.all.route_localnet=0");
    daemon.child.kill("SIGTERM");
    expect(await waitExit(daemon.child)).toBe(0);
    expect(hostState(lab.host)).toEqual(before);
    expect(lab.host.exec(["sysctl", "-n", "net.ipv4.conf.docker0.route_localnet", "net.ipv4.conf.eth0.route_localnet"]).stdout).toBe(localnetBefore);
    expect(readdirSync(lab.stateDir)).toEqual([]);
  }, 120_000);

  it("kill -9: --cleanup restores early demux and route_localnet", async () => {
    const lab = await buildLab();
    const before = hostState(lab.host);
    const env = { ...process.env, UPTABLES_STATE_DIR: lab.stateDir };
    const daemon = await startChild(lab.host, ["node", "--import", "tsx", ENTRY, "--ruleset", lab.rulesFile], "ready (pid", { env, track: children });
    daemon.child.kill("SIGKILL");
    expect(await waitExit(daemon.child)).toBe("SIGKILL");
    expect(lab.host.exec(["sysctl", "-n", "net.ipv4.conf.eth0.route_localnet"]).stdout.trim()).toBe("1");
    const cleanup = lab.host.exec(["env", `UPTABLES_STATE_DIR=${lab.stateDir}`, "node", "--import", "tsx", ENTRY, "--cleanup"], { timeoutMs: 30_000 });
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(cleanup.stderr).toContain("ip_early_demux");
    expect(hostState(lab.host)).toEqual(before);
    expect(lab.host.exec(["sysctl", "-n", "net.ipv4.conf.eth0.route_localnet"]).stdout.trim()).toBe("0");
  }, 120_000);
});
