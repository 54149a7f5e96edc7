#!/bin/bash
# tests/integration/blacklist_monitor.sh - mailctld watches the blocklists:
# host 'ns' (192.0.2.53) serves fake zen.spamhaus.org and dbl.spamhaus.org
# zones (nsd behind unbound, no cache between scenarios; every other list
# is refused); host 'mx' (mail.example.org, 192.0.2.10) is set up as
# install.sh does and runs the full stack with network.ipv4 192.0.2.10.
#  1. at start mailctld checks (nothing stored yet): clean, stored, no alert;
#  2. 192.0.2.10 gets listed; a Postfix log line of a delivery refused by
#     Spamhaus makes mailctld check again within seconds: one change, one
#     alert message delivered to the postmaster mailbox, with the reason
#     and the delisting page; 'blacklist history' shows the change;
#  3. SIGUSR1 checks again: nothing changed, no second message;
#  4. delisted: SIGUSR1 -> one "no longer listed" message.
# Refused lists are stored as refused and never alert.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in postfix dovecot-core dovecot-lmtpd nsd unbound ldnsutils python3; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=60
NS=$T/ns
mkdir -p "$NS"

if ! host_create ns 192.0.2.53 2001:db8::53 ||
	! HOST_FQDN=mail.example.org host_create mx 192.0.2.10 2001:db8::10; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi
host_set_resolver mx 192.0.2.53

# ---- DNS: two lists, restarted cold for each scenario ----
V6TEST=$(python3 -c 'import ipaddress; print(".".join(reversed(ipaddress.ip_address("::ffff:7f00:2").exploded.replace(":", ""))))')
zones() { # LISTED(0/1)
	local listed=$1 z
	for z in zen.spamhaus.org dbl.spamhaus.org; do
		{
			printf '$ORIGIN %s.\n$TTL 0\n@ IN SOA ns.lab. hostmaster.lab. 1 3600 900 604800 0\n@ IN NS ns.lab.\n' "$z"
			# RFC 5782 test points, so the lists pass their health check
			printf '2.0.0.127 A 127.0.0.2\n%s A 127.0.0.2\ndbltest.com A 127.0.1.2\n' "$V6TEST"
			if [ "$z" = zen.spamhaus.org ] && [ "$listed" = 1 ]; then
				printf '10.2.0.192 A 127.0.0.2\n10.2.0.192 TXT "Listed in the SBL: lab case 42"\n'
			fi
		} >"$NS/$z.zone"
	done
}
lab_dns_conf "$NS" -u 'cache-max-ttl: 0' -u 'cache-max-negative-ttl: 0' zen.spamhaus.org dbl.spamhaus.org
serve() { # LISTED
	lab_dns_stop
	zones "$1"
	lab_dns_start ns "$NS" || fail "the lab DNS did not start"
	answers() { host_exec mx drill @192.0.2.53 A 2.0.0.127.zen.spamhaus.org 2>/dev/null | grep -q 127.0.0.2; }
	wait_for 10 answers || fail "the lab DNS does not answer: $(tail -3 "$NS/nsd.log" "$NS/unbound.log")"
}
serve 0

# ---- mx as install.sh and setup leave it, with its public address ----
expect 0 "install.sh's users and files in mx" -- host_install_mailctl mx
expect 0 "mailctl setup in mx" -- host_mailctl mx setup
expect 0 "database writable by group mailctl" -- host_db_writable mx
printf 'network:\n  ipv4: 192.0.2.10\n' >>"$(host_path mx /etc/mailctl/mailctl.yaml)"
expect 0 "config check" -- host_mailctl mx config check

expect 0 "service start" -- host_mailctl mx service start
LOG=$(host_path mx /var/log/mailctl/mailctl.log)
MAILDIR=$(host_path mx /var/mail/vhosts/example.org/admin/Maildir)
checks() { grep -c "blocklist check: " "$LOG" 2>/dev/null || true; }
alerts() { grep -rls "^Subject: \[mail.example.org\] blocklists:" "$MAILDIR/new" "$MAILDIR/cur" 2>/dev/null | wc -l; }
wait_checks() { # N: until N checks are logged (20 s at most)
	local n=$1
	enough() { [ "$(checks)" -ge "$n" ]; }
	wait_for 20 enough
}

