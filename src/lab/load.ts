// Reads a lab file (YAML) and checks all of it before anything is built: unknown keys, wrong
// types, names used but not declared, duplicates, addresses and prefixes. Every problem names the
// file, the field path and what is wrong, e.g.
//   lab/labs/my-lab.yaml: steps[3].probe.kind: must be one of http, tcp, udp, icmp (got "ftp")
// and all problems of a file are reported at once (LabFileError).
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { parseDottedQuad } from "../core/net/ipv4-address.ts";
import { parseRuleLines } from "./command-line.ts";
import {
  DEFAULT_PROBE_TIMEOUT_S, OUTCOMES, PROBE_KINDS, SERVICE_KINDS,
  type BridgeSpec, type Lab, type LinkEnd, type NamespaceSpec, type Outcome, type Probe, type ProbeKind,
  type RouteSpec, type ServiceKind, type ServiceSpec, type Step,
} from "./format.ts";

export class LabFileError extends Error {
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(problems.map((p) => `${file}: ${p}`).join("\n"));
  }
}

/** Linux's IFNAMSIZ is 16 with the terminating NUL. */
export const MAX_INTERFACE_NAME = 15;
const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const INTERFACE_PATTERN = /^[A-Za-z0-9_.-]+$/;
const SYSCTL_PATTERN = /^net\.[A-Za-z0-9_.-]+$/;
const TABLES = ["raw", "mangle", "filter", "nat"];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** Collects problems with the field path they belong to. */
class Checker {
  readonly problems: string[] = [];

  fail(path: string, problem: string): void {
    this.problems.push(`${path === "" ? "(top level)" : path}: ${problem}`);
  }

  object(value: Json | undefined, path: string, known: readonly string[]): Obj | null {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `must be a mapping (got ${describe(value)})`);
      return null;
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.fail(join(path, key), `unknown key (known here: ${known.join(", ")})`);
    }
    return value;
  }

  list(value: Json | undefined, path: string): Json[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.fail(path, `must be a list (got ${describe(value)})`);
      return [];
    }
    return value;
  }

  string(value: Json | undefined, path: string, required = true): string | null {
    if (value === undefined || value === null) {
      if (required) this.fail(path, "is required");
      return null;
    }
    if (typeof value !== "string" || value === "") {
      this.fail(path, `must be a non-empty string (got ${describe(value)})`);
      return null;
    }
    return value;
  }

  oneOf<T extends string>(value: Json | undefined, path: string, choices: readonly T[]): T | null {
    const text = this.string(value, path);
    if (text === null) return null;
    if (!(choices as readonly string[]).includes(text)) {
      this.fail(path, `must be one of ${choices.join(", ")} (got "${text}")`);
      return null;
    }
    return text as T;
  }

  port(value: Json | undefined, path: string): number | null {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
      this.fail(path, `must be a port number 1-65535 (got ${describe(value)})`);
      return null;
    }
    return value;
  }

  address(value: Json | undefined, path: string, required = true): string | null {
    const text = this.string(value, path, required);
    if (text === null) return null;
    if (parseDottedQuad(text) === null) {
      this.fail(path, `must be an IPv4 address like 10.0.0.1 (got "${text}")`);
      return null;
    }
    return text;
  }

  /** address/prefix, as `ip addr add` takes it. */
  cidr(value: Json | undefined, path: string): string | null {
    const text = this.string(value, path);
    if (text === null) return null;
    const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
    if (match === null || parseDottedQuad(match[1]!) === null || Number(match[2]) > 32) {
      this.fail(path, `must be an IPv4 address with a prefix length like 10.0.0.1/24 (got "${text}")`);
      return null;
    }
    return text;
  }

  /** A route destination: default, an address, or address/prefix. */
  destination(value: Json | undefined, path: string): string | null {
    const text = this.string(value, path);
    if (text === null || text === "default") return text;
    return text.includes("/") ? this.cidr(text, path) : this.address(text, path);
  }

  interfaceName(value: Json | undefined, path: string): string | null {
    const text = this.string(value, path);
    if (text === null) return null;
    if (text.length > MAX_INTERFACE_NAME) {
      this.fail(path, `interface names have at most ${MAX_INTERFACE_NAME} characters ("${text}" has ${text.length})`);
      return null;
    }
    if (!INTERFACE_PATTERN.test(text) || text === "." || text === "..") {
      this.fail(path, `an interface name takes letters, digits, "_", "." and "-" (got "${text}")`);
      return null;
    }
    return text;
  }

  sysctls(value: Json | undefined, path: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (value === undefined || value === null) return out;
    if (typeof value !== "object" || Array.isArray(value)) {
      this.fail(path, `must be a mapping of sysctl names to values (got ${describe(value)})`);
      return out;
    }
    for (const [key, v] of Object.entries(value)) {
      if (!SYSCTL_PATTERN.test(key)) this.fail(join(path, key), "only net.* sysctls can be set in a lab namespace");
      else if (typeof v !== "number" && typeof v !== "string") this.fail(join(path, key), `must be a number or string (got ${describe(v)})`);
      else out[key] = String(v);
    }
    return out;
  }
}

