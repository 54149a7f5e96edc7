#!/bin/bash
# tests/integration/web_firewall.sh - what 'mailctl apply' and 'mailctl
# service' put around the mail servers, seen from other hosts.
#
# Lab: 'mx' (mail.example.org, 192.0.2.10, 2001:db8::10) set up as
# install.sh and 'mailctl setup' leave it, with a certificate that also
# names mta-sts.example.org, autoconfig.example.org and example.org (as
# the ACME client will get one) and a resolver that lists 'bad' on
# zen.spamhaus.org and answers "refused" (127.255.255.254) for 'out';
# 'out' (192.0.2.20, 2001:db8::20) and 'bad' (192.0.2.66, 2001:db8::66)
# are on the Internet.
#  1. 'service start' runs the firewall and nginx too;
#  2. nginx: the MTA-STS policy over https on mta-sts.example.org (IPv4
#     and IPv6), the very text whose hash 'dns records' publishes as its
#     id; Thunderbird autoconfig on autoconfig.example.org and under
#     /.well-known/ of the domain; an ACME token over http, everything
#     else redirected to https;
#  3. the firewall: only its own table (a table of someone else's
#     survives every load), a port not in its list dropped from outside
#     but open from the machine itself, 143 closed while
#     mail.plaintext_ports is false;
#  4. postscreen: 'out' passes (a refusal code from Spamhaus is no
#     listing) and its mail lands; 'bad' is refused 550 for its listing; a
#     client talking before the banner is refused at RCPT; with the
#     resolver gone a new client still passes postscreen;
#  5. apply after a configuration change reloads nginx (new MTA-STS mode)
#     and the firewall (143 opens with mail.plaintext_ports);
#  6. fail2ban (started by hand: without systemd 'mailctl service' leaves
#     it alone) bans 'bad' after wrong AUTHs on 587, from every mail port;
#     its dovecot jail sees a wrong IMAP login over IPv6, and an IPv6 ban
#     closes IMAPS; apply reloads the firewall and a changed jail, and the
#     bans stay;
#  7. 'service stop' stops nginx and leaves the firewall up.
# All traffic stays on the lab bridge; every wait is bounded.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"

for pkg in postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sqlite \
	dovecot-sieve nginx-light nftables fail2ban unbound ldnsutils swaks curl openssl python3 acl \
	iproute2 util-linux; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=60
started=$(date +%s)
since() { echo "# $1 after $(($(date +%s) - started)) s"; }
mxctl() { host_mailctl mx "$@"; }
show_logs() {
	[ "$failures" != 0 ] || return 0
	local f
	for f in /var/log/mail.log /var/log/dovecot.log /var/log/mailctl/nginx-error.log \
		/var/log/fail2ban.log /var/log/spawn.log; do
		f=$(host_path mx "$f" 2>/dev/null) || continue
		[ -s "$f" ] || continue
		echo "--- mx:${f#"$LAB_DIR/mx"} (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
}

if ! HOST_FQDN=mail.example.org host_create mx 192.0.2.10 2001:db8::10 ||
	! host_create out 192.0.2.20 2001:db8::20 || ! host_create bad 192.0.2.66 2001:db8::66; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi

# connect HOST ADDR PORT: a TCP connect from HOST, 2 s at most. 0 open,
# 1 refused, 124 no answer (dropped).
connect() {
	# shellcheck disable=SC2016
	host_exec "$1" timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$2" "$3" 2>/dev/null
}
dropped() { # DESC HOST ADDR PORT
	local rc=0
	connect "$2" "$3" "$4" || rc=$?
	if [ "$rc" = 124 ]; then pass; else fail "$1: connect from $2 to $3 port $4 gave $rc, want no answer"; fi
}
open_port() { # DESC HOST ADDR PORT
	if connect "$2" "$3" "$4"; then pass; else fail "$1: $2 cannot connect to $3 port $4"; fi
}
closed() { # DESC HOST ADDR PORT: anything but a connection
	if connect "$2" "$3" "$4"; then fail "$1: $2 connects to $3 port $4"; else pass; fi
}
# fetch URL NAME ADDR [CURL ARGS...]: curl in 'out' with NAME resolved to
# ADDR and the lab certificate as the only CA; the body in $T/body.
fetch() {
	local url=$1 name=$2 addr=$3 port=443
	shift 3
	case $url in http:*) port=80 ;; esac
	host_exec out curl -sS --max-time 10 --cacert "$T/ca.pem" --resolve "$name:$port:$addr" \
		-o "$T/body" -D "$T/headers" "$@" "$url"
}

