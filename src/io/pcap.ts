// Reads capture files (classic libpcap and pcapng) and writes classic pcap files of raw IPv4
// packets. This is an adapter at the edge of uptables: src/core never does I/O. The only file
// access is in readPcapFile() and createPcapFileWriter(); everything else works on bytes in
// memory, so it is testable without a disk.
//
// Reading never throws on bad input: readPcap() returns the records it could frame plus, when it
// had to stop, one PcapError with the byte offset of the damage. Within a well-framed record, a
// frame that holds no IPv4 packet (ARP, IPv6, an unsupported link type...) is still returned, with
// `ipv4: null` and a reason. References: pcap-savefile(5), pcap-linktype(7) and
// https://www.tcpdump.org/linktypes.html, and the pcapng draft (draft-ietf-opsawg-pcapng).

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

// --- link types (the numbers stored in files: LINKTYPE_*, plus the two old DLT_RAW values) -----

export const LINKTYPE_NULL = 0; // BSD loopback: 4-byte address family in the writer's byte order
export const LINKTYPE_ETHERNET = 1;
export const DLT_RAW_12 = 12; // DLT_RAW on most systems; old files carry it instead of 101
export const DLT_RAW_14 = 14; // DLT_RAW on OpenBSD
export const LINKTYPE_RAW = 101; // raw IPv4 or IPv6, told apart by the version nibble
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: 4-byte address family, big-endian
export const LINKTYPE_LINUX_SLL = 113; // Linux "cooked" v1: what `tcpdump -i any` used to write
export const LINKTYPE_IPV4 = 228; // raw IPv4 only
export const LINKTYPE_LINUX_SLL2 = 276; // Linux "cooked" v2: `tcpdump -i any` with libpcap >= 1.10

/** The link types whose frames readPcap() can unwrap down to the IPv4 packet. */
export const SUPPORTED_LINK_TYPES: ReadonlyMap<number, string> = new Map([
  [LINKTYPE_NULL, "NULL"],
  [LINKTYPE_ETHERNET, "ETHERNET"],
  [DLT_RAW_12, "RAW (DLT 12)"],
  [DLT_RAW_14, "RAW (DLT 14)"],
  [LINKTYPE_RAW, "RAW"],
  [LINKTYPE_LOOP, "LOOP"],
  [LINKTYPE_LINUX_SLL, "LINUX_SLL"],
  [LINKTYPE_IPV4, "IPV4"],
  [LINKTYPE_LINUX_SLL2, "LINUX_SLL2"],
]);

const ETHERTYPE_IPV4 = 0x0800;
// A VLAN tag (802.1Q, 802.1ad, and the old pre-standard QinQ value) sits between the addresses
// and the real ethertype; libpcap also re-inserts offloaded tags this way on Linux.
const VLAN_TPIDS: ReadonlySet<number> = new Set([0x8100, 0x88a8, 0x9100]);
const VLAN_TAG_LENGTH = 4;
const ETHERNET_HEADER_LENGTH = 14;
const SLL_HEADER_LENGTH = 16;
const SLL2_HEADER_LENGTH = 20;
const LOOPBACK_HEADER_LENGTH = 4;
const AF_INET = 2; // the same on every OS

/**
 * Largest captured length accepted, as libpcap's MAXIMUM_SNAPLEN. A larger one means the file is
 * damaged (or hostile): trusting it would frame the rest of the file wrongly.
 */
export const MAX_SNAPLEN = 262144;

// --- what the reader returns ------------------------------------------------------------------

/** "pcap": classic, microsecond timestamps; "pcap-nanosecond": classic, magic 0xa1b23c4d. */
export type PcapFormat = "pcap" | "pcap-nanosecond" | "pcapng";

/** One capture interface: the classic format has exactly one, pcapng one per IDB. */
export interface PcapInterface {
  readonly linkType: number;
  /** The writer's snapshot length; MAX_SNAPLEN when the file says 0 ("unlimited"). */
  readonly snapLength: number;
}

/**
 * Why a record has no IPv4 packet. The record was framed correctly, so reading goes on.
 *   - "not-ipv4":              the link-layer header names another protocol (ARP, IPv6, ...)
 *   - "truncated":             the captured bytes end before the network-layer packet starts
 *   - "unsupported-link-type": a link type outside SUPPORTED_LINK_TYPES: `frame` is all there is
 */
