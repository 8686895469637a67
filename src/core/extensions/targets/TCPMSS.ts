// -j TCPMSS: rewrite the MSS option of TCP SYN packets, to a value or to the path MTU minus 40
// (libxt_TCPMSS, xt_TCPMSS). TCP rules only; clamping only where the route is known.
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_TCP } from "../../net/protocols.ts";
import type { Hook } from "../../rules/hooks.ts";
import { defineTarget } from "../extension.ts";
import { parseIntegerOption } from "./xtables-numbers.ts";

/** XT_TCPMSS_CLAMP_PMTU: the mss value that means --clamp-mss-to-pmtu. */
export const XT_TCPMSS_CLAMP_PMTU = 0xffff;
/** The largest --set-mss for IPv4: 65535 less an IP header. */
export const TCPMSS_MAX = 0xffff - 20;

/** The hooks --clamp-mss-to-pmtu works in (the others have no route yet). */
const CLAMP_HOOKS: readonly Hook[] = ["FORWARD", "OUTPUT", "POSTROUTING"];

/** struct xt_tcpmss_info, plus what the checks need. */
export interface TcpmssTarget {
  mss: number;
  /** Whether --set-mss or --clamp-mss-to-pmtu was given. */
  given: boolean;
  /** The rule's -p as the kernel's check sees it: the protocol number, 0 for none or when inverted. */
  entryProtocol: number;
}

export const tcpmssTarget = defineTarget<TcpmssTarget>({
  name: "TCPMSS",
  options: [
    { name: "set-mss", hasArg: true },
    { name: "clamp-mss-to-pmtu", hasArg: false },
  ],
  init: () => ({ mss: 0, given: false, entryProtocol: 0 }),
  parse(data, option, arg) {
    // Both may be given; the later one wins.
    data.mss = option === "set-mss" ? parseIntegerOption("TCPMSS", option, arg!, 0, TCPMSS_MAX) : XT_TCPMSS_CLAMP_PMTU;
    data.given = true;
  },
  finalCheck(data, ctx) {
    if (!data.given) throw new ParameterProblem("TCPMSS target: At least one parameter is required");
    data.entryProtocol = ctx.protocolInverted ? 0 : ctx.protocol;
  },
  save: (data) => (data.mss === XT_TCPMSS_CLAMP_PMTU ? "--clamp-mss-to-pmtu" : `--set-mss ${data.mss}`),
  print: (data) => (data.mss === XT_TCPMSS_CLAMP_PMTU ? "TCPMSS clamp to PMTU" : `TCPMSS set ${data.mss}`),
  checkHooks(data, hooks) {
    if (data.entryProtocol !== IPPROTO_TCP) return "TCPMSS is only valid with -p tcp";
    if (data.mss === XT_TCPMSS_CLAMP_PMTU && [...hooks].some((h) => !CLAMP_HOOKS.includes(h))) {
      return "TCPMSS --clamp-mss-to-pmtu only works from FORWARD, OUTPUT and POSTROUTING";
    }
    return null;
  },
});
