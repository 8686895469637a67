// `uptables lab list | up | down | run | status`: the labs of docs/labs/, built in network
// namespaces of their own and run on the kernel's netfilter, on uptables' daemon, or both.
// Exit codes: 0 done (run: every probe met its expectation and, with both, everything compared is
// the same), 1 a probe or comparison failed or the lab could not be built, 2 usage or lab-file errors.
import { existsSync } from "node:fs";
import { catalog, findLab } from "../lab/catalog.ts";
import { LabRunError } from "../lab/commands.ts";
import { hostOf, MODES, probesOf, type Lab, type Mode } from "../lab/format.ts";
import { LabFileError } from "../lab/load.ts";
import { probeTarget } from "../lab/probe.ts";
import { ProgressDisplay } from "../lab/progress.ts";
import { formatReport, makeReport, reportExitCode } from "../lab/report.ts";
import { bringUp, newState, runMode, type ModeResult } from "../lab/run.ts";
import { allStates, readState, realNetns, UP_PREFIX, type LabState } from "../lab/state.ts";
import { destroyLab } from "../lab/topology.ts";
import { isAlive } from "../lab/commands.ts";

export const LAB_USAGE = `Usage: uptables lab list
       uptables lab up LAB|FILE [--mode kernel|userspace]
       uptables lab down
       uptables lab status
       uptables lab run LAB|FILE [--mode kernel|userspace|both] [--json]

Labs are scenarios from the articles (docs/labs/): network namespaces, bridges and veth pairs,
a rule set and probes. LAB is a shipped lab's name (see \`uptables lab list\`), FILE your own lab
file (docs/labs/FORMAT.md). up, down and run need root; nothing outside the lab's own namespaces
(upt-lab-*, upt-run-<pid>-*) is changed, and down, the end of a run, Ctrl-C and failures remove it all.

  up      build the lab and leave it for exploring by hand (default mode: userspace)
  run     build, load the rules, run the probes, tear down (default mode: both, which compares
          the kernel's netfilter with uptables probe by probe)
  --json  the run's report as JSON on stdout (progress stays on stderr)
`;

class UsageError extends Error {}

interface LabArgs {
  command: string;
  target: string | null;
  mode: Mode | "both" | null;
  json: boolean;
}

function parseArgs(argv: readonly string[]): LabArgs {
  const args: LabArgs = { command: argv[0] ?? "", target: null, mode: null, json: false };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--json") args.json = true;
    else if (arg === "--mode" || arg.startsWith("--mode=")) {
      const value = arg.includes("=") ? arg.slice("--mode=".length) : argv[++i];
      if (value !== "kernel" && value !== "userspace" && value !== "both") throw new UsageError(`--mode takes kernel, userspace or both (got ${value === undefined ? "nothing" : `"${value}"`})`);
      args.mode = value;
    } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else if (args.target === null) args.target = arg;
    else throw new UsageError(`unexpected argument "${arg}"`);
  }
  const takesLab = args.command === "up" || args.command === "run";
  if (takesLab && args.target === null) throw new UsageError(`lab ${args.command} needs a lab name or file`);
  if (!takesLab && args.target !== null) throw new UsageError(`lab ${args.command} takes no lab`);
  if (args.json && args.command !== "run") throw new UsageError("--json goes with lab run");
  if (args.mode !== null && !takesLab) throw new UsageError(`--mode goes with lab up and lab run`);
  if (args.command === "up" && args.mode === "both") throw new UsageError("lab up builds one lab: --mode kernel or userspace");
  return args;
}

function needRoot(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new LabRunError("labs need root (network namespaces, veth pairs, tcpdump): run it with sudo");
  }
}

function list(): number {
  const entries = catalog();
  if (entries.length === 0) {
    process.stdout.write("no labs in lab/labs/\n");
    return 0;
  }
  const width = Math.max(...entries.map((e) => e.name.length));
  for (const e of entries) {
    if (e.lab !== null) process.stdout.write(`${e.name.padEnd(width)}  ${e.lab.title}${e.lab.seeds.length > 0 ? ` (seeds ${e.lab.seeds.join(", ")})` : ""}\n`);
    else process.stdout.write(`${e.name.padEnd(width)}  (does not load: ${e.error!.problems[0]})\n`);
  }
  return entries.every((e) => e.lab !== null) ? 0 : 1;
}

/** The commands a learner can try on a lab that is up. */
function tryCommands(lab: Lab, mode: Mode): string {
  const host = realNetns(UP_PREFIX, hostOf(lab));
  const tool = mode === "kernel" ? "iptables" : "uptables";
  const lines = [
    `sudo ip netns exec ${host} ${tool} -t nat -L -n -v`,
    `sudo ip netns exec ${host} ${tool} -L -n -v`,
    `sudo ip netns exec ${host} ${mode === "kernel" ? "conntrack -L" : "uptables conntrack -L"}`,
    `sudo ip netns exec ${host} ${tool}-save -c`,
  ];
  for (const probe of probesOf(lab).slice(0, 4)) {
    const ns = realNetns(UP_PREFIX, probe.from);
    const cmd = probe.kind === "http" ? `curl -s http://${probeTarget(probe)}/` : probe.kind === "icmp" ? `ping -c 1 ${probe.address}` : `bash -c 'echo hi > /dev/${probe.kind}/${probe.address}/${probe.port}'`;
    lines.push(`sudo ip netns exec ${ns} ${cmd}    # ${probe.name}`);
  }
  lines.push(`sudo tcpdump -n -i ${lab.links[0]?.[0].name ?? "any"} ...  (inside a namespace: sudo ip netns exec ${host} tcpdump -n -i any)`);
  lines.push("sudo uptables lab down");
  const note = mode === "userspace" ? "\n(uptables on PATH: `npm link` in the repository, or use `node <repo>/bin/uptables.mjs`)" : "";
  return `Try:\n${lines.map((l) => `  ${l}`).join("\n")}${note}\n`;
}

