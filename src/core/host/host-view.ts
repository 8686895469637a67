// What the engine knows of the host it runs for: interfaces with their addresses, the routing tables,
// and the few sysctls that change forwarding. It answers the questions netfilter asks the kernel:
// which route a packet takes (and from which source address), what type an address is (addrtype),
// which address MASQUERADE and REDIRECT use. It is plain data: tests and `simulate` build it from
// JSON, the datapath from the live host.
import { formatAddress, parseAddressWithMask, parseDottedQuad, prefixToMask } from "../net/ipv4-address.ts";

/** Address types with iptables' addrtype bit values (XT_ADDRTYPE_*), from the kernel's RTN_* order. */
export const AddrType = {
  UNSPEC: 1 << 0,
  UNICAST: 1 << 1,
  LOCAL: 1 << 2,
  BROADCAST: 1 << 3,
  ANYCAST: 1 << 4,
  MULTICAST: 1 << 5,
  BLACKHOLE: 1 << 6,
  UNREACHABLE: 1 << 7,
  PROHIBIT: 1 << 8,
  THROW: 1 << 9,
  NAT: 1 << 10,
  XRESOLVE: 1 << 11,
} as const;

export type RouteType = "unicast" | "local" | "broadcast" | "blackhole" | "unreachable" | "prohibit";

export interface InterfaceAddress {
  readonly address: number;
  readonly prefixLength: number;
  readonly broadcast: number;
}

export interface HostInterface {
  readonly name: string;
  readonly addresses: readonly InterfaceAddress[];
  /** net.ipv4.conf.<if>.route_localnet: accept 127.0.0.0/8 from outside (CVE-2020-8558 lab). */
  readonly routeLocalnet: boolean;
  /** net.ipv4.conf.<if>.send_redirects (default on); see HostView.sendsRedirects. */
  readonly sendRedirects?: boolean;
}

export interface Route {
  readonly destination: number;
  readonly prefixLength: number;
  /** The prefix as a mask (filled in by HostView, so the lookup does not recompute it). */
  readonly mask?: number;
  readonly type: RouteType;
  /** Out interface; null for blackhole/unreachable/prohibit. */
  readonly device: string | null;
  readonly gateway: number | null;
  /** Preferred source address (`src`), if the route names one. */
  readonly source: number | null;
}

/** A route look-up's answer; one object reused by every look-up: read it before the next one. */
export interface RouteResult {
  route: Route;
  /** Where the packet goes next: the gateway, or the destination itself on a connected route. */
  nextHop: number;
}

/** The JSON form used by tests and `uptables simulate --host FILE`. */
export interface HostDescription {
  interfaces: { name: string; addresses?: string[]; routeLocalnet?: boolean; sendRedirects?: boolean }[];
  routes?: { destination: string; dev?: string; gateway?: string; src?: string; type?: RouteType }[];
  ipForward?: boolean;
  /** net.ipv4.conf.all.send_redirects (default on). */
  sendRedirects?: boolean;
}

export class HostDescriptionError extends Error {}

const MULTICAST_NET = 0xe0000000;
const LOOPBACK_NET = 0x7f000000;

export class HostView {
  readonly interfaces: ReadonlyMap<string, HostInterface>;
  /** The local table (local and broadcast routes), as the kernel derives it from addresses. */
  readonly localRoutes: readonly Route[];
  /** The main table, longest prefix first. */
  readonly mainRoutes: readonly Route[];
  readonly ipForward: boolean;
  /** net.ipv4.conf.all.send_redirects. */
  readonly sendRedirectsAll: boolean;
  private readonly lastRoute: RouteResult = { route: null as unknown as Route, nextHop: 0 };
  private readonly localnetInterfaces: ReadonlySet<string>;

