// The fast-path rule, checked on the source: the views and checksum code neither allocate nor
// throw per call. Each allowed allocation is listed with why it is not per packet.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../support/corpus.ts";

const FILES = ["checksum.ts", "view.ts", "ipv4.ts", "tcp.ts", "udp.ts", "icmp.ts"];

const ALLOWED = new Map<string, string>([
  ["const EMPTY = new Uint8Array(0);", "one module constant"],
  ["readonly inner = new Ipv4View();", "once per IcmpView"],
  ["readonly innerTcp = new TcpView();", "once per IcmpView"],
  ["readonly innerUdp = new UdpView();", "once per IcmpView"],
  ["if (this.innerIcmpView === null) this.innerIcmpView = new IcmpView();", "once per IcmpView, on first use"],
  ["return this.buf.subarray(start, start + this.optionsLength);", "optionsBytes(), documented as not for the fast path"],
  ["return this.buf.subarray(this.offset, this.offset + this.byteLength);", "bytes(), documented as not for the fast path"],
]);

const FORBIDDEN: readonly [RegExp, string][] = [
  [/\bnew\s+[A-Z]/, "new object"],
  [/\.(subarray|slice|map|filter|concat|split|join)\(/, "array or string copy"],
  [/=>/, "closure"],
  [/`/, "template string"],
  [/\[\s*\.\.\./, "array spread"],
  [/\{\s*\.\.\./, "object spread"],
  [/\bthrow\b/, "throw"],
  [/\bDataView\b/, "DataView (one per buffer)"],
];

describe("fast path: no allocation, no throw", () => {
  for (const file of FILES) {
    it(file, () => {
      const text = readFileSync(join(REPO_ROOT, "src/core/packet", file), "utf8");
      const problems: string[] = [];
      let inComment = false;
      text.split("\n").forEach((raw, i) => {
        const line = raw.trim();
        if (inComment) {
          if (line.includes("*/")) inComment = false;
          return;
        }
        if (line.startsWith("/*")) {
          inComment = !line.includes("*/");
          return;
        }
        if (line.startsWith("//") || line.startsWith("import ") || line.startsWith("export type ")) return;
        const code = line.replace(/\/\/.*$/, "");
        for (const [pattern, what] of FORBIDDEN) {
          if (pattern.test(code) && !ALLOWED.has(code.trim())) problems.push(`${file}:${i + 1}: ${what}: ${line}`);
        }
      });
      expect(problems).toEqual([]);
    });
  }
});
