// `uptables simulate` end to end (in process): the walk it prints for Docker's rules, and its errors.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate, SimulateUsageError } from "../../src/cli/simulate.ts";
import { PacketSpecError } from "../../src/cli/packet-spec.ts";
import { REPO_ROOT } from "../support/corpus.ts";

const RULES = join(REPO_ROOT, "lab/rulesets/docker-27-default.rules");
const HOST = join(REPO_ROOT, "lab/hosts/docker-host.json");

describe("uptables simulate", () => {
  it("shows a published port's first packet: the DNAT rule, the FORWARD walk, and the packet as it leaves", () => {
    const { text } = simulate(["--ruleset", RULES, "tcp 192.168.0.50:40000 > 192.168.0.100:8080 syn"], HOST);
    expect(text).toContain("PREROUTING  nat       DOCKER      #2 -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80  => ACCEPT");
    expect(text).toContain("PREROUTING  DNAT      destination 192.168.0.100:8080 -> 172.17.0.2:80");
    expect(text).toContain("routing               forward, out docker0");
    expect(text).toContain("=> ACCEPT, out docker0: tcp 192.168.0.50:40000 > 172.17.0.2:80 [S] ttl 63 len 40");
    expect(text).toMatch(/tcp {6}6 119 SYN_SENT src=192\.168\.0\.50 dst=192\.168\.0\.100 sport=40000 dport=8080 \[UNREPLIED\] src=172\.17\.0\.2/);
  });

  it("with --reply, the answer skips the nat table and is rewritten back from the connection", () => {
    const { json } = simulate(["--ruleset", RULES, "--reply", "tcp 192.168.0.50:40000 > 192.168.0.100:8080 syn"], HOST);
    const packets = (json as { packets: { steps: string[]; output: string }[] }).packets;
    expect(packets).toHaveLength(2);
    expect(packets[1]!.steps.some((s) => s.includes(" nat "))).toBe(false);
    expect(packets[1]!.steps).toContain("POSTROUTING un-DNAT   source 172.17.0.2:80 -> 192.168.0.100:8080");
    expect(packets[1]!.output).toBe("tcp 192.168.0.100:8080 > 192.168.0.50:40000 [S.] ttl 63 len 40");
  });

  it("shows a drop and its reason", () => {
    const { json } = simulate(["--ruleset", RULES, "tcp 192.168.0.50:40000 > 172.17.0.2:22 syn"], HOST);
    const [packet] = (json as { packets: { verdict: string; steps: string[] }[] }).packets;
    expect(packet!.verdict).toBe("DROP");
    expect(packet!.steps.at(-1)).toMatch(/FORWARD +filter +FORWARD +policy DROP|drop +rule/);
  });

  it("refuses a malformed packet description with a message that says what to write", () => {
    expect(() => simulate(["--ruleset", RULES, "tcp 1.2.3.4 > 5.6.7.8:9"], HOST)).toThrow(PacketSpecError);
    expect(() => simulate(["--ruleset", RULES, "sctp 1.2.3.4:1 > 5.6.7.8:9"], HOST)).toThrow(/unknown protocol "sctp"/);
    expect(() => simulate(["tcp 1.2.3.4:1 > 5.6.7.8:9"], HOST)).toThrow(SimulateUsageError);
  });
});

describe("uptables simulate --pcap", () => {
  it("runs a real capture through the engine and writes what passes, as it leaves", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { readPcapFile } = await import("../../src/io/pcap.ts");
    const { Ipv4View } = await import("../../src/core/packet/ipv4.ts");
    const dir = mkdtempSync(join(tmpdir(), "upt-sim-"));
    const rules = join(dir, "rules");
    writeFileSync(rules, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -p icmp -j DROP\nCOMMIT\n");
    const host = join(dir, "host.json");
    writeFileSync(host, JSON.stringify({ interfaces: [{ name: "lan", addresses: ["10.99.0.254/24"] }] }));
    const out = join(dir, "out.pcap");
    const input = join(REPO_ROOT, "test/fixtures/pcap/veth-ethernet.pcap");
    const { json } = simulate(["--ruleset", rules, "--host", host, "--pcap", input, "--in", "lan", "--write", out], HOST);
    const report = json as { accepted: number; dropped: number; skipped: number; packets: { verdict: string; input: string }[] };
    const icmp = report.packets.filter((p) => p.input.startsWith("icmp"));
    expect(icmp.length).toBeGreaterThan(0);
    expect(icmp.every((p) => p.verdict === "DROP")).toBe(true);
    expect(report.skipped).toBe(2); // the two ARP frames
    const written = readPcapFile(out);
    expect(written.error).toBeNull();
    expect(written.records).toHaveLength(report.accepted);
    const inputTtls = readPcapFile(input).records.flatMap((r) => ("ipv4" in r && r.ipv4 ? [new Ipv4View(r.ipv4).ttl] : []));
    for (const record of written.records) {
      const ip = new Ipv4View((record as { ipv4: Uint8Array }).ipv4);
      expect(ip.validate()).toBe("ok");
      expect(ip.ttl).toBe(Math.max(...inputTtls) - 1);
    }
  });
});
