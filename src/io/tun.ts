// TUN devices for the datapath: a typed wrapper around uptables' own N-API addon
// (native-bindings/src/tun_addon.cc, built by `npm install` / `npm run build:native` into
// native-bindings/build/Release/uptables_tun.node). Linux only; opening a device needs root
// (CAP_NET_ADMIN).
//
//   const tun = TunDevice.open("upt-eth0");
//   tun.onPackets((batch) => {            // called from the event loop when packets are waiting
//     for (let i = 0; i < batch.count; i++) {
//       const at = batch.offsets[i] + batch.headerLength, len = batch.lengths[i] - batch.headerLength;
//       // ...look at / rewrite batch.buffer[at, at + len) in place...
//     }
//     tun.write(batch);                   // writes every packet of the batch back
//   });
//   ...
//   tun.close();
//
// Buffers: a device reads into ONE preallocated buffer split into `batchSize` slots of `slotSize`
// bytes (slot i starts at offsets[i] = i * slotSize). A batch is valid until its callback returns:
// the next read reuses the buffer, so copy what must outlive it. Nothing is allocated per packet.
// With `vnetHeader`, every packet in a slot starts with the 10-byte virtio_net_hdr (lengths include
// it, batch.headerLength is 10); packets up to 64 KiB (TSO/USO super-packets) may arrive, and
// partially checksummed ones (VNET_HDR_F_NEEDS_CSUM). Written packets need the header too (all
// zeros: a plain packet, checksums already complete).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// --- the addon --------------------------------------------------------------------------------

/** What the addon's openTun returns: the open file descriptor and its libuv poll handle. */
export interface NativeTunHandle {
  readonly fd: number;
  readonly name: string;
  /** IFF_* flags as the kernel reports them (TUNGETIFF). */
  readonly flags: number;
  readonly vnetHeader: boolean;
  readonly multiQueue: boolean;
  /** TUN_F_* offloads in force (0 without vnetHeader). */
  readonly offloads: number;
  readonly closed: boolean;
  readonly polling: boolean;
  /** Calls `callback(status)` from the event loop while packets are waiting (level-triggered). */
  poll(callback: (status: number) => void): void;
  /** Polls again with the last callback after stop(). */
  start(): void;
  /** No more callbacks until start(); idempotent. */
  stop(): void;
  /** Stops polling and closes the fd; idempotent. */
  close(): void;
}

export interface NativeTunOptions {
  multiQueue?: boolean;
  vnetHeader?: boolean;
  offloads?: number;
  netns?: string;
  clonePath?: string;
}

export interface TunAddon {
  openTun(name: string, options?: NativeTunOptions): NativeTunHandle;
  readBatch(fd: number, buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, maxPackets: number): number;
  writeBatch(
    fd: number,
    buffer: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
    errors?: Int32Array,
  ): number;
  readonly constants: Readonly<Record<
    | "IFF_TUN" | "IFF_NO_PI" | "IFF_MULTI_QUEUE" | "IFF_VNET_HDR"
    | "TUN_F_CSUM" | "TUN_F_TSO4" | "TUN_F_TSO6" | "TUN_F_TSO_ECN" | "TUN_F_USO4" | "TUN_F_USO6" | "VNET_HDR_LEN",
    number
  >>;
}

/** Where the build puts the addon and the reflector. */
export const NATIVE_BUILD_DIR = fileURLToPath(new URL("../../native-bindings/build/Release/", import.meta.url));
export const ADDON_PATH = `${NATIVE_BUILD_DIR}uptables_tun.node`;
/** The C reflector (native-bindings/reflector.c): `upt-reflector [--swap] [--vnet-hdr] NAME`. */
export const REFLECTOR_PATH = `${NATIVE_BUILD_DIR}upt-reflector`;

const BUILD_HINT = "run npm install (or npm run build:native); the build needs g++, make, python3";

let addon: TunAddon | undefined;
let addonError: Error | undefined;

