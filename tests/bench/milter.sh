#!/usr/bin/env bash
# tests/bench/milter.sh - DKIM signing and verifying through the milter
# protocol: mailctld (ours) against Debian's OpenDKIM, side by side in one
# run, on the same 2 KB and 50 KB messages, with the same RSA-2048 key and
# the same DNS. Not a pass/fail test (nor run by ctest or CI): it prints a
# table, the ratios mailctld/OpenDKIM, and both against the RSA-2048 rate
# of one core (openssl speed), the physical limit of signing.
#
#   MAILCTL=build/ci/mailctl/mailctl MAILCTLD=build/ci/daemon/mailctld MAILCTL_SRC=. \
#       bash tests/bench/milter.sh [--quick] [-c CONNECTIONS] [-d SECONDS] [-n MESSAGES]
#
# As root. Everything runs inside a private network namespace (unshare -n)
# with only its own loopback: nsd serves example.org and example.com
# (the DKIM key, SPF, DMARC) on 127.0.0.1:5353, unbound resolves them on
# 127.0.0.2:53 for both filters. tests/bench/milter_load.c plays Postfix
# (see its header); each cell is -c connections for -d seconds or -n
# messages, whichever comes first (defaults 4, 10 s, 2000; --quick: 2 s).
# A message counts only when the filter added a DKIM-Signature (signing,
# authenticated submission) or an Authentication-Results with dkim=pass
# (verifying, inbound mail from example.com, signed once with dkimpy).
# CPU is the filter process's user+system time during the cell.
: "${MAILCTL:=$(pwd)/build/ci/mailctl/mailctl}"
: "${MAILCTLD:=$(pwd)/build/ci/daemon/mailctld}"
: "${MAILCTL_SRC:=$(pwd)}"
export MAILCTL MAILCTLD MAILCTL_SRC

ARGS=("$@")
CONNS=4 SECS=10 MESSAGES=2000 SPEED_SECS=3
while [ $# -gt 0 ]; do
	case $1 in
	--quick) SECS=2 SPEED_SECS=1 ;;
	-c) CONNS=$2 && shift ;;
	-d) SECS=$2 && shift ;;
	-n) MESSAGES=$2 && shift ;;
	*) echo "usage: milter.sh [--quick] [-c CONNECTIONS] [-d SECONDS] [-n MESSAGES]" >&2 && exit 64 ;;
	esac
	shift
done

