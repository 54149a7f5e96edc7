#!/usr/bin/env bash
# tests/bench/milter.sh - DKIM signing and verifying through the milter
# protocol: mailctld (ours) against Debian's OpenDKIM, side by side in one
# run, on the same 2 KB and 50 KB messages, with the same RSA-2048 key and
# the same DNS. Not a pass/fail test (nor run by ctest or CI): it prints a
# table, the ratios mailctld/OpenDKIM, both against the RSA-2048 rate of
# one core (openssl speed), the physical limit of signing, and the targets
# (signing and verifying 2 KB at 4x OpenDKIM's messages per CPU second,
# signing at 70% of the RSA limit) with whether they are met.
#
#   MAILCTL=build/ci/mailctl/mailctl MAILCTLD=build/ci/daemon/mailctld MAILCTL_SRC=. \
#       bash tests/bench/milter.sh [--quick] [-c CONNECTIONS] [-d SECONDS] [-n MESSAGES]
#           [-r ROUNDS] [--filter opendkim|mailctld] [--profile DIR]
#
# As root. Everything runs inside a private network namespace (unshare -n)
# with only its own loopback: nsd serves example.org and example.com
# (the DKIM key, SPF, DMARC) on 127.0.0.1:5353, unbound resolves them on
# 127.0.0.2:53 for both filters. tests/bench/milter_load.c plays Postfix
# (see its header); each cell is -c connections for -d seconds or -n
# messages, whichever comes first (defaults 4, 20 s, 5000; --quick: 2 s,
# one round), measured -r times (default 3) in rounds that alternate the
# filters, so a burst of other work on the machine hits both; the table
# gives each cell's median round and the spread of its msgs/CPU-s.
# A message counts only when the filter added a DKIM-Signature (signing,
# authenticated submission) or an Authentication-Results with dkim=pass
# (verifying, inbound mail from example.com, signed once with dkimpy).
# CPU is the filter process's user+system time during the cell.
# --profile DIR records mailctld's cells of the first round with
# `perf record -g` (cpu-clock) into DIR and writes a flat report of each.
: "${MAILCTL:=$(pwd)/build/ci/mailctl/mailctl}"
: "${MAILCTLD:=$(pwd)/build/ci/daemon/mailctld}"
: "${MAILCTL_SRC:=$(pwd)}"
export MAILCTL MAILCTLD MAILCTL_SRC

ARGS=("$@")
CONNS=4 SECS=20 MESSAGES=5000 SPEED_SECS=3 ROUNDS=3 ONLY= PROFILE=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) SECS=2 SPEED_SECS=1 ROUNDS=1 ;;
	-c) CONNS=$2 && shift ;;
	-d) SECS=$2 && shift ;;
	-n) MESSAGES=$2 && shift ;;
	-r) ROUNDS=$2 && shift ;;
	--filter) ONLY=$2 && shift ;;
	--profile) PROFILE=$2 && shift ;;
	*) echo "usage: milter.sh [--quick] [-c CONNECTIONS] [-d SECONDS] [-n MESSAGES] [-r ROUNDS]" \
		"[--filter opendkim|mailctld] [--profile DIR]" >&2 && exit 64 ;;
	esac
	shift
done
case $ONLY in '' | opendkim | mailctld) ;; *) echo "milter.sh: --filter opendkim or mailctld" >&2 && exit 64 ;; esac
[ "$ROUNDS" -ge 1 ] 2>/dev/null || { echo "milter.sh: -r must be at least 1" >&2 && exit 64; }
[ -z "$PROFILE" ] || PROFILE=$(realpath -m "$PROFILE")

