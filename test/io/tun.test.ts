// The TUN binding (native-bindings/, src/io/tun.ts) and the C reflector against the real kernel.
// Needs root, network namespaces, /dev/net/tun and the native build: every device lives in a
// scratch namespace `upt-test-<pid>-<n>` made here and removed afterwards (the machine's own
// namespace is never touched). TUN devices are created there with the `netns` option, so this
// process holds their file descriptors and reads them from its own event loop; the UDP peers run
// as small child processes inside the namespace (`ip netns exec`).
// Under CI=true a machine that cannot run these fails the file; elsewhere it is skipped, loudly.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildUdp } from "../../src/core/packet/builder.ts";
import {
  loadTunAddon,
  PacketBatch,
  readVnetHeader,
  REFLECTOR_PATH,
  TunDevice,
  tunAddonProblem,
  VNET_HDR_GSO_NONE,
  VNET_HDR_LEN,
  writeVnetHeader,
  type TunError,
} from "../../src/io/tun.ts";
import { decode } from "../support/packets.ts";
import { destroyAllNetns, IN_CI, kernelTestProblem, Netns, run } from "../support/netns.ts";

function tunProblem(): string | null {
  const kernel = kernelTestProblem(["ip", "setpriv"]);
  if (kernel !== null) return kernel;
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (no tun module: modprobe tun)";
  const addon = tunAddonProblem();
  if (addon !== null) return addon;
  if (!existsSync(REFLECTOR_PATH)) return `the reflector is not built (${REFLECTOR_PATH}): run npm run build:native`;
  return null;
}

const problem = tunProblem();
if (problem !== null) {
  if (IN_CI) throw new Error(`TUN tests need root, network namespaces, /dev/net/tun and the native build, and CI=true forbids skipping them: ${problem}`);
  console.warn(`[skipped] TUN tests: ${problem}`);
}

afterAll(() => destroyAllNetns());

// --- helpers ---------------------------------------------------------------------------------

/** Configures a TUN inside a namespace: address, up, loopback up. */
function bringUp(ns: Netns, dev: string, cidr: string): void {
  const r = ns.script(`set -e\nip link set lo up\nip addr add ${cidr} dev ${dev}\nip link set ${dev} up\n`);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<ChildResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// A UDP peer for the namespace: binds, sends `count` datagrams, and (when asked) waits for
// `replies` datagrams back, printing each as a JSON line. Plain JS, run by node -e.
const UDP_PEER = `
const dgram = require("node:dgram");
const o = JSON.parse(process.argv[1]);
const s = dgram.createSocket("udp4");
const timer = setTimeout(() => { console.error("timeout waiting for replies"); process.exit(3); }, o.timeoutMs);
let got = 0;
s.on("message", (msg, rinfo) => {
  console.log(JSON.stringify({ address: rinfo.address, port: rinfo.port, data: msg.toString() }));
  if (++got >= o.replies) { clearTimeout(timer); s.close(); }
});
s.bind(o.bindPort, o.bindAddress, () => {
  let i = 0;
  const next = () => {
    if (i >= o.count) { if (o.replies === 0) { clearTimeout(timer); s.close(); } return; }
    s.send(o.payload + (o.count > 1 ? " " + i : ""), o.port, o.address, (err) => { if (err) { console.error(err.message); process.exit(2); } i++; next(); });
  };
  next();
});
`;

interface PeerOptions {
  bindAddress: string;
  bindPort: number;
  address: string;
  port: number;
  payload: string;
  count?: number;
  replies?: number;
  timeoutMs?: number;
}

function udpPeer(ns: Netns, options: PeerOptions): Promise<ChildResult> {
  const o = { count: 1, replies: 0, timeoutMs: 10_000, ...options };
  const child = spawn("ip", ["netns", "exec", ns.name, process.execPath, "-e", UDP_PEER, JSON.stringify(o)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return collect(child);
}

function parseLines(stdout: string): Array<{ address: string; port: number; data: string }> {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { address: string; port: number; data: string });
}

/** Resolves with the first packet `match` accepts (copied out of the shared buffer), or rejects after a while. */
function nextPacket(tun: TunDevice, match: (p: Uint8Array) => boolean, timeoutMs = 10_000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      tun.pause();
      reject(new Error(`no matching packet on ${tun.name} within ${timeoutMs} ms`));
    }, timeoutMs);
    tun.onPackets(
      (batch) => {
        for (let i = 0; i < batch.count; i++) {
          const p = batch.packet(i);
          if (match(p)) {
            clearTimeout(timer);
            tun.pause();
            resolve(Uint8Array.from(p));
            return;
          }
        }
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const isUdpTo = (dst: string, dport: number) => (p: Uint8Array): boolean => {
  if (p.length < 28 || p[0]! >> 4 !== 4) return false;
  const d = decode(p);
  return d.protocol === 17 && d.dst === dst && d.dport === dport;
};

function payloadOf(p: Uint8Array): string {
  const ihl = (p[0]! & 0x0f) * 4;
  return Buffer.from(p.subarray(ihl + 8)).toString();
}

/** Waits until the reflector prints its ready line. */
function waitReady(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`reflector not ready: ${seen}`)), 10_000);
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      seen += s;
      const line = seen.split("\n").find((l) => l.startsWith("ready "));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`reflector exited (${code}) before it was ready`));
    });
  });
}

