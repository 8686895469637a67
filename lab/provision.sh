#!/usr/bin/env bash
# Installs everything uptables needs on a Debian/Ubuntu machine (or the Vagrant box), as root:
# the system packages the labs and the native build use, Node.js 20+ (from the distribution when it
# has one), the node modules with the TUN addon (`npm ci`), and the kernel modules.
# Idempotent: a second run finds everything in place, changes nothing and takes seconds.
#
#   sudo bash lab/provision.sh [--login-user USER]
#
# --login-user USER: also make USER's interactive shells start in this repository (the Vagrant box
# uses it so that `vagrant ssh` lands here).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
say() { echo "provision.sh: $*"; }
die() { echo "provision.sh: $*" >&2; exit 1; }

login_user=""
while [ $# -gt 0 ]; do
  case "$1" in
    --login-user) [ $# -ge 2 ] || die "--login-user needs a user name"; login_user=$2; shift 2 ;;
    *) die "unknown argument '$1' (usage: sudo bash lab/provision.sh [--login-user USER])" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash lab/provision.sh)"
command -v apt-get >/dev/null || die "this script knows Debian and Ubuntu (apt-get); elsewhere install by hand what it lists"
export DEBIAN_FRONTEND=noninteractive

# --- system packages ------------------------------------------------------------------------------
# iproute2/iptables/conntrack/tcpdump/iperf3/curl: the labs, the kernel comparisons and the benchmark;
# kmod: modprobe; make/g++/python3: node-gyp's build of the TUN addon.
packages=(iproute2 iptables conntrack tcpdump iperf3 curl ca-certificates kmod make g++ python3)
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  say "installing $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
missing=()
for p in "${packages[@]}"; do is_installed "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# --- Node.js 20+ ------------------------------------------------------------------------------------
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
# The major version of the nodejs package this distribution offers (0 when none).
offered_major() {
  local v
  v=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}' | sed 's/^[0-9]*://; s/[^0-9].*//')
  echo "${v:-0}"
}
if [ "$(node_major)" -lt 20 ]; then
  [ "$apt_updated" -eq 1 ] || { apt-get update -qq; apt_updated=1; }
  offered=$(offered_major)
  if ! command -v node >/dev/null && [ "$offered" -ge 20 ]; then apt_install nodejs npm; fi
  if [ "$(node_major)" -lt 20 ]; then
    die "uptables needs Node.js 20 or newer; found $(node --version 2>/dev/null || echo none), and this distribution's nodejs is version $offered.
  Debian 13 and Ubuntu 25.04 or newer have Node 20+ in their own packages; on Debian 12 or Ubuntu 24.04
  install Node 20+ from NodeSource (https://github.com/nodesource/distributions) or nodejs.org, then run this again."
  fi
fi
command -v npm >/dev/null || apt_install npm
# The addon is built against the running node's own headers (native-bindings/build.mjs). Official
# and NodeSource builds ship them; Debian's nodejs puts them in libnode-dev.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ ! -f "$node_prefix/include/node/node_api.h" ] && [ "$node_prefix" = /usr ] && ! is_installed libnode-dev; then
  apt_install libnode-dev
fi

# --- node modules and the TUN addon ---------------------------------------------------------------
# `npm ci` (which also builds the addon) runs only when the lock file, the native sources or node
# changed since the last successful run; it runs as the owner of the checkout, so a user's clone does
# not fill up with root's files.
stamp_file=node_modules/.uptables-provisioned
stamp=$( { node --version; cat package-lock.json native-bindings/binding.gyp native-bindings/build.mjs native-bindings/*.c native-bindings/src/*; } | sha256sum | cut -d' ' -f1)
addon=native-bindings/build/Release/uptables_tun.node
addon_loads() { node -e "require('./$addon')" 2>/dev/null; }
owner=$(stat -c %U "$repo")
owner_home=$(getent passwd "$owner" | cut -d: -f6)
as_owner() { if [ "$owner" = root ]; then "$@"; else runuser -u "$owner" -- env HOME="$owner_home" "$@"; fi; }
if [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ] && addon_loads; then
  say "node modules and the TUN addon are up to date"
else
  as_owner npm ci --no-audit --no-fund
  addon_loads || die "the TUN addon ($addon) does not load after npm ci: $(node -e "require('./$addon')" 2>&1 | grep -m1 Error)"
  echo "$stamp" | as_owner tee "$stamp_file" >/dev/null
fi

# --- kernel modules ---------------------------------------------------------------------------------
# tun: the daemon's devices; nf_conntrack: `conntrack -L` and the kernel side of the comparisons;
# br_netfilter: bridged traffic through iptables, as on a Docker host. Inside a container there may be
# no modules to load (they are then built in or provided by the host); that is not an error here.
loaded() { if [ "$1" = tun ]; then [ -e /dev/net/tun ]; else [ -d "/sys/module/$1" ]; fi; }
for module in tun nf_conntrack br_netfilter; do
  loaded "$module" || modprobe -q "$module" 2>/dev/null ||
    say "note: kernel module $module could not be loaded (fine inside a container whose host provides it)"
done

# --- the login directory ----------------------------------------------------------------------------
if [ -n "$login_user" ]; then
  home=$(getent passwd "$login_user" | cut -d: -f6) || die "--login-user: no user '$login_user'"
  line="cd $repo  # added by uptables' lab/provision.sh"
  if ! grep -qxF "$line" "$home/.bashrc" 2>/dev/null; then
    echo "$line" >>"$home/.bashrc"
    chown "$login_user:" "$home/.bashrc"
    say "$login_user's shells start in $repo"
  fi
fi

say "ready: node $(node --version), $(iptables --version), TUN addon loads"
