// The control socket without root: a ControlServer on a socket in a temp dir, an in-memory rule set
// and engine, requests through the async and the synchronous (worker thread) clients.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { request, requestSync } from "../../src/control/client.ts";
import { ControlServer, ControlServerError, removeStaleSocket } from "../../src/control/server.ts";
import type { ControlReply } from "../../src/control/protocol.ts";
import { daemonBackend, fileBackend, NoBackendError, NO_DAEMON_MESSAGE } from "../../src/cli/backend.ts";
import { formatSave } from "../../src/core/iptables/save.ts";
import { buildUdp } from "../../src/core/packet/builder.ts";
import type { Netfilter } from "../../src/core/engine/netfilter.ts";
import type { RuleSet } from "../../src/core/rules/model.ts";
import { engineFor, rulesFromSave } from "../support/engine.ts";

const RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
`;

const NOW = 1_000_000;

let dir: string;
let socketPath: string;
let rules: RuleSet;
let engine: Netfilter;
let server: ControlServer;

/** A UDP packet from the LAN to the host's port (DNATed to the container by RULES). */
function udpIn(dport: number, sport = 40000): { accepted: boolean; dst: string } {
  const pkt = buildUdp({ src: "192.168.0.50", dst: "192.168.0.100", sport, dport, payload: "hi" });
  const result = engine.receive(pkt, pkt.length, "eth0", NOW);
  const dst = `${pkt[16]}.${pkt[17]}.${pkt[18]}.${pkt[19]}`;
  return { accepted: result.accepted, dst };
}

function raw(line: string): Promise<ControlReply[]> {
  // Sends `line` as is and collects the reply lines until the server has answered every request.
  const expected = line.split("\n").length - 1;
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let text = "";
    socket.on("connect", () => socket.write(line));
    socket.on("data", (d) => {
      text += d.toString("utf8");
      const lines = text.split("\n").filter((l) => l !== "");
      if (text.endsWith("\n") && lines.length >= expected) {
        socket.destroy();
        resolve(lines.map((l) => JSON.parse(l) as ControlReply));
      }
    });
    socket.on("error", reject);
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "uptables-control-"));
  socketPath = join(dir, "run", "uptables", "4026531840.sock");
  rules = rulesFromSave(RULES);
  engine = engineFor(rules);
  server = new ControlServer({ socketPath, rules, engine, now: () => NOW, maxRequestBytes: 64 * 1024 });
  await server.start();
});

afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("control server", () => {
  it("makes its directory 0700 and its socket 0600, and removes the socket on stop", async () => {
    expect(statSync(join(dir, "run", "uptables")).mode & 0o777).toBe(0o700);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    await server.stop();
    expect(existsSync(socketPath)).toBe(false);
  });

  it("lists the live rule set with the engine's counters", async () => {
    expect(udpIn(8080).dst).toBe("172.17.0.2");
    expect(udpIn(8080, 40001).dst).toBe("172.17.0.2");
    const reply = await request(socketPath, { op: "iptables", argv: ["-t", "nat", "-L", "PREROUTING", "-n", "-v", "-x"] });
    expect(reply.exitCode).toBe(0);
    expect(reply.stderr).toBe("");
    const dnat = reply.stdout.split("\n").find((l) => l.includes("DNAT"))!;
    expect(dnat.trim().split(/\s+/).slice(0, 3)).toEqual(["2", String(2 * (20 + 8 + 2)), "DNAT"]);
  });

  it("-A and -D reach the engine at once, counters of the other rules are kept", async () => {
    udpIn(8080);
    expect(udpIn(9090).accepted).toBe(true);
    let reply = await request(socketPath, { op: "iptables", argv: ["-A", "INPUT", "-p", "udp", "--dport", "9090", "-j", "DROP"] });
    expect(reply).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(udpIn(9090, 40002).accepted).toBe(false);
    reply = await request(socketPath, { op: "save", counters: true, table: "nat" });
    expect(reply.stdout).toContain("[1:30] -A PREROUTING -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.2:80");
    reply = await request(socketPath, { op: "iptables", argv: ["-D", "INPUT", "-p", "udp", "--dport", "9090", "-j", "DROP"] });
    expect(reply.exitCode).toBe(0);
    expect(udpIn(9090, 40003).accepted).toBe(true);
  });

  it("a failing command changes nothing and says why, as iptables does", async () => {
    const before = formatSave(rules, { counters: true });
    const reply = await request(socketPath, { op: "iptables", argv: ["-A", "NOSUCHCHAIN", "-j", "DROP"] });
    expect(reply.exitCode).not.toBe(0);
    expect(reply.stderr).not.toBe("");
    expect(formatSave(rules, { counters: true })).toBe(before);
    // A restore refused at its last line leaves every table as it was.
    const bad = `*filter\n-A INPUT -j DROP\n-A INPUT -j NOSUCHTARGET\nCOMMIT\n`;
    const restored = await request(socketPath, { op: "restore", text: bad, options: {} });
    expect(restored.exitCode).not.toBe(0);
    expect(formatSave(rules, { counters: true })).toBe(before);
    expect(udpIn(9090).accepted).toBe(true);
  });

  it("restore replaces the rules of the running engine", async () => {
    const text = `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp --dport 9090 -j DROP\nCOMMIT\n`;
    const reply = await request(socketPath, { op: "restore", text, options: { noflush: true } });
    expect(reply).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(udpIn(9090).accepted).toBe(false);
    expect(udpIn(8080).dst).toBe("172.17.0.2");
  });

  it("answers bad requests with an error and keeps serving", async () => {
    const replies = await raw(
      [
        "not json",
        "[1,2]",
        JSON.stringify({ op: "reboot" }),
        JSON.stringify({ op: "iptables", argv: "-L" }),
        JSON.stringify({ op: "restore", text: 5 }),
        JSON.stringify({ op: "iptables", argv: ["-S", "INPUT"] }),
      ].join("\n") + "\n",
    );
    expect(replies.map((r) => r.exitCode)).toEqual([2, 2, 2, 2, 2, 0]);
    expect(replies[0]!.stderr).toBe("uptables daemon: bad request: request is not JSON\n");
    expect(replies[2]!.stderr).toBe('uptables daemon: bad request: unknown op "reboot"\n');
    expect(replies[5]!.stdout).toBe("-P INPUT ACCEPT\n");
  });

  it("refuses a line longer than its limit, then serves the next one", async () => {
    const huge = JSON.stringify({ op: "iptables", argv: ["-L", "x".repeat(200 * 1024)] });
    const replies = await raw(`${huge}\n${JSON.stringify({ op: "iptables", argv: ["-S", "FORWARD"] })}\n`);
    expect(replies[0]!.exitCode).toBe(2);
    expect(replies[0]!.stderr).toContain("longer than 65536 bytes");
    expect(replies[replies.length - 1]!.stdout).toBe("-P FORWARD ACCEPT\n");
  });

  it("serialises requests from many clients", async () => {
    const adds = Array.from({ length: 20 }, (_, i) =>
      request(socketPath, { op: "iptables", argv: ["-A", "INPUT", "-p", "udp", "--dport", String(10000 + i), "-j", "DROP"] }),
    );
    const replies = await Promise.all(adds);
    expect(replies.every((r) => r.exitCode === 0)).toBe(true);
    const listed = await request(socketPath, { op: "iptables", argv: ["-S", "INPUT"] });
    expect(listed.stdout.split("\n").filter((l) => l.startsWith("-A INPUT")).length).toBe(20);
  });

  it("lists, deletes and flushes connections as conntrack does", async () => {
    udpIn(8080, 40000);
    udpIn(8080, 40001);
    let reply = await request(socketPath, { op: "conntrack", args: ["-L"] });
    expect(reply.exitCode).toBe(0);
    expect(reply.stdout.split("\n").filter((l) => l !== "").sort()).toEqual([
      "udp      17 30 src=192.168.0.50 dst=192.168.0.100 sport=40000 dport=8080 [UNREPLIED] src=172.17.0.2 dst=192.168.0.50 sport=80 dport=40000 mark=0 use=1",
      "udp      17 30 src=192.168.0.50 dst=192.168.0.100 sport=40001 dport=8080 [UNREPLIED] src=172.17.0.2 dst=192.168.0.50 sport=80 dport=40001 mark=0 use=1",
    ]);
    expect(reply.stderr).toBe("conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n");
    reply = await request(socketPath, { op: "conntrack", args: ["-L", "-p", "udp", "--sport", "40001"] });
    expect(reply.stderr).toBe("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n");
    reply = await request(socketPath, { op: "conntrack", args: ["-L", "-p", "tcp"] });
    expect(reply).toEqual({ stdout: "", stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n", exitCode: 0 });
    reply = await request(socketPath, { op: "conntrack", args: ["-D", "-p", "udp", "--sport", "40000"] });
    expect(reply.exitCode).toBe(0);
    expect(reply.stdout).toContain("sport=40000");
    expect(reply.stderr).toBe("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.\n");
    reply = await request(socketPath, { op: "conntrack", args: ["-D", "-s", "10.9.9.9"] });
    expect(reply.exitCode).toBe(1);
    reply = await request(socketPath, { op: "conntrack", args: ["-F"] });
    expect(reply.stderr).toBe("conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n");
    reply = await request(socketPath, { op: "conntrack", args: ["-L"] });
    expect(reply.stderr).toBe("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n");
    reply = await request(socketPath, { op: "conntrack", args: ["-X"] });
    expect(reply.exitCode).toBe(2);
  });

  it("refuses to start where another server answers; a stale socket is replaced", async () => {
    const second = new ControlServer({ socketPath, rules, engine });
    await expect(second.start()).rejects.toBeInstanceOf(ControlServerError);
    expect(await removeStaleSocket(socketPath)).toBe(false);
    await server.stop();
    // A socket file nobody listens on: what a killed daemon leaves (a process listening, killed -9).
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(socketPath)}, () => console.log("up"))`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(statSync(socketPath).isSocket()).toBe(true);
    server = new ControlServer({ socketPath, rules, engine });
    await server.start();
    const reply = await request(socketPath, { op: "iptables", argv: ["-S", "OUTPUT"] });
    expect(reply.stdout).toBe("-P OUTPUT ACCEPT\n");
  });
});

