// ICMP redirects with `uptables daemon`, against the kernel's own, in scratch namespaces (Docker's
// default bridge host, see datapath-lab.ts): the container sends to 10.9.9.9 through the host,
// whose route to it is a neighbour on docker0 (172.17.0.3), so the packet leaves by the interface
// it came in on and the container is told to use 172.17.0.3 directly. The daemon turns the kernel's
// send_redirects off; the engine sends the redirect instead, from the value the host had.
// Needs root, namespaces, iproute2, iptables and the native TUN build. Under CI=true a machine that
// cannot run these fails the file; elsewhere it is skipped, loudly.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DAEMON_ENTRY as ENTRY, daemonTestsCannotRun, Scratch, sh, wireDockerHost } from "../support/datapath-lab.ts";
import { destroyAllNetns, Netns } from "../support/netns.ts";
import { startChild, waitExit } from "../support/processes.ts";

const why = daemonTestsCannotRun("uptables daemon ICMP redirect tests", ["ip", "iptables-restore"]);
afterAll(() => destroyAllNetns());
const scratch = new Scratch();
const { namespaces, children, dirs } = scratch;
afterEach(() => scratch.cleanup());

const RULES = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";

interface Lab {
  host: Netns;
  container: Netns;
  rulesFile: string;
  stateDir: string;
}

function buildLab(): Lab {
  const [host, container, outside] = [Netns.create(), Netns.create(), Netns.create()];
  namespaces.push(host, container, outside);
  wireDockerHost(host, container, outside);
  sh(host, "ip route add 10.9.9.9/32 via 172.17.0.3 dev docker0");
  // Off on docker0, on in conf/all: the kernel ORs them, so redirects are sent -- and the engine
  // must use conf/all as the host had it, not the 0 the daemon writes there.
  sh(host, "sysctl -qw net.ipv4.conf.docker0.send_redirects=0 net.ipv4.conf.all.send_redirects=1");
  const dir = mkdtempSync(join(tmpdir(), "upt-redirects-"));
  dirs.push(dir);
  const rulesFile = join(dir, "rules");
  writeFileSync(rulesFile, RULES);
  return { host, container, rulesFile, stateDir: mkdtempSync(join(dir, "state-")) };
}

/** A field of the Icmp line of /proc/net/snmp in `ns`. */
function icmpCounter(ns: Netns, field: string): number {
  const lines = ns.exec(["cat", "/proc/net/snmp"]).stdout.split("\n").filter((l) => l.startsWith("Icmp:"));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf(field)]);
}

/** One UDP datagram from the container to 10.9.9.9, then until the container counted a redirect (at most 10 s). */
async function sendAndAwaitRedirect(lab: Lab): Promise<number> {
  sh(lab.container, "echo probe > /dev/udp/10.9.9.9/53");
  for (let waited = 0; waited < 10_000 && icmpCounter(lab.container, "InRedirects") === 0; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return icmpCounter(lab.container, "InRedirects");
}

describe.skipIf(why !== null)("ICMP redirects through the daemon", () => {
  it("kernel: the reference (one redirect, sent by the kernel)", async () => {
    const lab = buildLab();
    expect(lab.host.exec(["iptables-restore"], { input: RULES }).exitCode).toBe(0);
    expect(await sendAndAwaitRedirect(lab)).toBe(1);
    expect(icmpCounter(lab.host, "OutRedirects")).toBe(1);
  }, 60_000);

  it("daemon: the same redirect reaches the container, sent by the engine, not the kernel", async () => {
    const lab = buildLab();
    const env = { ...process.env, UPTABLES_STATE_DIR: lab.stateDir };
    const daemon = await startChild(lab.host, ["node", "--import", "tsx", ENTRY, "--ruleset", lab.rulesFile], "ready (pid", { env, track: children });
    // The daemon turned conf/all/send_redirects off; the engine reads the 1 the host had (docker0's is 0).
    expect(lab.host.exec(["sysctl", "-n", "net.ipv4.conf.all.send_redirects"]).stdout.trim()).toBe("0");
    expect(await sendAndAwaitRedirect(lab)).toBe(1);
    expect(icmpCounter(lab.host, "OutRedirects")).toBe(0);
    daemon.child.kill("SIGTERM");
    expect(await waitExit(daemon.child)).toBe(0);
    expect(lab.host.exec(["sysctl", "-n", "net.ipv4.conf.all.send_redirects"]).stdout.trim()).toBe("1");
  }, 60_000);
});
