#!/bin/bash
# tests/integration/acme.sh - 'mailctl cert' against a real ACME CA, Debian's
# pebble, in the isolated lab.
#
# Lab: 'ns' (192.0.2.53) runs nsd for example.com behind unbound, the
# resolver pebble validates with; 'ca' (ca.test, 192.0.2.40) runs pebble
# (ACME on 14000, its management API on 15000, TLS from a test root made
# here, passed to mailctl with --ca-file) with its default 5% of nonces
# rejected, and a plain HTTPS server serving directory documents that are
# not ACME; 'mx' (mail.example.com, 192.0.2.11) is set up as install.sh
# does ('mailctl setup', 'mailctl service start') and serves
# paths.acme_webroot on port 80 with nginx (mailctl's own site when 'mailctl
# service' runs nginx, else a minimal one written here) and the
# certificate on 443.
#  1. before: 'cert list' says the served certificate is setup's
#     self-signed one;
#  2. 'cert request' (names: mail.example.com, mta-sts.example.com,
#     autoconfig.example.com) installs pebble's chain; openssl s_client on
#     25 and 587 (STARTTLS), 465, 993, 995 and 443 gets that chain, issued
#     by pebble's intermediate and verified up to pebble's root; the time
#     from 'cert request' to verified on every port is printed;
#  3. 'cert renew' does nothing (not due); 'cert renew --force' gets a new
#     certificate with the same key: the TLSA record of 'dns records' and
#     the account stay the same; after pebble restarts (and forgets the
#     account) the same key registers again;
#  4. with nginx stopped the challenge of a new name fails with a clear
#     error, the token files are gone and the old certificate stays in place;
#  5. an unreachable directory and two invalid directory documents: clear
#     errors, nothing installed; every attempt is in 'cert show';
#  6. a second pebble that requires an external account binding: refused
#     without one and with a wrong key, issued with the right one;
#  7. a port that keeps serving the old certificate after the reload is an
#     error naming it, after a bounded wait; the attempt is 'unverified';
#  8. 'cert rollover': a new key whose TLSA 'dns records' shows beside the
#     old one; it waits while DNS lacks the record and for dns.ttl after DNS
#     shows it, then every port serves the new key; a second one, published,
#     mailctld finishes by itself; --abort deletes a next key;
#  9. the renewal job: certificates valid 90 s are renewed by mailctld;
# 10. with that CA gone, the failing renewal sends one expiry alert to the
#     postmaster mailbox;
# 11. a CA with renewal information (RFC 9773): a window in 10 days leaves
#     the certificate alone, a window in the past makes mailctld renew.
# Step 4 also asks for a name whose DNS points at another host.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in pebble nginx-light postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-pop3d \
	dovecot-lmtpd dovecot-sqlite dovecot-sieve nsd unbound ldnsutils openssl curl python3 acl; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=120
NS=$T/ns
CA=$T/ca
mkdir -p "$NS" "$CA/www"
mxctl() { host_mailctl mx "$@"; }

show_logs() {
	[ "$failures" != 0 ] || return 0
	local f
	for f in mx:/var/log/mail.log mx:/var/log/nginx-error.log mx:/var/log/mailctl/nginx-error.log \
		ca:/var/log/spawn.log; do
		f=$(host_path "${f%%:*}" "${f#*:}" 2>/dev/null) || continue
		[ -s "$f" ] || continue
		echo "--- ${f#"$LAB_DIR/"} (last 25 lines)" >&2
		tail -n 25 "$f" >&2
	done
}

lab_up() {
	host_create ns 192.0.2.53 2001:db8::53 &&
		HOST_FQDN=ca.test host_create ca 192.0.2.40 2001:db8::40 &&
		HOST_FQDN=mail.example.com host_create mx 192.0.2.11 2001:db8::11
}
if ! lab_up; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi
host_set_resolver mx 192.0.2.53

# ---- DNS: the names of the certificate point at mx ----
cat >"$NS/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 300
@ IN SOA ns.example.com. hostmaster.example.com. 1 3600 900 604800 300
@ IN NS ns.example.com.
ns IN A 192.0.2.53
mail IN A 192.0.2.11
mta-sts IN CNAME mail
autoconfig IN CNAME mail
fresh IN CNAME mail
wrongdns IN A 192.0.2.40
EOF
{
	nsd_server_conf "$NS"
	printf 'zone:\n\tname: example.com\n\tzonefile: "%s/example.com.zone"\n' "$NS"
} >"$NS/nsd.conf"
{
	unbound_server_conf "$NS"
	printf '\tmodule-config: "iterator"\n\tlocal-zone: "example.com." transparent\n'
	printf 'stub-zone:\n\tname: "example.com."\n\tstub-addr: 127.0.0.1@5353\n'
} >"$NS/unbound.conf"
# dns_start: nsd and unbound (again, after the zone changed: no cache left).
dns_start() {
	[ -z "${NSD_PID:-}" ] || kill "$NSD_PID" "$UNBOUND_PID" 2>/dev/null
	dns_gone() { ! kill -0 "$NSD_PID" 2>/dev/null && ! kill -0 "$UNBOUND_PID" 2>/dev/null; }
	[ -z "${NSD_PID:-}" ] || wait_for 10 dns_gone || fail "nsd and unbound did not stop"
	NSD_PID=$(host_spawn ns nsd -d -c "$NS/nsd.conf") || fail "nsd did not start"
	UNBOUND_PID=$(host_spawn ns unbound -d -c "$NS/unbound.conf") || fail "unbound did not start"
}
dns_start
dns_ready() { host_exec mx drill @192.0.2.53 A mta-sts.example.com 2>/dev/null | grep -q '192.0.2.11'; }
wait_for 10 dns_ready && pass || fail "the lab DNS does not answer: $(tail -5 "$NS/nsd.log" "$NS/unbound.log")"

