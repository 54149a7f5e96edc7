#!/usr/bin/env bash
# tests/bench/footprint.sh - how long from 'mailctl setup' to the first
# delivered message, and how much memory the running stack holds when idle.
# Not a pass/fail test: it prints figures (targets: under 60 s, under 80 MB).
#
#   MAILCTL=build/ci/mailctl/mailctl MAILCTL_SRC=. bash tests/bench/footprint.sh
#
# It runs in an isolated lab host (tests/integration/lib/hosts.sh) with the
# packages already installed, so the time is mailctl's own work plus the
# daemons' start, not apt's or the compiler's.
: "${MAILCTL:=$(pwd)/build/ci/mailctl/mailctl}"
: "${MAILCTL_SRC:=$(pwd)}"
: "${MAILCTLD:=$(pwd)/build/ci/daemon/mailctld}"
export MAILCTL MAILCTL_SRC MAILCTLD
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"
HOST_TIMEOUT=120
mxctl() { host_mailctl mx "$@"; }

HOST_FQDN=mail.example.org host_create mx 192.0.2.10 >/dev/null
host_create out 192.0.2.20 >/dev/null
host_install_mailctl mx >/dev/null
# mailctld asks DNS about every inbound message: a resolver in the host
lab_empty_resolver mx "$T/dns" >/dev/null

t0=$(date +%s%N)
mxctl setup >"$T/setup.out" || { cat "$T/setup.out"; exit 1; }
mxctl service start >/dev/null
t1=$(date +%s%N)
host_wait_port out 192.0.2.10 25 20
host_exec out swaks --server 192.0.2.10 --port 25 --helo out.test --timeout 10 \
	--from sender@out.test --to admin@example.org --header "Subject: footprint" >/dev/null
MAILDIR=$(host_path mx /var/mail/vhosts/example.org/admin/Maildir)
for _ in $(seq 200); do
	grep -rqs "Subject: footprint" "$MAILDIR/new" "$MAILDIR/cur" && break
	sleep 0.05
done
t2=$(date +%s%N)
grep -rqs "Subject: footprint" "$MAILDIR/new" "$MAILDIR/cur" || { echo "no delivery"; exit 1; }
sleep 3 # idle
rss=$(host_exec mx ps -e -o rss=,comm= | awk '$2 !~ /^(ps|bash|sleep|init|sh)$/ {kb += $1; n++} END {printf "%.1f MB in %d processes", kb/1024, n}')
printf 'setup + service start:        %d ms\n' $(((t1 - t0) / 1000000))
printf 'setup to first delivery:      %d ms\n' $(((t2 - t0) / 1000000))
# PSS shares each library page among the processes that map it, so the
# sum is what the stack really costs; RSS counts shared pages every time.
pss=$(host_sh mx 'for p in /proc/[0-9]*; do
	c=$(cat $p/comm 2>/dev/null); case "$c" in ps|bash|sleep|sh|cat|awk|grep) continue;; esac
	grep -s "^Pss:" $p/smaps_rollup; done' | awk '{kb += $2} END {printf "%.1f MB", kb/1024}')
printf 'idle memory of the stack:     PSS %s (RSS sum %s)\n' "$pss" "$rss"
host_exec mx ps -e -o rss=,comm= | sort -rn | head -12
mxctl service stop >/dev/null
