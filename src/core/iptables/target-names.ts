// Names iptables takes as targets rather than chains. `-N NAME` is refused when NAME is one
// ("chain name may not clash with target name"), even for targets uptables does not implement:
// iptables asks libxtables, which knows every target extension installed with iptables 1.8.9.
import { findTarget } from "../extensions/registry.ts";

/** The standard target's names: a verdict (or no target at all, ""). */
const STANDARD = ["", "ACCEPT", "DROP", "QUEUE", "RETURN", "standard"];

/** The verdict names, which no chain may take whoever asks (iptables-restore's ":CHAIN" lines ask only this). */
const VERDICTS = new Set(["ACCEPT", "DROP", "QUEUE", "RETURN"]);

/** Target extensions shipped with iptables 1.8.9 for IPv4 (libxt_*.so, libipt_*.so). */
const IPTABLES_TARGETS = [
  "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DSCP", "ECN",
  "HMARK", "IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK",
  "RATEEST", "REDIRECT", "REJECT", "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE",
  "TOS", "TPROXY", "TRACE", "TTL", "ULOG",
];

const KNOWN = new Set([...STANDARD, ...IPTABLES_TARGETS]);

/** Whether iptables would find a target called `name` (xtables_find_target with XTF_TRY_LOAD). */
export function isTargetName(name: string): boolean {
  return KNOWN.has(name) || findTarget(name) !== undefined;
}

/** Whether `name` is a verdict of the standard target (ACCEPT, DROP, QUEUE, RETURN). */
export function isStandardTargetName(name: string): boolean {
  return VERDICTS.has(name);
}
