// Differential test: every scenario of commands.ts runs through the kernel's iptables (nf_tables,
// in a scratch network namespace) and through uptables; exit codes, stdout, stderr, iptables-save
// and the listings of every table must agree, except for the differences allowed.ts explains.
// Needs root, `ip` and iptables; outside CI it is skipped without them, under CI=true it fails.
import { afterAll, describe, expect, it } from "vitest";
import { destroyAllNetns, run, skipKernelTests } from "../support/netns.ts";
import { SCENARIOS } from "./commands.ts";
import { describeDifference, runScenario } from "./harness.ts";

const skip = skipKernelTests("differential tests against the kernel's iptables");

describe.skipIf(skip)("uptables agrees with the kernel's iptables", () => {
  afterAll(() => destroyAllNetns());

  // The expected texts are iptables 1.8.9's (nf_tables backend); another version or the legacy
  // backend would make every comparison fail for reasons that have nothing to do with uptables.
  it("compares with iptables v1.8.9 (nf_tables)", () => {
    expect(run(["iptables", "-V"]).stdout.trim()).toBe("iptables v1.8.9 (nf_tables)");
  });

  for (const scenario of SCENARIOS) {
    it(scenario.name, () => {
      const result = runScenario(scenario);
      if (result.pendingFrom !== null) {
        console.info(
          `[pending] ${scenario.name}: compared up to command ${result.pendingFrom - 1} of ${scenario.commands.length}; ` +
            `uptables lacks ${result.pending.join(", ")}`,
        );
      }
      const known = result.differences.filter((d) => d.category === "extension");
      if (known.length > 0) {
        console.warn(`[known] ${scenario.name}: ${known.length} known difference(s) in extensions (allowed.ts KNOWN_EXTENSION_DIFFERENCES)`);
      }
      const disagreements = result.differences.filter((d) => d.allowed === null);
      expect(disagreements.map(describeDifference).join("\n\n")).toBe("");
    });
  }
});
