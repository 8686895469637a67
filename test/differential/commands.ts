// The command lines the differential test runs through the kernel's iptables and through uptables.
// A scenario is a sequence applied to an empty rule set (a fresh network namespace on the kernel
// side); after every command both must agree on exit code, stdout and stderr, and at the end on
// iptables-save and every listing of every table. Commands are written as a shell would take them.
//
// Sources: the articles in ../shared/seeds (every iptables command they show, `sudo` removed),
// Docker's rules as dockerd issues them and as its generated documentation lists them
// (../shared/corpus/docker), and scenarios of our own for every command, option and error.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CORPUS, corpusFiles, parseTFile } from "../support/corpus.ts";
import { restoreScenarios } from "./restore-cases.ts";

/**
 * One step of a scenario: a command line as a shell would take it ("iptables -A ...",
 * "iptables-save -c", "iptables-restore -n"), or an iptables-restore run with the text it reads
 * on stdin.
 */
export type Step = string | { readonly command: string; readonly stdin: string };

export interface Scenario {
  readonly name: string;
  readonly commands: readonly Step[];
}

/** The command line of a step. */
export function stepCommand(step: Step): string {
  return typeof step === "string" ? step : step.command;
}

/** What a step reads on stdin ("" for none). */
export function stepStdin(step: Step): string {
  return typeof step === "string" ? "" : step.stdin;
}

const scenarios: Scenario[] = [];
function scenario(name: string, commands: readonly Step[]): void {
  if (scenarios.some((s) => s.name === name)) throw new Error(`duplicate scenario ${name}`);
  scenarios.push({ name, commands });
}

// ---- the articles (../shared/seeds) ------------------------------------------------------------

// 000: "iptables: How Docker Publishes Ports" (long options throughout).
scenario("seed000: first rules of the previous post", [
  "iptables --append FORWARD --in-interface bridge_home --out-interface bridge_home --jump ACCEPT",
  "iptables --append FORWARD --in-interface bridge_home --out-interface enp4s0 --jump ACCEPT",
  "iptables --append FORWARD --in-interface enp4s0 --out-interface bridge_home --jump ACCEPT",
  "iptables --table nat --append POSTROUTING --out-interface enp4s0 --jump MASQUERADE",
]);

scenario("seed000: simplified forwarding and masquerade", [
  "iptables --append FORWARD --in-interface bridge_home --jump ACCEPT",
  "iptables --append FORWARD --out-interface bridge_home --jump ACCEPT",
  "iptables --table nat --append POSTROUTING --source 10.0.0.0/24 --jump MASQUERADE",
]);

scenario("seed000: port forward, narrowed step by step, then a custom chain", [
  "iptables --table nat --append OUTPUT --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --delete OUTPUT --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --append OUTPUT --destination 192.168.0.100/32 --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --delete OUTPUT --destination 192.168.0.100/32 --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --append OUTPUT --match addrtype --dst-type LOCAL --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --append PREROUTING --match addrtype --dst-type LOCAL --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --new DUSTIN",
  "iptables --table nat --append DUSTIN --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --append DUSTIN --jump RETURN",
  "iptables --table nat --delete PREROUTING --match addrtype --dst-type LOCAL --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --delete OUTPUT --match addrtype --dst-type LOCAL --protocol tcp --match tcp --dport 8080 --jump DNAT --to-destination 10.0.0.11:8080",
  "iptables --table nat --append PREROUTING --match addrtype --dst-type LOCAL --jump DUSTIN",
  "iptables --table nat --append OUTPUT --match addrtype --dst-type LOCAL --jump DUSTIN",
  "iptables --table nat --append DUSTIN --protocol tcp --match tcp --dport 8081 --jump DNAT --to-destination 10.0.0.21:8081",
  "iptables --table nat --list DUSTIN",
  "iptables --table nat --delete DUSTIN --protocol tcp --match tcp --dport 8081 --jump DNAT --to-destination 10.0.0.21:8081",
  "iptables --table nat --insert DUSTIN 2 --protocol tcp --match tcp --dport 8081 --jump DNAT --to-destination 10.0.0.21:8081",
  "iptables --table nat --list DUSTIN",
  "iptables --table nat --append POSTROUTING --source 127.0.0.1 --out-interface bridge_home -j MASQUERADE",
]);

// The same custom chain with only what uptables' core and the tcp match need, so the chain,
// insert and list logic is compared even before the NAT targets exist.
scenario("seed000: custom chain order with ACCEPT in place of DNAT", [
  "iptables --table nat --new DUSTIN",
  "iptables --table nat --append DUSTIN --protocol tcp --match tcp --dport 8080 --jump ACCEPT",
  "iptables --table nat --append DUSTIN --jump RETURN",
  "iptables --table nat --append DUSTIN --protocol tcp --match tcp --dport 8081 --jump ACCEPT",
  "iptables --table nat --list DUSTIN",
  "iptables --table nat --delete DUSTIN --protocol tcp --match tcp --dport 8081 --jump ACCEPT",
  "iptables --table nat --insert DUSTIN 2 --protocol tcp --match tcp --dport 8081 --jump ACCEPT",
  "iptables --table nat --list DUSTIN",
  "iptables --table nat --append PREROUTING --jump DUSTIN",
  "iptables --table nat --append OUTPUT --jump DUSTIN",
  "iptables --table nat --list DUSTIN",
  "iptables -t nat -nvL --line-number",
]);

// 001: Docker's default rules (the article shows them as iptables-save output).
scenario("seed001: the default rules of a fresh Docker", [
  "iptables -t nat -N DOCKER",
  "iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
  "iptables -t nat -A DOCKER -i docker0 -j RETURN",
  "iptables -N DOCKER",
  "iptables -N DOCKER-ISOLATION-STAGE-1",
  "iptables -N DOCKER-ISOLATION-STAGE-2",
  "iptables -N DOCKER-USER",
  "iptables -A FORWARD -j DOCKER-USER",
  "iptables -A FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables -A FORWARD -o docker0 -j DOCKER",
  "iptables -A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
  "iptables -A FORWARD -i docker0 -o docker0 -j ACCEPT",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
  "iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN",
  "iptables -A DOCKER-USER -j RETURN",
  "iptables -nvL --line-number -t filter",
  "iptables -nvL --line-number -t nat",
  "iptables-save -t nat",
  "iptables-save -t filter",
]);

// The filter half of 001 without conntrack: chains, jumps, interfaces and their inversions.
scenario("seed001: Docker's filter chains without conntrack", [
  "iptables -N DOCKER",
  "iptables -N DOCKER-ISOLATION-STAGE-1",
  "iptables -N DOCKER-ISOLATION-STAGE-2",
  "iptables -N DOCKER-USER",
  "iptables -A FORWARD -j DOCKER-USER",
  "iptables -A FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables -A FORWARD -o docker0 -j DOCKER",
  "iptables -A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
  "iptables -A FORWARD -i docker0 -o docker0 -j ACCEPT",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
  "iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN",
  "iptables -A DOCKER-USER -j RETURN",
  "iptables -t nat -N DOCKER",
  "iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -j DOCKER",
  "iptables -t nat -A DOCKER -i docker0 -j RETURN",
  "iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
  "iptables -nvL --line-number -t filter",
  "iptables -t nat -L -n",
]);

// 002: the cookbook recipe only lists (`iptables -nL -t nat`, `watch iptables -vnL -t nat`).
scenario("seed002: listing a NAT table with published ports", [
  // The article prints its options with en dashes ("sudo iptables –nL –t nat"): not options at all.
  "iptables –nL –t nat",
  "iptables -t nat -N DOCKER",
  "iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables -t nat -A DOCKER -i docker0 -j RETURN",
  "iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 32768 -j DNAT --to-destination 172.17.0.2:80",
  "iptables -nL -t nat",
  "iptables -vnL -t nat",
  "iptables -nL",
]);

// 003: two Docker networks and the -A versus -I trap.
scenario("seed003: joining two Docker networks, -A then -I", [
  "iptables -N DOCKER-USER",
  "iptables -N DOCKER-ISOLATION-STAGE-1",
  "iptables -N DOCKER-ISOLATION-STAGE-2",
  "iptables -A FORWARD -j DOCKER-USER",
  "iptables -A FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -i br-149d732ffd90 ! -o br-149d732ffd90 -j DOCKER-ISOLATION-STAGE-2",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -i br-4f0537e1b2cd ! -o br-4f0537e1b2cd -j DOCKER-ISOLATION-STAGE-2",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables -A DOCKER-ISOLATION-STAGE-2 -o br-149d732ffd90 -j DROP",
  "iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN",
  "iptables -A FORWARD -i br-4f0537e1b2cd -o br-149d732ffd90 -j ACCEPT",
  "iptables -A FORWARD -i br-149d732ffd90 -o br-4f0537e1b2cd -m state --state RELATED,ESTABLISHED -j ACCEPT",
  "iptables -t nat -A POSTROUTING -o br-149d732ffd90 -j MASQUERADE",
  "iptables -nvL FORWARD",
  "iptables -nvL -t nat",
  "iptables -I FORWARD -i br-4f0537e1b2cd -o br-149d732ffd90 -j ACCEPT",
  "iptables -I FORWARD -i br-149d732ffd90 -o br-4f0537e1b2cd -m state --state RELATED,ESTABLISHED -j ACCEPT",
  "iptables -nvL FORWARD",
  "iptables -nvL DOCKER-ISOLATION-STAGE-1",
]);

scenario("seed003: -A versus -I without state or NAT", [
  "iptables -N DOCKER-ISOLATION-STAGE-1",
  "iptables -A FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables -A FORWARD -i br-4f0537e1b2cd -o br-149d732ffd90 -j ACCEPT",
  "iptables -A FORWARD -i br-149d732ffd90 -o br-4f0537e1b2cd -j ACCEPT",
  "iptables -nvL FORWARD",
  "iptables -I FORWARD -i br-4f0537e1b2cd -o br-149d732ffd90 -j ACCEPT",
  "iptables -I FORWARD -i br-149d732ffd90 -o br-4f0537e1b2cd -j ACCEPT",
  "iptables -nvL FORWARD",
  "iptables -nvL DOCKER-ISOLATION-STAGE-1",
  "iptables -L FORWARD --line-numbers",
]);

// 004: `iptables -t nat -L -n` on a Docker host, with libvirt's chain and a published port.
scenario("seed004: Docker's nat table with a published port", [
  "iptables -t nat -N DOCKER",
  "iptables -t nat -N LIBVIRT_PRT",
  "iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
  "iptables -t nat -A POSTROUTING -s 172.19.0.0/16 ! -o br-1 -j MASQUERADE",
  "iptables -t nat -A POSTROUTING -j LIBVIRT_PRT",
  "iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j MASQUERADE",
  "iptables -t nat -A DOCKER -i docker0 -j RETURN",
  "iptables -t nat -A DOCKER -i br-1 -j RETURN",
  "iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 5000 -j DNAT --to-destination 172.17.0.2:5000",
  "iptables -t nat -L -n",
]);

// ---- Docker as dockerd issues its commands -----------------------------------------------------

