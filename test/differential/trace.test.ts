// `uptables trace`'s lines against the kernel's: the same rules in a scratch namespace with the
// kernel's iptables and a -j TRACE rule, the real `xtables-monitor --trace` listening, one SYN from
// a second namespace captured by tcpdump; the captured bytes then go through the engine with a plain
// trace watcher. uptables' PACKET and TRACE lines must be the kernel's, once the parts that cannot
// agree are set aside: the trace id, the rule number (an nftables handle there, a position here)
// and the MAC fields (uptables reads packets from TUN devices).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPcapFile } from "../../src/io/pcap.ts";
import { Ipv4View } from "../../src/core/packet/ipv4.ts";
import { TcpView } from "../../src/core/packet/tcp.ts";
import { formatTraceRecord } from "../../src/core/trace/format.ts";
import { PacketTraceMonitor } from "../../src/core/trace/monitor.ts";
import type { TraceRecord } from "../../src/core/trace/record.ts";
import { destroyAllNetns, Netns, skipKernelTests } from "../support/netns.ts";
import { outputWhen } from "../support/child-output.ts";
import { engineFor, rulesFromCommands } from "../support/engine.ts";

const skip = skipKernelTests("trace lines against xtables-monitor --trace", ["ip", "iptables", "xtables-monitor", "tcpdump", "curl", "stdbuf"]);

afterAll(() => destroyAllNetns());

const COMMANDS = [
  "-t raw -A PREROUTING -p tcp --dport 8080 -j TRACE",
  "-t nat -N DOCKER",
  "-t nat -A PREROUTING -j DOCKER",
  "-t nat -A DOCKER -p tcp --dport 8080 -j DNAT --to-destination 10.99.1.1:80",
  "-N EMPTY",
  "-A INPUT -j EMPTY",
  "-A INPUT -p tcp --dport 80 -j ACCEPT",
];

/** The id, the rule handle/number and the MAC fields set aside. */
function comparable(line: string, id: string): string {
  return line
    .replace(` ${id} `, " ID ")
    .replace(/:rule:0x[0-9a-f]+:/, ":rule:N:")
    .replace(/ MAC(SRC|DST|PROTO)=\S+/g, "");
}

describe.skipIf(skip)("uptables trace and xtables-monitor --trace", () => {
  it("print the same PACKET and TRACE lines for a SYN to a DNATed port", async () => {
    const host = Netns.create();
    const peer = Netns.create();
    const dir = mkdtempSync(join(tmpdir(), "upt-trace-diff-"));
    const children: ChildProcess[] = [];
    try {
      host.script(`set -e
ip link add vta type veth peer name vtb netns ${peer.name}
ip addr add 10.99.0.1/24 dev vta
ip link set vta up
ip link set lo up
ip addr add 10.99.1.1/24 dev lo
${COMMANDS.map((c) => `iptables ${c}`).join("\n")}`);
      peer.script("set -e\nip addr add 10.99.0.2/24 dev vtb\nip link set vtb up\nip link set lo up");
      const capture = join(dir, "syn.pcap");
      const tcpdump = spawn("ip", ["netns", "exec", host.name, "tcpdump", "-n", "-U", "-i", "vta", "-w", capture, "tcp[tcpflags] & tcp-syn != 0"]);
      const monitor = spawn("ip", ["netns", "exec", host.name, "stdbuf", "-oL", "xtables-monitor", "--trace"]);
      children.push(tcpdump, monitor);
      await outputWhen(tcpdump, "stderr", (t) => t.includes("listening on"));
      // xtables-monitor does not say when it listens: send SYNs until it has traced one.
      const kernelOutput = outputWhen(monitor, "stdout", (t) => t.includes(" TRACE: "));
      for (let i = 0; i < 20; i++) {
        peer.exec(["curl", "-s", "-m", "1", "http://10.99.0.1:8080/"], { timeoutMs: 5000 });
        const done = await Promise.race([kernelOutput.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
        if (done) break;
      }
      const kernelText = (await kernelOutput)();
      monitor.kill("SIGTERM");

      // The first SYN the kernel traced, and its bytes as captured (its source port names it).
      const kernelLines = kernelText.split("\n").filter((l) => l !== "");
      const first = kernelLines.find((l) => l.startsWith("PACKET:") && l.includes(" SYN "));
      expect(first, kernelText).toBeDefined();
      const sport = Number(/ SPORT=(\d+) /.exec(first!)![1]);
      const captured = (): Uint8Array | undefined =>
        readPcapFile(capture)
          .records.map((r) => r.ipv4)
          .find((p): p is Uint8Array => p !== null && ((p[20]! << 8) | p[21]!) === sport);
      // tcpdump writes each packet as it comes (-U), in its own time.
      for (let i = 0; i < 100 && captured() === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      const syn = captured();
      tcpdump.kill("SIGINT");
      expect(syn, `no captured SYN from port ${sport}`).toBeDefined();
      const kernelId = first!.split(" ")[2]!;
      // The trace id is a hash of the packet's buffer, so a later packet can reuse it: keep the
      // SYN's lines, up to the next PACKET line that is not the SYN (SPORT and ID differ).
      const synLines: string[] = [];
      const ipId = / ID=(\d+) /.exec(first!)![1];
      for (const line of kernelLines.slice(kernelLines.indexOf(first!))) {
        if (!line.includes(` ${kernelId} `)) continue;
        if (line.startsWith("PACKET:") && !line.includes(` ID=${ipId} `)) break;
        synLines.push(line);
      }

      // The same bytes through the engine, watched as a plain xtables-monitor watches.
      const engine = engineFor(rulesFromCommands(COMMANDS), {
        interfaces: [
          { name: "vta", addresses: ["10.99.0.1/24"] },
          { name: "lo", addresses: ["127.0.0.1/8", "10.99.1.1/24"] },
        ],
        routes: [],
      });
      const monitorOfEngine = new PacketTraceMonitor(0x1234);
      const ours: TraceRecord[] = [];
      monitorOfEngine.add({ filter: null, deliver: (r) => ours.push(r) });
      engine.setTraceMonitor(monitorOfEngine);
      // The veth hands tcpdump the SYN before its TCP checksum is filled in (checksum offload).
      const packet = Uint8Array.from(syn!);
      const ip = new Ipv4View().reset(packet, 0, packet.length);
      new TcpView().reset(packet, ip.payloadOffset, ip.totalLength - ip.headerLength).fillChecksum(ip.source, ip.destination);
      expect(engine.receive(packet, packet.length, "vta", 0).accepted).toBe(true);
      const ourLines = ours.map(formatTraceRecord).filter((l) => l.startsWith("PACKET:") || l.startsWith(" TRACE:"));

      const expected = synLines.map((l) => comparable(l, kernelId));
      const got = ourLines.map((l) => comparable(l, "00001234"));
      // The same lines, but for one uptables prints and this kernel does not: the end of a user
      // chain that ran out of rules (`filter:EMPTY:return:`).
      expect(got.filter((l) => l.endsWith(":return: "))).toEqual([" TRACE: 2 ID filter:EMPTY:return: "]);
      expect(got.filter((l) => !l.endsWith(":return: "))).toEqual(expected);
      expect(expected).toHaveLength(9);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      host.destroy();
      peer.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
