// `uptables trace` in the core: the filter's command line, the packets it selects, the records the
// monitor makes of a walk through Docker's rules, and their lines in xtables-monitor's shapes (the
// real tool's lines, captured in a scratch namespace with iptables-nft 1.8.9, are quoted below).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTcp, buildUdp } from "../../../src/core/packet/builder.ts";
import { PacketContext } from "../../../src/core/engine/packet-context.ts";
import type { TraceMonitor } from "../../../src/core/engine/netfilter.ts";
import { parseTraceCommand, traceFilterMatches, TraceUsageError } from "../../../src/core/trace/filter.ts";
import { formatTraceRecord } from "../../../src/core/trace/format.ts";
import { PacketTraceMonitor, type TraceWatcher } from "../../../src/core/trace/monitor.ts";
import type { TraceRecord } from "../../../src/core/trace/record.ts";
import { CONNTRACK_USER, engineFor, rulesFromCommands, rulesFromSave } from "../../support/engine.ts";
import { REPO_ROOT } from "../../support/corpus.ts";

const DOCKER_27 = readFileSync(join(REPO_ROOT, "lab/rulesets/docker-27-default.rules"), "utf8");
const HOST = {
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
  ],
  routes: [{ destination: "default", gateway: "192.168.0.1", dev: "eth0" }],
};

function loaded(packet: Uint8Array, inInterface: string | null): PacketContext {
  const ctx = new PacketContext();
  expect(ctx.load(packet, packet.length)).toBeNull();
  ctx.inInterface = inInterface;
  return ctx;
}

function matches(args: string[], packet: Uint8Array, inInterface: string | null = "eth0"): boolean {
  return traceFilterMatches(parseTraceCommand(args).filter, loaded(packet, inInterface));
}

const syn = buildTcp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 40000, dport: 8080, flags: 0x02, id: 7 });

describe("the trace filter", () => {
  it("parses iptables' words, ! included, and the output options", () => {
    const c = parseTraceCommand(["-p", "tcp", "!", "-s", "10.0.0.0/8", "--dport=8080", "-i", "eth+", "--json", "-c", "3"]);
    expect(c.filter.protocol).toEqual({ value: 6, inverted: false });
    expect(c.filter.source).toEqual({ value: { addr: 0x0a000000, mask: 0xff000000 }, inverted: true });
    expect(c.filter.destinationPort).toEqual({ value: 8080, inverted: false });
    expect(c.filter.inInterface).toEqual({ value: "eth+", inverted: false });
    expect(c).toMatchObject({ json: true, count: 3, traceMarkedOnly: false });
    expect(parseTraceCommand([])).toMatchObject({ traceMarkedOnly: true, json: false, count: null });
  });

  it.each([
    [["-p", "bogus"], 'unknown protocol "bogus" specified'],
    [["-s", "1.2.3.4/33"], "invalid mask `33' specified"],
    [["-d", "not-an-address.invalid"], "host/network `not-an-address.invalid' not found"],
    [["--dport", "80"], "--sport/--dport need -p tcp, udp, sctp, dccp or udplite"],
    [["-p", "tcp", "--dport", "70000"], 'invalid port "70000" for --dport'],
    [["-c", "0"], 'invalid count "0" for -c (a whole number, 1 or more)'],
    [["!", "--json"], "cannot have ! before --json"],
    [["-s"], 'option "-s" requires an argument'],
    [["!", "!", "-s", "1.2.3.4"], "multiple `!' flags not allowed"],
    [["-p", "tcp", "!"], "`!' must be followed by an option"],
    [["-p", "tcp", "-p", "udp"], "multiple -p options given"],
    [["--frobnicate"], 'unknown option "--frobnicate"'],
    [["-i", "a-very-long-interface"], "interface name `a-very-long-interface' must be shorter than 16 characters"],
  ])("refuses %j: %s", (args, message) => {
    expect(() => parseTraceCommand(args)).toThrow(new TraceUsageError(message));
  });

  it("selects packets by protocol, address, port, either port and interface, with !", () => {
    expect(matches(["-p", "tcp", "--dport", "8080"], syn)).toBe(true);
    expect(matches(["-p", "tcp", "--dport", "80"], syn)).toBe(false);
    expect(matches(["-p", "tcp", "!", "--dport", "80"], syn)).toBe(true);
    expect(matches(["-p", "udp"], syn)).toBe(false);
    expect(matches(["!", "-p", "udp"], syn)).toBe(true);
    expect(matches(["-s", "192.168.0.0/24"], syn)).toBe(true);
    expect(matches(["!", "-s", "192.168.0.0/24"], syn)).toBe(false);
    expect(matches(["-d", "192.168.0.100"], syn)).toBe(true);
    expect(matches(["-d", "192.168.0.101"], syn)).toBe(false);
    expect(matches(["--port", "40000"], syn)).toBe(true);
    expect(matches(["--port", "8080"], syn)).toBe(true);
    expect(matches(["--port", "80"], syn)).toBe(false);
    expect(matches(["-i", "eth0"], syn)).toBe(true);
    expect(matches(["-i", "eth+"], syn)).toBe(true);
    expect(matches(["-i", "docker0"], syn)).toBe(false);
    expect(matches(["!", "-i", "docker0"], syn)).toBe(true);
    // Sent by the host itself: no in interface.
    expect(matches(["-i", "eth+"], syn, null)).toBe(false);
    const udp = buildUdp({ src: "172.17.0.2", dst: "8.8.8.8", sport: 5353, dport: 53 });
    expect(matches(["-p", "udp", "--sport", "5353"], udp, "docker0")).toBe(true);
  });
});

