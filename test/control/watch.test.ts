// The daemon's streams without root: a ControlServer on a socket in a temp dir, an in-memory engine,
// `uptables trace` and `conntrack -E` clients (openWatch) that see packets pushed through the engine;
// bad requests answered and closed; the engine forgets the watch when the client goes; a slow
// reader gets its records dropped and counted instead of stalling the engine.
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ControlServer } from "../../src/control/server.ts";
import { openWatch, type WatchHandle } from "../../src/control/watch-client.ts";
import { buildUdp } from "../../src/core/packet/builder.ts";
import type { Netfilter } from "../../src/core/engine/netfilter.ts";
import { formatTraceRecord } from "../../src/core/trace/format.ts";
import type { TraceRecord } from "../../src/core/trace/record.ts";
import { engineFor, rulesFromCommands } from "../support/engine.ts";

let dir: string;
let socketPath: string;
let engine: Netfilter;
let server: ControlServer;
const handles: WatchHandle[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "upt-watch-"));
  socketPath = join(dir, "control.sock");
  const rules = rulesFromCommands(["-t nat -A PREROUTING -p udp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"]);
  engine = engineFor(rules);
  server = new ControlServer({ socketPath, rules, engine });
  await server.start();
});

afterEach(async () => {
  for (const h of handles.splice(0)) h.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function udpIn(dport: number, sport = 40000, now = 0): void {
  const pkt = buildUdp({ src: "192.168.0.50", dst: "192.168.0.100", sport, dport, payload: "hi" });
  engine.receive(pkt, pkt.length, "eth0", now);
}

/** Opens a stream; resolves once the daemon accepted it (its watch count went up). */
async function watch(request: object, onRecord: (r: Record<string, unknown>) => void = () => undefined): Promise<WatchHandle> {
  const before = server.watches.watching;
  const handle = openWatch(socketPath, request, onRecord);
  handles.push(handle);
  const started = Date.now();
  for (;;) {
    const now = server.watches.watching;
    if (now.trace + now.events > before.trace + before.events) return handle;
    const end = await Promise.race([handle.done, new Promise<null>((r) => setTimeout(() => r(null), 10))]);
    if (end !== null) throw new Error(`stream refused: ${JSON.stringify(end)}`);
    if (Date.now() - started > 5000) throw new Error("the daemon did not take the stream");
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe("uptables trace over the control socket", () => {
  it("streams the walk of matching packets only, and the engine forgets the watch when the client goes", async () => {
    const records: TraceRecord[] = [];
    const handle = await watch({ op: "trace", args: ["-p", "udp", "--dport", "8080"] }, (r) => records.push(r as unknown as TraceRecord));
    udpIn(9999);
    udpIn(8080);
    await until(() => records.some((r) => r.type === "verdict"));
    const lines = records.map(formatTraceRecord);
    expect(lines.every((l) => l.includes("DPORT=9999") === false)).toBe(true);
    expect(lines).toContain(` NAT: 2 ${(records[0] as { id: string }).id} PREROUTING DNAT 192.168.0.100:8080 -> 172.17.0.2:80`);
    expect(lines.find((l) => l.startsWith(" TRACE:"))).toMatch(/^ TRACE: 2 [0-9a-f]{8} nat:PREROUTING:rule:0x1:ACCEPT {2}-4 -t nat -A PREROUTING -p udp -m udp --dport 8080 -j DNAT --to-destination 172.17.0.2:80$/);
    expect(engine.tracer).not.toBeNull();

    handle.close();
    expect(await handle.done).toEqual({ exitCode: 0, stderr: "" });
    await until(() => server.watches.watching.trace === 0);
    expect(engine.tracer).toBeNull();
  });

  it("answers a bad filter with iptables-like words and exit code 2, and closes", async () => {
    const handle = openWatch(socketPath, { op: "trace", args: ["--dport", "80"] }, () => undefined);
    expect(await handle.done).toEqual({
      exitCode: 2,
      stderr: "uptables trace: --sport/--dport need -p tcp, udp, sctp, dccp or udplite\nTry `uptables trace --help' for more information.\n",
    });
    const bad = openWatch(socketPath, { op: "trace", args: "-p tcp" }, () => undefined);
    expect(await bad.done).toEqual({ exitCode: 2, stderr: "uptables daemon: bad request: trace: args must be an array of strings\n" });
    expect(server.watches.watching.trace).toBe(0);
  });

  it("drops and counts records for a reader that does not read, without stalling the engine", async () => {
    // A raw client that never reads: the daemon's backlog for it fills up.
    const socket = createConnection(socketPath);
    await new Promise<void>((r) => socket.once("connect", () => r()));
    socket.pause();
    socket.write(`${JSON.stringify({ op: "trace", args: ["-p", "udp"] })}\n`);
    await until(() => server.watches.watching.trace === 1);
    for (let i = 0; i < 20_000; i++) udpIn(8080, 1024 + (i % 60000), i);
    // The engine went on (20k packets traced into a full backlog) and the records were counted as dropped.
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (received += d));
    socket.resume();
    await until(() => received.includes('"type":"dropped"'));
    const notice = received.split("\n").find((l) => l.includes('"type":"dropped"'))!;
    expect(JSON.parse(notice).count).toBeGreaterThan(0);
    socket.destroy();
    await until(() => server.watches.watching.trace === 0);
  });
});

describe("uptables conntrack -E over the control socket", () => {
  it("streams NEW and DESTROY lines that match the filter and the event mask", async () => {
    const all: string[] = [];
    const destroyOnly: string[] = [];
    await watch({ op: "conntrack", args: ["-E", "-p", "udp", "--dport", "8080"] }, (r) => all.push(String(r.line)));
    await watch({ op: "conntrack", args: ["-E", "-e", "DESTROY"] }, (r) => destroyOnly.push(String(r.line)));
    udpIn(8080);
    udpIn(5353);
    engine.conntrack.table.flush();
    await until(() => all.length === 2 && destroyOnly.length === 2);
    expect(all[0]).toMatch(/^ {4}\[NEW\] udp {6}17 30 src=192\.168\.0\.50 dst=192\.168\.0\.100 sport=40000 dport=8080 \[UNREPLIED\] src=172\.17\.0\.2 dst=192\.168\.0\.50 sport=80 dport=40000$/);
    expect(all[1]).toMatch(/^\[DESTROY\] udp {6}17 \d+ src=192\.168\.0\.50 dst=192\.168\.0\.100 sport=40000 dport=8080 /);
    expect(destroyOnly.every((l) => l.startsWith("[DESTROY]"))).toBe(true);
  });

  it("refuses an unknown event type as conntrack-tools does", async () => {
    const handle = openWatch(socketPath, { op: "conntrack", args: ["-E", "-e", "NEWISH"] }, () => undefined);
    expect(await handle.done).toEqual({
      exitCode: 2,
      stderr: "conntrack v1.4.7 (conntrack-tools): unknown event type `NEWISH'\nTry `conntrack -h' or 'conntrack --help' for more information.\n",
    });
    expect(engine.conntrack.table.events).toBeNull();
  });
});
