// The connection table on its own: both tuples found, confirm and clashes, expiry, early drop.
import { describe, expect, it } from "vitest";
import { ConntrackTable } from "../../../src/core/conntrack/table.ts";
import { CtStatus } from "../../../src/core/conntrack/states.ts";
import { packPorts } from "../../../src/core/conntrack/tuple.ts";

const TCP = 6;

function open(table: ConntrackTable, src: number, dst: number, sport: number, dport: number, now = 0): number {
  const id = table.allocate(TCP, src, dst, sport, dport, packPorts(dport, sport));
  table.setExpires(id, now + 1000);
  expect(table.confirm(id, now)).toBe(true);
  return id;
}

describe("ConntrackTable", () => {
  it("finds a connection by either tuple, with the direction in the node", () => {
    const table = new ConntrackTable({ maxEntries: 8 });
    const id = open(table, 1, 2, 1000, 80);
    expect(table.lookup(TCP, 1, 2, packPorts(1000, 80), 0)).toBe(id * 2);
    expect(table.lookup(TCP, 2, 1, packPorts(80, 1000), 0)).toBe(id * 2 + 1);
    expect(table.lookup(TCP, 1, 2, packPorts(1001, 80), 0)).toBe(-1);
    expect(table.lookup(17, 1, 2, packPorts(1000, 80), 0)).toBe(-1);
  });

  it("does not confirm a connection whose tuple is taken (insert_failed)", () => {
    const table = new ConntrackTable({ maxEntries: 8 });
    open(table, 1, 2, 1000, 80);
    const clash = table.allocate(TCP, 1, 2, 1000, 80, packPorts(80, 1000));
    expect(table.confirm(clash, 0)).toBe(false);
    expect(table.stats.insertFailed).toBe(1);
    table.remove(clash);
    expect(table.allocatedCount).toBe(1);
  });

  it("reaps expired connections on lookup and in the garbage collector", () => {
    const table = new ConntrackTable({ maxEntries: 8 });
    open(table, 1, 2, 1000, 80, 0);
    open(table, 1, 2, 1001, 80, 500);
    expect(table.lookup(TCP, 1, 2, packPorts(1000, 80), 1000)).toBe(-1); // expired at 1000
    expect(table.confirmedCount).toBe(1);
    expect(table.collectGarbage(1499)).toBe(0);
    expect(table.collectGarbage(1500)).toBe(1);
    expect(table.confirmedCount).toBe(0);
  });

  it("early-drops an unassured connection when full, never an assured one", () => {
    const table = new ConntrackTable({ maxEntries: 2, buckets: 1 });
    const a = open(table, 1, 2, 1, 80);
    const b = open(table, 1, 2, 2, 80);
    table.addStatus(a, CtStatus.ASSURED);
    expect(table.allocate(TCP, 1, 2, 3, 80, packPorts(80, 3))).toBe(-1);
    expect(table.earlyDrop(0, 0)).toBe(true);
    expect(table.isLive(b)).toBe(false);
    expect(table.isLive(a)).toBe(true);
    table.addStatus(table.allocate(TCP, 1, 2, 3, 80, packPorts(80, 3)), CtStatus.ASSURED);
    expect(table.earlyDrop(0, 0)).toBe(false);
  });

  it("keeps its memory under 100 bytes per connection", () => {
    const table = new ConntrackTable({ maxEntries: 1 << 16 });
    expect(table.memoryBytes / table.maxEntries).toBeLessThan(100);
  });

  it("keeps each field of a connection's record apart from the others and from its neighbours'", () => {
    const table = new ConntrackTable({ maxEntries: 4 });
    const a = open(table, 0xffffffff, 0xfffffffe, 0xffff, 0xfffe);
    const b = open(table, 7, 8, 9, 10);
    table.setTcp(a, 11, 0xff, 1, 3);
    table.setStatus(a, 0xffff);
    table.setMark(a, 0xffffffff);
    table.setExpires(a, 2 ** 52 + 1);
    table.setCreated(a, 1.5e12);
    expect([table.tcpState(a), table.tcpLastClass(a), table.tcpLastDir(a), table.tcpCloseInit(a)]).toEqual([11, 0xff, 1, 3]);
    expect([table.status(a), table.mark(a), table.expires(a), table.created(a)]).toEqual([0xffff, 0xffffffff, 2 ** 52 + 1, 1.5e12]);
    expect([table.protocol(a), table.tupleSrc(a * 2), table.tupleDst(a * 2), table.tuplePorts(a * 2)]).toEqual([TCP, 0xffffffff, 0xfffffffe, 0xfffffffe]);
    expect([table.tupleSrc(a * 2 + 1), table.tupleDst(a * 2 + 1), table.tuplePorts(a * 2 + 1)]).toEqual([0xfffffffe, 0xffffffff, 0xfffeffff]);
    expect([table.status(b), table.mark(b), table.tcpState(b), table.expires(b), table.protocol(b)]).toEqual([CtStatus.CONFIRMED, 0, 0, 1000, TCP]);
    expect(table.lookup(TCP, 7, 8, packPorts(9, 10), 0)).toBe(b * 2);
    expect(table.lookup(TCP, 0xffffffff, 0xfffffffe, packPorts(0xffff, 0xfffe), 0)).toBe(a * 2);
  });
});
