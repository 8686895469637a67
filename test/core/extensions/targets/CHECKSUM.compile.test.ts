// -j CHECKSUM --checksum-fill in the engine: the TCP/UDP checksum recomputed in full.
import { describe, expect, it } from "vitest";
import { buildIpv4, buildTcp, buildUdp } from "../../../../src/core/packet/builder.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";
import { ROUTER, decodePacket, receive } from "./engine-support.ts";

function filling(match = "") {
  return engineFor(rulesFromCommands([`iptables -t mangle -A POSTROUTING ${match} -j CHECKSUM --checksum-fill`]), ROUTER);
}

describe("CHECKSUM --checksum-fill", () => {
  it("fills the checksum of a UDP datagram that has a wrong one, or none", () => {
    const engine = filling("-p udp --dport 68");
    // A DHCP offer forwarded towards the LAN with a broken checksum.
    const fromOutside = buildUdp({ src: "198.51.100.7", dst: "10.0.0.5", sport: 67, dport: 68, payload: "offer" });
    fromOutside[26] ^= 0xff;
    const out = receive(engine, fromOutside, "eth0");
    expect(out.accepted).toBe(true);
    expect(decodePacket(out.packet).udpChecksumOk).toBe(true);
    expect(decodePacket(out.packet).udp.checksum).not.toBe(0);

    const none = buildUdp({ src: "198.51.100.7", dst: "10.0.0.5", sport: 67, dport: 68, payload: "offer", checksum: false });
    const filled = decodePacket(receive(engine, none, "eth0").packet);
    expect(filled.udp.checksum).not.toBe(0);
    expect(filled.udpChecksumOk).toBe(true);
    expect(filled.udp.checksum).toBe(decodePacket(buildUdp({ src: "198.51.100.7", dst: "10.0.0.5", sport: 67, dport: 68, payload: "offer" })).udp.checksum);
  });

  it("fills a TCP checksum", () => {
    const engine = filling("-p tcp");
    const segment = buildTcp({ src: "198.51.100.7", dst: "10.0.0.5", sport: 443, dport: 40000, flags: 0x12, seq: 5, ack: 6, payload: "data" });
    segment[36] = 0;
    segment[37] = 0;
    const out = receive(engine, segment, "eth0");
    expect(out.accepted).toBe(true);
    expect(decodePacket(out.packet).tcpChecksumOk).toBe(true);
  });

  it("leaves fragments and other protocols alone, and lets the walk go on", () => {
    const engine = filling();
    const first = buildUdp({ src: "198.51.100.7", dst: "10.0.0.5", sport: 67, dport: 68, payload: "first part", mf: true });
    const before = first[27];
    first[26] ^= 0xff;
    const out = receive(engine, first, "eth0");
    expect(out.accepted).toBe(true);
    expect(out.packet[26]).toBe(first[26]);
    expect(out.packet[27]).toBe(before);
    const gre = buildIpv4({ src: "198.51.100.7", dst: "10.0.0.5", protocol: 47, payload: [0, 0, 8, 0] });
    const greOut = receive(engine, gre, "eth0");
    expect(greOut.accepted).toBe(true);
    expect([...greOut.packet.subarray(20)]).toEqual([0, 0, 8, 0]);
  });
});
