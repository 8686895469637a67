// -j CT against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: raw table only (PREROUTING, OUTPUT), helpers checked against the rule's -p.
import { describe, expect, it } from "vitest";
import {
  XT_CT_NOTRACK,
  XT_CT_ZONE_DIR_ORIG,
  XT_CT_ZONE_DIR_REPL,
  XT_CT_ZONE_MARK,
  type CtTarget,
} from "../../../../src/core/extensions/targets/CT.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { acceptedRows, appended, refusedRows, savedRules, TAG, targetData } from "./xt-cases.ts";

acceptedRows("CT accepted as iptables accepts it", [
  ["raw", "PREROUTING", ["-j","CT","--notrack"], "-j CT --notrack", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack", "CT         all  --  anywhere             anywhere             CT notrack"],
  ["raw", "OUTPUT", ["-j","CT","--notrack"], "-j CT --notrack", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack", "CT         all  --  anywhere             anywhere             CT notrack"],
  ["raw", "PREROUTING", ["-j","CT"], "-j CT", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT", "CT         all  --  anywhere             anywhere             CT"],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","new,related,destroy,reply,assured,protoinfo,helper,mark"], "-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT ctevents new,related,destroy,reply,assured,protoinfo,helper,mark", "CT         all  --  anywhere             anywhere             CT ctevents new,related,destroy,reply,assured,protoinfo,helper,mark"],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark"], "-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark", "CT         all  --  anywhere             anywhere             CT ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark"],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","mark,new"], "-j CT --ctevents new,mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT ctevents new,mark", "CT         all  --  anywhere             anywhere             CT ctevents new,mark"],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","new,new"], "-j CT --ctevents new", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT ctevents new", "CT         all  --  anywhere             anywhere             CT ctevents new"],
  ["raw", "PREROUTING", ["-j","CT","--expevents","new"], "-j CT --expevents new", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT expevents new", "CT         all  --  anywhere             anywhere             CT expevents new"],
  ["raw", "PREROUTING", ["-j","CT","--zone","65535"], "-j CT --zone 65535", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone 65535", "CT         all  --  anywhere             anywhere             CT zone 65535"],
  ["raw", "PREROUTING", ["-j","CT","--zone","0"], "-j CT", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT", "CT         all  --  anywhere             anywhere             CT"],
  ["raw", "PREROUTING", ["-j","CT","--zone","1"], "-j CT --zone 1", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone 1", "CT         all  --  anywhere             anywhere             CT zone 1"],
  ["raw", "PREROUTING", ["-j","CT","--zone","0x10"], "-j CT --zone 16", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone 16", "CT         all  --  anywhere             anywhere             CT zone 16"],
  ["raw", "PREROUTING", ["-j","CT","--zone","010"], "-j CT --zone 8", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone 8", "CT         all  --  anywhere             anywhere             CT zone 8"],
  ["raw", "PREROUTING", ["-j","CT","--zone"," 7"], "-j CT --zone 7", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone 7", "CT         all  --  anywhere             anywhere             CT zone 7"],
  ["raw", "PREROUTING", ["-j","CT","--zone","mark"], "-j CT --zone mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone mark", "CT         all  --  anywhere             anywhere             CT zone mark"],
  ["raw", "PREROUTING", ["-j","CT","--zone","MARK"], "-j CT --zone mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone mark", "CT         all  --  anywhere             anywhere             CT zone mark"],
  ["raw", "PREROUTING", ["-j","CT","--zone-orig","5"], "-j CT --zone-orig 5", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone-orig 5", "CT         all  --  anywhere             anywhere             CT zone-orig 5"],
  ["raw", "PREROUTING", ["-j","CT","--zone-reply","5"], "-j CT --zone-reply 5", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone-reply 5", "CT         all  --  anywhere             anywhere             CT zone-reply 5"],
  ["raw", "PREROUTING", ["-j","CT","--zone-orig","mark"], "-j CT --zone-orig mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone-orig mark", "CT         all  --  anywhere             anywhere             CT zone-orig mark"],
  ["raw", "PREROUTING", ["-j","CT","--zone-reply","0"], "-j CT", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT", "CT         all  --  anywhere             anywhere             CT"],
  ["raw", "PREROUTING", ["-j","CT","--zone","1","--zone-orig","2"], "-j CT --zone-orig 2", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone-orig 2", "CT         all  --  anywhere             anywhere             CT zone-orig 2"],
  ["raw", "PREROUTING", ["-j","CT","--zone-orig","1","--zone-reply","2"], "-j CT --zone 2", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone 2", "CT         all  --  anywhere             anywhere             CT zone 2"],
  ["raw", "PREROUTING", ["-j","CT","--zone-orig","mark","--zone","3"], "-j CT --zone-orig mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone-orig mark", "CT         all  --  anywhere             anywhere             CT zone-orig mark"],
  ["raw", "PREROUTING", ["-j","CT","--zone-reply","mark","--zone-orig","mark"], "-j CT --zone mark", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT zone mark", "CT         all  --  anywhere             anywhere             CT zone mark"],
  ["raw", "PREROUTING", ["-j","CT","--helper",""], "-j CT", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT", "CT         all  --  anywhere             anywhere             CT"],
  ["raw", "PREROUTING", ["-p","tcp","-m","tcp","--dport","1723","-j","CT","--helper","pptp"], "-p tcp -m tcp --dport 1723 -j CT --helper pptp", "CT         6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:1723 CT helper pptp", "CT         tcp  --  anywhere             anywhere             tcp dpt:1723 CT helper pptp"],
  ["raw", "PREROUTING", ["-p","udp","-m","udp","--dport","137","-j","CT","--helper","netbios-ns"], "-p udp -m udp --dport 137 -j CT --helper netbios-ns", "CT         17   --  0.0.0.0/0            0.0.0.0/0            udp dpt:137 CT helper netbios-ns", "CT         udp  --  anywhere             anywhere             udp dpt:netbios-ns CT helper netbios-ns"],
  ["raw", "PREROUTING", ["-p","tcp","-j","CT","--helper","ftp"], "-p tcp -j CT --helper ftp", "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT helper ftp", "CT         tcp  --  anywhere             anywhere             CT helper ftp"],
  ["raw", "OUTPUT", ["-p","tcp","-j","CT","--helper","irc"], "-p tcp -j CT --helper irc", "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT helper irc", "CT         tcp  --  anywhere             anywhere             CT helper irc"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","sip"], "-p udp -j CT --helper sip", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper sip", "CT         udp  --  anywhere             anywhere             CT helper sip"],
  ["raw", "OUTPUT", ["-p","tcp","-j","CT","--helper","sip"], "-p tcp -j CT --helper sip", "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT helper sip", "CT         tcp  --  anywhere             anywhere             CT helper sip"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","RAS"], "-p udp -j CT --helper RAS", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper RAS", "CT         udp  --  anywhere             anywhere             CT helper RAS"],
  ["raw", "OUTPUT", ["-p","tcp","-j","CT","--helper","Q.931"], "-p tcp -j CT --helper Q.931", "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT helper Q.931", "CT         tcp  --  anywhere             anywhere             CT helper Q.931"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","snmp"], "-p udp -j CT --helper snmp", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper snmp", "CT         udp  --  anywhere             anywhere             CT helper snmp"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","snmp_trap"], "-p udp -j CT --helper snmp_trap", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper snmp_trap", "CT         udp  --  anywhere             anywhere             CT helper snmp_trap"],
  ["raw", "OUTPUT", ["-p","tcp","-j","CT","--helper","sane"], "-p tcp -j CT --helper sane", "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT helper sane", "CT         tcp  --  anywhere             anywhere             CT helper sane"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","tftp"], "-p udp -j CT --helper tftp", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper tftp", "CT         udp  --  anywhere             anywhere             CT helper tftp"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","amanda"], "-p udp -j CT --helper amanda", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper amanda", "CT         udp  --  anywhere             anywhere             CT helper amanda"],
  ["raw", "PREROUTING", ["-j","CT","--notrack","--helper","ftp"], "-j CT --notrack --helper ftp", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack helper ftp", "CT         all  --  anywhere             anywhere             CT notrack helper ftp"],
  ["raw", "PREROUTING", ["-j","CT","--notrack","--zone","3"], "-j CT --notrack --zone 3", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack zone 3", "CT         all  --  anywhere             anywhere             CT notrack zone 3"],
  ["raw", "PREROUTING", ["-j","CT","--notrack","--helper","12345678901234567890"], "-j CT --notrack --helper 123456789012345", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack helper 123456789012345", "CT         all  --  anywhere             anywhere             CT notrack helper 123456789012345"],
  ["raw", "PREROUTING", ["-j","CT","--notrack","--timeout","abcdefgh"], "-j CT --notrack --timeout abcd", "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack timeout abcd", "CT         all  --  anywhere             anywhere             CT notrack timeout abcd"],
  ["raw", "OUTPUT", ["-p","tcp","-j","CT","--timeout","x","--notrack"], "-p tcp -j CT --notrack --timeout x", "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT notrack timeout x", "CT         tcp  --  anywhere             anywhere             CT notrack timeout x"],
  ["raw", "OUTPUT", ["-p","udp","-j","CT","--helper","tftp","--ctevents","related,new","--expevents","new","--zone-reply","mark"], "-p udp -j CT --helper tftp --ctevents new,related --expevents new --zone-reply mark", "CT         17   --  0.0.0.0/0            0.0.0.0/0            CT helper tftp ctevents new,related expevents new zone-reply mark", "CT         udp  --  anywhere             anywhere             CT helper tftp ctevents new,related expevents new zone-reply mark"],
]);

refusedRows("CT refused as iptables refuses it", [
  ["raw", "PREROUTING", ["-j","CT","--zone","65536"], "Cannot parse 65536 as a zone ID\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--zone","-1"], "Cannot parse -1 as a zone ID\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--zone","abc"], "Cannot parse abc as a zone ID\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--zone",""], "Cannot parse  as a zone ID\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","bogus"], "Unknown event type \"bogus\"\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","new,"], "Unknown event type \"\"\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--ctevents",""], "Unknown event type \"\"\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","NEW"], "Unknown event type \"NEW\"\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--expevents","related"], "Unknown event type \"related\"\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--notrack","--notrack"], "CT: option \"--notrack\" can only be used once.\n\n", 2],
  ["raw", "PREROUTING", ["-j","CT","!","--notrack"], "CT: option \"--notrack\" cannot be inverted.\n\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--ctevents","new","--ctevents","mark"], "CT: option \"--ctevents\" can only be used once.\n\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--zone","1","--zone","2"], "CT: option \"--zone\" can only be used once.\n\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--zone-orig","1","--zone-orig","2"], "CT: option \"--zone-orig\" can only be used once.\n\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--zo","3"], "unknown option \"--zo\"\n", 2],
  ["raw", "PREROUTING", ["--notrack","-j","CT"], "unknown option \"--notrack\"\n", 2],
  ["raw", "PREROUTING", ["-j","CT","--timeout","test"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
  ["filter", "INPUT", ["-j","CT","--notrack"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["filter", "OUTPUT", ["-j","CT","--zone","1"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
  ["mangle", "PREROUTING", ["-j","CT","--notrack"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
  ["mangle", "OUTPUT", ["-j","CT","--notrack"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
  ["nat", "OUTPUT", ["-j","CT","--notrack"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
]);

describe("CT data", () => {
  it("keeps flags, zone, events and names as xt_ct_target_info_v1 does", () => {
    const rules = appended("raw", "OUTPUT", ["-p", "udp", "-j", "CT", "--helper", "tftp", "--ctevents", "related,new", "--expevents", "new", "--zone-reply", "mark"]);
    expect(targetData<CtTarget>(rules, "raw", "OUTPUT")).toEqual({
      flags: XT_CT_ZONE_DIR_REPL | XT_CT_ZONE_MARK,
      zone: 0,
      ctEvents: (1 << 0) | (1 << 1),
      expEvents: 1 << 0,
      helper: "tftp",
      timeout: "",
    });
  });

  it("keeps a zone number with its direction", () => {
    const rules = appended("raw", "PREROUTING", ["-j", "CT", "--notrack", "--zone-orig", "7"]);
    const data = targetData<CtTarget>(rules, "raw", "PREROUTING");
    expect([data.flags, data.zone]).toEqual([XT_CT_NOTRACK | XT_CT_ZONE_DIR_ORIG, 7]);
  });
});

describe("CT helpers the kernel does not have", () => {
  // The kernel answers "No such file or directory" (ENOENT) for these, as uptables does (CT's checkRule
  // names the errno).
  const cases: [string, string[]][] = [
    ["PREROUTING", ["-j", "CT", "--helper", "ftp"]],
    ["PREROUTING", ["!", "-p", "tcp", "-j", "CT", "--helper", "ftp"]],
    ["PREROUTING", ["-p", "udp", "-j", "CT", "--helper", "ftp"]],
    ["PREROUTING", ["-p", "tcp", "-j", "CT", "--helper", "nosuch"]],
    ["OUTPUT", ["-p", "tcp", "-j", "CT", "--helper", "FTP"]],
    ["OUTPUT", ["-p", "tcp", "-j", "CT", "--helper", "tftp"]],
    ["OUTPUT", ["-p", "udp", "-j", "CT", "--helper", "pptp"]],
    ["OUTPUT", ["-p", "sctp", "-j", "CT", "--helper", "sip"]],
    ["OUTPUT", ["-p", "tcp", "-j", "CT", "--helper", "H.245"]],
    ["PREROUTING", ["-p", "tcp", "-j", "CT", "--timeout", "test"]],
  ];
  for (const [chain, args] of cases) {
    it(`raw ${chain} ${args.join(" ")}`, () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-t", "raw", "-A", chain, ...args]);
      expect(out.exitCode).toBe(4);
      expect(out.stderr.startsWith(`${TAG}:  RULE_APPEND failed (No such file or directory)`)).toBe(true);
      expect(out.stderr.endsWith(`): rule in chain ${chain}\n`)).toBe(true);
      expect(savedRules(rules, "raw")).toEqual([]);
    });
  }

  // The kernel looks the helper up when the rule is added (checkentry), wherever it sits.
  it("checks a helper in a user chain nothing jumps to", () => {
    const rules = appended("raw", "PREROUTING", ["-j", "ACCEPT"], [["-N", "USR"]]);
    const out = runIptables(rules, ["-t", "raw", "-A", "USR", "-j", "CT", "--helper", "ftp"]);
    expect(out.exitCode).toBe(4);
    expect(out.stderr.endsWith("): rule in chain USR\n")).toBe(true);
  });

  it("accepts a helper in a user chain reached from PREROUTING", () => {
    const rules = appended("raw", "USR", ["-p", "tcp", "-j", "CT", "--helper", "ftp"], [["-N", "USR"], ["-A", "PREROUTING", "-j", "USR"]]);
    expect(savedRules(rules, "raw")).toEqual(["-A PREROUTING -j USR", "-A USR -p tcp -j CT --helper ftp"]);
  });
});