  constructor(interfaces: readonly HostInterface[], routes: readonly Route[], ipForward = true, sendRedirectsAll = true) {
    this.interfaces = new Map(interfaces.map((i) => [i.name, i]));
    const local: Route[] = [];
    const connected: Route[] = [];
    for (const iface of interfaces) {
      for (const a of iface.addresses) {
        const mask = prefixToMask(a.prefixLength);
        // The kernel adds a local route for the address (for 127.0.0.1/8 on lo: the whole /8)...
        local.push({
          destination: iface.name === "lo" ? (a.address & mask) >>> 0 : a.address,
          prefixLength: iface.name === "lo" ? a.prefixLength : 32,
          type: "local",
          device: iface.name,
          gateway: null,
          source: a.address,
        });
        if (a.prefixLength < 31) {
          // ...a broadcast route for the subnet's broadcast address...
          local.push({ destination: a.broadcast, prefixLength: 32, type: "broadcast", device: iface.name, gateway: null, source: a.address });
        }
        if (iface.name !== "lo") {
          // ...and a connected route to the subnet in the main table.
          connected.push({
            destination: (a.address & mask) >>> 0,
            prefixLength: a.prefixLength,
            type: "unicast",
            device: iface.name,
            gateway: null,
            source: a.address,
          });
        }
      }
    }
    this.localRoutes = sortByPrefix(local);
    this.mainRoutes = sortByPrefix([...connected, ...routes]);
    this.ipForward = ipForward;
    this.sendRedirectsAll = sendRedirectsAll;
    this.localnetInterfaces = new Set(interfaces.filter((i) => i.routeLocalnet).map((i) => i.name));
  }

  static fromDescription(description: HostDescription): HostView {
    const interfaces: HostInterface[] = [];
    for (const iface of description.interfaces ?? []) {
      if (typeof iface.name !== "string" || iface.name === "") throw new HostDescriptionError("interface without a name");
      const addresses = (iface.addresses ?? []).map((text) => {
        const parsed = parseAddressWithMask(text.includes("/") ? text : `${text}/32`);
        const host = parseDottedQuad(text.split("/")[0]!);
        if (typeof parsed === "string" || host === null) throw new HostDescriptionError(`interface ${iface.name}: bad address ${text}`);
        const prefixLength = text.includes("/") ? Number(text.split("/")[1]) : 32;
        const mask = prefixToMask(prefixLength);
        return { address: host, prefixLength, broadcast: ((host & mask) | ~mask) >>> 0 };
      });
      interfaces.push({ name: iface.name, addresses, routeLocalnet: iface.routeLocalnet ?? false, sendRedirects: iface.sendRedirects ?? true });
    }
    if (!interfaces.some((i) => i.name === "lo")) {
      interfaces.push({ name: "lo", addresses: [{ address: 0x7f000001, prefixLength: 8, broadcast: 0x7fffffff }], routeLocalnet: false });
    }
    const routes: Route[] = (description.routes ?? []).map((r) => {
      const dest = r.destination === "default" ? { addr: 0, mask: 0 } : parseAddressWithMask(r.destination);
      if (typeof dest === "string") throw new HostDescriptionError(`route ${r.destination}: bad destination`);
      const prefixLength = r.destination === "default" ? 0 : r.destination.includes("/") ? Number(r.destination.split("/")[1]) : 32;
      const gateway = r.gateway === undefined ? null : parseDottedQuad(r.gateway);
      const source = r.src === undefined ? null : parseDottedQuad(r.src);
      if (r.gateway !== undefined && gateway === null) throw new HostDescriptionError(`route ${r.destination}: bad gateway ${r.gateway}`);
      if (r.src !== undefined && source === null) throw new HostDescriptionError(`route ${r.destination}: bad src ${r.src}`);
      const type = r.type ?? "unicast";
      const device = r.dev ?? null;
      if (type === "unicast" && device === null) throw new HostDescriptionError(`route ${r.destination}: no dev`);
      if (device !== null && !interfaces.some((i) => i.name === device)) {
        throw new HostDescriptionError(`route ${r.destination}: no interface ${device}`);
      }
      return { destination: dest.addr, prefixLength, type, device, gateway, source };
    });
    return new HostView(interfaces, routes, description.ipForward ?? true, description.sendRedirects ?? true);
  }

  /** The local-table route for an address, if it is one of the host's own or a broadcast address. */
  localRoute(address: number): Route | null {
    return longestMatch(this.localRoutes, address);
  }

  isLocal(address: number): boolean {
    return this.localRoute(address)?.type === "local";
  }