# Outside the namespace: check, install what is missing, enter it.
if [ -z "${MILTER_BENCH_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "milter.sh: run as root (unshare -n, nsd, opendkim)" >&2 && exit 1; }
	[ -x "$MAILCTL" ] || { echo "milter.sh: no mailctl at '$MAILCTL': build it first" >&2 && exit 1; }
	. "$MAILCTL_SRC/provision/deps.sh"
	deps_install opendkim nsd unbound ldnsutils python3-dkim openssl iproute2 util-linux \
		libmilter-dev build-essential >&2 || exit 1
	if [ -n "$PROFILE" ]; then
		deps_install linux-perf >&2 || exit 1
		mkdir -p "$PROFILE" || exit 1
	fi
	MILTER_BENCH_NETNS=1 exec unshare -n -- bash "$0" "${ARGS[@]}"
fi

. "$MAILCTL_SRC/tests/lib.sh" # $T, mc_setup, mc, wait_for
. "$MAILCTL_SRC/tests/integration/lib/dns.sh"
PY=/usr/bin/python3 # Debian's, where python3-dkim is
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
		[ -d "/proc/$p" ] && kill -9 "$p"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip link set lo up || exit 1

# spawn LOG COMMAND...: start a daemon in the background; its pid in $SPAWNED.
spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	SPAWNED=$!
	PIDS+=("$SPAWNED")
}

LOAD=$T/milter_load
cc -O2 -pthread -o "$LOAD" "$MAILCTL_SRC/tests/bench/milter_load.c" || exit 1

# --- the instance and its key, made with mailctl as the CLI tests do -----
mc_setup "milter:" "  socket: $T/run/milter.sock" "dns:" "  resolver: 127.0.0.2:53"
mc domain add example.org >/dev/null || exit 1
mc --json dkim show example.org >"$T/show.json" || exit 1
SEL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["selector"])' "$T/show.json")
KEY=$T/keys/$SEL._domainkey.example.org.pem
[ -r "$KEY" ] || { echo "milter.sh: no key file '$KEY'" >&2 && exit 1; }
ZONE_LINE=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["zone"])' "$T/show.json")

# --- DNS: nsd authoritative, unbound the resolver both filters ask --------
DNS=$T/dns
mkdir -p "$DNS"
for zone in example.org example.com; do
	cat >"$DNS/$zone.zone" <<ZONE