export type NoIpv4Reason = "not-ipv4" | "truncated" | "unsupported-link-type";

export interface NoIpv4 {
  readonly reason: NoIpv4Reason;
  /** For people: names what was found instead, e.g. "ethertype 0x0806". */
  readonly message: string;
}

interface PcapRecordCommon {
  /** 0-based position among the records of the file. */
  readonly index: number;
  /** Byte offset of the record header (classic) or block (pcapng) in the file. */
  readonly fileOffset: number;
  /**
   * Capture time: whole seconds since 1970 plus nanoseconds (0 to 999,999,999). Nanoseconds
   * hold both microsecond and nanosecond files exactly; a pcapng interface with a finer
   * resolution is rounded down to the nanosecond.
   */
  readonly seconds: number;
  readonly nanoseconds: number;
  /** Bytes in the file (`frame.length`). Less than originalLength when the snaplen cut it. */
  readonly capturedLength: number;
  /** Bytes the frame had on the wire. */
  readonly originalLength: number;
  readonly linkType: number;
  /** Which of PcapReadResult.interfaces captured it (always 0 in a classic pcap file). */
  readonly interfaceIndex: number;
  /** The captured bytes, link-layer header included: a subarray of the input (no copy). */
  readonly frame: Uint8Array;
}

/**
 * One captured frame. `ipv4` is a subarray of `frame` from the IPv4 header to the end of the
 * captured bytes (no copy): it may be cut short by the snaplen, and it keeps any link-layer
 * padding or trailer past the IPv4 total length, as the kernel receives it (Ipv4View.validate()
 * checks it the way ip_rcv_core() does). When there is none, `noIpv4` says why.
 */
export type PcapRecord = PcapRecordCommon &
  ({ readonly ipv4: Uint8Array; readonly noIpv4: null } | { readonly ipv4: null; readonly noIpv4: NoIpv4 });

/**
 * Why reading stopped before the end of the file.
 *   - "file-too-short":          no complete file header (an empty file included)
 *   - "unknown-format":          the first bytes are not a pcap or pcapng magic number
 *   - "record-header-truncated": the file ends inside a 16-byte record header
 *   - "record-truncated":        a record's captured length runs past the end of the file
 *   - "bad-captured-length":     a captured length larger than the snaplen or MAX_SNAPLEN
 *   - "bad-block":               a pcapng block that is too short, misaligned, inconsistent or
 *                                runs past the end of the file, or names an unknown interface
 */
export type PcapErrorCode =
  | "file-too-short"
  | "unknown-format"
  | "record-header-truncated"
  | "record-truncated"
  | "bad-captured-length"
  | "bad-block";

export interface PcapError {
  readonly code: PcapErrorCode;
  /** Byte offset in the file where the damage starts. */
  readonly offset: number;
  /** A complete sentence that names the offset. */
  readonly message: string;
}

export interface PcapReadResult {
  /** null when the file header could not be read. */
  readonly format: PcapFormat | null;
  readonly interfaces: readonly PcapInterface[];
  /** Every record before the damage, if any. */
  readonly records: readonly PcapRecord[];
  /** null when the whole file was read. */
  readonly error: PcapError | null;
}

// --- reading ------------------------------------------------------------------------------------

const MAGIC_MICROSECOND = 0xa1b2c3d4;
const MAGIC_NANOSECOND = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34; // Alexey Kuznetsov's patched libpcap: longer record headers
const PCAPNG_SECTION_HEADER = 0x0a0d0d0a; // a palindrome: readable before the byte order is known
const CLASSIC_HEADER_LENGTH = 24;
const CLASSIC_RECORD_HEADER_LENGTH = 16;

