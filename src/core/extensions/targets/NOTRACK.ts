// -j NOTRACK: the old name of `-j CT --notrack` (libxt_CT's alias, xt_CT revision 2). It takes no
// options; iptables-save keeps the name NOTRACK, and `iptables -L` lists it as "CT ... NOTRACK"
// (its real name in the target column).
import { defineTarget } from "../extension.ts";
import { CT_HOOKS, CT_TABLES, XT_CT_NOTRACK, XT_CT_NOTRACK_ALIAS, compileCt, ctUsesConntrack, newCtTarget, printCt, saveCt, type CtTarget } from "./CT.ts";

export type NotrackTarget = CtTarget;

export const notrackTarget = defineTarget<NotrackTarget>({
  name: "NOTRACK",
  realName: "CT",
  options: [],
  init: () => newCtTarget(XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS),
  parse() {},
  compile: compileCt,
  save: saveCt,
  print: printCt,
  tables: CT_TABLES,
  hooks: CT_HOOKS,
  usesConntrack: ctUsesConntrack,
});
