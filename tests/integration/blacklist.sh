#!/bin/bash
# tests/integration/blacklist.sh - 'mailctl blacklist check' and 'blacklist
# zones --health' against real DNS servers in the isolated lab. Host 'ns'
# (192.0.2.53) runs nsd with fake zones named like the real lists (they
# exist only inside this lab's nsd) behind unbound, which forwards them to
# nsd, one list (dronebl) to 192.0.2.99 where nothing answers, and refuses
# everything else. Host 'mx' (192.0.2.10, 2001:db8::10) runs mailctl with
# --resolver 192.0.2.53. Checked: clean, listed with the decoded reason, the
# TXT record and the delisting URL (IPv4, IPv6 nibbles, a domain), a
# refusal code reported as refused and never as listed, an unknown code, an
# answer outside 127/8, timeouts, dead lists (one listing nothing, one
# listing everything) skipped, exit codes 0/1/2, --json fields, the public
# resolver warning, and that all queries are in flight at once.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in nsd unbound ldnsutils python3 iproute2 util-linux; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg (provision/deps.sh TEST_DEPS)" >&2
		exit 1
	fi
done

HOST_TIMEOUT=30
NS=$T/ns
mkdir -p "$NS"
RESOLVER=192.0.2.53

mc_setup "network:" "  ipv4: 192.0.2.10" "  ipv6: 2001:db8::10" \
	"blacklist:" "  zones_file: $MAILCTL_SRC/data/dnsbl.yaml"
for d in example.org example.net example.com; do mc domain add "$d" >/dev/null; done

host_create ns 192.0.2.53 2001:db8::53 || { fail "cannot create host ns"; done_tests; exit 1; }
host_create mx 192.0.2.10 2001:db8::10 || { fail "cannot create host mx"; done_tests; exit 1; }

nibbles() { python3 -c 'import ipaddress, sys; print(".".join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(":", ""))))' "$1"; }
V6=$(nibbles 2001:db8::10)
V6TEST=$(nibbles ::ffff:7f00:2)

# zone NAME BODY: write NAME's zone file with a SOA, an NS and BODY
zone() {
	printf '$ORIGIN %s.\n$TTL 60\n@ IN SOA ns.lab. hostmaster.lab. 1 3600 900 604800 60\n@ IN NS ns.lab.\n%s\n' "$1" "$2" >"$NS/$1.zone"
	ZONES+=("$1")
}
ZONES=()
# RFC 5782 test points of a working IPv4 list
HEALTHY='2.0.0.127 A 127.0.0.2
2.0.0.127 TXT "test point"'
zone zen.spamhaus.org "$HEALTHY
$V6TEST A 127.0.0.2
10.2.0.192 A 127.0.0.2
10.2.0.192 TXT \"Listed in the SBL, see https://check.spamhaus.org/sbl/query/SBL1\"
$V6 A 127.0.0.4
40.2.0.192 A 127.255.255.254
41.2.0.192 A 127.0.0.200
42.2.0.192 A 10.0.0.1"
zone dbl.spamhaus.org 'dbltest.com A 127.0.1.2
example.org A 127.0.1.2
example.org TXT "https://www.spamhaus.org/query/domain/example.org"'
zone bl.spamcop.net "$HEALTHY"
zone b.barracudacentral.org "$HEALTHY"
zone bl.mailspike.net "$HEALTHY"
zone all.spamrats.com "$HEALTHY
10.2.0.192 A 127.0.0.37"
zone psbl.surriel.com '* A 127.0.0.2'          # lists everything: dead
zone dnsbl-1.uceprotect.net ''                  # lists nothing: dead
zone multi.surbl.org '* A 127.0.0.1'            # "query blocked" for everything
TIMEOUT_ZONE=dnsbl.dronebl.org                  # delegated to 192.0.2.99: silent

lab_dns_conf "$NS" "${ZONES[@]}" "$TIMEOUT_ZONE@192.0.2.99"
lab_dns_start ns "$NS" || { fail "the lab DNS did not start"; done_tests; exit 1; }

