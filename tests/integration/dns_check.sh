#!/bin/bash
# tests/integration/dns_check.sh - 'mailctl dns check' against real DNS
# servers in the isolated lab: host 'ns' runs nsd (authoritative for
# example.org, loaded from what 'mailctl dns records' prints, and for the
# reverse zones of the lab's addresses) behind unbound (the resolver: stub
# zones to nsd, no root hints, everything else refused); host 'mx' runs
# 'mailctl dns check --resolver 192.0.2.53'. Every scenario breaks the zone
# one way and asserts the exact findings and exit code: all correct; a DKIM
# record missing; SPF different; two SPF records; DMARC p=none; a key file
# that does not match the published key; an SPF record of 11 lookups; a
# broken PTR; a resolver that never answers; a signed zone (AD bit, answers
# truncated over UDP and fetched over TCP) and one whose validation fails;
# and every domain at once, one of them refused by the resolver.
# mx also runs nginx on 443 for mta-sts.example.org (192.0.2.10 and
# 2001:db8::10, where the zone's CNAME points) with a certificate from a
# CA made here, given with --ca-file: the check fetches the MTA-STS
# policy, and scenario 12 serves it wrong in every way the check tells
# apart (an MX not covered, a redirect, nothing on 443, a certificate of
# another CA, another mode, not our text, HTML, 404, too large, invalid),
# each a warning with exit 0.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in nsd unbound ldnsutils knot-dnsutils nginx-light openssl python3 iproute2 util-linux; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg (provision/deps.sh TEST_DEPS)" >&2
		exit 1
	fi
done

HOST_TIMEOUT=20
NS=$T/ns
mkdir -p "$NS"
RESOLVER=192.0.2.53

