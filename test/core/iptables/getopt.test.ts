// GNU getopt_long as iptables-save and iptables-restore use it: glibc's order and messages.
import { describe, expect, it } from "vitest";
import { Getopt, type GetoptResult, type LongOption } from "../../../src/core/iptables/getopt.ts";

const LONG: readonly LongOption[] = [
  { name: "counters", hasArg: 0, val: "c" },
  { name: "noflush", hasArg: 0, val: "n" },
  { name: "table", hasArg: 1, val: "T" },
  { name: "wait", hasArg: 2, val: "w" },
  { name: "wait-interval", hasArg: 2, val: "W" },
];

function all(argv: string[]): { options: GetoptResult[]; rest: string[] } {
  const getopt = new Getopt("prog", argv, "cnT:wW", LONG);
  const options: GetoptResult[] = [];
  for (let o = getopt.next(); o !== null; o = getopt.next()) {
    options.push(o);
    if (o.kind === "error") break;
  }
  return { options, rest: getopt.rest() };
}

const opt = (letter: string, arg: string | null = null): GetoptResult => ({ kind: "option", letter, arg });
const err = (message: string): GetoptResult => ({ kind: "error", message: `prog: ${message}\n` });

describe("getopt_long (permuting)", () => {
  it("takes clusters, attached and separate arguments, and words anywhere", () => {
    expect(all(["file", "-cn", "-Tnat", "--table", "raw", "--table=filter", "x"])).toEqual({
      options: [opt("c"), opt("n"), opt("T", "nat"), opt("T", "raw"), opt("T", "filter")],
      rest: ["file", "x"],
    });
  });

  it("takes unambiguous prefixes, and the exact name before a longer one", () => {
    expect(all(["--count", "--no", "--wait"]).options).toEqual([opt("c"), opt("n"), opt("w")]);
    expect(all(["--wai"]).options).toEqual([err("option '--wai' is ambiguous; possibilities: '--wait' '--wait-interval'")]);
  });

  it("ends the options at --", () => {
    expect(all(["-c", "--", "-n"])).toEqual({ options: [opt("c")], rest: ["-n"] });
  });

  it("words its mistakes as glibc does", () => {
    expect(all(["-x"]).options).toEqual([err("invalid option -- 'x'")]);
    expect(all(["-T"]).options).toEqual([err("option requires an argument -- 'T'")]);
    expect(all(["--bogus=1"]).options).toEqual([err("unrecognized option '--bogus=1'")]);
    expect(all(["--tab"]).options).toEqual([err("option '--table' requires an argument")]);
    expect(all(["--no=1"]).options).toEqual([err("option '--noflush' doesn't allow an argument")]);
  });
});
