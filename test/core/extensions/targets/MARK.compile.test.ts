// -j MARK in the engine: mark = (mark & ~mask) ^ value, seen by -m mark later on the packet's way and
// in LOG's MARK= field.
import { describe, expect, it } from "vitest";
import { buildUdp } from "../../../../src/core/packet/builder.ts";
import { markTarget } from "../../../../src/core/extensions/targets/MARK.ts";
import { PacketContext } from "../../../../src/core/engine/packet-context.ts";
import { XT_CONTINUE } from "../../../../src/core/engine/verdict.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";
import { ROUTER, receive } from "./engine-support.ts";

const packet = () => buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 53 });

/** The mark the packet has when it reaches INPUT, after the mangle PREROUTING rules given. */
function markAfter(...marks: string[]): string {
  const engine = engineFor(
    rulesFromCommands([...marks.map((m) => `iptables -t mangle -A PREROUTING -j MARK ${m}`), "iptables -A INPUT -j LOG"]),
    ROUTER,
  );
  const line = receive(engine, packet(), "eth0").logs[0]!;
  return /MARK=(0x[0-9a-f]+) $/.exec(line)?.[1] ?? "0x0";
}

describe("MARK", () => {
  it("applies each option as the kernel's set-xmark", () => {
    expect(markAfter("--set-mark 0x10")).toBe("0x10");
    expect(markAfter("--set-mark 0x10", "--or-mark 0x3")).toBe("0x13");
    expect(markAfter("--set-mark 0x1f", "--and-mark 0x11")).toBe("0x11");
    expect(markAfter("--set-mark 0x1f", "--xor-mark 0x5")).toBe("0x1a");
    // Only the mask bits change: 0xff00ff00 with 0x0000ab00/0x0000ff00 -> 0xff00ab00.
    expect(markAfter("--set-mark 0xff00ff00", "--set-xmark 0xab00/0xff00")).toBe("0xff00ab00");
    // set-xmark XORs into what is left: 0x0f/0x0c on 0x0f -> (0x0f & ~0x0c) ^ 0x0f = 0x0c.
    expect(markAfter("--set-mark 0x0f", "--set-xmark 0x0f/0x0c")).toBe("0xc");
    expect(markAfter("--set-mark 0x1/0x1", "--set-mark 0x0")).toBe("0x0");
    expect(markAfter("--set-mark 0xffffffff")).toBe("0xffffffff");
  });

  it("lets the walk go on, and the filter table sees the mark with -m mark", () => {
    const engine = engineFor(
      rulesFromCommands([
        "iptables -t mangle -A PREROUTING -i eth0 -j MARK --set-mark 0x7/0xff",
        "iptables -t mangle -A PREROUTING -j MARK --or-mark 0x100",
        "iptables -A INPUT -m mark --mark 0x107 -j DROP",
      ]),
      ROUTER,
    );
    const dropped = receive(engine, packet(), "eth0");
    expect(dropped.accepted).toBe(false);
    expect(dropped.dropReason).toBe("rule");
    // From eth1 only the or-mark applies: 0x100 is not 0x107, the policy accepts.
    const other = buildUdp({ src: "10.0.0.5", dst: "10.0.0.1", sport: 1, dport: 2 });
    expect(receive(engine, other, "eth1").accepted).toBe(true);
  });

  it("keeps the mark for the whole of the packet's way (PREROUTING to POSTROUTING when forwarding)", () => {
    const engine = engineFor(
      rulesFromCommands(["iptables -t mangle -A PREROUTING -j MARK --set-mark 0x2", "iptables -t mangle -A POSTROUTING -m mark --mark 0x2 -j LOG --log-prefix 'm '"]),
      ROUTER,
    );
    const out = receive(engine, buildUdp({ src: "10.0.0.5", dst: "198.51.100.7", sport: 1, dport: 2 }), "eth1");
    expect(out.logs).toHaveLength(1);
    expect(out.logs[0]).toMatch(/^m IN=eth1 OUT=eth0 .* MARK=0x2 $/);
  });

  it("starts every packet with mark 0", () => {
    const engine = engineFor(
      rulesFromCommands(["iptables -t mangle -A PREROUTING -p udp --dport 53 -j MARK --set-mark 0x9", "iptables -A INPUT -m mark ! --mark 0 -j DROP"]),
      ROUTER,
    );
    expect(receive(engine, packet(), "eth0").accepted).toBe(false);
    const other = buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 54 });
    expect(receive(engine, other, "eth0").accepted).toBe(true);
  });

  it("compiles to a function that only touches the mark", () => {
    const data = markTarget.init() as { mark: number; mask: number; given: number };
    markTarget.parse(data, "set-xmark", "0x80000000/0xc0000000", false, { table: "mangle", protocol: 0, protocolInverted: false, takeExtraArgument: () => undefined });
    const run = markTarget.compile!(data);
    const ctx = new PacketContext();
    ctx.mark = 0xffffffff;
    expect(run(ctx)).toBe(XT_CONTINUE);
    expect(ctx.mark).toBe(0xbfffffff);
  });
});
