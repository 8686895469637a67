// nf_conntrack_checksum and CHECKSUM_UNNECESSARY: a packet with a bad transport checksum is INVALID
// at PREROUTING, unless the device said it already verified the checksum (then it is not summed).
import { describe, expect, it } from "vitest";
import { buildTcp } from "../../../src/core/packet/builder.ts";
import { engineFor, rulesFromCommands } from "../../support/engine.ts";

const HOST = { interfaces: [{ name: "eth0", addresses: ["10.0.0.1/24"] }, { name: "eth1", addresses: ["10.1.0.1/24"] }] };

function badChecksumSyn(): Uint8Array {
  const syn = buildTcp({ src: "10.0.0.5", dst: "10.1.0.9", sport: 40000, dport: 80, flags: 0x02, seq: 1 });
  syn[20 + 16] ^= 0xff; // the TCP checksum
  return syn;
}

describe("transport checksum verification", () => {
  it("marks a segment with a bad checksum INVALID and tracks nothing", () => {
    const engine = engineFor(rulesFromCommands(["-A FORWARD -m conntrack --ctstate INVALID -j DROP"]), HOST);
    const syn = badChecksumSyn();
    expect(engine.receive(syn, syn.length, "eth0", 0).accepted).toBe(false);
    expect(engine.conntrack.table.stats.invalid).toBe(1);
    expect(engine.conntrack.table.confirmedCount).toBe(0);
  });

  it("trusts the device when it verified the checksum (CHECKSUM_UNNECESSARY)", () => {
    const engine = engineFor(rulesFromCommands(["-A FORWARD -m conntrack --ctstate INVALID -j DROP"]), HOST);
    const syn = badChecksumSyn();
    expect(engine.receive(syn, syn.length, "eth0", 0, true).accepted).toBe(true);
    expect(engine.conntrack.table.stats.invalid).toBe(0);
    expect(engine.conntrack.table.confirmedCount).toBe(1);
    // The flag is per packet: the next one is summed again.
    const again = badChecksumSyn();
    again[21] ^= 1; // another source port: another connection
    expect(engine.receive(again, again.length, "eth0", 0).accepted).toBe(false);
  });
});
