import { Netfilter } from "../src/core/engine/netfilter.ts";
import { HostView } from "../src/core/host/host-view.ts";
import { RuleSet } from "../src/core/rules/model.ts";
import { runRestore } from "../src/core/iptables/run.ts";
import { buildTcp } from "../src/core/packet/builder.ts";
import { DOCKER_DEFAULT_RULES, DOCKER_HOST } from "../src/bench/docker-rules.ts";
const rules = new RuleSet(); runRestore(rules, DOCKER_DEFAULT_RULES, {});
const e = new Netfilter(rules, { host: HostView.fromDescription(DOCKER_HOST), conntrack: { maxEntries: 10000 } });
const syn = buildTcp({ src: "10.0.0.1", dst: "192.168.0.100", sport: 1000, dport: 8080, flags: 2, seq: 1 });
e.receive(new Uint8Array(syn), syn.length, "eth0", 0);
const sa = buildTcp({ src: "172.17.0.2", dst: "10.0.0.1", sport: 80, dport: 1000, flags: 0x12, seq: 1, ack: 2 });
e.receive(new Uint8Array(sa), sa.length, "docker0", 0);
const t = buildTcp({ src: "10.0.0.1", dst: "192.168.0.100", sport: 1000, dport: 8080, flags: 0x10, seq: 2, ack: 2, payload: new Uint8Array(20) });
const buf = new Uint8Array(t.length);
const n = 8_000_000; const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) { buf.set(t); e.receive(buf, t.length, "eth0", 0); }
console.log(Number(process.hrtime.bigint() - t0) / n, "ns");