/** Reads a whole capture file held in memory. Never throws on bad input; see PcapReadResult. */
export function readPcap(bytes: Uint8Array): PcapReadResult {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) {
    return failed("file-too-short", 0, `the file has ${bytes.length} bytes, too few for a pcap or pcapng magic number`);
  }
  const magic = data.getUint32(0, false);
  const swapped = data.getUint32(0, true);
  if (magic === PCAPNG_SECTION_HEADER) return readPcapng(bytes, data);
  for (const littleEndian of [false, true]) {
    const m = littleEndian ? swapped : magic;
    if (m === MAGIC_MICROSECOND || m === MAGIC_NANOSECOND) {
      return readClassic(bytes, data, littleEndian, m === MAGIC_NANOSECOND);
    }
    if (m === MAGIC_MODIFIED) {
      return failed("unknown-format", 0, "offset 0: this is a 'modified' (Kuznetsov) pcap file (magic 0xa1b2cd34), which is not supported; convert it with editcap -F pcap");
    }
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return failed("unknown-format", 0, "offset 0: this is a gzip-compressed file; decompress it first");
  }
  return failed("unknown-format", 0, `offset 0: unknown magic number 0x${hex32(magic)}: not a pcap (0xa1b2c3d4, 0xa1b23c4d, either byte order) or pcapng (0x0a0d0d0a) file`);
}

/** Reads a capture file from disk (a thin wrapper: file errors throw as Node reports them). */
export function readPcapFile(path: string): PcapReadResult {
  return readPcap(readFileSync(path));
}

function readClassic(bytes: Uint8Array, data: DataView, littleEndian: boolean, nanosecond: boolean): PcapReadResult {
  const format: PcapFormat = nanosecond ? "pcap-nanosecond" : "pcap";
  if (bytes.length < CLASSIC_HEADER_LENGTH) {
    return { format, interfaces: [], records: [], error: error("file-too-short", 0, `the pcap global header needs ${CLASSIC_HEADER_LENGTH} bytes, the file has ${bytes.length}`) };
  }
  const snapLength = effectiveSnapLength(data.getUint32(16, littleEndian));
  // The top bits of the link-type field carry FCS information (libpcap's LT_LINKTYPE mask).
  const linkType = data.getUint32(20, littleEndian) & 0x03ffffff;
  const interfaces = [{ linkType, snapLength }];
  const records: PcapRecord[] = [];
  const done = (err: PcapError | null): PcapReadResult => ({ format, interfaces, records, error: err });

  let offset = CLASSIC_HEADER_LENGTH;
  while (offset < bytes.length) {
    const n = records.length;
    if (bytes.length - offset < CLASSIC_RECORD_HEADER_LENGTH) {
      return done(error("record-header-truncated", offset, `record ${n}: the file ends ${bytes.length - offset} bytes into its ${CLASSIC_RECORD_HEADER_LENGTH}-byte header`));
    }
    const seconds = data.getUint32(offset, littleEndian);
    const fraction = data.getUint32(offset + 4, littleEndian);
    const capturedLength = data.getUint32(offset + 8, littleEndian);
    const originalLength = data.getUint32(offset + 12, littleEndian);
    if (capturedLength > snapLength) {
      return done(error("bad-captured-length", offset, `record ${n}: captured length ${capturedLength} exceeds the snapshot length ${snapLength}; the file is damaged`));
    }
    const start = offset + CLASSIC_RECORD_HEADER_LENGTH;
    if (capturedLength > bytes.length - start) {
      return done(error("record-truncated", offset, `record ${n}: captured length ${capturedLength} runs past the end of the file (${bytes.length - start} bytes left)`));
    }
    const frame = bytes.subarray(start, start + capturedLength);
    const [sec, ns] = normalizeTime(seconds, nanosecond ? fraction : fraction * 1000);
    records.push(makeRecord(n, offset, sec, ns, originalLength, linkType, 0, frame));
    offset = start + capturedLength;
  }
  return done(null);
}

// pcapng block types.
const BLOCK_INTERFACE_DESCRIPTION = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SIMPLE_PACKET = 3;
const BLOCK_ENHANCED_PACKET = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;

interface PcapngInterface extends PcapInterface {
  /** Position in PcapReadResult.interfaces (EPBs number interfaces within their section). */
  readonly index: number;
  readonly ticksPerSecond: bigint;
  readonly offsetSeconds: bigint;
}