# ---- 1. mx as install.sh and setup leave it; service start -----------------
expect 0 "install.sh's users, directories and files in mx" -- host_install_mailctl mx
expect 0 "mailctl setup in mx" -- mxctl setup
# The certificate an ACME order for the host and the domain's web names
# gives; setup's self-signed one names the host only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
	-subj /CN=mail.example.org -keyout "$T/key.pem" -out "$T/ca.pem" -addext \
	subjectAltName=DNS:mail.example.org,DNS:mta-sts.example.org,DNS:autoconfig.example.org,DNS:example.org \
	2>/dev/null && pass || fail "cannot make the lab certificate"
install -m 0644 "$T/ca.pem" "$(host_path mx /var/lib/mailctl/tls/cert.pem)"
install -m 0600 "$T/key.pem" "$(host_path mx /var/lib/mailctl/tls/key.pem)"

# The resolver mx asks (postscreen's dnsblog too): no names at all, but
# zen.spamhaus.org lists bad and answers 'out' with a refusal code.
mkdir -p "$T/dns"
cat >"$T/dns/unbound.conf" <<EOC
server:
	interface: 127.0.0.1
	port: 53
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$T/dns"
	pidfile: "$T/dns/unbound.pid"
	logfile: "$T/dns/unbound.log"
	use-syslog: no
	module-config: "iterator"
	local-zone: "." static
	local-data: "66.2.0.192.zen.spamhaus.org. 60 IN A 127.0.0.2"
	local-data: "20.2.0.192.zen.spamhaus.org. 60 IN A 127.255.255.254"
EOC
UNBOUND=$(host_spawn mx unbound -d -c "$T/dns/unbound.conf") || fail "unbound did not start in mx"
host_set_resolver mx 127.0.0.1
listed() { host_exec mx drill @127.0.0.1 A 66.2.0.192.zen.spamhaus.org 2>/dev/null | grep -q 127.0.0.2; }
wait_for 10 listed && pass || fail "the resolver in mx does not answer: $(tail -3 "$T/dns/unbound.log")"

# Someone else's table, which no firewall load may remove.
expect 0 "a table of someone else's in mx" -- host_exec mx nft add table inet lab_other
expect 0 "service start in mx" -- mxctl service start
for s in dovecot mailctld postfix nginx firewall; do
	grep -qE "^$s +running" "$T/out" && pass || fail "$s not running after start: $(cat "$T/out")"
done
expect 0 "service status" -- mxctl --json service status
python3 -c 'import json,sys; d=json.load(sys.stdin); assert [r["service"] for r in d] == ["dovecot", "mailctld", "postfix", "nginx", "firewall"] and all(r["state"] == "running" for r in d)' \
	<"$T/out" && pass || fail "status: $(cat "$T/out")"
expect 0 "port 443 of mx reachable from out" -- host_wait_port out 192.0.2.10 443 10

# ---- 2. nginx -------------------------------------------------------------------
for addr in 192.0.2.10 2001:db8::10; do
	expect 0 "MTA-STS policy over https ($addr)" -- fetch \
		https://mta-sts.example.org/.well-known/mta-sts.txt mta-sts.example.org "$addr"
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 604800\r\n' >"$T/want"
	cmp -s "$T/want" "$T/body" && pass || fail "policy via $addr: $(od -c "$T/body" | head -5)"
done
grep -qi '^content-type: text/plain' "$T/headers" && pass || fail "policy type: $(cat "$T/headers")"
# sts_id: the id 'dns records' publishes in _mta-sts.example.org.
sts_id() {
	mxctl --json dns records example.org | python3 -c 'import json,sys
print([r["value"] for r in json.load(sys.stdin) if r["name"] == "_mta-sts.example.org."][0].split("id=")[1])'
}
served_id() { sha256sum "$T/body" | cut -c1-20; }
[ "$(sts_id)" = "$(served_id)" ] && pass ||
	fail "the served policy is not what 'dns records' hashes: id $(sts_id), served $(served_id)"

check_autoconfig() { # DESC: $T/body is our autoconfig for example.org
	if python3 - "$T/body" <<'PY'; then pass; else fail "$1: $(head -c 400 "$T/body")"; fi
import sys, xml.etree.ElementTree as ET
p = ET.parse(sys.argv[1]).getroot().find("emailProvider")
assert p.get("id") == "example.org" and p.findtext("domain") == "example.org"
servers = [(s.get("type"), s.findtext("hostname"), s.findtext("port"), s.findtext("socketType"),
            s.findtext("username")) for s in p if s.tag.endswith("Server")]
assert ("imap", "mail.example.org", "993", "SSL", "%EMAILADDRESS%") in servers, servers
assert ("smtp", "mail.example.org", "465", "SSL", "%EMAILADDRESS%") in servers, servers
assert ("smtp", "mail.example.org", "587", "STARTTLS", "%EMAILADDRESS%") in servers, servers
PY
}
expect 0 "autoconfig.example.org" -- fetch \
	"https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=admin%40example.org" \
	autoconfig.example.org 192.0.2.10
