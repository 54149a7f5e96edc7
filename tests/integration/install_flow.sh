#!/bin/bash
# tests/integration/install_flow.sh - the README's install command itself,
# provision/install.sh, on an empty lab host: 'mx' (mail.example.org,
# 192.0.2.10) has private /etc, /var, /usr/local and /run overlays, so the
# users, the build installed under /usr/local, the configuration, the
# database and the running servers stay in it. The packages are already
# there (as on a machine with a warm apt cache), so no package is fetched.
#  1. install.sh runs its ten steps and ends "mailctl installed";
#  2. the installed mailctl, mailctld and templates are used: Dovecot,
#     mailctld (as user mailctl) and Postfix run, unbound answers as the
#     local resolver, the database is group mailctl, mode 0660;
#  3. a message from 'out' to postmaster@example.org over port 25 lands in
#     the admin's Maildir with mailctld's Authentication-Results; one from
#     a sender whose DNS cannot be had is deferred (451); one made on the
#     machine is DKIM-signed;
#  4. a second run changes nothing and says so.
# All traffic stays on the lab bridge; every wait is bounded.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"

. "$MAILCTL_SRC/provision/deps.sh"
for pkg in "${BUILD_DEPS[@]}" "${RUNTIME_DEPS[@]}" swaks; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=600 # the first run builds mailctl
if ! HOST_FQDN=mail.example.org host_create mx 192.0.2.10 2001:db8::10 ||
	! host_create out 192.0.2.20 2001:db8::20; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi
# mx knows no DNS but its own unbound (install.sh starts it). Lab hosts
# have no default route; on top, this unbound refuses every name, so it
# never even tries the root servers. mailctld must take a refusal as
# "could not check", never as a pass.
host_set_resolver mx 127.0.0.1
host_sh mx 'printf "server:\n\tlocal-zone: \".\" refuse\n" >/etc/unbound/unbound.conf.d/zz-lab.conf' ||
	fail "cannot configure mx's unbound"

started=$(date +%s)
expect 0 "install.sh in mx" -- host_exec mx env -u MAILCTL_CONFIG bash "$MAILCTL_SRC/provision/install.sh" \
	--hostname mail.example.org --domain example.org
cp "$T/out" "$T/install1.out"
took=$(($(date +%s) - started))
for n in $(seq 1 10); do
	grep -q "^\[$n/10\] " "$T/install1.out" && pass || fail "install.sh did not report step $n/10: $(tail -5 "$T/install1.out")"
done
contains "$T/install1.out" "mailctl installed in" "install.sh says it installed"
host_exec mx getent passwd mailctl >/dev/null && pass || fail "no mailctl user"
contains "$T/install1.out" "started unbound on 127.0.0.1" "unbound started"
contains "$T/install1.out" "dns.resolver: 127.0.0.1 (unbound)" "dns.resolver set"
echo "install.sh took ${took}s (build included)"

# ---- what it left ----
for f in /usr/local/sbin/mailctl /usr/local/sbin/mailctld /usr/local/share/mailctl/templates/manifest \
	/usr/local/share/mailctl/dnsbl.yaml /usr/local/share/man/man8/mailctld.8; do
	host_exec mx test -e "$f" && pass || fail "install.sh did not install $f"
done
[ "$(host_exec mx stat -c '%G' /var/lib/mailctl/mailctl.db)" = mailctl ] && pass || fail "database group"
host_exec mx sh -c 'getfacl -p /var/lib/mailctl/mailctl.db' | grep -qx 'group::rw-' && pass ||
	fail "the database is not writable by group mailctl: $(host_exec mx getfacl -p /var/lib/mailctl/mailctl.db)"
expect 0 "service status" -- host_exec mx env -u MAILCTL_CONFIG /usr/local/sbin/mailctl service status
for s in dovecot mailctld postfix; do contains "$T/out" "$s" "status lists $s"; done
pid=$(cat "$(host_path mx /run/mailctl/mailctld.pid)" 2>/dev/null)
[ "$(host_exec mx ps -o user= -p "${pid:-0}" | tr -d ' ')" = mailctl ] && pass || fail "mailctld does not run as mailctl"
expect 0 "unbound answers on 127.0.0.1" -- host_exec mx drill @127.0.0.1 example.org
contains "$T/out" "rcode: REFUSED" "unbound refuses names outside the lab (no traffic leaves)"

# ---- mail from the lab's Internet reaches the admin, checked by mailctld ----
MAILDIR=$(host_path mx /var/mail/vhosts/example.org/admin/Maildir)
expect 0 "port 25 reachable" -- host_wait_port out 192.0.2.10 25 10
# .test has no DNS by definition (RFC 6761; unbound answers NXDOMAIN): no
# SPF, no DMARC, so the message is accepted and marked so.
expect 0 "port 25 accepts mail from a .test sender" -- host_exec out swaks --server 192.0.2.10 \
	--port 25 --timeout 20 --helo out.test --from someone@out.test --to postmaster@example.org \
	--header "Subject: install flow $$ inbound"
inbound() { grep -rls "^Subject: install flow $$ inbound" "$MAILDIR/new" "$MAILDIR/cur" 2>/dev/null | head -1; }
got_inbound() { [ -n "$(inbound)" ]; }
wait_for 20 got_inbound && pass || fail "the message did not reach the admin: $(tail -5 "$(host_path mx /var/log/mail.log)")"
m=$(inbound)
[ -n "$m" ] && grep -q '^Authentication-Results: mail.example.org;' "$m" && grep -q 'dmarc=none' "$m" &&
	pass || fail "no Authentication-Results of mailctld on the inbound message"
# A sender whose DNS the resolver will not give (refused): mailctld cannot
# check it, so the message is deferred (451), never accepted unchecked.
expect_fail() { "$@" >"$T/out" 2>&1 && fail "'$*' succeeded" || pass; }
expect_fail host_exec out swaks --server 192.0.2.10 --port 25 --timeout 20 --helo out.test \
	--from someone@example.net --to postmaster@example.org --header "Subject: install flow $$ refused"
grep -q '451 4.7.1' "$T/out" && pass || fail "without DNS answers the message is not deferred: $(tail -c 400 "$T/out")"
# Mail made on the machine is signed and delivered.
expect 0 "sendmail in mx" -- host_sh mx 'printf "From: postmaster@example.org\nTo: postmaster@example.org\nSubject: install flow %s local\n\nhello\n" "$1" |
	/usr/sbin/sendmail -f postmaster@example.org postmaster@example.org' _ "$$"
local_msg() { grep -rls "^Subject: install flow $$ local" "$MAILDIR/new" "$MAILDIR/cur" 2>/dev/null | head -1; }
got_local() { [ -n "$(local_msg)" ]; }
wait_for 20 got_local && pass || fail "the local message did not reach the admin: $(tail -5 "$(host_path mx /var/log/mail.log)")"
m=$(local_msg)
[ -n "$m" ] && grep -q '^DKIM-Signature: ' "$m" && pass || fail "the local message was not DKIM-signed"

# ---- a second run changes nothing ----
expect 0 "install.sh again" -- host_exec mx env -u MAILCTL_CONFIG bash "$MAILCTL_SRC/provision/install.sh" \
	--hostname mail.example.org --domain example.org
contains "$T/out" "mailctl is already installed; nothing changed" "second run changes nothing"

if [ "$failures" != 0 ]; then
	for f in /var/log/mail.log /var/log/mailctl/mailctl.log; do
		echo "--- mx:$f" >&2
		tail -n 20 "$(host_path mx "$f")" >&2 2>/dev/null
	done
fi
done_tests