function readPcapng(bytes: Uint8Array, data: DataView): PcapReadResult {
  const allInterfaces: PcapInterface[] = [];
  const records: PcapRecord[] = [];
  let section: PcapngInterface[] = []; // interface ids are numbered per section
  let littleEndian = false;
  const done = (err: PcapError | null): PcapReadResult => ({ format: "pcapng", interfaces: allInterfaces, records, error: err });
  const bad = (offset: number, what: string): PcapReadResult => done(error("bad-block", offset, what));

  let offset = 0;
  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < 12) return bad(offset, `the file ends ${left} bytes into a block header`);
    const type = data.getUint32(offset, littleEndian);
    if (type === PCAPNG_SECTION_HEADER) {
      // Each section states its own byte order.
      if (data.getUint32(offset + 8, false) === BYTE_ORDER_MAGIC) littleEndian = false;
      else if (data.getUint32(offset + 8, true) === BYTE_ORDER_MAGIC) littleEndian = true;
      else return bad(offset, `section header block without the byte-order magic 0x1a2b3c4d`);
    }
    const length = data.getUint32(offset + 4, littleEndian);
    if (length < 12 || length % 4 !== 0) return bad(offset, `block type ${type}: total length ${length} is not a multiple of 4 of at least 12`);
    if (length > left) return bad(offset, `block type ${type}: total length ${length} runs past the end of the file (${left} bytes left)`);
    if (data.getUint32(offset + length - 4, littleEndian) !== length) return bad(offset, `block type ${type}: the trailing length does not repeat the leading ${length}`);
    const body = offset + 8;
    const bodyLength = length - 12;

    if (type === PCAPNG_SECTION_HEADER) {
      if (bodyLength < 16) return bad(offset, `section header block of ${length} bytes is too short`);
      const major = data.getUint16(body + 4, littleEndian);
      if (major !== 1) return bad(offset, `section header block: pcapng version ${major} is not supported (only 1)`);
      section = [];
    } else if (type === BLOCK_INTERFACE_DESCRIPTION) {
      if (bodyLength < 8) return bad(offset, `interface description block of ${length} bytes is too short`);
      const options = readInterfaceOptions(data, body + 8, body + bodyLength, littleEndian);
      if (typeof options === "string") return bad(offset, `interface description block: ${options}`);
      const iface = {
        index: allInterfaces.length,
        linkType: data.getUint16(body, littleEndian),
        snapLength: effectiveSnapLength(data.getUint32(body + 4, littleEndian)),
        ...options,
      };
      section.push(iface);
      allInterfaces.push({ linkType: iface.linkType, snapLength: iface.snapLength });
    } else if (type === BLOCK_ENHANCED_PACKET || type === BLOCK_OBSOLETE_PACKET || type === BLOCK_SIMPLE_PACKET) {
      const packet = readPacketBlock(type, data, body, bodyLength, littleEndian, section);
      if (typeof packet === "string") return bad(offset, packet);
      const { iface, ticks, capturedLength, originalLength, dataStart } = packet;
      const frame = bytes.subarray(dataStart, dataStart + capturedLength);
      const seconds = ticks / iface.ticksPerSecond + iface.offsetSeconds;
      const nanoseconds = ((ticks % iface.ticksPerSecond) * 1_000_000_000n) / iface.ticksPerSecond;
      records.push(makeRecord(records.length, offset, Number(seconds), Number(nanoseconds), originalLength, iface.linkType, iface.index, frame));
    }
    // Every other block (name resolution, statistics, custom, ...) holds no packet: skip it.
    offset += length;
  }
  return done(null);
}

/** Reads if_tsresol and if_tsoffset; a string is what is wrong with the options. */
function readInterfaceOptions(
  data: DataView,
  start: number,
  end: number,
  littleEndian: boolean,
): { ticksPerSecond: bigint; offsetSeconds: bigint } | string {
  let ticksPerSecond = 1_000_000n; // the default resolution is microseconds
  let offsetSeconds = 0n;
  let at = start;
  while (at + 4 <= end) {
    const code = data.getUint16(at, littleEndian);
    const length = data.getUint16(at + 2, littleEndian);
    if (code === OPTION_END) break;
    if (at + 4 + length > end) return `option ${code} of ${length} bytes runs past the end of the block`;
    if (code === OPTION_IF_TSRESOL && length >= 1) {
      const resolution = data.getUint8(at + 4);
      const exponent = BigInt(resolution & 0x7f);
      // The high bit picks a power of two; otherwise a power of ten.
      ticksPerSecond = resolution & 0x80 ? 1n << exponent : 10n ** exponent;
    } else if (code === OPTION_IF_TSOFFSET && length >= 8) {
      offsetSeconds = data.getBigInt64(at + 4, littleEndian);
    }
    at += 4 + ((length + 3) & ~3); // option values are padded to 32 bits
  }
  return { ticksPerSecond, offsetSeconds };
}

