// `uptables bench datapath` for a short run: every mode must produce sane, non-zero figures (no
// speed is asserted: the machine is shared) and every `upt-bench-<pid>-*` namespace must be gone
// afterwards. Needs root, namespaces, iptables, iperf3 and the native build; under CI=true a
// machine without them fails this file, elsewhere it is skipped with a message.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DatapathReport } from "../../src/bench/datapath/run.ts";
import { REFLECTOR_PATH, tunAddonProblem } from "../../src/io/tun.ts";
import { REPO_ROOT } from "../support/corpus.ts";
import { IN_CI, kernelTestProblem, run } from "../support/netns.ts";

function problem(): string | null {
  const kernel = kernelTestProblem(["ip", "iptables-restore", "iperf3"]);
  if (kernel !== null) return kernel;
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (modprobe tun)";
  if (!existsSync(REFLECTOR_PATH)) return `${REFLECTOR_PATH} is not built (npm run build:native)`;
  return tunAddonProblem();
}

const why = problem();
if (why !== null) {
  if (IN_CI) throw new Error(`uptables bench datapath needs root, namespaces, iperf3 and the TUN build, and CI=true forbids skipping it: ${why}`);
  console.warn(`[skipped] uptables bench datapath: ${why}`);
}

function runBench(args: string[]): Promise<{ code: number | null; pid: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin/uptables.mjs"), "bench", "datapath", ...args], { cwd: REPO_ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, pid: child.pid!, stdout, stderr })));
}

describe.skipIf(why !== null)("uptables bench datapath", () => {
  it("measures kernel, reflector and uptables, without and with offloads, with non-zero figures and leaves no namespace", async () => {
    const r = await runBench(["--seconds", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DatapathReport;
    expect(report.results.map((m) => m.mode)).toEqual(["kernel", "reflector", "uptables", "reflector-offload", "uptables-offload"]);
    for (const m of report.results) {
      expect(m.tcpBitsPerSecond, `${m.mode} TCP`).toBeGreaterThan(0);
      expect(m.udpPacketsPerSecondReceived, `${m.mode} UDP`).toBeGreaterThan(0);
      expect(m.udpLossPercent).toBeGreaterThanOrEqual(0);
      expect(m.udpLossPercent).toBeLessThan(100);
      expect(m.connectionsPerSecond, `${m.mode} connections`).toBeGreaterThan(0);
      expect(m.rttSamples, `${m.mode} round trips`).toBeGreaterThan(0);
      expect(m.rttP50Us).toBeGreaterThan(0);
      expect(m.rttP99Us).toBeGreaterThanOrEqual(m.rttP50Us);
    }
    for (const up of report.results.filter((m) => m.mode.startsWith("uptables"))) {
      // The daemon saw the traffic: every packet it read is accepted or dropped, nothing unaccounted.
      expect(up.daemon!.packetsIn).toBeGreaterThan(0);
      expect(up.daemon!.accepted + up.daemon!.dropped).toBe(up.daemon!.packetsIn);
    }
    expect(run(["ip", "netns", "list"]).stdout).not.toContain(`upt-bench-${r.pid}-`);
  }, 240_000);

  it("refuses an unknown mode without building anything", async () => {
    const r = await runBench(["--only", "kernel,bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not bogus");
  }, 60_000);
});