// dockerd (25.x-27.x) checks each rule with -C before adding it, with --wait, inserts without a
// position, and puts some options after the target. The result is article 001's rule set.
scenario("docker: daemon start as dockerd runs it", [
  "iptables --wait -t nat -N DOCKER",
  "iptables --wait -t filter -N DOCKER",
  "iptables --wait -t filter -N DOCKER-ISOLATION-STAGE-1",
  "iptables --wait -t filter -N DOCKER-ISOLATION-STAGE-2",
  "iptables --wait -t nat -C PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables --wait -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables --wait -t nat -C OUTPUT -m addrtype --dst-type LOCAL -j DOCKER ! --dst 127.0.0.0/8",
  "iptables --wait -t nat -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER ! --dst 127.0.0.0/8",
  "iptables --wait -t nat -C POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
  "iptables --wait -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
  "iptables --wait -t nat -C DOCKER -i docker0 -j RETURN",
  "iptables --wait -t nat -I DOCKER -i docker0 -j RETURN",
  "iptables --wait -D FORWARD -i docker0 -o docker0 -j DROP",
  "iptables --wait -t filter -C FORWARD -i docker0 -o docker0 -j ACCEPT",
  "iptables --wait -I FORWARD -i docker0 -o docker0 -j ACCEPT",
  "iptables --wait -t filter -C FORWARD -i docker0 ! -o docker0 -j ACCEPT",
  "iptables --wait -I FORWARD -i docker0 ! -o docker0 -j ACCEPT",
  "iptables --wait -t filter -C FORWARD -o docker0 -j DOCKER",
  "iptables --wait -I FORWARD -o docker0 -j DOCKER",
  "iptables --wait -t filter -C FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables --wait -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables --wait -t filter -C FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables --wait -I FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables --wait -I DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
  "iptables --wait -I DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables --wait -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-2 -j RETURN",
  "iptables --wait -A DOCKER-ISOLATION-STAGE-2 -j RETURN",
  "iptables --wait -t filter -N DOCKER-USER",
  "iptables --wait -t filter -C DOCKER-USER -j RETURN",
  "iptables --wait -A DOCKER-USER -j RETURN",
  "iptables --wait -t filter -C FORWARD -j DOCKER-USER",
  "iptables --wait -D FORWARD -j DOCKER-USER",
  "iptables --wait -I FORWARD -j DOCKER-USER",
  "iptables --wait -t nat -C DOCKER -i docker0 -j RETURN",
  "iptables --wait -t filter -C FORWARD -j DOCKER-USER",
]);

scenario("docker: daemon start without conntrack or NAT targets", [
  "iptables --wait -t nat -N DOCKER",
  "iptables --wait -t filter -N DOCKER",
  "iptables --wait -t filter -N DOCKER-ISOLATION-STAGE-1",
  "iptables --wait -t filter -N DOCKER-ISOLATION-STAGE-2",
  "iptables --wait -t nat -C OUTPUT -j DOCKER ! --dst 127.0.0.0/8",
  "iptables --wait -t nat -A OUTPUT -j DOCKER ! --dst 127.0.0.0/8",
  "iptables --wait -t nat -C DOCKER -i docker0 -j RETURN",
  "iptables --wait -t nat -I DOCKER -i docker0 -j RETURN",
  "iptables --wait -D FORWARD -i docker0 -o docker0 -j DROP",
  "iptables --wait -t filter -C FORWARD -i docker0 -o docker0 -j ACCEPT",
  "iptables --wait -I FORWARD -i docker0 -o docker0 -j ACCEPT",
  "iptables --wait -t filter -C FORWARD -i docker0 ! -o docker0 -j ACCEPT",
  "iptables --wait -I FORWARD -i docker0 ! -o docker0 -j ACCEPT",
  "iptables --wait -t filter -C FORWARD -o docker0 -j DOCKER",
  "iptables --wait -I FORWARD -o docker0 -j DOCKER",
  "iptables --wait -t filter -C FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables --wait -I FORWARD -j DOCKER-ISOLATION-STAGE-1",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables --wait -I DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
  "iptables --wait -I DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
  "iptables --wait -t filter -C DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables --wait -A DOCKER-ISOLATION-STAGE-1 -j RETURN",
  "iptables --wait -t filter -N DOCKER-USER",
  "iptables --wait -t filter -C DOCKER-USER -j RETURN",
  "iptables --wait -A DOCKER-USER -j RETURN",
  "iptables --wait -t filter -C FORWARD -j DOCKER-USER",
  "iptables --wait -D FORWARD -j DOCKER-USER",
  "iptables --wait -I FORWARD -j DOCKER-USER",
  "iptables -w -t filter -C DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables -w -t filter -A DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables -w -t filter -C DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables -w -t filter -D DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables -w -t filter -D DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables -w 5 -L -n",
  "iptables -w5 -W 100000 -S",
  "iptables --wait=3 -t nat -S",
]);

scenario("docker: publishing and unpublishing a port", [
  "iptables --wait -t nat -N DOCKER",
  "iptables --wait -t filter -N DOCKER",
  "iptables --wait -t nat -C DOCKER -p tcp -d 0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ! -i docker0",
  "iptables --wait -t nat -A DOCKER -p tcp -d 0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ! -i docker0",
  "iptables --wait -t filter -C DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables --wait -t filter -A DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables --wait -t nat -C POSTROUTING -p tcp -s 172.17.0.2 -d 172.17.0.2 --dport 80 -j MASQUERADE",
  "iptables --wait -t nat -A POSTROUTING -p tcp -s 172.17.0.2 -d 172.17.0.2 --dport 80 -j MASQUERADE",
  "iptables --wait -t nat -C DOCKER -p udp -d 127.0.0.1 --dport 5353 -j DNAT --to-destination 172.17.0.2:53 ! -i docker0",
  "iptables --wait -t nat -A DOCKER -p udp -d 127.0.0.1 --dport 5353 -j DNAT --to-destination 172.17.0.2:53 ! -i docker0",
  "iptables -t nat -L -n",
  "iptables -t nat -L",
  "iptables --wait -t nat -D DOCKER -p tcp -d 0/0 --dport 8080 -j DNAT --to-destination 172.17.0.2:80 ! -i docker0",
  "iptables --wait -t filter -D DOCKER ! -i docker0 -o docker0 -p tcp -d 172.17.0.2 --dport 80 -j ACCEPT",
  "iptables --wait -t nat -D POSTROUTING -p tcp -s 172.17.0.2 -d 172.17.0.2 --dport 80 -j MASQUERADE",
]);

// Docker's generated documentation (moby integration/network/bridge/iptablesdoc) lists, per
// configuration, the `iptables -S` of each table; replaying them as commands must rebuild them.
function iptablesdocScenarios(): void {
  const dir = join(CORPUS, "docker", "iptablesdoc");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    const blocks = text.split("<summary>iptables commands</summary>").slice(1);
    const commands: string[] = [];
    for (const block of blocks) {
      const lines = block
        .split("</details>")[0]!
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.startsWith("-"));
      const policies = lines.filter((l) => l.startsWith("-P ")).map((l) => l.split(" ")[1]);
      const table = policies.includes("POSTROUTING") ? "nat" : policies.includes("FORWARD") ? "filter" : "raw";
      for (const line of lines) if (!line.startsWith("-P ")) commands.push(`iptables -t ${table} ${line}`);
    }
    scenario(`docker doc: ${basename(file, ".md")}`, commands);
  }
}
iptablesdocScenarios();

// Docker's own golden iptables-save files (moby iptabler testdata): a few distinct configurations,
// replayed as the -N/-A commands that make them.
function iptablerScenarios(): void {
  const dir = join(CORPUS, "docker", "iptabler");
  const chosen = [
    "no.rules",
    "cleaned,hairpin=false.rules",
    "hairpin=false,internal=true,icc=false.rules",
    "hairpin=false,internal=false,icc=false,masq=false,snat=false,gwm=routed,bindlh=false.rules",
    "hairpin=true,internal=false,icc=true,masq=true,snat=false,gwm=nat,bindlh=false.rules",
    "hairpin=true,internal=false,icc=false,masq=true,snat=true,gwm=nat,bindlh=true.rules",
  ];
  for (const file of chosen) {
    const commands: string[] = [];
    let table = "filter";
    for (const raw of readFileSync(join(dir, file), "utf8").split("\n")) {
      const line = raw.trim();
      if (line.startsWith("*")) {
        table = line.slice(1);
        // The saved table exists even without rules: setting a policy creates it.
        commands.push(`iptables -t ${table} -P ${table === "nat" || table === "raw" ? "OUTPUT" : "INPUT"} ACCEPT`);
      } else if (line.startsWith(":") && line.includes(" - ")) {
        commands.push(`iptables -t ${table} -N ${line.slice(1).split(" ")[0]}`);
      } else if (line.startsWith("-A ")) {
        commands.push(`iptables -t ${table} ${line}`);
      }
    }
    scenario(`docker iptabler: ${basename(file, ".rules")}`, commands);
  }
}
iptablerScenarios();

// Docker 28 (DOCKER-FORWARD, DOCKER-CT, DOCKER-BRIDGE, raw PREROUTING), as dockerd issues it when
// it starts, when a network with a published port comes up, and when both go away again.
scenario("docker 28: daemon start, a network and a published port, then their removal", [
  "iptables --wait -t nat -N DOCKER",
  "iptables --wait -t filter -N DOCKER",
  "iptables --wait -t filter -N DOCKER-FORWARD",
  "iptables --wait -t filter -N DOCKER-BRIDGE",
  "iptables --wait -t filter -N DOCKER-CT",
  "iptables --wait -t filter -N DOCKER-INTERNAL",
  "iptables --wait -t filter -N DOCKER-USER",
  "iptables --wait -t filter -C DOCKER-FORWARD -j DOCKER-CT",
  "iptables --wait -t filter -A DOCKER-FORWARD -j DOCKER-CT",
  "iptables --wait -t filter -C DOCKER-FORWARD -j DOCKER-INTERNAL",
  "iptables --wait -t filter -A DOCKER-FORWARD -j DOCKER-INTERNAL",
  "iptables --wait -t filter -C DOCKER-FORWARD -j DOCKER-BRIDGE",
  "iptables --wait -t filter -A DOCKER-FORWARD -j DOCKER-BRIDGE",
  "iptables --wait -t filter -C FORWARD -j DOCKER-USER",
  "iptables --wait -t filter -I FORWARD -j DOCKER-USER",
  "iptables --wait -t filter -C FORWARD -j DOCKER-FORWARD",
  "iptables --wait -t filter -I FORWARD 2 -j DOCKER-FORWARD",
  "iptables --wait -t nat -C PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables --wait -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables --wait -t nat -C OUTPUT -m addrtype --dst-type LOCAL -j DOCKER ! --dst 127.0.0.0/8",
  "iptables --wait -t nat -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER ! --dst 127.0.0.0/8",
  "iptables --wait -t filter -A DOCKER ! -i docker0 -o docker0 -j DROP",
  "iptables --wait -t filter -A DOCKER-BRIDGE -o docker0 -j DOCKER",
  "iptables --wait -t filter -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables --wait -t filter -A DOCKER-FORWARD -i docker0 -j ACCEPT",
  "iptables --wait -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
  "iptables --wait -t filter -A DOCKER ! -i bridge1 -o bridge1 -j DROP",
  "iptables --wait -t filter -A DOCKER-BRIDGE -o bridge1 -j DOCKER",
  "iptables --wait -t filter -A DOCKER-CT -o bridge1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables --wait -t filter -A DOCKER-FORWARD -i bridge1 -j ACCEPT",
  "iptables --wait -t nat -I POSTROUTING -s 192.0.2.0/24 ! -o bridge1 -j MASQUERADE",
  "iptables --wait -t raw -C PREROUTING -d 192.0.2.2 ! -i bridge1 -j DROP",
  "iptables --wait -t raw -A PREROUTING -d 192.0.2.2 ! -i bridge1 -j DROP",
  "iptables --wait -t filter -I DOCKER -p tcp -d 192.0.2.2 --dport 80 ! -i bridge1 -o bridge1 -j ACCEPT",
  "iptables --wait -t nat -A DOCKER -p tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80 ! -i bridge1",
  "iptables -nvL -t filter --line-numbers",
  "iptables -nvL -t nat",
  "iptables -t raw -S",
  "iptables-save",
  // docker rm: the published port goes.
  "iptables --wait -t nat -D DOCKER -p tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80 ! -i bridge1",
  "iptables --wait -t filter -D DOCKER -p tcp -d 192.0.2.2 --dport 80 ! -i bridge1 -o bridge1 -j ACCEPT",
  "iptables --wait -t raw -D PREROUTING -d 192.0.2.2 ! -i bridge1 -j DROP",
  // docker network rm: the network's rules go.
  "iptables --wait -t nat -D POSTROUTING -s 192.0.2.0/24 ! -o bridge1 -j MASQUERADE",
  "iptables --wait -t filter -D DOCKER-FORWARD -i bridge1 -j ACCEPT",
  "iptables --wait -t filter -D DOCKER-CT -o bridge1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables --wait -t filter -D DOCKER-BRIDGE -o bridge1 -j DOCKER",
  "iptables --wait -t filter -D DOCKER ! -i bridge1 -o bridge1 -j DROP",
  // Stopping dockerd with its chains in place: flush and delete them as a firewall script would.
  "iptables -t nat -F DOCKER",
  "iptables -t nat -X DOCKER",
  "iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
  "iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j DOCKER ! --dst 127.0.0.0/8",
  "iptables -t nat -X DOCKER",
  "iptables -F",
  "iptables -X",
  "iptables -t nat -F",
  "iptables -t nat -X",
  "iptables -t raw -F",
  "iptables-save",
]);