function watch(monitor: PacketTraceMonitor, args: string[]): TraceRecord[] {
  const command = parseTraceCommand(args);
  const records: TraceRecord[] = [];
  const watcher: TraceWatcher = { filter: command.traceMarkedOnly ? null : command.filter, deliver: (r) => records.push(r) };
  monitor.add(watcher);
  return records;
}

describe("the trace monitor on the engine", () => {
  it("follows a new connection to a published port through Docker's rules, in xtables-monitor's lines", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const monitor = new PacketTraceMonitor(0x1f2e3d4c);
    const records = watch(monitor, ["-p", "tcp", "--dport", "8080"]);
    const other = watch(monitor, ["-p", "udp"]);
    engine.setTraceMonitor(monitor);
    const packet = Uint8Array.from(syn);
    expect(engine.receive(packet, packet.length, "eth0", 0).accepted).toBe(true);
    // A packet the filter does not select leaves nothing.
    const unrelated = buildTcp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 40001, dport: 22, flags: 0x02 });
    engine.receive(unrelated, unrelated.length, "eth0", 1);
    expect(other).toEqual([]);

    const lines = records.map(formatTraceRecord);
    expect(lines).toEqual([
      " CONNTRACK: 2 1f2e3d4c PREROUTING state=NEW direction=ORIGINAL connection=0",
      "PACKET: 2 1f2e3d4c IN=eth0 SRC=192.168.0.50 DST=192.168.0.100 LEN=40 TOS=0x0 TTL=64 ID=7 SPORT=40000 DPORT=8080 SYN ",
      " TRACE: 2 1f2e3d4c nat:PREROUTING:rule:0x1:JUMP:DOCKER  -4 -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
      " TRACE: 2 1f2e3d4c nat:DOCKER:rule:0x2:ACCEPT  -4 -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
      " NAT: 2 1f2e3d4c PREROUTING DNAT 192.168.0.100:8080 -> 172.17.0.2:80",
      " ROUTE: 2 1f2e3d4c forward OUT=docker0",
      "PACKET: 2 1f2e3d4c IN=eth0 OUT=docker0 SRC=192.168.0.50 DST=172.17.0.2 LEN=40 TOS=0x0 TTL=63 ID=7 SPORT=40000 DPORT=80 SYN ",
      " TRACE: 2 1f2e3d4c filter:FORWARD:rule:0x1:JUMP:DOCKER-USER  -4 -t filter -A FORWARD -j DOCKER-USER",
      " TRACE: 2 1f2e3d4c filter:DOCKER-USER:rule:0x1:RETURN  -4 -t filter -A DOCKER-USER -j RETURN",
      " TRACE: 2 1f2e3d4c filter:FORWARD:rule:0x2:JUMP:DOCKER-ISOLATION-STAGE-1  -4 -t filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1",
      " TRACE: 2 1f2e3d4c filter:DOCKER-ISOLATION-STAGE-1:rule:0x2:RETURN  -4 -t filter -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
      " TRACE: 2 1f2e3d4c filter:FORWARD:rule:0x4:JUMP:DOCKER  -4 -t filter -A FORWARD -o docker0 -j DOCKER",
      " TRACE: 2 1f2e3d4c filter:DOCKER:rule:0x1:ACCEPT  -4 -t filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
      "PACKET: 2 1f2e3d4c IN=eth0 OUT=docker0 SRC=192.168.0.50 DST=172.17.0.2 LEN=40 TOS=0x0 TTL=63 ID=7 SPORT=40000 DPORT=80 SYN ",
      " TRACE: 2 1f2e3d4c nat:POSTROUTING:policy:ACCEPT ",
      " VERDICT: 2 1f2e3d4c ACCEPT forward OUT=docker0",
    ]);
  });

  it("traces packets a -j TRACE rule marks while a plain monitor is attached, from that rule on", () => {
    const rules = rulesFromCommands([
      "-t raw -A PREROUTING -p tcp --dport 8080 -j TRACE",
      "-N EMPTY",
      "-A INPUT -j EMPTY",
      "-A INPUT -p tcp --dport 8080 -j DROP",
      ...CONNTRACK_USER,
    ]);
    const engine = engineFor(rules, HOST);
    const monitor = new PacketTraceMonitor(0xabc);
    const records = watch(monitor, []);
    engine.setTraceMonitor(monitor);
    const packet = Uint8Array.from(syn);
    engine.receive(packet, packet.length, "eth0", 0);
    expect(records.map(formatTraceRecord)).toEqual([
      // The real tool, same rule in the kernel:
      // PACKET: 2 2e77ae87 IN=vta MACSRC=.. MACDST=.. MACPROTO=0800 SRC=10.99.0.2 DST=10.99.0.1 LEN=60 TOS=0x0 TTL=64 ID=26563 DF SPORT=47614 DPORT=8080 SYN
      //  TRACE: 2 2e77ae87 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p tcp -m tcp --dport 8080 -j TRACE
      //  TRACE: 2 2e77ae87 raw:PREROUTING:policy:ACCEPT
      "PACKET: 2 00000abc IN=eth0 SRC=192.168.0.50 DST=192.168.0.100 LEN=40 TOS=0x0 TTL=64 ID=7 SPORT=40000 DPORT=8080 SYN ",
      " TRACE: 2 00000abc raw:PREROUTING:rule:0x1:CONTINUE  -4 -t raw -A PREROUTING -p tcp -m tcp --dport 8080 -j TRACE",
      " TRACE: 2 00000abc raw:PREROUTING:policy:ACCEPT ",
      " CONNTRACK: 2 00000abc PREROUTING state=NEW direction=ORIGINAL connection=0",
      " ROUTE: 2 00000abc input",
      "PACKET: 2 00000abc IN=eth0 SRC=192.168.0.50 DST=192.168.0.100 LEN=40 TOS=0x0 TTL=64 ID=7 SPORT=40000 DPORT=8080 SYN ",
      " TRACE: 2 00000abc filter:INPUT:rule:0x1:JUMP:EMPTY  -4 -t filter -A INPUT -j EMPTY",
      " TRACE: 2 00000abc filter:EMPTY:return: ",
      " TRACE: 2 00000abc filter:INPUT:rule:0x2:DROP  -4 -t filter -A INPUT -p tcp -m tcp --dport 8080 -j DROP",
      " VERDICT: 2 00000abc DROP INPUT reason=rule",
    ]);
    // Unmarked packets are not traced for a plain monitor; with none attached nothing is.
    const other = buildTcp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 40001, dport: 22, flags: 0x02 });
    engine.receive(other, other.length, "eth0", 1);
    expect(records).toHaveLength(10);
    engine.setTraceMonitor(null);
    const again = Uint8Array.from(syn);
    engine.receive(again, again.length, "eth0", 2);
    expect(records).toHaveLength(10);
    expect(engine.tracer).toBeNull();
  });

  it("runs no trace path for a packet nobody selected, unless a plain monitor waits for -j TRACE", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    let events = 0;
    const stub = (watchesMarked: boolean): TraceMonitor => ({ watchesMarked, begin: () => false, event: () => void events++, end: () => undefined });
    engine.setTraceMonitor(stub(false));
    engine.receive(Uint8Array.from(syn), syn.length, "eth0", 0);
    expect(engine.tracer).toBeNull();
    engine.setTraceMonitor(stub(true));
    const next = buildTcp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 40002, dport: 8080, flags: 0x02 });
    engine.receive(next, next.length, "eth0", 1);
    // Observed (a -j TRACE could have marked it), but nothing reached the monitor: it was not marked.
    expect(engine.tracer).not.toBeNull();
    expect(events).toBe(0);
  });

  it("formats JSON-able records (the --json output) and the dropped-events notice", () => {
    const engine = engineFor(rulesFromCommands(["-A INPUT -p udp -j ACCEPT"]), HOST);
    const monitor = new PacketTraceMonitor(1);
    const records = watch(monitor, ["-p", "udp"]);
    engine.setTraceMonitor(monitor);
    const udp = buildUdp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 5000, dport: 53, id: 9 });
    engine.receive(udp, udp.length, "eth0", 0);
    const rule = records.find((r) => r.type === "rule");
    expect(JSON.parse(JSON.stringify(rule))).toEqual({
      type: "rule",
      id: "00000001",
      hook: "INPUT",
      table: "filter",
      chain: "INPUT",
      number: 1,
      verdict: "ACCEPT",
      rule: "-4 -t filter -A INPUT -p udp -j ACCEPT",
    });
    expect(formatTraceRecord({ type: "dropped", count: 12 })).toBe("uptables trace: 12 trace events dropped (the reader was too slow)");
  });
});
