// -j LOG: write a kernel log line about the packet and go on (libxt_LOG, xt_LOG).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget, type TargetFunction } from "../extension.ts";
import type { PacketContext } from "../../engine/packet-context.ts";
import { XT_CONTINUE } from "../../engine/verdict.ts";
import { formatAddress } from "../../net/ipv4-address.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../net/protocols.ts";
import { read16, read32 } from "../../packet/checksum.ts";
import { saveString } from "../format.ts";
import { parseCUnsigned } from "../../net/c-number.ts";
import { truncateBytes } from "./xtables-numbers.ts";

/** XT_LOG_* bits of xt_log_info.logflags. */
export const XT_LOG_TCPSEQ = 0x01;
export const XT_LOG_TCPOPT = 0x02;
export const XT_LOG_IPOPT = 0x04;
export const XT_LOG_UID = 0x08;
export const XT_LOG_MACDECODE = 0x20;
export const XT_LOG_MASK = 0x2f;

/** LOG_WARNING, the level when none is given. */
export const LOG_DEFAULT_LEVEL = 4;
/** sizeof(xt_log_info.prefix), the terminating NUL included. */
export const LOG_PREFIX_SIZE = 30;

/** struct xt_log_info. */
export interface LogTarget {
  /** syslog level 0 (emerg) to 7 (debug). */
  level: number;
  logflags: number;
  /** At most 29 bytes; "" for none. */
  prefix: string;
}

/** The names --log-level accepts (libxtables' own list, so "err" and "warn" are refused). */
const LEVEL_NAMES: ReadonlyMap<string, number> = new Map([
  ["alert", 1],
  ["crit", 2],
  ["debug", 7],
  ["emerg", 0],
  ["error", 3],
  ["info", 6],
  ["notice", 5],
  ["panic", 0],
  ["warning", 4],
]);

/** The names `iptables -L` prints (the C library's first name for each level). */
const PRINTED_LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

/** The flag options in the order iptables prints them, with the bit each sets. */
const FLAG_OPTIONS: readonly (readonly [string, number, string])[] = [
  ["log-tcp-sequence", XT_LOG_TCPSEQ, "tcp-sequence"],
  ["log-tcp-options", XT_LOG_TCPOPT, "tcp-options"],
  ["log-ip-options", XT_LOG_IPOPT, "ip-options"],
  ["log-uid", XT_LOG_UID, "uid"],
  ["log-macdecode", XT_LOG_MACDECODE, "macdecode"],
];

export function parseLogLevel(text: string): number {
  const number = parseCUnsigned(text, 0, 7);
  if (number !== null) return number;
  const named = LEVEL_NAMES.get(text);
  if (named === undefined) throw new ParameterProblem(`log level "${text}" unknown\n`);
  return named;
}

export const logTarget = defineTarget<LogTarget>({
  name: "LOG",
  options: [
    { name: "log-level", hasArg: true },
    { name: "log-prefix", hasArg: true },
    { name: "log-tcp-sequence", hasArg: false },
    { name: "log-tcp-options", hasArg: false },
    { name: "log-ip-options", hasArg: false },
    { name: "log-uid", hasArg: false },
    { name: "log-macdecode", hasArg: false },
  ],
  init: () => ({ level: LOG_DEFAULT_LEVEL, logflags: 0, prefix: "" }),
  parse(data, option, arg) {
    switch (option) {
      case "log-level":
        data.level = parseLogLevel(arg!);
        return;
      case "log-prefix":
        if (arg === "") throw new ParameterProblem("Argument must have a minimum length of 1 characters\n");
        // The kernel's field keeps 29 bytes; iptables cuts longer prefixes without a word.
        data.prefix = truncateBytes(arg!, LOG_PREFIX_SIZE);
        if (arg!.includes("\n")) throw new ParameterProblem("Newlines not allowed in --log-prefix");
        return;
      default: {
        const flag = FLAG_OPTIONS.find(([name]) => name === option);
        if (flag) data.logflags |= flag[1];
      }
    }
  },
  compile(data): TargetFunction {
    const prefix = data.prefix;
    const flags = data.logflags;
    return (ctx) => {
      ctx.logs.push(prefix + formatPacketLog(ctx, flags));
      return XT_CONTINUE;
    };
  },
  save(data) {
    const parts: string[] = [];
    if (data.prefix !== "") parts.push(`--log-prefix ${saveString(data.prefix)}`);
    if (data.level !== LOG_DEFAULT_LEVEL) parts.push(`--log-level ${data.level}`);
    for (const [name, bit] of FLAG_OPTIONS) if (data.logflags & bit) parts.push(`--${name}`);
    return parts.join(" ");
  },
  print(data, { numeric }) {
    let out = "LOG";
    if (numeric) {
      out += ` flags ${data.logflags} level ${data.level}`;
    } else {
      const name = PRINTED_LEVELS[data.level];
      out += name !== undefined ? ` level ${name}` : ` UNKNOWN level ${data.level}`;
      for (const [, bit, label] of FLAG_OPTIONS) if (data.logflags & bit) out += ` ${label}`;
      if (data.logflags & ~XT_LOG_MASK) out += " unknown-flags";
    }
    if (data.prefix !== "") out += ` prefix "${data.prefix}"`;
    return out;
  },
});

