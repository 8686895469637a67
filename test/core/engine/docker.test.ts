// Docker's real rule sets through the engine: the packets that come out, byte for byte where it
// matters (addresses, ports, checksums), the verdicts, the counters and the conntrack listing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildTcp, buildUdp, buildIcmpError, buildIcmpEcho } from "../../../src/core/packet/builder.ts";
import { runIptables } from "../../../src/core/iptables/run.ts";
import { listConnections } from "../../../src/core/conntrack/listing.ts";
import { CtState } from "../../../src/core/conntrack/states.ts";
import type { HostDescription } from "../../../src/core/host/host-view.ts";
import { decode } from "../../support/packets.ts";
import { CONNTRACK_USER, engineFor, rulesFromCommands, rulesFromSave, traced } from "../../support/engine.ts";
import { CORPUS, REPO_ROOT } from "../../support/corpus.ts";

const DOCKER_27 = readFileSync(join(REPO_ROOT, "lab/rulesets/docker-27-default.rules"), "utf8");

const HOST: HostDescription = {
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
  ],
  routes: [{ destination: "default", gateway: "192.168.0.1", dev: "eth0" }],
};

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const SYNACK = SYN | ACK;

function tcp(src: string, sport: number, dst: string, dport: number, flags: number, ttl = 64): Uint8Array {
  return buildTcp({ src, dst, sport, dport, flags, seq: 1000, ack: flags & ACK ? 2000 : 0, ttl });
}

