// -j REJECT against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: iptables-save text, `iptables -L` lines, refusals and exit codes.
import { describe, expect, it } from "vitest";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import {
  IPT_ICMP_HOST_PROHIBITED,
  IPT_ICMP_PORT_UNREACHABLE,
  IPT_TCP_RESET,
  type RejectTarget,
} from "../../../../src/core/extensions/targets/REJECT.ts";
import { acceptedRows, appended, expectedStderr, refusedRows, savedRules, targetData } from "./xt-cases.ts";

acceptedRows("REJECT accepted as iptables accepts it", [
  ["filter", "INPUT", ["-j","REJECT"], "-j REJECT --reject-with icmp-port-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-port-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-net-unreachable"], "-j REJECT --reject-with icmp-net-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-net-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-net-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","net-unreach"], "-j REJECT --reject-with icmp-net-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-net-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-net-unreachable"],
  ["filter", "FORWARD", ["-j","REJECT","--reject-with","icmp-host-unreachable"], "-j REJECT --reject-with icmp-host-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-host-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-host-unreachable"],
  ["filter", "OUTPUT", ["-j","REJECT","--reject-with","host-unreach"], "-j REJECT --reject-with icmp-host-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-host-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-host-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-proto-unreachable"], "-j REJECT --reject-with icmp-proto-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-proto-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-proto-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","proto-unreach"], "-j REJECT --reject-with icmp-proto-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-proto-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-proto-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-port-unreachable"], "-j REJECT --reject-with icmp-port-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-port-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","port-unreach"], "-j REJECT --reject-with icmp-port-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-port-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-net-prohibited"], "-j REJECT --reject-with icmp-net-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-net-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-net-prohibited"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","net-prohib"], "-j REJECT --reject-with icmp-net-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-net-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-net-prohibited"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-host-prohibited"], "-j REJECT --reject-with icmp-host-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-host-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-host-prohibited"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","host-prohib"], "-j REJECT --reject-with icmp-host-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-host-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-host-prohibited"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-admin-prohibited"], "-j REJECT --reject-with icmp-admin-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-admin-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-admin-prohibited"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","admin-prohib"], "-j REJECT --reject-with icmp-admin-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-admin-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-admin-prohibited"],
  ["filter", "INPUT", ["-p","tcp","-j","REJECT","--reject-with","tcp-reset"], "-p tcp -j REJECT --reject-with tcp-reset", "REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset", "REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset"],
  ["filter", "INPUT", ["-p","tcp","-j","REJECT","--reject-with","tcp-rst"], "-p tcp -j REJECT --reject-with tcp-reset", "REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset", "REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","ICMP-Host-Prohibited"], "-j REJECT --reject-with icmp-host-prohibited", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-host-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp-host-prohibited"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-p"], "-j REJECT --reject-with icmp-proto-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-proto-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-proto-unreachable"],
  ["filter", "INPUT", ["-j","REJECT","--reject-with",""], "-j REJECT --reject-with icmp-net-unreachable", "REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-net-unreachable", "REJECT     all  --  anywhere             anywhere             reject-with icmp-net-unreachable"],
  ["filter", "INPUT", ["-p","tcp","-j","REJECT","--reject-with","tcp"], "-p tcp -j REJECT --reject-with tcp-reset", "REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset", "REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset"],
  ["filter", "INPUT", ["-p","tcp","-j","REJECT","--reject","tcp-reset"], "-p tcp -j REJECT --reject-with tcp-reset", "REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset", "REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset"],
]);

refusedRows("REJECT refused as iptables refuses it", [
  ["filter", "INPUT", ["--reject-with","tcp-reset","-j","REJECT","-p","tcp"], "unknown option \"--reject-with\"\n", 2],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","bogus"], "unknown reject type \"bogus\"\n", 2],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp6-port-unreachable"], "unknown reject type \"icmp6-port-unreachable\"\n", 2],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","icmp-admin-prohibitedX"], "unknown reject type \"icmp-admin-prohibitedX\"\n", 2],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","port-unreach","--reject-with","port-unreach"], "REJECT: option \"--reject-with\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","REJECT","!","--reject-with","port-unreach"], "REJECT: option \"--reject-with\" cannot be inverted.\n\n", 2],
  ["filter", "INPUT", ["-j","REJECT","--reject-with"], "option \"--reject-with\" requires an argument\n", 2],
  ["filter", "INPUT", ["-j","REJECT","--reject-with","tcp-reset"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["filter", "INPUT", ["!","-p","tcp","-j","REJECT","--reject-with","tcp-reset"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["filter", "FORWARD", ["-p","udp","-j","REJECT","--reject-with","tcp-rst"], " RULE_APPEND failed (Invalid argument): rule in chain FORWARD\n", 4],
  ["mangle", "INPUT", ["-j","REJECT"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["nat", "PREROUTING", ["-j","REJECT"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
  ["raw", "OUTPUT", ["-j","REJECT"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
]);

describe("REJECT data and kernel checks", () => {
  it("keeps the reply type as the kernel's enum value", () => {
    const rules = appended("filter", "INPUT", ["-j", "REJECT"]);
    expect(targetData<RejectTarget>(rules, "filter", "INPUT").with).toBe(IPT_ICMP_PORT_UNREACHABLE);
    const tcp = appended("filter", "INPUT", ["-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-rst"]);
    expect(targetData<RejectTarget>(tcp, "filter", "INPUT")).toEqual({ with: IPT_TCP_RESET });
    const prohib = appended("filter", "INPUT", ["-j", "REJECT", "--reject-with", "host-prohib"]);
    expect(targetData<RejectTarget>(prohib, "filter", "INPUT").with).toBe(IPT_ICMP_HOST_PROHIBITED);
  });

  // The kernel checks tcp-reset against -p when the rule is added (checkentry), wherever it sits.
  it("checks tcp-reset in a user chain even when nothing jumps to it", () => {
    const rules = appended("filter", "INPUT", ["-j", "ACCEPT"], [["-N", "USR"]]);
    const out = runIptables(rules, ["-A", "USR", "-p", "udp", "-j", "REJECT", "--reject-with", "tcp-reset"]);
    expect(out.stderr).toBe(expectedStderr(" RULE_APPEND failed (Invalid argument): rule in chain USR\n", 4));
    expect(out.exitCode).toBe(4);
    expect(savedRules(rules, "filter")).toEqual(["-A INPUT -j ACCEPT"]);
  });

  it("accepts -p tcp after the target", () => {
    const rules = appended("filter", "OUTPUT", ["-j", "REJECT", "--reject-with", "tcp-reset", "-p", "tcp"]);
    expect(savedRules(rules, "filter")).toEqual(["-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset"]);
  });
});
