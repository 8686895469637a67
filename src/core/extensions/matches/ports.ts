// Port and port-range parsing and printing shared by tcp, udp and multiport (libxtables' port helpers).
import { ParameterProblem } from "../../rules/errors.ts";
import { parsePort, portName } from "../../net/services.ts";

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export const ANY_PORT: PortRange = { min: 0, max: 0xffff };

/** One port number or service name; iptables' "invalid port/service `X' specified" otherwise. */
export function parseOnePort(text: string, proto: string): number {
  const port = parsePort(text, proto);
  if (port === null) throw new ParameterProblem(`invalid port/service \`${text}' specified`);
  return port;
}

/** "PORT", "MIN:MAX", ":MAX", "MIN:" or ":" as --sport/--dport take them. */
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
