#!/bin/bash
# tests/integration/dkim_rotate.sh - 'mailctl dkim rotate' against real DNS
# servers in the isolated lab: host 'ns' runs nsd (authoritative for
# example.org) behind unbound (the resolver, 192.0.2.53); host 'mx' runs
# mailctl. The domain signs with RSA and Ed25519, so both keys rotate
# together. The whole cycle: the first run makes the new keys and prints
# their records; while DNS lacks them (no such name, the wrong key at the
# selector, only one of the two records, a resolver that refuses) every
# run exits 75 and changes nothing; once both records are served the run
# switches signing and retires the old keys, whose records 'dns records'
# keeps listing through the grace period; dkimpy, signing with the new key
# file and verifying through the lab resolver, proves the record matches
# the key that now signs; after dkim.rotation_grace_days (simulated with
# --at) the retired keys are removed, rows and files.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"
set +e

for pkg in nsd unbound ldnsutils python3 python3-dkim iproute2 util-linux sqlite3; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg (provision/deps.sh TEST_DEPS)" >&2
		exit 1
	fi
done

HOST_TIMEOUT=20
NS=$T/ns
mkdir -p "$NS"
RESOLVER=192.0.2.53
DB=$T/mailctl.db
KEYS=$T/keys
PY=/usr/bin/python3

