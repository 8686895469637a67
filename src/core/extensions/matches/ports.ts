// Port and port-range parsing and printing shared by tcp, udp and multiport (libxtables' port helpers).
import { ParameterProblem } from "../../rules/errors.ts";
import { parsePort, portName } from "../../net/services.ts";
import { strtoumax } from "../../net/c-number.ts";
import { parseUnsigned } from "../targets/xtables-numbers.ts";

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export const ANY_PORT: PortRange = { min: 0, max: 0xffff };

/** One port as tcp reads it (xtables_parse_port); iptables' "invalid port/service `X' specified" otherwise. */
export function parseOnePort(text: string, proto: string): number {
  const port = parseXtablesPort(text, proto);
  if (port === null) throw new ParameterProblem(`invalid port/service \`${text}' specified`);
  return port;
}

/** "PORT", "MIN:MAX", ":MAX", "MIN:" or ":" as tcp's --sport/--dport take them. */
export function parsePortRange(text: string, proto: string): PortRange {
  const colon = text.indexOf(":");
  if (colon < 0) {
    const port = parseOnePort(text, proto);
    return { min: port, max: port };
  }
  const lo = text.slice(0, colon);
  const hi = text.slice(colon + 1);
  const min = lo === "" ? 0 : parseOnePort(lo, proto);
  const max = hi === "" ? 0xffff : parseOnePort(hi, proto);
  if (min > max) throw new ParameterProblem(`invalid portrange (min > max)`);
  return { min, max };
}

/** "--sport 80" / "--sport 1:1023" as iptables-save prints a range; "" for any port, uninverted. */
export function savePortRange(option: string, range: PortRange, inverted: boolean): string {
  if (range.min === 0 && range.max === 0xffff && !inverted) return "";
  const value = range.min === range.max ? `${range.min}` : `${range.min}:${range.max}`;
  return `${inverted ? "! " : ""}--${option} ${value}`;
}

/** "dpt:80" / "dpts:1:1023" / "dpt:!http" as `iptables -L` prints a range; "" for any port, uninverted. */
export function printPortRange(label: string, range: PortRange, inverted: boolean, proto: string, numeric: boolean): string {
  if (range.min === 0 && range.max === 0xffff && !inverted) return "";
  if (range.min === range.max) return `${label}:${inverted ? "!" : ""}${portName(range.min, proto, numeric)}`;
  return `${label}s:${inverted ? "!" : ""}${portName(range.min, proto, numeric)}:${portName(range.max, proto, numeric)}`;
}

/** Joins non-empty parts with single spaces. */
export function joinParts(parts: readonly string[]): string {
  return parts.filter((p) => p !== "").join(" ");
}

/**
 * xtables_parse_port, which tcp and multiport use: a number as strtoul takes it in base 0 (" 80",
 * "+80", "0x50", "0120" is 80) up to 65535, else a service name of `proto` (getservbyname), null
 * when it names none. A number that does not read ("08", "65536") names no service either.
 */
export function parseXtablesPort(text: string, proto: string): number | null {
  const number = parseUnsigned(text, 0, 0xffff);
  if (number !== null) return number;
  return /^[0-9]+$/.test(text) ? null : parsePort(text, proto);
}

/**
 * xtables_getportbyname, which udp's --sport/--dport use: getaddrinfo's service look-up. glibc
 * reads a decimal number with strtoul (blanks and a sign allowed, "-1" wrapping round), keeps it
 * as a C int and only its low 16 bits as the port ("65536" is port 0); a negative int, or anything
 * not wholly a number, is looked up as a service name of any protocol. Null when that finds nothing.
 */
export function resolveServicePort(text: string): number | null {
  const parsed = strtoumax(text, 10);
  if (parsed !== null && parsed.end === text.length) {
    const asInt = BigInt.asIntN(32, parsed.value);
    if (asInt >= 0n) return Number(asInt & 0xffffn);
  }
  return parsePort(text, null);
}