check_autoconfig "autoconfig.example.org"
grep -qi '^content-type: application/xml' "$T/headers" && pass || fail "autoconfig type: $(cat "$T/headers")"
expect 0 "autoconfig under the domain's /.well-known/" -- fetch \
	https://example.org/.well-known/autoconfig/mail/config-v1.1.xml example.org 192.0.2.10
check_autoconfig "example.org/.well-known/autoconfig"
expect 0 "anything else over https" -- fetch https://example.org/index.html example.org 192.0.2.10 \
	-w '%{http_code}'
grep -qx '404' "$T/out" && pass || fail "https /index.html: $(cat "$T/out")"
if host_exec out curl -s --max-time 5 --cacert "$T/ca.pem" --resolve mta-sts.example.org:443:192.0.2.10 \
	--tlsv1.1 --tls-max 1.1 https://mta-sts.example.org/.well-known/mta-sts.txt >/dev/null 2>&1; then
	fail "TLS 1.1 accepted on 443"
else
	pass
fi
expect 0 "TLS 1.2 on 443" -- fetch https://mta-sts.example.org/.well-known/mta-sts.txt \
	mta-sts.example.org 192.0.2.10 --tlsv1.2 --tls-max 1.2

# An HTTP-01 token, written as the ACME client does: webroot 0755 below
# /var/lib/mailctl (2770), which nginx's workers may only search.
token=lab-token_$$
# shellcheck disable=SC2016
expect 0 "a token in the ACME webroot" -- host_sh mx 'umask 022
	mkdir -p /var/lib/mailctl/acme/.well-known/acme-challenge &&
	printf "%s.keyauth" "$1" >"/var/lib/mailctl/acme/.well-known/acme-challenge/$1"' _ "$token"
expect 0 "the token over http" -- fetch "http://mail.example.org/.well-known/acme-challenge/$token" \
	mail.example.org 192.0.2.10
[ "$(cat "$T/body")" = "$token.keyauth" ] && pass || fail "token body: $(head -c 200 "$T/body")"
expect 0 "a missing token" -- fetch "http://mail.example.org/.well-known/acme-challenge/nope" \
	mail.example.org 192.0.2.10 -w '%{http_code}'
grep -qx 404 "$T/out" && pass || fail "missing token: $(cat "$T/out")"
expect 0 "anything else over http" -- fetch http://mail.example.org/some/page mail.example.org \
	192.0.2.10 -w '%{http_code}'
grep -qx 301 "$T/out" && grep -qi '^location: https://mail.example.org/some/page' "$T/headers" &&
	pass || fail "http redirect: $(cat "$T/out" "$T/headers")"

# ---- 3. the firewall -------------------------------------------------------------
expect 0 "table inet mailctl loaded" -- host_exec mx nft list table inet mailctl
expect 0 "the other table survived the load" -- host_exec mx nft list table inet lab_other
# A server on a port not in the list, and one on 143 (IMAP, closed while
# mail.plaintext_ports is false).
LISTEN='import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(8)
time.sleep(120)'
L8025=$(host_spawn mx python3 -c "$LISTEN" 8025)
L143=$(host_spawn mx python3 -c "$LISTEN" 143)
wait_for 5 connect mx 127.0.0.1 8025 && pass || fail "the listener on 8025 does not run"
wait_for 5 connect mx ::1 143 && pass || fail "the listener on 143 does not run"
dropped "8025 from outside (IPv4)" out 192.0.2.10 8025
dropped "8025 from outside (IPv6)" out 2001:db8::10 8025
dropped "143 from outside while plaintext_ports is false" out 192.0.2.10 143
open_port "25 from outside" out 192.0.2.10 25
open_port "993 from outside (IPv6)" out 2001:db8::10 993
kill "$L8025" "$L143" 2>/dev/null

since "web and firewall checks done"

# ---- 4. postscreen on port 25 ---------------------------------------------------
MAILDIR=$(host_path mx /var/mail/vhosts/example.org/admin/Maildir)
delivered() { grep -rqs "Subject: $1\$" "$MAILDIR/new" "$MAILDIR/cur"; }
send25() { # HOST ADDR SUBJECT: swaks to mx's port 25; its output in $T/out
	host_exec "$1" swaks --server "$2" --port 25 --timeout 30 --helo "$1.test" \
		--from "sender@$1.test" --to admin@example.org --header "Subject: $3" >"$T/out" 2>&1
}
expect 0 "out passes postscreen (Spamhaus refusal code, no listing)" -- send25 out 192.0.2.10 \
	"web firewall $$ out"