# ---- the CA: pebble with a TLS certificate from a root made here ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=lab test root" \
	-keyout "$CA/root.key" -out "$CA/root.pem" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ca.test" \
		-keyout "$CA/tls.key" -out "$CA/tls.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:ca.test,IP:192.0.2.40\n' >"$CA/ext" &&
	openssl x509 -req -in "$CA/tls.csr" -CA "$CA/root.pem" -CAkey "$CA/root.key" -days 2 \
		-set_serial 1 -extfile "$CA/ext" -out "$CA/tls.pem" 2>/dev/null && pass ||
	fail "cannot make the CA's TLS certificate"
cat >"$CA/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "192.0.2.40:14000",
    "managementListenAddress": "192.0.2.40:15000",
    "certificate": "$CA/tls.pem",
    "privateKey": "$CA/tls.key",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
# Validation waits 0-3 s at random (pebble's default is up to 15), so the
# client's polling is exercised; nonces are rejected at pebble's default 5%.
start_pebble() {
	PEBBLE_PID=$(host_spawn ca env PEBBLE_VA_SLEEPTIME=3 pebble -config "$CA/pebble.json" \
		-dnsserver 192.0.2.53:53) || fail "pebble did not start"
}
start_pebble
DIR=https://ca.test:14000/dir
ca_ready() { host_exec mx curl -sf --cacert "$CA/root.pem" -o /dev/null "$DIR"; }
wait_for 15 ca_ready && pass || fail "pebble does not answer at $DIR"
# Directory documents that are not ACME, over HTTPS, for step 5.
printf '{"newNonce": "https://ca.test:14000/nonce-plz", "newAccount": "https://ca.test:14000/sign-me-up"}\n' \
	>"$CA/www/partial"
printf '<html><body>It works!</body></html>\n' >"$CA/www/html"
host_sh ca 'cd "$1" && exec setsid openssl s_server -quiet -accept 192.0.2.40:14001 -cert "$2" -key "$3" -WWW \
	</dev/null >>/var/log/spawn.log 2>&1 &' _ "$CA/www" "$CA/tls.pem" "$CA/tls.key"
expect 0 "the HTTPS server of invalid directories answers" -- host_wait_port mx 192.0.2.40 14001 10

# ---- mx as install.sh and setup leave it, with nginx on 80 and 443 ----
expect 0 "install.sh's users and files in mx" -- host_install_mailctl mx
expect 0 "mailctl setup in mx" -- mxctl setup
expect 0 "database writable by group mailctl, as install.sh leaves it" -- host_db_writable mx
expect 0 "service start in mx" -- mxctl service start
CONF=$(host_path mx /etc/mailctl/mailctl.yaml)
cfg() { # KEY: the effective value of a configuration key in mx
	mxctl --json config show | python3 -c 'import json, sys
print(next(i["value"] for i in json.load(sys.stdin) if i["key"] == sys.argv[1]))' "$1"
}
WEBROOT=$(cfg paths.acme_webroot)
CERT=$(cfg tls.cert_file)
KEY=$(cfg tls.key_file)
[ -n "$WEBROOT" ] && [ -n "$CERT" ] && pass || fail "no paths.acme_webroot or tls.cert_file in $CONF"
# The same files seen from the test (under mx's private /var/lib/mailctl).
CERT_T=$(host_path mx "$CERT")
MCLOG=$(host_path mx /var/log/mailctl/mailctl.log)
TOKENS_T=$(host_path mx "$WEBROOT/.well-known/acme-challenge")
DB_T=$(host_path mx /var/lib/mailctl/mailctl.db)
sql() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$DB_T" "$1"; }

nginx_running() { host_exec mx sh -c 'kill -0 "$(cat /run/nginx.pid)"' 2>/dev/null; }
OWN_NGINX=
if nginx_running; then
	echo "nginx: mailctl's own site (started by 'mailctl service start')"
else
	# mailctl does not run nginx yet: a minimal site with the same layout.
	OWN_NGINX=$T/nginx.conf
	cat >"$OWN_NGINX" <<EOF
user root;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx-error.log;
events { worker_connections 64; }
http {
	access_log /var/log/nginx-access.log;
	server {
		listen 80 default_server;
		location ^~ /.well-known/acme-challenge/ {
			root $WEBROOT;
			default_type text/plain;
		}
		location / { return 404; }
	}
	server {
		listen 443 ssl default_server;
		ssl_certificate $CERT;
		ssl_certificate_key $KEY;
		location / { return 404; }
	}
}
EOF
	host_exec mx mkdir -p /var/log/nginx /var/lib/nginx
	echo "nginx: a minimal site from this test ('mailctl service' does not run nginx)"
