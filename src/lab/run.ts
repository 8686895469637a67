// One lab in one mode, from nothing back to nothing: build the topology, start the services,
// capture every interface, make the host's firewall live (kernel or daemon), run the steps in
// order (rules, sysctls, probes with a snapshot of conntrack and counters after each) and remove
// everything again, also when something fails.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LabCapture, packetsBetween } from "./capture.ts";
import { LabRunError, nodeArgv, runIn, sleep, startDetached, waitForText } from "./commands.ts";
import { hostOf, PROBE_FIRST_PORT, type Lab, type Mode, type Probe, type Step } from "./format.ts";
import { hostFirewall, type HostFirewall } from "./modes.ts";
import { probeTarget, runProbe } from "./probe.ts";
import { destroyLab, buildTopology, labInterfaces } from "./topology.ts";
import { realNetns, saveState, workDir, type LabState } from "./state.ts";
import { counterDelta, normaliseConntrack, normaliseSave } from "./compare.ts";
import { readFileSync } from "node:fs";

/** How long after a probe its last packets (FIN/ACK, retransmits) may still belong to it. */
const SETTLE_MS = 300;

export interface ProbeResult {
  readonly name: string;
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  readonly expect: string;
  readonly expectPeer: string | null;
  readonly outcome: string;
  readonly peer: string | null;
  readonly met: boolean;
  readonly detail: string;
  readonly durationMs: number;
  /** Captured packets during the probe, per interface ("ns/if"). */
  packets: Record<string, string[]>;
  /** The probe's connections in the host's conntrack table after it, normalised. */
  readonly conntrack: string[];
  /** The host's `-save -c` after the probe, normalised. */
  readonly counters: string[];
  /** What the probe added to the counters (see compare.ts counterDelta). */
  readonly counterDelta: string[];
  /** Start and end of the probe's capture window (ms since 1970). */
  readonly window: [number, number];
}

export interface StepRecord {
  readonly step: string;
  readonly in: string;
  readonly command: string;
  readonly exitCode: number;
  readonly output: string;
  /** counters steps: when they ran, how many packets had been captured by then, the table listed. */
  atMs?: number;
  packetsBefore?: number;
  table?: string;
}

export interface ModeResult {
  readonly mode: Mode;
  readonly probes: ProbeResult[];
  readonly steps: StepRecord[];
  /** What went wrong beyond the probes: a failed step, a daemon that did not exit 0, leftovers. */
  readonly problems: string[];
}

export type Progress = (line: string) => void;

export function newState(lab: Lab, mode: Mode, prefix: string): LabState {
  const state: LabState = {
    prefix, lab: lab.name, file: lab.path, mode, ownerPid: process.pid, startedAt: new Date().toISOString(),
    namespaces: [], processes: [], hostNetnsInode: null, ready: false,
  };
  mkdirSync(workDir(prefix), { recursive: true, mode: 0o700 });
  saveState(state);
  return state;
}

async function startServices(lab: Lab, state: LabState, progress: Progress): Promise<void> {
  for (const [i, service] of lab.services.entries()) {
    const what = `${service.kind} service on ${service.address ?? "*"}:${service.port} in ${service.in}`;
    progress(what);
    const netns = realNetns(state.prefix, service.in);
    const log = join(workDir(state.prefix), `service-${i}-${service.kind}.log`);
    const args = [String(service.port), ...(service.address ? [service.address] : [])];
    const { pid } = startDetached(netns, nodeArgv(`src/lab/services/${service.kind}.ts`, args), log);
    state.processes.push({ pid, what, netns });
    saveState(state);
    await waitForText(log, `ready ${service.kind}`, pid, what);
  }
}

function stepName(step: Step): string {
  switch (step.kind) {
    case "probe":
      return `probe "${step.probe.name}"`;
    case "counters":
      return `counters ${step.table}${step.chain ? ` ${step.chain}` : ""}`;
    default:
      return step.kind;
  }
}

