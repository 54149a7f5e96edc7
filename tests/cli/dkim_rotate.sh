#!/bin/bash
# 'mailctl dkim rotate' through the real binary on a private instance, with
# no DNS server anywhere: the resolver given is a closed loopback port, so
# every lookup fails at once. Covers the first run (a new key, its record
# and what to do next), re-runs that must wait (exit 75, nothing changed),
# --json, --abort, the grace period and the removal of a retired key (the
# switch itself needs DNS: tests/integration/dkim_rotate.sh; here the
# database is put in the state the switch leaves), --at, and refused
# requests, each of which must leave the database and key directory as
# they were.
source "$MAILCTL_SRC/tests/lib.sh"
set +e

PY=/usr/bin/python3
for tool in sqlite3 sha256sum "$PY"; do
	command -v "$tool" >/dev/null || { echo "FAIL: '$tool' is not installed" >&2; exit 1; }
done

DB="$T/mailctl.db"
KEYS="$T/keys"
MONTH=s$(date -u +%Y%m)
# Nothing listens there: lookups end at once in 'connection refused'.
NODNS=127.0.0.1:9

eq() { if [ "$1" == "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi; }
sql() { sqlite3 "$DB" "$1"; }
keystate() { (cd "$KEYS" && stat -c '%n %a' -- * 2>/dev/null && cat -- * 2>/dev/null) | sha256sum | cut -d' ' -f1; }

# jcheck DESCRIPTION PYEXPR [ARG...]: the last stdout is JSON and PYEXPR
# (document 'd', arguments 'a') is true.
jcheck() {
	local desc=$1 expr=$2 res
	shift 2
	if res=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
a = sys.argv[3:]
if not eval("(" + sys.argv[2] + "\n)"):
    print("false for: " + json.dumps(d)[:600])
    sys.exit(1)
' "$T/out" "$expr" "$@" 2>&1); then pass; else fail "$desc: $expr: $res"; fi
}

# unchanged CODE MESSAGE DESCRIPTION -- command...: exits with CODE, says
# MESSAGE (on stdout for a waiting rotation, else on stderr), and neither
# the database nor the key directory changes.
unchanged() {
	local code=$1 msg=$2 desc=$3 db keys
	shift 3
	db=$(dbhash)
	keys=$(keystate)
	if expect "$code" "$desc" "$@"; then
		if [ "$code" = 75 ] || [ "$code" = 0 ]; then contains "$T/out" "$msg" "$desc"; else
			contains "$T/err" "$msg" "$desc"
			[ -s "$T/out" ] && fail "$desc: printed on stdout: $(head -c 200 "$T/out")" || pass
		fi
	fi
	eq "$(dbhash)" "$db" "$desc: database unchanged"
	eq "$(keystate)" "$keys" "$desc: key directory unchanged"
}

mc_setup
mc domain add example.org >/dev/null || fail "domain add"
mc domain add example.net >/dev/null || fail "domain add example.net"
OLD=$MONTH
NEW=${MONTH}b

# --- help and refusals before anything is pending -------------------------------

expect 0 "rotate -h" -- mc dkim rotate -h &&
	contains "$T/out" "usage: mailctl [--config FILE] [--json] dkim rotate DOMAIN" "rotate -h usage"
for opt in --resolver --at --abort; do contains "$T/out" "$opt" "rotate -h lists $opt"; done
expect 0 "dkim -h" -- mc dkim -h && contains "$T/out" "rotate" "dkim -h lists rotate"

unchanged 68 "domain 'nowhere.example' does not exist" "unknown domain" -- mc dkim rotate nowhere.example --resolver $NODNS
unchanged 68 "domain 'nowhere.example' does not exist" "abort of an unknown domain" -- mc dkim rotate nowhere.example --abort
unchanged 64 "missing argument" "no domain" -- mc dkim rotate
unchanged 64 "too many arguments" "two domains" -- mc dkim rotate example.org example.net
unchanged 64 "unknown option '--selector'" "unknown option" -- mc dkim rotate example.org --selector x
unchanged 64 "invalid --resolver 'not an address'" "bad --resolver" -- mc dkim rotate example.org --resolver 'not an address'
unchanged 64 "option '--resolver' needs a value" "--resolver without a value" -- mc dkim rotate example.org --resolver
unchanged 64 "invalid --at 'tomorrow'" "bad --at" -- mc dkim rotate example.org --at tomorrow
unchanged 64 "invalid --at '2026-02-30T00:00:00Z'" "--at of a day that does not exist" -- mc dkim rotate example.org --at 2026-02-30T00:00:00Z
unchanged 64 "is in the past" "--at in the past" -- mc dkim rotate example.org --at 2001-01-01T00:00:00Z
unchanged 64 "is in the past" "--at @0" -- mc dkim rotate example.org --at @0
unchanged 64 "--abort takes no --at or --resolver" "--abort with --at" -- mc dkim rotate example.org --abort --at @9999999999
unchanged 64 "--abort takes no --at or --resolver" "--abort with --resolver" -- mc dkim rotate example.org --abort --resolver $NODNS
unchanged 65 "domain 'example.org' has no DKIM key rotation pending" "--abort with nothing pending" -- mc dkim rotate example.org --abort
{ cat "$MAILCTL_CONFIG"; printf 'dns:\n  resolver: "bad resolver"\n'; } >"$T/badres.yaml"
unchanged 78 "dns.resolver" "a bad dns.resolver" -- mc --config "$T/badres.yaml" dkim rotate example.org

# A domain whose key was removed by hand has nothing to rotate.
sql "DELETE FROM dkim_keys WHERE domain_id = (SELECT id FROM domains WHERE name = 'example.net')"
rm -f "$KEYS"/*._domainkey.example.net.pem
unchanged 65 "domain 'example.net' has no active DKIM key to rotate: create one with 'mailctl dkim keygen example.net'" \
	"no active key" -- mc dkim rotate example.net --resolver $NODNS

# --- the first run: a new key, its record, what to do next ---------------------

expect 0 "first run" -- mc dkim rotate example.org --resolver $NODNS
contains "$T/out" "started a DKIM key rotation for 'example.org': made '$NEW' (rsa-2048) to replace '$OLD' (rsa-2048)" "first run: what it did"
contains "$T/out" "  name:  $NEW._domainkey.example.org" "first run: the record name"
contains "$T/out" "  value: v=DKIM1; k=rsa; p=MII" "first run: the record value"
contains "$T/out" "  zone:  $NEW._domainkey.example.org."$'\t'"3600"$'\t'"IN"$'\t'"TXT"$'\t'"\"v=DKIM1; k=rsa; p=MII" "first run: the zone line"
contains "$T/out" "then run 'mailctl dkim rotate example.org' again" "first run: what next"
eq "$(sql "SELECT selector || ' ' || state FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.org' ORDER BY k.id" | xargs)" \
	"$OLD active $NEW published" "first run: the keys"
eq "$(stat -c %a "$KEYS/$NEW._domainkey.example.org.pem" 2>&1)" 600 "first run: key file mode"
eq "$(sql "SELECT count(*) FROM audit_log WHERE action = 'dkim.rotate' AND subject = 'example.org' AND detail LIKE 'started: new rsa-2048 key $NEW to replace $OLD'")" 1 "first run: audited"
# the value printed is the key's record, as dkim show prints it
value=$(sed -n 's/^  value: //p' "$T/out")
mc --json dkim show example.org --selector "$NEW" >"$T/show.json"
eq "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"])' "$T/show.json")" "$value" "first run: the value is dkim show's"
mc dns records example.org >"$T/records"
grep -q "^$NEW._domainkey.example.org." "$T/records" && pass || fail "dns records does not list the new key"

# --- re-runs wait for DNS and change nothing -------------------------------------

unchanged 75 "the DKIM key rotation of 'example.org' waits for DNS; nothing changed" "second run without DNS" -- mc dkim rotate example.org --resolver $NODNS
contains "$T/out" "  $NEW._domainkey.example.org: failed: no answer from DNS" "second run: what DNS shows"
contains "$T/out" "check the resolver $NODNS" "second run: the resolver named"
contains "$T/out" "mailctl dkim rotate example.org --abort" "second run: how to cancel"
unchanged 75 "" "--json while waiting" -- mc --json dkim rotate example.org --resolver $NODNS
jcheck "waiting json" '
len(d) == 2 and all(r["domain"] == "example.org" and r["action"] == "waiting" for r in d) and
[(r["selector"], r["role"], r["state"], r["change"], r["dns"]) for r in d] == [(a[0], "new", "published", "none", "failed"), (a[1], "old", "active", "none", "")] and
d[0]["name"] == a[0] + "._domainkey.example.org" and d[0]["value"].startswith("v=DKIM1; k=rsa; p=MII") and
d[0]["detail"].startswith("failed: ") and d[0]["found"] == [] and d[0]["bits"] == 2048 and
d[0]["retired"] == "" and d[0]["remove_after"] == "" and
set(d[0]) == {"domain", "action", "selector", "algorithm", "bits", "state", "role", "change", "name", "value", "zone", "dns", "detail", "found", "retired", "remove_after"}' "$NEW" "$OLD"
# dns.resolver is the resolver when --resolver is not given
{ cat "$MAILCTL_CONFIG"; printf 'dns:\n  resolver: "%s"\n' "$NODNS"; } >"$T/res.yaml"
unchanged 75 "check the resolver $NODNS" "dns.resolver is asked" -- mc --config "$T/res.yaml" dkim rotate example.org
# --at never starts a second rotation while one is pending
unchanged 75 "waits for DNS" "--at while waiting" -- mc dkim rotate example.org --resolver $NODNS --at @$(($(date +%s) + 40 * 86400))

# --- abort ------------------------------------------------------------------------

expect 0 "--abort" -- mc dkim rotate example.org --abort &&
	contains "$T/out" "cancelled the DKIM key rotation of 'example.org': removed the pending key(s) '$NEW' (rsa-2048); '$OLD' (rsa-2048) sign(s) as before" "abort message"
contains "$T/out" "delete these TXT records from DNS: $NEW._domainkey.example.org" "abort: the record to delete"
[ ! -e "$KEYS/$NEW._domainkey.example.org.pem" ] && pass || fail "abort left the key file"
eq "$(sql "SELECT selector || ' ' || state FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.org'")" "$OLD active" "abort: the old key alone"
eq "$(sql "SELECT detail FROM audit_log WHERE action = 'dkim.rotate' ORDER BY id DESC LIMIT 1")" "aborted: removed pending key(s) $NEW (rsa)" "abort audited"

# --- a second rotation with --json, switched as the switch would do it -------------

expect 0 "start again, --json" -- mc --json dkim rotate example.org --resolver $NODNS &&
	jcheck "started json" '[(r["action"], r["selector"], r["role"], r["change"], r["state"]) for r in d] == [("started", a[0], "new", "made", "published"), ("started", a[1], "old", "none", "active")]' "$NEW" "$OLD"
# the switch (tests/integration/dkim_rotate.sh does it through DNS)
RETIRED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sql "UPDATE dkim_keys SET state = 'active' WHERE selector = '$NEW'; UPDATE dkim_keys SET state = 'retired', retired = '$RETIRED_AT' WHERE selector = '$OLD'"
retired_s=$(date -u -d "$RETIRED_AT" +%s)
after=$(date -u -d "@$((retired_s + 7 * 86400))" +%Y-%m-%dT%H:%M:%SZ)

# the grace period: nothing to do, DNS not needed; the old record stays listed
unchanged 0 "retired key '$OLD' (rsa) stays in DNS until $after" "within the grace period" -- mc dkim rotate example.org --resolver $NODNS
contains "$T/out" "nothing to do yet for 'example.org'" "grace: nothing to do"
unchanged 0 "" "grace, --json" -- mc --json dkim rotate example.org --at "@$((retired_s + 7 * 86400 - 1))"
jcheck "grace json" 'len(d) == 1 and d[0]["action"] == "grace" and d[0]["selector"] == a[0] and d[0]["role"] == "retired" and d[0]["state"] == "retired" and d[0]["retired"] == a[1] and d[0]["remove_after"] == a[2]' "$OLD" "$RETIRED_AT" "$after"
mc dns records example.org >"$T/records"
grep -q "^$OLD._domainkey.example.org." "$T/records" && pass || fail "dns records no longer lists the retired key"

# the grace period over (simulated with --at): the retired key goes
expect 0 "after the grace period" -- mc dkim rotate example.org --at "@$((retired_s + 7 * 86400))"
contains "$T/out" "removed the retired DKIM key(s) '$OLD' (rsa-2048) of 'example.org': their grace period of 7 day(s) is over" "removal message"
contains "$T/out" "delete these TXT records from DNS: $OLD._domainkey.example.org" "removal: the record to delete"
contains "$T/out" "the rotation is complete" "removal: complete"
[ ! -e "$KEYS/$OLD._domainkey.example.org.pem" ] && pass || fail "removal left the key file"
eq "$(sql "SELECT selector || ' ' || state FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.org'")" "$NEW active" "removal: the new key alone"
eq "$(sql "SELECT detail FROM audit_log WHERE action = 'dkim.rotate' ORDER BY id DESC LIMIT 1")" "removed retired key(s) $OLD (rsa) after the grace period of 7 day(s)" "removal audited"
mc dns records example.org >"$T/records"
grep -q "^$OLD._domainkey.example.org." "$T/records" && fail "dns records still lists the removed key" || pass

# dkim.rotation_grace_days is read from the configuration
expect 0 "third rotation" -- mc dkim rotate example.org --resolver $NODNS
THIRD=$(sql "SELECT selector FROM dkim_keys WHERE state = 'published'")
sql "UPDATE dkim_keys SET state = 'active' WHERE selector = '$THIRD'; UPDATE dkim_keys SET state = 'retired', retired = '$RETIRED_AT' WHERE selector = '$NEW'"
{ cat "$MAILCTL_CONFIG"; printf 'dkim:\n  rotation_grace_days: 2\n'; } >"$T/grace2.yaml"
unchanged 0 "stays in DNS until $(date -u -d "@$((retired_s + 2 * 86400))" +%Y-%m-%dT%H:%M:%SZ)" "grace of 2 days" -- mc --config "$T/grace2.yaml" dkim rotate example.org --at "@$((retired_s + 2 * 86400 - 1))"
expect 0 "removal after 2 days" -- mc --config "$T/grace2.yaml" --json dkim rotate example.org --at "@$((retired_s + 2 * 86400))" &&
	jcheck "removed json" 'len(d) == 1 and d[0]["action"] == "removed" and d[0]["change"] == "removed" and d[0]["selector"] == a[0]' "$NEW"

# Runs at the same time start one rotation, however they interleave: the
# others find it pending (75) or see the keys change under them (75).
mc domain add example.com >/dev/null || fail "domain add example.com"
for i in 1 2 3 4; do
	(mc dkim rotate example.com --resolver $NODNS >"$T/par$i.out" 2>"$T/par$i.err"; echo $? >"$T/par$i.rc") &
done
wait
eq "$(cat "$T"/par?.rc | sort | xargs)" "0 75 75 75" "parallel runs: one started"
eq "$(sql "SELECT count(*) FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.com' AND state = 'published'")" 1 "parallel runs: one new key"
eq "$(ls "$KEYS" | grep -c 'example\.com\.pem$')" 2 "parallel runs: two key files"
eq "$(sql "SELECT count(*) FROM audit_log WHERE action = 'dkim.rotate' AND subject = 'example.com'")" 1 "parallel runs: one audit row"

done_tests