mc_setup "network:" "  ipv4: 192.0.2.10" "  ipv6: 2001:db8::10"
mc domain add example.org >/dev/null # with its active RSA key
mc dkim keygen example.org --algorithm ed25519 --selector ed1 >/dev/null # active too
mc dkim keygen example.org --selector next >/dev/null # published, for the next rotation
mc dns records example.org >"$T/records"
SEL=$(mc --json dkim list example.org | python3 -c '
import json, sys
print(next(k["selector"] for k in json.load(sys.stdin) if k["algorithm"] == "rsa" and k["state"] == "active"))')
KEYFILE=$T/keys/$SEL._domainkey.example.org.pem
[ -f "$KEYFILE" ] && pass || fail "no key file '$KEYFILE'"

host_create ns 192.0.2.53 2001:db8::53 || { fail "cannot create host ns"; done_tests; exit 1; }
host_create mx 192.0.2.10 2001:db8::10 || { fail "cannot create host mx"; done_tests; exit 1; }

# ---- the MTA-STS policy over HTTPS ----

# Two test CAs; the web certificate of each names mta-sts.example.org.
mkca() { # NAME CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj "/CN=$2" \
		-keyout "$T/$1.key" -out "$T/$1.pem" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}
make_cas() {
	mkca ca1 "Lab CA one" && mkca ca2 "Lab CA two" &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=mta-sts.example.org \
			-keyout "$T/web.key" -out "$T/web.csr" &&
		printf 'subjectAltName=DNS:mta-sts.example.org\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$T/web.ext" || return 1
	for ca in ca1 ca2; do
		openssl x509 -req -in "$T/web.csr" -CA "$T/$ca.pem" -CAkey "$T/$ca.key" -days 7 \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$T/web.ext" -out "$T/web-$ca.pem" || return 1
	done
}
make_cas >"$T/ca.log" 2>&1 && pass || fail "cannot make the test CAs: $(head -c 300 "$T/ca.log")"
CA_FILE=$T/ca1.pem

# The policy 'mailctl apply' makes nginx serve, escaped as in nginx's
# 'return'; the _mta-sts id 'dns records' printed is its hash.
OURS='version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 604800\r\n'
python3 - "$OURS" "$T/records" <<'PY' && pass || fail "the _mta-sts id is not the hash of the policy served"
import hashlib, sys
policy = sys.argv[1].replace("\\r", "\r").replace("\\n", "\n").encode()
sys.exit(0 if "v=STSv1; id=" + hashlib.sha256(policy).hexdigest()[:20] in open(sys.argv[2]).read() else 1)
PY
# A policy over 64 KiB: ours, then extension lines.
{
	printf "$OURS"
	for i in $(seq 1 700); do printf 'x-pad: %0100d\r\n' "$i"; done
} >"$T/big.txt"
host_exec mx mkdir -p /var/log/nginx /var/lib/nginx

# web CA LOCATION-BODY: (re)start nginx in mx, serving
# /.well-known/mta-sts.txt with that body and the web certificate of CA.
web() {
	cat >"$T/nginx.conf" <<EOF
user root;
worker_processes 1;
pid /run/nginx-sts.pid;
error_log $T/nginx-error.log;
events { worker_connections 64; }
http {
	access_log off;
	server {
		listen 443 ssl;
		listen [::]:443 ssl;
		ssl_certificate $T/web-$1.pem;
		ssl_certificate_key $T/web.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location = /.well-known/mta-sts.txt {
			$2
		}
		location / { return 404; }
	}
}
EOF
	web_stop && host_exec mx nginx -c "$T/nginx.conf" && host_wait_port mx 192.0.2.10 443 5 && pass ||
		fail "nginx did not start: $(tail -c 300 "$T/nginx-error.log")"
}
web_stop() {
	host_sh mx '[ -s /run/nginx-sts.pid ] || exit 0; kill -TERM "$(cat /run/nginx-sts.pid)"
		for i in $(seq 50); do [ -e /run/nginx-sts.pid ] || exit 0; sleep 0.1; done; exit 1'
}
web_ours() { web ca1 "default_type text/plain; return 200 \"$OURS\";"; }
web_ours

# ---- zones ----

serial=1
soa() { # ORIGIN
	printf '$ORIGIN %s\n$TTL 300\n' "$1"
	printf '@ IN SOA ns.example.org. hostmaster.example.org. %s 3600 900 604800 300\n' "$serial"
	printf '@ IN NS ns.example.org.\n'
}

# The forward zone exactly as printed, PTR comments aside.
zone_as_printed() {
	soa example.org.
	printf 'ns IN A 192.0.2.53\n'
	grep -v '^;' "$T/records"
}

# The PTR records the output asks the provider for, in their reverse zones.
write_reverse() { # PTR-TARGET-FOR-IPV4
	{
		soa 2.0.192.in-addr.arpa.
		grep '^; at your provider: .*in-addr.arpa' "$T/records" | sed 's/^; at your provider: //' |
			sed "s/PTR\t.*/PTR\t$1/"
	} >"$NS/rev4.zone"
	{
		soa 8.b.d.0.1.0.0.2.ip6.arpa.
		grep '^; at your provider: .*ip6.arpa' "$T/records" | sed 's/^; at your provider: //'
	} >"$NS/rev6.zone"
}

# serve ZONEFILE [ANCHOR]: (re)start nsd with example.org from ZONEFILE and
# the reverse zones, and unbound with a cold cache (and that trust anchor).
# Answers over 512 bytes are truncated over UDP: the client must retry
# over TCP.
serve() {
	local anchor=()
	[ -z "${2:-}" ] || anchor=(-u "trust-anchor-file: \"$2\"")
	lab_dns_stop
	cp "$1" "$NS/example.org.zone"
	lab_dns_conf "$NS" -u 'max-udp-size: 512' -u 'module-config: "validator iterator"' "${anchor[@]}" \
		example.org 2.0.192.in-addr.arpa=rev4.zone 8.b.d.0.1.0.0.2.ip6.arpa=rev6.zone
	lab_dns_start ns "$NS" || { fail "the lab DNS did not start"; return 1; }
}

# ---- checks ----

# check NAME WANT-EXIT [ARGS...]: 'mailctl --json dns check example.org' in
# mx (with --resolver 192.0.2.53 unless ARGS say otherwise); the JSON is
# kept in $T/NAME.json. The policy's HTTPS is verified with the test CA.
check() {
	local name=$1 want=$2 got=0
	shift 2
	[ $# -gt 0 ] || set -- --resolver "$RESOLVER" --ca-file "$CA_FILE"
	host_exec mx "$MAILCTL" --json dns check example.org "$@" >"$T/$name.json" 2>"$T/$name.err" || got=$?
	if [ "$got" = "$want" ]; then pass; else
		fail "$name: exit $got, want $want; stderr: $(head -c 300 "$T/$name.err")"
	fi
}

# rows NAME LEVEL...: "name type check status" of the findings at those levels, sorted
rows() {
	python3 - "$T/$1.json" "${@:2}" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
for r in sorted(rows, key=lambda r: (r["name"], r["type"], r["check"])):
    if r["level"] in sys.argv[2:]:
        print(r["name"], r["type"], r["check"], r["status"])
PY
}

# expect_rows NAME "LEVEL..." EXPECTED-LINES: exactly these findings at those levels
expect_rows() {
	local got
	# shellcheck disable=SC2086
	got=$(rows "$1" $2)
	if [ "$got" = "$3" ]; then pass; else
		fail "$1: findings at level $2:
$got
want:
$3"
	fi
}

# detail NAME ROW-NAME CHECK TEXT: that finding's detail contains TEXT
detail() {
	python3 - "$T/$1.json" "$2" "$3" "$4" <<'PY' && pass || fail "$1: no '$3' finding for $2 saying '$4'"
import json, sys
rows = json.load(open(sys.argv[1]))
sys.exit(0 if any(r["name"] == sys.argv[2] and r["check"] == sys.argv[3] and sys.argv[4] in r["detail"] for r in rows) else 1)
PY
}

SPF_LINE=$(grep -P '^example\.org\.\t.*\tTXT\t"v=spf1' "$T/records")
[ -n "$SPF_LINE" ] && pass || fail "no SPF line in the records"

# 1. Everything exactly as 'dns records' prints it: clean, exit 0.
write_reverse mail.example.org.
zone_as_printed >"$T/good.zone"
serve "$T/good.zone"
check good 0
expect_rows good "warn tempfail fail" ""
detail good example.org. dnssec "not signed"
detail good example.org. spf-lookups "1 DNS lookup (limit 10), 0 void"
detail good $SEL._domainkey.example.org. dkim-key "public half of '$KEYFILE'"
detail good 10.2.0.192.in-addr.arpa. fcrdns "192.0.2.10 -> mail.example.org. -> 192.0.2.10"
detail good mta-sts.example.org. mta-sts-policy "the policy mailctl writes (mode enforce, max_age 604800, mx mail.example.org)"
rows good ok | grep -qx 'mta-sts.example.org. HTTPS mta-sts-policy ok' && pass || fail "good: no ok mta-sts-policy row"
# one record row per printed record, PTRs included
n_printed=$(grep -c $'\tIN\t' "$T/records")
n_rows=$(python3 -c 'import json,sys; print(sum(r["check"] == "record" for r in json.load(open(sys.argv[1]))))' "$T/good.json")
[ "$n_rows" = "$n_printed" ] && pass || fail "good: $n_rows record rows for $n_printed printed records"
# the table: the five columns and a summary line
host_exec mx "$MAILCTL" dns check example.org --resolver "$RESOLVER" --ca-file "$CA_FILE" >"$T/table" 2>&1 && pass || fail "table run failed: $(head -c 300 "$T/table")"
head -1 "$T/table" | grep -qE '^RECORD +TYPE +STATUS +DETAIL +FIX$' && pass || fail "table header: $(head -1 "$T/table")"
contains "$T/table" "0 failed; " "table summary line"

# The same through the other resolver sources: [v6]:port, dns.resolver, resolv.conf.
check v6 0 --resolver "[2001:db8::53]:53" --ca-file "$CA_FILE"
expect_rows v6 "warn tempfail fail" ""
{ cat "$MAILCTL_CONFIG"; printf 'dns:\n  resolver: 192.0.2.53\n'; } >"$T/resolver.yaml"
host_exec mx "$MAILCTL" --config "$T/resolver.yaml" dns check example.org >"$T/out" 2>"$T/err" && pass ||
	fail "dns.resolver: $(head -c 300 "$T/err")"
contains "$T/out" "queries to 192.0.2.53:53" "dns.resolver is used"
host_set_resolver mx 192.0.2.53
host_exec mx "$MAILCTL" dns check example.org >"$T/out" 2>"$T/err" && pass ||
	fail "resolv.conf: $(head -c 300 "$T/err")"
contains "$T/out" "queries to 192.0.2.53:53" "resolv.conf's nameserver is used"
host_set_resolver mx 127.0.0.1

# Time it, the policy fetch included: the figure for the report (target
# < 300 ms); fail only if absurd.
ms=$(host_sh mx 's=$(date +%s%N); for i in 1 2 3 4 5; do "$1" dns check example.org --resolver 192.0.2.53 --ca-file "$2" >/dev/null; done; e=$(date +%s%N); echo $(( (e - s) / 5000000 ))' t "$MAILCTL" "$CA_FILE")
echo "dns check against the local resolver, MTA-STS policy fetched: $ms ms wall per run (average of 5)"
[ -n "$ms" ] && [ "$ms" -lt 1000 ] && pass || fail "dns check took $ms ms"

# 2. The active RSA key's DKIM record is missing; then only the record of
# the key published for the next rotation, which just warns.
grep -v "^$SEL\._domainkey" "$T/good.zone" >"$T/z"
serve "$T/z"
check dkim_missing 65
expect_rows dkim_missing "warn tempfail fail" "$SEL._domainkey.example.org. TXT record missing"
grep -v "^next\._domainkey" "$T/good.zone" >"$T/z"
serve "$T/z"
check dkim_next_missing 0
expect_rows dkim_next_missing "warn tempfail fail" "next._domainkey.example.org. TXT record missing"
expect_rows dkim_next_missing "warn" "next._domainkey.example.org. TXT record missing"

# 3. SPF different: another address, so this server fails it.
sed 's/^\(example\.org\.\t.*\tTXT\t\)"v=spf1.*/\1"v=spf1 ip4:192.0.2.99 -all"/' "$T/good.zone" >"$T/z"
serve "$T/z"
check spf_different 65
expect_rows spf_different "warn tempfail fail" "example.org. TXT record different
example.org. TXT spf-authorises different"
detail spf_different example.org. spf-authorises "192.0.2.10 gets 'fail'"

# ... but an SPF record unlike ours that still passes for this server (an
# extra include for a newsletter service) only warns.
{
	sed 's/^\(example\.org\.\t.*\tTXT\t\)"v=spf1.*/\1"v=spf1 mx include:news.example.org -all"/' "$T/good.zone"
	printf 'news.example.org. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"\n'
} >"$T/z"
serve "$T/z"
check spf_extra 0
expect_rows spf_extra "warn tempfail fail" "example.org. TXT record different"
detail spf_extra example.org. spf-lookups "2 DNS lookups (limit 10)"

# 4. Two SPF records.
{ cat "$T/good.zone"; printf 'example.org. 300 IN TXT "v=spf1 a -all"\n'; } >"$T/z"
serve "$T/z"
check spf_two 65
expect_rows spf_two "warn tempfail fail" "example.org. TXT record harmful"
detail spf_two example.org. record "2 records: receivers treat several SPF records as a permanent error"

# 5. DMARC p=none while the configuration says quarantine.
sed 's/v=DMARC1; p=quarantine/v=DMARC1; p=none/' "$T/good.zone" >"$T/z"
serve "$T/z"
check dmarc_none 65
expect_rows dmarc_none "warn tempfail fail" "_dmarc.example.org. TXT record harmful"
detail dmarc_none _dmarc.example.org. record "p=none"

# 6. The key file no longer holds the published key (the zone is right).
serve "$T/good.zone"
cp -p "$KEYFILE" "$T/key.saved"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYFILE" 2>/dev/null
check dkim_mismatch 65
expect_rows dkim_mismatch "warn tempfail fail" "$SEL._domainkey.example.org. TXT dkim-key different"
cp -p "$T/key.saved" "$KEYFILE"

# 7. An SPF record that takes 11 lookups: a chain of includes.
{
	sed 's/^\(example\.org\.\t.*\tTXT\t\)"v=spf1.*/\1"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 include:spf1.example.org -all"/' "$T/good.zone"
	for i in $(seq 1 10); do printf 'spf%d.example.org. 300 IN TXT "v=spf1 include:spf%d.example.org -all"\n' "$i" $((i + 1)); done
	printf 'spf11.example.org. 300 IN TXT "v=spf1 -all"\n'
} >"$T/z"
serve "$T/z"
check spf_lookups 65
expect_rows spf_lookups "warn tempfail fail" "example.org. TXT record different
example.org. TXT spf-lookups harmful"
detail spf_lookups example.org. spf-lookups "11 DNS lookups (limit 10)"

# 8. A broken PTR: the address points back at a name without that address.
write_reverse broken.example.org.
serve "$T/good.zone"
check ptr_broken 0
expect_rows ptr_broken "tempfail fail" ""
expect_rows ptr_broken "warn" "10.2.0.192.in-addr.arpa. PTR fcrdns different
10.2.0.192.in-addr.arpa. PTR record different"
detail ptr_broken 10.2.0.192.in-addr.arpa. fcrdns "broken.example.org. does not resolve back to 192.0.2.10"
write_reverse mail.example.org.

# 9. A resolver that never answers (it reads and drops every query): each
# record is a timeout, none is "missing", exit 75, within the 2 s budget.
host_spawn ns python3 -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("192.0.2.53", 5300))
t = socket.socket(); t.bind(("192.0.2.53", 5300)); t.listen(8)
while True: u.recv(4096)
' >/dev/null || fail "cannot start the silent resolver"
host_wait_port mx 192.0.2.53 5300 5 || fail "the silent resolver is not listening"
start=$(date +%s%N)
check silent 75 --resolver 192.0.2.53:5300
took=$((($(date +%s%N) - start) / 1000000))
[ "$took" -lt 4000 ] && pass || fail "silent resolver: the check took $took ms"
python3 - "$T/silent.json" <<'PY' && pass || fail "silent resolver: rows are not all timeouts"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["check"] == "record"]
assert rows and all(r["status"] == "timeout" for r in rows), {r["status"] for r in rows}
PY
if grep -q '"missing"' "$T/silent.json"; then fail "silent resolver: a timeout reported as missing"; else pass; fi
# the policy's address is not known either: a timeout, only a warning
rows silent warn | grep -qx 'mta-sts.example.org. HTTPS mta-sts-policy timeout' && pass ||
	fail "silent resolver: no mta-sts-policy timeout warning: $(rows silent warn | grep mta-sts)"

