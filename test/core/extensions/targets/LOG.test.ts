// -j LOG against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: iptables-save text, `iptables -L` lines, refusals and exit codes.
import { describe, expect, it } from "vitest";
import { XT_LOG_IPOPT, XT_LOG_MACDECODE, XT_LOG_TCPOPT, XT_LOG_TCPSEQ, XT_LOG_UID, type LogTarget } from "../../../../src/core/extensions/targets/LOG.ts";
import { acceptedRows, appended, refusedRows, targetData } from "./xt-cases.ts";

acceptedRows("LOG accepted as iptables accepts it", [
  ["filter", "INPUT", ["-j","LOG"], "-j LOG", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn"],
  ["filter", "INPUT", ["-j","LOG","--log-level","alert","--log-prefix","a b'c\"d\\e","--log-tcp-sequence","--log-tcp-options","--log-ip-options","--log-uid","--log-macdecode"], "-j LOG --log-prefix \"a b\\'c\\\"d\\\\e\" --log-level 1 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 47 level 1 prefix \"a b'c\"d\\e\"", "LOG        all  --  anywhere             anywhere             LOG level alert tcp-sequence tcp-options ip-options uid macdecode prefix \"a b'c\"d\\e\""],
  ["filter", "INPUT", ["-j","LOG","--log-level","emerg"], "-j LOG --log-level 0", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 0", "LOG        all  --  anywhere             anywhere             LOG level emerg"],
  ["filter", "INPUT", ["-j","LOG","--log-level","panic"], "-j LOG --log-level 0", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 0", "LOG        all  --  anywhere             anywhere             LOG level emerg"],
  ["filter", "INPUT", ["-j","LOG","--log-level","alert"], "-j LOG --log-level 1", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 1", "LOG        all  --  anywhere             anywhere             LOG level alert"],
  ["filter", "INPUT", ["-j","LOG","--log-level","crit"], "-j LOG --log-level 2", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 2", "LOG        all  --  anywhere             anywhere             LOG level crit"],
  ["filter", "INPUT", ["-j","LOG","--log-level","error"], "-j LOG --log-level 3", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 3", "LOG        all  --  anywhere             anywhere             LOG level err"],
  ["filter", "INPUT", ["-j","LOG","--log-level","warning"], "-j LOG", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn"],
  ["filter", "INPUT", ["-j","LOG","--log-level","notice"], "-j LOG --log-level 5", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 5", "LOG        all  --  anywhere             anywhere             LOG level notice"],
  ["filter", "INPUT", ["-j","LOG","--log-level","info"], "-j LOG --log-level 6", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 6", "LOG        all  --  anywhere             anywhere             LOG level info"],
  ["filter", "INPUT", ["-j","LOG","--log-level","debug"], "-j LOG --log-level 7", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 7", "LOG        all  --  anywhere             anywhere             LOG level debug"],
  ["filter", "INPUT", ["-j","LOG","--log-level","0"], "-j LOG --log-level 0", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 0", "LOG        all  --  anywhere             anywhere             LOG level emerg"],
  ["filter", "INPUT", ["-j","LOG","--log-level","4"], "-j LOG", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn"],
  ["filter", "INPUT", ["-j","LOG","--log-level","7"], "-j LOG --log-level 7", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 7", "LOG        all  --  anywhere             anywhere             LOG level debug"],
  ["filter", "INPUT", ["-j","LOG","--log-level","0x3"], "-j LOG --log-level 3", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 3", "LOG        all  --  anywhere             anywhere             LOG level err"],
  ["filter", "INPUT", ["-j","LOG","--log-level"," 3"], "-j LOG --log-level 3", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 3", "LOG        all  --  anywhere             anywhere             LOG level err"],
  ["filter", "INPUT", ["-j","LOG","--log-level","+2"], "-j LOG --log-level 2", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 2", "LOG        all  --  anywhere             anywhere             LOG level crit"],
  ["filter", "INPUT", ["-j","LOG","--log-level","07"], "-j LOG --log-level 7", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 7", "LOG        all  --  anywhere             anywhere             LOG level debug"],
  ["filter", "INPUT", ["-j","LOG","--log-le","5"], "-j LOG --log-level 5", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 5", "LOG        all  --  anywhere             anywhere             LOG level notice"],
  ["filter", "INPUT", ["-j","LOG","--log-p","x"], "-j LOG --log-prefix x", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"x\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"x\""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","test: "], "-j LOG --log-prefix \"test: \"", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"test: \"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"test: \""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","L_DROP"], "-j LOG --log-prefix L_DROP", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"L_DROP\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"L_DROP\""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","12345678901234567890123456789"], "-j LOG --log-prefix 12345678901234567890123456789", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"12345678901234567890123456789\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"12345678901234567890123456789\""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","123456789012345678901234567890abc"], "-j LOG --log-prefix 12345678901234567890123456789", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"12345678901234567890123456789\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"12345678901234567890123456789\""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","é2345678901234567890123456789"], "-j LOG --log-prefix \"é234567890123456789012345678\"", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"é234567890123456789012345678\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"é234567890123456789012345678\""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","a\\tb"], "-j LOG --log-prefix \"a\\\\tb\"", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"a\\tb\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"a\\tb\""],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","a\tb"], "-j LOG --log-prefix \"a\tb\"", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"a\tb\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"a\tb\""],
  ["filter", "INPUT", ["-j","LOG","--log-tcp-sequence"], "-j LOG --log-tcp-sequence", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 1 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn tcp-sequence"],
  ["filter", "INPUT", ["-j","LOG","--log-tcp-options"], "-j LOG --log-tcp-options", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 2 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn tcp-options"],
  ["filter", "INPUT", ["-j","LOG","--log-ip-options"], "-j LOG --log-ip-options", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 4 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn ip-options"],
  ["filter", "INPUT", ["-j","LOG","--log-uid"], "-j LOG --log-uid", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 8 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn uid"],
  ["filter", "INPUT", ["-j","LOG","--log-macdecode","--log-uid"], "-j LOG --log-uid --log-macdecode", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 40 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn uid macdecode"],
  ["filter", "FORWARD", ["-j","LOG","--log-level","6","--log-prefix","UNKNOWN WLAN dropped:"], "-j LOG --log-prefix \"UNKNOWN WLAN dropped:\" --log-level 6", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 6 prefix \"UNKNOWN WLAN dropped:\"", "LOG        all  --  anywhere             anywhere             LOG level info prefix \"UNKNOWN WLAN dropped:\""],
  ["filter", "OUTPUT", ["-p","tcp","-m","tcp","--dport","22","-j","LOG","--log-prefix","ssh ","--log-tcp-options"], "-p tcp -m tcp --dport 22 -j LOG --log-prefix \"ssh \" --log-tcp-options", "LOG        6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:22 LOG flags 2 level 4 prefix \"ssh \"", "LOG        tcp  --  anywhere             anywhere             tcp dpt:ssh LOG level warn tcp-options prefix \"ssh \""],
  ["nat", "PREROUTING", ["-j","LOG"], "-j LOG", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn"],
  ["nat", "POSTROUTING", ["-j","LOG","--log-level","1"], "-j LOG --log-level 1", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 1", "LOG        all  --  anywhere             anywhere             LOG level alert"],
  ["mangle", "FORWARD", ["-j","LOG","--log-prefix","m"], "-j LOG --log-prefix m", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"m\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"m\""],
  ["raw", "PREROUTING", ["-j","LOG","--log-prefix","x"], "-j LOG --log-prefix x", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix \"x\"", "LOG        all  --  anywhere             anywhere             LOG level warn prefix \"x\""],
  ["raw", "OUTPUT", ["-j","LOG","--log-uid"], "-j LOG --log-uid", "LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 8 level 4", "LOG        all  --  anywhere             anywhere             LOG level warn uid"],
]);

refusedRows("LOG refused as iptables refuses it", [
  ["filter", "INPUT", ["-j","LOG","--log-level","err"], "log level \"err\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","warn"], "log level \"warn\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","ERROR"], "log level \"ERROR\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","8"], "log level \"8\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","-1"], "log level \"-1\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","010"], "log level \"010\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","3x"], "log level \"3x\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level",""], "log level \"\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","none"], "log level \"none\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","bad"], "log level \"bad\" unknown\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-prefix",""], "Argument must have a minimum length of 1 characters\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","a\nb"], "Newlines not allowed in --log-prefix\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","123456789012345678901234567890\n"], "Newlines not allowed in --log-prefix\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-prefix"], "option \"--log-prefix\" requires an argument\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-uid","--log-uid"], "LOG: option \"--log-uid\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","!","--log-uid"], "LOG: option \"--log-uid\" cannot be inverted.\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","!","--log-prefix","x"], "LOG: option \"--log-prefix\" cannot be inverted.\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-level","1","--log-level","2"], "LOG: option \"--log-level\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-prefix","a","--log-prefix","b"], "LOG: option \"--log-prefix\" can only be used once.\n\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-tcp","3"], "unknown option \"--log-tcp\"\n", 2],
  ["filter", "INPUT", ["-j","LOG","--log-flags","3"], "unknown option \"--log-flags\"\n", 2],
]);

describe("LOG data", () => {
  it("keeps the level, the flag bits and the prefix as xt_log_info does", () => {
    const rules = appended("filter", "INPUT", [
      "-j", "LOG", "--log-level", "debug", "--log-prefix", "p: ", "--log-tcp-sequence", "--log-tcp-options",
      "--log-ip-options", "--log-uid", "--log-macdecode",
    ]);
    expect(targetData<LogTarget>(rules, "filter", "INPUT")).toEqual({
      level: 7,
      logflags: XT_LOG_TCPSEQ | XT_LOG_TCPOPT | XT_LOG_IPOPT | XT_LOG_UID | XT_LOG_MACDECODE,
      prefix: "p: ",
    });
  });

  it("keeps 29 bytes of a longer prefix", () => {
    const rules = appended("filter", "INPUT", ["-j", "LOG", "--log-prefix", "x".repeat(40)]);
    expect(targetData<LogTarget>(rules, "filter", "INPUT").prefix).toBe("x".repeat(29));
  });
});