describe("Docker 25-27 default bridge with a published port", () => {
  it("DNATs a connection from the LAN to the container and un-NATs the replies", () => {
    const rules = rulesFromSave(DOCKER_27);
    const engine = engineFor(rules, HOST);

    const syn = tcp("192.168.0.50", 40000, "192.168.0.100", 8080, SYN);
    const first = engine.receive(syn, syn.length, "eth0", 0);
    expect(first.accepted).toBe(true);
    expect(first.path).toBe("forward");
    expect(first.outInterface).toBe("docker0");
    expect(decode(syn)).toMatchObject({ src: "192.168.0.50", sport: 40000, dst: "172.17.0.2", dport: 80, ttl: 63, checksumsValid: true });

    const synAck = tcp("172.17.0.2", 80, "192.168.0.50", 40000, SYNACK);
    const second = engine.receive(synAck, synAck.length, "docker0", 10);
    expect(second.accepted).toBe(true);
    expect(second.outInterface).toBe("eth0");
    expect(decode(synAck)).toMatchObject({ src: "192.168.0.100", sport: 8080, dst: "192.168.0.50", dport: 40000, checksumsValid: true });

    const ack = tcp("192.168.0.50", 40000, "192.168.0.100", 8080, ACK);
    expect(engine.receive(ack, ack.length, "eth0", 20).accepted).toBe(true);
    expect(decode(ack)).toMatchObject({ dst: "172.17.0.2", dport: 80, checksumsValid: true });

    expect(listConnections(engine.conntrack.table, 20)).toEqual([
      "tcp      6 432000 ESTABLISHED src=192.168.0.50 dst=192.168.0.100 sport=40000 dport=8080 src=172.17.0.2 dst=192.168.0.50 sport=80 dport=40000 [ASSURED] mark=0 use=1",
    ]);
    // Only the first packet walked the nat table: the DNAT rule counted once.
    expect(runIptables(rules, ["-t", "nat", "-L", "DOCKER", "-v", "-n", "-x"]).stdout).toMatch(/^ +1 +40 DNAT /m);
    // The filter walk: DOCKER accepted the first packet, conntrack ESTABLISHED the third.
    const filter = runIptables(rules, ["-L", "-v", "-n", "-x"]).stdout;
    expect(filter).toMatch(/^ +1 +40 ACCEPT .*ctstate RELATED,ESTABLISHED$/m);
    expect(filter).toMatch(/^ +1 +40 ACCEPT .*172\.17\.0\.2 +tcp dpt:80$/m);
  });

  it("reaches the published port from the host itself through OUTPUT", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const syn = tcp("192.168.0.100", 50000, "192.168.0.100", 8080, SYN);
    const result = engine.send(syn, syn.length, 0);
    expect(result.accepted).toBe(true);
    expect(result.path).toBe("output");
    expect(result.outInterface).toBe("docker0");
    expect(decode(syn)).toMatchObject({ src: "192.168.0.100", dst: "172.17.0.2", dport: 80, checksumsValid: true });
    const reply = tcp("172.17.0.2", 80, "192.168.0.100", 50000, SYNACK);
    const back = engine.receive(reply, reply.length, "docker0", 5);
    expect(back.accepted).toBe(true);
    expect(back.path).toBe("input");
    expect(decode(reply)).toMatchObject({ src: "192.168.0.100", sport: 8080, dst: "192.168.0.100", dport: 50000, checksumsValid: true });
  });

  it("masquerades a container's egress behind the host address, and replies find their way back", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const out = tcp("172.17.0.2", 5000, "203.0.113.10", 443, SYN);
    const result = engine.receive(out, out.length, "docker0", 0);
    expect(result.accepted).toBe(true);
    expect(result.outInterface).toBe("eth0");
    const seen = decode(out);
    expect(seen).toMatchObject({ src: "192.168.0.100", dst: "203.0.113.10", dport: 443, checksumsValid: true });
    const reply = tcp("203.0.113.10", 443, "192.168.0.100", seen.sport!, SYNACK);
    const back = engine.receive(reply, reply.length, "eth0", 1);
    expect(back.accepted).toBe(true);
    expect(back.outInterface).toBe("docker0");
    expect(decode(reply)).toMatchObject({ src: "203.0.113.10", dst: "172.17.0.2", dport: 5000, checksumsValid: true });
  });

  it("translates an ICMP error about a masqueraded flow back to the container (RELATED)", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const query = buildUdp({ src: "172.17.0.2", dst: "203.0.113.10", sport: 33000, dport: 53, payload: new Uint8Array(12) });
    expect(engine.receive(query, query.length, "docker0", 0).accepted).toBe(true);
    const sent = decode(query);
    expect(sent.src).toBe("192.168.0.100");
    // The outside answers with port unreachable, quoting the packet as it saw it.
    const error = buildIcmpError(3, 3, query, { src: "203.0.113.10" });
    const { result, events } = traced(engine, () => engine.receive(error, error.length, "eth0", 1));
    expect(result.accepted).toBe(true);
    expect(result.outInterface).toBe("docker0");
    expect(events.some((e) => e.kind === "conntrack" && e.state === CtState.RELATED)).toBe(true);
    const outer = decode(error);
    expect(outer).toMatchObject({ src: "203.0.113.10", dst: "172.17.0.2", protocol: 1, icmpType: 3, checksumsValid: true });
    // The quoted packet is the container's own again.
    const quoted = decode(error.subarray(28), error.length - 28);
    expect(quoted).toMatchObject({ src: "172.17.0.2", sport: 33000, dst: "203.0.113.10", dport: 53 });
  });

  it("does not let the LAN reach a container port that is not published", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const direct = tcp("192.168.0.50", 40000, "172.17.0.2", 22, SYN);
    const result = engine.receive(direct, direct.length, "eth0", 0);
    expect(result.accepted).toBe(false);
    expect(result.dropReason).toBe("rule");
  });

  it("pings through the masquerade with the echo identifier kept", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const ping = buildIcmpEcho({ src: "172.17.0.2", dst: "203.0.113.10", identifier: 77, sequence: 1 });
    expect(engine.receive(ping, ping.length, "docker0", 0).accepted).toBe(true);
    expect(decode(ping)).toMatchObject({ src: "192.168.0.100", checksumsValid: true });
    const pong = buildIcmpEcho({ src: "203.0.113.10", dst: "192.168.0.100", identifier: 77, sequence: 1, request: false });
    expect(engine.receive(pong, pong.length, "eth0", 1).accepted).toBe(true);
    expect(decode(pong)).toMatchObject({ dst: "172.17.0.2", checksumsValid: true });
  });
});

