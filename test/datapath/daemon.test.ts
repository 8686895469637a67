// `uptables daemon` against the real kernel: Docker's default bridge setup in scratch namespaces,
//
//   outside 192.168.0.50 --veth-- eth0 192.168.0.100 [host] docker0 172.17.0.1/16 --bridge-- container 172.17.0.2
//
// with lab/rulesets/docker-27-default.rules (host port 8080 published to 172.17.0.2:80). The same
// probes run with the kernel's iptables (iptables-restore in the host namespace, no daemon) and
// with the daemon (a child process in the host namespace), and must give the same results: the
// container's HTTP server sees the outside client's own address through the DNAT, the outside
// server sees the container's egress as 192.168.0.100 (MASQUERADE), and the TTLs seen outside are
// the kernel's. Afterwards nothing may be left: no rule, route, table, TUN, sysctl change or
// namespace. A daemon killed with SIGKILL leaves rules behind; `--cleanup` must remove them.
// Needs root, namespaces, iproute2, iptables, curl and the native TUN build; tcpdump for the TTLs.
// Under CI=true a machine that cannot run these fails the file; elsewhere it is skipped, loudly.
import type { ChildProcess } from "node:child_process";
import { startChild, waitExit } from "../support/processes.ts";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { destroyAllNetns, findProgram, Netns, run } from "../support/netns.ts";
import { DAEMON_ENTRY as ENTRY, daemonTestsCannotRun, DEFAULT_RULES, DOCKER_RULES as RULES, hostState, PEER_SERVER, wireDockerHost } from "../support/datapath-lab.ts";

const why = daemonTestsCannotRun("uptables daemon tests", ["ip", "iptables", "iptables-save", "iptables-restore", "curl"]);
const HAVE_TCPDUMP = findProgram("tcpdump") !== null;
if (why === null && !HAVE_TCPDUMP) console.warn("[partly skipped] uptables daemon tests: no tcpdump, so the TTL checks do not run");

afterAll(() => destroyAllNetns());

// --- the lab -----------------------------------------------------------------------------------

interface Lab {
  host: Netns;
  container: Netns;
  outside: Netns;
  children: ChildProcess[];
}

const labs: Lab[] = [];
const stateDirs: string[] = [];

async function buildLab(): Promise<Lab> {
  const lab: Lab = { host: Netns.create(), container: Netns.create(), outside: Netns.create(), children: [] };
  labs.push(lab);
  const { host: h, container: c, outside: o } = lab;
  wireDockerHost(h, c, o);
  for (const [ns, address] of [[c, "172.17.0.2"], [o, "192.168.0.50"]] as const) {
    const { child } = await startChild(ns, ["node", "-e", PEER_SERVER(address)], "listening");
    lab.children.push(child);
  }
  return lab;
}

async function destroyLab(lab: Lab): Promise<void> {
  for (const child of lab.children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await waitExit(child);
    }
  }
  for (const ns of [lab.host, lab.container, lab.outside]) ns.destroy();
  for (const ns of [lab.host, lab.container, lab.outside]) expect(existsSync(`/run/netns/${ns.name}`)).toBe(false);
}

afterEach(async () => {
  while (labs.length > 0) await destroyLab(labs.pop()!);
  while (stateDirs.length > 0) rmSync(stateDirs.pop()!, { recursive: true, force: true });
  expect(run(["ip", "netns", "list"]).stdout).not.toContain(`upt-test-${process.pid}-`);
});

// --- probes ------------------------------------------------------------------------------------

interface Outcome {
  /** The container's HTTP server, reached from outside through the published port. */
  published: string;
  /** The outside server, reached from the container (egress). */
  egress: string;
  /** Connecting to a closed port of the host: curl's exit code (7 = refused by the host's RST). */
  closedPortExit: number;
  /** TTLs seen on the outside link, by kind of packet (empty without tcpdump). */
  ttls: Record<string, number[]>;
  publishedMs: number;
}

function curl(ns: Netns, url: string): { body: string; exit: number; ms: number } {
  const r = ns.exec(["curl", "-s", "-m", "5", "-w", "\n%{time_total}", url]);
  const lines = r.stdout.split("\n");
  const seconds = Number(lines.pop());
  return { body: lines.join("\n"), exit: r.exitCode, ms: seconds * 1000 };
}

async function probe(lab: Lab): Promise<Outcome> {
  let capture: { child: ChildProcess; output: () => string } | null = null;
  if (HAVE_TCPDUMP) {
    capture = await startChild(lab.outside, ["tcpdump", "-l", "-n", "-v", "-i", "eth0", "tcp"], "listening on");
  }
  const published = curl(lab.outside, "http://192.168.0.100:8080/");
  const egress = curl(lab.container, "http://192.168.0.50/");
  const closed = curl(lab.outside, "http://192.168.0.100:9/");
  const ttls: Record<string, number[]> = {};
  if (capture !== null) {
    await new Promise((r) => setTimeout(r, 300));
    capture.child.kill("SIGINT");
    await waitExit(capture.child);
    for (const m of capture.output().matchAll(/ttl (\d+),[^\n]*\n\s+(\S+) > (\S+):/g)) {
      const [, ttl, from, to] = m;
      const kind =
        from === "192.168.0.100.8080" ? "published reply" :
        from === "192.168.0.100.9" ? "host RST" :
        from!.startsWith("192.168.0.100.") && to === "192.168.0.50.80" ? "masqueraded egress" :
        from!.startsWith("192.168.0.50.") ? "outside" : `other ${from} > ${to}`;
      (ttls[kind] ??= []).includes(Number(ttl)) || ttls[kind]!.push(Number(ttl));
    }
  }
  return { published: published.body, egress: egress.body, closedPortExit: closed.exit, ttls, publishedMs: published.ms };
}