function join(path: string, key: string | number): string {
  return typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
}

function describe(value: Json | undefined): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}

/** Reads and checks a lab file; throws LabFileError listing every problem. */
export function loadLab(file: string): Lab {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new LabFileError(file, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseLab(file, text);
}

/** Checks lab text as if it were read from `file` (relative paths resolve beside that file). */
export function parseLab(file: string, text: string): Lab {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new LabFileError(file, doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `line ${pos.line} column ${pos.col}: not valid YAML: ${e.message.split("\n")[0]}`;
    }));
  }
  const root = doc.toJS({ maxAliasCount: 100 }) as Json;
  const c = new Checker();
  const lab = checkLab(c, file, root);
  if (c.problems.length > 0 || lab === null) throw new LabFileError(file, c.problems.length > 0 ? c.problems : ["the file is empty"]);
  return lab;
}

const TOP_KEYS = ["name", "title", "seeds", "page", "namespaces", "bridges", "links", "routes", "services", "steps"];

function checkLab(c: Checker, file: string, root: Json): Lab | null {
  if (root === null || root === undefined) return null;
  const top = c.object(root, "", TOP_KEYS);
  if (top === null) return null;
  const path = resolve(file);
  const expectedName = basename(file).replace(/\.ya?ml$/, "");
  const name = c.string(top.name, "name");
  if (name !== null) {
    if (!NAME_PATTERN.test(name)) c.fail("name", `takes lower-case letters, digits and "-" (got "${name}")`);
    else if (name !== expectedName) c.fail("name", `must equal the file name without .yaml ("${expectedName}"), got "${name}"`);
  }
  const title = c.string(top.title, "title") ?? "";
  const seeds = c.list(top.seeds, "seeds").flatMap((s, i) => {
    const seed = typeof s === "number" ? String(s).padStart(3, "0") : c.string(s, `seeds[${i}]`);
    if (seed !== null && !/^\d{3}$/.test(seed)) c.fail(`seeds[${i}]`, `must be a seed number like "001" (got "${seed}")`);
    return seed === null ? [] : [seed];
  });
  const page = c.string(top.page, "page", false);

  const namespaces = checkNamespaces(c, top.namespaces);
  const declared = new Set(namespaces.map((n) => n.name));
  const nsRef = (value: Json | undefined, at: string): string | null => {
    const ns = c.string(value, at);
    if (ns !== null && !declared.has(ns)) {
      c.fail(at, `namespace "${ns}" is not declared under namespaces (declared: ${[...declared].join(", ") || "none"})`);
      return null;
    }
    return ns;
  };
  // Interface names are unique per namespace: bridges and link ends share that space.
  const interfaces = new Map<string, string>();
  const claim = (ns: string | null, ifname: string | null, at: string): void => {
    if (ns === null || ifname === null) return;
    const key = `${ns}/${ifname}`;
    const earlier = interfaces.get(key);
    if (earlier !== undefined) c.fail(at, `interface "${ifname}" already exists in namespace "${ns}" (${earlier})`);
    else interfaces.set(key, at);
  };

  const bridges: BridgeSpec[] = [];
  c.list(top.bridges, "bridges").forEach((b, i) => {
    const at = `bridges[${i}]`;
    const o = c.object(b, at, ["in", "name", "addresses"]);
    if (o === null) return;
    const inNs = nsRef(o.in, `${at}.in`);
    const ifname = c.interfaceName(o.name, `${at}.name`);
    claim(inNs, ifname, at);
    const addresses = c.list(o.addresses, `${at}.addresses`).flatMap((a, j) => c.cidr(a, `${at}.addresses[${j}]`) ?? []);
    if (inNs !== null && ifname !== null) bridges.push({ in: inNs, name: ifname, addresses });
  });

  const links: [LinkEnd, LinkEnd][] = [];
  c.list(top.links, "links").forEach((l, i) => {
    const at = `links[${i}]`;
    if (!Array.isArray(l) || l.length !== 2) {
      c.fail(at, `must be a list of two ends (got ${Array.isArray(l) ? `${l.length} ends` : describe(l)})`);
      return;
    }
    const ends = l.map((e, j) => checkLinkEnd(c, e, `${at}[${j}]`, nsRef, claim, bridges));
    if (ends[0] && ends[1]) links.push([ends[0], ends[1]]);
  });

  const routes: RouteSpec[] = [];
  c.list(top.routes, "routes").forEach((r, i) => {
    const at = `routes[${i}]`;
    const o = c.object(r, at, ["in", "to", "via", "dev"]);
    if (o === null) return;
    const inNs = nsRef(o.in, `${at}.in`);
    const to = c.destination(o.to, `${at}.to`);
    const via = c.address(o.via, `${at}.via`, false);
    const dev = o.dev === undefined ? null : c.interfaceName(o.dev, `${at}.dev`);
    if (o.via === undefined && o.dev === undefined) c.fail(at, "needs via:, dev: or both");
    if (inNs !== null && dev !== null && !interfaces.has(`${inNs}/${dev}`)) c.fail(`${at}.dev`, `no interface "${dev}" in namespace "${inNs}"`);
    if (inNs !== null && to !== null) routes.push({ in: inNs, to, via, dev });
  });

  const services: ServiceSpec[] = [];
  c.list(top.services, "services").forEach((s, i) => {
    const at = `services[${i}]`;
    const o = c.object(s, at, ["in", "kind", "port", "address"]);
    if (o === null) return;
    const inNs = nsRef(o.in, `${at}.in`);
    const kind = c.oneOf<ServiceKind>(o.kind, `${at}.kind`, SERVICE_KINDS);
    const port = c.port(o.port, `${at}.port`);
    const address = c.address(o.address, `${at}.address`, false);
    if (inNs !== null && kind !== null && port !== null) {
      const proto = kind === "udp-echo" ? "udp" : "tcp";
      const clash = services.find((x) => x.in === inNs && x.port === port && (x.kind === "udp-echo" ? "udp" : "tcp") === proto && (x.address === null || address === null || x.address === address));
      if (clash !== undefined) c.fail(at, `${proto} port ${port} in namespace "${inNs}" is already taken by a ${clash.kind} service`);
      else services.push({ in: inNs, kind, port, address });
    }
  });

  const host = namespaces.find((n) => n.host)?.name ?? "";
  const steps = checkSteps(c, top.steps, dirname(path), host, nsRef);
  if (name === null) return null;
  return { file, path, name, title, seeds, page, namespaces, bridges, links, routes, services, steps };
}

