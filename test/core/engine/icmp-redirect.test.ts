// ICMP redirects from the forward path, as ip_forward sends them: when a packet leaves by the
// interface it came in on, the sender is told the next hop (type 5 code 1), the redirect passes
// OUTPUT and POSTROUTING as a packet of the host's own, and the packet is forwarded all the same.
// The redirect carries the packet's connection (nf_ct_attach), so nat OUTPUT drops it when that
// connection is NATed or not yet through POSTROUTING (nf_nat_icmp_reply_translation): Docker's
// hairpin counts one in raw OUTPUT and sends nothing (seen on Linux 6.18: IcmpOutRedirects 1, no
// ICMP on docker0).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildIcmpError, buildTcp, buildUdp } from "../../../src/core/packet/builder.ts";
import { Ipv4View } from "../../../src/core/packet/ipv4.ts";
import { IcmpView } from "../../../src/core/packet/icmp.ts";
import { formatAddress } from "../../../src/core/net/ipv4-address.ts";
import { runIptables } from "../../../src/core/iptables/run.ts";
import { listConnections } from "../../../src/core/conntrack/listing.ts";
import type { HostDescription } from "../../../src/core/host/host-view.ts";
import { REDIRECT_SILENCE_MS } from "../../../src/core/engine/icmp-redirect.ts";
import { decode } from "../../support/packets.ts";
import { engineFor, rulesFromCommands, rulesFromSave } from "../../support/engine.ts";
import { REPO_ROOT } from "../../support/corpus.ts";

const DOCKER_27 = readFileSync(join(REPO_ROOT, "lab/rulesets/docker-27-default.rules"), "utf8");

const HOST: HostDescription = {
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
  ],
  routes: [
    { destination: "default", gateway: "192.168.0.1", dev: "eth0" },
    { destination: "10.0.0.0/8", gateway: "192.168.0.1", dev: "eth0" },
  ],
};

const SYN = 0x02;

/** The lab's hairpin layout (dockerd with --userland-proxy=false): no RETURN for docker0, DNAT from anywhere. */
function hairpinRules() {
  // A raw table with its OUTPUT policy counted, to see the redirect before nat OUTPUT drops it.
  const rules = rulesFromSave(`${DOCKER_27}*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n`);
  for (const command of [
    ["-t", "nat", "-D", "DOCKER", "-i", "docker0", "-j", "RETURN"],
    ["-t", "nat", "-R", "DOCKER", "1", "-p", "tcp", "-m", "tcp", "--dport", "8080", "-j", "DNAT", "--to-destination", "172.17.0.2:80"],
  ]) {
    const outcome = runIptables(rules, command);
    if (outcome.exitCode !== 0) throw new Error(outcome.stderr);
  }
  return rules;
}

interface Redirect {
  src: string;
  dst: string;
  ttl: number;
  tos: number;
  length: number;
  type: number;
  code: number;
  gateway: string;
  quoted: Uint8Array;
}

function readRedirect(packet: Uint8Array): Redirect {
  const ip = new Ipv4View(packet, 0, packet.length);
  const icmp = new IcmpView(packet, ip.payloadOffset, ip.totalLength - ip.headerLength);
  return {
    src: formatAddress(ip.source),
    dst: formatAddress(ip.destination),
    ttl: ip.ttl,
    tos: ip.tos,
    length: ip.totalLength,
    type: icmp.type,
    code: icmp.code,
    gateway: formatAddress(icmp.gateway),
    quoted: packet.slice(ip.payloadOffset + 8),
  };
}

