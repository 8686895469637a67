// TCP connection tracking: the kernel's state table (nf_conntrack_proto_tcp.c, tcp_conntracks[][][])
// indexed by direction, the segment's flag class and the current state. Window tracking is not done
// (as with nf_conntrack_tcp_be_liberal=1): every in-state segment is accepted.
import { Direction, TcpState } from "./states.ts";

/** The flag class of a segment (the kernel's get_conntrack_index). */
export const enum TcpFlagClass {
  Syn = 0,
  SynAck = 1,
  Fin = 2,
  Ack = 3,
  Rst = 4,
  None = 5,
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const URG = 0x20;
const ECE = 0x40;
const CWR = 0x80;

export function tcpFlagClass(flags: number): TcpFlagClass {
  if (flags & RST) return TcpFlagClass.Rst;
  if (flags & SYN) return flags & ACK ? TcpFlagClass.SynAck : TcpFlagClass.Syn;
  if (flags & FIN) return TcpFlagClass.Fin;
  if (flags & ACK) return TcpFlagClass.Ack;
  return TcpFlagClass.None;
}

/** Flag combinations the kernel accepts (tcp_error's tcp_valid_flags), ECE/CWR/PSH aside. */
export function tcpFlagsValid(flags: number): boolean {
  const f = flags & ~(ECE | CWR | PSH);
  switch (f) {
    case SYN:
    case SYN | URG:
    case SYN | ACK:
    case RST:
    case RST | ACK:
    case FIN | ACK:
    case FIN | ACK | URG:
    case ACK:
    case ACK | URG:
      return true;
    default:
      return false;
  }
}

const sNO = TcpState.None;
const sSS = TcpState.SynSent;
const sSR = TcpState.SynRecv;
const sES = TcpState.Established;
const sFW = TcpState.FinWait;
const sCW = TcpState.CloseWait;
const sLA = TcpState.LastAck;
const sTW = TcpState.TimeWait;
const sCL = TcpState.Close;
const sS2 = TcpState.SynSent2;
const sIV = TcpState.Invalid;
const sIG = TcpState.Ignore;

// [direction][flag class][old state] -> new state. Columns: NO SS SR ES FW CW LA TW CL S2.
const TRANSITIONS: readonly (readonly (readonly TcpState[])[])[] = [
  [
    /* ORIGINAL */
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* REPLY */
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

const STATES = TRANSITIONS[0]![0]!.length;
const CLASSES = TRANSITIONS[0]!.length;
/** The same table flattened into one byte array: one indexed load per segment instead of three. */
const FLAT_TRANSITIONS = Uint8Array.from(TRANSITIONS.flat(2));

export function tcpTransition(dir: Direction, flagClass: TcpFlagClass, state: TcpState): TcpState {
  return FLAT_TRANSITIONS[(dir * CLASSES + flagClass) * STATES + state]! as TcpState;
}

/**
 * The state a new connection starts in for its first segment, or Invalid. With the kernel's default
 * nf_conntrack_tcp_loose=1 a bare ACK picks up an established connection mid-stream.
 */
export function tcpNewState(flags: number, loose = true): TcpState {
  const state = tcpTransition(Direction.Original, tcpFlagClass(flags), TcpState.None);
  if (state === TcpState.SynSent) return state;
  if (state === TcpState.Invalid || !loose) return TcpState.Invalid;
  return state;
}
