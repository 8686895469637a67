// Every target extension uptables knows; `-j NAME` loads the one whose name is NAME
// (ACCEPT, DROP and RETURN are the standard verdicts, and other names are user chains).
import type { TargetExtension } from "../extension.ts";

export const ALL_TARGETS: readonly TargetExtension[] = [
];