describe("ICMP redirects", () => {
  it("hairpin through Docker's rules: one host redirect to the container, quoting the DNATed packet, dropped at nat OUTPUT; the packet still forwarded", () => {
    const rules = hairpinRules();
    const engine = engineFor(rules, HOST);
    // The container opens a connection to its own published port (a SYN with options: 60 bytes).
    const syn = buildTcp({ src: "172.17.0.2", dst: "192.168.0.100", sport: 41000, dport: 8080, flags: SYN, seq: 1, ttl: 64, tos: 0x10, options: new Uint8Array(20) });
    expect(syn.length).toBe(60);
    const result = engine.receive(syn, syn.length, "docker0", 1000);

    expect(result.accepted).toBe(true);
    expect(result.outInterface).toBe("docker0");
    expect(decode(syn)).toMatchObject({ src: "172.17.0.1", dst: "172.17.0.2", dport: 80, ttl: 63, checksumsValid: true });
    // The redirect (20 + 8 + the 60-byte SYN) passed raw OUTPUT, then nat OUTPUT dropped it: the
    // connection is DNATed and its source NAT not yet decided. Nothing is sent; filter never saw it.
    expect(result.replies).toHaveLength(0);
    expect(engine.drops.rule).toBe(0); // not a packet handed to the engine
    expect(engine.generated).toEqual({ sent: 0, dropped: 1 });
    expect(runIptables(rules, ["-t", "raw", "-L", "OUTPUT", "-v", "-n", "-x"]).stdout).toMatch(/^Chain OUTPUT \(policy ACCEPT 1 packets, 88 bytes\)/);
    expect(runIptables(rules, ["-t", "filter", "-L", "OUTPUT", "-v", "-n", "-x"]).stdout).toMatch(/^Chain OUTPUT \(policy ACCEPT 0 packets, 0 bytes\)/);
    // The SYN itself went through FORWARD and the hairpin MASQUERADE once, and its connection stayed.
    expect(runIptables(rules, ["-t", "nat", "-L", "POSTROUTING", "-v", "-n", "-x"]).stdout).toMatch(/^ +1 +60 MASQUERADE .*172\.17\.0\.2 +172\.17\.0\.2 +tcp dpt:80$/m);
    expect(listConnections(engine.conntrack.table, 1000)).toHaveLength(1);

    // 50 ms later the SYN again earns the second redirect (after 40 ms), dropped the same way: NATed.
    const again = buildTcp({ src: "172.17.0.2", dst: "192.168.0.100", sport: 41000, dport: 8080, flags: SYN, seq: 1, options: new Uint8Array(20) });
    const second = engine.receive(again, again.length, "docker0", 1050);
    expect(second.accepted).toBe(true);
    expect(second.replies).toHaveLength(0);
    expect(runIptables(rules, ["-t", "raw", "-L", "OUTPUT", "-v", "-n", "-x"]).stdout).toMatch(/^Chain OUTPUT \(policy ACCEPT 2 packets, 176 bytes\)/);
  });

  it("a redirect about an un-NATed connection is sent, with the right type, code, gateway and quote", () => {
    // Conntrack and a nat table, but no NAT for this flow: the first packet's redirect is dropped
    // (its source NAT is decided only at POSTROUTING), a later one goes out.
    const rules = rulesFromCommands(["iptables -t nat -A POSTROUTING -o docker0 -j MASQUERADE"]);
    const engine = engineFor(rules, HOST);
    const first = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53, ttl: 64 });
    expect(engine.receive(first, first.length, "eth0", 0).replies).toHaveLength(0);
    const packet = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53, ttl: 64, tos: 0x10, payload: new Uint8Array(100) });
    const result = engine.receive(packet, packet.length, "eth0", 50);
    expect(result.accepted).toBe(true);
    expect(result.outInterface).toBe("eth0");
    expect(result.replies).toHaveLength(1);
    const redirect = readRedirect(result.replies[0]!);
    expect(redirect).toMatchObject({ src: "192.168.0.100", dst: "192.168.0.50", ttl: 64, tos: 0xc0 | 0x10, length: 28 + 128, type: 5, code: 1, gateway: "192.168.0.1" });
    expect(decode(result.replies[0]!).checksumsValid).toBe(true);
    // The quote: the whole datagram as routed, TTL already decremented.
    expect(decode(redirect.quoted)).toMatchObject({ src: "192.168.0.50", sport: 5000, dst: "10.1.2.3", dport: 53, ttl: 63, checksumsValid: true });
    expect(redirect.quoted.length).toBe(128);
    expect(engine.generated).toEqual({ sent: 1, dropped: 1 });
  });

  it("no redirect for a packet that leaves by another interface", () => {
    const engine = engineFor(rulesFromSave(DOCKER_27), HOST);
    const syn = buildTcp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 40000, dport: 8080, flags: SYN, seq: 1 });
    const result = engine.receive(syn, syn.length, "eth0", 0);
    expect(result.outInterface).toBe("docker0");
    expect(result.replies).toHaveLength(0);
  });

  it("names the route's gateway, and is rate limited per sender as ip_rt_send_redirect does", () => {
    const engine = engineFor(rulesFromCommands([]), HOST);
    const sent: number[] = [];
    let gateway = "";
    // A LAN host sends to 10.1.2.3 through us, every millisecond for 12 s; our route to it is the
    // LAN router 192.168.0.1, on the same link.
    for (let t = 0; t <= 12000; t++) {
      const packet = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53, payload: new Uint8Array(4) });
      const result = engine.receive(packet, packet.length, "eth0", t);
      expect(result.accepted).toBe(true);
      if (result.replies.length > 0) {
        sent.push(t);
        gateway = readRedirect(result.replies[0]!).gateway;
      }
    }
    expect(gateway).toBe("192.168.0.1");
    // The first at once, then after more than 40, 80, 160 ... ms since the previous one; none after the ninth.
    expect(sent).toEqual([0, 41, 122, 283, 604, 1245, 2526, 5087, 10208]);

    // Another sender has its own allowance.
    const other = buildUdp({ src: "192.168.0.51", dst: "10.1.2.3", sport: 5000, dport: 53 });
    expect(engine.receive(other, other.length, "eth0", 12000).replies).toHaveLength(1);

    // Still ignored: silence is measured from the last packet that needed a redirect.
    const later = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53 });
    expect(engine.receive(later, later.length, "eth0", 12000 + REDIRECT_SILENCE_MS).replies).toHaveLength(0);
    const afresh = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53 });
    expect(engine.receive(afresh, afresh.length, "eth0", 12000 + 2 * REDIRECT_SILENCE_MS + 1).replies).toHaveLength(1);
  });

  it("follows send_redirects: conf/all OR conf/<interface>", () => {
    const send = (host: HostDescription): number => {
      const engine = engineFor(rulesFromCommands([]), host);
      const packet = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53 });
      const result = engine.receive(packet, packet.length, "eth0", 0);
      expect(result.accepted).toBe(true);
      return result.replies.length;
    };
    const eth0Off = { ...HOST, interfaces: HOST.interfaces.map((i) => (i.name === "eth0" ? { ...i, sendRedirects: false } : i)) };
    expect(send({ ...eth0Off, sendRedirects: false })).toBe(0);
    expect(send({ ...HOST, sendRedirects: false })).toBe(1);
    expect(send(eth0Off)).toBe(1);
  });

  it("only to a sender on the link, and never about an ICMP error", () => {
    const engine = engineFor(rulesFromCommands([]), HOST);
    // 10.9.9.9 is reached through the router, not on eth0's link: fib_validate_source says "not on link".
    const remote = buildUdp({ src: "10.9.9.9", dst: "10.1.2.3", sport: 5000, dport: 53 });
    const viaRouter = engine.receive(remote, remote.length, "eth0", 0);
    expect(viaRouter.accepted).toBe(true);
    expect(viaRouter.replies).toHaveLength(0);
    // An error (port unreachable from the LAN host about a packet from 10.1.2.3) sent back through us.
    const offending = buildUdp({ src: "10.1.2.3", dst: "192.168.0.50", sport: 53, dport: 5000 });
    const error = buildIcmpError(3, 3, offending);
    const forwarded = engine.receive(error, error.length, "eth0", 1);
    expect(forwarded.accepted).toBe(true);
    expect(forwarded.outInterface).toBe("eth0");
    expect(forwarded.replies).toHaveLength(0);
  });

  it("a redirect dropped in OUTPUT is not sent; the packet is forwarded anyway", () => {
    const rules = rulesFromCommands(["iptables -A OUTPUT -p icmp --icmp-type redirect -j DROP"]);
    const engine = engineFor(rules, HOST);
    const packet = buildUdp({ src: "192.168.0.50", dst: "10.1.2.3", sport: 5000, dport: 53 });
    const result = engine.receive(packet, packet.length, "eth0", 0);
    expect(result.accepted).toBe(true);
    expect(result.outInterface).toBe("eth0");
    expect(result.replies).toHaveLength(0);
    expect(engine.drops.rule).toBe(0); // not a packet handed to the engine
    expect(engine.generated).toEqual({ sent: 0, dropped: 1 });
    expect(runIptables(rules, ["-L", "OUTPUT", "-v", "-n", "-x"]).stdout).toMatch(/^ +1 +\d+ DROP +1 /m);
  });
});
