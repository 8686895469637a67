// Which built-in chains count their policy, as iptables-nft 1.8.9 keeps them. Verified with the
// real iptables-nft 1.8.9 in scratch namespaces (3 UDP datagrams to 127.0.0.1 and their ICMP
// port unreachables, 6 packets, through filter OUTPUT, then `iptables-save -c`):
//   -A OUTPUT ...                    -> :OUTPUT ACCEPT [0:0]   (base chain made without a counter)
//   -I, -F OUTPUT, -F -v, -D         -> [0:0]
//   -P OUTPUT ACCEPT (before or after -A), -Z, -Z OUTPUT, -L -Z  -> [6:264]
//   restore ":OUTPUT ACCEPT [0:0]" (or "-"), also with -n  -> [6:264]; restore "-A OUTPUT" alone -> [0:0]
//   -P OUTPUT ACCEPT then -X (the empty chain is deleted) -> [0:0]
// The kernel's policy counter is the nft base chain's counter, which iptables-nft only asks for
// when it sends the chain's policy or counters.
import { describe, expect, it } from "vitest";
import { buildUdp } from "../../../src/core/packet/builder.ts";
import { runRestore, runSave } from "../../../src/core/iptables/run.ts";
import { RuleSet } from "../../../src/core/rules/model.ts";
import { restore } from "../../../src/core/iptables/restore.ts";
import { formatSave } from "../../../src/core/iptables/save.ts";
import { engineFor, rulesFromCommands } from "../../support/engine.ts";

/** Sends one UDP datagram from the host to 10.0.0.2 and returns filter OUTPUT's policy line. */
function outputPolicyAfterOnePacket(rules: RuleSet): string {
  const engine = engineFor(rules, { interfaces: [{ name: "eth0", addresses: ["10.0.0.1/24"] }] });
  const p = buildUdp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 9, payload: new Uint8Array(4) });
  expect(engine.send(p, p.length, 0).accepted).toBe(true);
  const saved = runSave(rules, { counters: true, table: "filter" }).stdout;
  return /^:OUTPUT .*$/m.exec(saved)![0];
}

const COUNTED = ":OUTPUT ACCEPT [1:32]";
const UNCOUNTED = ":OUTPUT ACCEPT [0:0]";

describe("policy counters as iptables-nft 1.8.9 keeps them", () => {
  it("a chain made by -A, -I or -F CHAIN does not count its policy", () => {
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT"]))).toBe(UNCOUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-I OUTPUT -p tcp -j ACCEPT"]))).toBe(UNCOUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-F OUTPUT"]))).toBe(UNCOUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-F -v"]))).toBe(UNCOUNTED);
  });

  it("-P, -Z and -L -Z give the chain its counter, before or after its rules", () => {
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-P OUTPUT ACCEPT"]))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT", "-P OUTPUT ACCEPT"]))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT", "-Z OUTPUT"]))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT", "-Z"]))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-A INPUT -j ACCEPT", "-L -Z OUTPUT"]))).toBe(COUNTED);
    // Zeroing one rule sends no chain counters.
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT", "-Z OUTPUT 1"]))).toBe(UNCOUNTED);
  });

  it("-X deletes an empty ACCEPT chain with its counter; the next -A makes it without", () => {
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-P OUTPUT ACCEPT", "-X", "-A OUTPUT -p tcp -j ACCEPT"]))).toBe(UNCOUNTED);
    expect(outputPolicyAfterOnePacket(rulesFromCommands(["-P OUTPUT ACCEPT", "-A OUTPUT -p tcp -j ACCEPT", "-X"]))).toBe(COUNTED);
  });

  it("a restore's :CHAIN line counts (with or without -n, policy or \"-\"); a rule line alone does not", () => {
    const restored = (text: string, noflush = false, before: string[] = []): RuleSet => {
      const rules = rulesFromCommands(before);
      const outcome = runRestore(rules, text, { counters: false, noflush });
      expect(outcome.exitCode, outcome.stderr).toBe(0);
      return rules;
    };
    expect(outputPolicyAfterOnePacket(restored("*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(restored("*filter\n:OUTPUT - [0:0]\nCOMMIT\n"))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(restored("*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", true, ["-A OUTPUT -p tcp -j ACCEPT"]))).toBe(COUNTED);
    expect(outputPolicyAfterOnePacket(restored("*filter\n-A OUTPUT -p tcp -j ACCEPT\nCOMMIT\n"))).toBe(UNCOUNTED);
    // Without -n the table is flushed: a counter from -P is gone with it.
    expect(outputPolicyAfterOnePacket(restored("*filter\n-A OUTPUT -p tcp -j ACCEPT\nCOMMIT\n", false, ["-P OUTPUT ACCEPT"]))).toBe(UNCOUNTED);
  });

  it("iptables-save's text restored counts every chain it lists, as iptables-restore would", () => {
    const text = runSave(rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT"]), { counters: true, table: undefined }).stdout;
    expect(outputPolicyAfterOnePacket(restored(text))).toBe(COUNTED);
    function restored(t: string): RuleSet {
      const rules = new RuleSet();
      expect(runRestore(rules, t, { counters: true }).exitCode).toBe(0);
      return rules;
    }
  });

  it("uptables' own rule-set file keeps which chains count", () => {
    const rules = rulesFromCommands(["-A OUTPUT -p tcp -j ACCEPT", "-P INPUT ACCEPT"]);
    const file = formatSave(rules, { counters: true, kernelView: true });
    expect(file).toContain(":OUTPUT ACCEPT [0:0] uncounted\n");
    expect(file).toContain(":INPUT ACCEPT [0:0]\n");
    const back = new RuleSet();
    restore(back, file, { counters: true, ruleSetFile: true });
    expect(back.tables.get("filter")!.chains.get("OUTPUT")!.policyCounted).toBe(false);
    expect(back.tables.get("filter")!.chains.get("INPUT")!.policyCounted).toBe(true);
    expect(outputPolicyAfterOnePacket(back)).toBe(UNCOUNTED);
  });
});
