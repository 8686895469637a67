// The lab runner against the real kernel: every lab in lab/labs/ run in both mode must pass (every
// probe as expected, kernel and uptables the same) and leave nothing behind: no namespace, no
// process, no file under /run/uptables/labs. Also `lab up` / `status` / `down` from separate
// commands, Ctrl-C (SIGINT) in the middle of a run, a failing expectation (exit 1) and a broken
// lab file (exit 2). Processes of a run are found by a marker in their environment, which every
// process the runner starts inherits.
// Needs root, namespaces, iproute2, iptables, conntrack, tcpdump and the TUN addon; under CI=true
// a machine that cannot run these fails the file, elsewhere it is skipped, loudly.
// LABS=a,b limits the lab list (for development).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tunAddonProblem } from "../../src/io/tun.ts";
import { shippedLabNames } from "../../src/lab/catalog.ts";
import { formatReport, type LabReport } from "../../src/lab/report.ts";
import { LABS_DIR, UP_PREFIX } from "../../src/lab/state.ts";
import { IN_CI, kernelTestProblem, run } from "../support/netns.ts";
import { waitExit } from "../support/processes.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const UPTABLES = join(REPO, "bin/uptables.mjs");

function problem(): string | null {
  const kernel = kernelTestProblem(["ip", "iptables", "iptables-save", "iptables-restore", "conntrack", "tcpdump", "curl"]);
  if (kernel !== null) return kernel;
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (modprobe tun)";
  return tunAddonProblem();
}

const why = problem();
if (why !== null) {
  if (IN_CI) throw new Error(`lab tests need root, network namespaces, iptables, conntrack, tcpdump and the TUN addon, and CI=true forbids skipping them: ${why}`);
  console.warn(`[skipped] lab runner tests: ${why}`);
}

