#!/usr/bin/env bash
# Installs everything uptables needs on a Debian/Ubuntu machine (or Vagrant box), as root.
# Idempotent: running it again changes nothing that is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "provision.sh: run as root (sudo bash lab/provision.sh)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
packages=(iproute2 iptables conntrack tcpdump iperf3 curl ca-certificates make g++ python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "provision.sh: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  if ! command -v node >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null || true
  fi
  if [ "$(node_major)" -lt 20 ]; then
    echo "provision.sh: uptables needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "  Install Node 20+ from your distribution (Debian 13, Ubuntu 24.04) or NodeSource, then run this again." >&2
    exit 1
  fi
fi

# The kernel modules the labs and comparisons use; absent modules are fine inside containers.
modprobe -q tun 2>/dev/null || true
modprobe -q br_netfilter 2>/dev/null || true

npm ci --no-audit --no-fund
echo "provision.sh: ready (node $(node --version), $(iptables --version))"
