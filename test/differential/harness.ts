// Runs one scenario (a list of iptables, iptables-save and iptables-restore command lines applied to
// an empty rule set) twice: through the kernel's iptables in a scratch network namespace, and
// through uptables in-process on a rule set file. Then it compares, step by step, exit code, stdout
// and stderr; after every iptables-restore also the rule set it left (iptables-save -c); and at the
// end iptables-save and every listing of every table. A refused iptables-restore must leave
// uptables' rule set exactly as it was (kind "atomicity": never allowed). Used by
// differential.test.ts and by scripts/differential-report.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uptablesMain, uptablesRestoreMain, uptablesSaveMain } from "../../src/cli/main.ts";
import { BACKEND, VERSION } from "../../src/core/iptables/run.ts";
import { findMatch, findTarget } from "../../src/core/extensions/registry.ts";
import { shellWords } from "../support/corpus.ts";
import { Netns } from "../support/netns.ts";
import { allowedEntry } from "./allowed.ts";
import { stepCommand, stepStdin, type Scenario } from "./commands.ts";

/** What one command printed and returned. */
export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** The listings compared at the end of every scenario, for every table (iptables -t T ...). */
export const LISTINGS: readonly (readonly string[])[] = [
  ["-L", "-n"],
  ["-L", "-n", "-v", "-x", "--line-numbers"],
  ["-L"],
  ["-L", "-v"],
  ["-S"],
];

/** Tables always listed; raw and mangle are listed too when iptables-save shows them. */
const ALWAYS_LISTED = ["filter", "nat"];

export interface Difference {
  readonly scenario: string;
  /**
   * "command": a step's own result; "output": the listings at the end; "state": the rule set an
   * iptables-restore step left (iptables-save -c after it); "atomicity": uptables' rule set
   * changed although its restore was refused (uptables' own promise, whatever the kernel does).
   */
  readonly kind: "command" | "output" | "state" | "atomicity";
  /** The command line ("iptables -A ...") or the listing ("iptables -t nat -L -n", "iptables-save"). */
  readonly what: string;
  /** What an iptables-restore step read on stdin; "" for other steps. */
  readonly stdin: string;
  /** 1-based position of the command in the scenario (0 for outputs). */
  readonly step: number;
  readonly kernel: Outcome;
  readonly uptables: Outcome;
  /** The allow-list's reason when this difference is allowed; null for a real disagreement. */
  readonly allowed: string | null;
  /** "intended" (uptables differs on purpose) or "extension" (known, for an extension's author). */
  readonly category: "intended" | "extension" | null;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  /** Commands compared (those before the first one that needs a missing extension). */
  readonly commandsCompared: number;
  readonly commandsAgreeing: number;
  readonly outputsCompared: number;
  readonly outputsAgreeing: number;
  /** iptables-restore steps compared, and those where both the result and the rule set left agree. */
  readonly restoreCases: number;
  readonly restoreCasesAgreeing: number;
  readonly differences: readonly Difference[];
  /** Extensions uptables does not have yet that a command of the scenario needs; empty when complete. */
  readonly pending: readonly string[];
  /** The first command that needs a missing extension (1-based), or null. */
  readonly pendingFrom: number | null;
}

// ---- command lines ---------------------------------------------------------------------------

export type Program = "iptables" | "iptables-save" | "iptables-restore";

/** "iptables -t nat -A ..." -> iptables and ["-t", "nat", "-A", ...]; also iptables-save and iptables-restore. */
export function parseCommandLine(line: string): { program: Program; argv: string[] } {
  const words = shellWords(line);
  const program = words[0];
  if (program !== "iptables" && program !== "iptables-save" && program !== "iptables-restore") {
    throw new Error(`scenario command must start with "iptables", "iptables-save" or "iptables-restore": ${line}`);
  }
  return { program, argv: words.slice(1) };
}

/**
 * The iptables arguments of each rule line in an iptables-restore input ("-A INPUT ...",
 * "[1:2] -A ..."), for the look-up of extensions uptables lacks.
 */
function restoreRuleArgvs(stdin: string): string[][] {
  return stdin
    .split("\n")
    .map((line) => line.replace(/^\[[^\]]*\]\s*/, ""))
    .filter((line) => line.startsWith("-"))
    .map((line) => shellWords(line));
}

