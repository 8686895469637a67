#!/usr/bin/env node
// Builds the TUN addon (build/Release/uptables_tun.node) and the reflector (build/Release/upt-reflector)
// with node-gyp, against the Node headers already on this machine: nothing is downloaded.
// Run by `npm run build:native`, and by npm's install step (`npm ci`, `npm install`).
//
// Where the headers come from, first found wins:
//   1. $UPTABLES_NODEDIR or $npm_config_nodedir (npm exports the latter from `nodedir=` in .npmrc),
//   2. the prefix of the running node (/usr/bin/node -> /usr/include/node), as Debian's nodejs and
//      the official tarballs lay them out,
//   3. node-gyp's own cache of headers it fetched earlier (~/.cache/node-gyp/<version>).
// UPTABLES_SKIP_NATIVE=1 skips the build (the TUN datapath then cannot run; everything else can).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const log = (line) => process.stderr.write(`build:native: ${line}\n`);

if (process.env.UPTABLES_SKIP_NATIVE === "1") {
  log("skipped (UPTABLES_SKIP_NATIVE=1): the TUN datapath will not load until `npm run build:native` succeeds");
  process.exit(0);
}
if (process.platform !== "linux") {
  log(`skipped: TUN devices are Linux-only (this is ${process.platform}); simulate, the CLI and the tests without root still work`);
  process.exit(0);
}

function headerVersion(dir) {
  const file = join(dir, "include", "node", "node_version.h");
  if (!existsSync(file) || !existsSync(join(dir, "include", "node", "node_api.h"))) return null;
  const text = readFileSync(file, "utf8");
  const part = (name) => text.match(new RegExp(`#define\\s+NODE_${name}_VERSION\\s+(\\d+)`))?.[1];
  return `${part("MAJOR")}.${part("MINOR")}.${part("PATCH")}`;
}

function findNodeDir() {
  const candidates = [];
  for (const variable of ["UPTABLES_NODEDIR", "npm_config_nodedir"]) {
    const value = process.env[variable];
    if (value) candidates.push([value, `$${variable}`]);
  }
  candidates.push([dirname(dirname(process.execPath)), `the prefix of ${process.execPath}`]);
  const version = process.versions.node;
  candidates.push([join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "node-gyp", version), "node-gyp's cache"]);
  for (const [dir, why] of candidates) {
    const found = headerVersion(dir);
    if (found !== null) return { dir, why, found, tried: candidates };
  }
  return { dir: null, tried: candidates };
}

function need(program, args = ["--version"]) {
  const r = spawnSync(program, args, { stdio: "ignore" });
  return r.error === undefined && r.status === 0;
}

const missing = [["g++", "g++"], ["make", "make"], ["python3", "python3"]].filter(([cmd]) => !need(cmd)).map(([, pkg]) => pkg);
if (missing.length > 0) {
  log(`cannot build: ${missing.join(", ")} not found. The build needs g++, make and python3 (Debian: apt-get install g++ make python3).`);
  process.exit(1);
}

const nodedir = findNodeDir();
if (nodedir.dir === null) {
  log(`cannot build: Node's C headers (include/node/node_api.h) were not found; looked in:`);
  for (const [dir, why] of nodedir.tried) log(`  ${dir} (${why})`);
  log(`install them with your Node.js (Debian's nodejs ships them; so do the official tarballs) or set UPTABLES_NODEDIR.`);
  process.exit(1);
}
if (nodedir.found !== process.versions.node) {
  log(`note: headers in ${nodedir.dir} are Node ${nodedir.found}, running ${process.versions.node}: fine for N-API`);
}

let nodeGyp;
try {
  nodeGyp = require.resolve("node-gyp/bin/node-gyp.js");
} catch {
  log("cannot build: node-gyp is not installed in node_modules (run npm install first)");
  process.exit(1);
}

const started = process.hrtime.bigint();
const args = [nodeGyp, "rebuild", `--directory=${here}`, `--nodedir=${nodedir.dir}`, "--jobs=max", "--loglevel=warn"];
log(`node-gyp rebuild with headers from ${nodedir.dir} (${nodedir.why})`);
const result = spawnSync(process.execPath, args, { stdio: "inherit", env: { ...process.env, npm_config_nodedir: nodedir.dir } });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
if (result.status !== 0) {
  log(`FAILED after ${seconds.toFixed(1)} s (exit ${result.status ?? result.signal}); the TUN datapath needs this build (g++, make, python3)`);
  process.exit(1);
}
for (const product of ["uptables_tun.node", "upt-reflector"]) {
  if (!existsSync(join(here, "build", "Release", product))) {
    log(`FAILED: build/Release/${product} is missing after the build`);
    process.exit(1);
  }
}
log(`built build/Release/uptables_tun.node and build/Release/upt-reflector in ${seconds.toFixed(1)} s`);
