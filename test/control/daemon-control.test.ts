// The CLI against a running `uptables daemon` in a scratch namespace (Docker's default bridge, as in
// test/datapath/daemon.test.ts): uptables -L -v shows the live counters, -I/-D change the traffic at
// once, uptables conntrack -L shows the connection, and the socket goes away with the daemon.
// Needs root, namespaces, iproute2, curl and the native TUN build. Under CI=true a machine that
// cannot run these fails the file; elsewhere it is skipped, loudly.
import { startChild, waitExit } from "../support/processes.ts";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runIptables } from "../../src/core/iptables/run.ts";
import { destroyAllNetns, Netns } from "../support/netns.ts";
import { rulesFromSave } from "../support/engine.ts";
import { REPO_ROOT as REPO } from "../support/corpus.ts";
import { DAEMON_ENTRY as ENTRY, daemonTestsCannotRun, DOCKER_RULES as RULES, PEER_SERVER, Scratch, UPTABLES_CLI as CLI, wireDockerHost } from "../support/datapath-lab.ts";

const why = daemonTestsCannotRun("uptables control socket tests", ["ip", "curl"]);
afterAll(() => destroyAllNetns());
const scratch = new Scratch();
const { namespaces, children, dirs } = scratch;
afterEach(() => scratch.cleanup());

const SERVER = PEER_SERVER("172.17.0.2");

function curl(ns: Netns, url: string, seconds = 5): { body: string; exit: number } {
  const r = ns.exec(["curl", "-s", "-m", String(seconds), url], { timeoutMs: (seconds + 5) * 1000 });
  return { body: r.stdout, exit: r.exitCode };
}

/** The uptables CLI in the namespace (no --ruleset: it finds the daemon's socket). */
function cli(ns: Netns, args: string[]): { stdout: string; stderr: string; exitCode: number } {
  return ns.exec(["env", "-u", "UPTABLES_RULESET", "-u", "UPTABLES_SOCKET", "node", CLI, ...args], { timeoutMs: 30_000 });
}

/** The words of the DNAT rule's line of `-L DOCKER -n -v` ("pkts bytes target prot opt in out source destination extra"). */
function dnatLine(listing: string): string[] {
  const line = listing.split("\n").find((l) => l.includes("DNAT"));
  if (line === undefined) throw new Error(`no DNAT line in:\n${listing}`);
  return line.trim().split(/\s+/);
}

