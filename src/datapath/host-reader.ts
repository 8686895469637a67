// The live host view for the datapath: what `ip -j addr show` and `ip -j route show table main`
// say about the current network namespace, turned into a HostDescription and then a HostView.
//
// Kept current by polling (every second by default): two `ip` processes run asynchronously, and
// the HostView is rebuilt only when their output changed, so an idle host costs two small process
// spawns a second and no allocation in the packet path. Polling was chosen over `ip monitor`
// because `ip monitor` has no JSON form and a missed or misparsed event would leave the view wrong
// for good; a poll is self-correcting. A change is seen within one interval.
//
// The daemon's own devices (its TUNs, see isDatapathTun) and routing tables (27000..27999, which
// are not `main` anyway) are left out: the engine must see the host as the kernel's own netfilter
// would, without the diversion.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { HostView, type HostDescription, type RouteType } from "../core/host/host-view.ts";

/** What `ip -j addr show` prints per interface (the fields used here). */
export interface IpAddrEntry {
  ifname: string;
  link_type?: string;
  flags?: string[];
  master?: string;
  addr_info?: { family: string; local: string; prefixlen: number; broadcast?: string }[];
}

/** What `ip -j route show table main` prints per route (the fields used here). */
export interface IpRouteEntry {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  protocol?: string;
  scope?: string;
}

const ROUTE_TYPES: ReadonlySet<string> = new Set(["unicast", "local", "broadcast", "blackhole", "unreachable", "prohibit"]);

/**
 * The HostDescription for the parsed `ip -j` outputs. `exclude(name)` says which interfaces are
 * not the host's (the daemon's TUNs); routes through them are dropped too.
 */