# bl NAME WANT-EXIT ARGS...: 'mailctl --json [$BL_CONFIG] blacklist ARGS' in mx; JSON in $T/NAME.json
BL_CONFIG=()
bl() {
	local name=$1 want=$2 got=0
	shift 2
	host_exec mx "$MAILCTL" --json "${BL_CONFIG[@]}" blacklist "$@" >"$T/$name.json" 2>"$T/$name.err" || got=$?
	if [ "$got" = "$want" ]; then pass; else
		fail "$name: exit $got, want $want; stderr: $(head -c 300 "$T/$name.err")"
	fi
}

# row NAME SUBJECT LIST FIELD=VALUE...: that row has those fields (VALUE
# is a substring for detail, txt and fix, exact otherwise)
row() {
	python3 - "$T/$1.json" "${@:2}" <<'PY' && pass || fail "$1: row $2 $3 lacks ${*:4}"
import json, sys
f, subject, zone, *want = sys.argv[1:]
rows = [r for r in json.load(open(f)) if r["subject"] == subject and r["list"] == zone]
if len(rows) != 1:
    print(f"{len(rows)} rows for {subject} on {zone}", file=sys.stderr); sys.exit(1)
r = rows[0]
for w in want:
    k, v = w.split("=", 1)
    ok = v in r[k] if k in ("detail", "txt", "fix") else str(r[k]) == v
    if not ok:
        print(f"{k}: {r[k]!r}", file=sys.stderr); sys.exit(1)
PY
}

# ---- health ----

bl health 2 zones --health --resolver "$RESOLVER"
health() { # ZONE STATE
	python3 - "$T/health.json" "$1" "$2" <<'PY' && pass || fail "health of $1: want $2"
import json, sys
rows = {r["zone"]: r for r in json.load(open(sys.argv[1]))}
r = rows[sys.argv[2]]
if r["health"] != sys.argv[3]:
    print(r, file=sys.stderr); sys.exit(1)
PY
}
for z in zen.spamhaus.org dbl.spamhaus.org bl.spamcop.net b.barracudacentral.org bl.mailspike.net all.spamrats.com; do
	health "$z" ok
done
health psbl.surriel.com dead
health dnsbl-1.uceprotect.net dead
health multi.surbl.org refused
health dnsbl.dronebl.org timeout

# ---- the server's own addresses and domains: 2 IPs, 3 domains, all lists ----

t0=$(date +%s%N)
bl all 1 check --resolver "$RESOLVER"
ALL_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
row all 192.0.2.10 zen.spamhaus.org result=listed weight=major \
	"detail=SBL: Spamhaus-verified spam source (127.0.0.2)" \
	"txt=Listed in the SBL, see https://check.spamhaus.org/sbl/query/SBL1" \
	delist=https://check.spamhaus.org/
row all 2001:db8::10 zen.spamhaus.org result=listed "detail=XBL: compromised host"
row all 192.0.2.10 all.spamrats.com result=listed weight=minor "detail=RATS-NoPtr"
row all 192.0.2.10 bl.spamcop.net result=clean delist=
row all 192.0.2.10 psbl.surriel.com result=skipped "detail=failed its health check"
row all 192.0.2.10 dnsbl-1.uceprotect.net result=skipped "detail=test entry '127.0.0.2' is not listed"
row all 192.0.2.10 dnsbl.dronebl.org result=timeout
row all 2001:db8::10 dnsbl.dronebl.org result=timeout
row all example.org dbl.spamhaus.org result=listed "detail=spam domain (127.0.1.2)" \
	"txt=https://www.spamhaus.org/query/domain/example.org"