scenario("iptables-save: tables and counters", [
  "iptables-save",
  "iptables-save -t nat",
  "iptables-save -t nosuch",
  "iptables -A INPUT -c 5 6 -j ACCEPT",
  "iptables -P FORWARD DROP",
  "iptables -t nat -N N",
  "iptables-save -c",
  "iptables-save -t filter -c",
  "iptables-save --counters --table=nat",
  "iptables-save -t raw",
  "iptables-save",
]);

// The iptables project's own extension tests (../shared/corpus/iptables-t/*.t): every line appended
// to each chain it names, in its table, so that the extensions' errors and their -L/-S/save output
// are compared with the kernel's iptables (the .t files themselves only check what is saved).
function tFileScenarios(): void {
  for (const file of corpusFiles("iptables-t", ".t")) {
    const commands: string[] = [];
    for (const line of parseTFile(file)) {
      if (line.variant === "LEGACY") continue;
      for (const chain of line.chains) commands.push(`iptables -t ${line.table} -A ${chain} ${line.rule}`);
    }
    scenario(`iptables .t: ${basename(file, ".t")}`, commands);
  }
}
tFileScenarios();

// Matches and targets as firewall scripts and Docker use them, one scenario per extension so that
// a difference in one does not hide the others; the listings at the end show their -L output.
scenario("extension in use: state and conntrack", [
  "iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT",
  "iptables -A INPUT -m state --state NEW,INVALID",
  "iptables -A INPUT -m state ! --state NEW",
  "iptables -A INPUT -m state --state BOGUS",
  "iptables -A INPUT -m state",
  "iptables -A INPUT -m conntrack --ctstate INVALID -j DROP",
  "iptables -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  "iptables -A FORWARD -m conntrack --ctstate DNAT --ctorigdst 192.168.0.100 --ctorigdstport 8080",
  "iptables -A FORWARD -m conntrack --ctproto tcp --ctstatus ASSURED,CONFIRMED --ctdir REPLY",
  "iptables -A FORWARD -m conntrack ! --ctstate NEW --ctexpire 10:100",
  "iptables -A FORWARD -m conntrack --ctorigsrc 10.0.0.0/8 ! --ctrepldst 1.2.3.4",
  "iptables -A FORWARD -m conntrack --ctstate",
  "iptables -A FORWARD -m conntrack",
  "iptables -C FORWARD -o docker0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
  "iptables -D INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
]);

scenario("extension in use: udp, icmp and multiport", [
  "iptables -A INPUT -p udp --dport 53 -j ACCEPT",
  "iptables -A INPUT -p udp --sport 67:68 --dport 67:68",
  "iptables -A INPUT -p udp ! --dport domain",
  "iptables -A INPUT -p udp --dport 70000",
  "iptables -A INPUT -p icmp --icmp-type echo-request -j ACCEPT",
  "iptables -A INPUT -p icmp --icmp-type 8/0",
  "iptables -A INPUT -p icmp ! --icmp-type destination-unreachable",
  "iptables -A INPUT -p icmp --icmp-type 3/4",
  "iptables -A INPUT -p icmp --icmp-type nosuchtype",
  "iptables -A INPUT -p icmp --icmp-type",
  "iptables -A INPUT -p tcp -m multiport --dports 22,80,443 -j ACCEPT",
  "iptables -A INPUT -p udp -m multiport --sports 53,123:124",
  "iptables -A INPUT -p tcp -m multiport --ports 1:1023,8080",
  "iptables -A INPUT -p tcp -m multiport ! --dports http,https",
  "iptables -A INPUT -m multiport --dports 22",
  "iptables -A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
  "iptables -A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
  "iptables -A INPUT -p tcp -m multiport --dports 10:5",
]);

scenario("extension in use: limit, mac, mark, connmark, iprange, addrtype", [
  "iptables -A INPUT -p tcp --dport 22 -m limit --limit 3/min --limit-burst 5 -j ACCEPT",
  "iptables -A INPUT -m limit --limit 10/second",
  "iptables -A INPUT -m limit --limit 1/hour --limit-burst 1",
  "iptables -A INPUT -m limit --limit 5/day",
  "iptables -A INPUT -m limit --limit 0/s",
  "iptables -A INPUT -m limit --limit 3/fortnight",
  "iptables -A INPUT -m mac --mac-source 00:11:22:33:44:55",
  "iptables -A INPUT -m mac ! --mac-source aa:bb:cc:dd:ee:ff -j DROP",
  "iptables -A INPUT -m mac --mac-source 00:11:22:33:44",
  "iptables -A INPUT -m mark --mark 0x1/0xff",
  "iptables -A INPUT -m mark ! --mark 7",
  "iptables -A INPUT -m connmark --mark 1",
  "iptables -A INPUT -m connmark --mark 0x10/0xf0",
  "iptables -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9",
  "iptables -A INPUT -m iprange ! --dst-range 192.168.0.10-192.168.0.20",
  "iptables -A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1",
  "iptables -A INPUT -m addrtype --src-type LOCAL --dst-type UNICAST",
  "iptables -A INPUT -m addrtype --dst-type LOCAL --limit-iface-in",
  "iptables -A OUTPUT -m addrtype ! --dst-type BROADCAST,MULTICAST --limit-iface-out",
  "iptables -A INPUT -m addrtype --dst-type NOSUCH",
  "iptables -A INPUT -m addrtype --limit-iface-in --limit-iface-out",
]);

scenario("extension in use: LOG, NFLOG, REJECT, MARK", [
  "iptables -A INPUT -j LOG --log-prefix 'IN: ' --log-level 4",
  "iptables -A INPUT -j LOG --log-level debug --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid",
  "iptables -A INPUT -j LOG --log-prefix \"$(printf 'x%.0s' 1)\"",
  "iptables -A INPUT -j LOG --log-level 9",
  "iptables -A INPUT -j NFLOG --nflog-group 1 --nflog-prefix x",
  "iptables -A INPUT -j NFLOG --nflog-threshold 5 --nflog-size 128",
  "iptables -A INPUT -j REJECT",
  "iptables -A INPUT -j REJECT --reject-with icmp-port-unreachable",
  "iptables -A INPUT -p tcp -j REJECT --reject-with tcp-reset",
  "iptables -A INPUT -j REJECT --reject-with tcp-reset",
  "iptables -A INPUT -j REJECT --reject-with icmp-admin-prohibited",
  "iptables -A INPUT -j REJECT --reject-with nosuch",
  "iptables -A OUTPUT -j REJECT --reject-with icmp-net-prohibited",
  "iptables -t mangle -A PREROUTING -j MARK --set-mark 1",
  "iptables -t mangle -A PREROUTING -j MARK --set-xmark 0x1/0xff",
  "iptables -t mangle -A PREROUTING -j MARK --and-mark 0xf0",
  "iptables -t mangle -A PREROUTING -j MARK --or-mark 0x0f",
  "iptables -t mangle -A PREROUTING -j MARK",
  "iptables -A INPUT -j MARK --set-mark 2",
  "iptables -t nat -A INPUT -j REJECT",
]);

scenario("extension in use: SNAT, DNAT, MASQUERADE, REDIRECT", [
  "iptables -t nat -A POSTROUTING -o eth0 -j SNAT --to-source 1.2.3.4",
  "iptables -t nat -A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 1.2.3.4-1.2.3.9:1000-2000",
  "iptables -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4 --random --persistent",
  "iptables -t nat -A POSTROUTING -j SNAT",
  "iptables -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4:80",
  "iptables -t nat -A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080",
  "iptables -t nat -A PREROUTING -p tcp --dport 81 -j REDIRECT --to-ports 8080-8090 --random",
  "iptables -t nat -A PREROUTING -p tcp --dport 82 -j REDIRECT",
  "iptables -t nat -A PREROUTING -j REDIRECT --to-ports 8080",
  "iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080",
  "iptables -t nat -A PREROUTING -p tcp --dport 83 -j DNAT --to 10.0.0.1",
  "iptables -t nat -A PREROUTING -p udp --dport 84 -j DNAT --to-destination 10.0.0.1-10.0.0.3:53-55 --persistent",
  "iptables -t nat -A PREROUTING -j DNAT --to-destination 10.0.0.1:80",
  "iptables -t nat -A PREROUTING -j DNAT",
  "iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination :8080",
  "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
  "iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1024-65535 --random",
  "iptables -t nat -A POSTROUTING -j MASQUERADE --to-ports 1024",
  "iptables -t nat -A POSTROUTING -j MASQUERADE --random-fully",
  "iptables -t nat -L -n",
  "iptables -t nat -L",
]);

scenario("extension in use: CT, NOTRACK, TRACE, CHECKSUM, TCPMSS", [
  "iptables -t raw -A PREROUTING -j CT --notrack",
  "iptables -t raw -A PREROUTING -j NOTRACK",
  "iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp",
  "iptables -t raw -A OUTPUT -j CT --zone 1",
  "iptables -t raw -A OUTPUT -j CT --zone-orig 2",
  "iptables -t raw -A PREROUTING -j TRACE",
  "iptables -A INPUT -j TRACE",
  "iptables -A INPUT -j CT --notrack",
  "iptables -t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill",
  "iptables -t mangle -A POSTROUTING -j CHECKSUM",
  "iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
  "iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400",
  "iptables -t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 1400",
  "iptables -t mangle -A FORWARD -j TCPMSS --set-mss 1400",
]);