fi
start_nginx() {
	if [ -n "$OWN_NGINX" ]; then host_exec mx nginx -c "$OWN_NGINX"; else mxctl service start >/dev/null; fi
	wait_for 10 nginx_running
}
stop_nginx() {
	host_exec mx sh -c 'kill -QUIT "$(cat /run/nginx.pid)"'
	! wait_for 10 nginx_running || return 1
	! host_wait_port ca 192.0.2.11 80 1 2>/dev/null
}
[ -n "$OWN_NGINX" ] && { expect 0 "nginx starts in mx" -- start_nginx; }
expect 0 "port 80 of mx reachable from the CA" -- host_wait_port ca 192.0.2.11 80 10
# The web server reads what mailctl writes there: a probe file.
host_exec mx mkdir -p "$WEBROOT/.well-known/acme-challenge"
echo "probe $$" | host_exec mx tee "$WEBROOT/.well-known/acme-challenge/probe" >/dev/null
host_exec mx chmod 0644 "$WEBROOT/.well-known/acme-challenge/probe"
got=$(host_exec ca curl -s http://mail.example.com/.well-known/acme-challenge/probe --resolve mail.example.com:80:192.0.2.11)
[ "$got" = "probe $$" ] && pass ||
	fail "nginx does not serve paths.acme_webroot '$WEBROOT' on port 80: got '$got'"
host_exec mx rm -f "$WEBROOT/.well-known/acme-challenge/probe"

# The CA's issuing chain, from pebble's management API (new at each start).
pebble_chain() {
	host_exec mx curl -sf --cacert "$CA/root.pem" -o "$CA/pebble-root.pem" https://ca.test:15000/roots/0 &&
		host_exec mx curl -sf --cacert "$CA/root.pem" -o "$CA/pebble-int.pem" \
			https://ca.test:15000/intermediates/0 && pass || fail "cannot fetch pebble's root and intermediate"
	INT_SUBJECT=$(openssl x509 -in "$CA/pebble-int.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	[ -n "$INT_SUBJECT" ] && pass || fail "no subject in pebble's intermediate"
}
pebble_chain

# served PORT: the leaf certificate mx serves on PORT, as PEM, into $T/served.pem.
served() {
	local args=(-connect 192.0.2.11:"$1" -servername mail.example.com -showcerts)
	case $1 in 25 | 587) args+=(-starttls smtp) ;; esac
	host_exec ca timeout 10 openssl s_client "${args[@]}" -CAfile "${ROOT:-$CA/pebble-root.pem}" \
		-verify_return_error </dev/null >"$T/sclient" 2>&1
	local rc=$?
	openssl x509 -in "$T/sclient" -out "$T/served.pem" 2>/dev/null
	return $rc
}
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null; }
tlsa() { mxctl dns records example.com | awk '$4 == "TLSA" { print $5, $6, $7, $8 }'; }

# ---- 1. before: setup's self-signed certificate, said plainly ----
expect 0 "cert list before any request" -- mxctl cert list
contains "$T/out" "self-signed (from setup): no certificate from a CA yet" "cert list says self-signed"
SELF_FP=$(fp "$CERT_T")
TLSA_BEFORE=$(tlsa)
[ -n "$TLSA_BEFORE" ] && pass || fail "dns records prints no TLSA record"

# ---- 2. request: installed, served on every port ----
t0=$(date +%s%N)
expect 0 "cert request from pebble" -- mxctl cert request --directory "$DIR" --ca-file "$CA/root.pem"
t1=$(date +%s%N)
cp "$T/out" "$T/request.out"
echo "cert request to verified on every port: $(((t1 - t0) / 1000000)) ms (mailctl: $(grep 'took:' "$T/request.out" | sed 's/^ *took: *//'))"
contains "$T/request.out" "installed a certificate for mail.example.com, mta-sts.example.com, autoconfig.example.com" \
	"request names the default names"
contains "$T/request.out" "(new account)" "a new account was registered"
for p in "25 smtp" "465 submissions" "587 submission" "993 imaps" "995 pop3s" "443 https"; do
	contains "$T/request.out" "port $p: new" "mailctl saw the new certificate on $p"
done
NEW_FP=$(fp "$CERT_T")
[ "$NEW_FP" != "$SELF_FP" ] && pass || fail "tls.cert_file did not change"
openssl verify -CAfile "$CA/pebble-root.pem" -untrusted "$CA/pebble-int.pem" "$CERT_T" >/dev/null 2>&1 && pass ||
	fail "the installed certificate does not verify up to pebble's root"
for port in 25 465 587 993 995 443; do
	if served "$port"; then pass; else fail "s_client on $port does not verify: $(grep -i 'verify\|error' "$T/sclient" | head -3)"; fi
	[ "$(fp "$T/served.pem")" = "$NEW_FP" ] && pass || fail "port $port serves $(fp "$T/served.pem"), not the new one"
	issuer=$(openssl x509 -in "$T/served.pem" -noout -issuer -nameopt RFC2253 2>/dev/null | sed 's/^issuer=//')
	[ "$issuer" = "$INT_SUBJECT" ] && pass || fail "port $port: issuer '$issuer', not pebble's '$INT_SUBJECT'"
done
for n in mail.example.com mta-sts.example.com autoconfig.example.com; do
	openssl x509 -in "$CERT_T" -noout -checkhost "$n" | grep -q 'does match' && pass || fail "the certificate lacks $n"
done
[ -d "$TOKENS_T" ] && [ -z "$(ls -A "$TOKENS_T")" ] && pass ||
	fail "token files left in the webroot: $(ls -A "$TOKENS_T" 2>&1)"
[ "$(stat -c %a "$(host_path mx "$KEY")")" = 600 ] && pass || fail "the TLS key is not 0600"
expect 0 "cert list after the request" -- mxctl cert list
contains "$T/out" "from a CA; renews after" "cert list says the CA's certificate"
contains "$T/out" "${INT_SUBJECT#CN=}" "cert list names pebble's intermediate"
[ "$(tlsa)" = "$TLSA_BEFORE" ] && pass || fail "TLSA changed with the request: '$(tlsa)' vs '$TLSA_BEFORE'"

