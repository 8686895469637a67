// -m mac: the Ethernet source address of incoming frames (iptables' libxt_mac, the kernel's xt_mac;
// iptables-nft makes it `ether saddr`). Only frames that arrived have one, hence the hooks.
import { ParameterProblem } from "../../rules/errors.ts";
import { strtoumax } from "../../net/c-number.ts";
import { defineMatch } from "../extension.ts";
import { CompileError } from "../../engine/compile.ts";

export interface MacMatch {
  /** Six bytes. */
  address: number[];
  inverted: boolean;
  given: boolean;
}

/**
 * One byte as libxtables reads it: strtoul in base 16 that must stop right at the separator after
 * at most two characters, so "5", "0a", " a", "+a" and "-1" (which wraps round to ff) pass, "0x1"
 * does not, and an empty byte is 0.
 */
function parseMacByte(text: string): number | null {
  if (text === "") return 0;
  const parsed = strtoumax(text, 16);
  if (parsed === null || parsed.end !== text.length || text.length > 2) return null;
  return Number(parsed.value & 0xffn);
}

function parseMac(text: string): number[] {
  const bytes = text.split(":").map(parseMacByte);
  if (bytes.length !== 6 || bytes.some((b) => b === null)) throw new ParameterProblem("Invalid MAC address specified.");
  return bytes as number[];
}

const formatMac = (address: readonly number[]): string => address.map((b) => b.toString(16).padStart(2, "0")).join(":");

export const macMatch = defineMatch<MacMatch>({
  name: "mac",
  hooks: ["PREROUTING", "INPUT", "FORWARD"],
  options: [{ name: "mac-source", hasArg: true, invertible: true }],
  init: () => ({ address: [0, 0, 0, 0, 0, 0], inverted: false, given: false }),
  parse(data, _option, arg, inverted) {
    data.address = parseMac(arg!);
    data.inverted = inverted;
    data.given = true;
  },
  finalCheck(data) {
    if (!data.given) throw new ParameterProblem(`mac: option "--mac-source" must be specified\n`);
  },
  /**
   * Refuses to run. The engine is fed IP packets from a TUN device, which carry no Ethernet
   * header, so the source MAC this rule asks about is not known. The kernel's answer for such a
   * device (xt_mac checks the device is ARPHRD_ETHER; nft's `ether saddr` needs a link-layer
   * header) is "no match", inverted or not, but the rule was written for the Ethernet interface
   * the engine stands in for, where the answer would depend on the sender: any fixed answer would
   * silently misfilter, so loading the rule set fails instead.
   */
  compile(data) {
    const option = `${data.inverted ? "! " : ""}--mac-source ${formatMac(data.address)}`;
    throw new CompileError(
      `-m mac ${option}: the engine sees packets without their link-layer header (TUN), so the Ethernet source address cannot be matched`,
    );
  },
  save: (data) => `${data.inverted ? "! " : ""}--mac-source ${formatMac(data.address)}`,
  print: (data) => `MAC${data.inverted ? " !" : ""} ${formatMac(data.address)}`,
});