function withNs<T>(fn: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = Netns.create();
  return fn(ns).finally(() => ns.destroy());
}

// --- tests -----------------------------------------------------------------------------------

describe.skipIf(problem !== null)("TUN device binding", () => {
  it("opens a TUN in a namespace with IFF_TUN | IFF_NO_PI, non-blocking, under the name asked for", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        expect(tun.name).toBe("upt0");
        expect(tun.fd).toBeGreaterThanOrEqual(0);
        expect(tun.vnetHeader).toBe(false);
        expect(tun.multiQueue).toBe(false);
        const link = ns.exec(["ip", "-j", "link", "show", "upt0"]);
        expect(link.exitCode).toBe(0);
        expect(JSON.parse(link.stdout)[0].ifname).toBe("upt0");
        // Never in the machine's own namespace.
        expect(run(["ip", "link", "show", "upt0"]).exitCode).not.toBe(0);
        // Non-blocking: nothing waiting is a batch of 0, not an error and not a hang.
        expect(tun.read().count).toBe(0);
      } finally {
        tun.close();
      }
      // The device goes away with its last file descriptor.
      expect(ns.exec(["ip", "link", "show", "upt0"]).exitCode).not.toBe(0);
    });
  });

  it("lets the kernel number the device for \"\" and for a %d pattern", async () => {
    await withNs(async (ns) => {
      const a = TunDevice.open("", { netns: ns.name });
      const b = TunDevice.open("upt%d", { netns: ns.name });
      try {
        expect(a.name).toMatch(/^tun\d+$/);
        expect(b.name).toMatch(/^upt\d+$/);
      } finally {
        a.close();
        b.close();
      }
    });
  });

  it("reads a UDP datagram sent through the TUN and delivers a crafted reply to the sending socket", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        bringUp(ns, "upt0", "10.99.0.1/24");
        const packet = nextPacket(tun, isUdpTo("10.99.0.2", 7777));
        const peer = udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5555, address: "10.99.0.2", port: 7777, payload: "hello uptables", replies: 1 });
        const p = await packet;
        const d = decode(p);
        expect(d).toMatchObject({ src: "10.99.0.1", dst: "10.99.0.2", sport: 5555, dport: 7777, protocol: 17, checksumsValid: true });
        expect(p.length).toBe(20 + 8 + "hello uptables".length);
        expect(payloadOf(p)).toBe("hello uptables");
        expect(tun.stats.packetsRead).toBeGreaterThanOrEqual(1);

        const reply = buildUdp({ src: "10.99.0.2", dst: "10.99.0.1", sport: 7777, dport: 5555, payload: "hello back" });
        expect(tun.writePackets([reply])).toBe(1);
        expect(tun.stats.packetsWritten).toBe(1);
        const result = await peer;
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(parseLines(result.stdout)).toEqual([{ address: "10.99.0.2", port: 7777, data: "hello back" }]);
      } finally {
        tun.close();
      }
    });
  });

  it("reads many waiting packets with one readBatch call, each in its own slot", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name, batchSize: 64 });
      try {
        bringUp(ns, "upt0", "10.99.0.1/24");
        // Nobody reads while the peer sends: the datagrams wait in the device's queue.
        const result = await udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5556, address: "10.99.0.2", port: 7778, payload: "datagram", count: 20 });
        expect(result.code).toBe(0);
        const batch = tun.read();
        const ours: string[] = [];
        for (let i = 0; i < batch.count; i++) {
          expect(batch.offsets[i]).toBe(i * 65536);
          const p = batch.packet(i);
          expect(p.length).toBe(batch.lengths[i]);
          if (isUdpTo("10.99.0.2", 7778)(p)) ours.push(payloadOf(p));
        }
        expect(ours).toEqual(Array.from({ length: 20 }, (_, i) => `datagram ${i}`));
        expect(batch.count).toBeGreaterThanOrEqual(20);
        expect(tun.read().count).toBe(0);
      } finally {
        tun.close();
      }
    });
  });

  it("readBatch honours maxPackets and packed caller-chosen slots (slot i ends where slot i+1 starts)", async () => {
    await withNs(async (ns) => {
      const addon = loadTunAddon();
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        bringUp(ns, "upt0", "10.99.0.1/24");
        // Drop IPv6 chatter (router solicitations) so the queue holds only our datagrams.
        ns.exec(["sysctl", "-qw", "net.ipv6.conf.upt0.disable_ipv6=1"]);
        tun.read();
        const result = await udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5557, address: "10.99.0.2", port: 7779, payload: "x", count: 6 });
        expect(result.code).toBe(0);
        const buffer = new Uint8Array(4 * 40);
        const offsets = new Uint32Array([0, 40, 80, 120]); // 40-byte slots; each packet is 20 + 8 + 3
        const lengths = new Uint32Array(4);
        expect(addon.readBatch(tun.fd, buffer, offsets, lengths, 2)).toBe(2);
        expect(Array.from(lengths.subarray(0, 2))).toEqual([31, 31]);
        expect(addon.readBatch(tun.fd, buffer, offsets, lengths, 4)).toBe(4);
        expect(Array.from(lengths)).toEqual([31, 31, 31, 31]);
        for (let i = 0; i < 4; i++) {
          const p = buffer.subarray(offsets[i]!, offsets[i]! + lengths[i]!);
          expect(payloadOf(p)).toBe(`x ${i + 2}`);
        }
        expect(addon.readBatch(tun.fd, buffer, offsets, lengths, 4)).toBe(0);
        // Slots that do not ascend or leave the buffer are refused before any read.
        expect(() => addon.readBatch(tun.fd, buffer, new Uint32Array([80, 40]), lengths, 2)).toThrow(/offsets must ascend/);
        expect(() => addon.readBatch(tun.fd, buffer, new Uint32Array([200]), lengths, 1)).toThrow(RangeError);
        expect(() => addon.readBatch(tun.fd, new Uint16Array(4) as unknown as Uint8Array, offsets, lengths, 1)).toThrow(TypeError);
      } finally {
        tun.close();
      }
    });
  });

  it("writeBatch drops a packet the kernel refuses (EINVAL), counts it, and writes the rest", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        bringUp(ns, "upt0", "10.99.0.1/24");
        const peer = udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5558, address: "10.99.0.2", port: 7780, payload: "ping", replies: 2 });
        await nextPacket(tun, isUdpTo("10.99.0.2", 7780));
        const garbage = new Uint8Array(40); // version nibble 0: neither IPv4 nor IPv6
        const one = buildUdp({ src: "10.99.0.2", dst: "10.99.0.1", sport: 7780, dport: 5558, payload: "one" });
        const two = buildUdp({ src: "10.99.0.2", dst: "10.99.0.1", sport: 7780, dport: 5558, payload: "two" });
        expect(tun.writePackets([one, garbage, two])).toBe(2);
        expect(tun.stats.writeErrors).toBe(1);
        expect(tun.stats.lastWriteError).toBe("EINVAL");
        const result = await peer;
        expect(parseLines(result.stdout).map((r) => r.data)).toEqual(["one", "two"]);
      } finally {
        tun.close();
      }
    });
  });

  it("writing while the device is down: EIO, counted as a write error, nothing thrown", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        const p = buildUdp({ src: "10.99.0.2", dst: "10.99.0.1", sport: 1, dport: 2, payload: "x" });
        expect(tun.writePackets([p, p])).toBe(0);
        expect(tun.stats).toMatchObject({ writeErrors: 2, packetsWritten: 0, writeBlocked: 0, lastWriteError: "EIO" });
      } finally {
        tun.close();
      }
    });
  });

  it("rewrites a batch in place and writes it back (the datapath's shape)", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        bringUp(ns, "upt0", "10.99.0.1/24");
        const seen: number[] = [];
        tun.onPackets((batch: PacketBatch) => {
          seen.push(batch.count);
          // Swap addresses and ports of IPv4 UDP packets: every checksum stays valid.
          let keep = 0;
          for (let i = 0; i < batch.count; i++) {
            const at = batch.offsets[i]!;
            const b = batch.buffer;
            if (b[at]! >> 4 !== 4 || b[at + 9] !== 17) continue;
            for (let k = 0; k < 4; k++) [b[at + 12 + k], b[at + 16 + k]] = [b[at + 16 + k]!, b[at + 12 + k]!];
            const l4 = at + (b[at]! & 0x0f) * 4;
            for (let k = 0; k < 2; k++) [b[l4 + k], b[l4 + 2 + k]] = [b[l4 + 2 + k]!, b[l4 + k]!];
            batch.offsets[keep] = at;
            batch.lengths[keep] = batch.lengths[i]!;
            keep++;
          }
          tun.write({ buffer: batch.buffer, offsets: batch.offsets, lengths: batch.lengths, count: keep });
          // Put the slots back in order for the next read.
          for (let i = 0; i < batch.offsets.length; i++) batch.offsets[i] = i * 65536;
        });
        const result = await udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5559, address: "10.99.0.2", port: 7781, payload: "echo", count: 5, replies: 5 });
        expect(result.stderr).toBe("");
        expect(parseLines(result.stdout)).toEqual(Array.from({ length: 5 }, (_, i) => ({ address: "10.99.0.2", port: 7781, data: `echo ${i}` })));
        expect(seen.length).toBeGreaterThan(0);
        expect(tun.stats.packetsWritten).toBeGreaterThanOrEqual(5);
      } finally {
        tun.close();
      }
    });
  });

  it("with vnetHeader: offloads set, a virtio_net_hdr before each packet read, and one expected on write", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name, vnetHeader: true });
      try {
        expect(tun.vnetHeader).toBe(true);
        expect(tun.offloads & 0x07).toBe(0x07); // TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6
        bringUp(ns, "upt0", "10.99.0.1/24");
        const peer = udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5560, address: "10.99.0.2", port: 7782, payload: "vnet", replies: 1 });
        let header: ReturnType<typeof readVnetHeader> | undefined;
        const p = await new Promise<Uint8Array>((resolve) => {
          tun.onPackets((batch) => {
            for (let i = 0; i < batch.count; i++) {
              expect(batch.headerLength).toBe(VNET_HDR_LEN);
              const ip = batch.packet(i);
              if (isUdpTo("10.99.0.2", 7782)(ip)) {
                header = readVnetHeader(batch.buffer, batch.offsets[i]!);
                tun.pause();
                resolve(Uint8Array.from(ip));
              }
            }
          });
        });
        expect(header?.gsoType).toBe(VNET_HDR_GSO_NONE);
        expect(payloadOf(p)).toBe("vnet");
        const reply = buildUdp({ src: "10.99.0.2", dst: "10.99.0.1", sport: 7782, dport: 5560, payload: "vnet back" });
        const framed = new Uint8Array(VNET_HDR_LEN + reply.length);
        writeVnetHeader(framed, 0);
        framed.set(reply, VNET_HDR_LEN);
        expect(tun.writePackets([framed])).toBe(1);
        const result = await peer;
        expect(parseLines(result.stdout)).toEqual([{ address: "10.99.0.2", port: 7782, data: "vnet back" }]);
      } finally {
        tun.close();
      }
    });
  });

  it("multi-queue: the same name opens again as another queue; a single-queue open of it is refused", async () => {
    await withNs(async (ns) => {
      const q1 = TunDevice.open("uptmq0", { netns: ns.name, multiQueue: true });
      const q2 = TunDevice.open("uptmq0", { netns: ns.name, multiQueue: true });
      try {
        expect(q1.multiQueue && q2.multiQueue).toBe(true);
        expect(q2.name).toBe("uptmq0");
        expect(() => TunDevice.open("uptmq0", { netns: ns.name })).toThrow(expect.objectContaining({ code: "EINVAL" }));
      } finally {
        q1.close();
        q2.close();
      }
    });
  });

  it("pause/resume and close from inside the handler: no callbacks after close", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        bringUp(ns, "upt0", "10.99.0.1/24");
        let calls = 0;
        const closed = new Promise<void>((resolve) => {
          tun.onPackets(() => {
            calls++;
            tun.close();
            resolve();
          });
        });
        tun.pause();
        await udpPeer(ns, { bindAddress: "10.99.0.1", bindPort: 5561, address: "10.99.0.2", port: 7783, payload: "p", count: 3 });
        await new Promise((r) => setTimeout(r, 50));
        expect(calls).toBe(0); // paused: packets wait in the kernel
        tun.resume();
        await closed;
        await new Promise((r) => setTimeout(r, 50));
        expect(calls).toBe(1);
        expect(tun.closed).toBe(true);
        expect(tun.fd).toBe(-1);
      } finally {
        tun.close();
      }
    });
  });
});