# ---- 3. renew: not due; forced keeps the key and the account ----
expect 0 "cert renew when not due" -- mxctl cert renew
contains "$T/out" "not renewed:" "renew says why not"
[ "$(fp "$CERT_T")" = "$NEW_FP" ] && pass || fail "cert renew changed the certificate when not due"
expect 0 "cert renew --force" -- mxctl --json cert renew --force
cp "$T/out" "$T/renew.json"
python3 - "$T/renew.json" <<'PY' && pass || fail "renew --force report: $(head -c 600 "$T/renew.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["action"] == "issued", d["action"]
assert d["key_new"] is False
assert all(p.endswith(": new") or ": closed" in p for p in d["ports"]), d["ports"]
assert "(new account)" not in d["message"]
print("renew: %d ms, %d requests, %d nonce(s) rejected" % (d["total_ms"], d["requests"], d["bad_nonces"]))
PY
RENEW_FP=$(fp "$CERT_T")
[ "$RENEW_FP" != "$NEW_FP" ] && pass || fail "renew --force installed no new certificate"
[ "$(tlsa)" = "$TLSA_BEFORE" ] && pass || fail "TLSA changed with the renewal: '$(tlsa)' vs '$TLSA_BEFORE'"
served 25 && [ "$(fp "$T/served.pem")" = "$RENEW_FP" ] && pass || fail "port 25 does not serve the renewed certificate"
[ "$(sql 'SELECT count(*) FROM acme_accounts')" = 1 ] && pass ||
	fail "want one ACME account kept, have $(sql 'SELECT count(*) FROM acme_accounts')"
# pebble forgets everything when it restarts: the kept account is gone,
# and the same key registers again.
ACCOUNT=$(sql 'SELECT url FROM acme_accounts')
kill "$PEBBLE_PID"
pebble_gone() { ! kill -0 "$PEBBLE_PID" 2>/dev/null; }
wait_for 10 pebble_gone && pass || fail "pebble did not stop"
start_pebble
wait_for 15 ca_ready && pass || fail "pebble does not answer after its restart"
pebble_chain
expect 0 "cert renew --force after the CA forgot the account" -- mxctl cert renew --force
contains "$T/out" "(new account)" "the account was registered again"
[ "$(sql 'SELECT count(*) FROM acme_accounts')" = 1 ] && [ "$(sql 'SELECT url FROM acme_accounts')" != "$ACCOUNT" ] &&
	pass || fail "the account row was not updated: $(sql 'SELECT url FROM acme_accounts')"
RENEW_FP=$(fp "$CERT_T")
served 993 && [ "$(fp "$T/served.pem")" = "$RENEW_FP" ] && pass || fail "993 does not serve the latest certificate"
[ "$(tlsa)" = "$TLSA_BEFORE" ] && pass || fail "TLSA changed with the second renewal"

# ---- 4. a failed challenge: clear error, old certificate stays ----
expect 0 "nginx stops" -- stop_nginx
# (a name never validated before: pebble reuses valid authorizations)
expect 65 "cert request with nginx stopped" -- mxctl cert request --directory "$DIR" \
	--names fresh.example.com
contains "$T/err" "validation of 'fresh.example.com' failed" "the error names the name that failed"
grep -qE '\((connection|unauthorized)' "$T/err" && pass || fail "the error lacks the CA's reason: $(cat "$T/err")"
[ "$(fp "$CERT_T")" = "$RENEW_FP" ] && pass || fail "a failed request replaced the certificate"
[ -z "$(ls -A "$TOKENS_T")" ] && pass || fail "a failed request left token files: $(ls -A "$TOKENS_T")"
expect 0 "nginx starts again" -- start_nginx
served 443 && [ "$(fp "$T/served.pem")" = "$RENEW_FP" ] && pass || fail "443 does not serve the kept certificate"
# A name whose DNS points elsewhere (the CA's own host, where nothing serves
# port 80): the challenge fails, and the error says where the CA looked.
expect 65 "cert request of a name whose DNS points elsewhere" -- mxctl cert request --directory "$DIR" \
	--names mail.example.com,wrongdns.example.com
contains "$T/err" "validation of 'wrongdns.example.com' failed" "wrong DNS: the error names the name"
contains "$T/err" "192.0.2.40" "wrong DNS: the error names the address the CA tried"
[ "$(fp "$CERT_T")" = "$RENEW_FP" ] && pass || fail "a failed request (wrong DNS) replaced the certificate"
[ -z "$(ls -A "$TOKENS_T")" ] && pass || fail "a failed request (wrong DNS) left token files: $(ls -A "$TOKENS_T")"

# ---- 5. unreachable and invalid directories: clear errors ----
expect 69 "an unreachable directory" -- mxctl cert request --directory https://ca.test:14999/dir
contains "$T/err" "cannot reach the CA at 'https://ca.test:14999/dir'" "unreachable: says so"
expect 69 "a directory without newOrder" -- mxctl cert request --directory https://ca.test:14001/partial \
	--ca-file "$CA/root.pem"
contains "$T/err" "is not an ACME directory: 'newOrder' is missing" "partial directory: says what is missing"
expect 69 "a directory that is HTML" -- mxctl cert request --directory https://ca.test:14001/html \
	--ca-file "$CA/root.pem"
contains "$T/err" "is not an ACME directory: not JSON" "HTML directory: says so"
expect 69 "a CA whose TLS certificate is not trusted" -- mxctl cert request --directory https://ca.test:14001/partial \
	--ca-file "$CA/pebble-root.pem"
contains "$T/err" "cannot reach the CA" "untrusted CA certificate: refused"
[ "$(fp "$CERT_T")" = "$RENEW_FP" ] && pass || fail "a bad directory changed the certificate"

