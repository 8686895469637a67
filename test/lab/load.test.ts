// The lab file loader: every problem names the file, the field path and what is wrong, all of a
// file's problems come at once, and every lab shipped in lab/labs/ loads.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { catalog, findLab, shippedLabNames } from "../../src/lab/catalog.ts";
import { parseRuleLines, shellWords } from "../../src/lab/command-line.ts";
import { hostOf, probesOf } from "../../src/lab/format.ts";
import { LabFileError, loadLab, parseLab } from "../../src/lab/load.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
/** A lab file path beside the shipped ones, so `restore: ../rulesets/...` resolves. */
const FILE = join(REPO, "lab/labs/t.yaml");

const GOOD = `
name: t
title: a test lab
seeds: ["001"]
namespaces:
  host: {host: true, sysctls: {net.ipv4.ip_forward: 1}}
  red: {}
bridges:
  - {in: host, name: br0, addresses: [10.0.0.1/24]}
links:
  - - {in: host, name: veth_red, bridge: br0, hairpin: true}
    - {in: red, name: eth0, addresses: [10.0.0.11/24]}
routes:
  - {in: red, to: default, via: 10.0.0.1}
services:
  - {in: red, kind: http, port: 80}
steps:
  - restore: ../rulesets/docker-27-default.rules
  - rules: |
      sudo iptables -t nat -A POSTROUTING -s 10.0.0.0/24 \\
          ! -o br0 -j MASQUERADE   # the article's rule
      iptables -A FORWARD -m comment --comment 'two words' -j ACCEPT
  - probe: {name: p1, from: host, kind: http, to: "10.0.0.11:80", expect: ok, peer: 10.0.0.1}
  - probe: {name: p2, from: red, kind: icmp, to: 10.0.0.1, expect: ok, timeout: 1}
  - counters: {table: nat, chain: POSTROUTING}
`;

function problems(text: string, file = FILE): string[] {
  try {
    parseLab(file, text);
  } catch (error) {
    if (error instanceof LabFileError) return error.message.split("\n");
    throw error;
  }
  throw new Error("the lab loaded, but problems were expected");
}

/** GOOD with one line replaced. */
function edit(from: string, to: string): string {
  expect(GOOD).toContain(from);
  return GOOD.replace(from, to);
}

describe("a valid lab", () => {
  it("loads with defaults filled in and names resolved", () => {
    const lab = parseLab(FILE, GOOD);
    expect(lab.name).toBe("t");
    expect(hostOf(lab)).toBe("host");
    expect(lab.namespaces[0]!.sysctls).toEqual({ "net.ipv4.ip_forward": "1" });
    expect(lab.links[0]![0]).toEqual({ in: "host", name: "veth_red", addresses: [], bridge: "br0", hairpin: true });
    expect(lab.routes[0]).toEqual({ in: "red", to: "default", via: "10.0.0.1", dev: null });
    expect(lab.steps[0]).toEqual({ kind: "restore", in: "host", path: join(REPO, "lab/rulesets/docker-27-default.rules") });
    const rules = lab.steps[1]!;
    expect(rules.kind === "rules" && rules.lines.map((l) => l.args)).toEqual([
      ["-t", "nat", "-A", "POSTROUTING", "-s", "10.0.0.0/24", "!", "-o", "br0", "-j", "MASQUERADE"],
      ["-A", "FORWARD", "-m", "comment", "--comment", "two words", "-j", "ACCEPT"],
    ]);
    expect(probesOf(lab).map((p) => [p.index, p.address, p.port, p.timeoutS])).toEqual([[0, "10.0.0.11", 80, 2], [1, "10.0.0.1", null, 1]]);
  });
});

