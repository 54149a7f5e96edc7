#!/bin/bash
# tests/cli/status.sh - 'mailctl status' on a private instance where no
# server runs: usage, the rows and their order, --local, --json fields, the
# exit status (69 while something is in error), the certificate, a missing
# required alias, no database, and the network checks against loopback
# only: the resolver is a closed port (every lookup fails at once), the
# port 25 probe a listener of this test, then a closed port. A healthy
# server (exit 0) is tested in tests/integration/status.sh.
source "$MAILCTL_SRC/tests/lib.sh"
DEAD=127.0.0.1:9 # nothing listens: ICMP port unreachable, an error at once
mc_setup "network:" "  ipv4: 192.0.2.10" "dns:" "  resolver: $DEAD" \
	"blacklist:" "  zones_file: $MAILCTL_SRC/data/dnsbl.yaml"
mc domain add example.org >/dev/null

# jrow CHECK SUBJECT FIELD=VALUE...: the row of $T/out (JSON) has those
# fields; 'finding' and 'fix' match as substrings.
jrow() {
	python3 - "$T/out" "$@" <<'PY' && pass || fail "row $1 $2 lacks ${*:3}: $(grep -A6 "\"$1\"" "$T/out" | head -c 400)"
import json, sys
f, check, subject, *want = sys.argv[1:]
rows = [r for r in json.load(open(f)) if r["check"] == check and r["subject"] == subject]
if len(rows) != 1:
    sys.exit(f"{len(rows)} rows")
for w in want:
    k, v = w.split("=", 1)
    got = rows[0][k]
    if not (v in got if k in ("finding", "fix") else str(got).lower() == v):
        sys.exit(f"{k}: {got!r}")
PY
}

# ---- usage ----
expect 64 "stray argument" -- mc status extra
expect 64 "unknown option" -- mc status --frobnicate
[ ! -s "$T/out" ] && pass || fail "a usage error printed on stdout"
expect 0 "status -h" -- mc status -h
contains "$T/out" "usage: mailctl [--config FILE] [--json] status [--local]" "status -h usage"
contains "$T/out" "--local" "status -h lists --local"

# ---- --local: no server runs, no certificate ----
expect 69 "status --local with nothing running" -- mc status --local
contains "$T/out" "CHECK" "table header"
contains "$T/out" "skipped in" "summary line"
order=$(awk 'NR > 1 && !NF {exit} NR > 1 {print $1}' "$T/out" | uniq | tr '\n' ' ')
[ "$order" = "service queue disk memory tls aliases dns blacklist port25 rdns " ] && pass ||
	fail "rows out of order: $order"
expect 69 "--json status --local" -- mc --json status --local
for s in dovecot mailctld postfix; do
	jrow service "$s" status=error "finding=$s is not running" "fix=mailctl service start" network=false
done
jrow disk "$T/mail" status=ok "finding=free of"
jrow memory ram "finding=available of"
jrow tls "$T/tls/cert.pem" status=error "finding=no usable certificate: cannot open" "fix=mailctl setup"
jrow aliases example.org status=ok "finding=postmaster@ and abuse@ receive mail"
jrow dns example.org status=skipped network=true "finding=not checked (local checks only)"
jrow blacklist all status=skipped
jrow port25 portquiz.net:25 status=skipped
jrow rdns 192.0.2.10 status=skipped

# ---- the certificate: valid, then expiring ----
mkdir -p "$T/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls/key.pem" \
	-out "$T/tls/cert.pem" -subj /CN=mail.example.org -days 90 2>/dev/null || fail "openssl req"
expect 69 "status with a certificate" -- mc --json status --local
jrow tls "$T/tls/cert.pem" status=warning \
	"finding=self-signed certificate for CN = mail.example.org, valid until" \
	"finding=MTA-STS senders refuse it" "fix=mailctl cert request"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/tls/key.pem" \
	-out "$T/tls/cert.pem" -subj /CN=mail.example.org -days 3 2>/dev/null || fail "openssl req"
mc --json status --local >"$T/out"
jrow tls "$T/tls/cert.pem" status=warning "finding=self-signed certificate for CN = mail.example.org expires on" \
	"fix=mailctl cert request"

# ---- a required alias gone (behind the back of 'alias del') ----
sqlite3 "$T/mailctl.db" "DELETE FROM alias_targets WHERE alias_id IN
	(SELECT id FROM aliases WHERE source = 'postmaster@example.org');
	DELETE FROM aliases WHERE source = 'postmaster@example.org';" 2>"$T/err" ||
	fail "cannot delete the alias: $(cat "$T/err")"
mc --json status --local >"$T/out"
jrow aliases example.org status=error "finding=postmaster@example.org cannot receive mail" \
	"fix=mailctl alias add postmaster@example.org"
mc alias add postmaster@example.org admin@example.org >/dev/null 2>&1 ||
	mc alias add postmaster@example.org someone@elsewhere.example >/dev/null

# ---- the network checks, on loopback only ----
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(60)' "$PORT" &
listener=$!
wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && pass || fail "no listener on $PORT"
printf 'status:\n  port25_probe: 127.0.0.1:%s\n' "$PORT" >>"$MAILCTL_CONFIG"
start=$(date +%s%N)
expect 69 "status with the network checks" -- mc --json status
took=$((($(date +%s%N) - start) / 1000000))
[ "$took" -lt 5000 ] && pass || fail "status took $took ms with a resolver that refuses at once"
jrow port25 "127.0.0.1:$PORT" status=ok network=true "finding=connected to 127.0.0.1 (127.0.0.1) port $PORT"
jrow dns example.org status=warning "finding=could not be checked"
jrow blacklist all status=warning "finding=could not be answered"
jrow rdns 192.0.2.10 status=warning "finding=could not look up the PTR of 192.0.2.10"
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
mc --json status >"$T/out"
jrow port25 "127.0.0.1:$PORT" status=error "finding=refused the connection on port $PORT" \
	"fix=outbound port 25"
# An empty probe skips the check; a malformed one says so.
sed -i 's/^  port25_probe: .*/  port25_probe: ""/' "$MAILCTL_CONFIG"
mc --json status >"$T/out"
jrow port25 "" status=skipped "finding=status.port25_probe is empty"
sed -i 's/^  port25_probe: .*/  port25_probe: "host:99999"/' "$MAILCTL_CONFIG"
mc --json status >"$T/out"
jrow port25 "host:99999" status=warning "finding=is not HOST[:PORT]"

# ---- no database: the rows that need it say so, the rest still run ----
mv "$T/mailctl.db" "$T/elsewhere.db"
expect 69 "status without a database" -- mc --json status --local
jrow aliases "" status=error "finding=cannot read the domains"
jrow memory ram "finding=available of"
mv "$T/elsewhere.db" "$T/mailctl.db"

# The JSON is one array of rows, each with exactly the documented keys.
mc --json status --local >"$T/out"
python3 - "$T/out" <<'PY' && pass || fail "JSON rows malformed"
import json, sys
rows = json.load(open(sys.argv[1]))
keys = {"check", "subject", "status", "network", "finding", "fix"}
assert rows and all(set(r) == keys for r in rows), rows
assert all(r["status"] in ("ok", "warning", "error", "skipped") for r in rows)
PY
done_tests
