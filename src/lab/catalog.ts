// The labs shipped with uptables, lab/labs/<name>.yaml, found by name; anything that looks like a
// path (has a "/" or ends in .yaml/.yml) is a user's own lab file.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./commands.ts";
import { LabFileError, loadLab } from "./load.ts";
import type { Lab } from "./format.ts";

export const CATALOG_DIR = join(REPO, "lab/labs");

export interface CatalogEntry {
  readonly name: string;
  readonly file: string;
  /** The loaded lab, or why it does not load. */
  readonly lab: Lab | null;
  readonly error: LabFileError | null;
}

function isPath(arg: string): boolean {
  return arg.includes("/") || /\.ya?ml$/.test(arg);
}

export function shippedLabNames(): string[] {
  if (!existsSync(CATALOG_DIR)) return [];
  return readdirSync(CATALOG_DIR).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -".yaml".length)).sort();
}

export function catalog(): CatalogEntry[] {
  return shippedLabNames().map((name) => {
    const file = join(CATALOG_DIR, `${name}.yaml`);
    try {
      return { name, file, lab: loadLab(file), error: null };
    } catch (error) {
      if (!(error instanceof LabFileError)) throw error;
      return { name, file, lab: null, error };
    }
  });
}

/** The lab a command line names (a shipped lab's name or a file); throws LabFileError. */
export function findLab(arg: string): Lab {
  if (isPath(arg)) return loadLab(arg);
  const file = join(CATALOG_DIR, `${arg}.yaml`);
  if (!existsSync(file)) {
    throw new LabFileError(arg, [`no such lab (shipped labs: ${shippedLabNames().join(", ") || "none"}; give a path like ./${arg}.yaml for your own)`]);
  }
  return loadLab(file);
}
