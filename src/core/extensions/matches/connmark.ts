// -m connmark: the mark of the packet's connection, under a mask
// (iptables' libxt_connmark revision 1, the kernel's xt_connmark).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { formatMarkMask, parseMarkMask, type MarkMatch } from "./mark.ts";

export type ConnmarkMatch = MarkMatch;

export const connmarkMatch = defineMatch<ConnmarkMatch>({
  name: "connmark",
  // connmark_mt_check takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  options: [{ name: "mark", hasArg: true, invertible: true }],
  init: () => ({ value: 0, mask: 0xffffffff, inverted: false, given: false }),
  parse(data, option, arg, inverted) {
    Object.assign(data, parseMarkMask(arg!, "connmark", option));
    data.inverted = inverted;
    data.given = true;
  },
  finalCheck(data) {
    if (!data.given) throw new ParameterProblem(`connmark: option "--mark" must be specified\n`);
  },
  compile(data) {
    // xt_connmark's connmark_mt: (ct->mark & mask) == value, `!` inverting. A packet without a
    // connection (untracked, INVALID, a later fragment) has no mark to test: it never matches,
    // not even an inverted --mark.
    const value = data.value >>> 0, mask = data.mask >>> 0, inverted = data.inverted;
    return (ctx) => {
      const id = ctx.ctId;
      if (id < 0) return false;
      return (((ctx.conntrack.mark(id) & mask) >>> 0) === value) !== inverted;
    };
  },
  save: (data) => `${data.inverted ? "! " : ""}--mark ${formatMarkMask(data.value, data.mask)}`,
  // Unlike -m mark, iptables always leaves room for the "!": "connmark match  0x1".
  print: (data) => `connmark match ${data.inverted ? "!" : ""} ${formatMarkMask(data.value, data.mask)}`,
});