# 10. DNSSEC: the zone signed, unbound given its key as trust anchor -> AD.
(
	cd "$NS" || exit 1
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k example.org) && zsk=$(ldns-keygen -a ECDSAP256SHA256 example.org) &&
		ldns-signzone -f "$NS/signed.zone" "$T/good.zone" "$zsk" "$ksk" && cp "$ksk.ds" "$NS/anchor.ds" &&
		ldns-keygen -a ECDSAP256SHA256 -k example.org >"$NS/other.ksk" # a key the zone does not use
) >"$T/sign.log" 2>&1 || fail "signing: $(head -c 300 "$T/sign.log")"
serve "$NS/signed.zone" "$NS/anchor.ds"
check signed 0
expect_rows signed "warn tempfail fail" ""
detail signed example.org. dnssec "validated the answers (AD bit set)"
python3 - "$T/signed.json" <<'PY' && pass || fail "signed: record answers not marked validated"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["check"] == "record" and not r["type"] == "PTR"]
assert all(r["validated"] for r in rows), [r["name"] for r in rows if not r["validated"]]
PY
# the DKIM answer with its signature does not fit 512 bytes: it came over TCP
host_exec mx kdig +notcp +dnssec +bufsize=1232 @192.0.2.53 TXT $SEL._domainkey.example.org >"$T/kdig" 2>&1
grep -qi 'flags: qr tc' "$T/kdig" && pass || fail "the DKIM answer was not truncated over UDP: $(head -c 300 "$T/kdig")"
detail signed $SEL._domainkey.example.org. record "k=rsa"