\$ORIGIN $zone.
\$TTL 3600
@	IN	SOA	ns.$zone. hostmaster.$zone. 1 3600 600 86400 300
@	IN	NS	ns.$zone.
ns	IN	A	127.0.0.1
@	IN	TXT	"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all"
_dmarc	IN	TXT	"v=DMARC1; p=none"
${ZONE_LINE//example.org./$zone.}
ZONE
done
{
	nsd_server_conf "$DNS"
	printf 'zone:\n\tname: %s\n\tzonefile: "%s/%s.zone"\n' \
		example.org "$DNS" example.org example.com "$DNS" example.com
} >"$DNS/nsd.conf"
# The lab's resolver (dns.sh's unbound_server_conf) answers on the lab's
# addresses; this one answers on 127.0.0.2, the only network here.
cat >"$DNS/unbound.conf" <<EOC
server:
	interface: 127.0.0.2
	port: 53
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$DNS"
	pidfile: "$DNS/unbound.pid"
	logfile: "$DNS/unbound.log"
	use-syslog: no
	verbosity: 1
	do-not-query-localhost: no
	qname-minimisation: no
	module-config: "iterator"
	local-zone: "." refuse
	local-zone: "example.org." transparent
	local-zone: "example.com." transparent
remote-control:
	control-enable: no
stub-zone:
	name: "example.org."
	stub-addr: 127.0.0.1@5353
stub-zone:
	name: "example.com."
	stub-addr: 127.0.0.1@5353
EOC
nsd-checkconf "$DNS/nsd.conf" || exit 1
unbound-checkconf "$DNS/unbound.conf" >/dev/null || exit 1
spawn "$DNS/nsd.out" nsd -d -c "$DNS/nsd.conf"
spawn "$DNS/unbound.out" unbound -d -c "$DNS/unbound.conf"
dkim_txt() { drill @127.0.0.2 TXT "$SEL._domainkey.example.com" 2>/dev/null | grep -q 'v=DKIM1'; }
wait_for 10 dkim_txt || { echo "milter.sh: DNS does not answer: $(tail -n 5 "$DNS"/*.log "$DNS"/*.out)" >&2 && exit 1; }

# --- messages: outbound ones to sign, inbound ones signed once by dkimpy ---
mkdir -p "$T/msg"
"$PY" - "$T/msg" "$KEY" "$SEL" "$ZONE_LINE" <<'PY' || exit 1
import re, sys, dkim
out, keyfile, sel, zone = sys.argv[1:]
key = open(keyfile, "rb").read()
txt = "".join(re.findall(r'"([^"]*)"', zone)).encode()
WORDS = ("the quarterly figures are in and the team has reviewed them with care; "
         "shipping volume rose while returns fell, so we propose to keep the plan "
         "for the next months and to revisit the budget once the audit is done").split()

def body(size):
    lines, line, n, i = [], [], 0, 0
    while n < size:
        w = WORDS[i % len(WORDS)]
        i += 1
        if len(" ".join(line + [w])) > 72:
            lines.append(" ".join(line))
            n += len(lines[-1]) + 2
            line = []
            if len(lines) % 6 == 0:
                lines.append("")
                n += 2
        line.append(w)
    return "\r\n".join(lines) + "\r\n"

def message(size, sender, name, rcpt, relay):
    head = (f"Received: from {relay[0]} ({relay[0]} [{relay[1]}])\r\n"
            f"\tby {relay[2]} (Postfix) with ESMTPSA id 4XkZ2m0FQzz9vKp\r\n"
            f"\tfor <{rcpt}>; Mon, 23 Nov 2026 10:00:00 +0100 (CET)\r\n"
            f"Message-ID: <c0ffee42-{size}@{sender.split('@')[1]}>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
            "MIME-Version: 1.0\r\n"
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Thunderbird/115.4.1\r\n"
            "Content-Language: en-US\r\n"
            f"To: Bob <{rcpt}>\r\n"
            f"From: {name} <{sender}>\r\n"
            "Subject: Quarterly report: figures, returns and the plan for the next months\r\n"
            "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n")
    return (head + body(size - len(head))).encode()

for label, size in (("2k", 2048), ("50k", 51200)):
    m = message(size, "alice@example.org", "Alice Example", "bob@example.net",
                ("laptop.example.net", "198.51.100.7", "mail.example.org"))
    open(f"{out}/sign-{label}.eml", "wb").write(m)
    m = message(size, "carol@example.com", "Carol Example", "alice@example.org",
                ("desk.example.com", "192.0.2.1", "mx.example.com"))
    sig = dkim.sign(m, sel.encode(), b"example.com", key,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id",
                                     b"mime-version", b"content-type"])
    signed = sig + m
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: txt), "dkimpy cannot verify"
    open(f"{out}/verify-{label}.eml", "wb").write(signed)
PY

# --- the cells ------------------------------------------------------------
declare -A SOCK FPID # "FILTER MODE" -> its socket, its process
declare -A RUNS      # "FILTER MODE SIZE" -> one line per round: "msgs/s cpu-s msgs/cpu-s p50 p99 errors"
declare -A ROW       # "FILTER MODE SIZE" -> the median round of RUNS
declare -A SPREAD    # "FILTER MODE SIZE" -> "min-max" of msgs/cpu-s over the rounds
FILTERS=()
[ "$ONLY" != mailctld ] && FILTERS+=(opendkim)
[ "$ONLY" != opendkim ] && [ -x "$MAILCTLD" ] && FILTERS+=(mailctld)

# load_args MODE SIZE: the driver's options for a mode and message size.
load_args() {
	if [ "$1" = sign ]; then
		echo --auth --client 198.51.100.7 --from alice@example.org --rcpt bob@example.net \
			--unique-id --expect-header DKIM-Signature --expect-text d=example.org \
			-f "$T/msg/sign-$2.eml"
	else
		echo --client 192.0.2.1 --from carol@example.com --rcpt alice@example.org \
			--expect-header Authentication-Results --expect-text dkim=pass \
			-f "$T/msg/verify-$2.eml"
	fi
}

