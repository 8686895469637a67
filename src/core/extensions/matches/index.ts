// Every match extension uptables knows; `-m NAME` loads the one whose name is NAME.
import type { MatchExtension } from "../extension.ts";
import { commentMatch } from "./comment.ts";
import { tcpMatch } from "./tcp.ts";

export const ALL_MATCHES: readonly MatchExtension[] = [
  commentMatch,
  tcpMatch,
];