const only = process.env.LABS?.split(",").filter(Boolean);
const LABS = shippedLabNames().filter((name) => only === undefined || only.includes(name));
const scratch = mkdtempSync(join(tmpdir(), "upt-lab-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let marks = 0;

interface Finished {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Starts `uptables lab ARGS` with a marker in its environment. */
function lab(args: string[], mark: string): { child: ChildProcess; done: Promise<Finished>; stderr: () => string } {
  const child = spawn(process.execPath, [UPTABLES, "lab", ...args], { cwd: REPO, env: { ...process.env, UPT_LAB_TEST_MARK: mark }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = waitExit(child, 900_000).then((code) => ({ code, stdout, stderr }));
  return { child, done, stderr: () => stderr };
}

function newMark(): string {
  return `upt-lab-test-${process.pid}-${marks++}`;
}

/** Processes whose environment holds the marker (the runner's children inherit it). */
function markedProcesses(mark: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").includes(`UPT_LAB_TEST_MARK=${mark}\0`)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0/g, " ")}`);
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function namespacesWith(prefix: string): string[] {
  return run(["ip", "netns", "list"]).stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(prefix));
}

/** Nothing of a lab instance is left: namespaces, processes, state file, work directory. */
function expectNothingLeft(prefix: string, mark: string): void {
  expect(namespacesWith(`${prefix}-`)).toEqual([]);
  expect(markedProcesses(mark)).toEqual([]);
  expect(existsSync(join(LABS_DIR, `${prefix}.json`))).toBe(false);
  expect(existsSync(join(LABS_DIR, prefix))).toBe(false);
}

describe.skipIf(why !== null)("uptables lab run: every shipped lab, kernel against userspace", () => {
  for (const name of LABS) {
    it(`${name} passes in both mode and leaves nothing behind`, async () => {
      const mark = newMark();
      const { child, done } = lab(["run", name, "--mode", "both", "--json"], mark);
      const result = await done;
      // Whatever the comparison says, the run must have cleaned up after itself.
      expectNothingLeft(`upt-run-${child.pid}`, mark);
      const report = JSON.parse(result.stdout) as LabReport;
      expect(report.modes.map((m) => m.mode)).toEqual(["kernel", "userspace"]);
      expect(report.modes.flatMap((m) => m.problems)).toEqual([]);
      if (!report.passed) console.log(formatReport(report));
      expect(report.passed).toBe(true);
      expect(result.code).toBe(0);
    }, 900_000);
  }
});

describe.skipIf(why !== null)("uptables lab: the runner's own behaviour", () => {
  it("up (userspace), status and down from separate commands", async () => {
    const mark = newMark();
    const up = await lab(["up", "docker-default", "--mode", "userspace"], mark).done;
    try {
      expect(up.stderr.split("\n").filter((l) => /error|failed/i.test(l))).toEqual([]);
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`sudo ip netns exec ${UP_PREFIX}-host uptables -t nat -L -n -v`);
      // The lab stays up after the command exits: the daemon and the services keep running.
      const status = await lab(["status"], mark).done;
      expect(status.stdout).toContain("lab docker-default (userspace) up");
      expect(status.stdout).toContain(`namespace ${UP_PREFIX}-container`);
      expect(status.stdout).toMatch(/running\s+daemon/);
      const listing = run(["ip", "netns", "exec", `${UP_PREFIX}-host`, process.execPath, UPTABLES, "-t", "nat", "-L", "DOCKER", "-n"]);
      expect(listing.stdout).toContain("DNAT");
      const curl = run(["ip", "netns", "exec", `${UP_PREFIX}-internet`, "curl", "-s", "-m", "5", "http://192.168.0.100:8080/"]);
      expect(curl.stdout).toMatch(/^peer 192\.168\.0\.50:\d+/);
      const again = await lab(["up", "docker-default"], mark).done;
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("lab docker-default is already up");
    } finally {
      const down = await lab(["down"], mark).done;
      expect(down.stdout).toContain("removed lab docker-default");
      expect(down.code).toBe(0);
    }
    expectNothingLeft(UP_PREFIX, mark);
    // Only the lab that `up` made must be gone: `status` also lists `lab run`s of other processes.
    expect((await lab(["status"], mark).done).stdout).not.toContain(`${UP_PREFIX}-`);
  }, 300_000);

  it("SIGINT in the middle of a run removes everything", async () => {
    const mark = newMark();
    const { child, done, stderr } = lab(["run", "docker-default", "--mode", "userspace"], mark);
    const deadline = Date.now() + 120_000;
    while (!stderr().includes("probe 2:") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(stderr()).toContain("probe 2:");
    expect(namespacesWith(`upt-run-${child.pid}-`).length).toBe(4);
    child.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("SIGINT: removing the lab");
    expectNothingLeft(`upt-run-${child.pid}`, mark);
  }, 300_000);

  it("a probe that does not meet its expectation fails the run (exit 1)", async () => {
    const file = join(scratch, "wrong-expectation.yaml");
    writeFileSync(file, `name: wrong-expectation
title: a server that answers, expected to refuse
namespaces:
  host: {host: true}
  red: {}
links:
  - - {in: host, name: veth_red, addresses: [10.9.0.1/24]}
    - {in: red, name: eth0, addresses: [10.9.0.2/24]}
services:
  - {in: red, kind: tcp-sink, port: 9000}
steps:
  - probe: {name: the sink answers, from: host, kind: tcp, to: "10.9.0.2:9000", expect: refused}
  - probe: {name: the sink sees the host, from: host, kind: tcp, to: "10.9.0.2:9000", expect: ok, peer: "10.9.0.1:41001"}
`);
    const mark = newMark();
    const { child, done } = lab(["run", file, "--mode", "kernel"], mark);
    const result = await done;
    expect(result.stdout).toContain("FAIL the sink answers: tcp host -> 10.9.0.2:9000: ok, server saw 10.9.0.1:41000 (expected refused;");
    expect(result.stdout).toContain("ok   the sink sees the host");
    expect(result.stdout).toContain("FAILED: wrong-expectation");
    expect(result.code).toBe(1);
    expectNothingLeft(`upt-run-${child.pid}`, mark);
  }, 120_000);

  it("a lab file with an error is refused before anything is built (exit 2)", async () => {
    const file = join(scratch, "broken.yaml");
    writeFileSync(file, "name: broken\ntitle: x\nnamespaces: {host: {host: true}}\nsteps:\n  - probe: {name: a, from: host, kind: ftp, to: 1.2.3.4, expect: ok}\n");
    const mark = newMark();
    const { child, done } = lab(["run", file], mark);
    const result = await done;
    expect(result.stderr).toBe(`${file}: steps[0].probe.kind: must be one of http, tcp, udp, icmp (got "ftp")\n`);
    expect(result.code).toBe(2);
    expectNothingLeft(`upt-run-${child.pid}`, mark);
  }, 60_000);
});
