// Following the host's interfaces while the daemon runs (with the default choice, no --interfaces).
//
// The daemon takes over every interface but lo, bridge/bond ports and its own TUNs. Such interfaces
// also come and go later: `docker network create` makes a bridge br-<id>, a user adds a veth, a
// network is removed. Each time the host view changes (host-reader.ts polls `ip -j addr show`) the
// interfaces are compared with the ones taken:
//   - a new one is taken over once it is up. Docker and `ip link add` make a veth down, enslave it to
//     a bridge, then set it up; waiting for "up" keeps a future bridge port from being taken over for
//     a moment (a down interface receives nothing, so nothing is missed);
//   - one that went away, or became a bridge port, is released (a taken one that merely went down
//     stays taken: it keeps its TUN and rules for when it comes back up).
import type { IpAddrEntry } from "./host-reader.ts";
import type { PacketLoop } from "./loop.ts";
import { TUN_PREFIX, type Datapath, type Logger } from "./setup.ts";

/** What is needed of one interface (`ip -j addr show` and `ip -j link show` both give it). */
export type LinkSummary = Pick<IpAddrEntry, "ifname" | "master" | "flags">;

/** The default choice: all interfaces but lo, bridge/bond ports (their packets reach IP as the master) and upt-* TUNs. */
export function takeableInterfaces(links: readonly LinkSummary[]): string[] {
  return links.filter((l) => l.ifname !== "lo" && l.master === undefined && !l.ifname.startsWith(TUN_PREFIX)).map((l) => l.ifname);
}

export interface InterfaceChanges {
  readonly takeOver: string[];
  readonly release: string[];
}

/** Which interfaces to take over and which to release, given the ones taken and the host's links now. */
export function interfaceChanges(taken: readonly string[], links: readonly LinkSummary[]): InterfaceChanges {
  const takeable = new Set(takeableInterfaces(links));
  const isTaken = new Set(taken);
  const up = new Set(links.filter((l) => l.flags?.includes("UP") === true).map((l) => l.ifname));
  return {
    takeOver: [...takeable].filter((name) => !isTaken.has(name) && up.has(name)).sort(),
    release: taken.filter((name) => !takeable.has(name)),
  };
}

/** Applies interfaceChanges to a running datapath and its packet loop. */
export class InterfaceFollower {
  constructor(
    private readonly datapath: Datapath,
    private readonly loop: PacketLoop,
    private readonly log: Logger,
  ) {}

  /** Called with every new host snapshot's interfaces. A failure is logged; the daemon runs on. */
  update(links: readonly LinkSummary[]): void {
    const changes = interfaceChanges(
      this.datapath.taken.map((t) => t.iface),
      links,
    );
    for (const iface of changes.release) {
      const tun = this.datapath.release(iface);
      if (tun !== null) this.loop.remove(tun);
      const now = links.find((l) => l.ifname === iface);
      this.log(`released ${iface} (${now === undefined ? "it went away" : `it is now a port of ${now.master}`})`);
    }
    for (const iface of changes.takeOver) {
      try {
        const taken = this.datapath.takeOver(iface);
        this.loop.add(taken.tun, iface);
        this.log(`took over ${iface} (new interface): ${taken.tunName}, table ${taken.table}`);
      } catch (error) {
        this.log(`cannot take over the new interface ${iface}: ${(error as Error).message}`);
      }
    }
  }
}