describe.skipIf(problem !== null)("TUN errors", () => {
  it("a device deleted under it: onError gets EBADF, polling stops, the handle closes cleanly", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        const failed = new Promise<TunError>((resolve) => tun.onPackets(() => undefined, resolve));
        expect(ns.exec(["ip", "link", "del", "upt0"]).exitCode).toBe(0);
        const error = await failed;
        expect(error.code).toBe("EBADF");
        expect(error.message).toMatch(/TUN device upt0 went away/);
      } finally {
        tun.close();
      }
      expect(tun.closed).toBe(true);
    });
  });

  const expectTunError = (fn: () => unknown, code: string, message: RegExp): TunError => {
    let caught: unknown;
    try {
      fn();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    const e = caught as TunError;
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    return e;
  };

  it("a name of 16 or more characters is refused before the kernel sees it", async () => {
    await withNs(async (ns) => {
      const e = expectTunError(() => TunDevice.open("a-name-of-16-chr", { netns: ns.name }), "EINVAL", /"a-name-of-16-chr".*at most 15/);
      expect(e.errno).toBe(-22);
      expect(ns.exec(["ip", "-o", "link"]).stdout).not.toMatch(/a-name-of/);
    });
  });

  it("EBUSY for a second open of a single-queue device, naming the device", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        const e = expectTunError(() => TunDevice.open("upt0", { netns: ns.name }), "EBUSY", /TUN device "upt0".*TUNSETIFF.*EBUSY/);
        expect(e.errno).toBe(-16);
        expect(e.syscall).toBe("ioctl(TUNSETIFF)");
        expect(e.device).toBe("upt0");
      } finally {
        tun.close();
      }
    });
  });

  it("ENOENT when the clone device is missing, and when the namespace is", () => {
    expectTunError(() => TunDevice.open("upt0", { clonePath: "/nonexistent/net/tun" }), "ENOENT", /\/nonexistent\/net\/tun.*modprobe tun/);
    expectTunError(() => TunDevice.open("upt0", { netns: `upt-test-${process.pid}-missing` }), "ENOENT", /no such network namespace/);
  });

  it("EPERM without CAP_NET_ADMIN, with a message that says root is needed", async () => {
    await withNs(async (ns) => {
      const script = `import("${new URL("../../src/io/tun.ts", import.meta.url).href}").then((m) => {
        try { m.TunDevice.open("upt0"); console.log("opened"); } catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, message: e.message })); }
      });`;
      const r = ns.exec(["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", process.execPath, "--import", "tsx", "-e", script]);
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout) as { code: string; errno: number; message: string };
      expect(out.code).toBe("EPERM");
      expect(out.errno).toBe(-1);
      expect(out.message).toMatch(/TUN device "upt0".*needs root/);
    });
  });

  it("close is idempotent; reading or writing a closed device throws EBADF", async () => {
    await withNs(async (ns) => {
      const tun = TunDevice.open("upt0", { netns: ns.name });
      tun.close();
      tun.close();
      expect(tun.closed).toBe(true);
      expectTunError(() => tun.read(), "EBADF", /closed/);
      expectTunError(() => tun.writePackets([new Uint8Array(20)]), "EBADF", /closed/);
      expect(() => tun.resume()).toThrow(/resume\(\) before onPackets/);
    });
  });

  it("the addon checks its arguments", async () => {
    await withNs(async (ns) => {
      const addon = loadTunAddon();
      const tun = TunDevice.open("upt0", { netns: ns.name });
      try {
        const buf = new Uint8Array(100);
        expect(() => addon.writeBatch(tun.fd, buf, new Uint32Array([90]), new Uint32Array([20]), 1)).toThrow(/outside the buffer/);
        expect(() => addon.writeBatch(tun.fd, buf, new Uint32Array(1), new Uint32Array(1), 2)).toThrow(RangeError);
        expect(() => addon.readBatch(tun.fd, buf, [0] as unknown as Uint32Array, new Uint32Array(1), 1)).toThrow(/Uint32Array/);
        expect(() => addon.openTun(42 as unknown as string)).toThrow(TypeError);
      } finally {
        tun.close();
      }
    });
  });
});

