// -j LOG and -j NFLOG in the engine: the line the kernel's nf_log_syslog would print for the packet
// (without the syslog level, with its trailing space), and the walk going on after it.
import { describe, expect, it } from "vitest";
import { buildIcmpEcho, buildIcmpError, buildIpv4, buildTcp, buildUdp } from "../../../../src/core/packet/builder.ts";
import { Ipv4View } from "../../../../src/core/packet/ipv4.ts";
import { TcpView } from "../../../../src/core/packet/tcp.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";
import { ROUTER, receive, send } from "./engine-support.ts";

const SYN = 0x02;
const ACK = 0x10;
const ALL_FLAGS = 0xff;

function logging(commands: string[]) {
  return engineFor(rulesFromCommands(commands), ROUTER);
}

const syn = (extra: Partial<Parameters<typeof buildTcp>[0]> = {}) =>
  buildTcp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 22, flags: SYN, seq: 1000, id: 4660, df: true, ...extra });

describe("LOG", () => {
  it("logs a TCP SYN as the kernel does, and lets the walk go on", () => {
    const engine = logging(["iptables -A INPUT -j LOG --log-prefix 'X: '", "iptables -A INPUT -j DROP"]);
    const out = receive(engine, syn(), "eth0");
    expect(out.logs).toEqual([
      "X: IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=65535 RES=0x00 SYN URGP=0 ",
    ]);
    // LOG does not decide: the DROP after it does.
    expect(out.accepted).toBe(false);
    expect(out.dropReason).toBe("rule");
  });

  it("prints no prefix when none was given, and every TCP flag in the kernel's order", () => {
    const engine = logging(["iptables -A INPUT -j LOG"]);
    const out = receive(engine, syn({ flags: ALL_FLAGS, urgent: 7, window: 512 }), "eth0");
    expect(out.accepted).toBe(true);
    expect(out.logs[0]).toBe(
      "IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=512 RES=0x00 CWR ECE URG ACK PSH RST SYN FIN URGP=7 ",
    );
  });

  it("adds SEQ/ACK, TCP options and IP options with --log-tcp-sequence, --log-tcp-options, --log-ip-options", () => {
    const engine = logging(["iptables -A INPUT -j LOG --log-prefix 'F ' --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid"]);
    const packet = syn({ seq: 4294967295, ack: 17, flags: SYN | ACK, options: [2, 4, 0x05, 0xb4, 1, 1, 4, 2], ipOptions: [0x94, 4, 0, 0] });
    expect(receive(engine, packet, "eth0").logs[0]).toBe(
      "F IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF OPT (94040000) PROTO=TCP SPT=40000 DPT=22 SEQ=4294967295 ACK=17 WINDOW=65535 RES=0x00 ACK SYN URGP=0 OPT (020405B401010402) ",
    );
  });

  it("splits the TOS byte into TOS and PREC, and shows the reserved TCP bits", () => {
    const engine = logging(["iptables -A INPUT -j LOG"]);
    const packet = syn({ tos: 0xb8 });
    const tcp = new TcpView(packet, 20, packet.length - 20);
    packet[32] |= 0x0f; // the four reserved bits after the data offset
    tcp.fillChecksum(new Ipv4View(packet).source, new Ipv4View(packet).destination);
    expect(receive(engine, packet, "eth0").logs[0]).toContain(" LEN=40 TOS=0x18 PREC=0xA0 TTL=64 ");
    expect(receive(engine, packet, "eth0").logs[0]).toContain(" WINDOW=65535 RES=0x3c SYN URGP=0 ");
  });

  it("logs UDP with its length, and OUT= but no IN= for a packet the host sends", () => {
    const engine = logging(["iptables -A OUTPUT -j LOG --log-prefix 'out: '"]);
    const packet = buildUdp({ src: "203.0.113.1", dst: "198.51.100.7", sport: 5353, dport: 53, payload: "hello", id: 1 });
    expect(send(engine, packet).logs).toEqual([
      "out: IN= OUT=eth0 SRC=203.0.113.1 DST=198.51.100.7 LEN=33 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=5353 DPT=53 LEN=13 ",
    ]);
  });

  it("names both interfaces when forwarding, in FORWARD and in POSTROUTING", () => {
    const engine = logging(["iptables -A FORWARD -j LOG --log-prefix 'fw '", "iptables -t mangle -A POSTROUTING -j LOG --log-prefix 'post '"]);
    const packet = buildUdp({ src: "10.0.0.5", dst: "198.51.100.7", sport: 1, dport: 2, ttl: 10 });
    const out = receive(engine, packet, "eth1");
    expect(out.accepted).toBe(true);
    expect(out.logs).toEqual([
      "fw IN=eth1 OUT=eth0 SRC=10.0.0.5 DST=198.51.100.7 LEN=28 TOS=0x00 PREC=0x00 TTL=9 ID=0 PROTO=UDP SPT=1 DPT=2 LEN=8 ",
      "post IN=eth1 OUT=eth0 SRC=10.0.0.5 DST=198.51.100.7 LEN=28 TOS=0x00 PREC=0x00 TTL=9 ID=0 PROTO=UDP SPT=1 DPT=2 LEN=8 ",
    ]);
  });

  it("logs an echo request with its ID and SEQ", () => {
    const engine = logging(["iptables -A INPUT -p icmp -j LOG"]);
    const echo = buildIcmpEcho({ src: "198.51.100.7", dst: "203.0.113.1", identifier: 300, sequence: 2, payload: "ping", id: 9 });
    expect(receive(engine, echo, "eth0").logs[0]).toBe(
      "IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=9 PROTO=ICMP TYPE=8 CODE=0 ID=300 SEQ=2 ",
    );
  });

  it("logs the packet an ICMP error quotes between brackets, with MTU= for fragmentation needed", () => {
    const engine = logging(["iptables -A INPUT -p icmp -j LOG"]);
    const quoted = buildUdp({ src: "203.0.113.1", dst: "198.51.100.7", sport: 40000, dport: 53, payload: "q", id: 5 });
    const error = buildIcmpError(3, 4, quoted, { src: "198.51.100.1", rest: 1400, id: 6, tos: 0xc0 });
    expect(receive(engine, error, "eth0").logs[0]).toBe(
      "IN=eth0 OUT= SRC=198.51.100.1 DST=203.0.113.1 LEN=57 TOS=0x00 PREC=0xC0 TTL=64 ID=6 PROTO=ICMP TYPE=3 CODE=4 " +
        "[SRC=203.0.113.1 DST=198.51.100.7 LEN=29 TOS=0x00 PREC=0x00 TTL=64 ID=5 PROTO=UDP SPT=40000 DPT=53 LEN=9 ] MTU=1400 ",
    );
  });

  it("says INCOMPLETE where the headers are cut short", () => {
    const engine = logging(["iptables -A INPUT -p icmp -j LOG"]);
    // A destination-unreachable of 12 bytes: less than the 28 the kernel wants to show the quote.
    const short = buildIcmpError(3, 1, syn(), { src: "198.51.100.1", dst: "203.0.113.1", quoteLength: 4, id: 1, tos: 0 });
    expect(receive(engine, short, "eth0").logs[0]).toBe(
      "IN=eth0 OUT= SRC=198.51.100.1 DST=203.0.113.1 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=1 INCOMPLETE [12 bytes] ",
    );
    // A quote whose TCP header is cut: the quoted part ends there, the line goes on after "]".
    const quoteCut = buildIcmpError(3, 3, syn(), { src: "198.51.100.1", dst: "203.0.113.1", quoteLength: 28, id: 1, tos: 0 });
    expect(receive(engine, quoteCut, "eth0").logs[0]).toBe(
      "IN=eth0 OUT= SRC=198.51.100.1 DST=203.0.113.1 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 " +
        "[SRC=198.51.100.7 DST=203.0.113.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF PROTO=TCP INCOMPLETE [8 bytes] ] ",
    );
  });

  it("logs fragments with MF and FRAG:, and no ports after the first", () => {
    const engine = logging(["iptables -A INPUT -j LOG"]);
    const later = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 6, fragmentOffset: 185, mf: true, id: 77, payload: new Uint8Array(8) });
    expect(receive(engine, later, "eth0").logs[0]).toBe(
      "IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=77 MF FRAG:185 PROTO=TCP ",
    );
  });

  it("prints the CE (evil) bit", () => {
    const engine = logging(["iptables -A INPUT -j LOG"]);
    const packet = buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 1, dport: 2 });
    new Ipv4View(packet).setFlagsFragment(0xc000);
    expect(receive(engine, packet, "eth0").logs[0]).toContain(" ID=0 CE DF PROTO=UDP ");
  });

  it("names other protocols by number, AH and ESP with their SPI", () => {
    const engine = logging(["iptables -A INPUT -j LOG"]);
    const head = "IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1";
    const gre = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 47, payload: new Uint8Array(4) });
    expect(receive(engine, gre, "eth0").logs[0]).toBe(`${head} LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=47 `);
    const esp = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 50, payload: [0xf1, 0x23, 0x45, 0x67, 0, 0, 0, 1] });
    expect(receive(engine, esp, "eth0").logs[0]).toBe(`${head} LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=ESP SPI=0xf1234567 `);
    const ah = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 51, payload: [4, 1, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1] });
    expect(receive(engine, ah, "eth0").logs[0]).toBe(`${head} LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=AH SPI=0x1001 `);
    const shortEsp = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 50, payload: [1, 2] });
    expect(receive(engine, shortEsp, "eth0").logs[0]).toBe(`${head} LEN=22 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=ESP INCOMPLETE [2 bytes] `);
  });

  it("shows the packet's mark, set by MARK earlier on its way", () => {
    const engine = logging(["iptables -t mangle -A PREROUTING -j MARK --set-mark 0x2a", "iptables -A INPUT -j LOG"]);
    expect(receive(engine, syn(), "eth0").logs[0]).toMatch(/ SYN URGP=0 MARK=0x2a $/);
  });

  it("writes one line per LOG rule met, in order, including in user chains", () => {
    const engine = logging([
      "iptables -N logdrop",
      "iptables -A logdrop -j LOG --log-prefix 'b '",
      "iptables -A logdrop -j DROP",
      "iptables -A INPUT -j LOG --log-prefix 'a '",
      "iptables -A INPUT -p tcp --dport 22 -j logdrop",
    ]);
    const out = receive(engine, syn(), "eth0");
    expect(out.logs.map((l) => l.slice(0, 2))).toEqual(["a ", "b "]);
    expect(out.accepted).toBe(false);
  });
});

describe("NFLOG", () => {
  it("writes a line with the group, the prefix and LOG's fields, and lets the walk go on", () => {
    const engine = logging(["iptables -A INPUT -j NFLOG --nflog-group 5 --nflog-prefix 'ssh in'"]);
    const out = receive(engine, syn(), "eth0");
    expect(out.accepted).toBe(true);
    expect(out.logs).toEqual([
      'NFLOG group=5 prefix="ssh in" IN=eth0 OUT= SRC=198.51.100.7 DST=203.0.113.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=65535 RES=0x00 SYN URGP=0 ',
    ]);
  });

  it("leaves the prefix out when none was given", () => {
    const engine = logging(["iptables -A OUTPUT -j NFLOG --nflog-size 64"]);
    const packet = buildUdp({ src: "203.0.113.1", dst: "198.51.100.7", sport: 5353, dport: 53 });
    expect(send(engine, packet).logs).toEqual([
      "NFLOG group=0 IN= OUT=eth0 SRC=203.0.113.1 DST=198.51.100.7 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP SPT=5353 DPT=53 LEN=8 ",
    ]);
  });
});