// ---- our own: commands ----------------------------------------------------------------------

scenario("empty rule set: listings only", [
  "iptables -L",
  "iptables -L -n",
  "iptables -S",
  "iptables -t nat -S",
  "iptables -t raw -L -n",
  "iptables -t mangle -S",
  "iptables -L -v -n -x --line-numbers",
]);

scenario("tables are created lazily: which commands create them", [
  "iptables -L -n",
  "iptables -S",
  "iptables -F",
  "iptables -Z",
  "iptables -X",
  "iptables -t nat -L",
  "iptables -t nat -F",
  "iptables -t raw -S",
  "iptables -t mangle -Z",
]);

scenario("table created by -F CHAIN", ["iptables -F INPUT"]);
scenario("table created by -F -v", ["iptables -F -v", "iptables -t nat -F -v"]);
scenario("table created by -N", ["iptables -t nat -N X"]);
scenario("table created by -P", ["iptables -t raw -P OUTPUT ACCEPT", "iptables -t mangle -P FORWARD DROP"]);
scenario("table not created by a failed command", [
  "iptables -C INPUT -j ACCEPT",
  "iptables -D INPUT -j ACCEPT",
  "iptables -D INPUT 1",
  "iptables -I INPUT 2 -j ACCEPT",
  "iptables -R INPUT 1 -j ACCEPT",
  "iptables -A INPUT -j NOPE",
  "iptables -A NOCHAIN -j ACCEPT",
  "iptables -X NOCHAIN",
  "iptables -E NOCHAIN OTHER",
  "iptables -Z INPUT",
  "iptables -t nat -P POSTROUTING DROP",
  "iptables -P INPUT REJECT",
  "iptables -P NOCHAIN ACCEPT",
]);
scenario("-L -Z and -Z on tables that do not exist yet", ["iptables -L -Z", "iptables -Z -v", "iptables -t nat -L -n -Z"]);

scenario("append, insert, replace, delete by number and by spec", [
  "iptables -A INPUT -s 10.0.0.1 -j ACCEPT",
  "iptables -A INPUT -s 10.0.0.2 -j DROP",
  "iptables -A INPUT -s 10.0.0.3 -j RETURN",
  "iptables -I INPUT -s 10.0.0.4 -j ACCEPT",
  "iptables -I INPUT 3 -s 10.0.0.5 -j ACCEPT",
  "iptables -I INPUT 6 -s 10.0.0.6 -j ACCEPT",
  "iptables -I INPUT 8 -s 10.0.0.7 -j ACCEPT",
  "iptables -R INPUT 1 -s 10.0.0.8 -j DROP",
  "iptables -R INPUT 7 -s 10.0.0.9 -j DROP",
  "iptables -R INPUT 6 -s 10.0.0.9 -j DROP",
  "iptables -D INPUT 2",
  "iptables -D INPUT 9",
  "iptables -D INPUT -s 10.0.0.3 -j RETURN",
  "iptables -D INPUT -s 10.0.0.3 -j RETURN",
  "iptables -D INPUT -s 10.0.0.5/32 -j ACCEPT",
  "iptables -C INPUT -s 10.0.0.8 -j DROP",
  "iptables -C INPUT -s 10.0.0.8 -j ACCEPT",
  "iptables -C INPUT -s 10.0.0.8/32 -j DROP",
  "iptables -L INPUT --line-numbers -n",
  "iptables -L INPUT 2 -n",
  "iptables -S INPUT 2",
  "iptables -S INPUT 99",
  "iptables -L INPUT 99",
]);

scenario("rules without a target and duplicate rules", [
  "iptables -A INPUT",
  "iptables -A INPUT",
  "iptables -A INPUT -s 1.2.3.4",
  "iptables -A INPUT -p tcp",
  "iptables -C INPUT",
  "iptables -D INPUT",
  "iptables -D INPUT",
  "iptables -D INPUT",
  "iptables -A INPUT -j ACCEPT",
  "iptables -A INPUT -j ACCEPT",
  "iptables -D INPUT -j ACCEPT",
  "iptables -S",
]);

scenario("long options and their abbreviations", [
  "iptables --table filter --new-chain LONG",
  "iptables --new LONG2",
  "iptables --append LONG --source 192.168.1.0/24 --destination 10.0.0.0/8 --protocol tcp --jump ACCEPT",
  "iptables --append LONG --src 192.168.2.0/24 --dst 10.1.0.0/16 --jump DROP",
  "iptables --append LONG --dest 10.2.0.0/16 --jump DROP",
  "iptables --append LONG --in-interface eth0 --jump RETURN",
  "iptables --insert LONG 1 --out-interface eth1 --jump RETURN",
  "iptables --replace LONG 1 --out-interface eth2 --jump RETURN",
  "iptables --append LONG --goto LONG2",
  "iptables --check LONG --goto LONG2",
  "iptables --delete LONG --goto LONG2",
  "iptables --delete LONG 1",
  "iptables --append LONG --proto udp --jump ACCEPT",
  "iptables --append LONG --protocol=icmp --jump ACCEPT",
  "iptables --append LONG --source=1.1.1.1 --destination=2.2.2.2 --jump=ACCEPT",
  "iptables --app LONG --sou 3.3.3.3 --jum ACCEPT",
  "iptables --list-rules LONG",
  "iptables --list LONG --numeric --verbose --exact --line-numbers",
  "iptables --list LONG --numeric",
  "iptables --zero LONG --verbose",
  "iptables --flush LONG2",
  "iptables --rename-chain LONG2 LONG3",
  "iptables --policy FORWARD DROP",
  "iptables --delete-chain LONG3",
  "iptables --list-rules",
  "iptables --flush",
  "iptables --delete-chain",
]);

scenario("ambiguous and unknown long options", [
  "iptables --de INPUT 1",
  "iptables --in INPUT -j ACCEPT",
  "iptables --li",
  "iptables --lis",
  "iptables --list-r",
  "iptables --ne X",
  "iptables --n X",
  "iptables --p INPUT ACCEPT",
  "iptables -A INPUT --s 1.2.3.4",
  "iptables -A INPUT --so 1.2.3.4",
  "iptables -A INPUT --d 1.2.3.4",
  "iptables -A INPUT --dst 1.2.3.4 --jump ACCEPT",
  "iptables -A INPUT --nosuchoption",
  "iptables -A INPUT --sport 80",
  "iptables -A INPUT -p tcp --sp 80",
  "iptables -A INPUT -p tcp --d 80",
  "iptables -A INPUT -p tcp --dport 80 --sport=1024:65535 -j ACCEPT",
  "iptables --version",
  "iptables -V",
  "iptables -S",
]);

scenario("short options glued together", [
  "iptables -ptcp -AINPUT -jACCEPT",
  "iptables -AINPUT -s10.0.0.0/8 -d192.168.0.1 -iwlan0 -jDROP",
  "iptables -tnat -NCHAIN",
  "iptables -tnat -ACHAIN -jRETURN",
  "iptables -nvL",
  "iptables -nvxL INPUT",
  "iptables -Lnv",
  "iptables -vnxL --line-numbers",
  "iptables -S INPUT -v",
  "iptables -tnat -nL",
  "iptables -t nat -vL CHAIN",
  "iptables -vS",
  "iptables -Ln",
  "iptables -L -n -t",
  "iptables -nLt nat",
]);

scenario("negation with ! everywhere", [
  "iptables -A INPUT ! -s 10.0.0.0/8 -j ACCEPT",
  "iptables -A INPUT ! -d 10.0.0.1 -j ACCEPT",
  "iptables -A INPUT ! -i eth0 -j ACCEPT",
  "iptables -A OUTPUT ! -o eth+ -j ACCEPT",
  "iptables -A INPUT ! -p tcp -j ACCEPT",
  "iptables -A INPUT ! -p udp ! -s 1.2.3.4 ! -d 5.6.7.8 ! -i lo -j DROP",
  "iptables -A INPUT ! -f -j ACCEPT",
  "iptables -A INPUT -f -j ACCEPT",
  "iptables -A INPUT -s ! 10.0.0.1 -j ACCEPT",
  "iptables -A INPUT ! --source 10.0.0.2 -j ACCEPT",
  "iptables -A INPUT --source ! 10.0.0.3 -j ACCEPT",
  "iptables -A INPUT -p tcp ! --dport 22 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport ! 23 -j ACCEPT",
  "iptables -A INPUT -p tcp ! --sport 1:1023 ! --dport 1024: -j ACCEPT",
  "iptables -A INPUT -p tcp ! --syn -j ACCEPT",
  "iptables -A INPUT -p tcp ! --tcp-flags SYN,ACK SYN -j ACCEPT",
  "iptables -A INPUT ! -s 0/0",
  "iptables -A INPUT ! -d 0.0.0.0/0 -j ACCEPT",
  "iptables -A INPUT ! -p all",
  "iptables -A INPUT ! -p 0 -j ACCEPT",
  "iptables -A INPUT ! ! -s 1.2.3.4",
  "iptables -A INPUT -s 1.2.3.4 !",
  "iptables ! -A INPUT",
  "iptables -A INPUT ! -j ACCEPT",
  "iptables -A INPUT ! -m tcp -p tcp",
  "iptables -A INPUT ! -t nat",
  "iptables -A INPUT -i ! eth0",
  "iptables -A OUTPUT -o ! eth1 -j ACCEPT",
  "iptables -A INPUT ! -i +",
  "iptables -A INPUT -i +",
  "iptables -A FORWARD ! -i eth0 ! -o eth1 -j ACCEPT",
  "iptables -L -n -v",
  "iptables -L -v",
]);

scenario("addresses: forms, masks and hosts", [
  "iptables -A INPUT -s 10.0.0.1",
  "iptables -A INPUT -s 10.0.0.1/32",
  "iptables -A INPUT -s 10.1.2.3/8",
  "iptables -A INPUT -s 10.0.0.0/255.255.0.0",
  "iptables -A INPUT -s 10.0.0.0/255.0.255.0",
  "iptables -A INPUT -s 10.0.0.0/0",
  "iptables -A INPUT -s 0/0",
  "iptables -A INPUT -s 0.0.0.0/0 -d 0/0",
  "iptables -A INPUT -s 0.0.0.0",
  "iptables -A INPUT -s 0.0.0.0/1",
  "iptables -A INPUT -d 255.255.255.255",
  "iptables -A INPUT -d 127.0.0.1",
  "iptables -A INPUT -d 127.0.0.0/8",
  "iptables -A INPUT -d 169.254.0.0/16",
  "iptables -A INPUT -d 10",
  "iptables -A INPUT -d 10.1",
  "iptables -A INPUT -d 10.1.2",
  "iptables -A INPUT -d 010.001.002.003",
  "iptables -A INPUT -d 0x0a.0.0.1",
  "iptables -A INPUT -d 10.0.0.1/24",
  "iptables -A INPUT -d 10.0.0.1/0x18",
  "iptables -A INPUT -d 10.0.0.1/024",
  "iptables -A INPUT -d 10.0.0.1/33",
  "iptables -A INPUT -d 10.0.0.1/-1",
  "iptables -A INPUT -d 10.0.0.1/",
  "iptables -A INPUT -d /24",
  "iptables -A INPUT -d 10.0.0.256",
  "iptables -A INPUT -d 10.0.0.1.5",
  "iptables -A INPUT -d 10..0.1",
  "iptables -A INPUT -d 10.0.0.1/255.255.255.256",
  "iptables -A INPUT -d ''",
  "iptables -A INPUT -s 1.2.3.4,5.6.7.8 -j ACCEPT",
  "iptables -A INPUT -s 1.2.3.4,5.6.7.8 -d 9.9.9.9,8.8.8.0/24 -j DROP",
  "iptables -A INPUT -s 1.2.3.4, -j ACCEPT",
  "iptables -A INPUT -s ,1.2.3.4 -j ACCEPT",
  "iptables -A INPUT -s 1.2.3.4,1.2.3.4 -j ACCEPT",
  "iptables -C INPUT -s 1.2.3.4,5.6.7.8 -j ACCEPT",
  "iptables -D INPUT -s 1.2.3.4,5.6.7.8 -j ACCEPT",
  "iptables -C INPUT -s 1.2.3.4 -j ACCEPT",
  "iptables -I INPUT 2 -d 7.7.7.7,6.6.6.6",
  "iptables -L INPUT -n --line-numbers",
  "iptables -L INPUT",
]);

