#!/usr/bin/env bash
# tests/bench/blacklist_delay.sh - 'mailctl blacklist check' against a
# resolver that delays every answer by 100 ms: all queries in flight at
# once should cost about one delay, not the sum. For comparison, the same
# queries asked one at a time (drill, one after another) through the same
# resolver. Not a pass/fail test: it prints the figures.
#
#   MAILCTL=build/ci/mailctl/mailctl MAILCTL_SRC=. bash tests/bench/blacklist_delay.sh
#
# Everything runs in a private network namespace on loopback: nsd serves
# fake list zones (every list healthy, 192.0.2.10 listed on two), and a
# small forwarder in front of it holds each answer for 100 ms (the kernel
# here has no netem, so the delay is made in user space, per packet, with
# packets handled in parallel as a slow link would).
: "${MAILCTL:=$(pwd)/build/ci/mailctl/mailctl}"
: "${MAILCTL_SRC:=$(pwd)}"
export MAILCTL MAILCTL_SRC
if [ -z "${BENCH_IN_NS:-}" ]; then
	exec unshare -n env BENCH_IN_NS=1 bash "$0" "$@"
fi
ip link set lo up
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"
DELAY_MS=${DELAY_MS:-100}
D=$T/dns
mkdir -p "$D"

mc_setup "network:" "  ipv4: 192.0.2.10, 192.0.2.11" \
	"blacklist:" "  zones_file: $MAILCTL_SRC/data/dnsbl.yaml"
for d in example.org example.net example.com; do mc domain add "$d" >/dev/null; done

# Every list of the table, healthy (RFC 5782 test points), 192.0.2.10
# listed on two of them.
V6TEST=$(python3 -c 'import ipaddress; print(".".join(reversed(ipaddress.ip_address("::ffff:7f00:2").exploded.replace(":", ""))))')
zones=$(python3 -c 'import yaml,sys; print(" ".join(z["zone"] for z in yaml.safe_load(open(sys.argv[1]))["zones"]))' \
	"$MAILCTL_SRC/data/dnsbl.yaml" 2>/dev/null || grep -oE '^ *- zone: *[^ ]+' "$MAILCTL_SRC/data/dnsbl.yaml" | awk '{print $3}')
nsd_server_conf "$D" >"$D/nsd.conf"
for z in $zones; do
	{
		printf '$ORIGIN %s.\n$TTL 0\n@ IN SOA ns.lab. hostmaster.lab. 1 3600 900 604800 0\n@ IN NS ns.lab.\n' "$z"
		printf '2.0.0.127 A 127.0.0.2\n%s A 127.0.0.2\ntest A 127.0.1.2\ndbltest.com A 127.0.1.2\n' "$V6TEST"
		printf 'test.surbl.org A 127.0.0.2\n'
		case $z in zen.spamhaus.org | bl.spamcop.net) printf '10.2.0.192 A 127.0.0.2\n' ;; esac
	} >"$D/$z.zone"
	printf 'zone:\n\tname: %s\n\tzonefile: "%s/%s.zone"\n' "$z" "$D" "$z" >>"$D/nsd.conf"
done
nsd -d -c "$D/nsd.conf" >/dev/null 2>&1 &
NSD=$!
# The delaying forwarder: 127.0.0.1:53 -> nsd on 127.0.0.1:5353, each
# answer held DELAY_MS, every query on its own thread.
python3 - "$DELAY_MS" >/dev/null 2>&1 <<'PY' &
import socket, sys, threading, time
delay = int(sys.argv[1]) / 1000
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 53))
def relay(pkt, client):
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.settimeout(2)
    back.sendto(pkt, ("127.0.0.1", 5353))
    try:
        answer, _ = back.recvfrom(65535)
    except socket.timeout:
        return
    time.sleep(delay)
    front.sendto(answer, client)
while True:
    pkt, client = front.recvfrom(65535)
    threading.Thread(target=relay, args=(pkt, client), daemon=True).start()
PY
FWD=$!
trap 'kill $NSD $FWD 2>/dev/null' EXIT
answers() { drill -p 5353 @127.0.0.1 A 2.0.0.127.zen.spamhaus.org 2>/dev/null | grep -q 127.0.0.2; }
wait_for 10 answers || { echo "nsd does not answer"; exit 1; }
sleep 0.5

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
t0=$(date +%s%N)
one=$(drill @127.0.0.1 A 2.0.0.127.zen.spamhaus.org 2>/dev/null | grep -c 127.0.0.2)
single=$(ms "$t0")
t0=$(date +%s%N)
"$MAILCTL" --json blacklist check 192.0.2.10 192.0.2.11 example.org example.net example.com \
	--resolver 127.0.0.1 >"$T/check.json" 2>/dev/null
rc=$?
parallel=$(ms "$t0")
read -r queries listed < <(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
print(len(rows), sum(r["result"] == "listed" for r in rows))' "$T/check.json")
# The same questions, one at a time (what a checker without parallel
# queries does), with the list health checks it would also need.
names=$(python3 -c '
import json, sys, ipaddress
out = []
for r in json.load(open(sys.argv[1])):
    s = r["subject"]
    try:
        ip = ipaddress.ip_address(s)
        q = ".".join(reversed(ip.exploded.split("."))) if ip.version == 4 else ".".join(reversed(ip.exploded.replace(":", "")))
    except ValueError:
        q = s
    out.append(q + "." + r["list"])
print(" ".join(out))' "$T/check.json")
t0=$(date +%s%N)
for n in $names; do drill @127.0.0.1 A "$n" >/dev/null 2>&1; done
sequential=$(ms "$t0")

printf 'resolver delay:                      %d ms per answer\n' "$DELAY_MS"
printf 'one query:                           %d ms (%s answer)\n' "$single" "$one"
printf 'blacklist check, 2 IPs + 3 domains:  %d ms, %d results, %d listed, exit %d\n' \
	"$parallel" "$queries" "$listed" "$rc"
printf 'the same queries one at a time:      %d ms (%d queries, health checks not counted)\n' \
	"$sequential" "$(wc -w <<<"$names")"
printf 'ratio check / one query:             %s (target: under 2)\n' \
	"$(awk -v a="$parallel" -v b="$single" 'BEGIN { printf "%.2f", a / b }')"