# ... and a trust anchor the zone does not match: validation fails (bogus).
other=$(cat "$NS/other.ksk")
serve "$NS/signed.zone" "$NS/$other.ds"
check bogus 65
detail bogus example.org. dnssec "validation fails (bogus)"
python3 - "$T/bogus.json" <<'PY' && pass || fail "bogus: records not reported as servfail"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["check"] == "record" and r["name"].endswith("example.org.")]
assert rows and all(r["status"] == "servfail" for r in rows), {r["status"] for r in rows}
PY
rows bogus warn | grep -qx 'mta-sts.example.org. HTTPS mta-sts-policy servfail' && pass ||
	fail "bogus: the policy's address lookup is not a servfail warning"

# 11. Every domain at once (no DOMAIN): the host's own records once; a
# domain the resolver refuses to resolve is "refused", never "missing".
mc domain add example.net >/dev/null
serve "$T/good.zone"
got=0
host_exec mx "$MAILCTL" --json dns check --resolver "$RESOLVER" --ca-file "$CA_FILE" >"$T/all.json" 2>"$T/all.err" || got=$?
[ "$got" = 75 ] && pass || fail "all domains: exit $got, want 75: $(head -c 300 "$T/all.err")"
python3 - "$T/all.json" <<'PY' && pass || fail "all domains: wrong rows"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["check"] == "record"]
org = [r for r in rows if r["name"].endswith("example.org.") and r["name"] != "_dmarc.example.net."]
net = [r for r in rows if r["name"].endswith("example.net.")]
assert org and all(r["level"] == "ok" for r in org), [(r["name"], r["status"]) for r in org if r["level"] != "ok"]
assert net and all(r["status"] == "refused" for r in net), {r["status"] for r in net}
assert sum(r["name"] == "mail.example.org." and r["type"] == "A" for r in rows) == 1
sts = {r["name"]: (r["status"], r["level"]) for r in json.load(open(sys.argv[1])) if r["check"] == "mta-sts-policy"}
assert sts == {"mta-sts.example.org.": ("ok", "ok"), "mta-sts.example.net.": ("refused", "warn")}, sts
PY
if grep -q '"missing"' "$T/all.json"; then fail "all domains: a refused query reported as missing"; else pass; fi