describe("isolation between two Docker networks (seed 003)", () => {
  const host: HostDescription = {
    interfaces: [
      { name: "eth0", addresses: ["192.168.0.100/24"] },
      { name: "br-one", addresses: ["172.18.0.1/16"] },
      { name: "br-two", addresses: ["172.19.0.1/16"] },
    ],
  };
  const base = [
    "-N DOCKER-ISOLATION-STAGE-1",
    "-N DOCKER-ISOLATION-STAGE-2",
    "-P FORWARD DROP",
    "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
    "-A FORWARD -o br-one -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -i br-one ! -o br-one -j ACCEPT",
    "-A FORWARD -o br-two -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -i br-two ! -o br-two -j ACCEPT",
    "-A DOCKER-ISOLATION-STAGE-1 -i br-one ! -o br-one -j DOCKER-ISOLATION-STAGE-2",
    "-A DOCKER-ISOLATION-STAGE-1 -i br-two ! -o br-two -j DOCKER-ISOLATION-STAGE-2",
    "-A DOCKER-ISOLATION-STAGE-1 -j RETURN",
    "-A DOCKER-ISOLATION-STAGE-2 -o br-one -j DROP",
    "-A DOCKER-ISOLATION-STAGE-2 -o br-two -j DROP",
    "-A DOCKER-ISOLATION-STAGE-2 -j RETURN",
  ];

  it("drops traffic from one network to the other in DOCKER-ISOLATION-STAGE-2", () => {
    const rules = rulesFromCommands(base);
    const engine = engineFor(rules, host);
    const p = tcp("172.18.0.2", 40000, "172.19.0.2", 80, SYN);
    expect(engine.receive(p, p.length, "br-one", 0).accepted).toBe(false);
    expect(runIptables(rules, ["-L", "DOCKER-ISOLATION-STAGE-2", "-v", "-n", "-x"]).stdout).toMatch(/^ +1 +40 DROP .*br-two/m);
  });

  it("an appended FORWARD accept comes too late; an inserted one works (the seed's -A vs -I)", () => {
    const appended = rulesFromCommands([...base, "-A FORWARD -i br-one -o br-two -j ACCEPT"]);
    const p1 = tcp("172.18.0.2", 40000, "172.19.0.2", 80, SYN);
    expect(engineFor(appended, host).receive(p1, p1.length, "br-one", 0).accepted).toBe(false);
    const inserted = rulesFromCommands([...base, "-I FORWARD -i br-one -o br-two -j ACCEPT"]);
    const p2 = tcp("172.18.0.2", 40000, "172.19.0.2", 80, SYN);
    expect(engineFor(inserted, host).receive(p2, p2.length, "br-one", 0).accepted).toBe(true);
  });
});