// --- the log line ----------------------------------------------------------------------------------
//
// The text net/netfilter/nf_log_syslog.c prints for an IPv4 packet (nf_log_ip_packet), without the
// syslog level and with the same trailing space the kernel leaves before its newline:
//
//   IN=eth0 OUT= SRC=192.0.2.1 DST=192.168.0.100 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP
//   SPT=40000 DPT=22 WINDOW=65535 RES=0x00 SYN URGP=0 MARK=0x1
//
// Fields as the kernel has them: TOS and PREC are the TOS byte masked 0x1e and 0xe0; CE/DF/MF flags,
// FRAG:n (the offset in 8-byte units); OPT (hex) for IP options with --log-ip-options; for TCP
// SEQ=/ACK= with --log-tcp-sequence, RES= (the reserved bits), the flags, URGP=, OPT (hex) with
// --log-tcp-options; for UDP SPT/DPT/LEN; for ICMP TYPE/CODE and ID/SEQ, PARAMETER=, GATEWAY= or the
// quoted packet in [brackets] with MTU=; AH/ESP SPI=; PROTO=n otherwise; MARK=0x.. when the mark is
// not 0. A header cut short ends the line with INCOMPLETE [n bytes] or TRUNCATED, as in the kernel.
//
// Left out: the MAC= field the kernel prints after OUT= when the packet came in on an interface (and
// MACSRC=/MACDST=/MACPROTO= with --log-macdecode): uptables works on IP packets and never sees a link
// layer header. (A kernel whose packets arrive on a TUN device prints an empty "MAC= " there.)
// --log-uid prints nothing: UID=/GID= come from the local socket that sent the packet, which uptables
// does not know. The bridge's PHYSIN=/PHYSOUT= do not apply.
//
// The format was taken from the kernel source: a network namespace cannot log to dmesg unless the
// init namespace's net.netfilter.nf_log_all_netns is set (it exists only there).

const hex2 = (n: number): string => (n < 16 ? "0" : "") + n.toString(16).toUpperCase();
const hex2lower = (n: number): string => (n < 16 ? "0" : "") + n.toString(16);

function hexBytes(buf: Uint8Array, start: number, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += hex2(buf[start + i]!);
  return out;
}

const IP_CE = 0x8000;
const IP_DF = 0x4000;
const IP_MF = 0x2000;
const IP_OFFSET = 0x1fff;
const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;
const IPPROTO_UDPLITE = 136;
const NR_ICMP_TYPES = 18;

/** The bytes an ICMP message of each type must have for its fields to be printed (required_len[]). */
const ICMP_REQUIRED: readonly number[] = [4, 0, 0, 28, 28, 28, 0, 0, 4, 0, 0, 28, 28, 20, 20, 0, 0, 12, 12];

/** "IN=... OUT=... SRC=..." for the packet in `ctx`, as the kernel logs it after the prefix. */
export function formatPacketLog(ctx: PacketContext, logflags: number): string {
  const out = { text: `IN=${ctx.inInterface ?? ""} OUT=${ctx.outInterface ?? ""} ` };
  const end = ctx.ip.offset + ctx.ip.totalLength;
  dumpIpv4(out, ctx.buf, ctx.ip.offset, end, logflags, true, ctx.mark);
  return out.text;
}

interface LogBuffer {
  text: string;
}

/**
 * dump_ipv4_packet: the IP header at `at` and what follows, reading no byte at or past `end` (the
 * outer packet's end, also for a packet quoted in an ICMP error). `top` is false inside the quote.
 */
