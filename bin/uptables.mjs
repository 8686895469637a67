#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the installed command is the code in src/.
import { register } from "tsx/esm/api";

register();
const { uptablesMain } = await import("../src/cli/main.ts");
process.exitCode = uptablesMain(process.argv.slice(2));
