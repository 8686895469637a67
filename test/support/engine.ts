// Helpers to drive the engine in tests: a rule set from iptables commands or an iptables-save text,
// a host from a compact description, packets from the builder.
import { RuleSet } from "../../src/core/rules/model.ts";
import { runIptables, runRestore } from "../../src/core/iptables/run.ts";
import { HostView, type HostDescription } from "../../src/core/host/host-view.ts";
import { Netfilter, type EngineOptions, type TraceEvent } from "../../src/core/engine/netfilter.ts";
import { shellWords } from "./corpus.ts";

export function rulesFromCommands(commands: readonly string[]): RuleSet {
  const rules = new RuleSet();
  for (const command of commands) {
    const words = shellWords(command.replace(/^(sudo\s+)?iptables\s+/, ""));
    const outcome = runIptables(rules, words);
    if (outcome.exitCode !== 0) throw new Error(`${command}: ${outcome.stderr}`);
  }
  return rules;
}

/**
 * Commands that make the engine track connections without touching any packet: the kernel runs
 * conntrack only while some rule needs it (compile.ts, tracksConnections), even one in a chain
 * nothing jumps to. For tests of conntrack whose rules alone would not need it.
 */
export const CONNTRACK_USER: readonly string[] = ["-N CONNTRACK-USER", "-A CONNTRACK-USER -m conntrack --ctstate NEW"];

export function rulesFromSave(text: string): RuleSet {
  const rules = new RuleSet();
  const outcome = runRestore(rules, text, { counters: false });
  if (outcome.exitCode !== 0) throw new Error(outcome.stderr);
  return rules;
}

/** The Docker host of the articles: LAN 192.168.0.100/24 on eth0, docker0 172.17.0.1/16. */
export const DOCKER_HOST: HostDescription = {
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
    { name: "br-dummy", addresses: ["192.168.0.1/24"] },
  ],
  routes: [{ destination: "default", gateway: "192.168.0.1", dev: "eth0" }],
};

export function engineFor(rules: RuleSet, host: HostDescription = DOCKER_HOST, opts: Partial<EngineOptions> = {}): Netfilter {
  let seed = 12345;
  const random16 = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  return new Netfilter(rules, { host: HostView.fromDescription(host), random16, ...opts });
}

/** Collects trace events while `fn` runs. */
export function traced<T>(engine: Netfilter, fn: () => T): { result: T; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  engine.tracer = (e) => events.push(e);
  try {
    return { result: fn(), events };
  } finally {
    engine.tracer = null;
  }
}
