// -j NFLOG against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace. iptables-nft makes it nftables' `log group`: 127-byte prefixes, no range.
import { describe, expect, it } from "vitest";
import { XT_NFLOG_F_COPY_LEN, type NflogTarget } from "../../../../src/core/extensions/targets/NFLOG.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { acceptedRows, appended, expectedStderr, refusedRows, savedRules, targetData } from "./xt-cases.ts";

acceptedRows("NFLOG accepted as iptables accepts it", [
  ["filter", "INPUT", ["-j","NFLOG"], "-j NFLOG", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0           ", "NFLOG      all  --  anywhere             anywhere            "],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","1"], "-j NFLOG --nflog-group 1", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 1", "NFLOG      all  --  anywhere             anywhere             nflog-group 1"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","0"], "-j NFLOG", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0           ", "NFLOG      all  --  anywhere             anywhere            "],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","65535"], "-j NFLOG --nflog-group 65535", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 65535", "NFLOG      all  --  anywhere             anywhere             nflog-group 65535"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","0x10"], "-j NFLOG --nflog-group 16", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 16", "NFLOG      all  --  anywhere             anywhere             nflog-group 16"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","abc"], "-j NFLOG --nflog-prefix abc", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-prefix abc", "NFLOG      all  --  anywhere             anywhere             nflog-prefix abc"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","a b"], "-j NFLOG --nflog-prefix \"a b\"", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-prefix \"a b\"", "NFLOG      all  --  anywhere             anywhere             nflog-prefix \"a b\""],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","a'b\"c\\d"], "-j NFLOG --nflog-prefix \"a\\'b\\\"c\\\\d\"", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-prefix \"a\\'b\\\"c\\\\d\"", "NFLOG      all  --  anywhere             anywhere             nflog-prefix \"a\\'b\\\"c\\\\d\""],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"], "-j NFLOG --nflog-prefix 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-prefix 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567", "NFLOG      all  --  anywhere             anywhere             nflog-prefix 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"], "-j NFLOG --nflog-prefix 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-prefix 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567", "NFLOG      all  --  anywhere             anywhere             nflog-prefix 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-size","100"], "-j NFLOG --nflog-size 100", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-size 100", "NFLOG      all  --  anywhere             anywhere             nflog-size 100"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-size","0"], "-j NFLOG --nflog-size 0", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-size 0", "NFLOG      all  --  anywhere             anywhere             nflog-size 0"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-size","4294967295"], "-j NFLOG --nflog-size 4294967295", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-size 4294967295", "NFLOG      all  --  anywhere             anywhere             nflog-size 4294967295"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-threshold","5"], "-j NFLOG --nflog-threshold 5", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-threshold 5", "NFLOG      all  --  anywhere             anywhere             nflog-threshold 5"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-threshold","0"], "-j NFLOG", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0           ", "NFLOG      all  --  anywhere             anywhere            "],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-threshold","1"], "-j NFLOG --nflog-threshold 1", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-threshold 1", "NFLOG      all  --  anywhere             anywhere             nflog-threshold 1"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-threshold","65535"], "-j NFLOG --nflog-threshold 65535", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-threshold 65535", "NFLOG      all  --  anywhere             anywhere             nflog-threshold 65535"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","3","--nflog-threshold","5","--nflog-prefix","x","--nflog-size","10"], "-j NFLOG --nflog-prefix x --nflog-group 3 --nflog-size 10 --nflog-threshold 5", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-prefix x nflog-group 3 nflog-size 10 nflog-threshold 5", "NFLOG      all  --  anywhere             anywhere             nflog-prefix x nflog-group 3 nflog-size 10 nflog-threshold 5"],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","1","--nflog-threshold","5"], "-j NFLOG --nflog-group 1 --nflog-threshold 5", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 1 nflog-threshold 5", "NFLOG      all  --  anywhere             anywhere             nflog-group 1 nflog-threshold 5"],
  ["filter", "FORWARD", ["-j","NFLOG","--nflog-t","2","--nflog-g","7"], "-j NFLOG --nflog-group 7 --nflog-threshold 2", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 7 nflog-threshold 2", "NFLOG      all  --  anywhere             anywhere             nflog-group 7 nflog-threshold 2"],
  ["nat", "POSTROUTING", ["-j","NFLOG"], "-j NFLOG", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0           ", "NFLOG      all  --  anywhere             anywhere            "],
  ["mangle", "PREROUTING", ["-j","NFLOG","--nflog-group","9"], "-j NFLOG --nflog-group 9", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 9", "NFLOG      all  --  anywhere             anywhere             nflog-group 9"],
  ["raw", "PREROUTING", ["-j","NFLOG","--nflog-group","2"], "-j NFLOG --nflog-group 2", "NFLOG      0    --  0.0.0.0/0            0.0.0.0/0            nflog-group 2", "NFLOG      all  --  anywhere             anywhere             nflog-group 2"],
]);

refusedRows("NFLOG refused as iptables refuses it", [
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","65536"], "NFLOG: bad value for option \"--nflog-group\", or out of range (0-65535).\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","-1"], "NFLOG: bad value for option \"--nflog-group\", or out of range (0-65535).\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","x"], "NFLOG: bad value for option \"--nflog-group\", or out of range (0-65535).\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix",""], "Argument must have a minimum length of 1 characters\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","a\nb"], "Newlines not allowed in --log-prefix\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-size","4294967296"], "NFLOG: bad value for option \"--nflog-size\", or out of range (0-4294967295).\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-size","-1"], "NFLOG: bad value for option \"--nflog-size\", or out of range (0-4294967295).\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-threshold","65536"], "NFLOG: bad value for option \"--nflog-threshold\", or out of range (0-65535).\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","!","--nflog-group","1"], "NFLOG: option \"--nflog-group\" cannot be inverted.\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-group","1","--nflog-group","2"], "NFLOG: option \"--nflog-group\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix","a","--nflog-prefix","b"], "NFLOG: option \"--nflog-prefix\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-size","1","--nflog-size","2"], "NFLOG: option \"--nflog-size\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-prefix"], "option \"--nflog-prefix\" requires an argument\n", 2],
  ["filter", "INPUT", ["-j","NFLOG","--nflog-level","3"], "unknown option \"--nflog-level\"\n", 2],
]);

