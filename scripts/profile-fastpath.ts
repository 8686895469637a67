// Profiling aid: node --cpu-prof on the fast path (see docs/BENCHMARKS.md).
import { runFastpath } from "../src/bench/fastpath.ts";

const tracked = Number(process.argv[2] ?? 1000);
const report = runFastpath({ connections: [tracked], rules: [0], seconds: 2 });
console.log(JSON.stringify(report.rows[0]));
