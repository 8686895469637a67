// The control protocol between the CLI and the daemon of a network namespace: one JSON object per
// line each way. A request names an operation; the reply is what the command prints and its exit
// code, as the command would have printed it working on a rule-set file.
//
//   {"op":"iptables","argv":["-t","nat","-L","-n","-v"]}
//   {"op":"save","counters":true,"table":"nat","date":"Mon Nov  3 15:23:24 2026"}
//   {"op":"restore","text":"*filter\n...COMMIT\n","options":{"noflush":true}}
//   {"op":"conntrack","args":["-L","-p","tcp"]}
//   {"op":"stats"}                         (stdout: the daemon's counters as JSON, daemon-status.ts)
//   -> {"stdout":"...","stderr":"...","exitCode":0}
import { statSync } from "node:fs";
import { join } from "node:path";

export const CONTROL_DIR = "/run/uptables";
/** A request line longer than this is refused (a big iptables-restore file still fits). */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

export interface RestoreRequestOptions {
  counters?: boolean;
  noflush?: boolean;
  test?: boolean;
  table?: string;
  verbose?: number;
}

export type ControlRequest =
  | { op: "iptables"; argv: string[] }
  | { op: "save"; counters: boolean; table?: string; date?: string }
  | { op: "restore"; text: string; options: RestoreRequestOptions }
  | { op: "conntrack"; args: string[] }
  | { op: "stats" };

export interface ControlReply {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class ProtocolError extends Error {}

/** The inode of the network namespace this process runs in (what names its daemon's socket). */
export function currentNetnsInode(): number {
  return statSync("/proc/self/ns/net").ino;
}

/** The socket of the daemon of the current network namespace. */
export function socketPathForCurrentNetns(dir = CONTROL_DIR): string {
  return join(dir, `${currentNetnsInode()}.sock`);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function optional(value: unknown, type: "boolean" | "string" | "number", what: string): void {
  if (value !== undefined && typeof value !== type) throw new ProtocolError(`${what} must be a ${type}`);
}

/** Checks one request line; throws ProtocolError with the reason when it is not a valid request. */
export function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError("request is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ProtocolError("request is not a JSON object");
  const r = value as Record<string, unknown>;
  switch (r.op) {
    case "iptables":
      if (!isStringArray(r.argv)) throw new ProtocolError("iptables: argv must be an array of strings");
      return { op: "iptables", argv: r.argv };
    case "save":
      optional(r.counters, "boolean", "save: counters");
      optional(r.table, "string", "save: table");
      optional(r.date, "string", "save: date");
      return { op: "save", counters: r.counters === true, table: r.table as string | undefined, date: r.date as string | undefined };
    case "restore": {
      if (typeof r.text !== "string") throw new ProtocolError("restore: text must be a string");
      const o = r.options ?? {};
      if (typeof o !== "object" || o === null || Array.isArray(o)) throw new ProtocolError("restore: options must be an object");
      const opts = o as Record<string, unknown>;
      optional(opts.counters, "boolean", "restore: counters");
      optional(opts.noflush, "boolean", "restore: noflush");
      optional(opts.test, "boolean", "restore: test");
      optional(opts.table, "string", "restore: table");
      optional(opts.verbose, "number", "restore: verbose");
      const options: RestoreRequestOptions = {};
      if (opts.counters !== undefined) options.counters = opts.counters as boolean;
      if (opts.noflush !== undefined) options.noflush = opts.noflush as boolean;
      if (opts.test !== undefined) options.test = opts.test as boolean;
      if (opts.table !== undefined) options.table = opts.table as string;
      if (opts.verbose !== undefined) options.verbose = opts.verbose as number;
      return { op: "restore", text: r.text, options };
    }
    case "conntrack":
      if (!isStringArray(r.args)) throw new ProtocolError("conntrack: args must be an array of strings");
      return { op: "conntrack", args: r.args };
    case "stats":
      return { op: "stats" };
    default:
      throw new ProtocolError(`unknown op ${JSON.stringify(r.op ?? null)}`);
  }
}

/** The reply to a request that could not be carried out at all (bad request, daemon failure). */
export function errorReply(message: string, exitCode = 1): ControlReply {
  return { stdout: "", stderr: `uptables daemon: ${message}\n`, exitCode };
}

/** Checks a reply line from the daemon. */
export function parseReply(line: string): ControlReply {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError("reply from the daemon is not JSON");
  }
  const r = value as Record<string, unknown> | null;
  if (typeof r !== "object" || r === null || typeof r.stdout !== "string" || typeof r.stderr !== "string" || typeof r.exitCode !== "number") {
    throw new ProtocolError("reply from the daemon is not a {stdout, stderr, exitCode} object");
  }
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
}