# 12. The MTA-STS policy served wrong, one way at a time: its row warns
# (MTA-STS is recommended, not required), exit 0, every other row as in 1.
# sts NAME STATUS DETAIL FIX: check, then the only row not ok or info is the
# policy's, at level warn with STATUS, its detail and fix containing
# DETAIL and FIX.
sts() {
	local out
	check "$1" 0
	expect_rows "$1" "warn tempfail fail" "mta-sts.example.org. HTTPS mta-sts-policy $2"
	out=$(python3 - "$T/$1.json" "$3" "$4" <<'PY'
import json, sys
r = [r for r in json.load(open(sys.argv[1])) if r["check"] == "mta-sts-policy"]
ok = len(r) == 1 and r[0]["level"] == "warn" and sys.argv[2] in r[0]["detail"] and sys.argv[3] in r[0]["fix"]
print("" if ok else r)
sys.exit(0 if ok else 1)
PY
	) && pass || fail "$1: the mta-sts-policy row is not '$3' / '$4': $out"
}
P='version: STSv1\r\nmode: enforce\r\n' # a policy's first lines
web ca1 "default_type text/plain; return 200 \"${P}mx: mx.other.example\r\nmax_age: 604800\r\n\";"
sts sts_uncovered different \
	"MTA-STS: the MX host mail.example.org is not covered by the policy (mode enforce, max_age 604800, mx mx.other.example)" \
	"cover mail.example.org with an mx line of the policy"