scenario("interfaces: names, wildcards and bad names", [
  "iptables -A INPUT -i eth0",
  "iptables -A INPUT -i eth+",
  "iptables -A INPUT -i +",
  "iptables -A INPUT -i br-4f0537e1b2cd",
  "iptables -A INPUT -i 123456789012345",
  "iptables -A INPUT -i 1234567890123456",
  "iptables -A INPUT -i eth0.100",
  "iptables -A INPUT -i veth@1",
  "iptables -A INPUT -i eth/0",
  "iptables -A INPUT -i ''",
  "iptables -A INPUT -i eth0+1",
  "iptables -A INPUT -i e+th",
  "iptables -A INPUT -i !eth0",
  "iptables -A INPUT -i eth0 -i eth1",
  "iptables -A OUTPUT -o lo",
  "iptables -A OUTPUT -o 'a:b'",
  "iptables -A INPUT -o eth0",
  "iptables -A OUTPUT -i eth0",
  "iptables -A FORWARD -i eth0 -o eth1",
  "iptables -t nat -A PREROUTING -o eth0",
  "iptables -t nat -A POSTROUTING -i eth0",
  "iptables -t nat -A INPUT -i eth0",
  "iptables -t nat -A OUTPUT -o eth0",
  "iptables -N USER",
  "iptables -A USER -i eth0 -o eth1",
  "iptables -A INPUT -j USER",
  "iptables -L -v",
  "iptables -L -v -n",
]);

scenario("protocols by name, number and alias", [
  "iptables -A INPUT -p tcp",
  "iptables -A INPUT -p TCP",
  "iptables -A INPUT -p Tcp",
  "iptables -A INPUT -p udp",
  "iptables -A INPUT -p icmp",
  "iptables -A INPUT -p all",
  "iptables -A INPUT -p ALL",
  "iptables -A INPUT -p 0",
  "iptables -A INPUT -p 6",
  "iptables -A INPUT -p 17",
  "iptables -A INPUT -p 1",
  "iptables -A INPUT -p 47",
  "iptables -A INPUT -p gre",
  "iptables -A INPUT -p esp",
  "iptables -A INPUT -p ah",
  "iptables -A INPUT -p sctp",
  "iptables -A INPUT -p udplite",
  "iptables -A INPUT -p ipv6-icmp",
  "iptables -A INPUT -p icmpv6",
  "iptables -A INPUT -p 58",
  "iptables -A INPUT -p 255",
  "iptables -A INPUT -p 256",
  "iptables -A INPUT -p -1",
  "iptables -A INPUT -p 99",
  "iptables -A INPUT -p 143",
  "iptables -A INPUT -p igmp",
  "iptables -A INPUT -p ipip",
  "iptables -A INPUT -p ospf",
  "iptables -A INPUT -p vrrp",
  "iptables -A INPUT -p l2tp",
  "iptables -A INPUT -p mptcp",
  "iptables -A INPUT -p 262",
  "iptables -A INPUT -p nosuchproto",
  "iptables -A INPUT -p ''",
  "iptables -A INPUT -p tcp -p udp",
  "iptables -A INPUT -p 0x06",
  "iptables -A INPUT -p 06",
  "iptables -L INPUT -n",
  "iptables -L INPUT",
  "iptables -S INPUT",
]);

scenario("tcp match: ports, ranges, services and flags", [
  "iptables -A INPUT -p tcp --dport 80",
  "iptables -A INPUT -p tcp --dport http",
  "iptables -A INPUT -p tcp --dport 8080",
  "iptables -A INPUT -p tcp --dport 8081",
  "iptables -A INPUT -p tcp --sport 22 --dport 1024:65535",
  "iptables -A INPUT -p tcp --dport :1023",
  "iptables -A INPUT -p tcp --dport 1024:",
  "iptables -A INPUT -p tcp --dport 0:65535",
  "iptables -A INPUT -p tcp --dport 0",
  "iptables -A INPUT -p tcp --dport 65535",
  "iptables -A INPUT -p tcp --dport 65536",
  "iptables -A INPUT -p tcp --dport 100:50",
  "iptables -A INPUT -p tcp --dport ssh:http",
  "iptables -A INPUT -p tcp --dport nosuchservice",
  "iptables -A INPUT -p tcp --dport -5",
  "iptables -A INPUT -p tcp --dport 80,443",
  "iptables -A INPUT -p tcp --destination-port 443",
  "iptables -A INPUT -p tcp --source-port 53",
  "iptables -A INPUT -p tcp --syn",
  "iptables -A INPUT -p tcp --tcp-flags ALL NONE",
  "iptables -A INPUT -p tcp --tcp-flags SYN,RST SYN",
  "iptables -A INPUT -p tcp --tcp-flags syn,ack,fin,rst,urg,psh ACK",
  "iptables -A INPUT -p tcp --tcp-flags SYN",
  "iptables -A INPUT -p tcp --tcp-flags BOGUS SYN",
  "iptables -A INPUT -p tcp --tcp-option 2",
  "iptables -A INPUT -p tcp ! --tcp-option 2",
  "iptables -A INPUT -p tcp --tcp-option 0",
  "iptables -A INPUT -p tcp --tcp-option 256",
  "iptables -A INPUT -p tcp --dport 80 --dport 81",
  "iptables -A INPUT -p tcp --syn --tcp-flags SYN SYN",
  "iptables -A INPUT -m tcp --dport 80",
  "iptables -A INPUT -p udp -m tcp --dport 80",
  "iptables -A INPUT -p tcp -m tcp -m tcp --dport 80",
  "iptables -A INPUT -m tcp -p tcp --dport 80",
  "iptables -A INPUT --dport 80 -p tcp",
  "iptables -A INPUT -p tcp --dport 22 -m comment --comment 'ssh in'",
  "iptables -A INPUT -p 6 --dport 23",
  "iptables -A INPUT -p TCP --dport 24",
  "iptables -L INPUT -n",
  "iptables -L INPUT",
  "iptables -L INPUT -v",
  "iptables -S INPUT",
]);

scenario("comment match: quoting and limits", [
  "iptables -A INPUT -m comment --comment hello -j ACCEPT",
  "iptables -A INPUT -m comment --comment 'two words' -j ACCEPT",
  "iptables -A INPUT -m comment --comment 'quote \" inside' -j ACCEPT",
  "iptables -A INPUT -m comment --comment \"it's\" -j ACCEPT",
  "iptables -A INPUT -m comment --comment 'back\\slash' -j ACCEPT",
  "iptables -A INPUT -m comment --comment '' -j ACCEPT",
  "iptables -A INPUT -m comment -j ACCEPT",
  "iptables -A INPUT -m comment --comment a --comment b",
  "iptables -A INPUT -m comment --comment a -m comment --comment b",
  `iptables -A INPUT -m comment --comment ${"x".repeat(255)}`,
  `iptables -A INPUT -m comment --comment ${"x".repeat(256)}`,
  "iptables -A INPUT -m comment --comment ünïcödé",
  "iptables -A INPUT -m comment --comment '/* nested */'",
  "iptables -C INPUT -m comment --comment hello -j ACCEPT",
  "iptables -D INPUT -m comment --comment 'two words' -j ACCEPT",
  "iptables -L INPUT -n",
  "iptables -L INPUT -v",
  "iptables -S INPUT",
]);

scenario("matches and targets that do not exist", [
  "iptables -A INPUT -m nosuchmatch",
  "iptables -A INPUT -m nosuchmatch --foo bar",
  "iptables -A INPUT -j nosuchtarget",
  "iptables -A INPUT -j NOSUCHTARGET",
  "iptables -A INPUT -m",
  "iptables -A INPUT -j",
  "iptables -A INPUT -j ''",
  "iptables -A INPUT -g ''",
  "iptables -A INPUT -j ACCEPT -j DROP",
  "iptables -A INPUT -j ACCEPT -g DROP",
  "iptables -A INPUT -g ACCEPT",
  "iptables -A INPUT -g INPUT",
  "iptables -A INPUT -j INPUT",
  "iptables -A INPUT -j OUTPUT",
  "iptables -A INPUT -j accept",
  "iptables -A INPUT -j Accept",
  "iptables -A INPUT -m comment --comment x --nosuchopt",
  "iptables -S",
]);

scenario("user chains: create, rename, delete", [
  "iptables -N A",
  "iptables -N B",
  "iptables -N A",
  "iptables -N INPUT",
  "iptables -N ACCEPT",
  "iptables -N DROP",
  "iptables -N RETURN",
  "iptables -N QUEUE",
  "iptables -N DNAT",
  "iptables -N LOG",
  "iptables -N -bad",
  "iptables -N '!bad'",
  "iptables -N 'with space'",
  "iptables -N ''",
  "iptables -N a23456789012345678901234567890",
  "iptables -N a2345678901234567890123456789",
  "iptables -N a234567890123456789012345678",
  "iptables -N a23456789012345678901234567",
  "iptables -N 1234",
  "iptables -N x.y:z",
  "iptables -N lower",
  "iptables -N 'tab\there'",
  "iptables -N A B",
  "iptables -E A C",
  "iptables -E A C",
  "iptables -E C B",
  "iptables -E C INPUT",
  "iptables -E C ACCEPT",
  "iptables -E C a23456789012345678901234567890",
  "iptables -E C",
  "iptables -E C D E",
  "iptables -E NOCHAIN D",
  "iptables -A B -j C",
  "iptables -E C D",
  "iptables -S",
  "iptables -X C",
  "iptables -X D",
  "iptables -F B",
  "iptables -X D",
  "iptables -X B",
  "iptables -X NOCHAIN",
  "iptables -X 1234 lower",
  "iptables -X -v",
  "iptables -S",
]);

scenario("deleting chains: referenced, non-empty, built-in", [
  "iptables -N REF",
  "iptables -N FULL",
  "iptables -N EMPTY",
  "iptables -A FULL -j ACCEPT",
  "iptables -A INPUT -j REF",
  "iptables -A INPUT -g REF",
  "iptables -X REF",
  "iptables -X FULL",
  "iptables -X EMPTY",
  "iptables -X OUTPUT",
  "iptables -X",
  "iptables -S",
  "iptables -D INPUT -j REF",
  "iptables -X REF",
  "iptables -D INPUT 1",
  "iptables -X REF",
  "iptables -X",
  "iptables -S",
  "iptables -F FULL",
  "iptables -X -v",
  "iptables -S",
]);