describe("NFLOG data and --nflog-range", () => {
  it("keeps group, size, threshold and prefix as numbers and text", () => {
    const rules = appended("filter", "INPUT", ["-j", "NFLOG", "--nflog-group", "3", "--nflog-size", "128", "--nflog-threshold", "5", "--nflog-prefix", "x y"]);
    expect(targetData<NflogTarget>(rules, "filter", "INPUT")).toMatchObject({
      group: 3,
      len: 128,
      flags: XT_NFLOG_F_COPY_LEN,
      threshold: 5,
      prefix: "x y",
    });
  });

  // iptables also prints "warn: --nflog-range has never worked ..." first; uptables has no warnings yet.
  it("checks --nflog-range and then drops it", () => {
    const rules = new RuleSet();
    const out = runIptables(rules, ["-A", "INPUT", "-j", "NFLOG", "--nflog-range", "100", "--nflog-group", "2"]);
    expect(out.exitCode).toBe(0);
    expect(savedRules(rules, "filter")).toEqual(["-A INPUT -j NFLOG --nflog-group 2"]);
  });

  it("refuses --nflog-range together with --nflog-size", () => {
    const rules = new RuleSet();
    const out = runIptables(rules, ["-A", "INPUT", "-j", "NFLOG", "--nflog-range", "100", "--nflog-size", "200"]);
    expect(out.stderr.endsWith(expectedStderr('NFLOG: option "--nflog-range" cannot be used together with "--nflog-size".\n\n', 2))).toBe(true);
    expect(out.exitCode).toBe(2);
  });

  it("refuses an out-of-range --nflog-range", () => {
    const out = runIptables(new RuleSet(), ["-A", "INPUT", "-j", "NFLOG", "--nflog-range", "4294967296"]);
    expect(out.stderr).toBe(expectedStderr('NFLOG: bad value for option "--nflog-range", or out of range (0-4294967295).\n\n', 2));
    expect(out.exitCode).toBe(2);
  });
});
