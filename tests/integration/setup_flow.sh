#!/bin/bash
# 'mailctl setup' and 'mailctl service' on an empty lab host, as
# provision/install.sh runs them: host 'mx' (mail.example.org, 192.0.2.10)
# has no /etc/mailctl/mailctl.yaml; 'mailctl setup' with no arguments
# derives everything from the host name and writes the configuration;
# 'mailctl service start' (no systemd in a lab host) starts Dovecot,
# mailctld, Postfix and nginx, then loads the firewall; a message from
# 'out' (192.0.2.20) to the admin over port 25 lands in the admin's Maildir;
# nginx serves the MTA-STS policy over https and an ACME token over http
# to 'out'; the firewall drops a port not in its list; 'service status'
# exits 0; a second setup changes nothing; 'service stop' stops the
# servers, leaves the firewall up, and 'status' then fails.
# (tests/integration/web_firewall.sh goes into the details.)
# All traffic stays on the lab bridge; every wait is bounded.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd \
	dovecot-sqlite dovecot-sieve nginx-light nftables swaks curl openssl acl iproute2 util-linux; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=60
mxctl() { host_mailctl mx "$@"; }
show_logs() {
	[ "$failures" != 0 ] || return 0
	local f
	for f in /var/log/mail.log /var/log/dovecot.log; do
		f=$(host_path mx "$f" 2>/dev/null) || continue
		[ -s "$f" ] || continue
		echo "--- mx:${f#"$LAB_DIR/mx"} (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
}

if ! HOST_FQDN=mail.example.org host_create mx 192.0.2.10 2001:db8::10 ||
	! host_create out 192.0.2.20 2001:db8::20; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi

# What install.sh does before 'mailctl setup': users, directories, the
# installed templates and mailctld (in mx's private /usr/local overlay).
expect 0 "install.sh's users, directories and files in mx" -- host_install_mailctl mx
[ ! -e "$(host_path mx /etc/mailctl/mailctl.yaml)" ] && pass || fail "mx already has a config"

expect 0 "mailctl setup in mx" -- mxctl setup
cp "$T/out" "$T/setup.out"
contains "$T/setup.out" "wrote the configuration '/etc/mailctl/mailctl.yaml'" "setup wrote the config"
contains "$T/setup.out" "mail.example.org is set up for example.org" "names derived from the host"
contains "$T/setup.out" "added admin user 'admin@example.org'" "admin user made"
grep -q 'local demo' "$T/setup.out" && fail "a public host name was taken for a demo" || pass
pw=$(sed -n 's/^password for admin@example.org (shown only this once): //p' "$T/setup.out")
[ -n "$pw" ] && pass || fail "no password printed: $(cat "$T/setup.out")"
# Setup let Postfix (proxymap) and Dovecot (auth) read the database, and
# only read it.
acl=$(host_exec mx getfacl -p /var/lib/mailctl/mailctl.db 2>/dev/null)
grep -qx "user:postfix:r--" <<<"$acl" && grep -qx "user:dovecot:r--" <<<"$acl" && pass ||
	fail "setup did not give postfix and dovecot read access: $acl"

# mailctld checks inbound mail against DNS: a resolver in mx that knows
# no names (no SPF, DKIM or DMARC records anywhere).
expect 0 "resolver in mx" -- lab_empty_resolver mx "$T/dns"
expect 69 "status before start" -- mxctl service status
expect 0 "mailctl service start in mx" -- mxctl service start
contains "$T/out" "dovecot   running" "start: dovecot running"
contains "$T/out" "mailctld  running" "start: mailctld running"
contains "$T/out" "postfix   running" "start: postfix running"
contains "$T/out" "firewall  running" "start: firewall loaded"
contains "$T/out" "nginx     running" "start: nginx running"
expect 0 "port 25 of mx reachable from out" -- host_wait_port out 192.0.2.10 25 10
expect 0 "port 993 of mx reachable from out" -- host_wait_port out 192.0.2.10 993 10
expect 0 "service start again" -- mxctl --json service start
python3 -c 'import json,sys; d=json.load(sys.stdin); assert not any(r["changed"] for r in d)' <"$T/out" &&
	pass || fail "second start restarted something: $(cat "$T/out")"