/** The packet in an EPB, OPB or SPB; a string is what is wrong with the block. */
function readPacketBlock(
  type: number,
  data: DataView,
  body: number,
  bodyLength: number,
  littleEndian: boolean,
  section: readonly PcapngInterface[],
):
  | { iface: PcapngInterface; ticks: bigint; capturedLength: number; originalLength: number; dataStart: number }
  | string {
  const name = type === BLOCK_ENHANCED_PACKET ? "enhanced packet block" : type === BLOCK_SIMPLE_PACKET ? "simple packet block" : "packet block";
  if (type === BLOCK_SIMPLE_PACKET) {
    // No interface id, timestamp or captured length: interface 0, time 0 (plus if_tsoffset), and
    // the data fills the block up to the original length or the snaplen.
    if (bodyLength < 4) return `${name} of ${bodyLength + 12} bytes is too short`;
    const iface = section[0];
    if (!iface) return `${name} before any interface description block`;
    const originalLength = data.getUint32(body, littleEndian);
    const capturedLength = Math.min(originalLength, iface.snapLength, bodyLength - 4);
    return { iface, ticks: 0n, capturedLength, originalLength, dataStart: body + 4 };
  }
  if (bodyLength < 20) return `${name} of ${bodyLength + 12} bytes is too short`;
  const interfaceId = type === BLOCK_ENHANCED_PACKET ? data.getUint32(body, littleEndian) : data.getUint16(body, littleEndian);
  const iface = section[interfaceId];
  if (!iface) return `${name} names interface ${interfaceId}, but the section has ${section.length} interface(s)`;
  const ticks = (BigInt(data.getUint32(body + 4, littleEndian)) << 32n) | BigInt(data.getUint32(body + 8, littleEndian));
  const capturedLength = data.getUint32(body + 12, littleEndian);
  const originalLength = data.getUint32(body + 16, littleEndian);
  if (capturedLength > iface.snapLength) return `${name}: captured length ${capturedLength} exceeds the snapshot length ${iface.snapLength}; the file is damaged`;
  if (capturedLength > bodyLength - 20) return `${name}: captured length ${capturedLength} runs past the end of the block`;
  return { iface, ticks, capturedLength, originalLength, dataStart: body + 20 };
}

function makeRecord(
  index: number,
  fileOffset: number,
  seconds: number,
  nanoseconds: number,
  originalLength: number,
  linkType: number,
  interfaceIndex: number,
  frame: Uint8Array,
): PcapRecord {
  const common = { index, fileOffset, seconds, nanoseconds, capturedLength: frame.length, originalLength, linkType, interfaceIndex, frame };
  const found = ipv4FromFrame(linkType, frame);
  return found instanceof Uint8Array ? { ...common, ipv4: found, noIpv4: null } : { ...common, ipv4: null, noIpv4: found };
}

/**
 * Unwraps one frame of the given link type down to its IPv4 packet: a subarray of `frame` (no
 * copy), or why there is none.
 */