/** The arguments of an "iptables ..." line (what the extension checks look at). */
export function commandArgv(line: string): string[] {
  return parseCommandLine(line).argv;
}

// Extensions the kernel's iptables has. A command naming one of these that uptables lacks is not
// compared yet ("pending": another part of the project is writing it). Names outside these lists
// (e.g. `-m nosuchmatch`) are compared as usual, since both must refuse them.
const KERNEL_MATCHES = new Set([
  "addrtype", "comment", "conntrack", "connmark", "icmp", "iprange", "limit", "mac", "mark", "multiport",
  "owner", "physdev", "pkttype", "set", "state", "tcp", "udp", "sctp", "dccp", "udplite", "length", "ttl",
  "tos", "recent", "hashlimit", "connlimit", "string", "helper", "policy", "socket", "statistic", "u32",
  "devgroup", "cgroup", "quota", "time", "ipvs", "rpfilter", "realm", "ecn", "dscp", "esp", "ah", "frag",
]);
const KERNEL_TARGETS = new Set([
  "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP", "LOG", "NFLOG", "REJECT", "MARK", "CONNMARK", "CT",
  "NOTRACK", "TRACE", "TCPMSS", "TOS", "TTL", "DSCP", "CLASSIFY", "NFQUEUE", "AUDIT", "CHECKSUM", "SET",
  "TPROXY", "ECN", "CONNSECMARK", "SECMARK", "IDLETIMER", "LED", "SYNPROXY", "HMARK",
]);
const PROTOCOL_MATCHES = new Set(["tcp", "udp", "icmp", "sctp", "dccp", "udplite"]);

/** Extensions the command needs that uptables does not register yet. */
export function missingExtensions(argv: readonly string[]): string[] {
  const missing: string[] = [];
  let protocol: string | null = null;
  let hasExtensionOption = false;
  let explicitMatch = false;
  const builtinLong = /^--(append|delete|check|insert|replace|list|list-rules|flush|zero|new-chain|new|delete-chain|rename-chain|policy|source|src|destination|dst|dest|protocol|in-interface|out-interface|jump|goto|match|table|verbose|wait|wait-interval|exact|fragment|fragments|help|numeric|line-numbers|version|set-counters|modprobe|ipv4|ipv6)/;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const next = argv[i + 1];
    const attached = (short: string, long: string): string | undefined => {
      if (word === short || word === long) return next;
      if (word.startsWith(short) && short.length === 2 && !word.startsWith("--")) return word.slice(2);
      if (word.startsWith(`${long}=`)) return word.slice(long.length + 1);
      return undefined;
    };
    const match = attached("-m", "--match");
    if (match !== undefined) explicitMatch = true;
    if (match !== undefined && KERNEL_MATCHES.has(match) && !findMatch(match)) missing.push(`-m ${match}`);
    const target = attached("-j", "--jump");
    if (target !== undefined && KERNEL_TARGETS.has(target) && !findTarget(target)) missing.push(`-j ${target}`);
    const proto = attached("-p", "--protocol");
    if (proto !== undefined) protocol = proto;
    if (word.startsWith("--") && !builtinLong.test(word)) hasExtensionOption = true;
  }
  // `-p udp --dport 53` loads the udp match by itself (when no -m came to take the options).
  if (protocol !== null && PROTOCOL_MATCHES.has(protocol) && !findMatch(protocol) && hasExtensionOption && !explicitMatch) {
    missing.push(`-m ${protocol} (implicit)`);
  }
  return [...new Set(missing)];
}

// ---- the kernel side -------------------------------------------------------------------------

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The listings to take at the end, as argv for iptables (or iptables-save). */
function listingCommands(tables: readonly string[]): { what: string; program: "iptables" | "iptables-save"; argv: string[] }[] {
  const out: { what: string; program: "iptables" | "iptables-save"; argv: string[] }[] = [
    { what: "iptables-save", program: "iptables-save", argv: [] },
  ];
  for (const table of tables) {
    for (const listing of LISTINGS) {
      out.push({ what: `iptables -t ${table} ${listing.join(" ")}`, program: "iptables", argv: ["-t", table, ...listing] });
    }
  }
  return out;
}