describe("synchronous client and backends", () => {
  it("bin/uptables.mjs talks to the server through UPTABLES_SOCKET (the synchronous client, in a child process)", async () => {
    // The CLI blocks its own thread; here the server is in this thread, so run the CLI as a child.
    const { execFile } = await import("node:child_process");
    const childEnv = (): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = { ...process.env, UPTABLES_SOCKET: socketPath };
      delete env.UPTABLES_RULESET;
      return env;
    };
    const run = (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ["bin/uptables.mjs", ...args],
          { env: childEnv(), cwd: join(import.meta.dirname, "../..") },
          (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
        );
      });
    udpIn(8080);
    const list = await run(["-t", "nat", "-S", "PREROUTING"]);
    expect(list).toEqual({ stdout: "-P PREROUTING ACCEPT\n-A PREROUTING -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.2:80\n", stderr: "", code: 0 });
    const add = await run(["-I", "INPUT", "-s", "10.0.0.0/8", "-j", "DROP"]);
    expect(add.code).toBe(0);
    expect(formatSave(rules)).toContain("-A INPUT -s 10.0.0.0/8 -j DROP");
    const bad = await run(["-A", "NOPE", "-j", "DROP"]);
    expect(bad.code).not.toBe(0);
    const ct = await run(["conntrack", "-L"]);
    expect(ct.code).toBe(0);
    expect(ct.stdout).toContain("dport=8080");
    expect(ct.stderr).toBe("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n");
  }, 30_000);

  it("requestSync says when no daemon listens", () => {
    const backend = daemonBackend(join(dir, "nothing.sock"));
    expect(() => backend.run({ op: "iptables", argv: ["-L"] })).toThrow(NoBackendError);
    expect(() => backend.run({ op: "iptables", argv: ["-L"] })).toThrow(NO_DAEMON_MESSAGE);
    expect(() => requestSync(join(dir, "nothing.sock"), { op: "iptables", argv: ["-L"] })).toThrow(/ENOENT/);
  });

  it("the file backend runs the same requests and refuses conntrack", () => {
    const file = join(dir, "rules.v4");
    writeFileSync(file, RULES);
    const backend = fileBackend(file);
    expect(backend.run({ op: "iptables", argv: ["-t", "nat", "-S", "OUTPUT"] }).stdout).toBe("-P OUTPUT ACCEPT\n");
    expect(backend.run({ op: "iptables", argv: ["-A", "INPUT", "-j", "DROP"] }).exitCode).toBe(0);
    expect(backend.run({ op: "save", counters: false, table: "filter" }).stdout).toContain("-A INPUT -j DROP");
    expect(() => backend.run({ op: "conntrack", args: ["-L"] })).toThrow(NoBackendError);
  });
});
