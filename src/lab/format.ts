// A lab, as docs/labs/FORMAT.md describes it, once load.ts has checked it: every field present
// (defaults filled in), every name resolved, every address valid.

export const PROBE_KINDS = ["http", "tcp", "udp", "icmp"] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export const OUTCOMES = ["ok", "refused", "timeout", "unreachable"] as const;
/** What a probe saw; "error" is for what none of the four describe (it never meets an expectation). */
export type Outcome = (typeof OUTCOMES)[number] | "error";

export const SERVICE_KINDS = ["http", "udp-echo", "tcp-sink"] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export const MODES = ["kernel", "userspace"] as const;
export type Mode = (typeof MODES)[number];

/** The first source port of the probes: probe i binds 41000 + i, so both modes make the same packets. */
export const PROBE_FIRST_PORT = 41000;
export const DEFAULT_PROBE_TIMEOUT_S = 2;

export interface NamespaceSpec {
  /** The lab's short name; the real namespace is `<prefix>-<name>`. */
  readonly name: string;
  readonly host: boolean;
  readonly sysctls: Readonly<Record<string, string>>;
}

export interface BridgeSpec {
  readonly in: string;
  readonly name: string;
  readonly addresses: readonly string[];
}

export interface LinkEnd {
  readonly in: string;
  readonly name: string;
  readonly addresses: readonly string[];
  /** The bridge (in the same namespace) this end is a port of, or null. */
  readonly bridge: string | null;
  readonly hairpin: boolean;
}

export interface RouteSpec {
  readonly in: string;
  readonly to: string;
  readonly via: string | null;
  readonly dev: string | null;
}

export interface ServiceSpec {
  readonly in: string;
  readonly kind: ServiceKind;
  readonly port: number;
  /** The address to listen on; null listens on all. */
  readonly address: string | null;
}

export interface Probe {
  /** Position among the probes (0-based): the source port is PROBE_FIRST_PORT + index. */
  readonly index: number;
  readonly name: string;
  readonly from: string;
  readonly kind: ProbeKind;
  readonly address: string;
  /** null for icmp. */
  readonly port: number | null;
  readonly expect: Outcome;
  /** The address or address:port the server must report, or null. */
  readonly peer: string | null;
  readonly source: string | null;
  readonly timeoutS: number;
}

/** One iptables command line of a `rules` step: the arguments after `iptables`. */
export interface RuleLine {
  readonly text: string;
  readonly args: readonly string[];
}

export type Step =
  | { readonly kind: "rules"; readonly in: string; readonly lines: readonly RuleLine[] }
  | { readonly kind: "restore"; readonly in: string; readonly path: string }
  | { readonly kind: "sysctl"; readonly in: string; readonly set: Readonly<Record<string, string>> }
  | { readonly kind: "shell"; readonly in: string; readonly run: string }
  | { readonly kind: "probe"; readonly probe: Probe }
  | { readonly kind: "counters"; readonly in: string; readonly table: string; readonly chain: string | null };

export interface Lab {
  /** The file it came from, as given, and its absolute path. */
  readonly file: string;
  readonly path: string;
  readonly name: string;
  readonly title: string;
  readonly seeds: readonly string[];
  readonly page: string | null;
  readonly namespaces: readonly NamespaceSpec[];
  readonly bridges: readonly BridgeSpec[];
  readonly links: readonly (readonly [LinkEnd, LinkEnd])[];
  readonly routes: readonly RouteSpec[];
  readonly services: readonly ServiceSpec[];
  readonly steps: readonly Step[];
}

/** The host namespace's short name (load.ts guarantees exactly one). */
export function hostOf(lab: Lab): string {
  return lab.namespaces.find((n) => n.host)!.name;
}

export function probesOf(lab: Lab): Probe[] {
  return lab.steps.flatMap((s) => (s.kind === "probe" ? [s.probe] : []));
}