interface KernelStep {
  readonly program: string;
  readonly argv: readonly string[];
  /** What the program reads on stdin; /dev/null when absent. */
  readonly stdin?: string;
  /** Take `iptables-save -c` right after the step (the rule set an iptables-restore left). */
  readonly saveAfter?: boolean;
}

interface KernelOutcome extends Outcome {
  /** `iptables-save -c` after the step, when asked for. */
  readonly after: Outcome | null;
}

/**
 * Runs the commands with the kernel's iptables in a fresh namespace, all in one bash script (one
 * process start per scenario instead of one per command), each command's output in its own files.
 */
function runKernelSteps(ns: Netns, steps: readonly KernelStep[]): KernelOutcome[] {
  const dir = mkdtempSync(join(tmpdir(), "upt-diff-"));
  try {
    const lines = ["set +e"];
    const read = (name: string): Outcome => ({
      stdout: readFileSync(join(dir, `${name}.out`), "utf8"),
      stderr: readFileSync(join(dir, `${name}.err`), "utf8"),
      exitCode: Number(readFileSync(join(dir, `${name}.rc`), "utf8").trim()),
    });
    const run = (name: string, words: string, stdin: string): string =>
      `${words} >${dir}/${name}.out 2>${dir}/${name}.err <${stdin}; echo $? >${dir}/${name}.rc`;
    steps.forEach((step, i) => {
      let stdin = "/dev/null";
      if (step.stdin !== undefined) {
        stdin = `${dir}/${i}.in`;
        writeFileSync(stdin, step.stdin);
      }
      lines.push(run(String(i), [step.program, ...step.argv].map(shellQuote).join(" "), stdin));
      if (step.saveAfter) lines.push(run(`${i}.after`, "iptables-save -c", "/dev/null"));
    });
    const result = ns.script(`${lines.join("\n")}\n`, { timeoutMs: 120_000 });
    if (result.exitCode !== 0) throw new Error(`kernel script failed in ${ns.name}: ${result.stderr}`);
    return steps.map((step, i) => ({ ...read(String(i)), after: step.saveAfter ? read(`${i}.after`) : null }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tables iptables-save printed ("*nat" lines). */
function savedTables(save: string): string[] {
  return save
    .split("\n")
    .filter((l) => l.startsWith("*"))
    .map((l) => l.slice(1));
}

function tablesToList(save: string): string[] {
  const tables = new Set(ALWAYS_LISTED);
  for (const t of savedTables(save)) tables.add(t);
  return ["raw", "mangle", "filter", "nat"].filter((t) => tables.has(t));
}

/**
 * The kernel's words in uptables' names: only the program name and version differ by design
 * ("iptables v1.8.9 (nf_tables):" and "uptables v0.1.0 (userspace):", "iptables:" and
 * "uptables:", the hint's "iptables -h"), so they are the only things normalised.
 */
export function normaliseKernelText(text: string): string {
  return text
    .replaceAll("iptables v1.8.9 (nf_tables)", `uptables v${VERSION} (${BACKEND})`)
    .replaceAll("iptables-save v1.8.9 (nf_tables)", `iptables-save v${VERSION} (${BACKEND})`)
    .replaceAll("iptables-restore v1.8.9 (nf_tables)", `iptables-restore v${VERSION} (${BACKEND})`)
    .replaceAll("Not 1.8.9 (nf_tables) ;-)", `Not ${VERSION} (${BACKEND}) ;-)`)
    .replace(/^iptables:/gm, "uptables:")
    .replaceAll("`iptables -h' or 'iptables --help'", "`uptables -h' or 'uptables --help'")
    // iptables-save and iptables-restore name themselves (argv[0]) in many messages.
    .replace(/\biptables-(save|restore)\b/g, "uptables-$1");
}

/** iptables-save without its "# Generated by"/"# Completed on" lines. */
function dropComments(text: string): string {
  return text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
}

// ---- the uptables side -----------------------------------------------------------------------

class Capture {
  stdout = "";
  stderr = "";
  readonly io = {
    stdout: (t: string): void => void (this.stdout += t),
    stderr: (t: string): void => void (this.stderr += t),
    readStdin: (): string => "",
  };
}

function runUptables(ruleset: string, argv: readonly string[]): Outcome {
  const capture = new Capture();
  const exitCode = uptablesMain(["--ruleset", ruleset, ...argv], capture.io);
  return { stdout: capture.stdout, stderr: capture.stderr, exitCode };
}

function runUptablesSave(ruleset: string, argv: readonly string[] = []): Outcome {
  const capture = new Capture();
  const exitCode = uptablesSaveMain(["--ruleset", ruleset, ...argv], capture.io);
  return { stdout: capture.stdout, stderr: capture.stderr, exitCode };
}

function runUptablesRestore(ruleset: string, argv: readonly string[], stdin: string): Outcome {
  const capture = new Capture();
  const io = { ...capture.io, readStdin: (): string => stdin };
  const exitCode = uptablesRestoreMain(["--ruleset", ruleset, ...argv], io);
  return { stdout: capture.stdout, stderr: capture.stderr, exitCode };
}

/** The rule set file's bytes ("" while it does not exist). */
function fileText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

// ---- comparing -------------------------------------------------------------------------------

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.exitCode === b.exitCode && a.stdout === b.stdout && a.stderr === b.stderr;
}

/** Runs one scenario and lists every difference. */
export function runScenario(scenario: Scenario): ScenarioResult {
  const steps = scenario.commands.map((step) => ({ ...parseCommandLine(stepCommand(step)), stdin: stepStdin(step) }));
  let pendingFrom: number | null = null;
  const pending = new Set<string>();
  steps.forEach((step, i) => {
    const argvs = step.program === "iptables-restore" ? restoreRuleArgvs(step.stdin) : [step.argv];
    const missing = argvs.flatMap(missingExtensions);
    if (missing.length > 0 && pendingFrom === null) pendingFrom = i;
    for (const m of missing) pending.add(m);
  });
  // Only the commands before the first pending one are compared: after it, the rule sets differ.
  const compared = pendingFrom === null ? steps : steps.slice(0, pendingFrom);

  const ns = Netns.create();
  const dir = mkdtempSync(join(tmpdir(), "upt-diff-ruleset-"));
  try {
    const ruleset = join(dir, "rules.save");
    const kernelCommands = runKernelSteps(
      ns,
      compared.map((step) =>
        step.program === "iptables-restore" ? { ...step, saveAfter: true } : { program: step.program, argv: step.argv },
      ),
    );
    const differences: Omit<Difference, "allowed" | "category">[] = [];
    let commandsAgreeing = 0;
    let restoreCases = 0;
    let restoreCasesAgreeing = 0;
    compared.forEach((step, i) => {
      const kernelRaw = kernelCommands[i]!;
      let kernel = normaliseOutcome(kernelRaw);
      let uptables: Outcome;
      const what = stepCommand(scenario.commands[i]!);
      const difference = (kind: Difference["kind"], k: Outcome, u: Outcome, label = what): void =>
        void differences.push({ scenario: scenario.name, kind, what: label, stdin: step.stdin, step: i + 1, kernel: k, uptables: u });
      if (step.program === "iptables-save") {
        // The "# Generated by"/"# Completed on" lines carry the program and the date.
        kernel = { ...kernel, stdout: dropComments(kernel.stdout) };
        const saved = runUptablesSave(ruleset, step.argv);
        uptables = { ...saved, stdout: dropComments(saved.stdout) };
      } else if (step.program === "iptables-restore") {
        const fileBefore = fileText(ruleset);
        const saveBefore = runUptablesSave(ruleset, ["-c"]);
        uptables = runUptablesRestore(ruleset, step.argv, step.stdin);
        const saveAfter = runUptablesSave(ruleset, ["-c"]);
        const stateChanged = fileText(ruleset) !== fileBefore || dropComments(saveAfter.stdout) !== dropComments(saveBefore.stdout);
        if (uptables.exitCode !== 0 && stateChanged) {
          // Shown as "before" (what uptables had) against "after" (what it has now).
          const before = { ...saveBefore, stdout: dropComments(saveBefore.stdout) };
          const after = { ...saveAfter, stdout: dropComments(saveAfter.stdout) };
          difference("atomicity", before, after, `${what} (refused, yet uptables' rule set changed)`);
        }
        restoreCases++;
        const kernelAfter = normaliseOutcome(kernelRaw.after!);
        const stateKernel = { ...kernelAfter, stdout: dropComments(kernelAfter.stdout) };
        const stateUptables = { ...saveAfter, stdout: dropComments(saveAfter.stdout) };
        const stateAgrees = sameOutcome(stateKernel, stateUptables);
        if (!stateAgrees) difference("state", stateKernel, stateUptables, `iptables-save -c after: ${what}`);
        if (stateAgrees && sameOutcome(kernel, uptables)) restoreCasesAgreeing++;
      } else {
        uptables = runUptables(ruleset, step.argv);
      }
      if (sameOutcome(kernel, uptables)) {
        commandsAgreeing++;
        return;
      }
      difference("command", kernel, uptables);
    });

    let outputsCompared = 0;
    let outputsAgreeing = 0;
    if (pendingFrom === null) {
      const kernelSave = runKernelSteps(ns, [{ program: "iptables-save", argv: [] }])[0]!;
      const listings = listingCommands(tablesToList(kernelSave.stdout));
      const kernelOutputs = runKernelSteps(ns, listings);
      listings.forEach((listing, i) => {
        let kernel = normaliseOutcome(kernelOutputs[i]!);
        let uptables = listing.program === "iptables-save" ? runUptablesSave(ruleset) : runUptables(ruleset, listing.argv);
        if (listing.program === "iptables-save") {
          kernel = { ...kernel, stdout: dropComments(kernel.stdout) };
          uptables = { ...uptables, stdout: dropComments(uptables.stdout) };
        }
        outputsCompared++;
        if (sameOutcome(kernel, uptables)) {
          outputsAgreeing++;
          return;
        }
        differences.push({ scenario: scenario.name, kind: "output", what: listing.what, stdin: "", step: 0, kernel, uptables });
      });
    }
    const judged = differences.map((d): Difference => {
      // Atomicity is uptables' own promise: never allowed away.
      const entry = d.kind === "atomicity" ? null : allowedEntry(d);
      return { ...d, allowed: entry?.reason ?? null, category: entry ? (entry.category ?? "intended") : null };
    });
    return {
      scenario,
      commandsCompared: compared.length,
      commandsAgreeing,
      outputsCompared,
      outputsAgreeing,
      restoreCases,
      restoreCasesAgreeing,
      differences: judged,
      pending: [...pending],
      pendingFrom: pendingFrom === null ? null : pendingFrom + 1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    ns.destroy();
  }
}

function normaliseOutcome(o: Outcome): Outcome {
  return { exitCode: o.exitCode, stdout: normaliseKernelText(o.stdout), stderr: normaliseKernelText(o.stderr) };
}

/** A difference as text for people: what was run, then kernel and uptables side by side. */
export function describeDifference(d: Difference): string {
  const show = (label: string, o: Outcome): string => {
    const parts = [`  ${label}: exit ${o.exitCode}`];
    if (o.stdout !== "") parts.push(`    stdout: ${JSON.stringify(o.stdout)}`);
    if (o.stderr !== "") parts.push(`    stderr: ${JSON.stringify(o.stderr)}`);
    return parts.join("\n");
  };
  const where = d.kind === "output" ? `output: ${d.what}` : `step ${d.step}: ${d.what}`;
  const input = d.stdin !== "" ? `\n  stdin: ${JSON.stringify(d.stdin.length > 600 ? `${d.stdin.slice(0, 600)}...` : d.stdin)}` : "";
  const labels = d.kind === "atomicity" ? ["before  ", "after   "] : ["kernel  ", "uptables"];
  const allowed = d.allowed ? `\n  allowed (${d.category}): ${d.allowed}` : "";
  return `[${d.scenario}] ${d.kind === "atomicity" ? "ATOMICITY " : ""}${where}${input}\n${show(labels[0]!, d.kernel)}\n${show(labels[1]!, d.uptables)}${allowed}`;
}