export function ipv4FromFrame(linkType: number, frame: Uint8Array): Uint8Array | NoIpv4 {
  switch (linkType) {
    case LINKTYPE_RAW:
    case DLT_RAW_12:
    case DLT_RAW_14:
    case LINKTYPE_IPV4: {
      if (frame.length === 0) return noIpv4("truncated", "the frame is empty");
      const version = frame[0]! >>> 4;
      return version === 4 ? frame : noIpv4("not-ipv4", `IP version ${version}`);
    }
    case LINKTYPE_ETHERNET:
      return afterEtherType(frame, ETHERNET_HEADER_LENGTH - 2, "ethertype");
    case LINKTYPE_LINUX_SLL:
      return afterEtherType(frame, SLL_HEADER_LENGTH - 2, "SLL protocol");
    case LINKTYPE_LINUX_SLL2:
      // SLL2 puts the protocol first, but the header still ends 20 bytes in: a VLAN tag, if any,
      // follows the header as it does in Ethernet.
      if (frame.length < SLL2_HEADER_LENGTH) return noIpv4("truncated", `${frame.length} bytes, fewer than the ${SLL2_HEADER_LENGTH}-byte SLL2 header`);
      return afterProtocol(frame, read16(frame, 0), SLL2_HEADER_LENGTH, "SLL2 protocol");
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (frame.length < LOOPBACK_HEADER_LENGTH) return noIpv4("truncated", `${frame.length} bytes, fewer than the 4-byte loopback header`);
      const bigEndian = read32(frame, 0);
      // NULL stores the family in the capturing host's byte order, which the file does not tell.
      const family = linkType === LINKTYPE_NULL && bigEndian > 0xffff ? swap32(bigEndian) : bigEndian;
      if (family !== AF_INET) return noIpv4("not-ipv4", `address family ${family}`);
      return rest(frame, LOOPBACK_HEADER_LENGTH);
    }
    default:
      return noIpv4("unsupported-link-type", `link type ${linkType} is not supported (supported: ${[...SUPPORTED_LINK_TYPES].map(([n, name]) => `${n} ${name}`).join(", ")})`);
  }
}

/** Ethernet and SLL: a 16-bit ethertype at `at`, then the payload. */
function afterEtherType(frame: Uint8Array, at: number, what: string): Uint8Array | NoIpv4 {
  if (frame.length < at + 2) return noIpv4("truncated", `${frame.length} bytes, fewer than the ${at + 2}-byte link-layer header`);
  return afterProtocol(frame, read16(frame, at), at + 2, what);
}

/** Skips VLAN tags (each: 2 bytes of tag control, then the next ethertype) to the IPv4 packet. */
function afterProtocol(frame: Uint8Array, etherType: number, payload: number, what: string): Uint8Array | NoIpv4 {
  let type = etherType;
  let at = payload;
  while (VLAN_TPIDS.has(type)) {
    if (frame.length < at + VLAN_TAG_LENGTH) return noIpv4("truncated", `the frame ends inside a VLAN tag at byte ${at}`);
    type = read16(frame, at + 2);
    at += VLAN_TAG_LENGTH;
  }
  if (type !== ETHERTYPE_IPV4) return noIpv4("not-ipv4", `${what} 0x${type.toString(16).padStart(4, "0")}`);
  return rest(frame, at);
}

function rest(frame: Uint8Array, at: number): Uint8Array | NoIpv4 {
  if (frame.length <= at) return noIpv4("truncated", `the frame ends at the link-layer header (${frame.length} bytes)`);
  return frame.subarray(at);
}

function noIpv4(reason: NoIpv4Reason, message: string): NoIpv4 {
  return { reason, message };
}

/** Capture time of a record in milliseconds since 1970 (the unit PcapWriter.write() takes). */
export function recordTimeMs(record: PcapRecord): number {
  return record.seconds * 1000 + record.nanoseconds / 1e6;
}

// --- writing --------------------------------------------------------------------------------------

/** The snapshot length the writer declares: every IPv4 packet fits (total length is 16 bits). */
export const WRITER_SNAPLEN = 65535;

/**
 * The 24-byte global header of a classic pcap file: microsecond timestamps, LINKTYPE_RAW.
 * Written little-endian, as tcpdump does on x86; readers accept either order.
 */
export function encodePcapHeader(): Uint8Array {
  const out = new Uint8Array(CLASSIC_HEADER_LENGTH);
  const data = new DataView(out.buffer);
  data.setUint32(0, MAGIC_MICROSECOND, true);
  data.setUint16(4, 2, true); // version 2.4, the only one there is
  data.setUint16(6, 4, true);
  // Bytes 8-15 (time zone offset and accuracy) are always 0.
  data.setUint32(16, WRITER_SNAPLEN, true);
  data.setUint32(20, LINKTYPE_RAW, true);
  return out;
}