describe("Docker 28's layout from dockerd's own golden files (br-dummy, 192.168.0.2:80 published on 8080)", () => {
  const host: HostDescription = {
    interfaces: [
      { name: "eth0", addresses: ["10.10.0.100/24"] },
      { name: "br-dummy", addresses: ["192.168.0.1/24"] },
    ],
    routes: [{ destination: "default", gateway: "10.10.0.1", dev: "eth0" }],
  };
  const file = (name: string): string => readFileSync(join(CORPUS, "docker/iptabler", name), "utf8");

  it("hairpin: a container reaching its own published port is DNATed and masqueraded to the bridge address", () => {
    const rules = rulesFromSave(file("hairpin=true,internal=false,icc=true,masq=true,snat=false,gwm=nat,bindlh=false.rules"));
    const engine = engineFor(rules, host);
    const syn = tcp("192.168.0.2", 41000, "10.10.0.100", 8080, SYN);
    const result = engine.receive(syn, syn.length, "br-dummy", 0);
    expect(result.accepted).toBe(true);
    expect(result.outInterface).toBe("br-dummy");
    expect(decode(syn)).toMatchObject({ src: "192.168.0.1", dst: "192.168.0.2", dport: 80, checksumsValid: true });
    const reply = tcp("192.168.0.2", 80, "192.168.0.1", decode(syn).sport!, SYNACK);
    expect(engine.receive(reply, reply.length, "br-dummy", 1).accepted).toBe(true);
    expect(decode(reply)).toMatchObject({ src: "10.10.0.100", sport: 8080, dst: "192.168.0.2", dport: 41000, checksumsValid: true });
  });

  it("raw PREROUTING drops direct access to the container address from outside the bridge", () => {
    const rules = rulesFromSave(file("hairpin=false,internal=false,icc=true,masq=true,snat=false,gwm=nat,bindlh=false.rules"));
    const engine = engineFor(rules, host);
    const direct = tcp("10.10.0.50", 40000, "192.168.0.2", 80, SYN);
    const result = engine.receive(direct, direct.length, "eth0", 0);
    expect(result.accepted).toBe(false);
    expect(runIptables(rules, ["-t", "raw", "-L", "PREROUTING", "-v", "-n", "-x"]).stdout).toMatch(/^ +1 +40 DROP /m);
    // Through the published port it works.
    const published = tcp("10.10.0.50", 40000, "10.10.0.100", 8080, SYN);
    expect(engine.receive(published, published.length, "eth0", 0).accepted).toBe(true);
    expect(decode(published)).toMatchObject({ dst: "192.168.0.2", dport: 80 });
  });
});