wait_for 10 delivered "web firewall $$ out" && pass || fail "out's message not delivered"
rc=0
send25 bad 192.0.2.10 "web firewall $$ bad" || rc=$?
[ "$rc" = 24 ] && pass || fail "bad, listed: swaks exit $rc, want 24 (RCPT refused)"
contains "$T/out" "550 5.7.1 Service unavailable; client [192.0.2.66] blocked using zen.spamhaus.org" \
	"bad is refused for its listing"
MAILLOG=$(host_path mx /var/log/mail.log)
contains "$MAILLOG" "DNSBL rank 3 for [192.0.2.66]" "postscreen logs bad's rank"
# A bot talks first: out over IPv6 is a client postscreen has not seen.
cat >"$T/pregreet.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 25), timeout=20)
s.sendall(b"EHLO early.test\r\n")  # before the banner
time.sleep(8)                      # postscreen_greet_wait is 6 s
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode()
        if len(line) < 4 or line[3] != "-":
            return line
s.settimeout(20)
greeting = reply()
if greeting.startswith("220"):     # then the EHLO's answer
    reply()
s.sendall(b"MAIL FROM:<bot@out.test>\r\n")
reply()
s.sendall(b"RCPT TO:<admin@example.org>\r\n")
print(reply().strip())
PY
expect 0 "a client talking before the banner" -- host_exec out python3 "$T/pregreet.py" 2001:db8::10
grep -q '^550' "$T/out" && pass || fail "pregreet client: RCPT answered '$(cat "$T/out")', want 550"
contains "$MAILLOG" "PREGREET" "postscreen logs the pregreet"
# With no resolver at all, a client never seen before still passes
# postscreen and gets to RCPT (mailctld then defers the message itself
# until DNS answers; swaks here cannot do IPv6).
kill "$UNBOUND"
# shellcheck disable=SC2016
expect 0 "bad over IPv6, resolver gone" -- host_exec bad python3 -c 'import smtplib
s = smtplib.SMTP("2001:db8::10", 25, local_hostname="bad.test", timeout=30)
s.ehlo()
s.mail("sender@bad.test")
print(s.rcpt("admin@example.org")[0])
s.quit()'
grep -qx 250 "$T/out" && pass || fail "RCPT with the resolver gone: $(cat "$T/out")"
contains "$MAILLOG" "PASS NEW [2001:db8::66]" "postscreen passes a client whose lookups failed"
since "postscreen checks done"

# ---- 5. apply after a change reloads nginx and the firewall --------------------
CONF=$(host_path mx /etc/mailctl/mailctl.yaml)
grep -q '^dns:' "$CONF" && fail "setup wrote a dns: section; this test appends one"
grep -q '^mail:' "$CONF" && pass || fail "setup wrote no mail: section: $(cat "$CONF")"
printf 'dns:\n  mta_sts_mode: testing\n' >>"$CONF"
sed -i 's/^mail:$/mail:\n  plaintext_ports: true/' "$CONF"
expect 0 "apply after the change" -- mxctl apply
summary=$(tail -n 1 "$T/out")
for s in dovecot nginx nftables; do
	[[ $summary == *"; reloaded "*$s* ]] && pass || fail "$s not reloaded: $summary"
done
testing() {
	fetch https://mta-sts.example.org/.well-known/mta-sts.txt mta-sts.example.org 192.0.2.10 &&
		grep -q '^mode: testing' "$T/body"
}
wait_for 5 testing && pass || fail "the policy after reload: $(cat "$T/body")"
[ "$(sts_id)" = "$(served_id)" ] && pass || fail "'dns records' id not the new policy's"
opened() { connect out 192.0.2.10 143; }
wait_for 5 opened && pass || fail "143 not open from outside with mail.plaintext_ports"
expect 0 "the other table survived the reload" -- host_exec mx nft list table inet lab_other

# ---- 6. fail2ban ----------------------------------------------------------------
# The lab host has no sshd and no journal: Debian's sshd jail stays off.
# shellcheck disable=SC2016
expect 0 "fail2ban starts in mx" -- host_sh mx 'mkdir -p /run/fail2ban &&
	printf "[sshd]\nenabled = false\n" >/etc/fail2ban/jail.d/zz-lab.local &&
	fail2ban-client start'