row all example.net dbl.spamhaus.org result=clean
row all example.com multi.surbl.org result=refused "detail=query blocked" "fix=fix: ask a local recursive resolver"
# IPv6 only on lists that cover it; domains only on domain lists
python3 - "$T/all.json" <<'PY' && pass || fail "rows per subject are wrong"
import json, sys
rows = json.load(open(sys.argv[1]))
def lists(s): return sorted(r["list"] for r in rows if r["subject"] == s)
assert lists("2001:db8::10") == ["dnsbl.dronebl.org", "zen.spamhaus.org"], lists("2001:db8::10")
assert lists("example.com") == ["dbl.spamhaus.org", "multi.surbl.org"], lists("example.com")
assert len(lists("192.0.2.10")) == 8, lists("192.0.2.10")
assert not any(r["result"] == "listed" and r["list"] == "multi.surbl.org" for r in rows)
assert set(rows[0]) == {"subject", "list", "weight", "result", "detail", "txt", "fix", "delist"}, rows[0].keys()
PY

# all queries in flight at once: the silent list costs one timeout (2 s), not one per query
if [ "$ALL_MS" -lt 4000 ]; then pass; else fail "the check took $ALL_MS ms, want < 4000 (2x the 2 s timeout)"; fi
host_exec mx "$MAILCTL" blacklist check --resolver "$RESOLVER" >"$T/all.out" 2>&1
echo "timing: 2 IPs + 3 domains against all lists (dronebl silent): $ALL_MS ms wall;" \
	"$(tail -1 "$T/all.out")" >&2

# ---- refusal, unknown and bogus codes ----

bl codes 1 check 192.0.2.40 192.0.2.41 192.0.2.42 --resolver "$RESOLVER"
row codes 192.0.2.40 zen.spamhaus.org result=refused "detail=use your own recursive resolver"
row codes 192.0.2.41 zen.spamhaus.org result=listed "detail=listed (unknown code 127.0.0.200)"
row codes 192.0.2.42 zen.spamhaus.org result=error "detail=not in 127.0.0.0/8"

# ---- exit codes with a table of the working lists only (the override key) ----

python3 - "$MAILCTL_SRC/data/dnsbl.yaml" "$T/small.yaml" <<'PY'
import sys
head, *lists = open(sys.argv[1]).read().split("\n  - zone: ")
keep = [l for l in lists if l.split("\n")[0] in ("zen.spamhaus.org", "dbl.spamhaus.org", "bl.spamcop.net", "all.spamrats.com")]
open(sys.argv[2], "w").write("\n  - zone: ".join([head] + keep))
PY
sed "s|zones_file: .*|zones_file: $T/small.yaml|" "$MAILCTL_CONFIG" >"$T/small-config.yaml"
small() { # NAME WANT-EXIT ARGS...
	local name=$1 want=$2
	shift 2
	BL_CONFIG=(--config "$T/small-config.yaml")
	bl "$name" "$want" "$@"
	BL_CONFIG=()
}
small clean 0 check 192.0.2.20 example.net --resolver "$RESOLVER"
row clean 192.0.2.20 zen.spamhaus.org result=clean
small minor 0 check 2001:db8::20 --resolver "$RESOLVER"
small major 1 check 192.0.2.10 --resolver "$RESOLVER"
small refused 2 check 192.0.2.40 --resolver "$RESOLVER"
host_exec mx "$MAILCTL" --config "$T/small-config.yaml" blacklist check 192.0.2.10 \
	--resolver "$RESOLVER" >"$T/table.out" 2>&1
contains "$T/table.out" "SUBJECT" "table header"
contains "$T/table.out" "DELIST" "table header"
contains "$T/table.out" "TXT: Listed in the SBL" "TXT in the table"
contains "$T/table.out" "queries to 192.0.2.53:53 in" "summary line"

# ---- usage, the public resolver warning ----

expect 64 "a bad subject" -- "$MAILCTL" blacklist check 'not a domain!' --resolver "$RESOLVER"
host_exec mx "$MAILCTL" blacklist check 192.0.2.20 --resolver 8.8.8.8 >"$T/pub.out" 2>"$T/pub.err"
contains "$T/pub.err" "resolver 8.8.8.8:53 is Google's public resolver" "public resolver warning"

done_tests