# got KEY: KEY's value in the last measured run's KEY=VALUE line.
got() { grep -o "\b$1=[^ ]*" "$T/run.out" | cut -d= -f2; }

# warm FILTER MODE SIZE: 20 messages that must all count (shows the header
# the filter adds); 1 when they did not.
warm() {
	local f=$1 mode=$2 size=$3 args hdr
	read -ra args <<<"$(load_args "$mode" "$size")"
	if ! "$LOAD" -c 1 -n 20 --show "${args[@]}" "unix:${SOCK["$f $mode"]}" >"$T/warm.out" 2>"$T/warm.err"; then
		echo "$f $mode $size: the warm-up failed: $(cat "$T/warm.out" "$T/warm.err" | tr '\n' ' ' | head -c 400)"
		echo "  the filter's log ends: $(tail -n 3 "$T/$f-$mode.log" | tr '\n' ' ' | head -c 400)"
		return 1
	fi
	hdr=Authentication-Results
	[ "$mode" = sign ] && hdr=DKIM-Signature
	[ "$size" = 2k ] && grep -m1 -i "header: $hdr:" "$T/warm.err" |
		sed "s/^milter_load: filter [a-z]* header: /  $f $mode adds: /" | cut -c 1-150
	return 0
}

# profile_start FILTER MODE SIZE ROUND: perf on mailctld's first round when
# asked; its pid in $PERF_PID (empty when none).
profile_start() {
	PERF_PID=
	[ -n "$PROFILE" ] && [ "$1" = mailctld ] && [ "$4" = 1 ] || return 0
	perf record -q -e cpu-clock -g -p "${FPID["$1 $2"]}" -o "$PROFILE/$1-$2-$3.data" \
		>"$PROFILE/$1-$2-$3.perf.log" 2>&1 &
	PERF_PID=$!
	sleep 0.5 # perf attaches before the load starts
}

profile_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	perf report -i "$PROFILE/$1-$2-$3.data" --no-children --stdio -g none --percent-limit 0.5 \
		>"$PROFILE/$1-$2-$3.txt" 2>/dev/null
}

# measure FILTER MODE SIZE ROUND: one measured run, appended to RUNS.
measure() {
	local f=$1 mode=$2 size=$3 args
	read -ra args <<<"$(load_args "$mode" "$size")"
	profile_start "$@"
	"$LOAD" -c "$CONNS" -n "$MESSAGES" -d "$SECS" -p "${FPID["$f $mode"]}" "${args[@]}" \
		"unix:${SOCK["$f $mode"]}" >"$T/run.out" 2>"$T/run.err"
	profile_stop "$@"
	RUNS["$f $mode $size"]+="$(got msgs_per_s) $(got filter_cpu_s) $(got msgs_per_cpu_s) $(got p50_ms) $(got p99_ms) $(got errors)"$'\n'
	[ -s "$T/run.err" ] && sed "s/^/  $f $mode $size: /" "$T/run.err" | head -n 4
	echo "round $4: $f $mode $size: $(got messages) messages, $(got errors) errors, $(got msgs_per_cpu_s) msgs/CPU-s" >&2
}

# summarize KEY: ROW (the round of median msgs/CPU-s) and SPREAD from RUNS.
summarize() {
	local runs=${RUNS["$1"]:-}
	[ -n "$runs" ] || return 0
	ROW["$1"]=$(printf '%s' "$runs" | sort -g -k3,3 | awk '{r[NR] = $0} END {print r[int((NR + 1) / 2)]}')
	SPREAD["$1"]=$(printf '%s' "$runs" | sort -g -k3,3 | awk 'NR == 1 {lo = $3} {hi = $3} END {print lo "-" hi}')
}

