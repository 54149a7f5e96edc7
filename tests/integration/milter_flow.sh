#!/bin/bash
# tests/integration/milter_flow.sh - mail between two mailctl hosts passes
# SPF, DKIM and DMARC, checked by mailctld on the receiving side and by
# dkimpy; forged mail is rejected; a stopped mailctld defers mail and never
# lets it out unsigned.
#
# Lab: 'ns' (192.0.2.53) runs nsd for example.com and example.net, loaded from
# what 'mailctl dns records' prints on each mail host, behind unbound;
# 'a' (mail.example.com, 192.0.2.11) and 'b' (mail.example.net, 192.0.2.12)
# are set up as provision/install.sh does ('mailctl setup', then 'mailctl
# service start': Dovecot, mailctld, Postfix); 'x' (192.0.2.30) is a
# stranger on the Internet.
#  1. admin@example.com submits on 587 to admin@example.net: a's mailctld
#     signs (rsa-sha256 and, once a has an Ed25519 key, ed25519-sha256);
#     b's copy carries one Authentication-Results of b with spf=pass,
#     dkim=pass, dmarc=pass, and dkimpy verifies it against the lab DNS;
#  2. a forged Authentication-Results claiming b's name is removed;
#  3. x sends as ceo@example.com straight to b's port 25 while example.com
#     publishes p=reject: refused with 550 5.7.1, nothing delivered;
#  4. a's mailctld reloads its keys when the database changes and on
#     SIGHUP; with it stopped (SIGTERM: socket and pid file removed), submission is deferred (451) and mail
#     from the sendmail command waits in the queue; once mailctld is back,
#     that message reaches b, signed;
#  5. 'mailctl check' on b's delivered copy gives the same verdicts.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sqlite \
	dovecot-sieve swaks libnet-ssleay-perl nsd unbound ldnsutils python3-dkim openssl acl; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=60
NS=$T/ns
mkdir -p "$NS"

show_logs() {
	[ "$failures" != 0 ] || return 0
	local h f
	for h in a b; do
		for f in /var/log/mail.log /var/log/mailctl/mailctl.log; do
			f=$(host_path "$h" "$f" 2>/dev/null) || continue
			[ -s "$f" ] || continue
			echo "--- $h:${f#"$LAB_DIR/$h"} (last 25 lines)" >&2
			tail -n 25 "$f" >&2
		done
	done
}

lab_up() {
	HOST_FQDN=ns.laexample.net host_create ns 192.0.2.53 2001:db8::53 &&
		HOST_FQDN=mail.example.com host_create a 192.0.2.11 2001:db8::11 &&
		HOST_FQDN=mail.example.net host_create b 192.0.2.12 2001:db8::12 &&
		HOST_FQDN=x.stranger.example host_create x 192.0.2.30 2001:db8::30
}
if ! lab_up; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi
for h in a b x; do host_set_resolver "$h" 192.0.2.53; done

# ---- a and b as install.sh and 'mailctl setup' leave them ----
declare -A PW DOM=([a]=example.com [b]=example.net)
for h in a b; do
	expect 0 "install.sh's users and files in $h" -- host_install_mailctl "$h"
	expect 0 "mailctl setup in $h" -- host_mailctl "$h" setup
	PW[$h]=$(sed -n "s/^password for admin@${DOM[$h]} (shown only this once): //p" "$T/out")
	[ -n "${PW[$h]}" ] && pass || fail "setup in $h printed no password: $(cat "$T/out")"
	expect 0 "database of $h writable by group mailctl" -- host_db_writable "$h"
done
# a signs with Ed25519 as well (dual signing).
expect 0 "ed25519 key for example.com" -- host_mailctl a dkim keygen example.com --algorithm ed25519

# ---- DNS: the records each host asks for, in nsd behind unbound ----
zone() { # DOMAIN HOST
	printf '$ORIGIN %s.\n$TTL 300\n' "$1"
	printf '@ IN SOA ns.laexample.net. hostmaster.%s. 1 3600 900 604800 300\n' "$1"
	printf '@ IN NS ns.laexample.net.\n'
	host_mailctl "$2" dns records "$1" | grep -v '^;'
}
for h in a b; do
	zone "${DOM[$h]}" "$h" >"$NS/${DOM[$h]}.zone"
	grep -q 'DKIM1' "$NS/${DOM[$h]}.zone" && pass || fail "no DKIM record for ${DOM[$h]}: $(cat "$NS/${DOM[$h]}.zone")"
