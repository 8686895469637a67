// -j NFLOG: hand the packet to a userspace logger over nfnetlink (libxt_NFLOG, xt_NFLOG). iptables-nft
// turns it into nftables' `log group N`, which allows a prefix of 127 bytes and has no --nflog-range.
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget, type TargetFunction } from "../extension.ts";
import { XT_CONTINUE } from "../../engine/verdict.ts";
import { formatPacketLog } from "./LOG.ts";
import { saveString } from "../format.ts";
import { parseIntegerOption, truncateBytes } from "./xtables-numbers.ts";

/** XT_NFLOG_F_COPY_LEN: `len` is the number of bytes to copy (--nflog-size). */
export const XT_NFLOG_F_COPY_LEN = 0x1;
/** XT_NFLOG_DEFAULT_THRESHOLD. */
export const NFLOG_DEFAULT_THRESHOLD = 0;
/** NF_LOG_PREFIXLEN, the prefix size nftables keeps (NUL included). */
export const NFLOG_PREFIX_SIZE = 128;

const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

/** struct xt_nflog_info (with nftables' longer prefix), plus which options were given. */
export interface NflogTarget {
  len: number;
  group: number;
  threshold: number;
  flags: number;
  /** "" for none. */
  prefix: string;
  /** --nflog-range and --nflog-size exclude each other. */
  rangeGiven: boolean;
  sizeGiven: boolean;
}

function describe(data: NflogTarget, dashes: string): string {
  const parts: string[] = [];
  if (data.prefix !== "") parts.push(`${dashes}nflog-prefix ${saveString(data.prefix)}`);
  if (data.group) parts.push(`${dashes}nflog-group ${data.group}`);
  if (data.flags & XT_NFLOG_F_COPY_LEN) parts.push(`${dashes}nflog-size ${data.len}`);
  else if (data.len) parts.push(`${dashes}nflog-range ${data.len}`);
  if (data.threshold !== NFLOG_DEFAULT_THRESHOLD) parts.push(`${dashes}nflog-threshold ${data.threshold}`);
  return parts.join(" ");
}

export const nflogTarget = defineTarget<NflogTarget>({
  name: "NFLOG",
  options: [
    { name: "nflog-group", hasArg: true },
    { name: "nflog-prefix", hasArg: true },
    { name: "nflog-range", hasArg: true },
    { name: "nflog-size", hasArg: true },
    { name: "nflog-threshold", hasArg: true },
  ],
  init: () => ({ len: 0, group: 0, threshold: NFLOG_DEFAULT_THRESHOLD, flags: 0, prefix: "", rangeGiven: false, sizeGiven: false }),
  parse(data, option, arg) {
    switch (option) {
      case "nflog-group":
        data.group = parseIntegerOption("NFLOG", option, arg!, 0, UINT16_MAX);
        return;
      case "nflog-prefix":
        if (arg === "") throw new ParameterProblem("Argument must have a minimum length of 1 characters\n");
        if (arg!.includes("\n")) throw new ParameterProblem("Newlines not allowed in --log-prefix");
        data.prefix = truncateBytes(arg!, NFLOG_PREFIX_SIZE);
        return;
      case "nflog-range":
        // Checked, then dropped: nftables has nowhere to keep it (iptables warns that it never worked).
        parseIntegerOption("NFLOG", option, arg!, 0, UINT32_MAX);
        data.rangeGiven = true;
        return;
      case "nflog-size":
        data.len = parseIntegerOption("NFLOG", option, arg!, 0, UINT32_MAX);
        data.flags |= XT_NFLOG_F_COPY_LEN;
        data.sizeGiven = true;
        return;
      case "nflog-threshold":
        data.threshold = parseIntegerOption("NFLOG", option, arg!, 0, UINT16_MAX);
        return;
    }
  },
  finalCheck(data, ctx) {
    // libxt_NFLOG's own final check warns; xtables' check of conflicting options comes after it.
    if (data.rangeGiven) ctx.warn?.("warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead\n");
    if (data.rangeGiven && data.sizeGiven) {
      throw new ParameterProblem(`NFLOG: option "--nflog-range" cannot be used together with "--nflog-size".\n`);
    }
  },
  /**
   * The kernel hands the packet to a userspace logger (ulogd, tcpdump -i nflog:N) over nfnetlink;
   * uptables has no such listener, so it writes one line to the log instead:
   *
   *   NFLOG group=N prefix="PREFIX" IN=eth0 OUT= SRC=... (the fields LOG prints, without its flags)
   *
   * `prefix="..."` only when --nflog-prefix was given (its text as is, between double quotes). The rest
   * is LOG's line for the packet with no --log-* options, which is also what ulogd's syslog-style
   * output shows. --nflog-size and --nflog-threshold change what the listener receives and when:
   * nothing here. The packet always goes on (XT_CONTINUE), with or without a listener.
   */
  compile(data): TargetFunction {
    const head = `NFLOG group=${data.group} ${data.prefix !== "" ? `prefix="${data.prefix}" ` : ""}`;
    return (ctx) => {
      ctx.logs.push(head + formatPacketLog(ctx, 0));
      return XT_CONTINUE;
    };
  },
  save: (data) => describe(data, "--"),
  print: (data) => describe(data, ""),
});