# opendkim_conf MODE: a configuration of its own in $T; never /etc/opendkim*.
opendkim_conf() {
	local conf=$T/opendkim-$1.conf
	{
		echo "Mode ${1:0:1}"
		echo "Socket local:$T/run/opendkim-$1.sock"
		echo "PidFile $T/run/opendkim-$1.pid"
		echo "Syslog no"
		echo "Canonicalization relaxed/relaxed"
		echo "Domain example.org"
		echo "Selector $SEL"
		echo "KeyFile $KEY"
		# mailctl's own key file, under /tmp: world-writable above it
		echo "RequireSafeKeys no"
		echo "Nameservers 127.0.0.2"
		echo "AuthservID mail.example.org"
	} >"$conf"
	echo "$conf"
}

# start_filter FILTER MODE: start it (one opendkim per mode; one mailctld
# for both), wait for its socket; 1 when it did not come up.
start_filter() {
	local f=$1 mode=$2 sock log=$T/$1-$2.log
	if [ "$f" = opendkim ]; then
		sock=$T/run/opendkim-$mode.sock
		spawn "$log" opendkim -f -x "$(opendkim_conf "$mode")"
	elif [ -n "${SOCK["mailctld sign"]:-}" ]; then
		SOCK["$f $mode"]=${SOCK["mailctld sign"]} FPID["$f $mode"]=${FPID["mailctld sign"]}
		ln -sf "$T/mailctld-sign.log" "$log"
		return 0
	else
		# as root (-u), like opendkim here: the instance in $T is root's alone
		sock=$T/run/milter.sock
		# $MILTER_BENCH_WRAP: a command to run it under (valgrind --tool=callgrind ...)
		spawn "$log" ${MILTER_BENCH_WRAP:-} "$MAILCTLD" -c "$MAILCTL_CONFIG" -f -u root
	fi
	if ! wait_for 10 test -S "$sock"; then
		echo "$f ($mode) did not start: $(head -c 400 "$log")"
		return 1
	fi
	SOCK["$f $mode"]=$sock FPID["$f $mode"]=$SPAWNED
}

# rsa_speed: "SIGN/S VERIFY/S" of one core, from openssl speed.
rsa_speed() {
	openssl speed -seconds "$SPEED_SECS" rsa2048 2>/dev/null |
		awk '$1 == "rsa" && $2 == "2048" {print $6, $7}'
}

echo "milter benchmark: $CONNS connections, ${SECS} s or $MESSAGES messages per cell, $ROUNDS round(s), RSA-2048 key '$SEL'"
[ -x "$MAILCTLD" ] || echo "mailctld: not built yet (no '$MAILCTLD'): measuring OpenDKIM only"
read -r SIGN_S VERIFY_S < <(rsa_speed)
declare -A READY
for f in "${FILTERS[@]}"; do
	for m in sign verify; do
		start_filter "$f" "$m" || continue
		warm "$f" "$m" 2k && warm "$f" "$m" 50k && READY["$f $m"]=1
	done
done
for r in $(seq "$ROUNDS"); do
	for m in sign verify; do
		for s in 2k 50k; do
			for f in "${FILTERS[@]}"; do
				[ -n "${READY["$f $m"]:-}" ] && measure "$f" "$m" "$s" "$r"
			done
		done
	done
done
# The limit is the best the core did: other work on the machine only lowers it.
read -r sign2 verify2 < <(rsa_speed)
SIGN_S=$(awk -v a="${SIGN_S:-0}" -v b="${sign2:-0}" 'BEGIN {print (a > b ? a : b)}')
VERIFY_S=$(awk -v a="${VERIFY_S:-0}" -v b="${verify2:-0}" 'BEGIN {print (a > b ? a : b)}')
for f in opendkim mailctld; do
	for m in sign verify; do
		for s in 2k 50k; do summarize "$f $m $s"; done
	done
done