  /**
   * The route the kernel picks for `destination` (fib_lookup over the local, then the main table);
   * null when there is none (the kernel answers "Network is unreachable").
   */
  route(destination: number): RouteResult | null {
    const result = this.lastRoute;
    const local = this.localRoute(destination);
    if (local) {
      result.route = local;
      result.nextHop = destination;
      return result;
    }
    const route = longestMatch(this.mainRoutes, destination);
    if (!route) return null;
    result.route = route;
    result.nextHop = route.gateway ?? destination;
    return result;
  }

  /**
   * The address type iptables' addrtype sees (the kernel's inet_dev_addr_type: only the local table
   * decides, everything else is UNICAST). With `device`, LOCAL only counts on that interface.
   */
  addressType(address: number, device: string | null = null): number {
    if ((address & 0xf0000000) >>> 0 === MULTICAST_NET) return AddrType.MULTICAST;
    if (address >>> 24 === 0 || address === 0xffffffff) return AddrType.BROADCAST;
    const route = this.localRoute(address);
    if (!route) return AddrType.UNICAST;
    if (device !== null && route.device !== device && !(route.type === "local" && route.device === "lo" && device === "lo")) {
      return AddrType.UNICAST;
    }
    return route.type === "local" ? AddrType.LOCAL : route.type === "broadcast" ? AddrType.BROADCAST : AddrType.UNICAST;
  }

  primaryAddress(device: string): number | null {
    return this.interfaces.get(device)?.addresses[0]?.address ?? null;
  }

  /**
   * The source address the kernel would choose on `device` towards `nextHop` (inet_select_addr):
   * an address of the device whose subnet holds the next hop, else its first address.
   */
  selectSource(device: string, nextHop: number): number | null {
    const iface = this.interfaces.get(device);
    if (!iface || iface.addresses.length === 0) return null;
    for (const a of iface.addresses) {
      const mask = prefixToMask(a.prefixLength);
      if (((a.address ^ nextHop) & mask) === 0) return a.address;
    }
    return iface.addresses[0]!.address;
  }

  /** The source a locally generated packet takes: the route's `src`, else inet_select_addr. */
  outputSource(destination: number): number | null {
    const result = this.route(destination);
    if (!result) return null;
    if (result.route.source !== null) return result.route.source;
    return result.route.device ? this.selectSource(result.route.device, result.nextHop) : null;
  }

  /** Whether packets from outside to 127.0.0.0/8 are routed on `device` (route_localnet). */
  routesLocalnet(device: string): boolean {
    return this.localnetInterfaces.size !== 0 && this.localnetInterfaces.has(device);
  }

  /**
   * Whether the host sends ICMP redirects out of `device` (IN_DEV_TX_REDIRECTS: conf/all OR
   * conf/<device>, so turning one off is not enough).
   */
  sendsRedirects(device: string): boolean {
    return this.sendRedirectsAll || (this.interfaces.get(device)?.sendRedirects ?? true);
  }

  /**
   * fib_validate_source's "the source is on this link": the way back to `source` is a connected
   * route (no gateway) out of `device`, the interface the packet came in on.
   */
  sourceOnLink(source: number, device: string): boolean {
    const back = this.route(source);
    return back !== null && back.route.type === "unicast" && back.route.device === device && back.route.gateway === null;
  }

  isLoopbackAddress(address: number): boolean {
    return (address & 0xff000000) >>> 0 === LOOPBACK_NET;
  }

  describe(): string {
    const lines: string[] = [];
    for (const iface of this.interfaces.values()) {
      lines.push(`${iface.name}: ${iface.addresses.map((a) => `${formatAddress(a.address)}/${a.prefixLength}`).join(" ")}`);
    }
    return lines.join("\n");
  }
}

function sortByPrefix(routes: Route[]): Route[] {
  return routes.map((r) => ({ ...r, mask: prefixToMask(r.prefixLength) })).sort((a, b) => b.prefixLength - a.prefixLength);
}

function longestMatch(routes: readonly Route[], address: number): Route | null {
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (((address & route.mask!) >>> 0) === route.destination) return route;
  }
  return null;
}