# Every attempt that reached for a CA is recorded.
[ "$(sql "SELECT group_concat(kind || ' ' || result, ',') FROM cert_attempts")" = \
	"request issued,renew issued,renew issued,request failed,request failed,request failed,request failed,request failed,request failed" ] &&
	pass || fail "attempts recorded: $(sql "SELECT group_concat(kind || ' ' || result, ',') FROM cert_attempts")"
expect 0 "cert show --json" -- mxctl --json cert show
python3 - "$T/out" <<'PY' && pass || fail "cert show: $(head -c 800 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
a = d["attempts"]
assert len(a) == 5, a
assert " request failed: " in a[0] and "cannot reach" in a[0], a[0]
assert " request failed: " in a[4] and "validation of" in a[4], a[4]
assert d["ca"] == "https://ca.test:14000/dir", d["ca"]
assert d["key_matches"] == "yes" and d["self_signed"] is False
PY

# ---- 6. a CA that wants an external account binding (RFC 8555 7.3.4) ----
EAB_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
OTHER_KEY=b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH
sed -e 's/:14000"/:14002"/; s/:15000"/:15002"/' \
	-e 's/"externalAccountBindingRequired": false/"externalAccountBindingRequired": true,\n    "externalAccountMACKeys": {"kid-1": "'"$EAB_KEY"'", "kid-2": "'"$OTHER_KEY"'"}/' \
	"$CA/pebble.json" >"$CA/pebble-eab.json"
host_spawn ca env PEBBLE_VA_SLEEPTIME=3 pebble -config "$CA/pebble-eab.json" \
	-dnsserver 192.0.2.53:53 >/dev/null || fail "pebble with EAB did not start"
EAB_DIR=https://ca.test:14002/dir
eab_ready() { host_exec mx curl -sf --cacert "$CA/root.pem" -o /dev/null "$EAB_DIR"; }
wait_for 15 eab_ready && pass || fail "pebble with EAB does not answer at $EAB_DIR"
host_exec mx curl -sf --cacert "$CA/root.pem" -o "$CA/eab-root.pem" https://ca.test:15002/roots/0 ||
	fail "cannot fetch the root of pebble with EAB"
expect 78 "a CA that wants EAB, without it" -- mxctl cert request --directory "$EAB_DIR" \
	--ca-file "$CA/root.pem"
contains "$T/err" "requires an external account binding: give --eab-kid and --eab-hmac-key" \
	"no EAB: says what to give"
expect 65 "an EAB with the wrong key" -- mxctl cert request --directory "$EAB_DIR" \
	--ca-file "$CA/root.pem" --eab-kid kid-1 --eab-hmac-key "$OTHER_KEY"
contains "$T/err" "the CA refused to register the account" "wrong EAB key: refused"
[ "$(fp "$CERT_T")" = "$RENEW_FP" ] && pass || fail "a refused EAB changed the certificate"
expect 0 "cert request with EAB" -- mxctl cert request --directory "$EAB_DIR" \
	--ca-file "$CA/root.pem" --eab-kid kid-1 --eab-hmac-key "$EAB_KEY"
contains "$T/out" "(new account)" "EAB: a new account at the second CA"
EAB_FP=$(fp "$CERT_T")
[ "$EAB_FP" != "$RENEW_FP" ] && pass || fail "the EAB request installed nothing"
ROOT=$CA/eab-root.pem served 995 && [ "$(fp "$T/served.pem")" = "$EAB_FP" ] && pass ||
	fail "995 does not serve the certificate of the EAB CA"
[ "$(sql 'SELECT count(*) FROM acme_accounts')" = 2 ] && pass || fail "want one account per CA"
expect 0 "cert renew after the EAB request" -- mxctl cert renew
contains "$T/out" "not renewed:" "renew: the EAB certificate is not due"

# ---- 7. a port that keeps serving the old certificate: an error ----
# Dovecot stopped, and 993 served by openssl s_server with the old chain.
cp "$CERT_T" "$T/old.pem"
expect 0 "dovecot stops" -- host_exec mx doveadm -c /etc/dovecot/dovecot.conf stop
dovecot_gone() { ! host_wait_port ca 192.0.2.11 995 1 2>/dev/null; }
wait_for 10 dovecot_gone && pass || fail "dovecot still listens on 995"
SSERVER=$(host_spawn mx openssl s_server -quiet -accept 993 -cert "$T/old.pem" -key "$KEY") ||
	fail "openssl s_server did not start on 993"
expect 0 "the old certificate on 993" -- host_wait_port ca 192.0.2.11 993 10
t0=$(date +%s)
expect 75 "cert renew --force with 993 keeping the old certificate" -- mxctl cert renew --force
secs=$(($(date +%s) - t0))
contains "$T/err" "installed the new certificate, but port 993 (imaps) still serves the old certificate" \
	"the port that lags is named"
contains "$T/out" "993 imaps: old" "the report shows 993 old"
contains "$T/out" "995 pop3s: closed" "the report shows 995 closed"
contains "$T/out" "25 smtp: new" "the report shows 25 new"
[ "$secs" -le 30 ] && pass || fail "the checks of a lagging port took $secs s"
[ "$(fp "$CERT_T")" != "$EAB_FP" ] && pass || fail "the renewal was not installed"
[ "$(sql 'SELECT result FROM cert_attempts ORDER BY id DESC LIMIT 1')" = unverified ] && pass ||
	fail "the attempt is not recorded as unverified"