describe("conntrack lifecycle", () => {
  it("walks TCP teardown to TIME_WAIT and expires it after 120 s", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const send = (p: Uint8Array, iface: string, t: number): boolean => engine.receive(p, p.length, iface, t).accepted;
    expect(send(tcp("192.168.0.50", 40000, "192.168.0.100", 8080, SYN), "eth0", 0)).toBe(true);
    expect(send(tcp("172.17.0.2", 80, "192.168.0.50", 40000, SYNACK), "docker0", 1)).toBe(true);
    expect(send(tcp("192.168.0.50", 40000, "192.168.0.100", 8080, ACK), "eth0", 2)).toBe(true);
    expect(send(tcp("192.168.0.50", 40000, "192.168.0.100", 8080, FIN | ACK), "eth0", 3)).toBe(true);
    expect(listConnections(engine.conntrack.table, 3)[0]).toContain(" FIN_WAIT ");
    expect(send(tcp("172.17.0.2", 80, "192.168.0.50", 40000, FIN | ACK), "docker0", 4)).toBe(true);
    expect(listConnections(engine.conntrack.table, 4)[0]).toContain(" LAST_ACK ");
    expect(send(tcp("192.168.0.50", 40000, "192.168.0.100", 8080, ACK), "eth0", 5)).toBe(true);
    expect(listConnections(engine.conntrack.table, 5)[0]).toMatch(/^tcp {6}6 120 TIME_WAIT /);
    expect(engine.collectGarbage(5 + 119_000)).toBe(0);
    expect(engine.collectGarbage(5 + 120_000)).toBe(1);
    expect(listConnections(engine.conntrack.table, 5 + 120_000)).toEqual([]);
  });

  it("shows an unreplied UDP flow with [UNREPLIED] and a 30 s timeout", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const q = buildUdp({ src: "172.17.0.2", dst: "203.0.113.10", sport: 33000, dport: 53 });
    engine.receive(q, q.length, "docker0", 0);
    expect(listConnections(engine.conntrack.table, 0)).toEqual([
      "udp      17 30 src=172.17.0.2 dst=203.0.113.10 sport=33000 dport=53 [UNREPLIED] src=203.0.113.10 dst=192.168.0.100 sport=53 dport=33000 mark=0 use=1",
    ]);
  });

  it("when the table is full, drops an unassured connection early; when all are assured, drops and counts the packet", () => {
    const rules = rulesFromCommands(["-A FORWARD -j ACCEPT", ...CONNTRACK_USER]);
    const engine = engineFor(rules, HOST, { conntrack: { maxEntries: 2 } });
    const open = (sport: number, t: number): boolean => {
      const p = tcp("192.168.0.50", sport, "172.17.0.9", 80, SYN);
      return engine.receive(p, p.length, "eth0", t).accepted;
    };
    expect(open(1, 0)).toBe(true);
    expect(open(2, 1)).toBe(true);
    expect(open(3, 2)).toBe(true); // an unassured SYN_SENT entry made room
    expect(engine.conntrack.table.stats.earlyDrop).toBe(1);
    // Assure both remaining connections (handshake complete), then a third cannot get in.
    for (const sport of [2, 3]) {
      const synAck = tcp("172.17.0.9", 80, "192.168.0.50", sport, SYNACK);
      engine.receive(synAck, synAck.length, "docker0", 3);
      const ack = tcp("192.168.0.50", sport, "172.17.0.9", 80, ACK);
      engine.receive(ack, ack.length, "eth0", 4);
    }
    const p = tcp("192.168.0.50", 4, "172.17.0.9", 80, SYN);
    const result = engine.receive(p, p.length, "eth0", 5);
    expect(result.accepted).toBe(false);
    expect(result.dropReason).toBe("conntrack-table-full");
    expect(engine.drops["conntrack-table-full"]).toBe(1);
    expect(engine.conntrack.table.stats.drop).toBe(1);
  });

  it("SNAT port exhaustion is a counted drop, never a duplicate tuple", () => {
    const rules = rulesFromCommands(["-A FORWARD -j ACCEPT", "-t nat -A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 192.168.0.100:1000-1001"]);
    const engine = engineFor(rules, HOST);
    const results = [2, 3, 4].map((n) => {
      const p = tcp(`172.17.0.${n}`, 5000, "203.0.113.10", 443, SYN);
      const r = engine.receive(p, p.length, "docker0", n);
      return { accepted: r.accepted, reason: r.dropReason, sport: decode(p).sport };
    });
    expect(results.filter((r) => r.accepted).map((r) => r.sport).sort()).toEqual([1000, 1001]);
    expect(results[2]).toMatchObject({ accepted: false, reason: "nat-no-free-tuple" });
    expect(engine.drops["nat-no-free-tuple"]).toBe(1);
    const replies = listConnections(engine.conntrack.table, 5).map((l) => l.split(" src=")[2]);
    expect(new Set(replies).size).toBe(replies.length);
  });

  it("keeps existing connections (and their NAT) when the rule set is replaced", () => {
    const rules = rulesFromSave(DOCKER_27);
    const engine = engineFor(rules, HOST);
    const syn = tcp("192.168.0.50", 40000, "192.168.0.100", 8080, SYN);
    engine.receive(syn, syn.length, "eth0", 0);
    const synAck = tcp("172.17.0.2", 80, "192.168.0.50", 40000, SYNACK);
    engine.receive(synAck, synAck.length, "docker0", 1);
    // The DNAT rule disappears, but the flow keeps its binding (while conntrack still runs).
    engine.load(rulesFromCommands(["-P FORWARD ACCEPT", ...CONNTRACK_USER]));
    const ack = tcp("192.168.0.50", 40000, "192.168.0.100", 8080, ACK);
    expect(engine.receive(ack, ack.length, "eth0", 2).accepted).toBe(true);
    expect(decode(ack)).toMatchObject({ dst: "172.17.0.2", dport: 80 });
  });
});