# Outside the namespace: check, install what is missing, enter it.
if [ -z "${MILTER_BENCH_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "milter.sh: run as root (unshare -n, nsd, opendkim)" >&2 && exit 1; }
	[ -x "$MAILCTL" ] || { echo "milter.sh: no mailctl at '$MAILCTL': build it first" >&2 && exit 1; }
	. "$MAILCTL_SRC/provision/deps.sh"
	deps_install opendkim nsd unbound ldnsutils python3-dkim openssl iproute2 util-linux \
		libmilter-dev build-essential >&2 || exit 1
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

# stop PID: end one daemon we started and wait for it.
stop() {
	local p keep=()
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
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
declare -A ROW # "FILTER MODE SIZE" -> "msgs/s cpu-s msgs/cpu-s p50 p99 errors"

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

# cell FILTER MODE SIZE SOCKET PID: a warm-up of 20 messages that must all
# count (it shows the header the filter adds), then the measured run; its
# figures into ROW.
cell() {
	local f=$1 mode=$2 size=$3 sock=$4 pid=$5 args hdr
	read -ra args <<<"$(load_args "$mode" "$size")"
	if ! "$LOAD" -c 1 -n 20 --show "${args[@]}" "unix:$sock" >"$T/warm.out" 2>"$T/warm.err"; then
		echo "$f $mode $size: the warm-up failed: $(cat "$T/warm.out" "$T/warm.err" | tr '\n' ' ' | head -c 400)"
		echo "  the filter's log ends: $(tail -n 3 "$FILTER_LOG" | tr '\n' ' ' | head -c 400)"
		ROW["$f $mode $size"]="- - - - - failed"
		return
	fi
	hdr=Authentication-Results
	[ "$mode" = sign ] && hdr=DKIM-Signature
	[ "$size" = 2k ] && grep -m1 -i "header: $hdr:" "$T/warm.err" |
		sed "s/^milter_load: filter [a-z]* header: /  $f $mode adds: /" | cut -c 1-150
	"$LOAD" -c "$CONNS" -n "$MESSAGES" -d "$SECS" -p "$pid" "${args[@]}" "unix:$sock" \
		>"$T/run.out" 2>"$T/run.err"
	ROW["$f $mode $size"]="$(got msgs_per_s) $(got filter_cpu_s) $(got msgs_per_cpu_s) $(got p50_ms) $(got p99_ms) $(got errors)"
	[ -s "$T/run.err" ] && sed "s/^/  $f $mode $size: /" "$T/run.err" | head -n 4
	echo "$f $mode $size done: $(got messages) messages, $(got errors) errors" >&2
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

# run_opendkim MODE: one opendkim in MODE (sign, verify), both sizes.
run_opendkim() {
	local conf pid
	conf=$(opendkim_conf "$1")
	FILTER_LOG=$T/opendkim-$1.log
	spawn "$FILTER_LOG" opendkim -f -x "$conf"
	pid=$SPAWNED
	if ! wait_for 10 test -S "$T/run/opendkim-$1.sock"; then
		echo "opendkim ($1) did not start: $(head -c 400 "$T/opendkim-$1.log")"
		return
	fi
	cell opendkim "$1" 2k "$T/run/opendkim-$1.sock" "$pid"
	cell opendkim "$1" 50k "$T/run/opendkim-$1.sock" "$pid"
	stop "$pid"
}

# run_mailctld: one mailctld, signing (authenticated) and verifying (inbound).
run_mailctld() {
	local pid m
	# as root (-u), like opendkim here: the instance in $T is root's alone
	FILTER_LOG=$T/mailctld.log
	spawn "$FILTER_LOG" "$MAILCTLD" -c "$MAILCTL_CONFIG" -f -u root
	pid=$SPAWNED
	if ! wait_for 10 test -S "$T/run/milter.sock"; then
		echo "mailctld did not start: $(head -c 400 "$T/mailctld.log")"
		return
	fi
	for m in sign verify; do
		cell mailctld "$m" 2k "$T/run/milter.sock" "$pid"
		cell mailctld "$m" 50k "$T/run/milter.sock" "$pid"
	done
	stop "$pid"
}

echo "milter benchmark: $CONNS connections, ${SECS} s or $MESSAGES messages per cell, RSA-2048 key '$SEL'"
[ -x "$MAILCTLD" ] || echo "mailctld: not built yet (no '$MAILCTLD'): measuring OpenDKIM only"
read -r SIGN_S VERIFY_S < <(openssl speed -seconds "$SPEED_SECS" rsa2048 2>/dev/null |
	awk '$1 == "rsa" && $2 == "2048" {print $6, $7}')
run_opendkim sign
run_opendkim verify
[ -x "$MAILCTLD" ] && run_mailctld

# --- the table --------------------------------------------------------------
# ratio A B: A/B to two places, or '-' when either is not a number.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "-"}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "-"}'; }

echo
printf '%-9s %-6s %-4s %5s %9s %7s %11s %8s %8s %7s\n' \
	filter mode size conns msgs/s "CPU s" msgs/CPU-s "p50 ms" "p99 ms" errors
for f in opendkim mailctld; do
	for m in sign verify; do
		for s in 2k 50k; do
			[ -n "${ROW["$f $m $s"]:-}" ] || continue
			read -r rate cpu per p50 p99 errs <<<"${ROW["$f $m $s"]}"
			printf '%-9s %-6s %-4s %5s %9s %7s %11s %8s %8s %7s\n' \
				"$f" "$m" "$s" "$CONNS" "$rate" "$cpu" "$per" "$p50" "$p99" "$errs"
		done
	done
done

echo
echo "RSA-2048 on one core (openssl speed): ${SIGN_S:--} sign/s, ${VERIFY_S:--} verify/s"
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

if [ -n "${ROW["mailctld sign 2k"]:-}" ]; then
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
fi
