// Every target extension uptables knows; `-j NAME` loads the one whose name is NAME
// (ACCEPT, DROP and RETURN are the standard verdicts, and other names are user chains).
import type { TargetExtension } from "../extension.ts";
import { dnatTarget } from "./DNAT.ts";
import { masqueradeTarget } from "./MASQUERADE.ts";
import { redirectTarget } from "./REDIRECT.ts";
import { snatTarget } from "./SNAT.ts";
import { checksumTarget } from "./CHECKSUM.ts";
import { ctTarget } from "./CT.ts";
import { logTarget } from "./LOG.ts";
import { markTarget } from "./MARK.ts";
import { nflogTarget } from "./NFLOG.ts";
import { notrackTarget } from "./NOTRACK.ts";
import { rejectTarget } from "./REJECT.ts";
import { tcpmssTarget } from "./TCPMSS.ts";
import { traceTarget } from "./TRACE.ts";

export const ALL_TARGETS: readonly TargetExtension[] = [
  dnatTarget,
  snatTarget,
  masqueradeTarget,
  redirectTarget,
  rejectTarget,
  logTarget,
  markTarget,
  traceTarget,
  checksumTarget,
  ctTarget,
  notrackTarget,
  nflogTarget,
  tcpmssTarget,
];
