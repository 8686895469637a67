// Default timeouts of the kernel's trackers (nf_conntrack_proto_*.c), in milliseconds.
import { TcpState } from "./states.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

export interface Timeouts {
  /** Indexed by TcpState. */
  readonly tcp: readonly number[];
  /** nf_conntrack_tcp_timeout_unacknowledged / max_retrans: cap while data is unacknowledged. */
  readonly tcpUnacknowledged: number;
  readonly udpUnreplied: number;
  /** Once replies were seen both ways (a "stream"). */
  readonly udpStream: number;
  readonly icmp: number;
  readonly generic: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  tcp: [
    /* None */ 0,
    /* SynSent */ 2 * MINUTE,
    /* SynRecv */ 60 * SECOND,
    /* Established */ 5 * DAY,
    /* FinWait */ 2 * MINUTE,
    /* CloseWait */ 60 * SECOND,
    /* LastAck */ 30 * SECOND,
    /* TimeWait */ 2 * MINUTE,
    /* Close */ 10 * SECOND,
    /* SynSent2 */ 2 * MINUTE,
  ],
  tcpUnacknowledged: 5 * MINUTE,
  udpUnreplied: 30 * SECOND,
  udpStream: 120 * SECOND,
  icmp: 30 * SECOND,
  generic: 600 * SECOND,
};

export function tcpTimeout(timeouts: Timeouts, state: TcpState): number {
  return timeouts.tcp[state] ?? timeouts.generic;
}
