#!/bin/bash
# 'mailctl cert' through the real binary on a private instance
# (tests/lib.sh): usage errors exit 64 and change nothing (database,
# certificate, key); 'cert list' and 'cert show' on setup's self-signed
# certificate say so plainly; 'cert renew' with nothing from a CA; a CA
# that cannot be reached and a directory document that is not ACME (served
# over HTTPS on loopback by openssl s_server) are clear errors that change
# neither certificate nor key, and are recorded as attempts. The working
# issuance against a real CA is tests/integration/acme.sh.
source "$MAILCTL_SRC/tests/lib.sh"

for tool in sqlite3 openssl python3; do
	command -v "$tool" >/dev/null || { echo "FAIL: '$tool' is not installed" >&2; exit 1; }
done

mc_setup
mc domain add example.org >/dev/null
mkdir -p "$T/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
	-subj "/CN=mail.example.org" -addext "subjectAltName=DNS:mail.example.org" \
	-keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
chmod 600 "$T/tls/key.pem"

state() { sha256sum "$T/mailctl.db" "$T/tls/cert.pem" "$T/tls/key.pem" | cut -d' ' -f1 | tr '\n' ' '; }
sql() { sqlite3 "$T/mailctl.db" "$1"; }
# unchanged DESCRIPTION: database, certificate and key are as before.
unchanged() {
	if [ "$(state)" = "$before" ]; then pass; else fail "$1 changed something"; fi
}

# ---- usage errors: exit 64, nothing touched ----
before=$(state)
usage() { # DESCRIPTION MESSAGE ARGS...
	local desc=$1 msg=$2
	shift 2
	expect 64 "$desc" -- mc cert "$@" && contains "$T/err" "$msg" "$desc: message"
	unchanged "$desc"
}
usage "--staging with --directory" "--staging and --directory exclude each other" \
	request --staging --directory https://ca.example/dir
usage "--eab-kid alone" "--eab-kid and --eab-hmac-key go together" request --eab-kid kid-1
usage "a wildcard name" "wildcards need DNS-01" request --names '*.example.org'
usage "an invalid name" "invalid --names" request --names 'mail..example.org'
usage "no names" "no names given" request --names ' , '
usage "an http directory" "'http://ca.example/dir' is not an https URL" \
	request --directory http://ca.example/dir
usage "a missing CA file" "invalid --ca-file '$T/none.pem'" request --ca-file "$T/none.pem"
usage "an unknown option" "unknown option '--agree'" request --agree
usage "an operand to request" "too many arguments" request example.org
usage "an operand to renew" "too many arguments" renew now
usage "an option of request to renew" "unknown option '--names'" renew --names a.example.org
usage "an operand to list" "too many arguments" list all
usage "rollover --abort with --force" "--abort takes no other option" rollover --abort --force
usage "rollover --at in the past" "invalid --at '2001-01-01T00:00:00Z': it is in the past" \
	rollover --at 2001-01-01T00:00:00Z
usage "rollover --at not a time" "invalid --at 'soon'" rollover --at soon
usage "rollover --resolver not an address" "invalid --resolver" rollover --resolver 'not an address'
usage "an operand to rollover" "too many arguments" rollover now
expect 0 "cert -h" -- mc cert -h && contains "$T/out" "request" "cert -h lists request"
expect 0 "cert rollover -h" -- mc cert rollover -h && contains "$T/out" "--abort" "rollover -h"
expect 0 "cert request -h" -- mc cert request -h && contains "$T/out" "--eab-hmac-key" "request -h"

# ---- the self-signed certificate, said plainly ----
expect 0 "cert list" -- mc cert list
contains "$T/out" "self-signed (from setup): no certificate from a CA yet; 'mailctl cert request' gets one" \
	"cert list says self-signed"
