#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the installed command is the code in src/.
import { register } from "tsx/esm/api";

register();
const { uptablesSaveMain } = await import("../src/cli/main.ts");
process.exitCode = uptablesSaveMain(process.argv.slice(2));
