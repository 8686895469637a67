#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the installed command is the code in src/.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/uptables.ts");
process.exitCode = await main(process.argv.slice(2));
