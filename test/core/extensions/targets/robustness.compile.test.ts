// Every non-NAT target's per-packet face on damaged packets: whatever the bytes, no exception, and
// what comes out (the packet, REJECT's replies) is still well-formed.
import { describe, expect, it } from "vitest";
import { buildIcmpError, buildIpv4, buildTcp, buildUdp } from "../../../../src/core/packet/builder.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";
import { ROUTER, decodePacket } from "./engine-support.ts";

const RULES = [
  "iptables -t raw -A PREROUTING -j TRACE",
  "iptables -t raw -A PREROUTING -p udp --dport 53 -j CT --notrack",
  "iptables -t mangle -A PREROUTING -j MARK --set-xmark 0x5/0xff",
  "iptables -t mangle -A PREROUTING -j NFLOG --nflog-group 3 --nflog-prefix p",
  "iptables -t mangle -A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu",
  "iptables -t mangle -A POSTROUTING -j CHECKSUM --checksum-fill",
  "iptables -A INPUT -j LOG --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode",
  "iptables -A FORWARD -j LOG --log-ip-options --log-tcp-options",
  "iptables -A INPUT -p tcp --dport 23 -j REJECT --reject-with tcp-reset",
  "iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited",
  "iptables -A FORWARD -p udp --dport 9 -j REJECT",
];

/** A small deterministic generator (the tests must repeat). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

function seeds(): Uint8Array[] {
  const local = "203.0.113.1";
  const far = "198.51.100.7";
  const lan = "10.0.0.5";
  const inner = buildTcp({ src: local, dst: far, sport: 1, dport: 2, flags: 0x02, options: [2, 4, 5, 0xb4] });
  return [
    buildTcp({ src: far, dst: local, sport: 40000, dport: 23, flags: 0x02, options: [2, 4, 5, 0xb4, 1, 3, 3, 7], ipOptions: [0x94, 4, 0, 0] }),
    buildTcp({ src: lan, dst: far, sport: 40000, dport: 80, flags: 0x02, options: [1, 1, 4, 2] }),
    buildUdp({ src: far, dst: local, sport: 1, dport: 53, payload: "query" }),
    buildUdp({ src: lan, dst: far, sport: 1, dport: 9, payload: "x" }),
    buildIcmpError(3, 3, inner, { src: far, dst: local }),
    buildIcmpError(5, 1, inner, { src: far, dst: local, rest: 0x0a000001 }),
    buildIpv4({ src: far, dst: local, protocol: 51, payload: new Uint8Array(12) }),
    buildIpv4({ src: far, dst: local, protocol: 6, fragmentOffset: 3, payload: new Uint8Array(8) }),
  ];
}

describe("the non-NAT targets on damaged packets", () => {
  it("never throw, and keep their output well-formed", () => {
    const engine = engineFor(rulesFromCommands(RULES), ROUTER);
    const rand = random(7);
    let replies = 0;
    let logs = 0;
    for (let round = 0; round < 3000; round++) {
      const base = seeds()[round % 8]!;
      const packet = base.slice();
      // Flip a few bytes after the IP header's first word (keeping it IPv4 most of the time), or cut it short.
      const flips = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < flips; i++) {
        const at = 2 + Math.floor(rand() * (packet.length - 2));
        packet[at] = Math.floor(rand() * 256);
      }
      // Keep the IP header checksum right so the packet gets to the rules.
      packet[10] = 0;
      packet[11] = 0;
      const ihl = (packet[0]! & 0x0f) * 4;
      if (ihl >= 20 && ihl <= packet.length) {
        let sum = 0;
        for (let i = 0; i < ihl; i += 2) sum += (packet[i]! << 8) | packet[i + 1]!;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        const check = ~sum & 0xffff;
        packet[10] = check >>> 8;
        packet[11] = check & 0xff;
      }
      const length = rand() < 0.2 ? Math.floor(rand() * packet.length) : packet.length;
      const buf = new Uint8Array(packet.length + 8);
      buf.set(packet);
      const result = engine.receive(buf, length, rand() < 0.5 ? "eth0" : "eth1", round);
      for (const reply of result.replies) {
        const d = decodePacket(reply);
        expect(d.ipChecksumOk).toBe(true);
        expect(d.ip.protocol === 1 ? d.icmpChecksumOk : d.tcpChecksumOk).toBe(true);
        replies++;
      }
      for (const line of result.logs) expect(line).toMatch(/^(NFLOG group=3 prefix="p" )?IN=eth[01] OUT=\S* /);
      logs += result.logs.length;
      if (result.accepted && result.length >= 20) {
        expect(decodePacket(buf.subarray(0, result.length)).ipChecksumOk).toBe(true);
      }
    }
    expect(replies).toBeGreaterThan(50);
    expect(logs).toBeGreaterThan(1000);
  });
});