const EXPECTED = {
  published: "peer 192.168.0.50",
  egress: "peer 192.168.0.100",
  closedPortExit: 7,
};
/** The kernel forwards once (64 -> 63); the host's own packets leave with 64. */
const EXPECTED_TTLS = { "published reply": [63], "masqueraded egress": [63], "host RST": [64], outside: [64] };

function checkOutcome(outcome: Outcome): void {
  expect({ published: outcome.published, egress: outcome.egress, closedPortExit: outcome.closedPortExit }).toEqual(EXPECTED);
  if (HAVE_TCPDUMP) expect(outcome.ttls).toEqual(EXPECTED_TTLS);
}

function daemonEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), "upt-daemon-state-"));
  stateDirs.push(dir);
  return { ...process.env, UPTABLES_STATE_DIR: dir };
}

function startDaemon(lab: Lab, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ child: ChildProcess; output: () => string }> {
  return startChild(lab.host, ["node", "--import", "tsx", ENTRY, "--ruleset", RULES, ...extra], "ready (pid", { env }).then((d) => {
    lab.children.push(d.child);
    return d;
  });
}

// --- the tests ---------------------------------------------------------------------------------

describe.skipIf(why !== null)("uptables daemon on Docker's default bridge", () => {
  it("kernel iptables: published port, masquerade, TTLs (the reference)", async () => {
    const lab = await buildLab();
    const r = lab.host.exec(["iptables-restore"], { input: readFileSync(RULES, "utf8") });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const outcome = await probe(lab);
    console.log(`kernel: published port in ${outcome.publishedMs.toFixed(1)} ms; TTLs ${JSON.stringify(outcome.ttls)}`);
    checkOutcome(outcome);

    // The daemon refuses to run on top of kernel rules, and changes nothing.
    const before = hostState(lab.host);
    const env = daemonEnv();
    const refused = lab.host.exec(["env", `UPTABLES_STATE_DIR=${env.UPTABLES_STATE_DIR}`, "node", "--import", "tsx", ENTRY, "--ruleset", RULES], { timeoutMs: 30_000 });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("kernel firewall rules exist");
    expect(hostState(lab.host)).toEqual(before);
  }, 120_000);

  it("daemon: the same results, and everything undone on SIGTERM", async () => {
    const lab = await buildLab();
    const before = hostState(lab.host);
    expect(before.rules).toBe(DEFAULT_RULES);
    const env = daemonEnv();
    const daemon = await startDaemon(lab, env);
    const during = hostState(lab.host);
    expect(during.rules).toContain("iif eth0 ipproto tcp lookup 270");
    expect(during.rules).toContain("iif docker0 ipproto udp lookup 270");
    expect(during.rules).toContain("12:\tfrom all iif lo lookup 27999");
    expect(during.links).toEqual([...before.links, "upt-OUTPUT", "upt-docker0", "upt-eth0"].sort());

    const outcome = await probe(lab);
    console.log(`daemon: published port in ${outcome.publishedMs.toFixed(1)} ms; TTLs ${JSON.stringify(outcome.ttls)}`);
    checkOutcome(outcome);
    // The host itself reaches the published port through OUTPUT's DNAT, from its own address.
    expect(curl(lab.host, "http://192.168.0.100:8080/").body).toBe("peer 192.168.0.100");

    daemon.child.kill("SIGTERM");
    expect(await waitExit(daemon.child)).toBe(0);
    expect(daemon.output()).toContain("removed the datapath");
    expect(hostState(lab.host)).toEqual(before);
    expect(readdirSync(env.UPTABLES_STATE_DIR!)).toEqual([]);
    // And the kernel path works again without the daemon (no filter: the rules were never loaded).
    expect(curl(lab.outside, "http://192.168.0.100:8080/").exit).toBe(7);
  }, 120_000);

  it("kill -9 leaves rules behind; --cleanup removes them and restores the sysctls", async () => {
    const lab = await buildLab();
    const before = hostState(lab.host);
    const env = daemonEnv();
    const daemon = await startDaemon(lab, env);
    expect(curl(lab.outside, "http://192.168.0.100:8080/").body).toBe("peer 192.168.0.50");
    daemon.child.kill("SIGKILL");
    expect(await waitExit(daemon.child)).toBe("SIGKILL");

    const left = hostState(lab.host);
    expect(left.rules).not.toBe(DEFAULT_RULES);
    expect(left.sysctls).not.toEqual(before.sysctls);
    // A new daemon refuses to start over the leftovers.
    const again = lab.host.exec(["env", `UPTABLES_STATE_DIR=${env.UPTABLES_STATE_DIR}`, "node", "--import", "tsx", ENTRY], { timeoutMs: 30_000 });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain("--cleanup");

    const cleanup = lab.host.exec(["env", `UPTABLES_STATE_DIR=${env.UPTABLES_STATE_DIR}`, "node", "--import", "tsx", ENTRY, "--cleanup"], { timeoutMs: 30_000 });
    expect(cleanup.stderr).toContain("ip rule add pref 0 lookup local");
    expect(cleanup.exitCode).toBe(0);
    expect(hostState(lab.host)).toEqual(before);
    expect(readdirSync(env.UPTABLES_STATE_DIR!)).toEqual([]);
    const twice = lab.host.exec(["env", `UPTABLES_STATE_DIR=${env.UPTABLES_STATE_DIR}`, "node", "--import", "tsx", ENTRY, "--cleanup"], { timeoutMs: 30_000 });
    expect(twice.exitCode).toBe(0);
    expect(twice.stderr).toContain("nothing to remove");
  }, 120_000);
});
