// IPv4 addresses as unsigned 32-bit numbers, parsed and printed the way iptables does.

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
