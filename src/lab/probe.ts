// Runs one probe of a lab: the probe client (probe-client.ts) inside the `from` namespace, with
// the fixed source port of the probe, and checks the outcome and the peer against the lab's
// expectation.
import { nodeArgv, runIn } from "./commands.ts";
import { PROBE_FIRST_PORT, type Outcome, type Probe } from "./format.ts";
import type { ProbeAnswer, ProbeRequest } from "./probe-client.ts";

export interface ProbeOutcome {
  readonly outcome: Outcome;
  readonly peer: string | null;
  readonly durationMs: number;
  readonly detail: string;
  /** The outcome is the expected one and, when the lab names a peer, the server saw that peer. */
  readonly met: boolean;
}

/** "10.0.0.1" matches any port of that address; "10.0.0.1:80" only that port. */
export function peerMatches(expected: string | null, seen: string | null): boolean {
  if (expected === null) return true;
  if (seen === null) return false;
  return expected.includes(":") ? seen === expected : seen.split(":")[0] === expected;
}

export function probeTarget(probe: Probe): string {
  return probe.port === null ? probe.address : `${probe.address}:${probe.port}`;
}

export function runProbe(probe: Probe, fromNetns: string): ProbeOutcome {
  const request: ProbeRequest = {
    kind: probe.kind, address: probe.address, port: probe.port, sourcePort: PROBE_FIRST_PORT + probe.index,
    source: probe.source, timeoutS: probe.timeoutS,
  };
  const ran = runIn(fromNetns, nodeArgv("src/lab/probe-client.ts", [JSON.stringify(request)]), { timeoutMs: probe.timeoutS * 1000 + 30_000 });
  let answer: ProbeAnswer;
  try {
    answer = JSON.parse(ran.stdout.trim().split("\n").pop() ?? "") as ProbeAnswer;
  } catch {
    answer = { outcome: "error", peer: null, durationMs: 0, detail: `probe client failed (exit ${ran.exitCode}): ${ran.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  }
  return { ...answer, met: answer.outcome === probe.expect && (probe.expect !== "ok" || peerMatches(probe.peer, answer.peer)) };
}