kill "$SSERVER"
s_server_gone() { ! kill -0 "$SSERVER" 2>/dev/null; }
wait_for 5 s_server_gone || fail "openssl s_server did not stop"
expect 0 "service start brings Dovecot back" -- mxctl service start
ROOT=$CA/eab-root.pem served 993 && [ "$(fp "$T/served.pem")" = "$(fp "$CERT_T")" ] && pass ||
	fail "993 does not serve the installed certificate after Dovecot is back"

# ---- 8. key rollover: the new key's TLSA beside the old one, then the switch ----
# (Postfix throttles 465 and 587 for a minute after step 7's Dovecot stop.)
tls_465() { ROOT=$CA/eab-root.pem served 465; }
wait_for 90 tls_465 && pass || fail "465 does not serve TLS again after Dovecot is back"
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
next_tlsa() { mxctl --json cert show | python3 -c 'import json, sys; print(json.load(sys.stdin)["rollover_next_tlsa"])'; }
# dns.ttl at its minimum, so the wait for caches is a minute.
if grep -q '^dns:' "$CONF"; then sed -i 's/^dns:$/dns:\n  ttl: 60/' "$CONF"; else printf 'dns:\n  ttl: 60\n' >>"$CONF"; fi
[ "$(cfg dns.ttl)" = 60 ] && pass || fail "dns.ttl is not 60: $(cfg dns.ttl)"
# publish_tlsa: the zone gets exactly the TLSA records 'dns records' prints.
publish_tlsa() {
	host_mailctl mx dns records example.com >"$T/zone" || return 1
	python3 - "$NS/example.com.zone" "$T/zone" <<'PY' || return 1
import re, sys
zone = [l for l in open(sys.argv[1]) if " TLSA " not in l and "\tTLSA\t" not in l]
zone = [re.sub(r"SOA (\S+ \S+) (\d+) ", lambda m: "SOA %s %d " % (m.group(1), int(m.group(2)) + 1), l) for l in zone]
zone += [l for l in open(sys.argv[2]) if not l.startswith(";") and l.split()[3:4] == ["TLSA"]]
open(sys.argv[1], "w").write("".join(zone))
PY
	dns_start
}
ROLL_FP=$(fp "$CERT_T")
OLD_TLSA=$(tlsa)
[ "$(echo "$OLD_TLSA" | wc -l)" = 1 ] && [ "${OLD_TLSA##* }" = "$(spki "$CERT_T")" ] && pass ||
	fail "before the rollover: want one TLSA, of the served key: $OLD_TLSA"
