// The result of `lab run`: for people (each probe with its outcome, and in both mode every compared
// item marked same or DIFFERENT with both sides where they differ) and as JSON for scripts.
// Exit code: 0 when every probe met its expectation in every mode run and, in both mode,
// everything compared is the same; 1 otherwise.
import { compareCounterSteps, compareProbes, lineDifference, type ProbeComparison, type StepComparison } from "./compare.ts";
import type { Lab } from "./format.ts";
import type { ModeResult, ProbeResult } from "./run.ts";

export interface LabReport {
  readonly lab: string;
  readonly file: string;
  readonly modes: ModeResult[];
  /** Only in both mode. */
  readonly comparison: { probes: ProbeComparison[]; counters: StepComparison[] } | null;
  readonly passed: boolean;
}

export function makeReport(lab: Lab, modes: ModeResult[]): LabReport {
  const [kernel, userspace] = [modes.find((m) => m.mode === "kernel"), modes.find((m) => m.mode === "userspace")];
  const comparison = kernel && userspace ? { probes: compareProbes(kernel, userspace), counters: compareCounterSteps(kernel, userspace) } : null;
  const probesExpected = lab.steps.filter((s) => s.kind === "probe").length;
  const passed =
    modes.every((m) => m.problems.length === 0 && m.probes.length === probesExpected && m.probes.every((p) => p.met)) &&
    (comparison === null || (comparison.probes.every((p) => p.same) && comparison.counters.every((c) => c.same)));
  return { lab: lab.name, file: lab.file, modes, comparison, passed };
}

export function reportExitCode(report: LabReport): number {
  return report.passed ? 0 : 1;
}

function outcomeText(p: ProbeResult): string {
  const peer = p.peer === null ? "" : `, server saw ${p.peer}`;
  const expected = `expected ${p.expect}${p.expectPeer ? ` from ${p.expectPeer}` : ""}`;
  return `${p.met ? "ok  " : "FAIL"} ${p.name}: ${p.kind} ${p.from} -> ${p.to}: ${p.outcome}${peer} (${expected}; ${p.durationMs} ms${p.met ? "" : `; ${p.detail}`})`;
}

function indent(text: string, by = "        "): string {
  return text.split("\n").map((l) => `${by}${l}`).join("\n");
}

function packetLines(packets: Record<string, string[]>): string[] {
  const lines = Object.entries(packets).flatMap(([where, list]) => list.map((p) => `${where.padEnd(22)} ${p}`));
  return lines.length === 0 ? ["(no packets)"] : lines;
}

function showItem(item: string, kernel: unknown, userspace: unknown): string[] {
  if (item === "packets") {
    // Only the interfaces where the two differ.
    const [kp, up] = [kernel as Record<string, string[]>, userspace as Record<string, string[]>];
    const differ = (where: string): boolean => JSON.stringify(kp[where] ?? []) !== JSON.stringify(up[where] ?? []);
    const only = (p: Record<string, string[]>): Record<string, string[]> => Object.fromEntries(Object.entries(p).filter(([w]) => differ(w)));
    const k = packetLines(only(kp));
    const u = packetLines(only(up));
    return ["      kernel:", indent(k.join("\n")), "      userspace:", indent(u.join("\n"))];
  }
  if (item === "conntrack" || item === "counters") {
    const { onlyKernel, onlyUserspace } = lineDifference(kernel as string[], userspace as string[]);
    return ["      only in kernel:", indent(onlyKernel.join("\n") || "(none)"), "      only in userspace:", indent(onlyUserspace.join("\n") || "(none)")];
  }
  return [`      kernel:    ${JSON.stringify(kernel)}`, `      userspace: ${JSON.stringify(userspace)}`];
}

export function formatReport(report: LabReport): string {
  const out: string[] = [`lab ${report.lab} (${report.file})`];
  for (const mode of report.modes) {
    out.push("", `${mode.mode} mode:`);
    for (const p of mode.probes) out.push(`  ${outcomeText(p)}`);
    for (const s of mode.steps.filter((s) => s.step === "counters")) out.push(`  counters: ${s.command}`, indent(s.output, "    "));
    for (const problem of mode.problems) out.push(`  PROBLEM: ${problem}`);
  }
  if (report.comparison !== null) {
    out.push("", "kernel against userspace:");
    for (const probe of report.comparison.probes) {
      const marks = probe.items.map((i) => `${i.item} ${i.same ? "same" : "DIFFERENT"}${i.note ? "*" : ""}`).join(", ");
      out.push(`  ${probe.same ? "same     " : "DIFFERENT"} ${probe.name}: ${marks}`);
      for (const item of probe.items.filter((i) => i.note)) out.push(`    * ${item.item}: ${item.note}`);
      for (const item of probe.items.filter((i) => !i.same)) {
        out.push(`    ${item.item}:`, ...showItem(item.item, item.kernel, item.userspace));
      }
    }
    for (const c of report.comparison.counters) {
      out.push(`  ${c.same ? "same     " : "DIFFERENT"} counters: ${c.command}${c.note ? `\n    * ${c.note}` : ""}`);
      if (!c.same) out.push(...showItem("counters", c.kernel.split("\n"), c.userspace.split("\n")));
    }
  }
  out.push("", report.passed ? `PASSED: ${report.lab}` : `FAILED: ${report.lab}`);
  return `${out.join("\n")}\n`;
}
