// The kernel's TCP state table, spot-checked transition by transition.
import { describe, expect, it } from "vitest";
import { tcpFlagClass, tcpFlagsValid, tcpNewState, tcpTransition, TcpFlagClass } from "../../../src/core/conntrack/tcp-tracker.ts";
import { Direction, TcpState } from "../../../src/core/conntrack/states.ts";

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;

describe("TCP tracker", () => {
  it("classifies segments as get_conntrack_index does", () => {
    expect(tcpFlagClass(SYN)).toBe(TcpFlagClass.Syn);
    expect(tcpFlagClass(SYN | ACK)).toBe(TcpFlagClass.SynAck);
    expect(tcpFlagClass(FIN | ACK)).toBe(TcpFlagClass.Fin);
    expect(tcpFlagClass(RST | ACK)).toBe(TcpFlagClass.Rst);
    expect(tcpFlagClass(PSH | ACK)).toBe(TcpFlagClass.Ack);
    expect(tcpFlagClass(0)).toBe(TcpFlagClass.None);
  });

  it("accepts only the flag combinations tcp_error accepts", () => {
    for (const ok of [SYN, SYN | ACK, RST, RST | ACK, FIN | ACK, ACK, ACK | PSH]) expect(tcpFlagsValid(ok)).toBe(true);
    for (const bad of [0, FIN, SYN | FIN, SYN | RST, FIN | RST | ACK, 0x3f]) expect(tcpFlagsValid(bad)).toBe(false);
  });

  it("walks the three-way handshake and both closes", () => {
    let s = tcpNewState(SYN);
    expect(s).toBe(TcpState.SynSent);
    s = tcpTransition(Direction.Reply, TcpFlagClass.SynAck, s);
    expect(s).toBe(TcpState.SynRecv);
    s = tcpTransition(Direction.Original, TcpFlagClass.Ack, s);
    expect(s).toBe(TcpState.Established);
    s = tcpTransition(Direction.Original, TcpFlagClass.Fin, s);
    expect(s).toBe(TcpState.FinWait);
    s = tcpTransition(Direction.Reply, TcpFlagClass.Ack, s);
    expect(s).toBe(TcpState.CloseWait);
    s = tcpTransition(Direction.Reply, TcpFlagClass.Fin, s);
    expect(s).toBe(TcpState.LastAck);
    s = tcpTransition(Direction.Original, TcpFlagClass.Ack, s);
    expect(s).toBe(TcpState.TimeWait);
    expect(tcpTransition(Direction.Original, TcpFlagClass.Rst, TcpState.Established)).toBe(TcpState.Close);
  });

  it("picks up a connection mid-stream only when loose, and never from a bare FIN or SYN/ACK", () => {
    expect(tcpNewState(ACK)).toBe(TcpState.Established);
    expect(tcpNewState(ACK, false)).toBe(TcpState.Invalid);
    expect(tcpNewState(FIN | ACK)).toBe(TcpState.Invalid);
    expect(tcpNewState(SYN | ACK)).toBe(TcpState.Invalid);
    expect(tcpNewState(RST)).toBe(TcpState.Invalid);
  });

  it("treats a simultaneous open (SYN from the reply side) as SYN_SENT2 and ignores stray SYN/ACKs", () => {
    expect(tcpTransition(Direction.Reply, TcpFlagClass.Syn, TcpState.SynSent)).toBe(TcpState.SynSent2);
    expect(tcpTransition(Direction.Reply, TcpFlagClass.SynAck, TcpState.Established)).toBe(TcpState.Ignore);
    expect(tcpTransition(Direction.Original, TcpFlagClass.SynAck, TcpState.SynSent)).toBe(TcpState.Invalid);
  });
});