# A message to the admin over port 25 lands in the Maildir.
MAILDIR=$(host_path mx /var/mail/vhosts/example.org/admin/Maildir)
expect 0 "port 25 accepts mail for the admin" -- host_exec out swaks --server 192.0.2.10 \
	--port 25 --helo out.test --timeout 10 --from sender@out.test --to admin@example.org \
	--header "Subject: setup flow $$"
delivered() { grep -rqs "Subject: setup flow $$" "$MAILDIR/new" "$MAILDIR/cur"; }
if wait_for 10 delivered; then pass; else
	fail "message not in the admin's Maildir after 10 s: $(find "$MAILDIR" 2>&1 | head -10)"
fi
# postmaster@ reaches the admin too (the alias setup made).
expect 0 "port 25 accepts mail for postmaster" -- host_exec out swaks --server 192.0.2.10 \
	--port 25 --helo out.test --timeout 10 --from sender@out.test --to postmaster@example.org \
	--header "Subject: setup flow $$ postmaster"
pm() { grep -rqs "Subject: setup flow $$ postmaster" "$MAILDIR/new" "$MAILDIR/cur"; }
if wait_for 10 pm; then pass; else fail "postmaster@ did not reach the admin"; fi
expect 0 "service status with both running" -- mxctl service status

# nginx: the MTA-STS policy over https with setup's certificate (it names
# the host only; every name gets the same policy), the very text 'dns
# records' hashes into its id; an ACME token, written where the ACME
# client writes it (below /var/lib/mailctl, 2770), over http.
cp "$(host_path mx /var/lib/mailctl/tls/cert.pem)" "$T/ca.pem"
expect 0 "MTA-STS policy over https from out" -- host_exec out curl -sS --max-time 10 \
	--cacert "$T/ca.pem" --resolve mail.example.org:443:192.0.2.10 -o "$T/policy" \
	https://mail.example.org/.well-known/mta-sts.txt
grep -q '^mx: mail.example.org' "$T/policy" && pass || fail "policy: $(cat "$T/policy")"
id=$(mxctl --json dns records example.org | python3 -c 'import json,sys
print([r["value"] for r in json.load(sys.stdin) if r["name"] == "_mta-sts.example.org."][0].split("id=")[1])')
[ "$id" = "$(sha256sum "$T/policy" | cut -c1-20)" ] && pass || fail "policy does not hash to the id $id"
# shellcheck disable=SC2016
host_sh mx 'umask 022 && mkdir -p /var/lib/mailctl/acme/.well-known/acme-challenge &&
	echo "token-$1" >"/var/lib/mailctl/acme/.well-known/acme-challenge/t$1"' _ $$
expect 0 "ACME token over http from out" -- host_exec out curl -sS --max-time 10 \
	--resolve mail.example.org:80:192.0.2.10 "http://mail.example.org/.well-known/acme-challenge/t$$"
[ "$(cat "$T/out")" = "token-$$" ] && pass || fail "ACME token: $(head -c 200 "$T/out")"
# The firewall: a server on a port not in its list is dropped from out.
L8025=$(host_spawn mx python3 -c 'import socket, time
s = socket.create_server(("0.0.0.0", 8025)); time.sleep(60)')
up() { host_exec mx timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8025' 2>/dev/null; }
wait_for 5 up && pass || fail "no listener on 8025 in mx"
rc=0
host_exec out timeout 2 bash -c 'exec 3<>/dev/tcp/192.0.2.10/8025' 2>/dev/null || rc=$?
[ "$rc" = 124 ] && pass || fail "port 8025 of mx from out: $rc, want no answer (dropped)"
kill "$L8025" 2>/dev/null

# A second setup changes nothing, servers running.
expect 0 "setup again" -- mxctl setup
contains "$T/out" "nothing changed" "second setup changes nothing"

expect 0 "mailctl service stop" -- mxctl service stop
expect 69 "status after stop" -- mxctl service status
contains "$T/out" "dovecot   stopped" "dovecot stopped"
contains "$T/out" "mailctld  stopped" "mailctld  stopped"
contains "$T/out" "postfix   stopped" "postfix stopped"
contains "$T/out" "nginx     stopped" "nginx stopped"
contains "$T/out" "firewall  running" "the firewall stays up"
expect 1 "port 25 closed after stop" -- host_wait_port out 192.0.2.10 25 1

show_logs
done_tests