/** The addon, loaded on first use; throws a clear error when it was not built or does not load. */
export function loadTunAddon(): TunAddon {
  if (addon !== undefined) return addon;
  if (addonError !== undefined) throw addonError;
  if (process.platform !== "linux") {
    addonError = new Error(`uptables: TUN devices are Linux-only (this is ${process.platform})`);
  } else if (!existsSync(ADDON_PATH)) {
    addonError = new Error(`uptables: the TUN addon is not built (${ADDON_PATH} is missing): ${BUILD_HINT}`);
  } else {
    try {
      addon = createRequire(import.meta.url)(ADDON_PATH) as TunAddon;
      return addon;
    } catch (error) {
      addonError = new Error(`uptables: the TUN addon at ${ADDON_PATH} does not load (${(error as Error).message}): ${BUILD_HINT}`);
    }
  }
  throw addonError;
}

/** Why TUN devices cannot be used here (addon missing, not Linux...), or null when they can. */
export function tunAddonProblem(): string | null {
  try {
    loadTunAddon();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

// --- constants ---------------------------------------------------------------------------------

export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_VNET_HDR = 0x4000;
/** Offloads for TUNSETOFFLOAD (vnetHeader only). */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_USO4 = 0x20;
export const TUN_F_USO6 = 0x40;
/** What vnetHeader asks for by default; the USO bits are dropped on kernels before 6.2. */
export const DEFAULT_OFFLOADS = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6;

/** struct virtio_net_hdr: 10 bytes before every packet with vnetHeader. */
export const VNET_HDR_LEN = 10;
export const VNET_HDR_F_NEEDS_CSUM = 1;
export const VNET_HDR_F_DATA_VALID = 2;
export const VNET_HDR_GSO_NONE = 0;
export const VNET_HDR_GSO_TCPV4 = 1;
export const VNET_HDR_GSO_UDP = 3;
export const VNET_HDR_GSO_TCPV6 = 4;
export const VNET_HDR_GSO_UDP_L4 = 5;
export const VNET_HDR_GSO_ECN = 0x80;

/** A virtio_net_hdr, fields in host byte order (little-endian on x86 and arm64, as the TUN uses them). */
export interface VnetHeader {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function get16(buf: Uint8Array, at: number): number {
  return LITTLE_ENDIAN ? buf[at]! | (buf[at + 1]! << 8) : (buf[at]! << 8) | buf[at + 1]!;
}

function put16(buf: Uint8Array, at: number, value: number): void {
  if (LITTLE_ENDIAN) {
    buf[at] = value & 0xff;
    buf[at + 1] = (value >>> 8) & 0xff;
  } else {
    buf[at] = (value >>> 8) & 0xff;
    buf[at + 1] = value & 0xff;
  }
}

/** Reads the virtio_net_hdr at `offset` (a slot's start). */
export function readVnetHeader(buf: Uint8Array, offset: number): VnetHeader {
  return {
    flags: buf[offset]!,
    gsoType: buf[offset + 1]!,
    hdrLen: get16(buf, offset + 2),
    gsoSize: get16(buf, offset + 4),
    csumStart: get16(buf, offset + 6),
    csumOffset: get16(buf, offset + 8),
  };
}

/** Writes a virtio_net_hdr at `offset`; with no header given, the all-zero one of a plain packet. */
export function writeVnetHeader(buf: Uint8Array, offset: number, header?: Partial<VnetHeader>): void {
  buf[offset] = header?.flags ?? 0;
  buf[offset + 1] = header?.gsoType ?? 0;
  put16(buf, offset + 2, header?.hdrLen ?? 0);
  put16(buf, offset + 4, header?.gsoSize ?? 0);
  put16(buf, offset + 6, header?.csumStart ?? 0);
  put16(buf, offset + 8, header?.csumOffset ?? 0);
}

// --- TunDevice ---------------------------------------------------------------------------------

export interface TunOpenOptions {
  /** IFF_MULTI_QUEUE: open one queue of a multi-queue device (open the same name again for more). */
  multiQueue?: boolean;
  /** IFF_VNET_HDR + TUNSETOFFLOAD: a virtio_net_hdr before every packet, super-packets up to 64 KiB. */
  vnetHeader?: boolean;
  /** TUN_F_* bits to ask for with vnetHeader (default DEFAULT_OFFLOADS). */
  offloads?: number;
  /** Create the device in this network namespace (a name in /run/netns, or a path) instead of ours. */
  netns?: string;
  /** Packets read per readBatch call, and slots in the read buffer (default 64). */
  batchSize?: number;
  /** Bytes per slot (default 65536, plus the virtio_net_hdr with vnetHeader): a longer packet is cut. */
  slotSize?: number;
  /** The clone device (default /dev/net/tun); for tests of the error path. */
  clonePath?: string;
}

/** Packets as the device hands them over, and as write() takes them. */
export interface PacketBatchLike {
  readonly buffer: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly count: number;
}

/** The packets of one readBatch call: packet i is buffer[offsets[i], offsets[i] + lengths[i]). */
export class PacketBatch implements PacketBatchLike {
  count = 0;
  constructor(
    readonly buffer: Uint8Array,
    readonly offsets: Uint32Array,
    readonly lengths: Uint32Array,
    /** 10 with vnetHeader (the virtio_net_hdr before each packet), else 0. */
    readonly headerLength: number,
  ) {}

  /** Packet i without its virtio_net_hdr, as a view into the shared buffer (allocates the view). */
  packet(i: number): Uint8Array {
    if (i < 0 || i >= this.count) throw new RangeError(`packet ${i} of a batch of ${this.count}`);
    const start = this.offsets[i]! + this.headerLength;
    return this.buffer.subarray(start, this.offsets[i]! + this.lengths[i]!);
  }
}

export interface TunStats {
  /** Wake-ups from the event loop. */
  polls: number;
  batchesRead: number;
  packetsRead: number;
  bytesRead: number;
  packetsWritten: number;
  bytesWritten: number;
  /** Packets the kernel refused one by one (malformed, device down...); see lastWriteError. */
  writeErrors: number;
  /** Packets not written because the device's queue was full (EAGAIN): dropped. */
  writeBlocked: number;
  /** The errno name of the last refused write, e.g. "EINVAL". */
  lastWriteError: string | null;
}

const DEFAULT_BATCH = 64;
const DEFAULT_SLOT = 65536;
/** Batches read per wake-up before yielding to the event loop (it wakes us again at once). */
const MAX_BATCHES_PER_POLL = 16;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 5: "EIO", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 14: "EFAULT", 22: "EINVAL", 77: "EBADFD", 90: "EMSGSIZE",
  100: "ENETDOWN", 105: "ENOBUFS",
};

/** Errors from the addon carry Node's system-error fields. */
export interface TunError extends Error {
  /** Negative, as in Node's system errors (-1 for EPERM). */
  errno?: number;
  /** "EPERM", "EBUSY", "ENOENT"... */
  code?: string;
  syscall?: string;
  /** The device name asked for. */
  device?: string;
}

/** An open TUN device, read in batches from the event loop. */
export class TunDevice {
  readonly stats: TunStats = {
    polls: 0, batchesRead: 0, packetsRead: 0, bytesRead: 0, packetsWritten: 0, bytesWritten: 0,
    writeErrors: 0, writeBlocked: 0, lastWriteError: null,
  };

  private readonly addon: TunAddon;
  private readonly handle: NativeTunHandle;
  private readonly batch: PacketBatch;
  private writeErrnos: Int32Array;
  private handler: ((batch: PacketBatch) => void) | null = null;
  private errorHandler: ((error: TunError) => void) | null = null;
  private scratch: PacketBatch | null = null;

  private constructor(addon: TunAddon, handle: NativeTunHandle, batchSize: number, slotSize: number) {
    this.addon = addon;
    this.handle = handle;
    const headerLength = handle.vnetHeader ? VNET_HDR_LEN : 0;
    const offsets = new Uint32Array(batchSize);
    for (let i = 0; i < batchSize; i++) offsets[i] = i * slotSize;
    this.batch = new PacketBatch(new Uint8Array(batchSize * slotSize), offsets, new Uint32Array(batchSize), headerLength);
    this.writeErrnos = new Int32Array(batchSize);
  }

  /**
   * Opens (creating when needed) the TUN device `name` (at most 15 characters; "" or "upt%d" let
   * the kernel number it) with IFF_TUN | IFF_NO_PI, non-blocking. Throws a TunError: EPERM without
   * root, EBUSY when a single-queue device of that name is attached already, ENOENT without
   * /dev/net/tun, EINVAL for a bad name or mismatched flags.
   */
  static open(name: string, options: TunOpenOptions = {}): TunDevice {
    const addon = loadTunAddon();
    const batchSize = options.batchSize ?? DEFAULT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096) {
      throw new RangeError(`TunDevice.open: batchSize must be 1..4096, not ${batchSize}`);
    }
    const slotSize = options.slotSize ?? DEFAULT_SLOT + (options.vnetHeader ? VNET_HDR_LEN : 0);
    if (!Number.isInteger(slotSize) || slotSize < 68 || slotSize * batchSize > 2 ** 31) {
      throw new RangeError(`TunDevice.open: slotSize must be at least 68 and slotSize * batchSize at most 2 GiB, not ${slotSize}`);
    }
    const native: NativeTunOptions = {};
    if (options.multiQueue) native.multiQueue = true;
    if (options.vnetHeader) native.vnetHeader = true;
    if (options.offloads !== undefined) native.offloads = options.offloads;
    if (options.netns !== undefined) native.netns = options.netns;
    if (options.clonePath !== undefined) native.clonePath = options.clonePath;
    const handle = addon.openTun(name, native);
    return new TunDevice(addon, handle, batchSize, slotSize);
  }

  /** The device's actual name (the kernel's choice when opened with "" or a %d pattern). */
  get name(): string {
    return this.handle.name;
  }

  /** The file descriptor, -1 once closed. */
  get fd(): number {
    return this.handle.fd;
  }

  get vnetHeader(): boolean {
    return this.handle.vnetHeader;
  }

  get multiQueue(): boolean {
    return this.handle.multiQueue;
  }

  /** TUN_F_* offloads in force. */
  get offloads(): number {
    return this.handle.offloads;
  }

  get closed(): boolean {
    return this.handle.closed;
  }

  /** Slots in the read buffer: the most packets one batch holds. */
  get batchSize(): number {
    return this.batch.offsets.length;
  }

  /**
   * Calls `handler` with each batch of packets, from the event loop, whenever the device has some.
   * The batch (and its buffer) is reused: it is valid until the handler returns. `onError` gets
   * read errors and the device going away (polling has stopped then); without it they are thrown
   * as uncaught exceptions. Calling it again replaces the handlers.
   */
  onPackets(handler: (batch: PacketBatch) => void, onError?: (error: TunError) => void): this {
    this.handler = handler;
    this.errorHandler = onError ?? null;
    this.handle.poll(this.onReadable);
    return this;
  }

  /** Stops the callbacks (packets queue up in the kernel, then drop); resume() starts them again. */
  pause(): void {
    this.handle.stop();
  }

  resume(): void {
    if (this.handler === null) throw new Error(`TunDevice ${this.name}: resume() before onPackets()`);
    this.handle.start();
  }

  /** Reads what is waiting now, without the event loop: a batch with count 0 when nothing is. */
  read(): PacketBatch {
    const b = this.batch;
    b.count = this.addon.readBatch(this.handle.fd, b.buffer, b.offsets, b.lengths, b.offsets.length);
    this.countRead(b);
    return b;
  }

  /**
   * Writes packets [0, count) of a batch into the device (one write(2) each; the same layout as a
   * read batch, so a batch can be rewritten in place and written back). Returns how many were
   * written. A packet the kernel refuses (EINVAL malformed, EIO device down, EMSGSIZE...) is dropped
   * and counted in stats.writeErrors; a full queue (EAGAIN, rare on a TUN) drops the rest of the
   * batch, counted in stats.writeBlocked. Closed device: throws EBADF.
   */
  write(batch: PacketBatchLike): number {
    const count = batch.count;
    if (this.writeErrnos.length < count) this.writeErrnos = new Int32Array(count);
    const errnos = this.writeErrnos;
    errnos.fill(0, 0, count);
    const handled = this.addon.writeBatch(this.handle.fd, batch.buffer, batch.offsets, batch.lengths, count, errnos);
    let written = 0;
    let bytes = 0;
    for (let i = 0; i < handled; i++) {
      const e = errnos[i]!;
      if (e === 0) {
        written++;
        bytes += batch.lengths[i]!;
      } else {
        this.stats.writeErrors++;
        this.stats.lastWriteError = ERRNO_NAMES[e] ?? `errno ${e}`;
      }
    }
    this.stats.packetsWritten += written;
    this.stats.bytesWritten += bytes;
    this.stats.writeBlocked += count - handled;
    return written;
  }

  /**
   * Writes whole packets given one by one (copied into a scratch batch; with vnetHeader each must
   * start with its virtio_net_hdr). For tests and control traffic, not the fast path.
   */
  writePackets(packets: readonly Uint8Array[]): number {
    let total = 0;
    for (const p of packets) total += p.length;
    if (this.scratch === null || this.scratch.buffer.length < total || this.scratch.offsets.length < packets.length) {
      const n = Math.max(packets.length, 16);
      this.scratch = new PacketBatch(new Uint8Array(Math.max(total, 65536)), new Uint32Array(n), new Uint32Array(n), 0);
    }
    const s = this.scratch;
    let at = 0;
    packets.forEach((p, i) => {
      s.buffer.set(p, at);
      s.offsets[i] = at;
      s.lengths[i] = p.length;
      at += p.length;
    });
    s.count = packets.length;
    return this.write(s);
  }

  /** Stops polling and closes the device's file descriptor. Idempotent. */
  close(): void {
    this.handler = null;
    this.handle.close();
  }

  private countRead(b: PacketBatch): void {
    if (b.count === 0) return;
    this.stats.batchesRead++;
    this.stats.packetsRead += b.count;
    let bytes = 0;
    for (let i = 0; i < b.count; i++) bytes += b.lengths[i]!;
    this.stats.bytesRead += bytes;
  }

  private readonly onReadable = (status: number): void => {
    this.stats.polls++;
    if (status < 0) {
      const code = ERRNO_NAMES[-status] ?? `errno ${-status}`;
      this.fail(
        Object.assign(new Error(`TUN device ${this.name} went away (deleted, or its namespace removed): polling reported ${code}`), {
          errno: status,
          code,
          device: this.name,
        }),
      );
      return;
    }
    const b = this.batch;
    const max = b.offsets.length;
    for (let round = 0; round < MAX_BATCHES_PER_POLL; round++) {
      const handler = this.handler;
      if (handler === null || this.handle.fd < 0) return;
      let n: number;
      try {
        n = this.addon.readBatch(this.handle.fd, b.buffer, b.offsets, b.lengths, max);
      } catch (error) {
        this.handle.stop();
        this.fail(error as TunError);
        return;
      }
      if (n === 0) return;
      b.count = n;
      this.countRead(b);
      handler(b);
      if (n < max) return;
    }
  };

  private fail(error: TunError): void {
    if (this.errorHandler !== null) this.errorHandler(error);
    else throw error;
  }
}
