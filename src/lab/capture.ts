// Captures every interface of a lab (each bridge and veth end) with tcpdump for the whole run,
// reads the files back with our pcap reader and summarises each IPv4 packet in a form that is the
// same in kernel and userspace mode when the packets are: interface, protocol, addresses and
// ports, TCP flags, ICMP type/code, TTL; no sequence numbers, ids or checksums.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readPcapFile, recordTimeMs } from "../io/pcap.ts";
import { startDetached, waitForText } from "./commands.ts";
import { realNetns, saveState, workDir, type LabState } from "./state.ts";

export interface CapturedPacket {
  readonly timeMs: number;
  /** "host/eth0" */
  readonly where: string;
  readonly summary: string;
}

interface Capture {
  readonly where: string;
  readonly file: string;
  readonly pid: number;
  readonly exited: Promise<number | string>;
}

const TCP_FLAG_LETTERS: [number, string][] = [[0x02, "S"], [0x01, "F"], [0x04, "R"], [0x08, "P"], [0x20, "U"], [0x10, "."]];

/** One IPv4 packet as one line: `tcp 10.0.0.11:41000 > 203.0.113.10:80 [S] ttl 64`. */
export function summarisePacket(ip: Uint8Array): string {
  if (ip.length < 20) return `truncated ipv4 (${ip.length} bytes)`;
  const ihl = (ip[0]! & 0x0f) * 4;
  const ttl = ip[8]!;
  const proto = ip[9]!;
  const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const dst = `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
  const l4 = ip.subarray(ihl);
  const port = (at: number): number => (l4[at]! << 8) | l4[at + 1]!;
  const fragment = ((ip[6]! & 0x1f) << 8 | ip[7]!) !== 0;
  if (fragment) return `ip ${src} > ${dst} proto ${proto} fragment ttl ${ttl}`;
  if (proto === 6 && l4.length >= 14) {
    const flags = TCP_FLAG_LETTERS.filter(([bit]) => (l4[13]! & bit) !== 0).map(([, letter]) => letter).join("");
    return `tcp ${src}:${port(0)} > ${dst}:${port(2)} [${flags}] ttl ${ttl}`;
  }
  if (proto === 17 && l4.length >= 8) return `udp ${src}:${port(0)} > ${dst}:${port(2)} ttl ${ttl}`;
  if (proto === 1 && l4.length >= 2) {
    let text = `icmp ${src} > ${dst} type ${l4[0]} code ${l4[1]} ttl ${ttl}`;
    // An error quotes the packet it is about: show that packet's addresses and ports too.
    if ((l4[0] === 3 || l4[0] === 11) && l4.length >= 28) text += ` (about ${summarisePacket(l4.subarray(8)).replace(/ ttl \d+$/, "")})`;
    return text;
  }
  return `ip ${src} > ${dst} proto ${proto} ttl ${ttl}`;
}

export class LabCapture {
  private readonly captures: Capture[] = [];

  constructor(private readonly state: LabState) {}

  /** Starts one tcpdump per interface and waits until each listens. */
  async start(interfaces: readonly [string, string][]): Promise<void> {
    const dir = workDir(this.state.prefix);
    for (const [ns, ifname] of interfaces) {
      const where = `${ns}/${ifname}`;
      const file = join(dir, `${ns}-${ifname}.pcap`);
      const log = join(dir, `${ns}-${ifname}.tcpdump.log`);
      const netns = realNetns(this.state.prefix, ns);
      // --immediate-mode and -U: each packet reaches the file at once (tcpdump stopped by SIGINT
      // drops what still waits in the capture buffer); -Z root: keep writing to our root-only directory.
      const argv = ["tcpdump", "-i", ifname, "-n", "--immediate-mode", "-U", "-Z", "root", "-s", "256", "-w", file, "ip"];
      const { pid, exited } = startDetached(netns, argv, log);
      this.state.processes.push({ pid, what: `tcpdump ${where}`, netns });
      saveState(this.state);
      this.captures.push({ where, file, pid, exited });
      await waitForText(log, "listening on", pid, `tcpdump on ${where}`);
    }
  }

  /** Stops every tcpdump and returns all captured IPv4 packets, in time order. */
  async stop(): Promise<CapturedPacket[]> {
    for (const c of this.captures) {
      try {
        process.kill(c.pid, "SIGINT");
      } catch {
        // already gone: its file holds what it caught
      }
    }
    await Promise.all(this.captures.map((c) => Promise.race([c.exited, new Promise((r) => setTimeout(r, 5000))])));
    const packets: CapturedPacket[] = [];
    for (const c of this.captures) {
      if (!existsSync(c.file)) continue;
      for (const record of readPcapFile(c.file).records) {
        if (record.ipv4 !== null) packets.push({ timeMs: recordTimeMs(record), where: c.where, summary: summarisePacket(record.ipv4) });
      }
    }
    return packets.sort((a, b) => a.timeMs - b.timeMs);
  }
}

/** The packets of a time window, per interface (in capture order), interfaces sorted by name. */
export function packetsBetween(packets: readonly CapturedPacket[], fromMs: number, toMs: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of packets) {
    if (p.timeMs >= fromMs && p.timeMs < toMs) (out[p.where] ??= []).push(p.summary);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