expect 0 "cert list --json" -- mc --json cert list
python3 - "$T/out" <<'PY' && pass || fail "cert list --json: $(head -c 400 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["self_signed"] is True, d
assert d[0]["names"] == ["mail.example.org"], d
assert 360 <= d[0]["days_left"] <= 365, d
PY
expect 0 "cert show" -- mc --json cert show
tlsa=$(openssl pkey -in "$T/tls/key.pem" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
python3 - "$T/out" "$tlsa" <<'PY' && pass || fail "cert show --json: $(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["self_signed"] is True and d["key_matches"] == "yes", d
assert d["tlsa_3_1_1"] == sys.argv[2], d["tlsa_3_1_1"]
assert d["ca"] == "none (self-signed)" and d["attempts"] == [], d
PY
# A rollover needs a certificate from a CA; --abort needs a rollover.
expect 64 "cert rollover with a self-signed certificate" -- mc cert rollover --resolver 127.0.0.1:9
contains "$T/err" "the served certificate is not from a CA: 'mailctl cert request' first" \
	"rollover says why not"
[ ! -e "$T/tls/key.pem.next" ] && pass || fail "a refused rollover left a next key"
unchanged "cert rollover with a self-signed certificate"
expect 64 "cert rollover --abort with none under way" -- mc cert rollover --abort
contains "$T/err" "no key rollover is under way" "abort says nothing is under way"
unchanged "cert rollover --abort with none under way"
expect 65 "cert renew with nothing from a CA" -- mc cert renew
contains "$T/err" "nothing to renew: no certificate from a CA was installed yet" "renew says why"
unchanged "cert renew with nothing from a CA"

# No host name: the default names cannot be made.
grep -v '^hostname:' "$MAILCTL_CONFIG" >"$T/nohost.yaml"
expect 78 "cert request without a host name" -- env MAILCTL_CONFIG="$T/nohost.yaml" "$MAILCTL" cert request
contains "$T/err" "no 'hostname' in the configuration" "no host name: says so"
unchanged "cert request without a host name"

# ---- CAs that fail: clear errors, certificate and key stay ----
cert_before=$(sha256sum "$T/tls/cert.pem" "$T/tls/key.pem")
expect 69 "an unreachable CA" -- mc cert request --directory https://127.0.0.1:1/directory
contains "$T/err" "cannot reach the CA at 'https://127.0.0.1:1/directory'" "unreachable: says so"

# A directory document that is not ACME, over HTTPS on loopback.
mkdir -p "$T/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=localhost" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$T/www.key" -out "$T/www.pem" 2>/dev/null
printf '{"newNonce": "https://127.0.0.1/n", "newAccount": "https://127.0.0.1/a", "newOrder": "http://127.0.0.1/o"}\n' \
	>"$T/www/dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$T/www" && exec openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$T/www.pem" \
	-key "$T/www.key" -WWW </dev/null >/dev/null 2>&1) &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$T"' EXIT
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
wait_for 10 listening && pass || fail "openssl s_server did not start"
expect 69 "a directory that is not ACME" -- mc cert request --directory "https://127.0.0.1:$port/dir" \
	--ca-file "$T/www.pem"
contains "$T/err" "is not an ACME directory: 'newOrder' is not an https URL" "not ACME: says what is wrong"
expect 69 "a CA whose certificate is not trusted" -- mc cert request --directory "https://127.0.0.1:$port/dir"
contains "$T/err" "cannot reach the CA" "untrusted: refused"
kill "$server" 2>/dev/null
[ "$(sha256sum "$T/tls/cert.pem" "$T/tls/key.pem")" = "$cert_before" ] && pass ||
	fail "a failed request changed the certificate or the key"
[ ! -e "$T/keys/acme-account.pem" ] && [ "$(sql 'SELECT count(*) FROM acme_accounts')" = 0 ] && pass ||
	fail "a request that never reached a CA made an account"
[ "$(sql "SELECT group_concat(result, ',') FROM cert_attempts")" = "failed,failed,failed" ] && pass ||
	fail "attempts recorded: $(sql 'SELECT result, detail FROM cert_attempts')"
expect 0 "cert show lists the attempts" -- mc cert show
contains "$T/out" "request failed: cannot reach the CA at 'https://127.0.0.1:1/directory'" "cert show: attempt"
expect 65 "cert renew after failed requests only" -- mc cert renew

done_tests