export function describeHost(
  addrs: readonly IpAddrEntry[],
  routes: readonly IpRouteEntry[],
  options: {
    exclude?: (name: string) => boolean;
    ipForward?: boolean;
    routeLocalnet?: (name: string) => boolean;
    /** conf/<name>/send_redirects and (all) conf/all/send_redirects; both default on, as in the kernel. */
    sendRedirects?: (name: string) => boolean;
    sendRedirectsAll?: boolean;
  } = {},
): HostDescription {
  const exclude = options.exclude ?? (() => false);
  const interfaces: HostDescription["interfaces"] = [];
  const names = new Set<string>();
  for (const entry of addrs) {
    if (typeof entry.ifname !== "string" || exclude(entry.ifname)) continue;
    const addresses = (entry.addr_info ?? []).filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`);
    interfaces.push({
      name: entry.ifname,
      addresses,
      routeLocalnet: options.routeLocalnet?.(entry.ifname) ?? false,
      sendRedirects: options.sendRedirects?.(entry.ifname) ?? true,
    });
    names.add(entry.ifname);
  }
  const described: NonNullable<HostDescription["routes"]> = [];
  for (const r of routes) {
    const type = r.type ?? "unicast";
    if (!ROUTE_TYPES.has(type) || type === "local" || type === "broadcast") continue;
    if (r.dev !== undefined && !names.has(r.dev)) continue; // a TUN of ours, or an interface that just went away
    if (type === "unicast" && r.dev === undefined) continue; // multipath and the like: not modelled
    const route: NonNullable<HostDescription["routes"]>[number] = { destination: r.dst, type: type as RouteType };
    if (r.dev !== undefined) route.dev = r.dev;
    if (r.gateway !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(r.gateway)) route.gateway = r.gateway;
    if (r.prefsrc !== undefined) route.src = r.prefsrc;
    described.push(route);
  }
  return { interfaces, routes: described, ipForward: options.ipForward ?? true, sendRedirects: options.sendRedirectsAll ?? true };
}

function ipJson<T>(args: readonly string[]): Promise<{ text: string; parsed: T }> {
  return new Promise((resolve, reject) => {
    execFile("ip", ["-j", ...args], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`ip -j ${args.join(" ")} failed: ${(stderr || error.message).trim()}`));
        return;
      }
      try {
        const text = stdout.trim() === "" ? "[]" : stdout;
        resolve({ text, parsed: JSON.parse(text) as T });
      } catch (e) {
        reject(new Error(`ip -j ${args.join(" ")}: unreadable JSON (${(e as Error).message})`));
      }
    });
  });
}

/** A sysctl's value by its /proc/sys path, or null when it does not exist. */
export type SysctlReader = (path: string) => string | null;

export function readProcSysctl(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/**
 * Whether the kernel routes 127.0.0.0/8 arriving on `name`: IN_DEV_NET_ROUTE_LOCALNET is the OR
 * of conf/all and conf/<name>. `read` lets the daemon answer for the sysctls it overrides itself
 * (route_localnet of a taken interface) with the host's own value.
 */
export function routesLocalnet(name: string, read: SysctlReader): boolean {
  return read("/proc/sys/net/ipv4/conf/all/route_localnet") === "1" || read(`/proc/sys/net/ipv4/conf/${name}/route_localnet`) === "1";
}

export interface HostSnapshot {
  readonly view: HostView;
  readonly description: HostDescription;
  readonly addrs: readonly IpAddrEntry[];
  readonly routes: readonly IpRouteEntry[];
}

/** Reads the current namespace once. */
export async function readHost(exclude: (name: string) => boolean, ipForward: boolean, read: SysctlReader = readProcSysctl): Promise<HostSnapshot & { key: string }> {
  const [a, r] = await Promise.all([ipJson<IpAddrEntry[]>(["addr", "show"]), ipJson<IpRouteEntry[]>(["route", "show", "table", "main"])]);
  const routeLocalnet = (name: string): boolean => routesLocalnet(name, read);
  // send_redirects as the host had it: the daemon turns conf/all off so that the kernel sends none of its own.
  const sendRedirects = (name: string): boolean => read(`/proc/sys/net/ipv4/conf/${name}/send_redirects`) !== "0";
  const sendRedirectsAll = read("/proc/sys/net/ipv4/conf/all/send_redirects") !== "0";
  const ours = a.parsed.filter((e) => !exclude(e.ifname));
  const localnet = ours.map((e) => (routeLocalnet(e.ifname) ? "1" : "0")).join("");
  const redirects = `${sendRedirectsAll ? 1 : 0}${ours.map((e) => (sendRedirects(e.ifname) ? "1" : "0")).join("")}`;
  const description = describeHost(a.parsed, r.parsed, { exclude, ipForward, routeLocalnet, sendRedirects, sendRedirectsAll });
  return { view: HostView.fromDescription(description), description, addrs: a.parsed, routes: r.parsed, key: `${a.text}\n${r.text}\n${localnet}\n${redirects}` };
}

/** Polls the host and calls `onChange` with a new snapshot whenever something changed. */
export class HostReader {
  private timer: NodeJS.Timeout | null = null;
  private key = "";
  private running = false;
  current: HostSnapshot | null = null;
  /**
   * Reads of the host completed so far. A change the host makes is in the engine's view once a read
   * that started after it has completed: two more than when it was made (see HostReader.start).
   */
  reads = 0;

  constructor(
    private readonly exclude: (name: string) => boolean,
    private readonly ipForward: boolean,
    private readonly onChange: (snapshot: HostSnapshot) => void,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = 1000,
    private readonly read: SysctlReader = readProcSysctl,
  ) {}

  /** Reads once (throws if the host cannot be read), then keeps polling. */
  async start(): Promise<HostSnapshot> {
    const first = await readHost(this.exclude, this.ipForward, this.read);
    this.key = first.key;
    this.current = first;
    this.reads++;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
    return first;
  }

  private async poll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const next = await readHost(this.exclude, this.ipForward, this.read);
      if (next.key !== this.key && this.timer !== null) {
        this.key = next.key;
        this.current = next;
        this.onChange(next);
      }
      this.reads++;
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
