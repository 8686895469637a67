// Two things only packets show, against the kernel: which built-in chains count their policy
// (iptables-nft 1.8.9 gives an nft base chain a counter only through -P, -Z, -L -Z or a restore's
// ":CHAIN" line), and whether the namespace tracks connections at all (the kernel's conntrack runs
// only while a rule needs it). Each case runs in a fresh scratch namespace with the kernel's
// iptables, then UDP datagrams from the namespace to 127.0.0.1:9 (through filter OUTPUT and INPUT);
// uptables gets the same commands and one such datagram through the engine. Compared: which policy
// counters of filter moved (not how much: the kernel also counts its ICMP port unreachables), and
// whether conntrack -L lists anything.
import { afterAll, describe, expect, it } from "vitest";
import { buildUdp } from "../../src/core/packet/builder.ts";
import { runRestore, runSave } from "../../src/core/iptables/run.ts";
import { RuleSet } from "../../src/core/rules/model.ts";
import { destroyAllNetns, skipKernelTests, withNetns } from "../support/netns.ts";
import { engineFor, rulesFromCommands } from "../support/engine.ts";

const skip = skipKernelTests("policy counters and lazy conntrack against the kernel", ["ip", "iptables", "iptables-save", "iptables-restore", "conntrack", "bash"]);

afterAll(() => destroyAllNetns());

interface Case {
  readonly commands: readonly string[];
  /** An iptables-restore file applied after the commands. */
  readonly restore?: string;
  /** What the kernel shows, where written down: proves the probes see something at all. */
  readonly known?: Observed;
}

const CASES: readonly Case[] = [
  { commands: [] },
  { commands: ["-A OUTPUT -p tcp -j ACCEPT"], known: { policies: ["INPUT not counted", "FORWARD not counted", "OUTPUT not counted"], tracked: false } },
  { commands: ["-I INPUT -p tcp -j ACCEPT", "-F OUTPUT"] },
  { commands: ["-F -v"] },
  { commands: ["-P OUTPUT ACCEPT"], known: { policies: ["INPUT not counted", "FORWARD not counted", "OUTPUT counted"], tracked: false } },
  { commands: ["-A OUTPUT -p tcp -j ACCEPT", "-P OUTPUT ACCEPT"] },
  { commands: ["-A OUTPUT -p tcp -j ACCEPT", "-Z OUTPUT"] },
  { commands: ["-A OUTPUT -p tcp -j ACCEPT", "-A INPUT -p tcp -j ACCEPT", "-Z"] },
  { commands: ["-A INPUT -p tcp -j ACCEPT", "-L -Z OUTPUT"] },
  { commands: ["-A OUTPUT -p tcp -j ACCEPT", "-Z OUTPUT 1"] },
  { commands: ["-P OUTPUT ACCEPT", "-X"] },
  { commands: ["-P OUTPUT ACCEPT", "-A OUTPUT -p tcp -j ACCEPT", "-X"] },
  { commands: [], restore: "*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" },
  { commands: [], restore: "*filter\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n" },
  { commands: ["-P INPUT ACCEPT"], restore: "*filter\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n" },
  // Conntrack: users and non-users.
  { commands: ["-t nat -N EMPTY", "-t nat -P OUTPUT ACCEPT", "-t nat -A POSTROUTING -j ACCEPT"] },
  { commands: ["-t nat -A POSTROUTING -o eth9 -j MASQUERADE"], known: { policies: ["INPUT not counted", "FORWARD not counted", "OUTPUT not counted"], tracked: true } },
  { commands: ["-t nat -A POSTROUTING -o eth9 -j MASQUERADE", "-t nat -F"] },
  { commands: ["-t nat -N UNUSED", "-t nat -A UNUSED -p tcp -j DNAT --to-destination 10.1.2.3"] },
  { commands: ["-A INPUT -m state --state INVALID -j DROP"] },
  { commands: ["-N UNUSED", "-A UNUSED -m conntrack --ctstate NEW"] },
  { commands: ["-A INPUT -m connmark --mark 1"] },
  { commands: ["-t raw -A OUTPUT -j CT --zone 1"] },
  { commands: ["-t raw -A OUTPUT -p tcp -j CT --notrack", "-t raw -A PREROUTING -p tcp -j NOTRACK"] },
  { commands: ["-t mangle -A OUTPUT -j MARK --set-mark 1", "-A INPUT -m mark --mark 1 -j LOG", "-A INPUT -p tcp -j REJECT"] },
];

interface Observed {
  /** "CHAIN counted" or "CHAIN not counted" per built-in chain of filter. */
  readonly policies: string[];
  readonly tracked: boolean;
}

function policiesOf(saved: string): string[] {
  return [...saved.matchAll(/^:(INPUT|FORWARD|OUTPUT) \S+ \[(\d+):\d+\]$/gm)].map((m) => `${m[1]} ${m[2] === "0" ? "not counted" : "counted"}`);
}

function kernel(c: Case): Observed {
  return withNetns((ns) => {
    const script = [
      "set -e",
      "ip link set lo up",
      ...c.commands.map((command) => `iptables ${command} >/dev/null`),
      ...(c.restore === undefined ? [] : [`printf '%s' '${c.restore}' | iptables-restore`]),
      // Three datagrams to a closed port; the kernel answers each with an ICMP port unreachable.
      "for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/9; done",
    ].join("\n");
    const ran = ns.script(script);
    expect(ran.exitCode, ran.stderr).toBe(0);
    const saved = ns.exec(["iptables-save", "-c", "-t", "filter"]);
    const listed = ns.exec(["conntrack", "-L"]);
    return { policies: policiesOf(saved.stdout), tracked: listed.stdout.trim() !== "" };
  });
}

function uptables(c: Case): Observed {
  const rules = c.commands.length > 0 ? rulesFromCommands(c.commands) : new RuleSet();
  if (c.restore !== undefined) expect(runRestore(rules, c.restore, { counters: false }).exitCode).toBe(0);
  const engine = engineFor(rules, { interfaces: [{ name: "lo", addresses: ["127.0.0.1/8"] }] });
  const datagram = buildUdp({ src: "127.0.0.1", dst: "127.0.0.1", sport: 40000, dport: 9, payload: "x\n" });
  expect(engine.send(datagram, datagram.length, 0).accepted).toBe(true);
  return { policies: policiesOf(runSave(rules, { counters: true, table: "filter" }).stdout), tracked: engine.conntrack.table.confirmedCount > 0 };
}

const describeCase = (c: Case): string => [...c.commands, ...(c.restore === undefined ? [] : [`restore ${JSON.stringify(c.restore)}`])].join("; ") || "(no rules)";

describe.skipIf(skip)("counted policies and lazy conntrack against the kernel", () => {
  for (const c of CASES) {
    it(describeCase(c), () => {
      const seen = kernel(c);
      if (c.known) expect(seen).toEqual(c.known);
      expect(seen.policies).toHaveLength(3);
      expect(uptables(c)).toEqual(seen);
    });
  }
});