f2b_up() { host_exec mx fail2ban-client ping >/dev/null 2>&1; }
wait_for 10 f2b_up && pass || fail "fail2ban does not answer"
banned() { # JAIL ADDR
	host_exec mx fail2ban-client status "$1" 2>/dev/null | grep -q "Banned IP list:.*$2"
}
# Wrong AUTHs on 587 from bad (IPv4): Postfix logs each, and Dovecot's
# auth too; Dovecot's own penalty makes each next one slower, so the ban
# may come from either jail (both close every mail port).
for i in 1 2 3 4 5 6 7 8; do
	host_exec bad swaks --server 192.0.2.10 --port 587 -tls --timeout 20 --auth PLAIN \
		--auth-user admin@example.org --auth-password "wrong-$i" --from admin@example.org \
		--to admin@example.org >/dev/null 2>&1
	banned postfix-sasl 192.0.2.66 || banned dovecot 192.0.2.66 && break
done
bad_banned() { banned postfix-sasl 192.0.2.66 || banned dovecot 192.0.2.66; }
wait_for 10 bad_banned && pass ||
	fail "no ban after $i wrong AUTHs: $(host_exec mx fail2ban-client status postfix-sasl 2>&1)"
[ "$i" -ge 3 ] && pass || fail "banned after $i attempts, want 5 failures (maxretry)"
n=$(host_exec mx fail2ban-client status postfix-sasl | sed -n 's/.*Total failed:[[:space:]]*//p')
[ "${n:-0}" -ge 3 ] && pass || fail "the postfix-sasl jail matched $n of Postfix's AUTH failures"
closed "bad (banned) on 587" bad 192.0.2.10 587
closed "bad (banned) on 25" bad 192.0.2.10 25
# A wrong IMAP login from bad over IPv6 is seen by the dovecot jail; an
# IPv6 ban closes IMAPS.
cat >"$T/imap_fail.py" <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
m = imaplib.IMAP4_SSL(sys.argv[1], 993, ssl_context=ctx, timeout=10)
try:
    m.login("admin@example.org", "wrong")
except imaplib.IMAP4.error:
    print("refused")
m.shutdown()
PY
expect 0 "a wrong IMAP login from bad (IPv6)" -- host_exec bad python3 "$T/imap_fail.py" 2001:db8::10 "$T/ca.pem"
contains "$T/out" "refused" "the wrong IMAP login is refused"
seen6() { grep -q '\[dovecot\] Found 2001:db8::66' "$(host_path mx /var/log/fail2ban.log)"; }
wait_for 10 seen6 && pass || fail "the dovecot jail did not see the IPv6 login failure"
open_port "bad over IPv6 (not banned) on 993" bad 2001:db8::10 993
expect 0 "ban bad's IPv6 address" -- host_exec mx fail2ban-client set dovecot banip 2001:db8::66
closed "bad (banned) over IPv6 on 993" bad 2001:db8::10 993
open_port "out still on 993" out 192.0.2.10 993
since "fail2ban bans done"
# apply reloads the firewall and (a changed jail) fail2ban: bans stay.
# (as a newer mailctl's templates would change it)
expect 0 "a longer ban in mx's installed jail template" -- host_exec mx sed -i \
	's/^bantime = 1h/bantime = 2h/' /usr/local/share/mailctl/templates/fail2ban/jail.conf
sed -i 's/^  plaintext_ports: true/  plaintext_ports: false/' "$(host_path mx /etc/mailctl/mailctl.yaml)"
expect 0 "apply: firewall and jail changed" -- mxctl apply
summary=$(tail -n 1 "$T/out")
for s in nftables fail2ban; do
	[[ $summary == *"; reloaded "*$s* ]] && pass || fail "$s not reloaded: $summary"
done
[ "$(host_exec mx fail2ban-client get postfix-sasl bantime 2>/dev/null)" = 7200 ] && pass ||
	fail "fail2ban did not take the new jail: bantime $(host_exec mx fail2ban-client get postfix-sasl bantime 2>&1)"
expect 0 "fail2ban's table survived the firewall's reload" -- host_exec mx nft list table inet f2b-table
closed "bad still banned on 587" bad 192.0.2.10 587
dropped "143 closed again" out 192.0.2.10 143

# ---- 7. stop: nginx goes, the firewall stays -------------------------------------
expect 0 "service stop" -- mxctl service stop
grep -qE '^firewall +running' "$T/out" && grep -qE '^nginx +stopped' "$T/out" && pass ||
	fail "after stop: $(cat "$T/out")"
expect 1 "443 refused after stop" -- connect out 192.0.2.10 443
dropped "8025 still dropped after stop" out 192.0.2.10 8025

show_logs
done_tests