function checkNamespaces(c: Checker, value: Json | undefined): NamespaceSpec[] {
  const out: NamespaceSpec[] = [];
  if (value === undefined || value === null) {
    c.fail("namespaces", "is required (one of them with host: true)");
    return out;
  }
  const obj = value;
  if (typeof obj !== "object" || Array.isArray(obj)) {
    c.fail("namespaces", `must be a mapping of namespace names (got ${describe(obj)})`);
    return out;
  }
  for (const [name, spec] of Object.entries(obj)) {
    const at = `namespaces.${name}`;
    if (!NAME_PATTERN.test(name)) c.fail(at, `a namespace name takes lower-case letters, digits and "-" (got "${name}")`);
    const o = spec === null ? {} : c.object(spec, at, ["host", "sysctls"]);
    if (o === null) continue;
    if (o.host !== undefined && typeof o.host !== "boolean") c.fail(`${at}.host`, `must be true or false (got ${describe(o.host)})`);
    out.push({ name, host: o.host === true, sysctls: c.sysctls(o.sysctls, `${at}.sysctls`) });
  }
  const hosts = out.filter((n) => n.host);
  if (hosts.length !== 1) {
    c.fail("namespaces", `exactly one namespace must have host: true (${hosts.length === 0 ? "none has" : `${hosts.map((h) => h.name).join(", ")} have`})`);
  }
  return out;
}

