// Malformed packets through the real kernel into `uptables daemon`, counted exactly.
//
//   [inj0 TUN] client 192.168.0.50 --veth-- eth0 192.168.0.100 [host: daemon] docker0 --bridge-- container 172.17.0.2
//
// The test opens a TUN (our addon) in the client namespace and writes raw packets from 10.99.0.2
// into it; the client kernel forwards them over the veth as they are (a router does not look
// above IP), so they reach the host, are diverted into the daemon's TUN and meet the engine. Only
// packets whose IP header is valid get that far (the kernels drop the others in ip_rcv), so the
// cases here are malformed above IP. Expected counters follow the kernel with Docker's rules:
// conntrack marks them INVALID (`conntrack -S` invalid), or `error` for ICMP; a port match that
// cannot read the fixed part of its header drops the packet (hotdrop: drop reason
// transport-header), one that can still matches; FORWARD's DROP policy counts as rule. The rules
// are the benchmark's (Docker's default plus published udp/7 and tcp+udp/5201). Afterwards the
// daemon must still serve good traffic.
// Needs root, namespaces, iproute2, curl and the native TUN build.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BenchNamespaces } from "../../src/bench/datapath/namespaces.ts";
import { benchRules, buildLab, CLIENT_ADDRESS } from "../../src/bench/datapath/topology.ts";
import { request } from "../../src/control/client.ts";
import { parseStatus, type DaemonStatus } from "../../src/control/daemon-status.ts";
import { CONTROL_DIR } from "../../src/control/protocol.ts";
import { buildIcmpError, buildIpv4, buildTcp, buildUdp } from "../../src/core/packet/builder.ts";
import { TCP_SYN } from "../../src/core/packet/tcp.ts";
import { TunDevice, tunAddonProblem } from "../../src/io/tun.ts";
import { REPO_ROOT } from "../support/corpus.ts";
import { IN_CI, kernelTestProblem, run } from "../support/netns.ts";
import { waitExit } from "../support/processes.ts";

function problem(): string | null {
  return kernelTestProblem(["ip", "curl"]) ?? tunAddonProblem();
}
const why = problem();
if (why !== null) {
  if (IN_CI) throw new Error(`malformed-packet tests need root, namespaces, curl and the TUN addon, and CI=true forbids skipping them: ${why}`);
  console.warn(`[skipped] malformed packets through the daemon: ${why}`);
}

const SOURCE = "10.99.0.2";
const CONTAINER = "172.17.0.2";
const HOST = "192.168.0.100";

interface Delta {
  invalid?: number;
  error?: number;
  insert?: number;
  drops?: Record<string, number>;
}

/** What changed between two status snapshots, in the counters the cases talk about. */
function delta(before: DaemonStatus, after: DaemonStatus): Required<Delta> {
  const drops: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after.drops)) if (n !== before.drops[reason]) drops[reason] = n - (before.drops[reason] ?? 0);
  return {
    invalid: after.conntrack.invalid - before.conntrack.invalid,
    error: after.conntrack.error - before.conntrack.error,
    insert: after.conntrack.insert - before.conntrack.insert,
    drops,
  };
}