expect 0 "cert rollover starts" -- mxctl cert rollover
contains "$T/out" "rollover started: a new TLS key is made" "rollover: started"
NEXT=$(next_tlsa)
[ ${#NEXT} = 64 ] && pass || fail "cert show has no next key: '$NEXT'"
contains "$T/out" "_25._tcp.mail.example.com. TLSA 3 1 1 $NEXT" "rollover: the record to publish"
[ "$(stat -c %a "$(host_path mx "$KEY.next")")" = 600 ] && pass || fail "the next key is not 0600"
[ "$(tlsa | sort)" = "$(printf '%s\n' "$OLD_TLSA" "3 1 1 $NEXT" | sort)" ] && pass ||
	fail "dns records does not show both TLSA records: $(tlsa)"
host_mailctl mx dns records example.com >"$T/zone" && ldns-read-zone "$T/zone" >/dev/null && pass ||
	fail "ldns-read-zone refuses the zone with two TLSA records"
expect 75 "rollover waits while DNS lacks the record" -- mxctl cert rollover --resolver 192.0.2.53
contains "$T/out" "_25._tcp.mail.example.com. has no TLSA record yet" "rollover: says DNS lacks it"
[ "$(fp "$CERT_T")" = "$ROLL_FP" ] && pass || fail "a waiting rollover changed the certificate"
# Publish exactly what 'dns records' prints for the TLSA name.
publish_tlsa || fail "cannot publish the TLSA records"
tlsa_ready() { host_exec mx drill @192.0.2.53 TLSA _25._tcp.mail.example.com 2>/dev/null | grep -qi "$NEXT"; }
wait_for 10 tlsa_ready && pass || fail "the lab DNS does not serve the new TLSA"
TTL=$(cfg dns.ttl)
expect 75 "rollover waits dns.ttl once DNS shows it" -- mxctl cert rollover --resolver 192.0.2.53
contains "$T/out" "shows the next key; resolvers may cache the old set for dns.ttl (${TTL}s)" \
	"rollover: waits for caches"
[ "$(fp "$CERT_T")" = "$ROLL_FP" ] && pass || fail "the rollover switched before dns.ttl"
expect 0 "rollover switches after dns.ttl" -- mxctl cert rollover --resolver 192.0.2.53 \
	--at "@$(($(date +%s) + TTL + 5))" ||
	{ cat "$T/out"; grep -E 'warning|error|fatal' "$(host_path mx /var/log/mail.log)" | tail -20; }
contains "$T/out" "rollover done: the new key serves now" "rollover: done"
contains "$T/out" "TLSA 3 1 1 ${OLD_TLSA##* } can be removed" "rollover: says which record can go"
[ "$(spki "$CERT_T")" = "$NEXT" ] && [ "$(fp "$CERT_T")" != "$ROLL_FP" ] && pass ||
	fail "the installed certificate is not for the new key"
for port in 25 465 993 443; do
	ROOT=$CA/eab-root.pem served $port && [ "$(spki "$T/served.pem")" = "$NEXT" ] && pass ||
		fail "port $port does not serve the new key after the rollover"
done
[ "$(tlsa)" = "3 1 1 $NEXT" ] && pass || fail "after the switch dns records shows: $(tlsa)"
[ ! -e "$(host_path mx "$KEY.next")" ] && [ ! -e "$(host_path mx "$KEY.next-seen")" ] && pass ||
	fail "the rollover's files are left"
[ "$(sql 'SELECT kind || " " || result FROM cert_attempts ORDER BY id DESC LIMIT 1')" = "rollover issued" ] &&
	pass || fail "the rollover is not recorded: $(sql 'SELECT kind || " " || result FROM cert_attempts ORDER BY id DESC LIMIT 1')"
# A rollover the admin starts and publishes, mailctld finishes: it asks DNS
# when kicked, then switches once dns.ttl has passed.
expect 0 "a second rollover starts" -- mxctl cert rollover
NEXT2=$(next_tlsa)
publish_tlsa || fail "cannot publish the second TLSA records"
tlsa_ready2() { host_exec mx drill @192.0.2.53 TLSA _25._tcp.mail.example.com 2>/dev/null | grep -qi "$NEXT2"; }
wait_for 10 tlsa_ready2 && pass || fail "the lab DNS does not serve the second new TLSA"
host_exec mx pkill -HUP -x mailctld || fail "no mailctld to signal"
rolled() { grep -q "TLS key rolled over: new TLSA 3 1 1 $NEXT2" "$MCLOG"; }
wait_for 120 rolled && pass || fail "mailctld did not finish the rollover: $(grep -i 'rollover\|rolled\|certif' "$MCLOG" | tail -3)"
ROOT=$CA/eab-root.pem served 25 && [ "$(spki "$T/served.pem")" = "$NEXT2" ] && pass ||
	fail "25 does not serve the key mailctld switched to"
[ "$(tlsa)" = "3 1 1 $NEXT2" ] && pass || fail "after mailctld's switch dns records shows: $(tlsa)"
expect 0 "a rollover started again" -- mxctl cert rollover
expect 0 "cert rollover --abort" -- mxctl cert rollover --abort
contains "$T/out" "rollover aborted: the next key is deleted" "abort: says so"
[ "$(tlsa)" = "3 1 1 $NEXT2" ] && [ ! -e "$(host_path mx "$KEY.next")" ] && pass ||
	fail "after --abort: $(tlsa)"
expect 64 "--abort with nothing under way" -- mxctl cert rollover --abort
contains "$T/err" "no key rollover is under way" "abort: nothing under way"

# ---- 9. the renewal job: mailctld renews by itself ----
# A third pebble issues certificates valid 90 s, so one is due (a third of
# its life left) a minute after issue. 'cert request' writes the database,
# mailctld reloads and asks its root helper when the certificate is due,
# then renews it at that time without being asked.
sed -e 's/:14000"/:14004"/; s/:15000"/:15004"/' \
	-e 's/"externalAccountBindingRequired": false/"externalAccountBindingRequired": false,\n    "certificateValidityPeriod": 90/' \
	"$CA/pebble.json" >"$CA/pebble-short.json"
SHORT_PID=$(host_spawn ca env PEBBLE_VA_SLEEPTIME=1 pebble -config "$CA/pebble-short.json" \
	-dnsserver 192.0.2.53:53) || fail "pebble with short certificates did not start"
SHORT_DIR=https://ca.test:14004/dir
short_ready() { host_exec mx curl -sf --cacert "$CA/root.pem" -o /dev/null "$SHORT_DIR"; }
wait_for 15 short_ready && pass || fail "pebble with short certificates does not answer"
# (exit 75 is possible here: mailctld's own job may be reloading a server
# while the ports are checked; what matters is what got installed)
mxctl cert request --directory "$SHORT_DIR" --ca-file "$CA/root.pem" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || { [ "$rc" = 75 ] && grep -q "installed the new certificate, but port" "$T/err"; } && pass ||
	fail "cert request of a 90-second certificate: exit $rc: $(cat "$T/err")"
SHORT_FP=$(fp "$CERT_T")
life=$(($(date -d "$(openssl x509 -in "$CERT_T" -noout -enddate | sed 's/notAfter=//')" +%s) -
	$(date -d "$(openssl x509 -in "$CERT_T" -noout -startdate | sed 's/notBefore=//')" +%s)))
[ "$life" -le 100 ] && pass || fail "the installed certificate lives $life s, not 90"
renewal_logged() { grep -q "certificate renewed (issued)" "$MCLOG"; }
if wait_for 120 renewal_logged; then pass; else
	fail "mailctld did not renew the certificate by itself: $(grep -i 'certif' "$MCLOG" | tail -5)"
fi
[ "$(fp "$CERT_T")" != "$SHORT_FP" ] && pass || fail "the daemon's renewal was not installed"
[ "$(sql "SELECT count(*) FROM cert_attempts WHERE directory = '$SHORT_DIR'")" -ge 2 ] && pass ||
	fail "the daemon's renewal is not recorded"

# ---- 10. renewal keeps failing close to expiry: one alert to the postmaster ----
# The CA goes away; the 90-second certificate is always within 14 days of
# its end, so the first failed renewal sends the alert.
kill "$SHORT_PID"
short_gone() { ! kill -0 "$SHORT_PID" 2>/dev/null; }
wait_for 10 short_gone && pass || fail "the short-lived pebble did not stop"
alert_logged() { grep -q "certificate expiry alert sent to" "$MCLOG"; }
if wait_for 150 alert_logged; then pass; else
	fail "no expiry alert from mailctld: $(grep -i 'certif' "$MCLOG" | tail -5)"
fi
grep -q "certificate renewal failed: .*cannot reach the CA" "$MCLOG" && pass ||
	fail "the failed renewal is not logged with its reason: $(grep -i 'renewal' "$MCLOG" | tail -3)"
MAILROOT=$(host_path mx /var/mail)
alert_files() { # the messages (not Dovecot's index files) with the alert's subject
	find "$MAILROOT" -type f \( -path '*/new/*' -o -path '*/cur/*' \) -print0 |
		xargs -0 -r grep -ls "^Subject: \[mail.example.com\] the TLS certificate expires"
}
alert_delivered() { [ -n "$(alert_files)" ]; }
wait_for 20 alert_delivered && pass || fail "the alert is not in a mailbox under /var/mail: $(tail -5 "$(host_path mx /var/log/mail.log)")"
ALERT=$(alert_files | head -1)
[ "$(alert_files | wc -l)" = 1 ] && pass || fail "$(alert_files | wc -l) alerts, want 1: $(alert_files)"
for want in "mailctld could not renew the certificate of mail.example.com" "Last attempt: " \
	"cannot reach the CA" "Auto-Submitted: auto-generated"; do
	[ -n "$ALERT" ] && grep -qF "$want" "$ALERT" && pass || fail "the alert lacks '$want'"
done
[ -n "$ALERT" ] && grep -q '^DKIM-Signature:' "$ALERT" && pass || fail "the alert left unsigned"
[ "$(sql "SELECT result FROM cert_attempts WHERE directory = '$SHORT_DIR' ORDER BY id DESC LIMIT 1")" = failed ] &&
	pass || fail "the failed renewal is not recorded"

# ---- 11. ACME Renewal Information (RFC 9773): the CA says when ----
# Debian's pebble (2.4) has no renewalInfo, so the CA here is pebble's
# directory with renewalInfo added, served with the windows by openssl
# s_server -HTTP (static files that are whole HTTP responses); ordering
# still goes to pebble.
ARI=$CA/ari-www
mkdir -p "$ARI/ari"
host_exec mx curl -sf --cacert "$CA/root.pem" "$DIR" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["renewalInfo"] = "https://ca.test:14006/ari/"
body = json.dumps(d)
sys.stdout.write("HTTP/1.0 200 ok\r\nContent-Type: application/json\r\n\r\n" + body)' >"$ARI/dir" &&
	pass || fail "cannot build the directory with renewalInfo"
host_sh ca 'cd "$1" && exec setsid openssl s_server -quiet -accept 192.0.2.40:14006 -cert "$2" -key "$3" -HTTP \
	</dev/null >>/var/log/spawn.log 2>&1 &' _ "$ARI" "$CA/tls.pem" "$CA/tls.key"
expect 0 "the ARI server answers" -- host_wait_port mx 192.0.2.40 14006 10
ARI_DIR=https://ca.test:14006/dir
mxctl cert request --directory "$ARI_DIR" --ca-file "$CA/root.pem" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || { [ "$rc" = 75 ] && grep -q "installed the new certificate, but port" "$T/err"; } && pass ||
	fail "cert request from the CA with renewalInfo: exit $rc: $(cat "$T/err")"
CERTID=$(mxctl --json cert show | python3 -c 'import json, sys; print(json.load(sys.stdin)["ari_cert_id"])')
[[ "$CERTID" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] && pass || fail "cert show has no certID: '$CERTID'"
window() { # FROM-SECONDS TO-SECONDS RETRY-AFTER: the served certificate's window, from now
	local from to
	from=$(date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ)
	to=$(date -u -d "@$(($(date +%s) + $2))" +%Y-%m-%dT%H:%M:%SZ)
	printf 'HTTP/1.0 200 ok\r\nContent-Type: application/json\r\nRetry-After: %s\r\n\r\n{"suggestedWindow": {"start": "%s", "end": "%s"}}' \
		"$3" "$from" "$to" >"$ARI/ari/$CERTID"
}
window $((10 * 86400)) $((11 * 86400)) 60
expect 0 "cert renew with the window in 10 days" -- mxctl cert renew
contains "$T/out" "not renewed:" "ARI in 10 days: not renewed"
contains "$T/out" "the CA's renewal window (RFC 9773) is" "ARI: the reason names the CA's window"
ARI_FP=$(fp "$CERT_T")
# mailctld reads that window too (made to ask now, after its own check at
# the request raced the window's file) and keeps it for Retry-After (60 s).
host_exec mx pkill -HUP -x mailctld || fail "no mailctld to signal"
sleep 5
# The CA moves the window into the past: mailctld, which asks again when
# the CA's Retry-After says, renews unasked.
renewed_before=$(grep -c "certificate renewed (issued)" "$MCLOG")
window -7200 -3600 3600
ari_renewed() { [ "$(grep -c "certificate renewed (issued)" "$MCLOG")" -gt "$renewed_before" ]; }
wait_for 100 ari_renewed && pass || fail "mailctld did not renew when ARI said so: $(grep -i 'certif' "$MCLOG" | tail -3)"
[ "$(fp "$CERT_T")" != "$ARI_FP" ] && pass || fail "the ARI renewal was not installed"
[ "$(sql "SELECT kind || ' ' || result FROM cert_attempts WHERE directory = '$ARI_DIR' ORDER BY id DESC LIMIT 1")" = "renew issued" ] &&
	pass || fail "the ARI renewal is not recorded"
# The new certificate has no window yet (404): the lifetime decides, and says why.
expect 0 "cert renew when the CA has no window for it" -- mxctl cert renew
contains "$T/out" "the CA's renewal information could not be read" "ARI 404: said, not an error"

show_logs
done_tests