eq() { if [ "$1" == "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi; }
sql() { sqlite3 "$DB" "$1"; }
keystate() { (cd "$KEYS" && stat -c '%n %a' -- * 2>/dev/null && cat -- * 2>/dev/null) | sha256sum | cut -d' ' -f1; }
states() { sql "SELECT selector || ' ' || state FROM dkim_keys ORDER BY id" | xargs; }

# jcheck DESCRIPTION FILE PYEXPR [ARG...]: FILE is JSON and PYEXPR
# (document 'd', arguments 'a') is true.
jcheck() {
	local desc=$1 file=$2 expr=$3 res
	shift 3
	if res=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
a = sys.argv[3:]
if not eval("(" + sys.argv[2] + "\n)"):
    print("false for: " + json.dumps(d)[:800])
    sys.exit(1)
' "$file" "$expr" "$@" 2>&1); then pass; else fail "$desc: $expr: $res"; fi
}

mc_setup "network:" "  ipv4: 192.0.2.10" "  ipv6: 2001:db8::10"
mc domain add example.org >/dev/null || fail "domain add"
mc dkim keygen example.org --algorithm ed25519 --selector ed1 >/dev/null || fail "ed25519 keygen"
OLD_RSA=$(sql "SELECT selector FROM dkim_keys WHERE algorithm = 'rsa'")
OLD_ED=ed1
eq "$(states)" "$OLD_RSA active ed1 active" "the keys before"

host_create ns 192.0.2.53 2001:db8::53 || { fail "cannot create host ns"; done_tests; exit 1; }
host_create mx 192.0.2.10 2001:db8::10 || { fail "cannot create host mx"; done_tests; exit 1; }
host_set_resolver mx "$RESOLVER"

# ---- the lab's DNS ----

serial=1
# zone RECORD-LINE...: example.org with the name server and these records.
zone() {
	printf '$ORIGIN example.org.\n$TTL 300\n'
	printf '@ IN SOA ns.example.org. hostmaster.example.org. %s 3600 900 604800 300\n' "$serial"
	printf '@ IN NS ns.example.org.\nns IN A 192.0.2.53\n'
	printf '%s\n' "$@"
	serial=$((serial + 1))
}

# zone_line SELECTOR: the zone-file line of a key, as 'dkim show' prints it.
zone_line() {
	mc --json dkim show example.org --selector "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["zone"])'
}

lab_dns_conf "$NS" example.org

# serve ZONEFILE: (re)start nsd with it and unbound with a cold cache, as
# a provider's DNS would serve the zone once the old answers expired.
serve() {
	lab_dns_stop
	cp "$1" "$NS/example.org.zone"
	lab_dns_start ns "$NS" || { fail "the lab DNS did not start"; return 1; }
}

# rotate NAME WANT-EXIT [ARGS...]: 'mailctl --json dkim rotate example.org'
# in mx, asking the lab resolver unless ARGS name another; the output is
# kept in $T/NAME.json.
rotate() {
	local name=$1 want=$2 got=0
	shift 2
	[ $# -gt 0 ] || set -- --resolver "$RESOLVER"
	host_exec mx "$MAILCTL" --json dkim rotate example.org "$@" >"$T/$name.json" 2>"$T/$name.err" || got=$?
	if [ "$got" = "$want" ]; then pass; else
		fail "$name: exit $got, want $want; stderr: $(head -c 300 "$T/$name.err")"
	fi
}

# waits NAME RSA-DNS ED-DNS [ARGS...]: a run that must wait, with these
# verdicts for the new rsa and ed25519 records, and change nothing.
waits() {
	local name=$1 rsa=$2 ed=$3 db keys
	shift 3
	db=$(dbhash)
	keys=$(keystate)
	rotate "$name" 75 "$@"
	jcheck "$name" "$T/$name.json" '
all(r["action"] == "waiting" and r["change"] == "none" for r in d) and
{(r["algorithm"], r["dns"]) for r in d if r["role"] == "new"} == {("rsa", a[0]), ("ed25519", a[1])}' "$rsa" "$ed"
	eq "$(dbhash)" "$db" "$name: database unchanged"
	eq "$(keystate)" "$keys" "$name: key directory unchanged"
}

OLD_LINES=("$(zone_line "$OLD_RSA")" "$(zone_line "$OLD_ED")")
zone "${OLD_LINES[@]}" >"$T/old.zone"
serve "$T/old.zone"

# 1. The first run: two new keys, their records printed.
rotate start 0
jcheck "start" "$T/start.json" '
[(r["action"], r["role"], r["change"], r["algorithm"], r["state"]) for r in d] == [
  ("started", "new", "made", "rsa", "published"), ("started", "old", "none", "rsa", "active"),
  ("started", "new", "made", "ed25519", "published"), ("started", "old", "none", "ed25519", "active")]'
NEW_RSA=$("$PY" -c 'import json,sys; print(next(r["selector"] for r in json.load(open(sys.argv[1])) if r["role"] == "new" and r["algorithm"] == "rsa"))' "$T/start.json")
NEW_ED=$("$PY" -c 'import json,sys; print(next(r["selector"] for r in json.load(open(sys.argv[1])) if r["role"] == "new" and r["algorithm"] == "ed25519"))' "$T/start.json")
NEW_LINES=("$(zone_line "$NEW_RSA")" "$(zone_line "$NEW_ED")")
"$PY" - "$T/start.json" "${NEW_LINES[@]}" <<'PY' && pass || fail "start: the zone lines printed are not dkim show's"
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["zone"] for r in d if r["role"] == "new"] == sys.argv[2:]
PY
eq "$(states)" "$OLD_RSA active ed1 active $NEW_RSA published $NEW_ED published" "start: the keys"

# 2. Not published: refused, nothing changes, DNS's answer reported.
waits not_published missing missing
jcheck "not published: nxdomain" "$T/not_published.json" 'all("does not exist" in r["detail"] for r in d if r["role"] == "new")'
host_exec mx "$MAILCTL" dkim rotate example.org --resolver "$RESOLVER" >"$T/text" 2>&1
contains "$T/text" "the DKIM key rotation of 'example.org' waits for DNS; nothing changed" "text: waiting"
contains "$T/text" "  $NEW_RSA._domainkey.example.org: missing: the name does not exist (NXDOMAIN)" "text: what DNS shows"
contains "$T/text" "publish what 'mailctl dkim show example.org --selector $NEW_ED' prints" "text: the fix"

# the old rsa key's record at the new rsa selector, the ed25519 one right
wrong_rsa=$(printf '%s\n' "${OLD_LINES[0]}" | sed "s/^$OLD_RSA\\._domainkey/$NEW_RSA._domainkey/")
zone "${OLD_LINES[@]}" "$wrong_rsa" "${NEW_LINES[1]}" >"$T/z"
serve "$T/z"
waits wrong_key different published
old_value=$(mc --json dkim show example.org --selector "$OLD_RSA" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["value"])')
jcheck "wrong key: what DNS holds" "$T/wrong_key.json" 'next(r for r in d if r["role"] == "new" and r["algorithm"] == "rsa")["found"] == [a[0]] and "not the new key" in next(r for r in d if r["role"] == "new" and r["algorithm"] == "rsa")["detail"]' "$old_value"

# only the rsa record: the ed25519 key alone is not enough
zone "${OLD_LINES[@]}" "${NEW_LINES[0]}" >"$T/z"
serve "$T/z"
waits half published missing

# both records, but the resolver asked refuses to answer
zone "${OLD_LINES[@]}" "${NEW_LINES[@]}" >"$T/new.zone"
serve "$T/new.zone"
waits refused failed failed --resolver 192.0.2.53:5399

# 3. Both published: the switch.
before=$(date -u +%s)
rotate switch 0
after=$(date -u +%s)
jcheck "switch" "$T/switch.json" '
[(r["role"], r["change"], r["state"], r["dns"]) for r in d] == [
  ("new", "activated", "active", "published"), ("old", "retired", "retired", ""),
  ("new", "activated", "active", "published"), ("old", "retired", "retired", "")]'
eq "$(states)" "$OLD_RSA retired ed1 retired $NEW_RSA active $NEW_ED active" "switch: the keys"
retired=$(sql "SELECT retired FROM dkim_keys WHERE selector = '$OLD_RSA'")
retired_s=$(date -u -d "$retired" +%s)
[ "$retired_s" -ge "$before" ] && [ "$retired_s" -le "$after" ] && pass || fail "switch: retired at '$retired'"
eq "$(sql "SELECT count(*) FROM dkim_keys WHERE state = 'retired' AND retired = '$retired'")" 2 "switch: both retired at once"
jcheck "switch: remove_after" "$T/switch.json" 'all(r["remove_after"] == a[0] for r in d if r["role"] == "old")' \
	"$(date -u -d "@$((retired_s + 7 * 86400))" +%Y-%m-%dT%H:%M:%SZ)"

# the old selectors stay in 'dns records' beside the new ones
mc dns records example.org >"$T/records"
for s in "$OLD_RSA" "$OLD_ED" "$NEW_RSA" "$NEW_ED"; do
	grep -q "^$s\._domainkey\.example\.org\." "$T/records" && pass || fail "dns records does not list '$s'"
done

# Another implementation signs with the key file that now signs and
# verifies through the lab resolver: the record published is its key.
for s in "$NEW_RSA" "$NEW_ED"; do
	host_exec mx "$PY" - "$KEYS/$s._domainkey.example.org.pem" "$s" >"$T/peer" 2>&1 <<'PY' && pass || fail "dkimpy with '$s': $(tail -c 400 "$T/peer")"
import base64, sys
import dkim
pem = open(sys.argv[1], "rb").read()
if b"MC4CAQAwBQYDK2Vw" in pem:  # Ed25519 PKCS#8: dkimpy takes the 32-byte seed
    der = base64.b64decode(b"".join(l for l in pem.splitlines() if not l.startswith(b"-----")))
    key, alg = base64.b64encode(der[16:]), b"ed25519-sha256"
else:
    key, alg = pem, b"rsa-sha256"
msg = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: rotated\r\n"
       b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <r@example.org>\r\n\r\nhello\r\n")
signed = dkim.sign(msg, sys.argv[2].encode(), b"example.org", key, signature_algorithm=alg) + msg
assert dkim.verify(signed), "does not verify through DNS"
PY
done

# 4. The grace period: nothing to do, with or without DNS.
db=$(dbhash)
keys=$(keystate)
rotate grace 0 --resolver 192.0.2.53:5399
jcheck "grace" "$T/grace.json" 'len(d) == 2 and all(r["action"] == "grace" and r["role"] == "retired" for r in d)'
rotate grace_end 0 --at "@$((retired_s + 7 * 86400 - 1))"
jcheck "last second of grace" "$T/grace_end.json" 'all(r["action"] == "grace" for r in d)'
eq "$(dbhash)" "$db" "grace: database unchanged"
eq "$(keystate)" "$keys" "grace: key directory unchanged"

# 5. After dkim.rotation_grace_days: the retired keys go, rows and files.
rotate removed 0 --at "@$((retired_s + 7 * 86400))"
jcheck "removed" "$T/removed.json" 'sorted((r["selector"], r["change"]) for r in d) == sorted([(a[0], "removed"), (a[1], "removed")])' "$OLD_RSA" "$OLD_ED"
eq "$(states)" "$NEW_RSA active $NEW_ED active" "removed: the keys"
for s in "$OLD_RSA" "$OLD_ED"; do
	[ ! -e "$KEYS/$s._domainkey.example.org.pem" ] && pass || fail "the key file of '$s' is still there"
done
mc dns records example.org >"$T/records"
for s in "$OLD_RSA" "$OLD_ED"; do
	grep -q "^$s\._domainkey" "$T/records" && fail "dns records still lists '$s'" || pass
done
eq "$(sql "SELECT group_concat(substr(detail, 1, instr(detail || ' ', ' ') - 1), ' ') FROM (SELECT detail FROM audit_log WHERE action = 'dkim.rotate' ORDER BY id)")" \
	"started: switched removed" "the audit log of the rotation"

# The signing keys' records are what 'dns check' requires now, and DNS has them.
zone "${NEW_LINES[@]}" >"$T/final.zone"
serve "$T/final.zone"
rotate next_start 0
jcheck "the next rotation starts" "$T/next_start.json" 'all(r["action"] == "started" for r in d) and len(d) == 4'

lab_dns_stop
done_tests
