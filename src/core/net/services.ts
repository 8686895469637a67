import { SERVICE_TABLE } from "./service-names.ts";

const byName = new Map<string, Map<string, number>>();
const byPort = new Map<string, Map<number, string>>();
for (const [proto, entries] of Object.entries(SERVICE_TABLE)) {
  const names = new Map<string, number>();
  const ports = new Map<number, string>();
  for (const [name, port, aliases] of entries) {
    if (!names.has(name)) names.set(name, port);
    for (const alias of aliases) if (!names.has(alias)) names.set(alias, port);
    if (!ports.has(port)) ports.set(port, name);
  }
  byName.set(proto, names);
  byPort.set(proto, ports);
}

/** A port number or service name for `proto` ("tcp", "udp"...); null when neither. */
export function parsePort(text: string, proto: string | null): number | null {
  if (/^[0-9]+$/.test(text)) {
    const port = Number(text);
    return port <= 65535 ? port : null;
  }
  if (proto !== null) return byName.get(proto)?.get(text) ?? null;
  for (const names of byName.values()) {
    const port = names.get(text);
    if (port !== undefined) return port;
  }
  return null;
}

/** The service name `iptables -L` prints (without -n), or the number. */
export function portName(port: number, proto: string, numeric: boolean): string {
  if (numeric) return String(port);
  return byPort.get(proto)?.get(port) ?? String(port);
}
