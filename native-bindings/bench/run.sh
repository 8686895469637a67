#!/usr/bin/env bash
# Throughput of the TUN path, on the datapath recipe of shared/docs/PRODUCT.md, in three network
# namespaces made here and removed on exit (the machine's own namespace is never touched):
#
#   client A 10.1.0.2 --veth-- 10.1.0.1 [host H] 10.2.0.1 --veth-- 10.2.0.2 server B
#
# In H, packets arriving from either veth are routed into a TUN (policy rule iif -> table 100,
# default dev upttun); a reflector writes each back into the TUN, where it re-enters routing with
# iif upttun and the main table forwards it on. iperf3 measures TCP throughput and small-UDP
# packets per second from A to B.
#
#   bash native-bindings/bench/run.sh [MODE...] [-t SECONDS]
#     MODE: kernel (no TUN: the kernel forwards), c (upt-reflector), c-vnet (upt-reflector
#     --vnet-hdr), ts (tun-reflect.ts through src/io/tun.ts), ts-vnet; default: all of them.
# Needs root, iproute2, iperf3 and the native build (npm run build:native).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=5
modes=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t) seconds="$2"; shift 2 ;;
    kernel|c|c-vnet|ts|ts-vnet) modes+=("$1"); shift ;;
    *) echo "usage: run.sh [kernel|c|c-vnet|ts|ts-vnet]... [-t SECONDS]" >&2; exit 2 ;;
  esac
done
[ ${#modes[@]} -gt 0 ] || modes=(kernel c c-vnet ts ts-vnet)
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "run.sh: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }
reflector=native-bindings/build/Release/upt-reflector
[ -x "$reflector" ] || { echo "run.sh: $reflector is not built: npm run build:native" >&2; exit 1; }

A="upt-bench-$$-a"; H="upt-bench-$$-h"; B="upt-bench-$$-b"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ns in "$A" "$H" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

ip netns add "$A"; ip netns add "$H"; ip netns add "$B"
ip -n "$H" link add ha type veth peer name va netns "$A"
ip -n "$H" link add hb type veth peer name vb netns "$B"
ip -n "$A" addr add 10.1.0.2/24 dev va; ip -n "$H" addr add 10.1.0.1/24 dev ha
ip -n "$B" addr add 10.2.0.2/24 dev vb; ip -n "$H" addr add 10.2.0.1/24 dev hb
for ns in "$A" "$H" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set va up; ip -n "$H" link set ha up; ip -n "$H" link set hb up; ip -n "$B" link set vb up
ip -n "$A" route add default via 10.1.0.1
ip -n "$B" route add default via 10.2.0.1
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.all.send_redirects=0

ip netns exec "$B" iperf3 -s >/dev/null 2>&1 &
pids+=($!)
sleep 0.3

start_reflector() { # MODE -> waits for "ready"
  local out; out=$(mktemp)
  case "$1" in
    c) ip netns exec "$H" "$reflector" upttun >"$out" 2>/tmp/upt-bench-$$.log & ;;
    c-vnet) ip netns exec "$H" "$reflector" --vnet-hdr upttun >"$out" 2>/tmp/upt-bench-$$.log & ;;
    ts) ip netns exec "$H" node --import tsx native-bindings/bench/tun-reflect.ts upttun >"$out" 2>/tmp/upt-bench-$$.log & ;;
    ts-vnet) ip netns exec "$H" node --import tsx native-bindings/bench/tun-reflect.ts --vnet-hdr upttun >"$out" 2>/tmp/upt-bench-$$.log & ;;
  esac
  reflector_pid=$!
  for _ in $(seq 100); do grep -q '^ready' "$out" && break; sleep 0.1; done
  grep -q '^ready' "$out" || { echo "reflector did not start:"; cat /tmp/upt-bench-$$.log; exit 1; }
  rm -f "$out"
  ip netns exec "$H" sysctl -qw net.ipv4.conf.upttun.rp_filter=0 net.ipv4.conf.upttun.accept_local=1 net.ipv4.conf.upttun.send_redirects=0
  ip -n "$H" link set upttun up
  ip -n "$H" route add default dev upttun table 100
  ip -n "$H" rule add pref 10 iif ha lookup 100
  ip -n "$H" rule add pref 11 iif hb lookup 100
}

stop_reflector() {
  ip -n "$H" rule del pref 10 2>/dev/null || true
  ip -n "$H" rule del pref 11 2>/dev/null || true
  kill -TERM "$reflector_pid"; wait "$reflector_pid" || true
  sed 's/^/    /' /tmp/upt-bench-$$.log; rm -f /tmp/upt-bench-$$.log
}

measure() { # prints TCP Gbit/s and UDP 64-byte kpps (received)
  local tcp udp
  tcp=$(ip netns exec "$A" iperf3 -c 10.2.0.2 -t "$seconds" -J | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log((j.end.sum_received.bits_per_second/1e9).toFixed(2))})')
  udp=$(ip netns exec "$A" iperf3 -c 10.2.0.2 -u -b 0 -l 64 -t "$seconds" -J | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s),e=j.end.sum;const got=e.packets-e.lost_packets;console.log((got/e.seconds/1e3).toFixed(0)+" kpps received of "+(e.packets/e.seconds/1e3).toFixed(0)+" sent")})')
  printf '%-8s TCP %6s Gbit/s   UDP 64 B: %s\n' "$1" "$tcp" "$udp"
}

echo "TUN path benchmark: ${seconds} s per test, $(nproc) cores, kernel $(uname -r)"
for mode in "${modes[@]}"; do
  if [ "$mode" = kernel ]; then
    measure kernel
  else
    start_reflector "$mode"
    measure "$mode"
    stop_reflector
  fi
done
