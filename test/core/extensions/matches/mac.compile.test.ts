// -m mac in the engine: the packets come from a TUN device without their Ethernet header, so the
// source MAC cannot be known; a rule set that asks for it is refused when it is loaded, rather
// than run with a guess.
import { describe, expect, it } from "vitest";
import { buildUdp } from "../../../../src/core/packet/builder.ts";
import { CompileError } from "../../../../src/core/engine/compile.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

const udp = (dport: number): Uint8Array => buildUdp({ src: "192.168.0.5", dst: "172.17.0.2", sport: 1000, dport });

describe("mac: refused by the engine", () => {
  it("fails to load a rule set with -m mac, naming the rule option", () => {
    const rules = rulesFromCommands(["-A FORWARD -m mac --mac-source 00:11:22:aa:bb:cc -j DROP"]);
    expect(() => engineFor(rules)).toThrow(CompileError);
    expect(() => engineFor(rules)).toThrow(
      "-m mac --mac-source 00:11:22:aa:bb:cc: the engine sees packets without their link-layer header (TUN), so the Ethernet source address cannot be matched",
    );
  });

  it("names the inversion too", () => {
    const rules = rulesFromCommands(["-A INPUT -m mac ! --mac-source 0:1:2:3:4:5 -j ACCEPT"]);
    expect(() => engineFor(rules)).toThrow(/^-m mac ! --mac-source 00:01:02:03:04:05: /);
  });

  it("fails for a rule in a user chain no hook reaches, and in any table", () => {
    expect(() => engineFor(rulesFromCommands(["-N UNUSED", "-A UNUSED -m mac --mac-source 00:00:00:00:00:01"]))).toThrow(CompileError);
    expect(() => engineFor(rulesFromCommands(["-t mangle -A PREROUTING -m mac --mac-source 00:00:00:00:00:01 -j ACCEPT"]))).toThrow(CompileError);
  });

  it("a refused reload leaves the engine running the rule set it had", () => {
    const good = rulesFromCommands(["-A FORWARD -p udp --dport 53 -j DROP"]);
    const engine = engineFor(good);
    const bad = rulesFromCommands(["-A FORWARD -m mac --mac-source 00:11:22:aa:bb:cc -j DROP"]);
    expect(() => engine.load(bad)).toThrow(CompileError);
    expect(engine.receive(udp(53), udp(53).length, "eth0", 0).accepted).toBe(false);
    expect(engine.receive(udp(54), udp(54).length, "eth0", 0).accepted).toBe(true);
  });
});