function dumpIpv4(m: LogBuffer, buf: Uint8Array, at: number, end: number, logflags: number, top: boolean, mark: number): void {
  if (at + 20 > end) {
    m.text += "TRUNCATED";
    return;
  }
  const tos = buf[at + 1]!;
  const fragOff = read16(buf, at + 6);
  const hlen = (buf[at]! & 0x0f) << 2;
  const protocol = buf[at + 9]!;
  const fragment = fragOff & IP_OFFSET;
  m.text +=
    `SRC=${formatAddress(read32(buf, at + 12))} DST=${formatAddress(read32(buf, at + 16))} ` +
    `LEN=${read16(buf, at + 2)} TOS=0x${hex2(tos & 0x1e)} PREC=0x${hex2(tos & 0xe0)} TTL=${buf[at + 8]} ID=${read16(buf, at + 4)} `;
  if (fragOff & IP_CE) m.text += "CE ";
  if (fragOff & IP_DF) m.text += "DF ";
  if (fragOff & IP_MF) m.text += "MF ";
  if (fragment) m.text += `FRAG:${fragment} `;
  if (logflags & XT_LOG_IPOPT && hlen > 20) {
    if (at + hlen > end) {
      m.text += "TRUNCATED";
      return;
    }
    m.text += `OPT (${hexBytes(buf, at + 20, hlen - 20)}) `;
  }
  const t = at + hlen;
  switch (protocol) {
    case IPPROTO_TCP:
      if (!dumpTcp(m, buf, t, end, fragment !== 0, logflags)) return;
      break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      m.text += protocol === IPPROTO_UDP ? "PROTO=UDP " : "PROTO=UDPLITE ";
      if (fragment) break;
      if (t + 8 > end) {
        m.text += incomplete(end - t);
        return;
      }
      m.text += `SPT=${read16(buf, t)} DPT=${read16(buf, t + 2)} LEN=${read16(buf, t + 4)} `;
      break;
    case IPPROTO_ICMP: {
      m.text += "PROTO=ICMP ";
      if (fragment) break;
      if (t + 8 > end) {
        m.text += incomplete(end - t);
        break;
      }
      const type = buf[t]!;
      const code = buf[t + 1]!;
      m.text += `TYPE=${type} CODE=${code} `;
      if (type <= NR_ICMP_TYPES && ICMP_REQUIRED[type]! > 0 && end - t < ICMP_REQUIRED[type]!) {
        m.text += incomplete(end - t);
        break;
      }
      switch (type) {
        case 0:
        case 8:
          m.text += `ID=${read16(buf, t + 4)} SEQ=${read16(buf, t + 6)} `;
          break;
        case 12:
          m.text += `PARAMETER=${buf[t + 4]} `;
          break;
        case 5:
        case 3:
        case 4:
        case 11:
          if (type === 5) m.text += `GATEWAY=${formatAddress(read32(buf, t + 4))} `;
          if (top) {
            // The quoted packet, once (not inside a quote).
            m.text += "[";
            dumpIpv4(m, buf, t + 8, end, logflags, false, 0);
            m.text += "] ";
          }
          if (type === 3 && code === 4) m.text += `MTU=${read16(buf, t + 6)} `;
          break;
      }
      break;
    }
    case IPPROTO_AH:
      if (fragment) break;
      m.text += "PROTO=AH ";
      if (t + 12 > end) {
        m.text += incomplete(end - t);
        break;
      }
      m.text += `SPI=0x${read32(buf, t + 4).toString(16)} `;
      break;
    case IPPROTO_ESP:
      m.text += "PROTO=ESP ";
      if (fragment) break;
      if (t + 8 > end) {
        m.text += incomplete(end - t);
        break;
      }
      m.text += `SPI=0x${read32(buf, t).toString(16)} `;
      break;
    default:
      m.text += `PROTO=${protocol} `;
  }
  // --log-uid would add UID=/GID= here: see above.
  if (top && mark !== 0) m.text += `MARK=0x${(mark >>> 0).toString(16)} `;
}

/** "INCOMPLETE [n bytes] ", with the kernel's unsigned arithmetic when the header starts past the end. */
function incomplete(bytes: number): string {
  return `INCOMPLETE [${bytes >>> 0} bytes] `;
}

/** nf_log_dump_tcp_header; false when the line ends here (the header or its options are cut short). */
function dumpTcp(m: LogBuffer, buf: Uint8Array, t: number, end: number, fragment: boolean, logflags: number): boolean {
  m.text += "PROTO=TCP ";
  if (fragment) return true;
  if (t + 20 > end) {
    m.text += incomplete(end - t);
    return false;
  }
  m.text += `SPT=${read16(buf, t)} DPT=${read16(buf, t + 2)} `;
  if (logflags & XT_LOG_TCPSEQ) m.text += `SEQ=${read32(buf, t + 4)} ACK=${read32(buf, t + 8)} `;
  const flags = buf[t + 13]!;
  m.text += `WINDOW=${read16(buf, t + 14)} RES=0x${hex2lower((buf[t + 12]! & 0x0f) << 2)} `;
  if (flags & 0x80) m.text += "CWR ";
  if (flags & 0x40) m.text += "ECE ";
  if (flags & 0x20) m.text += "URG ";
  if (flags & 0x10) m.text += "ACK ";
  if (flags & 0x08) m.text += "PSH ";
  if (flags & 0x04) m.text += "RST ";
  if (flags & 0x02) m.text += "SYN ";
  if (flags & 0x01) m.text += "FIN ";
  m.text += `URGP=${read16(buf, t + 18)} `;
  const hlen = (buf[t + 12]! >>> 4) << 2;
  if (logflags & XT_LOG_TCPOPT && hlen > 20) {
    if (t + hlen > end) {
      m.text += "OPT (TRUNCATED)";
      return false;
    }
    m.text += `OPT (${hexBytes(buf, t + 20, hlen - 20)}) `;
  }
  return true;
}
