#!/usr/bin/env bash
# The main job until the labs land: load Docker's real rule set into an offline rule-set file and
# look at it the way iptables users do. No root, no daemon: everything works on the file.
set -euo pipefail
cd "$(dirname "$0")/.."
rules=${1:-lab/rulesets/docker-27-default.rules}
file=$(mktemp /tmp/uptables-explore.XXXXXX.rules)
trap 'rm -f "$file" "$file.lock"' EXIT
export UPTABLES_RULESET=$file

run() { echo; echo "\$ $*"; "$@"; }
run npx uptables-restore "$rules"
run npx uptables -t nat -L -n -v
run npx uptables -L DOCKER --line-numbers -n
run npx uptables -t nat -S
# Publish another port the way dockerd does (options after the target, -C to check), then check it.
run npx uptables --wait -t nat -I DOCKER -p tcp -d 0/0 --dport 8443 -j DNAT --to-destination 172.17.0.2:443 ! -i docker0
run npx uptables -t nat -C DOCKER -p tcp --dport 8443 -j DNAT --to-destination 172.17.0.2:443 ! -i docker0
run npx uptables-save -t nat
# And what happens to a packet from the LAN to the published port, and to its answer.
run npx uptables simulate --ruleset lab/rulesets/docker-27-default.rules --reply "tcp 192.168.0.50:40000 > 192.168.0.100:8080 syn"
