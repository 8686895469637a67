// Conntrack's vocabulary, with the kernel's numeric values (uapi nf_conntrack_common.h,
// nf_conntrack_tcp.h), so matches compiled from iptables rules can test bits directly.

/** ctinfo as iptables' --ctstate sees it (XT_CONNTRACK_STATE_* bits). */
export const CtState = {
  INVALID: 1 << 0,
  ESTABLISHED: 1 << 1,
  RELATED: 1 << 2,
  NEW: 1 << 3,
  UNTRACKED: 1 << 8,
  /** Pseudo-states of -m conntrack: the connection is source / destination NATed. */
  SNAT: 1 << 6,
  DNAT: 1 << 7,
} as const;

/** ct->status bits (IPS_*). */
export const CtStatus = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  SEQ_ADJUST: 1 << 6,
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
  DYING: 1 << 9,
  FIXED_TIMEOUT: 1 << 10,
} as const;

export const enum Direction {
  Original = 0,
  Reply = 1,
}

/** TCP conntrack states, in the kernel's order (enum tcp_conntrack). */
export const enum TcpState {
  None = 0,
  SynSent = 1,
  SynRecv = 2,
  Established = 3,
  FinWait = 4,
  CloseWait = 5,
  LastAck = 6,
  TimeWait = 7,
  Close = 8,
  SynSent2 = 9,
  /** Not a state: the packet is invalid for the connection. */
  Invalid = 10,
  /** Not a state: the packet is ignored (does not change the state). */
  Ignore = 11,
}

export const TCP_STATE_NAMES = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
] as const;
