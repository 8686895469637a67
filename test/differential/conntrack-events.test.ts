// `uptables conntrack -E` against the kernel's `conntrack -E`: a router namespace DNATs a port to a
// server behind it with the kernel's iptables while the real conntrack-tools listens and tcpdump
// captures what arrives on both sides; the captured packets, in capture order, then go through the
// engine with the same rule, and its event lines must be the kernel's from NEW to TIME_WAIT, with
// the same ports, timeouts, states and flags.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPcapFile, recordTimeMs } from "../../src/io/pcap.ts";
import { Ipv4View } from "../../src/core/packet/ipv4.ts";
import { TcpView } from "../../src/core/packet/tcp.ts";
import { formatConntrackEvent } from "../../src/core/conntrack/events.ts";
import { destroyAllNetns, Netns, skipKernelTests } from "../support/netns.ts";
import { startChild } from "../support/processes.ts";
import { outputWhen } from "../support/child-output.ts";
import { PEER_SERVER } from "../support/datapath-lab.ts";
import { engineFor, rulesFromCommands } from "../support/engine.ts";

const skip = skipKernelTests("conntrack -E lines against conntrack-tools", ["ip", "iptables", "conntrack", "tcpdump", "curl", "stdbuf"]);

afterAll(() => destroyAllNetns());

const DNAT = "-t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.98.0.2:80";

describe.skipIf(skip)("uptables conntrack -E and conntrack-tools' conntrack -E", () => {
  it("print the same NEW and UPDATE lines for a DNATed connection", async () => {
    const router = Netns.create();
    const client = Netns.create();
    const server = Netns.create();
    const dir = mkdtempSync(join(tmpdir(), "upt-ct-events-"));
    const children: ChildProcess[] = [];
    try {
      router.script(`set -e
ip link set lo up
ip link add vta type veth peer name vtb netns ${client.name}
ip link add vtc type veth peer name vts netns ${server.name}
ip addr add 10.99.0.1/24 dev vta
ip addr add 10.98.0.1/24 dev vtc
ip link set vta up
ip link set vtc up
sysctl -qw net.ipv4.ip_forward=1
iptables ${DNAT}`);
      client.script("set -e\nip link set lo up\nip addr add 10.99.0.2/24 dev vtb\nip link set vtb up\nip route add default via 10.99.0.1");
      server.script("set -e\nip link set lo up\nip addr add 10.98.0.2/24 dev vts\nip link set vts up\nip route add default via 10.98.0.1");
      await startChild(server, ["node", "-e", PEER_SERVER("10.98.0.2")], "listening", { track: children });

      const captures = { vta: join(dir, "vta.pcap"), vtc: join(dir, "vtc.pcap") };
      for (const [iface, file] of Object.entries(captures)) {
        const tcpdump = spawn("ip", ["netns", "exec", router.name, "tcpdump", "-n", "-U", "-Q", "in", "-i", iface, "-w", file, "tcp"]);
        children.push(tcpdump);
        await outputWhen(tcpdump, "stderr", (t) => t.includes("listening on"));
      }
      const events = spawn("ip", ["netns", "exec", router.name, "stdbuf", "-oL", "conntrack", "-E", "-p", "tcp"]);
      children.push(events);
      // conntrack -E does not say when it listens: connect until it has shown a connection to its end.
      const established = outputWhen(events, "stdout", (t) => t.includes("TIME_WAIT"));
      for (let i = 0; i < 20; i++) {
        client.exec(["curl", "-s", "-m", "2", "http://10.99.0.1:8080/"], { timeoutMs: 5000 });
        const done = await Promise.race([established.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
        if (done) break;
      }
      const kernelText = (await established)();
      // The first connection the kernel showed from its NEW on (its client port names it).
      const kernelLines = kernelText.split("\n").filter((l) => l !== "");
      const sport = /\[NEW\] tcp .* sport=(\d+) dport=8080/.exec(kernelLines.join("\n"))![1]!;
      // The kernel may repeat an UPDATE (a retransmitted FIN in LAST_ACK): one of each run is kept.
      const ofFlow = kernelLines.filter((l, i) => l.includes(` sport=${sport} dport=8080 `) && l !== kernelLines[i - 1]);
      const toTimeWait = ofFlow.slice(0, ofFlow.findIndex((l) => l.includes("TIME_WAIT")) + 1);

      // What arrived on both sides for that connection, in capture order, through the engine.
      const arrivals: { time: number; iface: string; packet: Uint8Array }[] = [];
      let seen = -1;
      for (let i = 0; i < 100; i++) {
        arrivals.length = 0;
        for (const [iface, file] of Object.entries(captures)) {
          for (const record of readPcapFile(file).records) {
            if (record.ipv4 === null) continue;
            const p = record.ipv4;
            const ports = [(p[20]! << 8) | p[21]!, (p[22]! << 8) | p[23]!];
            if (ports.includes(Number(sport))) arrivals.push({ time: recordTimeMs(record), iface, packet: Uint8Array.from(p) });
          }
        }
        // tcpdump writes in its own time: wait until both sides' FINs are there and nothing more comes.
        const fins = new Set(arrivals.filter((a) => (a.packet[33]! & 0x01) !== 0).map((a) => a.iface));
        if (fins.size === 2 && arrivals.length === seen) break;
        seen = arrivals.length;
        await new Promise((r) => setTimeout(r, 200));
      }
      arrivals.sort((a, b) => a.time - b.time);
      const engine = engineFor(rulesFromCommands([DNAT]), {
        interfaces: [
          { name: "vta", addresses: ["10.99.0.1/24"] },
          { name: "vtc", addresses: ["10.98.0.1/24"] },
        ],
        routes: [],
      });
      const ours: string[] = [];
      const table = engine.conntrack.table;
      let now = 0;
      table.events = (type, id, at) => ours.push(formatConntrackEvent(table, type, id, at ?? now));
      const ip = new Ipv4View();
      const tcp = new TcpView();
      for (const { time, iface, packet } of arrivals) {
        // Veths hand tcpdump segments before their TCP checksum is filled in (checksum offload).
        ip.reset(packet, 0, packet.length);
        tcp.reset(packet, ip.payloadOffset, ip.totalLength - ip.headerLength).fillChecksum(ip.source, ip.destination);
        now = time;
        expect(engine.receive(packet, packet.length, iface, now).accepted).toBe(true);
      }

      expect(toTimeWait.length).toBeGreaterThanOrEqual(4);
      expect(ours).toEqual(toTimeWait);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      router.destroy();
      client.destroy();
      server.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
