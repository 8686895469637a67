// -j TRACE in the engine: it marks the packet traced and lets the walk go on.
import { describe, expect, it } from "vitest";
import { buildUdp } from "../../../../src/core/packet/builder.ts";
import { traceTarget } from "../../../../src/core/extensions/targets/TRACE.ts";
import { PacketContext } from "../../../../src/core/engine/packet-context.ts";
import { XT_CONTINUE } from "../../../../src/core/engine/verdict.ts";
import { engineFor, rulesFromCommands, traced } from "../../../support/engine.ts";
import { ROUTER, receive } from "./engine-support.ts";

describe("TRACE", () => {
  it("sets the context's traced flag and continues", () => {
    const run = traceTarget.compile!(traceTarget.init());
    const ctx = new PacketContext();
    expect(ctx.traced).toBe(false);
    expect(run(ctx)).toBe(XT_CONTINUE);
    expect(ctx.traced).toBe(true);
  });

  it("does not decide: the rules after it still run", () => {
    const engine = engineFor(rulesFromCommands(["iptables -t raw -A PREROUTING -p udp -j TRACE", "iptables -A INPUT -p udp --dport 53 -j DROP"]), ROUTER);
    const packet = buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 53 });
    const { result, events } = traced(engine, () => receive(engine, packet, "eth0"));
    expect(result.accepted).toBe(false);
    // TRACE's rule continues (-1), raw's policy accepts, filter's DROP (0) decides.
    const steps = events.flatMap((e) => (e.kind === "rule" ? [`${e.step.table} ${e.step.kind} ${e.step.verdict}`] : []));
    expect(steps).toEqual(["raw rule -1", "raw policy 1", "filter rule 0"]);
  });
});