/** Ctrl-C or SIGTERM while building or running: remove what this process built, then leave. */
function removeOnSignal(progress: ProgressDisplay): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    progress.done();
    process.stderr.write(`uptables lab: ${signal}: removing the lab\n`);
    for (const state of allStates().filter((s) => s.ownerPid === process.pid)) destroyLab(state);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

async function up(args: LabArgs): Promise<number> {
  const lab = findLab(args.target!);
  needRoot();
  const existing = readState(UP_PREFIX);
  if (existing !== null) throw new LabRunError(`lab ${existing.lab} is already up (${existing.mode}); \`uptables lab down\` first`);
  const mode: Mode = args.mode === "kernel" ? "kernel" : "userspace";
  const progress = new ProgressDisplay();
  const stopWatching = removeOnSignal(progress);
  const state = newState(lab, mode, UP_PREFIX);
  try {
    await bringUp(lab, mode, state, progress.update);
  } catch (error) {
    progress.done();
    const problems = destroyLab(state);
    if (problems.length > 0) process.stderr.write(`uptables lab: could not remove everything:\n${problems.join("\n")}\n`);
    throw error;
  } finally {
    stopWatching();
  }
  progress.done();
  process.stdout.write(`lab ${lab.name} is up (${mode} mode): namespaces ${state.namespaces.join(", ")}\n${tryCommands(lab, mode)}`);
  return 0;
}

/** Removes the lab that is up, and whatever runs whose runner died left behind. */
function down(): number {
  needRoot();
  const targets = allStates().filter((s) => s.prefix === UP_PREFIX || !isAlive(s.ownerPid));
  if (targets.length === 0) {
    process.stdout.write("no lab is up\n");
    return 0;
  }
  let failed = false;
  for (const state of targets) {
    const problems = destroyLab(state);
    if (problems.length > 0) {
      failed = true;
      process.stderr.write(`uptables lab down: ${state.lab}: ${problems.join("; ")}\n`);
    } else {
      process.stdout.write(`removed lab ${state.lab} (${state.prefix}: ${state.namespaces.length} namespaces, ${state.processes.length} processes)\n`);
    }
  }
  return failed ? 1 : 0;
}

function status(): number {
  const states = allStates();
  if (states.length === 0) {
    process.stdout.write("no lab is up\n");
    return 0;
  }
  for (const s of states) {
    const kind = s.prefix === UP_PREFIX ? "up" : isAlive(s.ownerPid) ? `running (pid ${s.ownerPid})` : `left over by a dead run (pid ${s.ownerPid}): \`uptables lab down\` removes it`;
    process.stdout.write(`lab ${s.lab} (${s.mode}) ${kind}${s.ready || s.prefix !== UP_PREFIX ? "" : ", not ready"}, since ${s.startedAt}\n  file ${s.file}\n`);
    for (const ns of s.namespaces) process.stdout.write(`  namespace ${ns}${existsSync(`/run/netns/${ns}`) ? "" : " (gone)"}\n`);
    for (const p of s.processes) process.stdout.write(`  pid ${String(p.pid).padEnd(7)} ${isAlive(p.pid) ? "running" : "exited "}  ${p.what}\n`);
  }
  return 0;
}

async function runLab(args: LabArgs): Promise<number> {
  const lab = findLab(args.target!);
  needRoot();
  const modes: Mode[] = args.mode === null || args.mode === "both" ? [...MODES] : [args.mode];
  const prefix = `upt-run-${process.pid}`;
  const progress = new ProgressDisplay();
  const stopWatching = removeOnSignal(progress);
  try {
    const results: ModeResult[] = [];
    for (const mode of modes) results.push(await runMode(lab, mode, prefix, progress.update));
    progress.done();
    const report = makeReport(lab, results);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return reportExitCode(report);
  } finally {
    stopWatching();
  }
}

export async function labMain(argv: string[]): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === "-h" || argv[0] === "--help" || argv[0] === "help") {
      process.stdout.write(LAB_USAGE);
      return argv.length === 0 ? 2 : 0;
    }
    const args = parseArgs(argv);
    switch (args.command) {
      case "list":
        return list();
      case "up":
        return await up(args);
      case "down":
        return down();
      case "status":
        return status();
      case "run":
        return await runLab(args);
      default:
        throw new UsageError(`unknown lab command "${args.command}" (list, up, down, status, run)`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`uptables lab: ${error.message}\nTry \`uptables lab --help'.\n`);
      return 2;
    }
    if (error instanceof LabFileError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof LabRunError) {
      process.stderr.write(`uptables lab: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