scenario("-X on built-in chains", [
  "iptables -X INPUT",
  "iptables -P FORWARD DROP",
  "iptables -X FORWARD",
  "iptables -A OUTPUT -j ACCEPT",
  "iptables -X OUTPUT",
  "iptables -S",
]);

scenario("-E on built-in chains", ["iptables -E INPUT MYINPUT", "iptables -N X", "iptables -E X OUTPUT", "iptables -S"]);

scenario("-X without a chain keeps chains still referenced", [
  "iptables -N A",
  "iptables -N B",
  "iptables -N C",
  "iptables -N D",
  "iptables -A A -j B",
  "iptables -A C -j C2",
  "iptables -A INPUT -j D",
  "iptables -X",
  "iptables -S",
  "iptables -F",
  "iptables -X",
  "iptables -S",
]);

scenario("jump loops", [
  "iptables -N A",
  "iptables -N B",
  "iptables -N C",
  "iptables -A A -j B",
  "iptables -A B -j C",
  "iptables -A C -j A",
  "iptables -A C -g A",
  "iptables -A A -j A",
  "iptables -I B -j A",
  "iptables -A C -j RETURN",
  "iptables -R A 1 -j C",
  "iptables -A INPUT -j A",
  "iptables -S",
]);

scenario("jumps to chains that do not exist or are built in", [
  "iptables -A INPUT -j MISSING",
  "iptables -A INPUT -g MISSING",
  "iptables -I INPUT -j MISSING",
  "iptables -C INPUT -j MISSING",
  "iptables -D INPUT -j MISSING",
  "iptables -N X",
  "iptables -A INPUT -j X",
  "iptables -R INPUT 1 -j MISSING",
  "iptables -t nat -N Y",
  "iptables -A INPUT -j Y",
  "iptables -A INPUT -j FORWARD",
  "iptables -A X -j INPUT",
  "iptables -S",
]);

scenario("policies: good and bad", [
  "iptables -P INPUT DROP",
  "iptables -P FORWARD ACCEPT",
  "iptables -P OUTPUT drop",
  "iptables -P OUTPUT REJECT",
  "iptables -P OUTPUT RETURN",
  "iptables -P OUTPUT QUEUE",
  "iptables -P OUTPUT",
  "iptables -P",
  "iptables -P OUTPUT DROP extra",
  "iptables -N U",
  "iptables -P U DROP",
  "iptables -P NOCHAIN DROP",
  "iptables -t nat -P PREROUTING DROP",
  "iptables -t nat -P PREROUTING ACCEPT",
  "iptables -t raw -P PREROUTING DROP",
  "iptables -t mangle -P POSTROUTING DROP",
  "iptables -P INPUT ACCEPT -v",
  "iptables -P INPUT DROP -s 1.2.3.4",
  "iptables -P INPUT DROP -n",
  "iptables -L -n",
  "iptables -L -v -n",
  "iptables -S",
  "iptables -S -v",
]);

scenario("rule numbers: zero, too big, not numbers", [
  "iptables -A INPUT -j ACCEPT",
  "iptables -I INPUT 0 -j ACCEPT",
  "iptables -I INPUT 3 -j ACCEPT",
  "iptables -I INPUT 2 -j DROP",
  "iptables -I INPUT -1 -j ACCEPT",
  "iptables -I INPUT x -j ACCEPT",
  "iptables -I INPUT 1x -j ACCEPT",
  "iptables -R INPUT 0 -j ACCEPT",
  "iptables -R INPUT 3 -j ACCEPT",
  "iptables -R INPUT -j ACCEPT",
  "iptables -R INPUT",
  "iptables -R INPUT 1",
  "iptables -D INPUT 0",
  "iptables -D INPUT 3",
  "iptables -D INPUT 4294967297",
  "iptables -D INPUT 2147483648",
  "iptables -D INPUT 99999999999999999999",
  "iptables -D INPUT 1 -j ACCEPT",
  "iptables -D INPUT 1 2",
  "iptables -L INPUT 0",
  "iptables -L INPUT 3",
  "iptables -L INPUT abc",
  "iptables -S INPUT 0",
  "iptables -S INPUT 1",
  "iptables -S INPUT 1 2",
  "iptables -Z INPUT 0",
  "iptables -Z INPUT 1",
  "iptables -Z INPUT 9",
  "iptables -Z NOCHAIN 1",
  "iptables -L INPUT 1 -v -n --line-numbers",
  "iptables -S",
]);

scenario("flush and zero", [
  "iptables -N A",
  "iptables -A A -j ACCEPT",
  "iptables -A INPUT -j A",
  "iptables -t nat -A OUTPUT -j ACCEPT",
  "iptables -Z",
  "iptables -Z A",
  "iptables -Z -v",
  "iptables -Z A -v",
  "iptables -Z NOCHAIN",
  "iptables -F NOCHAIN",
  "iptables -F A",
  "iptables -S",
  "iptables -F",
  "iptables -F -v",
  "iptables -t nat -F -v",
  "iptables -t nat -Z -v",
  "iptables -S",
  "iptables -F INPUT extra",
  "iptables -F -s 1.2.3.4",
  "iptables -Z -j ACCEPT",
  "iptables -L -Z",
  "iptables -L -Z -v",
  "iptables -L A -Z -v",
  "iptables -Z A -L",
  "iptables -S -Z",
  "iptables -S A -Z",
  "iptables -L -Z -n -x -v",
]);

scenario("commands that cannot be combined and options they refuse", [
  "iptables -A INPUT -D INPUT",
  "iptables -A INPUT -I INPUT",
  "iptables -L -S",
  "iptables -F -X",
  "iptables -N X -X X",
  "iptables -L -F",
  "iptables -A INPUT -L",
  "iptables -A INPUT -n -j ACCEPT",
  "iptables -A INPUT --line-numbers -j ACCEPT",
  "iptables -A INPUT -x -j ACCEPT",
  "iptables -I INPUT -n -j ACCEPT",
  "iptables -D INPUT 1 -s 1.2.3.4",
  "iptables -D INPUT -n -j ACCEPT",
  "iptables -C INPUT -c 1 2 -j ACCEPT",
  "iptables -D INPUT -c 1 2 -j ACCEPT",
  "iptables -L -s 1.2.3.4",
  "iptables -L -p tcp",
  "iptables -L -j ACCEPT",
  "iptables -L -i eth0",
  "iptables -L -o eth0",
  "iptables -L -f",
  "iptables -L -c 1 2",
  "iptables -S -n",
  "iptables -S -x",
  "iptables -S --line-numbers",
  "iptables -S -s 1.2.3.4",
  "iptables -F -n",
  "iptables -Z -x",
  "iptables -N X -n",
  "iptables -N X -v",
  "iptables -X X -s 1.2.3.4",
  "iptables -E X Y -p tcp",
  "iptables -P INPUT ACCEPT -x",
  "iptables -P INPUT ACCEPT -c 1 2",
  "iptables -P INPUT ACCEPT --line-numbers",
  "iptables -L --line-numbers -x -v -n",
  "iptables -A INPUT -j ACCEPT -v",
  "iptables -S",
]);

scenario("no command, missing arguments and stray words", [
  "iptables",
  "iptables -t nat",
  "iptables -s 1.2.3.4",
  "iptables -j ACCEPT",
  "iptables -v",
  "iptables -n",
  "iptables INPUT",
  "iptables -A",
  "iptables -I",
  "iptables -D",
  "iptables -N",
  "iptables -X -X",
  "iptables -E",
  "iptables -A INPUT -s",
  "iptables -A INPUT -d",
  "iptables -A INPUT -p",
  "iptables -A INPUT -i",
  "iptables -A INPUT -o",
  "iptables -A INPUT -t",
  "iptables -A INPUT -c",
  "iptables -A INPUT -c 1",
  "iptables -A INPUT -c 1 x",
  "iptables -A INPUT -c x 1",
  "iptables -A INPUT extra",
  "iptables -A INPUT -j ACCEPT extra",
  "iptables -A INPUT -s 1.2.3.4 -s 5.6.7.8",
  "iptables -A INPUT -d 1.2.3.4 --destination 5.6.7.8",
  "iptables -A INPUT -p tcp -p tcp",
  "iptables -A INPUT -f -f",
  "iptables -A INPUT -t nat",
  "iptables -t nat -t filter -L",
  "iptables -t nat -t nat -L",
  "iptables -t nosuchtable -L",
  "iptables -t NAT -L",
  "iptables -t '' -L",
  "iptables -4 -L -n",
  "iptables -6 -L -n",
  "iptables --ipv4 -S",
  "iptables -L --modprobe=/bin/true -n",
  "iptables -x",
  "iptables -- -L",
  "iptables - -L",
  "iptables -L -",
  "iptables -L --",
  "iptables -Q",
  "iptables -A INPUT -Y",
  "iptables -A INPUT -s 1.2.3.4 -z",
]);

scenario("counters on append, insert and replace", [
  "iptables -A INPUT -c 10 20 -j ACCEPT",
  "iptables -I INPUT -c 5 6 -s 1.1.1.1",
  "iptables -A INPUT --set-counters 7 8",
  "iptables -R INPUT 1 -c 100000 99999999 -j DROP",
  "iptables -A INPUT -c 1234567 123456789012",
  "iptables -L -v",
  "iptables -L -v -x -n",
  "iptables -L -v -n",
  "iptables -S -v",
  "iptables -Z INPUT 2",
  "iptables -L -v -x -n",
  "iptables -C INPUT -s 1.1.1.1",
  "iptables -D INPUT -s 1.1.1.1",
  "iptables -L -v -x -n",
]);

scenario("-v with rule commands prints the rule", [
  "iptables -N U -v",
  "iptables -A U -v -s 1.2.3.4 -p tcp --dport 80 -j ACCEPT",
  "iptables -A U -v -s 1.2.3.0/24,5.6.7.8 -j ACCEPT",
  "iptables -I U -v -j DROP",
  "iptables -C U -v -j DROP",
  "iptables -R U 1 -v -j RETURN",
  "iptables -D U -v -j RETURN",
  "iptables -D U 1 -v",
  "iptables -A U -v -f ! -i eth0 -o eth+ -j ACCEPT",
  "iptables -A U -v ! -p udp ! -s 10.0.0.0/8 -d 10.0.0.1 -j RETURN",
  "iptables -A U -v -p tcp --syn -m comment --comment hi",
  "iptables -A U -v -g U2",
  "iptables -N U2",
  "iptables -A U -v -g U2",
  "iptables -A U -v -p 47",
  "iptables -v -A U -j ACCEPT -m comment --comment 'after target'",
  "iptables -F U -v",
  "iptables -X U -v",
]);

scenario("the nat table: chains, and what filtering there means", [
  "iptables -t nat -A PREROUTING -j ACCEPT",
  "iptables -t nat -A PREROUTING -j DROP",
  "iptables -t nat -A POSTROUTING -j RETURN",
  "iptables -t nat -N N1",
  "iptables -t nat -A N1 -j DROP",
  "iptables -t nat -A INPUT -p tcp --dport 25 -j ACCEPT",
  "iptables -t nat -A OUTPUT -d 10.0.0.0/8 -j N1",
  "iptables -t nat -A FORWARD -j ACCEPT",
  "iptables -t nat -L -n -v",
  "iptables -t nat -S",
]);