function checkLinkEnd(
  c: Checker, value: Json, at: string,
  nsRef: (v: Json | undefined, at: string) => string | null,
  claim: (ns: string | null, ifname: string | null, at: string) => void,
  bridges: readonly BridgeSpec[],
): LinkEnd | null {
  const o = c.object(value, at, ["in", "name", "addresses", "bridge", "hairpin"]);
  if (o === null) return null;
  const inNs = nsRef(o.in, `${at}.in`);
  const ifname = c.interfaceName(o.name, `${at}.name`);
  claim(inNs, ifname, at);
  const addresses = c.list(o.addresses, `${at}.addresses`).flatMap((a, j) => c.cidr(a, `${at}.addresses[${j}]`) ?? []);
  const bridge = c.string(o.bridge, `${at}.bridge`, false);
  if (bridge !== null && inNs !== null && !bridges.some((b) => b.in === inNs && b.name === bridge)) {
    c.fail(`${at}.bridge`, `no bridge "${bridge}" in namespace "${inNs}" (a port must be in its bridge's namespace)`);
  }
  if (bridge !== null && addresses.length > 0) c.fail(`${at}.addresses`, "a bridge port has no addresses (give them to the bridge)");
  if (o.hairpin !== undefined && typeof o.hairpin !== "boolean") c.fail(`${at}.hairpin`, `must be true or false (got ${describe(o.hairpin)})`);
  if (o.hairpin === true && bridge === null) c.fail(`${at}.hairpin`, "only a bridge port can have hairpin: true");
  if (inNs === null || ifname === null) return null;
  return { in: inNs, name: ifname, addresses, bridge, hairpin: o.hairpin === true };
}

const STEP_KINDS = ["rules", "restore", "sysctl", "shell", "probe", "counters"];
const PROBE_KEYS = ["name", "from", "kind", "to", "expect", "peer", "source", "timeout"];

