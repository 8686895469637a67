// `uptables trace` and `uptables conntrack -E` against a running daemon in scratch namespaces
// (Docker's default bridge with a published port, test/support/datapath-lab.ts): a curl from outside
// to the published port shows up in the trace with the DNAT rule and the FORWARD accept, and in the
// event stream as NEW then UPDATEs; the daemon forgets both streams when the clients go.
// Needs root, namespaces, curl and the native TUN build; under CI=true a machine that cannot run
// these fails the file, elsewhere it is skipped, loudly.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { destroyAllNetns, Netns } from "../support/netns.ts";
import { startChild, waitExit } from "../support/processes.ts";
import { DAEMON_ENTRY, daemonTestsCannotRun, DOCKER_RULES, PEER_SERVER, Scratch, UPTABLES_CLI, wireDockerHost } from "../support/datapath-lab.ts";
import { REPO_ROOT } from "../support/corpus.ts";

const why = daemonTestsCannotRun("uptables trace / conntrack -E daemon tests", ["ip", "curl"]);

afterAll(() => destroyAllNetns());
const scratch = new Scratch();
afterEach(() => scratch.cleanup());

interface Client {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

/** The uptables CLI in the namespace, output collected as it comes (no --ruleset: it finds the daemon). */
function client(ns: Netns, args: string[]): Client {
  const child = spawn("ip", ["netns", "exec", ns.name, "env", "-u", "UPTABLES_RULESET", "-u", "UPTABLES_SOCKET", "node", UPTABLES_CLI, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  scratch.children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(why !== null)("uptables trace and conntrack -E on a live daemon", () => {
  it("a curl to the published port: trace shows the DNAT rule and the FORWARD accept, conntrack -E shows NEW then UPDATE", async () => {
    const host = Netns.create();
    const container = Netns.create();
    const outside = Netns.create();
    scratch.namespaces.push(host, container, outside);
    wireDockerHost(host, container, outside);
    await startChild(container, ["node", "-e", PEER_SERVER("172.17.0.2")], "listening", { track: scratch.children });
    const stateDir = mkdtempSync(join(tmpdir(), "upt-watch-state-"));
    scratch.dirs.push(stateDir);
    const daemon = await startChild(host, ["node", "--import", "tsx", DAEMON_ENTRY, "--ruleset", DOCKER_RULES], "ready (pid", {
      env: { ...process.env, UPTABLES_STATE_DIR: stateDir },
      track: scratch.children,
    });

    // Both clients attached (the daemon logs each watch) before any traffic.
    const trace = client(host, ["trace", "-p", "tcp", "--dport", "8080", "-c", "1"]);
    const events = client(host, ["conntrack", "-E", "-p", "tcp"]);
    await until("both watches", () => (daemon.output().match(/watch started: /g) ?? []).length === 2);

    const curl = outside.exec(["curl", "-s", "-m", "10", "http://192.168.0.100:8080/"], { timeoutMs: 20_000 });
    expect(curl.stdout).toBe("peer 192.168.0.50");

    // -c 1: the trace ends by itself after the first packet, the SYN.
    expect(await waitExit(trace.child, 30_000)).toBe(0);
    expect(trace.stderr()).toBe("");
    const lines = trace.stdout().trimEnd().split("\n");
    const id = /^PACKET: 2 ([0-9a-f]{8}) /.exec(lines.find((l) => l.startsWith("PACKET:")) ?? "")?.[1];
    expect(id).toBeDefined();
    expect(lines.every((l) => l.includes(` ${id} `))).toBe(true);
    expect(lines).toContain(` CONNTRACK: 2 ${id} PREROUTING state=NEW direction=ORIGINAL connection=0`);
    expect(lines.find((l) => l.startsWith("PACKET:"))).toMatch(
      new RegExp(`^PACKET: 2 ${id} IN=eth0 SRC=192\\.168\\.0\\.50 DST=192\\.168\\.0\\.100 LEN=60 TOS=0x0 TTL=\\d+ ID=\\d+ DF SPORT=\\d+ DPORT=8080 SYN $`),
    );
    const dnat = lines.indexOf(` TRACE: 2 ${id} nat:DOCKER:rule:0x2:ACCEPT  -4 -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80`);
    const nat = lines.indexOf(` NAT: 2 ${id} PREROUTING DNAT 192.168.0.100:8080 -> 172.17.0.2:80`);
    const forward = lines.indexOf(` TRACE: 2 ${id} filter:DOCKER:rule:0x1:ACCEPT  -4 -t filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT`);
    expect(dnat).toBeGreaterThan(0);
    expect(nat).toBeGreaterThan(dnat);
    expect(forward).toBeGreaterThan(nat);
    expect(lines.at(-1)).toBe(` VERDICT: 2 ${id} ACCEPT forward OUT=docker0`);

    // conntrack -E: NEW, then the handshake's UPDATEs; Ctrl-C ends it with conntrack-tools' count.
    await until("the ESTABLISHED update", () => events.stdout().includes("ESTABLISHED"));
    events.child.kill("SIGINT");
    expect(await waitExit(events.child)).toBe(0);
    const ev = events.stdout().trimEnd().split("\n");
    const flow = "src=192\\.168\\.0\\.50 dst=192\\.168\\.0\\.100 sport=(\\d+) dport=8080";
    expect(ev[0]).toMatch(new RegExp(`^    \\[NEW\\] tcp      6 120 SYN_SENT ${flow} \\[UNREPLIED\\] src=172\\.17\\.0\\.2 dst=192\\.168\\.0\\.50 sport=80 dport=\\d+$`));
    expect(ev[1]).toMatch(new RegExp(`^ \\[UPDATE\\] tcp      6 60 SYN_RECV ${flow} src=172\\.17\\.0\\.2 dst=192\\.168\\.0\\.50 sport=80 dport=\\d+$`));
    expect(ev[2]).toMatch(new RegExp(`^ \\[UPDATE\\] tcp      6 432000 ESTABLISHED ${flow} src=172\\.17\\.0\\.2 dst=192\\.168\\.0\\.50 sport=80 dport=\\d+ \\[ASSURED\\]$`));
    expect(events.stderr()).toBe(`conntrack v1.4.7 (conntrack-tools): ${ev.length} flow events have been shown.\n`);

    // The daemon forgot both streams.
    await until("both watches ended", () => (daemon.output().match(/watch ended: /g) ?? []).length === 2);

    // --json until Ctrl-C: one record a line, the same walk.
    const json = client(host, ["trace", "-p", "tcp", "--dport", "8080", "--json"]);
    await until("the JSON watch", () => (daemon.output().match(/watch started: /g) ?? []).length === 3);
    expect(outside.exec(["curl", "-s", "-m", "10", "http://192.168.0.100:8080/"], { timeoutMs: 20_000 }).stdout).toBe("peer 192.168.0.50");
    await until("a verdict record", () => json.stdout().includes('"type":"verdict"'));
    json.child.kill("SIGINT");
    expect(await waitExit(json.child)).toBe(0);
    const records = json.stdout().trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.type === "nat")).toMatchObject({ hook: "PREROUTING", manip: "DNAT", from: "192.168.0.100:8080", to: "172.17.0.2:80" });
    expect(records.find((r) => r.type === "verdict")).toMatchObject({ verdict: "ACCEPT", path: "forward", out: "docker0" });
    await until("the JSON watch ended", () => (daemon.output().match(/watch ended: /g) ?? []).length === 3);
    daemon.child.kill("SIGTERM");
    expect(await waitExit(daemon.child)).toBe(0);
  });

  it("without a daemon: a clear message and exit code 1", async () => {
    const lonely = Netns.create();
    scratch.namespaces.push(lonely);
    const trace = client(lonely, ["trace", "-p", "udp"]);
    expect(await waitExit(trace.child)).toBe(1);
    expect(trace.stderr()).toBe("uptables trace: no uptables daemon runs in this network namespace (start one with `uptables daemon`)\n");
    const events = client(lonely, ["conntrack", "-E"]);
    expect(await waitExit(events.child)).toBe(1);
    expect(events.stderr()).toBe("uptables conntrack: no uptables daemon runs in this network namespace (start one with `uptables daemon`)\n");
  });
});
