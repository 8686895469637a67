// Connection events, as ctnetlink sends them to `conntrack -E`: NEW when a connection is confirmed,
// UPDATE when its TCP state, its SEEN_REPLY/ASSURED bits or its mark change, DESTROY when it is
// removed (expiry, early drop, -D, -F, a TCP reopen). The table calls a sink (no I/O here); the
// daemon's control layer formats the events and fans them out.
import { connectionText } from "./listing.ts";
import type { ConntrackTable } from "./table.ts";

export type ConntrackEventType = "NEW" | "UPDATE" | "DESTROY";

export const CONNTRACK_EVENT_TYPES: readonly ConntrackEventType[] = ["NEW", "UPDATE", "DESTROY"];

/**
 * Called with the connection's id while its columns still hold it (before a DESTROY frees it), and
 * the packet's time when a packet caused the event (NEW, UPDATE; the timeout shown counts from it).
 */
export type ConntrackEventSink = (type: ConntrackEventType, id: number, now?: number) => void;

/** One event as `conntrack -E` prints it: the type right-aligned in 9 columns, then the connection. */
export function formatConntrackEvent(table: ConntrackTable, type: ConntrackEventType, id: number, now: number): string {
  return `${`[${type}]`.padStart(9)} ${connectionText(table, id, now)}`;
}