describe.skipIf(why !== null)("the CLI talks to the daemon of its namespace", () => {
  it("-L -v live counters, -I/-D on the running engine, conntrack -L, socket removed on exit", async () => {
    const host = Netns.create();
    const container = Netns.create();
    const outside = Netns.create();
    namespaces.push(host, container, outside);
    wireDockerHost(host, container, outside);
    await startChild(container, ["node", "-e", SERVER], "listening", { track: children });

    // No daemon yet: a clear message.
    const none = cli(host, ["-t", "nat", "-L", "-n"]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toBe("uptables: no uptables daemon runs in this network namespace (start one with `uptables daemon`), or give --ruleset FILE\n");

    const stateDir = mkdtempSync(join(tmpdir(), "upt-control-state-"));
    dirs.push(stateDir);
    const daemon = await startChild(host, ["node", "--import", "tsx", ENTRY, "--ruleset", RULES], "ready (pid", { env: { ...process.env, UPTABLES_STATE_DIR: stateDir }, track: children });
    const inode = host.exec(["stat", "-L", "-c", "%i", "/proc/self/ns/net"]).stdout.trim();
    const socketPath = `/run/uptables/${inode}.sock`;
    expect(daemon.output()).toContain(`control socket: ${socketPath}`);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync("/run/uptables").mode & 0o777).toBe(0o700);

    // The listing is the rule set's, with zero counters before any traffic.
    const expected = runIptables(rulesFromSave(readFileSync(RULES, "utf8")), ["-t", "nat", "-L", "-n", "-v"]).stdout;
    let listed = cli(host, ["-t", "nat", "-L", "-n", "-v"]);
    expect(listed.stderr).toBe("");
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toBe(expected);
    expect(dnatLine(listed.stdout).slice(0, 2)).toEqual(["0", "0"]);

    // One HTTP request through the published port: one new connection through the DNAT rule.
    expect(curl(outside, "http://192.168.0.100:8080/").body).toBe("peer 192.168.0.50");
    listed = cli(host, ["-t", "nat", "-L", "-n", "-v"]);
    expect(listed.exitCode).toBe(0);
    const words = dnatLine(listed.stdout);
    expect(words[0]).toBe("1");
    expect(Number(words[1])).toBeGreaterThan(0);
    expect(words.slice(2)).toEqual(dnatLine(expected).slice(2));
    // Everything else as expected, apart from counters.
    const shape = (text: string): string[] =>
      text.split("\n").map((l) => l.replace(/\(policy (\w+) \d+[KMG]? packets, \d+[KMG]? bytes\)/, "(policy $1)").replace(/^\s*\d+[KMG]?\s+\d+[KMG]?\s+/, "N N "));
    expect(shape(listed.stdout)).toEqual(shape(expected));

    // conntrack -L shows the connection, DNATed to the container.
    const ct = cli(host, ["conntrack", "-L", "-p", "tcp", "--dport", "8080"]);
    expect(ct.exitCode).toBe(0);
    expect(ct.stderr).toBe("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n");
    expect(ct.stdout).toMatch(
      /^tcp      6 \d+ [A-Z_]+ src=192\.168\.0\.50 dst=192\.168\.0\.100 sport=\d+ dport=8080 src=172\.17\.0\.2 dst=192\.168\.0\.50 sport=80 dport=\d+ \[ASSURED\] mark=0 use=1\n$/,
    );

    // A rule added while the daemon runs takes effect on the next connection; deleting it undoes it.
    const rule = ["DOCKER-USER", "-s", "192.168.0.50", "-p", "tcp", "--dport", "80", "-j", "DROP"];
    const insert = cli(host, ["-I", ...rule]);
    expect(pick(insert)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(curl(outside, "http://192.168.0.100:8080/", 2).exit).toBe(28);
    expect(cli(host, ["-S", "DOCKER-USER"]).stdout).toBe("-N DOCKER-USER\n-A DOCKER-USER -s 192.168.0.50/32 -p tcp -m tcp --dport 80 -j DROP\n-A DOCKER-USER -j RETURN\n");
    const del = cli(host, ["-D", ...rule]);
    expect(del.exitCode).toBe(0);
    expect(curl(outside, "http://192.168.0.100:8080/").body).toBe("peer 192.168.0.50");
    // A refused command changes nothing.
    const refused = cli(host, ["-D", ...rule]);
    expect(refused.exitCode).not.toBe(0);
    expect(cli(host, ["-S", "DOCKER-USER"]).stdout).toBe("-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n");

    // uptables-save through the same socket shows the counters.
    const save = host.exec(["env", "-u", "UPTABLES_RULESET", "node", join(REPO, "bin/uptables-save.mjs"), "-c", "-t", "nat"], { timeoutMs: 30_000 });
    expect(save.exitCode).toBe(0);
    // 1 + the dropped SYNs (never confirmed, so each went through nat again) + 1.
    const dnat = /\[(\d+):\d+\] -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80\n/.exec(save.stdout);
    expect(dnat, save.stdout).not.toBeNull();
    expect(Number(dnat![1])).toBeGreaterThanOrEqual(3);

    daemon.child.kill("SIGTERM");
    expect(await waitExit(daemon.child)).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
    expect(cli(host, ["-L"]).exitCode).toBe(1);
  }, 120_000);
});

function pick(r: { stdout: string; stderr: string; exitCode: number }): { stdout: string; stderr: string; exitCode: number } {
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
}
