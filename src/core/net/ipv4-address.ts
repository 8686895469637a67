// IPv4 addresses as unsigned 32-bit numbers, parsed and printed the way iptables does.
import { ParameterProblem } from "../rules/errors.ts";
import { isCSpace, parseCUnsigned } from "./c-number.ts";
import { hostAddresses, hostName, networkAddress, networkName } from "./host-names.ts";

/** Parses a dotted quad strictly ("1.2.3.4"); returns null when it is not one. */
export function parseDottedQuad(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/**
 * Parses an address the way libxtables' numeric parser does: 1 to 4 dotted parts, missing
 * trailing parts are zero ("10" is 10.0.0.0, "10.1" is 10.1.0.0). Host names are not resolved.
 */
export function parseHostAddress(text: string): number | null {
  const parts = text.split(".");
  if (parts.length < 1 || parts.length > 4) return null;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    let octet = 0;
    if (i < parts.length) {
      if (!/^[0-9]{1,3}$/.test(parts[i]!)) return null;
      octet = Number(parts[i]);
      if (octet > 255) return null;
    }
    value = value * 256 + octet;
  }
  return value >>> 0;
}

export function formatAddress(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

export function prefixToMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The prefix length of a contiguous mask, or -1 when the mask has holes. */
export function maskToPrefix(mask: number): number {
  if (mask === 0) return 0;
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return -1;
  return 32 - Math.log2(inverted + 1);
}

/** "/24" for contiguous masks, "/255.0.255.0" otherwise, as iptables-save prints them. */
export function formatMask(mask: number): string {
  const len = maskToPrefix(mask);
  return len >= 0 ? `/${len}` : `/${formatAddress(mask)}`;
}

/**
 * libxtables' __numeric_to_ipaddr: up to four dot-separated numbers as strtoul reads them in base 0
 * ("10.0.0.1", "0x0a.0.0.1", "010.1.2.3" is 8.1.2.3); an address may stop early and is completed
 * with zeros ("10" is 10.0.0.0, "10.1" is 10.1.0.0), a mask must have all four parts.
 */
export function parseNumericAddress(text: string, isMask = false): number | null {
  // iptables copies the text into a 20-byte buffer first.
  const parts = text.slice(0, 19).split(".");
  if (parts.length > 4) {
    // A fourth dot: the last part is then not a number.
    return null;
  }
  if (isMask && parts.length < 4) return null;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    let octet = 0;
    if (i < parts.length) {
      const parsed = parseCUnsigned(parts[i]!, 0, 255);
      if (parsed === null) return null;
      octet = parsed;
    }
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** libxtables' parse_ipmask: a dotted mask or a prefix length 0-32 (base 0, so "0x18" is 24). */
export function parseIpMask(text: string): number {
  const dotted = parseNumericAddress(text, true);
  if (dotted !== null) return dotted;
  const bits = parseCUnsigned(text, 0, 32);
  if (bits === null) throw new ParameterProblem(`invalid mask \`${text}' specified`);
  return prefixToMask(bits);
}

/** ipparse_hostnetwork: a numeric address, a network name, or a host name (without DNS). */
function resolveHostOrNetwork(name: string): number[] {
  const numeric = parseNumericAddress(name);
  if (numeric !== null) return [numeric];
  const network = networkAddress(name);
  if (network !== null) return [network];
  const hosts = hostAddresses(name);
  if (hosts !== null) return hosts;
  throw new ParameterProblem(`host/network \`${name}' not found`);
}

/**
 * xtables_ipparse_multiple: `-s`/`-d`'s argument, a comma-separated list of ADDR[/MASK] (host or
 * network names included), each address masked as the kernel stores it. A rule is made for each.
 */
export function parseAddressList(text: string): AddressWithMask[] {
  const out: AddressWithMask[] = [];
  const items = text.split(",");
  for (const item of items) {
    let start = 0;
    while (isCSpace(item[start])) start++;
    let buf = item.slice(start);
    if (buf.length > 255) throw new ParameterProblem("Hostname too long");
    let mask = 0xffffffff;
    const slash = buf.lastIndexOf("/");
    if (slash >= 0) {
      mask = parseIpMask(buf.slice(slash + 1));
      buf = buf.slice(0, slash);
    }
    // "if a null mask is given, the name is ignored, like in any/0"
    if (mask === 0) buf = "0.0.0.0";
    for (const addr of resolveHostOrNetwork(buf)) out.push({ addr: (addr & mask) >>> 0, mask });
  }
  return out;
}

/**
 * xtables_ipaddr_to_anyname: the host name of an address, else the name of the network it starts,
 * else the dotted quad (what `iptables -L` prints without -n).
 */
export function addressToAnyName(addr: number): string {
  return hostName(addr) ?? networkName(addr) ?? formatAddress(addr);
}

/** xtables_ipmask_to_numeric: "" for /32, "/24" for contiguous masks, "/255.0.255.0" otherwise. */
export function formatListMask(mask: number): string {
  const len = maskToPrefix(mask);
  if (len === 32) return "";
  return len >= 0 ? `/${len}` : `/${formatAddress(mask)}`;
}

export interface AddressWithMask {
  addr: number;
  mask: number;
}

/**
 * Parses "ADDR[/LEN|/MASK]" as `-s`/`-d` take it. The address is masked, as iptables stores it.
 * Returns a reason when it cannot be parsed: "host" for a bad address, "mask" for a bad mask.
 */
export function parseAddressWithMask(text: string): AddressWithMask | "host" | "mask" {
  const slash = text.indexOf("/");
  const hostPart = slash < 0 ? text : text.slice(0, slash);
  let mask = 0xffffffff;
  if (slash >= 0) {
    const maskPart = text.slice(slash + 1);
    if (maskPart.includes(".")) {
      const parsed = parseDottedQuad(maskPart);
      if (parsed === null) return "mask";
      mask = parsed;
    } else {
      if (!/^[0-9]+$/.test(maskPart) || Number(maskPart) > 32) return "mask";
      mask = prefixToMask(Number(maskPart));
    }
  }
  const addr = parseHostAddress(hostPart);
  if (addr === null) return "host";
  return { addr: (addr & mask) >>> 0, mask };
}