describe.skipIf(problem !== null)("upt-reflector", () => {
  function startReflector(ns: Netns, args: string[], command = [REFLECTOR_PATH]): { child: ChildProcess; done: Promise<ChildResult> } {
    const child = spawn("ip", ["netns", "exec", ns.name, ...command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const done = new Promise<ChildResult>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stdout: "", stderr }));
    });
    return { child, done };
  }

  const TS_REFLECTOR = fileURLToPath(new URL("../../native-bindings/bench/tun-reflect.ts", import.meta.url));
  const variants: Array<[string, string[], string[]]> = [
    ["upt-reflector", [REFLECTOR_PATH], []],
    ["upt-reflector", [REFLECTOR_PATH], ["--vnet-hdr"]],
    ["tun-reflect.ts", [process.execPath, "--import", "tsx", TS_REFLECTOR], []],
    ["tun-reflect.ts", [process.execPath, "--import", "tsx", TS_REFLECTOR], ["--vnet-hdr"]],
  ];
  for (const [program, command, mode] of variants) {
    it(`${program} --swap${mode.length ? " " + mode.join(" ") : ""} reflects packets back into the TUN: a UDP socket gets its datagrams echoed`, async () => {
      await withNs(async (ns) => {
        const { child, done } = startReflector(ns, ["--swap", ...mode, "uptr0"], command);
        try {
          expect(await waitReady(child)).toBe(`ready uptr0${mode.length ? " vnet-hdr" : ""} swap`);
          bringUp(ns, "uptr0", "10.98.0.1/24");
          const result = await udpPeer(ns, { bindAddress: "10.98.0.1", bindPort: 4000, address: "10.98.0.2", port: 9000, payload: "reflect me", count: 3, replies: 3 });
          expect(result.stderr).toBe("");
          expect(parseLines(result.stdout)).toEqual(Array.from({ length: 3 }, (_, i) => ({ address: "10.98.0.2", port: 9000, data: `reflect me ${i}` })));
        } finally {
          child.kill("SIGTERM");
        }
        const exit = await done;
        expect(exit.code).toBe(0);
        expect(exit.stderr).toMatch(new RegExp(`${program === "upt-reflector" ? "upt-reflector" : "tun-reflect"}: uptr0: reflected \\d+ packets, \\d+ bytes, 0 write errors, .*stopped by SIGTERM`));
        const reflected = Number(/reflected (\d+) packets/.exec(exit.stderr)![1]);
        expect(reflected).toBeGreaterThanOrEqual(3);
      });
    });
  }

  it("exits 0 on SIGINT and removes its device", async () => {
    await withNs(async (ns) => {
      const { child, done } = startReflector(ns, ["uptr1"]);
      await waitReady(child);
      expect(ns.exec(["ip", "link", "show", "uptr1"]).exitCode).toBe(0);
      child.kill("SIGINT");
      const exit = await done;
      expect(exit.code).toBe(0);
      expect(exit.stderr).toMatch(/stopped by SIGINT/);
      expect(ns.exec(["ip", "link", "show", "uptr1"]).exitCode).not.toBe(0);
    });
  });

  it("argument errors exit 2 with a message; a device that cannot be opened exits 1", async () => {
    await withNs(async (ns) => {
      const cases: Array<[string[], number, RegExp]> = [
        [[], 2, /usage: upt-reflector/],
        [["--bogus", "x"], 2, /unknown option --bogus/],
        [["a-name-of-16-chr"], 2, /at most 15/],
        [["--batch", "0", "x"], 2, /--batch must be/],
        [["a", "b"], 2, /one device name only/],
      ];
      for (const [args, code, message] of cases) {
        const r = ns.exec([REFLECTOR_PATH, ...args]);
        expect(r.exitCode, args.join(" ")).toBe(code);
        expect(r.stderr).toMatch(message);
      }
      const held = TunDevice.open("uptbusy", { netns: ns.name });
      try {
        const r = ns.exec([REFLECTOR_PATH, "uptbusy"]);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(/cannot open TUN device "uptbusy".*busy/);
      } finally {
        held.close();
      }
      expect(ns.exec([REFLECTOR_PATH, "--help"]).exitCode).toBe(0);
    });
  });
});
