#!/usr/bin/env bash
# Install the Debian packages xgossip needs to build, test, demo and benchmark.
#
#   tools/install-deps.sh              apt-get update, then install what is missing
#   tools/install-deps.sh --if-missing do nothing at all when everything is there
#
# --if-missing exists so `make test` can call this on every run without
# touching the network (or needing root) on a machine that is already set up.
set -euo pipefail

# One package per line, with the reason it is here: every entry must be used
# by something in the tree.
PKGS=(
	build-essential            # gcc, make, ar
	clang llvm                 # BPF target (bpf/*.bpf.c), llvm-strip
	libbpf-dev libxdp-dev      # XDP loader and skeletons
	bpftool                    # bpftool gen skeleton
	android-libboringssl-dev   # TLS 1.3, AEAD, HKDF, SipHash
	libnl-3-dev libnl-route-3-dev # interface/address netlink
	libcmocka-dev              # unit tests
	libjson-c-dev              # control socket protocol
	pkg-config                 # Makefile finds json-c through it
	iproute2                   # ip netns / link / neigh in tests/ns, demo, bench
	nftables                   # packet loss on the test bridge (no sch_netem needed)
	procps                     # sysctl in the test namespaces
	util-linux                 # mount (bpffs in .ci/run), flock
	coreutils                  # timeout(1) bounds every test
	python3                    # JSON checks and statistics in tests and benchmarks
	gnuplot-nox                # benchmark plots
)
# serf is the reference peer for later benchmark comparisons; it is in
# Debian 12 (bookworm), and is only requested where the archive has it.
OPTIONAL_PKGS=(serf)

if_missing=0
case "${1:-}" in
	"") ;;
	--if-missing) if_missing=1 ;;
	-h|--help)
		sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
		exit 0 ;;
	*)
		echo "usage: $0 [--if-missing]" >&2
		exit 2 ;;
esac

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: this script needs a Debian-based system (dpkg-query, apt-get)" >&2
	exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done
# An optional package counts as missing only when apt knows it, otherwise
# --if-missing would never settle on a distribution without it.
for p in "${OPTIONAL_PKGS[@]}"; do
	installed "$p" && continue
	if apt-cache show "$p" >/dev/null 2>&1; then
		missing+=("$p")
	fi
done

if [ "$if_missing" = 1 ] && [ "${#missing[@]}" = 0 ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	if [ "${#missing[@]}" = 0 ]; then
		echo "install-deps: all packages are installed; refreshing needs root" >&2
	else
		echo "install-deps: missing packages: ${missing[*]}" >&2
	fi
	echo "install-deps: ERROR: must run as root (try: sudo $0${*:+ $*})" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update"
apt-get update -q

# The package lists are fresh now: an optional package apt did not know
# before may be known now.
for p in "${OPTIONAL_PKGS[@]}"; do
	installed "$p" && continue
	case " ${missing[*]} " in *" $p "*) continue ;; esac
	if apt-cache show "$p" >/dev/null 2>&1; then
		missing+=("$p")
	else
		echo "install-deps: note: $p is not in this distribution's archive; skipped"
	fi
done

if [ "${#missing[@]}" = 0 ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"
echo "install-deps: done"