web ca1 'return 301 https://www.example.org/.well-known/mta-sts.txt;'
sts sts_redirect error \
	"https://mta-sts.example.org/.well-known/mta-sts.txt answers 301 with a redirect to 'https://www.example.org/.well-known/mta-sts.txt': redirect not followed (RFC 8461 3.3)" \
	"serve the policy at that address itself with status 200"
web ca2 "default_type text/plain; return 200 \"$OURS\";"
sts sts_other_ca error \
	"MTA-STS: tls with mta-sts.example.org failed: SSL certificate problem: unable to get local issuer certificate: certificate or TLS problem" \
	"install a certificate from a public CA that names mta-sts.example.org"
web ca1 "default_type text/plain; return 200 \"version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n\";"
sts sts_mode different "MTA-STS: the policy's mode is 'testing', but mailctl publishes 'enforce'" \
	"run 'mailctl apply'"
web ca1 "default_type text/plain; return 200 \"${P}mx: *.example.org\r\nmax_age: 86400\r\n\";"
sts sts_not_ours different \
	"MTA-STS: the policy served is not the one mailctl writes (mode enforce, max_age 86400, mx *.example.org)" \
	"run 'mailctl apply'"
web ca1 "default_type text/html; return 200 \"$OURS\";"
sts sts_html error "is served as 'text/html', not text/plain" "serve the policy as text/plain"
web ca1 'return 404;'
sts sts_404 error "mta-sts.txt answers 404, not 200: senders ignore the policy" "with status 200"
web ca1 "default_type text/plain; alias $T/big.txt;"
sts sts_big error "mta-sts.txt is larger than 65536 bytes" "serve the policy 'mailctl apply' writes"
web ca1 "default_type text/plain; return 200 \"version: STSv1\r\nmode: Enforce\r\nmx: mail.example.org\r\nmax_age: 604800\r\n\";"
sts sts_syntax error "is invalid: line 2: unknown mode 'Enforce' (enforce, testing or none): senders ignore the policy" \
	"serve the policy 'mailctl apply' writes"
web_stop && pass || fail "nginx did not stop"
sts sts_down error "MTA-STS: cannot connect to mta-sts.example.org port 443 (192.0.2.10, 2001:db8::10): connection refused: the policy is unreachable" \
	"start nginx ('mailctl service start') and open port 443"
# A charset after text/plain is fine; ours again is ok.
web ca1 "default_type \"text/plain; charset=utf-8\"; return 200 \"$OURS\";"
check sts_charset 0
expect_rows sts_charset "warn tempfail fail" ""
detail sts_charset mta-sts.example.org. mta-sts-policy "the policy mailctl writes"

web_stop
lab_dns_stop
done_tests