# --- the table --------------------------------------------------------------
# ratio A B: A/B to two places, or '-' when either is not a number.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "-"}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "-"}'; }
# meets VALUE TARGET: "met" or "NOT met" (VALUE like 4.10x or 71%).
meets() { awk -v a="${1%[x%]}" -v b="$2" 'BEGIN {if (a + 0 >= b) print "met"; else print "NOT met"}'; }

echo
echo "median of $ROUNDS round(s); load average before the table: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-6s %-4s %5s %9s %7s %11s %15s %8s %8s %7s\n' \
	filter mode size conns msgs/s "CPU s" msgs/CPU-s "(spread)" "p50 ms" "p99 ms" errors
for f in opendkim mailctld; do
	for m in sign verify; do
		for s in 2k 50k; do
			[ -n "${ROW["$f $m $s"]:-}" ] || continue
			read -r rate cpu per p50 p99 errs <<<"${ROW["$f $m $s"]}"
			printf '%-9s %-6s %-4s %5s %9s %7s %11s %15s %8s %8s %7s\n' "$f" "$m" "$s" \
				"$CONNS" "$rate" "$cpu" "$per" "(${SPREAD["$f $m $s"]})" "$p50" "$p99" "$errs"
		done
	done
done

echo
echo "RSA-2048 on one core (openssl speed, best of two): ${SIGN_S:--} sign/s, ${VERIFY_S:--} verify/s"
printf '%-9s %-6s %-4s %11s %13s\n' filter mode size msgs/CPU-s "of RSA limit"
for f in opendkim mailctld; do
	for m in sign verify; do
		limit=$SIGN_S
		[ "$m" = verify ] && limit=$VERIFY_S
		for s in 2k 50k; do
			[ -n "${ROW["$f $m $s"]:-}" ] || continue
			read -r _ _ per _ <<<"${ROW["$f $m $s"]}"
			printf '%-9s %-6s %-4s %11s %13s\n' "$f" "$m" "$s" "$per" "$(pct "$per" "$limit")"
		done
	done
done

# per FILTER MODE SIZE: the median msgs/CPU-s, '-' when not measured.
per() { read -r _ _ p _ <<<"${ROW["$1 $2 $3"]:-- - -}" && echo "$p"; }

if [ -n "${ROW["mailctld sign 2k"]:-}" ] && [ -n "${ROW["opendkim sign 2k"]:-}" ]; then
	echo
	printf '%-22s %8s %11s %8s\n' "mailctld / opendkim" msgs/s msgs/CPU-s "p99 ms"
	for m in sign verify; do
		for s in 2k 50k; do
			read -r ra _ pa _ qa _ <<<"${ROW["mailctld $m $s"]:-- - - - - -}"
			read -r rb _ pb _ qb _ <<<"${ROW["opendkim $m $s"]:-- - - - - -}"
			printf '%-22s %8s %11s %8s\n' "$m $s" "$(ratio "$ra" "$rb")" "$(ratio "$pa" "$pb")" \
				"$(ratio "$qa" "$qb")"
		done
	done
	echo
	echo "targets (messages per CPU second of the filter):"
	for s in 2k 50k; do
		x=$(ratio "$(per mailctld sign $s)" "$(per opendkim sign $s)")
		printf '  sign %-3s   mailctld / opendkim  %7s  (target >= 4x)   %s\n' $s "$x" "$(meets "$x" 4)"
		x=$(pct "$(per mailctld sign $s)" "$SIGN_S")
		printf '  sign %-3s   mailctld / RSA limit %7s  (target >= 70%%)  %s\n' $s "$x" "$(meets "$x" 70)"
		x=$(ratio "$(per mailctld verify $s)" "$(per opendkim verify $s)")
		printf '  verify %-3s mailctld / opendkim  %7s  (target >= 4x)   %s\n' $s "$x" "$(meets "$x" 4)"
	done
fi
if [ -n "$PROFILE" ]; then
	echo
	echo "profiles of mailctld (first round): $PROFILE/mailctld-MODE-SIZE.{data,txt}"
fi