describe("errors name the file, the field and the problem", () => {
  const cases: [string, string, string][] = [
    ["probe kind", "kind: icmp", `${FILE}: steps[3].probe.kind: must be one of http, tcp, udp, icmp (got "ftp")`],
    ["unknown key", "title: a test lab", `${FILE}: colour: unknown key (known here: name, title, seeds, page, namespaces, bridges, links, routes, services, steps)`],
    ["undeclared namespace", "- {in: red, to: default", `${FILE}: routes[0].in: namespace "blue" is not declared under namespaces (declared: host, red)`],
    ["no host", "host: {host: true,", `${FILE}: namespaces: exactly one namespace must have host: true (none has)`],
    ["long interface name", "name: veth_red,", `${FILE}: links[0][0].name: interface names have at most 15 characters ("veth_red_is_too_long" has 20)`],
    ["bad prefix", "10.0.0.11/24", `${FILE}: links[0][1].addresses[0]: must be an IPv4 address with a prefix length like 10.0.0.1/24 (got "10.0.0.11/33")`],
    ["bad address", "via: 10.0.0.1}", `${FILE}: routes[0].via: must be an IPv4 address like 10.0.0.1 (got "10.0.0.300")`],
    ["wrong type", "port: 80}", `${FILE}: services[0].port: must be a port number 1-65535 (got "eighty")`],
    ["name and file", "name: t", `${FILE}: name: must equal the file name without .yaml ("t"), got "other"`],
    ["not iptables", "iptables -A FORWARD -m comment", `${FILE}: steps[1].rules: line 3: must be an iptables command (got "nft")`],
    ["missing restore file", "restore: ../rulesets/docker-27-default.rules", `${FILE}: steps[0].restore: no such file: nothing.rules (relative to the lab file: ${join(REPO, "lab/labs/nothing.rules")})`],
    ["port on icmp", "to: 10.0.0.1,", `${FILE}: steps[3].probe.to: an icmp probe goes to an address, without a port (got "10.0.0.1:80")`],
    ["iptables in shell", "  - counters:", `${FILE}: steps[4].shell.run: shell steps are for setup only; rules go in a rules: or restore: step (so both modes apply them)`],
  ];
  const replacements: Record<string, string> = {
    "probe kind": "kind: ftp",
    "unknown key": "title: a test lab\ncolour: blue",
    "undeclared namespace": "- {in: blue, to: default",
    "no host": "host: {host: false,",
    "long interface name": "name: veth_red_is_too_long,",
    "bad prefix": "10.0.0.11/33",
    "bad address": "via: 10.0.0.300}",
    "wrong type": "port: eighty}",
    "name and file": "name: other",
    "not iptables": "nft -A FORWARD -m comment",
    "missing restore file": "restore: nothing.rules",
    "port on icmp": "to: 10.0.0.1:80,",
    "iptables in shell": "  - shell: {in: red, run: \"sudo iptables -F\"}\n  - counters:",
  };
  for (const [what, from, message] of cases) {
    it(what, () => {
      expect(problems(edit(from, replacements[what]!))).toContain(message);
    });
  }

  it("reports every problem of the file at once, before anything is built", () => {
    const text = edit("kind: icmp", "kind: ftp").replace("port: 80}", "port: 0}").replace("bridge: br0,", "bridge: br9,");
    expect(problems(text)).toEqual([
      `${FILE}: links[0][0].bridge: no bridge "br9" in namespace "host" (a port must be in its bridge's namespace)`,
      `${FILE}: services[0].port: must be a port number 1-65535 (got 0)`,
      `${FILE}: steps[3].probe.kind: must be one of http, tcp, udp, icmp (got "ftp")`,
    ]);
  });

  it("duplicates: namespaces' interfaces, probe names, service ports", () => {
    const text = GOOD
      .replace("bridges:\n", "bridges:\n  - {in: host, name: veth_red}\n")
      .replace("name: p2,", "name: p1,")
      .replace("services:\n", "services:\n  - {in: red, kind: tcp-sink, port: 80}\n");
    expect(problems(text)).toEqual([
      `${FILE}: links[0][0]: interface "veth_red" already exists in namespace "host" (bridges[0])`,
      `${FILE}: services[1]: tcp port 80 in namespace "red" is already taken by a tcp-sink service`,
      `${FILE}: steps[3].probe.name: another probe is already named "p1"`,
    ]);
  });

  it("YAML syntax errors give the line", () => {
    expect(problems("name: t\ntitle: [unclosed\n")[0]).toMatch(new RegExp(`^${FILE}: line \\d+ column \\d+: not valid YAML: `));
  });

  it("a missing file, an empty file, a file that is not a mapping", () => {
    expect(() => loadLab("/nonexistent/x.yaml")).toThrow("/nonexistent/x.yaml: cannot read: ENOENT");
    expect(problems("")).toEqual([`${FILE}: the file is empty`]);
    expect(problems("- a\n- b\n")).toEqual([`${FILE}: (top level): must be a mapping (got a list)`]);
  });

  it("an unknown lab name lists the shipped labs", () => {
    expect(() => findLab("no-such-lab")).toThrow(/no-such-lab: no such lab \(shipped labs: .*docker-default/);
  });
});

describe("rules text", () => {
  it("splits words as a shell does, without expansion", () => {
    expect(shellWords(`-m comment --comment "a \\"b\\" \\$x" -j 'it''s' a\\ b # c`)).toEqual(["-m", "comment", "--comment", 'a "b" $x', "-j", "its", "a b"]);
    expect(() => shellWords("-j 'open")).toThrow("unterminated single quote");
  });

  it("drops sudo, joins continued lines and skips comments and blank lines", () => {
    const { lines, problems: p } = parseRuleLines("# a comment\n\nsudo iptables -A INPUT \\\n  -j DROP\niptables -L\n");
    expect(p).toEqual([]);
    expect(lines.map((l) => l.args)).toEqual([["-A", "INPUT", "-j", "DROP"], ["-L"]]);
  });
});

describe("the shipped labs", () => {
  it("include docker-default", () => {
    expect(shippedLabNames()).toContain("docker-default");
  });

  for (const name of shippedLabNames()) {
    it(`${name} loads`, () => {
      const entry = catalog().find((e) => e.name === name)!;
      expect(entry.error?.message ?? null).toBeNull();
      expect(entry.lab!.name).toBe(name);
      expect(probesOf(entry.lab!).length).toBeGreaterThan(0);
    });
  }
});
