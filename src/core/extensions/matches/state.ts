// -m state: the connection-tracking state of the packet (iptables' libxt_state, which iptables 1.8.9
// hands to the kernel as an alias of xt_conntrack; iptables-save still prints `-m state --state`).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { bang } from "../format.ts";
import {
  CT_STATE_ESTABLISHED,
  CT_STATE_INVALID,
  CT_STATE_NEW,
  CT_STATE_PRINT_ORDER,
  CT_STATE_RELATED,
  CT_STATE_UNTRACKED,
  formatNameList,
  parseNameList,
} from "./conntrack.ts";

export interface StateMatch {
  /** CT_STATE_* bits (the conntrack match's values: UNTRACKED is 1 << 8). */
  stateMask: number;
  inverted: boolean;
  given: boolean;
}

/** The states --state knows, in the order iptables tries abbreviations (no SNAT/DNAT here). */
const STATE_NAMES: readonly (readonly [string, number])[] = [
  ["INVALID", CT_STATE_INVALID],
  ["NEW", CT_STATE_NEW],
  ["ESTABLISHED", CT_STATE_ESTABLISHED],
  ["RELATED", CT_STATE_RELATED],
  ["UNTRACKED", CT_STATE_UNTRACKED],
];

export const stateMatch = defineMatch<StateMatch>({
  name: "state",
  // xt_conntrack's checkentry takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  options: [{ name: "state", hasArg: true, invertible: true }],
  init: () => ({ stateMask: 0, inverted: false, given: false }),
  // iptables-nft gives -m state to the kernel as xt_conntrack's state test: the packet's state bit
  // against the mask, inverted by `!`.
  compile(data) {
    const mask = data.stateMask;
    const inverted = data.inverted;
    return (ctx) => ((mask & ctx.ctState) !== 0) !== inverted;
  },
  parse(data, _option, arg, inverted) {
    data.stateMask = parseNameList(arg!, STATE_NAMES, {
      middle: (rest) => `Bad state "${rest}"`,
      last: (word) => `Bad state "${word}"`,
      emptyLast: `"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED`,
    });
    data.inverted = inverted;
    data.given = true;
  },
  finalCheck(data) {
    if (!data.given) throw new ParameterProblem(`state: option "--state" must be specified\n`);
  },
  save: (data) => `${bang(data.inverted)}--state ${formatNameList(data.stateMask, CT_STATE_PRINT_ORDER)}`,
  print: (data) => `${bang(data.inverted)}state ${formatNameList(data.stateMask, CT_STATE_PRINT_ORDER)}`,
});