scenario("the raw and mangle tables", [
  "iptables -t raw -A PREROUTING -d 192.168.0.2 ! -i br-dummy -j DROP",
  "iptables -t raw -A OUTPUT -p tcp --dport 53 -j ACCEPT",
  "iptables -t raw -A INPUT -j ACCEPT",
  "iptables -t raw -N R",
  "iptables -t mangle -A FORWARD -j ACCEPT",
  "iptables -t mangle -A POSTROUTING -o eth0 -j RETURN",
  "iptables -t mangle -N M",
  "iptables -t mangle -A M -j ACCEPT",
  "iptables -t mangle -A INPUT -j M",
  "iptables -t raw -L -n",
  "iptables -t mangle -L -v",
]);

scenario("NAT targets in the wrong table and hook", [
  "iptables -A INPUT -j DNAT --to-destination 1.2.3.4",
  "iptables -A FORWARD -j MASQUERADE",
  "iptables -t nat -A INPUT -j MASQUERADE",
  "iptables -t nat -A POSTROUTING -j DNAT --to-destination 1.2.3.4",
  "iptables -t nat -A PREROUTING -j SNAT --to-source 1.2.3.4",
  "iptables -t nat -A OUTPUT -j DNAT --to-destination 1.2.3.4",
  "iptables -t nat -N DN",
  "iptables -t nat -A DN -j DNAT --to-destination 1.2.3.4",
  "iptables -t nat -A POSTROUTING -j DN",
  "iptables -t nat -A PREROUTING -j DN",
  "iptables -t nat -A DN -j MASQUERADE",
  "iptables -t nat -N MQ",
  "iptables -t nat -A MQ -j MASQUERADE",
  "iptables -t nat -A POSTROUTING -j MQ",
  "iptables -t nat -A OUTPUT -j MQ",
  "iptables -t nat -S",
]);

scenario("names for addresses and services in -L without -n", [
  "iptables -A INPUT -s 127.0.0.1 -d 127.0.0.0/8 -j ACCEPT",
  "iptables -A INPUT -s 127.0.0.2 -j ACCEPT",
  "iptables -A INPUT -s 0.0.0.0/1 -d 0.0.0.0/8 -j ACCEPT",
  "iptables -A INPUT -d 169.254.0.0/16 -j ACCEPT",
  "iptables -A INPUT -d 10.0.0.0/255.0.255.0 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 22 -j ACCEPT",
  "iptables -A INPUT -p tcp --sport 53 --dport 8080 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 5000:5010 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 0 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 443 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 6443 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 3306 -j ACCEPT",
  "iptables -A INPUT -p tcp --dport 65535 -j ACCEPT",
  "iptables -A INPUT -p udp -j ACCEPT",
  "iptables -A INPUT -p 47 -j ACCEPT",
  "iptables -A INPUT -p 200 -j ACCEPT",
  "iptables -A INPUT ! -p 143 -j ACCEPT",
  "iptables -A INPUT -i lo -o + -j ACCEPT",
  "iptables -L INPUT",
  "iptables -L INPUT -v",
  "iptables -L INPUT -n",
]);

scenario("host names are not resolved", [
  "iptables -A INPUT -s localhost -j ACCEPT",
  "iptables -A INPUT -d nosuchhost.invalid -j ACCEPT",
  "iptables -A INPUT -s example.com/24 -j ACCEPT",
  "iptables -S",
]);

scenario("many rules and long chains", [
  ...Array.from({ length: 30 }, (_, i) => `iptables -A INPUT -s 10.0.${i}.0/24 -p tcp --dport ${1000 + i} -j ACCEPT`),
  "iptables -N LONG-CHAIN-NAME-OF-28-CHARACTE",
  "iptables -N LONG-CHAIN-NAME-OF-28-CHARACT",
  "iptables -A LONG-CHAIN-NAME-OF-28-CHARACT -j RETURN",
  "iptables -A FORWARD -j LONG-CHAIN-NAME-OF-28-CHARACT",
  "iptables -I INPUT 15 -j LONG-CHAIN-NAME-OF-28-CHARACT",
  "iptables -D INPUT 30",
  "iptables -R INPUT 10 -d 192.168.100.100 -j DROP",
  "iptables -L -n --line-numbers",
  "iptables -L --line-numbers",
  "iptables -L -v",
]);

scenario("rule order of options does not matter", [
  "iptables -A INPUT -j ACCEPT -p tcp --dport 80 -s 10.0.0.0/8",
  "iptables -C INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j ACCEPT",
  "iptables -C INPUT --dport 80 -j ACCEPT -p tcp -s 10.0.0.1/8",
  "iptables -A INPUT -o eth0 -i eth1 -d 1.1.1.1 -s 2.2.2.2 -p udp -j DROP",
  "iptables -A INPUT -m comment --comment c -p tcp -m tcp --sport 1 -j DROP",
  "iptables -D INPUT -p tcp -m tcp --sport 1 -m comment --comment c -j DROP",
  "iptables -D INPUT -m comment --comment c -p tcp -m tcp --sport 1 -j DROP",
  "iptables -S",
]);

// ---- iptables-nft's own ways ------------------------------------------------------------------

scenario("built-in chains come into being on first use", [
  "iptables -N U",
  "iptables -Z INPUT",
  "iptables -Z INPUT 1",
  "iptables -D INPUT 1",
  "iptables -R INPUT 1 -j ACCEPT",
  "iptables -X INPUT",
  "iptables -E INPUT X",
  "iptables -C INPUT -j ACCEPT",
  "iptables -D INPUT -j ACCEPT",
  "iptables -C U -j ACCEPT",
  "iptables -C NOCHAIN -j ACCEPT",
  "iptables -D NOCHAIN -j ACCEPT",
  "iptables -I INPUT 2 -j ACCEPT",
  "iptables -I INPUT -j ACCEPT",
  "iptables -Z INPUT",
  "iptables -Z -v",
  "iptables -D INPUT 1",
  "iptables -Z FORWARD 1",
  "iptables -A INPUT -j FORWARD",
  "iptables -P FORWARD ACCEPT",
  "iptables -A INPUT -j FORWARD",
  "iptables -A U -g OUTPUT",
  "iptables -L -v",
  "iptables -S",
]);

scenario("-L -Z and -S -Z create the built-in chains of an existing table", [
  "iptables -N U",
  "iptables -L -Z",
  "iptables -Z FORWARD",
  "iptables -X FORWARD",
  "iptables -Z FORWARD",
  "iptables -L FORWARD -Z -v",
  "iptables -Z FORWARD -v",
  "iptables -t nat -N N",
  "iptables -t nat -S -Z",
  "iptables -t nat -Z -v",
  "iptables -t raw -S -Z PREROUTING",
  "iptables -t mangle -L -Z -n",
  "iptables -t nat -L -Z INPUT 1",
  "iptables -L U -Z 2",
  "iptables -Z U 1 -L",
]);

scenario("-X deletes empty built-in chains with policy ACCEPT", [
  "iptables -A INPUT -j ACCEPT",
  "iptables -P FORWARD DROP",
  "iptables -P OUTPUT ACCEPT",
  "iptables -N U",
  "iptables -X -v",
  "iptables -Z OUTPUT",
  "iptables -Z FORWARD",
  "iptables -X FORWARD",
  "iptables -F INPUT",
  "iptables -X",
  "iptables -Z INPUT",
  "iptables -L -v",
  "iptables -S",
  "iptables -P FORWARD ACCEPT",
  "iptables -X FORWARD",
  "iptables -X FORWARD",
]);

scenario("jumps nest at most 15 chains deep", [
  ...Array.from({ length: 17 }, (_, i) => `iptables -N C${i + 1}`),
  ...Array.from({ length: 16 }, (_, i) => `iptables -A C${i + 1} -j C${i + 2}`),
  "iptables -A INPUT -j C1",
  "iptables -A INPUT -j C2",
  "iptables -A FORWARD -j C3",
  "iptables -I OUTPUT -g C2",
  "iptables -I OUTPUT -g C3",
  "iptables -R C16 1 -j RETURN",
  "iptables -A INPUT -j C1",
  "iptables -L INPUT --line-numbers",
]);

scenario("loops are refused only once a base chain reaches them", [
  "iptables -N L1",
  "iptables -N L2",
  "iptables -N L3",
  "iptables -A L1 -j L2",
  "iptables -A L2 -j L3",
  "iptables -A L3 -j L1",
  "iptables -A L3 -g L3",
  "iptables -A INPUT -j L1",
  "iptables -I OUTPUT -g L2",
  "iptables -A FORWARD -j L3",
  "iptables -D L3 -j L1",
  "iptables -A INPUT -j L1",
  "iptables -D L3 -g L3",
  "iptables -A INPUT -j L1",
  "iptables -A L3 -j L1",
  "iptables -R L2 1 -j L1",
  "iptables -S",
]);

scenario("listing chains that do not exist", [
  "iptables -L NOCHAIN",
  "iptables -S NOCHAIN",
  "iptables -L NOCHAIN 1",
  "iptables -L FORWARD",
  "iptables -S FORWARD 1",
  "iptables -t nat -L FORWARD",
  "iptables -t raw -S INPUT",
  "iptables -N U",
  "iptables -L NOCHAIN -n",
  "iptables -L U 1",
  "iptables -t nat -S POSTROUTING",
  "iptables -L -Z NOCHAIN",
]);

scenario("several source and destination addresses", [
  "iptables -N U",
  "iptables -A U -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.0/24 -j ACCEPT",
  "iptables -I U 2 -s 5.5.5.5,6.6.6.6",
  "iptables -C U -s 1.1.1.1,2.2.2.2 -d 3.3.3.3 -j ACCEPT",
  "iptables -C U -s 1.1.1.1,9.9.9.9 -d 3.3.3.3 -j ACCEPT",
  "iptables -D U -s 1.1.1.1 -d 4.4.4.0/24,3.3.3.3 -j ACCEPT",
  "iptables -R U 1 -s 7.7.7.7,8.8.8.8",
  "iptables -R U 1 -d 7.7.7.7,8.8.8.8",
  "iptables -R U 1 -d 7.7.7.7",
  "iptables -A U ! -s 1.1.1.1,2.2.2.2",
  "iptables -A U ! -d 1.1.1.1 -s 2.2.2.2,3.3.3.3",
  "iptables -A U -s 1.1.1.1,,2.2.2.2",
  "iptables -A U -s ' 1.1.1.1, 2.2.2.2'",
  "iptables -A U -s 1.1.1.1,bad..,2.2.2.2",
  "iptables -A U -s 10.0.0.0/8,10.0.0.0/8",
  "iptables -A U -d loopback/8,localhost,link-local/16",
  "iptables -A U -d default/1,anyname/0",
  "iptables -A U -s 1.2.3.4/0",
  "iptables -v -A U -s 9.9.9.9,8.8.8.8 -d 7.7.7.7,6.6.6.6",
  "iptables -v -D U -s 9.9.9.9,8.8.8.8 -d 7.7.7.7,6.6.6.6",
  "iptables -L U -n --line-numbers",
  "iptables -L U",
  "iptables -S U",
]);