/** Applies a setup step (everything but probes and counters); throws LabRunError when it fails. */
async function applySetupStep(step: Step, firewall: HostFirewall, prefix: string, records: StepRecord[]): Promise<void> {
  const record = (command: string, ran: { exitCode: number; stdout: string; stderr: string }, netns: string): void => {
    records.push({ step: step.kind, in: netns, command, exitCode: ran.exitCode, output: `${ran.stdout}${ran.stderr}`.trim() });
    if (ran.exitCode !== 0) throw new LabRunError(`${step.kind} step in ${netns}: \`${command}\` failed (exit ${ran.exitCode}): ${`${ran.stderr}${ran.stdout}`.trim()}`);
  };
  switch (step.kind) {
    case "rules":
      for (const line of step.lines) record(line.text, firewall.iptables(realNetns(prefix, step.in), line.args), step.in);
      return;
    case "restore":
      record(`iptables-restore ${step.path}`, firewall.restore(realNetns(prefix, step.in), readFileSync(step.path, "utf8")), step.in);
      return;
    case "sysctl":
      for (const [key, value] of Object.entries(step.set)) record(`sysctl -w ${key}=${value}`, runIn(realNetns(prefix, step.in), ["sysctl", "-w", `${key}=${value}`]), step.in);
      await firewall.hostChanged(realNetns(prefix, step.in));
      return;
    case "shell":
      record(step.run, runIn(realNetns(prefix, step.in), ["sh", "-c", step.run]), step.in);
      await firewall.hostChanged(realNetns(prefix, step.in));
      return;
    default:
      return;
  }
}

/** Builds the lab and applies its setup steps (for `lab up`; probes and counters are skipped). */
export async function bringUp(lab: Lab, mode: Mode, state: LabState, progress: Progress): Promise<StepRecord[]> {
  buildTopology(lab, state, progress);
  await startServices(lab, state, progress);
  const firewall = hostFirewall(mode, realNetns(state.prefix, hostOf(lab)), state);
  if (mode === "userspace") progress("starting uptables daemon");
  await firewall.start();
  const records: StepRecord[] = [];
  for (const step of lab.steps) {
    progress(stepName(step));
    await applySetupStep(step, firewall, state.prefix, records);
  }
  state.ready = true;
  saveState(state);
  return records;
}

async function probeStep(probe: Probe, firewall: HostFirewall, prefix: string, progress: Progress): Promise<ProbeResult> {
  progress(`probe ${probe.index + 1}: ${probe.name} (${probe.kind} from ${probe.from} to ${probeTarget(probe)})`);
  const before = normaliseSave(firewall.save().stdout);
  const start = Date.now();
  const answer = runProbe(probe, realNetns(prefix, probe.from));
  await sleep(SETTLE_MS);
  const end = Date.now();
  const counters = normaliseSave(firewall.save().stdout);
  return {
    name: probe.name, kind: probe.kind, from: probe.from, to: probeTarget(probe), expect: probe.expect, expectPeer: probe.peer,
    outcome: answer.outcome, peer: answer.peer, met: answer.met, detail: answer.detail, durationMs: answer.durationMs,
    packets: {}, conntrack: normaliseConntrack(firewall.conntrack().stdout, PROBE_FIRST_PORT + probe.index), counters, counterDelta: counterDelta(before, counters), window: [start, end],
  };
}

/** Runs the lab in one mode under `prefix`; never leaves anything behind. */
export async function runMode(lab: Lab, mode: Mode, prefix: string, progress: Progress): Promise<ModeResult> {
  const result: ModeResult = { mode, probes: [], steps: [], problems: [] };
  const state = newState(lab, mode, prefix);
  const say: Progress = (line) => progress(`${mode}: ${line}`);
  try {
    buildTopology(lab, state, say);
    await startServices(lab, state, say);
    const capture = new LabCapture(state);
    say("starting tcpdump on every interface");
    await capture.start(labInterfaces(lab));
    const firewall = hostFirewall(mode, realNetns(prefix, hostOf(lab)), state);
    if (mode === "userspace") say("starting uptables daemon");
    await firewall.start();
    try {
      for (const step of lab.steps) {
        if (step.kind === "probe") {
          result.probes.push(await probeStep(step.probe, firewall, prefix, say));
        } else if (step.kind === "counters") {
          say(stepName(step));
          const ran = firewall.list(step.table, step.chain);
          result.steps.push({ step: "counters", in: step.in, command: `-t ${step.table} -L${step.chain ? ` ${step.chain}` : ""} -n -v -x`, exitCode: ran.exitCode, output: `${ran.stdout}${ran.stderr}`.trimEnd(), atMs: Date.now(), table: step.table });
        } else {
          say(stepName(step));
          await applySetupStep(step, firewall, prefix, result.steps);
        }
      }
    } finally {
      say("stopping the captures");
      const packets = await capture.stop();
      for (const probe of result.probes) probe.packets = packetsBetween(packets, probe.window[0], probe.window[1]);
      for (const step of result.steps) if (step.atMs !== undefined) step.packetsBefore = packets.filter((p) => p.timeMs < step.atMs!).length;
      const stopped = await firewall.stop();
      if (stopped !== null) result.problems.push(stopped);
    }
  } catch (error) {
    if (!(error instanceof LabRunError)) throw error;
    result.problems.push(error.message);
  } finally {
    say("removing the lab");
    result.problems.push(...destroyLab(state));
  }
  return result;
}