done
# example.com publishes p=reject for this test.
sed -i 's/p=quarantine/p=reject/; s/p=none/p=reject/' "$NS/example.com.zone"
grep -q 'v=DMARC1; p=reject' "$NS/example.com.zone" && pass || fail "no p=reject for example.com: $(grep DMARC1 "$NS/example.com.zone")"
lab_dns_conf "$NS" example.com example.net
lab_dns_start ns "$NS" && pass || fail "the lab DNS did not start"
dns_ready() { host_exec a drill @192.0.2.53 MX example.net 2>/dev/null | grep -q 'mail.example.net'; }
wait_for 10 dns_ready && pass || fail "the lab DNS does not answer: $(tail -5 "$NS/nsd.log" "$NS/unbound.log")"

for h in a b; do
	expect 0 "service start in $h" -- host_mailctl "$h" service start
	contains "$T/out" "mailctld  running" "mailctld runs in $h"
done
# mailctld dropped root: its process runs as 'mailctl'.
pid_a=$(cat "$(host_path a /run/mailctl/mailctld.pid)")
[ "$(host_exec a ps -o user= -p "$pid_a" | tr -d ' ')" = mailctl ] && pass ||
	fail "mailctld in a is not running as mailctl: $(host_exec a ps -o user=,comm= -p "$pid_a")"
expect 0 "port 25 of b reachable from a" -- host_wait_port a 192.0.2.12 25 10