/**
 * One record: header plus a copy of `packet` (a raw IPv4 packet). `timestampMs` is milliseconds
 * since 1970, fractions kept to the microsecond. Throws a RangeError for a packet over 65535
 * bytes or a timestamp that is negative, not finite or past 2106 (32-bit seconds).
 */
export function encodePcapRecord(packet: Uint8Array, timestampMs: number): Uint8Array {
  if (packet.length > WRITER_SNAPLEN) throw new RangeError(`pcap writer: packet of ${packet.length} bytes exceeds ${WRITER_SNAPLEN}`);
  if (!Number.isFinite(timestampMs) || timestampMs < 0) throw new RangeError(`pcap writer: bad timestamp ${timestampMs} ms`);
  let seconds = Math.floor(timestampMs / 1000);
  let microseconds = Math.round((timestampMs - seconds * 1000) * 1000);
  if (microseconds >= 1_000_000) {
    seconds += 1;
    microseconds -= 1_000_000;
  }
  if (seconds > 0xffffffff) throw new RangeError(`pcap writer: timestamp ${timestampMs} ms does not fit in 32-bit seconds`);
  const out = new Uint8Array(CLASSIC_RECORD_HEADER_LENGTH + packet.length);
  const data = new DataView(out.buffer);
  data.setUint32(0, seconds, true);
  data.setUint32(4, microseconds, true);
  data.setUint32(8, packet.length, true);
  data.setUint32(12, packet.length, true);
  out.set(packet, CLASSIC_RECORD_HEADER_LENGTH);
  return out;
}

/** Where a PcapWriter puts its bytes: a file, an array of chunks, a socket... */
export interface PcapSink {
  write(chunk: Uint8Array): void;
  close?(): void;
}

/**
 * Streams a classic pcap file of raw IPv4 packets into a sink: the global header at once, then
 * one record per write(). Nothing is buffered, so what was written is readable after a crash.
 */
export class PcapWriter {
  private closed = false;
  /** Records written so far. */
  count = 0;

  constructor(private readonly sink: PcapSink) {
    sink.write(encodePcapHeader());
  }

  /** Appends one raw IPv4 packet captured at `timestampMs` (ms since 1970). */
  write(packet: Uint8Array, timestampMs: number): void {
    if (this.closed) throw new Error("pcap writer: write() after close()");
    this.sink.write(encodePcapRecord(packet, timestampMs));
    this.count++;
  }

  /** Closes the sink; further writes throw. Closing twice does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close?.();
  }
}

/** A whole pcap file in memory. */
export function encodePcap(packets: Iterable<{ readonly packet: Uint8Array; readonly timestampMs: number }>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter({ write: (chunk) => chunks.push(chunk) });
  for (const { packet, timestampMs } of packets) writer.write(packet, timestampMs);
  writer.close();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A PcapWriter onto a new file at `path` (created or truncated); close() closes the file. */
export function createPcapFileWriter(path: string): PcapWriter {
  const fd = openSync(path, "w");
  return new PcapWriter({
    write: (chunk) => {
      // writeSync may write less than asked (rarely, for regular files): finish the chunk.
      for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
    },
    close: () => closeSync(fd),
  });
}

// --- helpers --------------------------------------------------------------------------------------

function effectiveSnapLength(snapLength: number): number {
  // libpcap reads 0 or an oversized snaplen as "no limit" (some writers put 0 there).
  return snapLength === 0 || snapLength > MAX_SNAPLEN ? MAX_SNAPLEN : snapLength;
}

/** Carries whole seconds out of an oversized fraction (some writers produce one). */
function normalizeTime(seconds: number, nanoseconds: number): [number, number] {
  return [seconds + Math.floor(nanoseconds / 1e9), nanoseconds % 1e9];
}

function error(code: PcapErrorCode, offset: number, what: string): PcapError {
  return { code, offset, message: what.startsWith("offset ") ? what : `offset ${offset}: ${what}` };
}

function failed(code: PcapErrorCode, offset: number, what: string): PcapReadResult {
  return { format: null, interfaces: [], records: [], error: error(code, offset, what) };
}

function read16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function read32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, "0");
}
