// Every match extension uptables knows; `-m NAME` loads the one whose name is NAME.
import type { MatchExtension } from "../extension.ts";
import { addrtypeMatch } from "./addrtype.ts";
import { commentMatch } from "./comment.ts";
import { conntrackMatch } from "./conntrack.ts";
import { stateMatch } from "./state.ts";
import { tcpMatch } from "./tcp.ts";
import { connmarkMatch } from "./connmark.ts";
import { icmpMatch } from "./icmp.ts";
import { iprangeMatch } from "./iprange.ts";
import { limitMatch } from "./limit.ts";
import { macMatch } from "./mac.ts";
import { markMatch } from "./mark.ts";
import { multiportMatch } from "./multiport.ts";
import { udpMatch } from "./udp.ts";

export const ALL_MATCHES: readonly MatchExtension[] = [
  addrtypeMatch,
  commentMatch,
  conntrackMatch,
  stateMatch,
  tcpMatch,
  connmarkMatch,
  icmpMatch,
  iprangeMatch,
  limitMatch,
  macMatch,
  markMatch,
  multiportMatch,
  udpMatch,
];