MAILDIR_B=$(host_path b /var/mail/vhosts/example.net/admin/Maildir)
# delivered SUBJECT: the file in b's admin Maildir with that subject.
delivered() { grep -rls "^Subject: $1\$" "$MAILDIR_B/new" "$MAILDIR_B/cur" 2>/dev/null | head -1; }
wait_delivered() { # SUBJECT SECS
	local i
	for i in $(seq $(($2 * 10))); do
		[ -n "$(delivered "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}
submit() { # SUBJECT [EXTRA SWAKS ARGS...]
	local subject=$1
	shift
	host_exec a swaks --server 192.0.2.11 --port 587 --tls --timeout 20 \
		--auth PLAIN --auth-user admin@example.com --auth-password "${PW[a]}" \
		--from admin@example.com --to admin@example.net --header "Subject: $subject" "$@"
}

# ---- 1. a signed message from a to b passes everything ----
S1="milter flow $$ one"
expect 0 "admin@example.com submits to admin@example.net" -- submit "$S1" \
	--add-header "Authentication-Results: mail.example.net; dkim=pass; spf=pass; dmarc=pass (forged)"
if wait_delivered "$S1" 20; then pass; else fail "message 1 not delivered to b in 20 s"; fi
M1=$(delivered "$S1")
cp "$M1" "$T/m1.eml" 2>/dev/null
ar=$(awk '/^Authentication-Results:/ { p = 1; print; next } p && /^[ \t]/ { print; next } { p = 0 }' "$T/m1.eml")
[ "$(grep -c '^Authentication-Results: mail.example.net' <<<"$ar")" = 1 ] && pass ||
	fail "want exactly one Authentication-Results of mail.example.net (the forged one removed): $ar"
grep -q '(forged)' "$T/m1.eml" && fail "the forged Authentication-Results survived" || pass
for want in 'spf=pass smtp.mailfrom=admin@example.com' 'dkim=pass header.d=example.com' \
	'header.a=rsa-sha256' 'header.a=ed25519-sha256' 'dmarc=pass'; do
	grep -qF "$want" <<<"$ar" && pass || fail "b's Authentication-Results lacks '$want': $ar"
done
[ "$(grep -c '^DKIM-Signature:' "$T/m1.eml")" = 2 ] && pass ||
	fail "want 2 DKIM-Signature fields (rsa + ed25519): $(grep -A1 '^DKIM-Signature:' "$T/m1.eml")"
# dkimpy, with the lab DNS (b's resolv.conf), verifies every signature.
# shellcheck disable=SC2016
expect 0 "dkimpy verifies both signatures of b's copy" -- host_exec b /usr/bin/python3 -c '
import dkim, sys
msg = open(sys.argv[1], "rb").read()
d = dkim.DKIM(msg)
n = len([l for l in msg.split(b"\n") if l.lower().startswith(b"dkim-signature:")])
ok = all(d.verify(idx=i) for i in range(n))
print("signatures:", n, "verified:", ok)
sys.exit(0 if ok and n == 2 else 1)' "$T/m1.eml"
expect 0 "mailctl check on b agrees" -- host_mailctl b check "$T/m1.eml" --ip 192.0.2.11 \
	--helo mail.example.com --mail-from admin@example.com
contains "$T/out" "dmarc=pass" "check: dmarc=pass"
contains "$T/out" "action: accept" "check: accept"
# One changed byte in the body: DKIM fails (SPF still passes, DMARC then passes on SPF).
sed 's/^This is a test mailing/This is a test mailinG/' "$T/m1.eml" >"$T/m1-changed.eml"
cmp -s "$T/m1.eml" "$T/m1-changed.eml" && fail "the body edit did not change the copy" || pass
expect 0 "mailctl check on a changed copy" -- host_mailctl b check "$T/m1-changed.eml" \
	--ip 192.0.2.11 --helo mail.example.com --mail-from admin@example.com
contains "$T/out" "dkim=fail header.d=example.com" "check: changed body fails DKIM"

# ---- 3. forged example.com mail from x straight to b: rejected ----
S3="milter flow $$ forged"
expect_fail_code() { # like expect, any non-zero exit
	"$@" >"$T/out" 2>&1 && fail "'$*' succeeded" || pass
}
expect_fail_code host_exec x swaks --server 192.0.2.12 --port 25 --timeout 20 --helo x.stranger.example \
	--from ceo@example.com --to admin@example.net --header "Subject: $S3"
contains "$T/out" "550 5.7.1" "forged mail refused with 550 5.7.1"
contains "$T/out" "DMARC policy of example.com" "the refusal names the DMARC policy"
sleep 1
[ -z "$(delivered "$S3")" ] && pass || fail "the forged message was delivered"

# ---- reloads: when the database changes, and on SIGHUP ----
LOG_A=$(host_path a /var/log/mailctl/mailctl.log)
logged() { grep -qF "$1" "$LOG_A"; }
# (the jobs' own writes reload too: count the reloads after the change)
reloads() { grep -c "reloaded (the database changed)" "$LOG_A"; }
before=$(reloads)
expect 0 "a new (published) key for example.com" -- host_mailctl a dkim keygen example.com --selector extra
more_reloads() { [ "$(reloads)" -gt "$before" ]; }
wait_for 6 more_reloads && pass ||
	fail "mailctld did not reload after the database changed: $(tail -3 "$LOG_A")"
expect 0 "SIGHUP to a's mailctld" -- host_exec a kill -HUP "$pid_a"
wait_for 6 logged "reloaded (SIGHUP)" && pass || fail "no reload on SIGHUP: $(tail -3 "$LOG_A")"
host_exec a kill -0 "$pid_a" && pass || fail "mailctld died on SIGHUP"

# ---- 4. mailctld down on a: deferred, never unsigned ----
expect 0 "stop a's mailctld" -- host_exec a kill -TERM "$pid_a"
gone() { ! host_exec a kill -0 "$pid_a" 2>/dev/null; }
wait_for 10 gone && pass || fail "mailctld in a did not stop on SIGTERM"
[ ! -e "$(host_path a /var/spool/postfix/mailctl/milter.sock)" ] && pass || fail "the socket outlived mailctld"
S4="milter flow $$ while down"
expect_fail_code submit "$S4 smtp"
# Postfix answers 451 4.7.1 (milter_default_action = tempfail); its log
# says so (swaks stops at the refused STARTTLS without printing it).
grep -q 'submission/smtpd.*milter-reject: .*451 4\.7\.1' "$(host_path a /var/log/mail.log)" && pass ||
	fail "submission not deferred with 451 while mailctld is down: $(tail -n 5 "$(host_path a /var/log/mail.log)")"
expect 0 "sendmail in a while mailctld is down" -- host_sh a \
	'printf "From: admin@example.com\nTo: admin@example.net\nSubject: %s\n\nqueued while the milter was down\n" "$1" |
	/usr/sbin/sendmail -f admin@example.com admin@example.net' _ "$S4"
sleep 3
[ -z "$(delivered "$S4")" ] && pass || fail "mail left a while mailctld was down"
expect 0 "service start brings mailctld back" -- host_mailctl a service start
contains "$T/out" "mailctld  running" "mailctld running again"
host_exec a postqueue -f >/dev/null 2>&1
host_exec a postkick public pickup W >/dev/null 2>&1
if wait_delivered "$S4" 90; then pass; else
	fail "the queued message did not arrive after mailctld came back: $(host_exec a postqueue -p 2>&1 | tail -5)"
fi
M4=$(delivered "$S4")
[ -n "$M4" ] && grep -q '^DKIM-Signature:' "$M4" && pass || fail "the queued message arrived unsigned"
[ -n "$M4" ] && grep -q 'dkim=pass header.d=example.com' "$M4" && pass || fail "b did not verify the queued message"

show_logs
done_tests
