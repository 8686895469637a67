// Reads the packet fixtures in test/fixtures/packets/*.hex: IPv4 packets captured from the real
// kernel by test/fixtures/packets/capture.sh (tcpdump -x), one per "@ NAME" block, with tcpdump's
// own -v decoding kept as "#" comment lines above each packet.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./corpus.ts";

export interface PacketFixture {
  readonly name: string;
  /** The IPv4 packet, link-layer header removed. */
  readonly bytes: Uint8Array;
  /** tcpdump -v's decoding of the packet (the comment lines above it, without "# "). */
  readonly decoded: string;
}

export const PACKET_FIXTURES = join(REPO_ROOT, "test/fixtures/packets");

/** Parses the text of a .hex fixture file. */
export function parsePacketFixtures(text: string): PacketFixture[] {
  const out: PacketFixture[] = [];
  let comments: string[] = [];
  let name: string | null = null;
  let hex = "";
  const flush = (): void => {
    if (name === null) return;
    if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`fixture ${name}: bad hex`);
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    out.push({ name, bytes, decoded: comments.join("\n") });
    name = null;
    hex = "";
    comments = [];
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) {
      if (name !== null) flush();
      comments.push(line.replace(/^# ?/, ""));
    } else if (line.startsWith("@ ")) {
      flush();
      name = line.slice(2).trim();
    } else if (line.trim() === "") {
      flush();
      comments = [];
    } else if (name !== null) {
      hex += line.replace(/\s+/g, "");
    }
  }
  flush();
  return out;
}

/** Loads test/fixtures/packets/FILE as a map from packet name to fixture, in capture order. */
export function loadPacketFixtures(file: string): Map<string, PacketFixture> {
  const list = parsePacketFixtures(readFileSync(join(PACKET_FIXTURES, file), "utf8"));
  return new Map(list.map((p) => [p.name, p]));
}

/** The fixture named `name` in `fixtures`; throws when it is missing. */
export function fixture(fixtures: Map<string, PacketFixture>, name: string): PacketFixture {
  const p = fixtures.get(name);
  if (!p) throw new Error(`no packet fixture ${name}`);
  return p;
}

/** A copy of the fixture's bytes, safe to rewrite. */
export function fixtureCopy(fixtures: Map<string, PacketFixture>, name: string): Uint8Array {
  return fixture(fixtures, name).bytes.slice();
}

/** The IP-header part of tcpdump -v's decoding: "IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 60)". */
export interface DecodedIpHeader {
  tos: number;
  ttl: number;
  id: number;
  /** Fragment offset in bytes. */
  offset: number;
  flags: string;
  proto: number;
  length: number;
  options: string | null;
}

export function decodedIpHeader(p: PacketFixture): DecodedIpHeader {
  const m = /^IP \(tos 0x([0-9a-f]+), ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], proto \S+ \((\d+)\), length (\d+)(?:, options \(([^)]*)\))?\)/.exec(p.decoded);
  if (!m) throw new Error(`fixture ${p.name}: cannot read tcpdump's IP line in ${JSON.stringify(p.decoded)}`);
  return {
    tos: parseInt(m[1]!, 16),
    ttl: Number(m[2]),
    id: Number(m[3]),
    offset: Number(m[4]),
    flags: m[5]!,
    proto: Number(m[6]),
    length: Number(m[7]),
    options: m[8] ?? null,
  };
}