/** Sets an ICMP message's checksum over the whole ICMP part. */
function fixIcmpChecksum(packet: Uint8Array): Uint8Array {
  const ihl = (packet[0]! & 0x0f) * 4;
  packet[ihl + 2] = 0;
  packet[ihl + 3] = 0;
  let sum = 0;
  for (let i = ihl; i < packet.length; i += 2) sum += (packet[i]! << 8) | (packet[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const check = ~sum & 0xffff;
  packet[ihl + 2] = check >>> 8;
  packet[ihl + 3] = check & 0xff;
  return packet;
}

const syn = (dport: number, extra: Partial<Parameters<typeof buildTcp>[0]> = {}): Uint8Array =>
  buildTcp({ src: SOURCE, dst: CONTAINER, sport: 40000 + dport, dport, flags: TCP_SYN, seq: 1000, ...extra });

/** A TCP packet whose IP payload is the first `keep` bytes of a SYN's header (IP header fixed up). */
function truncatedTcp(keep: number, ipOptions?: number[]): Uint8Array {
  const full = syn(80, { ipOptions });
  const ihl = (full[0]! & 0x0f) * 4;
  return buildIpv4({ src: SOURCE, dst: CONTAINER, protocol: 6, payload: full.subarray(ihl, ihl + keep), ipOptions });
}

interface Case {
  name: string;
  packet: () => Uint8Array;
  expect: Delta;
}

const CASES: Case[] = [
  // 10 bytes of TCP header: conntrack cannot read it (INVALID); the DOCKER chain's `-m tcp --dport 80`
  // cannot either, and the kernel's tcp_mt drops what it cannot examine (hotdrop).
  { name: "truncated TCP header", packet: () => truncatedTcp(10), expect: { invalid: 1, drops: { "transport-header": 1 } } },
  // The same behind IP options: the header is found after IHL words, still too short.
  { name: "truncated TCP header behind IP options", packet: () => truncatedTcp(12, [1, 1, 1, 0]), expect: { invalid: 1, drops: { "transport-header": 1 } } },
  // Data offset 15 (60 bytes) in a 20-byte segment: conntrack's tcp_error says INVALID; tcp_mt reads
  // only the 20-byte base header, so DOCKER's ACCEPT for port 80 still matches (as in the kernel).
  {
    name: "TCP data offset beyond the packet",
    packet: () => {
      const p = syn(80);
      p[20 + 12] = 0xf0;
      return p;
    },
    expect: { invalid: 1, drops: {} },
  },
  // A SYN with a wrong checksum: INVALID (nf_conntrack_checksum), accepted by DOCKER's port rule.
  {
    name: "bad TCP checksum",
    packet: () => {
      const p = syn(80);
      p[20 + 16] ^= 0x5a;
      return p;
    },
    expect: { invalid: 1, drops: {} },
  },
  // A UDP datagram with a wrong checksum: INVALID; the benchmark rules' `-p udp --dport 7 -j ACCEPT`
  // in DOCKER still lets it through (the container's kernel then drops it).
  {
    name: "bad UDP checksum",
    packet: () => {
      const p = buildUdp({ src: SOURCE, dst: CONTAINER, sport: 5000, dport: 7, payload: "hello" });
      p[20 + 6] ^= 0x5a;
      return p;
    },
    expect: { invalid: 1, drops: {} },
  },
  // A UDP length field beyond the datagram: INVALID (udp_error), but udp_mt needs only the 8 bytes.
  {
    name: "UDP length beyond the datagram",
    packet: () => {
      const p = buildUdp({ src: SOURCE, dst: CONTAINER, sport: 5002, dport: 7, payload: "hello" });
      p[20 + 5] += 40;
      return p;
    },
    expect: { invalid: 1, drops: {} },
  },
  // A UDP datagram cut inside its 8-byte header: INVALID, and udp_mt hot-drops it.
  {
    name: "truncated UDP header",
    packet: () => buildIpv4({ src: SOURCE, dst: CONTAINER, protocol: 17, payload: [0x13, 0x88, 0, 7, 0] }),
    expect: { invalid: 1, drops: { "transport-header": 1 } },
  },
  // An ICMP error whose quoted packet is garbage (not an IPv4 header): conntrack's ICMP error path
  // fails, which the kernel counts as `error` (not `invalid`); INPUT accepts it for the host.
  {
    name: "ICMP error quoting garbage",
    packet: () => {
      const quoted = Uint8Array.from({ length: 28 }, (_, i) => (i * 37 + 11) & 0xff);
      return fixIcmpChecksum(buildIpv4({ src: SOURCE, dst: HOST, protocol: 1, payload: [3, 3, 0, 0, 0, 0, 0, 0, ...quoted] }));
    },
    expect: { error: 1, drops: {} },
  },
  // A well-formed ICMP error quoting a packet of no known connection: `error` as well.
  {
    name: "ICMP error about no known connection",
    packet: () => buildIcmpError(3, 3, buildUdp({ src: HOST, dst: SOURCE, sport: 53, dport: 33333, payload: "x" })),
    expect: { error: 1, drops: {} },
  },
  // An ICMP echo with a wrong checksum: `error` too.
  {
    name: "ICMP echo with a bad checksum",
    packet: () => {
      const p = fixIcmpChecksum(buildIpv4({ src: SOURCE, dst: HOST, protocol: 1, payload: [8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4] }));
      p[23] ^= 0x5a;
      return p;
    },
    expect: { error: 1, drops: {} },
  },
  // A later fragment has no ports: INVALID without reassembly; no port rule matches it, so FORWARD's
  // DROP policy ends it (the engine counts policy drops under "rule", as verdicts of the chain walk).
  {
    name: "later fragment",
    packet: () => buildIpv4({ src: SOURCE, dst: CONTAINER, protocol: 17, id: 77, fragmentOffset: 2, payload: new Uint8Array(24) }),
    expect: { invalid: 1, drops: { rule: 1 } },
  },
  // The first fragment of a longer datagram: its length and checksum cover bytes that are not here,
  // so conntrack finds it INVALID; its ports are readable and DOCKER's udp/7 rule accepts it. (The
  // kernel's conntrack would hold it for reassembly instead: uptables does not reassemble.)
  {
    name: "first fragment",
    packet: () => {
      const whole = buildUdp({ src: SOURCE, dst: CONTAINER, sport: 5001, dport: 7, payload: new Uint8Array(40).fill(7) });
      return buildIpv4({ src: SOURCE, dst: CONTAINER, protocol: 17, id: 78, mf: true, payload: whole.subarray(20, 36) });
    },
    expect: { invalid: 1, drops: {} },
  },
  // Valid IP options (NOP NOP NOP EOL) before a good SYN: nothing wrong, the connection is new.
  { name: "good SYN behind IP options", packet: () => syn(80, { ipOptions: [1, 1, 1, 0], sport: 41000 }), expect: { insert: 1, drops: {} } },
];

describe.skipIf(why !== null)("malformed packets injected through a TUN", () => {
  // With --offload the TUNs carry a virtio_net_hdr; these packets were built without offloads, so
  // their flags say nothing and conntrack checks their sums as before: the counts must not change.
  it.each([
    ["without offloads", []],
    ["with --offload", ["--offload"]],
  ])("are dropped or marked INVALID and counted exactly; good traffic still flows (%s)", async (_what, daemonOptions) => {
    // The benchmark's lab (client, host, server as the container), named like every test's namespaces.
    const ns = new BenchNamespaces(`upt-test-${process.pid}-malformed${daemonOptions.length}`);
    const dir = mkdtempSync(join(tmpdir(), "upt-malformed-"));
    let injector: TunDevice | null = null;
    try {
      const lab = buildLab(ns);
      ns.exec(lab.host, ["ip", "route", "add", "10.99.0.0/24", "via", CLIENT_ADDRESS]);
      ns.exec(lab.client, ["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0"]);
      await ns.start(
        lab.server,
        ["node", "-e", `require("http").createServer((q,s)=>s.end("peer "+q.socket.remoteAddress.replace(/^::ffff:/,""))).listen(80,"${CONTAINER}",()=>console.log("listening"))`],
        "listening",
      );

      // The injector: a TUN in the client namespace; packets written to it arrive "from" 10.99.0.0/24.
      injector = TunDevice.open("inj0", { netns: `/run/netns/${lab.client}` });
      ns.exec(lab.client, ["bash", "-c", "set -e\nsysctl -qw net.ipv4.conf.inj0.rp_filter=0\nip link set inj0 up\nip route add 10.99.0.0/24 dev inj0"]);
      const curl = (): string => ns.exec(lab.client, ["curl", "-s", "-m", "5", `http://${HOST}:8080/`]);

      const rules = join(dir, "rules");
      writeFileSync(rules, benchRules());
      const daemon = await ns.start(lab.host, [process.execPath, join(REPO_ROOT, "bin/uptables.mjs"), "daemon", "--ruleset", rules, ...daemonOptions], "ready (pid");
      const socketPath = join(CONTROL_DIR, `${statSync(`/run/netns/${lab.host}`).ino}.sock`);
      const status = async (): Promise<DaemonStatus> => {
        const reply = await request(socketPath, { op: "stats" });
        expect(reply.exitCode, reply.stderr).toBe(0);
        return parseStatus(reply.stdout);
      };

      // Good traffic first, so the path is known to work before anything is injected.
      expect(curl()).toBe(`peer ${CLIENT_ADDRESS}`);

      for (const c of CASES) {
        const before = await status();
        injector.writePackets([c.packet()]);
        let after = await status();
        for (let tries = 0; after.packets.in === before.packets.in && tries < 100; tries++) {
          await new Promise((r) => setTimeout(r, 50));
          after = await status();
        }
        expect(after.packets.in, `${c.name}: the packet never reached the daemon`).toBeGreaterThan(before.packets.in);
        const d = delta(before, after);
        expect({ name: c.name, ...d }).toEqual({ name: c.name, invalid: c.expect.invalid ?? 0, error: c.expect.error ?? 0, insert: c.expect.insert ?? 0, drops: c.expect.drops ?? {} });
      }

      // Every packet read is accounted for: accepted or dropped for a reason.
      const end = await status();
      expect(end.packets.accepted + end.packets.dropped).toBe(end.packets.in);
      expect(Object.values(end.drops).reduce((a, b) => a + b, 0)).toBe(end.packets.dropped);
      expect(end.drops["engine-error"]).toBe(0);

      // conntrack -S shows the same counters in conntrack-tools' format.
      const stats = { stdout: ns.exec(lab.host, [process.execPath, join(REPO_ROOT, "bin/uptables.mjs"), "conntrack", "-S"]) };
      expect(stats.stdout).toMatch(/^cpu=0   \tfound=\d+ invalid=\d+ insert=\d+ insert_failed=\d+ drop=\d+ early_drop=\d+ error=\d+ search_restart=\d+ clash_resolve=0 chaintoolong=0 \n$/);
      expect(stats.stdout).toContain(` invalid=${end.conntrack.invalid} `);
      expect(stats.stdout).toContain(` error=${end.conntrack.error} `);

      // And the daemon still serves good traffic.
      expect(curl()).toBe(`peer ${CLIENT_ADDRESS}`);

      daemon.child.kill("SIGTERM");
      expect(await waitExit(daemon.child)).toBe(0);
    } finally {
      injector?.close();
      const problems = ns.removeAll();
      rmSync(dir, { recursive: true, force: true });
      expect(problems).toEqual([]);
      expect(run(["ip", "netns", "list"]).stdout).not.toContain(`upt-test-${process.pid}-malformed${daemonOptions.length}-`);
    }
  }, 120_000);
});
