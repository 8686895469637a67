// The rule set and host the benchmarks run on: Docker 25-27's default bridge with one published
// port, as lab/rulesets/docker-27-default.rules and lab/hosts/docker-host.json describe them.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HostDescription } from "../core/host/host-view.ts";

const LAB = join(dirname(fileURLToPath(import.meta.url)), "../../lab");

export const DOCKER_DEFAULT_RULES: string = readFileSync(join(LAB, "rulesets/docker-27-default.rules"), "utf8");
export const DOCKER_HOST: HostDescription = JSON.parse(readFileSync(join(LAB, "hosts/docker-host.json"), "utf8")) as HostDescription;
