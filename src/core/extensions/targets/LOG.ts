// -j LOG: write a kernel log line about the packet and go on (libxt_LOG, xt_LOG).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget } from "../extension.ts";
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