function checkSteps(c: Checker, value: Json | undefined, dir: string, host: string, nsRef: (v: Json | undefined, at: string) => string | null): Step[] {
  const steps: Step[] = [];
  const probeNames = new Set<string>();
  let probeIndex = 0;
  c.list(value, "steps").forEach((s, i) => {
    const at = `steps[${i}]`;
    const o = c.object(s, at, [...STEP_KINDS, "in"]);
    if (o === null) return;
    const kinds = STEP_KINDS.filter((k) => o[k] !== undefined);
    if (kinds.length !== 1) {
      c.fail(at, kinds.length === 0 ? `needs one of ${STEP_KINDS.join(", ")}` : `has ${kinds.join(" and ")}: one step does one thing`);
      return;
    }
    const kind = kinds[0]!;
    if (o.in !== undefined && kind !== "rules" && kind !== "restore") c.fail(`${at}.in`, `goes inside ${kind}: (as ${kind}: {in: ...})`);
    const inNs = o.in === undefined ? host : (nsRef(o.in, `${at}.in`) ?? host);
    const field = `${at}.${kind}`;
    /** A step's own mapping ({in: ..., ...}) with its namespace (the host unless named). */
    const stepMap = (known: string[]): { so: Obj; ns: string } | null => {
      const so = c.object(o[kind], field, known);
      return so === null ? null : { so, ns: so.in === undefined ? host : (nsRef(so.in, `${field}.in`) ?? host) };
    };
    switch (kind) {
      case "rules": {
        const text = c.string(o.rules, field);
        if (text === null) return;
        const { lines, problems } = parseRuleLines(text);
        for (const p of problems) c.fail(field, p);
        if (lines.length === 0 && problems.length === 0) c.fail(field, "has no iptables command");
        steps.push({ kind: "rules", in: inNs, lines });
        return;
      }
      case "restore": {
        const rel = c.string(o.restore, field);
        if (rel === null) return;
        const full = resolve(dir, rel);
        if (!existsSync(full)) c.fail(field, `no such file: ${rel} (relative to the lab file: ${full})`);
        steps.push({ kind: "restore", in: inNs, path: full });
        return;
      }
      case "sysctl": {
        const m = stepMap(["in", "set"]);
        if (m === null) return;
        const { so, ns } = m;
        const set = c.sysctls(so.set, `${field}.set`);
        if (so.set === undefined) c.fail(`${field}.set`, "is required");
        steps.push({ kind: "sysctl", in: ns, set });
        return;
      }
      case "shell": {
        const m = stepMap(["in", "run"]);
        if (m === null) return;
        const { so, ns } = m;
        const run = c.string(so.run, `${field}.run`);
        if (run !== null && /(^|[\s;&|(])(sudo\s+)?(iptables|ip6tables|nft|uptables)[\w-]*(\s|$)/.test(run)) {
          c.fail(`${field}.run`, "shell steps are for setup only; rules go in a rules: or restore: step (so both modes apply them)");
        }
        if (run !== null) steps.push({ kind: "shell", in: ns, run });
        return;
      }
      case "counters": {
        const m = stepMap(["in", "table", "chain"]);
        if (m === null) return;
        const { so, ns } = m;
        const table = so.table === undefined ? "filter" : c.oneOf(so.table, `${field}.table`, TABLES);
        const chain = c.string(so.chain, `${field}.chain`, false);
        if (table !== null) steps.push({ kind: "counters", in: ns, table, chain });
        return;
      }
      case "probe": {
        const probe = checkProbe(c, o.probe, field, probeIndex, nsRef);
        probeIndex++;
        if (probe === null) return;
        if (probeNames.has(probe.name)) c.fail(`${field}.name`, `another probe is already named "${probe.name}"`);
        probeNames.add(probe.name);
        steps.push({ kind: "probe", probe });
      }
    }
  });
  return steps;
}

function checkProbe(c: Checker, value: Json | undefined, at: string, index: number, nsRef: (v: Json | undefined, at: string) => string | null): Probe | null {
  const o = c.object(value, at, PROBE_KEYS);
  if (o === null) return null;
  const name = c.string(o.name, `${at}.name`);
  const from = nsRef(o.from, `${at}.from`);
  const kind = c.oneOf<ProbeKind>(o.kind, `${at}.kind`, PROBE_KINDS);
  const expect = c.oneOf<Outcome>(o.expect, `${at}.expect`, OUTCOMES);
  const source = c.address(o.source, `${at}.source`, false);
  let timeoutS = DEFAULT_PROBE_TIMEOUT_S;
  if (o.timeout !== undefined) {
    if (typeof o.timeout !== "number" || !(o.timeout > 0) || o.timeout > 60) c.fail(`${at}.timeout`, `must be a number of seconds, more than 0 and at most 60 (got ${describe(o.timeout)})`);
    else timeoutS = o.timeout;
  }
  let peer: string | null = null;
  if (o.peer !== undefined) {
    peer = c.string(o.peer, `${at}.peer`);
    if (peer !== null && !isAddressPort(peer, false)) c.fail(`${at}.peer`, `must be an address or address:port (got "${peer}")`);
    if (kind === "icmp") c.fail(`${at}.peer`, "an icmp probe has no server to report a peer");
  }
  const to = c.string(o.to, `${at}.to`);
  let address: string | null = null;
  let port: number | null = null;
  if (to !== null && kind !== null) {
    if (kind === "icmp") {
      if (parseDottedQuad(to) === null) c.fail(`${at}.to`, `an icmp probe goes to an address, without a port (got "${to}")`);
      else address = to;
    } else if (!isAddressPort(to, true)) {
      c.fail(`${at}.to`, `a ${kind} probe goes to address:port, like 10.0.0.1:80 (got "${to}")`);
    } else {
      [address, port] = [to.split(":")[0]!, Number(to.split(":")[1])];
    }
  }
  if (name === null || from === null || kind === null || expect === null || address === null) return null;
  return { index, name, from, kind, address, port, expect, peer, source, timeoutS };
}

function isAddressPort(text: string, portRequired: boolean): boolean {
  const [address, port, ...rest] = text.split(":");
  if (rest.length > 0 || parseDottedQuad(address!) === null) return false;
  if (port === undefined) return !portRequired;
  return /^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}