scenario("-v when a command fails", [
  "iptables -v -D INPUT -p 6",
  "iptables -v -A NOCHAIN -p 6",
  "iptables -v -A INPUT ! -s 0/0",
  "iptables -v -C INPUT -p 6",
  "iptables -v -A INPUT -j NOPE",
  "iptables -v -I INPUT 5 -p 6",
  "iptables -v -R INPUT 1 -p 6",
  "iptables -A INPUT -p 6",
  "iptables -v -R INPUT 2 -p 6",
  "iptables -v -D INPUT -s 1.1.1.1,2.2.2.2",
  "iptables -v -X NOCHAIN",
  "iptables -v -N U",
  "iptables -v -A INPUT -j U",
  "iptables -v -X U",
  "iptables -v -F NOCHAIN",
  "iptables -v -Z NOCHAIN",
  "iptables -v -E U V",
  "iptables -v -P INPUT BAD",
  "iptables -v -S INPUT",
]);

scenario("protocol names in the one-line form of -v", [
  ...["58", "135", "136", "132", "50", "51", "1", "41", "47", "0", "ipv6-icmp", "mh", "icmpv6", "udp"].map(
    (p) => `iptables -v -A INPUT -p ${p}`,
  ),
  "iptables -v -A INPUT -s 127.0.0.1 -d 127.0.0.0/8",
  "iptables -v -A INPUT -s 10.0.0.0/255.0.255.0 ! -d 1.2.3.4 ! -p tcp ! -f",
  "iptables -v -A INPUT -p tcp --dport 22 -m comment --comment ssh -j ACCEPT",
  "iptables -v -D INPUT -p 58",
  "iptables -v -D INPUT 1",
  "iptables -v -C INPUT -p 135",
  "iptables -v -R INPUT 1 -p 135 -j DROP",
  "iptables -v -I INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j ACCEPT",
]);

scenario("options given twice", [
  "iptables -A INPUT -s 1.1.1.1 --src 2.2.2.2",
  "iptables -A INPUT -p tcp --protocol udp",
  "iptables -A INPUT -j ACCEPT --jump DROP",
  "iptables -A INPUT -g INPUT -j ACCEPT",
  "iptables -L -n -n",
  "iptables -L -x --exact",
  "iptables -L --line-numbers --line-numbers",
  "iptables -L -v -v -v",
  "iptables -A INPUT -i a -i b",
  "iptables -A OUTPUT -o a --out-interface b",
  "iptables -A INPUT -f --fragments",
  "iptables -A INPUT -c 1 2 -c 3 4",
  "iptables -t nat -t raw -L -n",
  "iptables -A INPUT -m comment --comment a -m comment --comment b -j ACCEPT",
  "iptables -S",
]);

scenario("! before options that take none", [
  "iptables ! -n -L",
  "iptables -L ! -v",
  "iptables -L ! -x",
  "iptables -L ! --line-numbers",
  "iptables -A INPUT ! -c 1 2",
  "iptables ! -w -L INPUT",
  "iptables ! -V",
  "iptables ! -4 -S",
  "iptables ! -M /bin/true -S",
  "iptables -A INPUT ! -g INPUT",
  "iptables -A INPUT ! --jump ACCEPT",
  "iptables ! -L",
  "iptables -L !",
  "iptables -A INPUT -s ! 1.1.1.1",
  "iptables -A INPUT ! -s 1.1.1.1 ! -d 2.2.2.2 ! -p tcp ! -i a ! -f",
  "iptables -S",
]);

scenario("getopt's corners", [
  "iptables -- -L",
  "iptables -L --",
  "iptables -A",
  "iptables --append",
  "iptables --append=",
  "iptables -A=INPUT -j ACCEPT",
  "iptables --append=INPUT -j ACCEPT",
  "iptables --table=nat --list",
  "iptables --list=INPUT",
  "iptables --list INPUT",
  "iptables -LINPUT",
  "iptables -L INPUT1",
  "iptables --numeric=1 -L",
  "iptables --verbose=yes -L",
  "iptables -nL --line-numbers -x",
  "iptables --line -L",
  "iptables --lin -L",
  "iptables --li",
  "iptables --zero --list",
  "iptables --list --zero INPUT",
  "iptables -Z INPUT -L",
  "iptables -nvL INPUT 1",
  "iptables -A INPUT -s",
  "iptables -A INPUT --source",
  "iptables -A INPUT -j",
  "iptables -P INPUT",
  "iptables -P",
  "iptables -E A",
  "iptables -R INPUT",
  "iptables -t",
  "iptables -m",
  "iptables -I",
  "iptables -L -t nat -n",
  "iptables -S -t",
  "iptables -S INPUT 1 -t nat",
  "iptables -A INPUT -p tcp --dport",
  "iptables -A INPUT -p tcp --dport=80",
  "iptables -A INPUT -p tcp --dp 81",
  "iptables -A INPUT -p tcp --d 82",
  "iptables -A INPUT -p tcp --s 83",
  "iptables -A INPUT -p tcp --sp=84",
  "iptables -A INPUT -p tcp --syn=1",
  "iptables -A INPUT -p tcp -m comment --comment x --dport 85",
  "iptables -A INPUT -m comment --comment x -p tcp --dport 86",
  "iptables -A INPUT -p 6 --dport 87",
  "iptables -A INPUT -p all --dport 88",
  "iptables -A INPUT -p icmp --dport 89",
  "iptables -A INPUT -p udp -p tcp --dport 90",
  "iptables -S",
]);

scenario("-w and -W", [
  "iptables -w -L INPUT",
  "iptables -w 5 -L INPUT",
  "iptables -w5 -L INPUT",
  "iptables --wait=5 -L INPUT",
  "iptables --wait 5 -L INPUT",
  "iptables -w x -L INPUT",
  "iptables -w 0x10 -L INPUT",
  "iptables -W 1 -L INPUT",
  "iptables -w -W 1000000 -L INPUT",
  "iptables -w -W abc -L INPUT",
  "iptables -w -W -L INPUT",
  "iptables -w -W100 -L INPUT",
  "iptables -L INPUT -w",
]);

scenario("tables and the chains they have", [
  "iptables -t raw -A INPUT -j ACCEPT",
  "iptables -t raw -A FORWARD -j ACCEPT",
  "iptables -t raw -A POSTROUTING -j ACCEPT",
  "iptables -t mangle -L INPUT -n",
  "iptables -t nat -L FORWARD",
  "iptables -t nat -A FORWARD -j ACCEPT",
  "iptables -t nat -P FORWARD ACCEPT",
  "iptables -t filter -P PREROUTING ACCEPT",
  "iptables -t mangle -P PREROUTING DROP",
  "iptables -t raw -N OUTPUT",
  "iptables -t raw -N PREROUTING2",
  "iptables -t mangle -I POSTROUTING -o eth0 -j RETURN",
  "iptables -t mangle -S",
  "iptables -t raw -S",
]);

scenario("DROP in the nat table", [
  "iptables -t nat -P INPUT DROP",
  "iptables -t nat -A X -j DROP",
  "iptables -t nat -A INPUT -g DROP",
  "iptables -t nat -A INPUT -j DROP -s bad..",
  "iptables -t nat -N DROP",
  "iptables -t nat -P INPUT ACCEPT",
  "iptables -t nat -A INPUT -j ACCEPT",
  "iptables -t nat -D INPUT -j DROP",
  "iptables -t nat -C INPUT -j DROP",
  "iptables -t nat -I INPUT -j DROP",
  "iptables -t nat -S",
]);

scenario("chain names with odd characters", [
  "iptables -N 'a\"b'",
  "iptables -N x\\y",
  "iptables -N \"it's\"",
  "iptables -N ünï",
  "iptables -N '#hash'",
  "iptables -N 'a,b'",
  "iptables -N '*star'",
  "iptables -N ':colon'",
  "iptables -N '[x]'",
  "iptables -A ':colon' -j RETURN",
  "iptables -A INPUT -j ':colon'",
  "iptables -A ünï -j ACCEPT",
  "iptables -S",
  "iptables -L -n",
]);

scenario("counters: K, M, G and T", [
  "iptables -A INPUT -c 99999 99999",
  "iptables -A INPUT -c 100000 100499",
  "iptables -A INPUT -c 9999499 9999500",
  "iptables -A INPUT -c 1234567890 12345678901",
  "iptables -A INPUT -c 9999499999 99999999999999",
  "iptables -A INPUT -c 1,2",
  "iptables -A INPUT -c 3, 4",
  "iptables -A INPUT -c ,5 6",
  "iptables -A INPUT -c ' 7' '+8'",
  "iptables -A INPUT -c 9x 10y",
  "iptables -A INPUT -c 0x10 010",
  "iptables -I INPUT 3 -c 11 12 -j ACCEPT",
  "iptables -R INPUT 1 -c 13 14 -j DROP",
  "iptables -L -v",
  "iptables -L -v -x",
  "iptables -L -v -n --line-numbers",
  "iptables -S -v",
  "iptables -S INPUT 2 -v",
  "iptables -Z INPUT 2",
  "iptables -L INPUT 2 -v -x",
  "iptables -Z",
  "iptables -S -v",
]);

// ---- where uptables differs on purpose (see allowed.ts) ------------------------------------

scenario("interface and chain names iptables-restore would misread", [
  "iptables -A INPUT -i 'eth 0'",
  "iptables -A INPUT -i 'eth/0'",
  "iptables -A INPUT -i 'x\"y'",
  "iptables -A INPUT -i 'x\\y'",
  "iptables -N 'a\"b'",
  "iptables -A 'a\"b' -j ACCEPT",
  "iptables -A INPUT -j 'a\"b'",
  "iptables -A INPUT -g 'a\"b' -o 'eth 1'",
  "iptables -S",
]);
scenario("intended: counters beyond 2^53", [
  "iptables -A INPUT -c -1 1",
  "iptables -A INPUT -c 18446744073709551615 1",
  "iptables -A INPUT -c 1 18446744073709551616",
]);
scenario("intended: the security table", ["iptables -t security -L", "iptables -t security -A INPUT -j ACCEPT"]);
scenario("intended: help", ["iptables -h", "iptables -A INPUT -h", "iptables --help", "iptables -p tcp -h"]);
scenario("intended: -vv prints nftables' netlink debugging", [
  "iptables -N U",
  "iptables -vv -A U -j ACCEPT",
  "iptables -vvv -L U",
  "iptables -v -v -S U",
]);
scenario("intended: a match given twice that nftables shows as one", [
  "iptables -A INPUT -p tcp --dport 1 -m tcp --sport 2 -j ACCEPT",
  "iptables -C INPUT -p tcp -m tcp --sport 2 --dport 1 -j ACCEPT",
]);
scenario("intended: renaming a built-in chain", ["iptables -A INPUT -j ACCEPT", "iptables -E INPUT MYINPUT"]);
scenario("intended: renaming to a name iptables-restore refuses", [
  "iptables -N A",
  "iptables -E A a23456789012345678901234567890",
  "iptables -E A 'x y'",
]);
scenario("intended: QUEUE and targets uptables does not implement", ["iptables -A INPUT -j QUEUE"]);

// iptables-restore and iptables-save, their options, the corpus files and broken variants of them.
for (const s of restoreScenarios()) scenario(s.name, s.commands);

export const SCENARIOS: readonly Scenario[] = scenarios;

/** How many command lines all scenarios hold together. */
export function commandCount(): number {
  return scenarios.reduce((n, s) => n + s.commands.length, 0);
}