# 1. the first check at start: clean, stored, no alert
wait_checks 1 && pass || fail "no blocklist check at start: $(tail -5 "$LOG")"
grep -q "blocklist check: [1-9][0-9]* result(s), 0 change(s)" "$LOG" && pass ||
	fail "the first check: $(grep 'blocklist check' "$LOG")"
expect 0 "blacklist history --all" -- host_mailctl mx --json blacklist history --all --limit 1000
python3 - "$T/out" <<'PY' && pass || fail "stored results: $(head -c 400 "$T/out")"
import json, sys
rows = json.load(open(sys.argv[1]))
by = {(r["subject"], r["list"]): r["result"] for r in rows}
assert by[("192.0.2.10", "zen.spamhaus.org")] == "clean", by
assert by[("example.org", "dbl.spamhaus.org")] == "clean", by
assert by[("192.0.2.10", "bl.spamcop.net")] == "refused", by  # refused by the lab resolver
PY
sleep 1
[ "$(alerts)" = 0 ] && pass || fail "an alert for a clean first check"

# 2. listed; a refusal naming Spamhaus in Postfix's log triggers a check
serve 1
printf '%s mail postfix/smtp[999]: 4ABC123: to=<x@example.net>, relay=mx.example.net[192.0.2.77]:25, delay=1, status=bounced (host mx.example.net[192.0.2.77] said: 554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org (in reply to RCPT TO command))\n' \
	"$(date '+%b %d %H:%M:%S')" >>"$(host_path mx /var/log/mail.log)"
wait_checks 2 && pass || fail "the refusal did not trigger a check: $(tail -5 "$LOG")"
grep -q "a delivery was refused naming a blocklist" "$LOG" && pass || fail "the refusal was not noticed"
grep -q "blocklist: 192.0.2.10 LISTED on zen.spamhaus.org (was clean)" "$LOG" && pass ||
	fail "the listing was not logged: $(tail -5 "$LOG")"
one_alert() { [ "$(alerts)" -ge 1 ]; }
wait_for 20 one_alert && pass || fail "no alert in the postmaster mailbox: $(tail -5 "$LOG")"
[ "$(alerts)" = 1 ] && pass || fail "$(alerts) alerts, want 1"
A1=$(grep -rls "^Subject: \[mail.example.org\] blocklists: 1 new listing" "$MAILDIR/new" "$MAILDIR/cur" | head -1)
[ -n "$A1" ] && pass || fail "the alert's subject"
for want in "192.0.2.10 is now LISTED on zen.spamhaus.org (was clean)" "Listed in the SBL: lab case 42" \
	"delisting: https://check.spamhaus.org/"; do
	[ -n "$A1" ] && grep -qF "$want" "$A1" && pass || fail "the alert lacks '$want'"
done
[ -n "$A1" ] && grep -q '^DKIM-Signature:' "$A1" && pass || fail "the alert left unsigned"
expect 0 "blacklist history" -- host_mailctl mx --json blacklist history 192.0.2.10
python3 - "$T/out" <<'PY' && pass || fail "history: $(head -c 400 "$T/out")"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["list"] == "zen.spamhaus.org"]
assert [r["result"] for r in rows] == ["listed", "clean"], rows
PY

# 3. checked again, nothing changed: no second message
expect 0 "SIGUSR1" -- host_exec mx sh -c 'kill -USR1 "$(cat /run/mailctl/mailctld.pid)"'
wait_checks 3 && pass || fail "SIGUSR1 did not run a check"
sleep 2
[ "$(alerts)" = 1 ] && pass || fail "$(alerts) alerts after an unchanged check, want 1"

# 4. delisted: one more message
serve 0
expect 0 "SIGUSR1 after delisting" -- host_exec mx sh -c 'kill -USR1 "$(cat /run/mailctl/mailctld.pid)"'
wait_checks 4 && pass || fail "no fourth check"
two_alerts() { [ "$(alerts)" -ge 2 ]; }
wait_for 20 two_alerts && pass || fail "no delisting alert: $(tail -5 "$LOG")"
grep -rqs "192.0.2.10 is no longer listed on zen.spamhaus.org (was listed)" "$MAILDIR/new" "$MAILDIR/cur" &&
	pass || fail "the delisting alert's text"

if [ "$failures" != 0 ]; then
	echo "--- mx mailctl.log" >&2
	tail -n 30 "$LOG" >&2
	tail -n 20 "$(host_path mx /var/log/mail.log)" >&2
fi
done_tests
