// -j MARK against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: every option is saved as --set-xmark VALUE/MASK, -L names the operation.
import { describe, expect, it } from "vitest";
import type { MarkTarget } from "../../../../src/core/extensions/targets/MARK.ts";
import { acceptedRows, appended, refusedRows, targetData } from "./xt-cases.ts";

acceptedRows("MARK accepted as iptables accepts it", [
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","0xfeedcafe/0xfeedcafe"], "-j MARK --set-xmark 0xfeedcafe/0xfeedcafe", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK or 0xfeedcafe", "MARK       all  --  anywhere             anywhere             MARK or 0xfeedcafe"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","0x0"], "-j MARK --set-xmark 0x0/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0x0", "MARK       all  --  anywhere             anywhere             MARK and 0x0"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","4294967295"], "-j MARK --set-xmark 0xffffffff/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK or 0xffffffff", "MARK       all  --  anywhere             anywhere             MARK or 0xffffffff"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","5/0"], "-j MARK --set-xmark 0x5/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xor 0x5", "MARK       all  --  anywhere             anywhere             MARK xor 0x5"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","0/0"], "-j MARK --set-xmark 0x0/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0xffffffff", "MARK       all  --  anywhere             anywhere             MARK and 0xffffffff"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","3/4"], "-j MARK --set-xmark 0x3/0x4", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xset 0x3/0x4", "MARK       all  --  anywhere             anywhere             MARK xset 0x3/0x4"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark"," 1"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","+1"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","0x10/0xff"], "-j MARK --set-xmark 0x10/0xff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xset 0x10/0xff", "MARK       all  --  anywhere             anywhere             MARK xset 0x10/0xff"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","0"], "-j MARK --set-xmark 0x0/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0x0", "MARK       all  --  anywhere             anywhere             MARK and 0x0"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","5/0"], "-j MARK --set-xmark 0x5/0x5", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK or 0x5", "MARK       all  --  anywhere             anywhere             MARK or 0x5"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1/0xffffffff"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","010"], "-j MARK --set-xmark 0x8/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x8", "MARK       all  --  anywhere             anywhere             MARK set 0x8"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","4294967295"], "-j MARK --set-xmark 0xffffffff/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK or 0xffffffff", "MARK       all  --  anywhere             anywhere             MARK or 0xffffffff"],
  ["mangle", "PREROUTING", ["-j","MARK","--set-m","7"], "-j MARK --set-xmark 0x7/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x7", "MARK       all  --  anywhere             anywhere             MARK set 0x7"],
  ["mangle", "PREROUTING", ["-j","MARK","--and-mark","0xff"], "-j MARK --set-xmark 0x0/0xffffff00", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0xff", "MARK       all  --  anywhere             anywhere             MARK and 0xff"],
  ["mangle", "PREROUTING", ["-j","MARK","--and-mark","0xffffffff"], "-j MARK --set-xmark 0x0/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0xffffffff", "MARK       all  --  anywhere             anywhere             MARK and 0xffffffff"],
  ["mangle", "PREROUTING", ["-j","MARK","--and-mark","0"], "-j MARK --set-xmark 0x0/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0x0", "MARK       all  --  anywhere             anywhere             MARK and 0x0"],
  ["mangle", "PREROUTING", ["-j","MARK","--or-mark","0x3"], "-j MARK --set-xmark 0x3/0x3", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK or 0x3", "MARK       all  --  anywhere             anywhere             MARK or 0x3"],
  ["mangle", "PREROUTING", ["-j","MARK","--or-mark","0"], "-j MARK --set-xmark 0x0/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0xffffffff", "MARK       all  --  anywhere             anywhere             MARK and 0xffffffff"],
  ["mangle", "PREROUTING", ["-j","MARK","--xor-mark","4"], "-j MARK --set-xmark 0x4/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xor 0x4", "MARK       all  --  anywhere             anywhere             MARK xor 0x4"],
  ["mangle", "PREROUTING", ["-j","MARK","--xor-mark","0"], "-j MARK --set-xmark 0x0/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0xffffffff", "MARK       all  --  anywhere             anywhere             MARK and 0xffffffff"],
  ["mangle", "OUTPUT", ["-p","tcp","-j","MARK","--set-mark","0x2/0x2"], "-p tcp -j MARK --set-xmark 0x2/0x2", "MARK       6    --  0.0.0.0/0            0.0.0.0/0            MARK or 0x2", "MARK       tcp  --  anywhere             anywhere             MARK or 0x2"],
  ["filter", "INPUT", ["-j","MARK","--set-mark","1"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["filter", "FORWARD", ["-j","MARK","--or-mark","0x100"], "-j MARK --set-xmark 0x100/0x100", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK or 0x100", "MARK       all  --  anywhere             anywhere             MARK or 0x100"],
  ["nat", "PREROUTING", ["-j","MARK","--set-mark","1"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["nat", "POSTROUTING", ["-j","MARK","--and-mark","0xf0"], "-j MARK --set-xmark 0x0/0xffffff0f", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK and 0xf0", "MARK       all  --  anywhere             anywhere             MARK and 0xf0"],
  ["raw", "PREROUTING", ["-j","MARK","--set-mark","1"], "-j MARK --set-xmark 0x1/0xffffffff", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x1", "MARK       all  --  anywhere             anywhere             MARK set 0x1"],
  ["raw", "OUTPUT", ["-j","MARK","--xor-mark","0x80000000"], "-j MARK --set-xmark 0x80000000/0x0", "MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xor 0x80000000", "MARK       all  --  anywhere             anywhere             MARK xor 0x80000000"],
]);

refusedRows("MARK refused as iptables refuses it", [
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","4294967296"], "MARK: bad integer value for option \"--set-xmark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","-1"], "MARK: bad integer value for option \"--set-xmark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK"], "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","-1"], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","abc"], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark",""], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1/"], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","/1"], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1/2/3"], "MARK: trailing garbage after value for option \"--set-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1/abc"], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1/-2"], "MARK: bad integer value for option \"--set-mark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1 /2"], "MARK: trailing garbage after value for option \"--set-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","0x"], "MARK: trailing garbage after value for option \"--set-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-xmark","1/0x100000000"], "MARK: bad integer value for option \"--set-xmark\", or out of range.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--and-mark","1/2"], "MARK: bad value for option \"--and-mark\", or out of range (0-4294967295).\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--or-mark","-1"], "MARK: bad value for option \"--or-mark\", or out of range (0-4294967295).\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--xor-mark","0x100000000"], "MARK: bad value for option \"--xor-mark\", or out of range (0-4294967295).\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--and-mark",""], "MARK: bad value for option \"--and-mark\", or out of range (0-4294967295).\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1","--or-mark","2"], "MARK: option \"--set-mark\" cannot be used together with \"--or-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1","--and-mark","2","--set-xmark","3"], "MARK: option \"--set-xmark\" cannot be used together with \"--set-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--xor-mark","1","--or-mark","2"], "MARK: option \"--or-mark\" cannot be used together with \"--xor-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--and-mark","1","--xor-mark","2"], "MARK: option \"--and-mark\" cannot be used together with \"--xor-mark\".\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1","--or-mark","bad"], "MARK: bad value for option \"--or-mark\", or out of range (0-4294967295).\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","1","--set-mark","2"], "MARK: option \"--set-mark\" can only be used once.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set-mark","0x1","--set-mark","bad"], "MARK: option \"--set-mark\" can only be used once.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","!","--set-mark","1"], "MARK: option \"--set-mark\" cannot be inverted.\n\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--set","1"], "unknown option \"--set\"\n", 2],
  ["mangle", "PREROUTING", ["-j","MARK","--mark","1"], "unknown option \"--mark\"\n", 2],
]);

describe("MARK data", () => {
  // [option, value, mark, mask] as xt_mark_tginfo2 holds them.
  const cases: [string, string, number, number][] = [
    ["--set-xmark", "0x10/0x30", 0x10, 0x30],
    ["--set-mark", "0x10/0x30", 0x10, 0x30],
    ["--set-mark", "0x10/0x01", 0x10, 0x11],
    ["--and-mark", "0xff", 0, 0xffffff00],
    ["--or-mark", "0x3", 0x3, 0x3],
    ["--xor-mark", "0x80000000", 0x80000000, 0],
  ];
  for (const [option, value, mark, mask] of cases) {
    it(`${option} ${value} is mark 0x${mark.toString(16)} mask 0x${mask.toString(16)}`, () => {
      const rules = appended("mangle", "PREROUTING", ["-j", "MARK", option, value]);
      const data = targetData<MarkTarget>(rules, "mangle", "PREROUTING");
      expect([data.mark, data.mask]).toEqual([mark, mask]);
    });
  }
});
