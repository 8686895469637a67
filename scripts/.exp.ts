import { Netfilter } from "../src/core/engine/netfilter.ts";
import { HostView } from "../src/core/host/host-view.ts";
import { RuleSet } from "../src/core/rules/model.ts";
import { runRestore } from "../src/core/iptables/run.ts";
import { buildTcp } from "../src/core/packet/builder.ts";
import { DOCKER_DEFAULT_RULES, DOCKER_HOST } from "../src/bench/docker-rules.ts";

function make(text: string, verify: boolean) {
  const rules = new RuleSet(); runRestore(rules, text, {});
  const e = new Netfilter(rules, { host: HostView.fromDescription(DOCKER_HOST), conntrack: { maxEntries: 10000, verifyChecksums: verify } });
  const syn = buildTcp({ src: "10.0.0.1", dst: "192.168.0.100", sport: 1000, dport: 8080, flags: 2, seq: 1 });
  e.receive(new Uint8Array(syn), syn.length, "eth0", 0);
  const sa = buildTcp({ src: "172.17.0.2", dst: "10.0.0.1", sport: 80, dport: 1000, flags: 0x12, seq: 1, ack: 2 });
  e.receive(new Uint8Array(sa), sa.length, "docker0", 0);
  const t = buildTcp({ src: "10.0.0.1", dst: "192.168.0.100", sport: 1000, dport: 8080, flags: 0x10, seq: 2, ack: 2, payload: new Uint8Array(20) });
  const buf = new Uint8Array(t.length);
  return () => { const n = 500_000; const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) { buf.set(t); e.receive(buf, t.length, "eth0", 0); }
    return Number(process.hrtime.bigint() - t0) / n; };
}
const natOnly = DOCKER_DEFAULT_RULES.split("*filter")[0]!;
const emptyFilter = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" + natOnly.replace(/^#.*$/mg, "");
const variants: [string, () => number][] = [
  ["docker full", make(DOCKER_DEFAULT_RULES, true)],
  ["docker no csum", make(DOCKER_DEFAULT_RULES, false)],
  ["nat only", make(emptyFilter, true)],
  ["no rules", make("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n", true)],
];
const best = new Map<string, number>();
for (let r = 0; r < 8; r++) for (const [name, f] of variants) { const ns = f(); best.set(name, Math.min(best.get(name) ?? 1e9, ns)); }
for (const [name, ns] of best) console.log(name.padEnd(20), ns.toFixed(0), "ns", (1e3 / ns).toFixed(2), "Mpps");
