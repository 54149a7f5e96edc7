#!/bin/bash
# End-to-end mail flow through the configuration in templates/: a real
# Postfix and Dovecot, configured by 'mailctl apply' from a database the
# mailctl CLI wrote, run in an isolated lab host 'mx' (mail.example.org,
# 192.0.2.10); a second host 'out' (192.0.2.20) plays the Internet and
# the user's mail client.
#
#  1. mail from 'out' to port 25 for alice@example.org lands, byte for
#     byte, in her Maildir (Postfix -> LMTP -> Dovecot);
#  2. port 25 is no open relay (16 classic tricks, each refused with 5xx),
#     and offers no AUTH;
#  3. alice submits on 587 (STARTTLS + AUTH PLAIN) and on 465 (implicit
#     TLS); AUTH and MAIL before STARTTLS on 587 are refused; she cannot
#     send as an address she does not own;
#  4. alice reads every message back over IMAPS and POP3S, verifying the
#     self-signed certificate, byte for byte;
#  5. a message marked as spam is filed into Junk by the Sieve 'before'
#     script;
#  6. over quota, delivery fails temporarily (452) and the queued message
#     arrives once there is room again;
#  7. TLS 1.0 and 1.1 (and a non-"intermediate" cipher) are refused on
#     25, 587, 465, 993 and 995, while TLS 1.2 and 1.3 work;
#  8. with mail.plaintext_ports, IMAP 143 and POP3 110 open, and refuse a
#     login before STARTTLS;
#  9. a wrong password is refused, and so is a disabled user.
# All traffic stays on the lab bridge; every wait is bounded.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd \
	dovecot-sqlite dovecot-sieve swaks libnet-ssleay-perl openssl python3 acl iproute2 util-linux; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HERE=$MAILCTL_SRC/tests/integration/mail_flow
HOST_TIMEOUT=30
PW='correct-Horse-battery-9'
started=$(date +%s.%N)
since() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# On failure the daemons' logs usually say why.
show_logs() {
	[ "$failures" != 0 ] || return 0
	local f
	for f in /var/log/mail.log /var/log/dovecot.log /var/log/mailctl.log /var/log/spawn.log; do
		f=$(host_path mx "$f" 2>/dev/null) || continue
		[ -s "$f" ] || continue
		echo "--- mx:${f#"$LAB_DIR/mx"} (last 40 lines)" >&2
		tail -n 40 "$f" >&2
	done
}

mxctl() { host_mailctl mx "$@"; }


# has_tab_line FILE LINE DESC: FILE has LINE (tab-separated fields).
has_tab_line() {
	if grep -qxF -- "$2" "$1"; then pass; else fail "$3: '$2' not in: $(cat "$1")"; fi
}

if ! HOST_FQDN=mail.example.org host_create mx 192.0.2.10 2001:db8::10 ||
	! host_create out 192.0.2.20 2001:db8::20; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi
pass

# --- mx: users, directories, certificate, config, database -------------------
# What provision/install.sh and 'mailctl setup' do on a real machine.
expect 0 "install.sh's users, directories and files in mx" -- host_install_mailctl mx
host_sh mx 'set -e
	install -d -m 0700 /var/lib/mailctl/tls
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
		-subj /CN=mail.example.org -addext subjectAltName=DNS:mail.example.org \
		-keyout /var/lib/mailctl/tls/key.pem -out /var/lib/mailctl/tls/cert.pem 2>/dev/null
	chmod 0600 /var/lib/mailctl/tls/key.pem' >"$T/out" 2>&1 ||
	fail "mx setup: $(cat "$T/out")"
cp "$(host_path mx /var/lib/mailctl/tls/cert.pem)" "$T/ca.pem"
vmail_uid=$(host_exec mx id -u vmail)
vmail_gid=$(host_exec mx id -g vmail)

cat >"$(host_path mx /etc/mailctl/mailctl.yaml)" <<YAML
hostname: mail.example.org
paths:
  database: /var/lib/mailctl/mailctl.db
  key_dir: /var/lib/mailctl/keys
  mail_root: /var/mail/vhosts
  archive_root: /var/mail/archive
  template_dir: $MAILCTL_SRC/templates
  postfix_dir: /etc/postfix
  dovecot_dir: /etc/dovecot
  nginx_dir: /etc/nginx
  control_socket: /run/mailctl/mailctld.sock
  log_file: /var/log/mailctl.log
mail:
  vmail_uid: $vmail_uid
  vmail_gid: $vmail_gid
passwords:
  # cheap hashing keeps the test fast; production uses the defaults
  argon2_time_cost: 1
  argon2_memory_kib: 1024
tls:
  cert_file: /var/lib/mailctl/tls/cert.pem
  key_file: /var/lib/mailctl/tls/key.pem
YAML

expect 0 "db init in mx" -- mxctl db init
expect 0 "domain add in mx" -- mxctl domain add example.org --admin postmaster-owner@elsewhere.example
expect 0 "user add alice in mx" -- mxctl user add alice@example.org --password-stdin --quota 0 <<<"$PW"
# Postfix's proxymap and Dovecot's auth worker read the database and only
# read it, as provision/install.sh sets up.
# shellcheck disable=SC2016
expect 0 "database readable by postfix and dovecot" -- host_sh mx 'set -e
	for u in postfix dovecot; do
		setfacl -m "u:$u:x" /var/lib/mailctl
		setfacl -m "u:$u:r" /var/lib/mailctl/mailctl.db
	done'

# --- render and install the configuration --------------------------------------
expect 0 "mailctl apply --no-reload in mx" -- mxctl apply --no-reload
for f in main.cf master.cf sqlite-virtual-domains.cf sqlite-sender-login.cf; do
	if [ -s "$(host_path mx "/etc/postfix/$f")" ]; then pass; else fail "apply wrote no /etc/postfix/$f"; fi
done
is_mode() {
	local got
	got=$(host_exec mx stat -c '%a %U:%G' "$1")
	if [ "$got" = "$2" ]; then pass; else fail "$1: mode/owner '$got', want '$2'"; fi
}
is_mode /etc/postfix/main.cf "644 root:root"
is_mode /etc/postfix/sqlite-virtual-mailboxes.cf "640 root:postfix"
is_mode /etc/dovecot/dovecot-sql.conf.ext "640 root:dovecot"
if grep -q '{{' "$(host_path mx /etc/postfix/main.cf)" "$(host_path mx /etc/dovecot/dovecot.conf)"; then
	fail "placeholder left in an installed file"
else
	pass
fi
expect 0 "postalias in mx" -- host_exec mx postalias /etc/aliases
expect 0 "postfix check in mx" -- host_exec mx postfix check
if [ -s "$T/err" ]; then fail "postfix check warns: $(head -c 500 "$T/err")"; else pass; fi
expect 0 "doveconf -n in mx" -- host_exec mx doveconf -n
if [ -s "$T/err" ]; then fail "doveconf warns: $(head -c 500 "$T/err")"; else pass; fi

# --- start the servers -------------------------------------------------------------
expect 0 "dovecot starts in mx" -- host_exec mx dovecot
# mailctld checks inbound mail against DNS: a resolver in mx that knows
# no names (no SPF, DKIM or DMARC records anywhere).
expect 0 "resolver in mx" -- lab_empty_resolver mx "$T/dns"
expect 0 "mailctld starts in mx" -- host_exec mx /usr/local/sbin/mailctld -c /etc/mailctl/mailctl.yaml -l /var/log/mailctl.log
expect 0 "postfix starts in mx" -- host_postfix mx start
for port in 25 587 465 993 995; do
	expect 0 "port $port of mx reachable from out" -- host_wait_port out 192.0.2.10 "$port" 10
done
for port in 143 110; do
	expect 1 "port $port closed by default" -- host_wait_port out 192.0.2.10 "$port" 1
done
echo "# servers up after $(since) s"

# --- messages --------------------------------------------------------------------
# message FILE FROM SUBJECT: a message with headers and a body that has
# long lines, blank lines, trailing spaces and a tab.
message() {
	{
		printf 'From: <%s>\nTo: Alice <alice@example.org>\nSubject: %s\n' "$2" "$3"
		printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <%s.%s@mail-flow.test>\n' "${1##*/}" "$$"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
		printf 'Hello Alice,\n\nthis is %s, sent by the mail flow test.\n' "$3"
		printf 'A line with trailing spaces   \n\tand a tab.\n\n'
		printf '%s\n' "$(printf 'x%.0s' $(seq 200))"
		printf -- '-- \nmail_flow.sh\n'
	} >"$1"
}
message "$T/m25.eml" sender@out.test "inbound via port 25"
message "$T/m587.eml" alice@example.org "submitted via 587"
message "$T/m465.eml" alice@example.org "submitted via 465"
{ printf 'X-Spam: Yes\n'; cat "$T/m25.eml"; } | sed 's/^Subject: .*/Subject: spam test/' >"$T/spam.eml"
for m in m25 m587 m465 spam; do head -c -1 "$T/$m.eml" >"$T/$m.wire"; done

MAILDIR=$(host_path mx /var/mail/vhosts/example.org/alice/Maildir)
# delivered FILE [FOLDER]: a message in alice's Maildir (or its FOLDER)
# ends with exactly FILE's bytes.
delivered() {
	local m size
	size=$(stat -c %s "$1")
	for m in "$MAILDIR${2:+/.$2}"/new/* "$MAILDIR${2:+/.$2}"/cur/*; do
		[ -f "$m" ] || continue
		cmp -s <(tail -c "$size" "$m") "$1" && return 0
	done
	return 1
}
# swaks_from_out DESC WANT_EXIT ARGS...: swaks inside 'out'. swaks ends
# DATA with CRLF . CRLF after the data, so "--data @FILE" would add a
# blank line: it gets the *.wire copies, without their last newline.
swaks_from_out() {
	local desc=$1 want=$2
	shift 2
	expect "$want" "$desc" -- host_exec out swaks --server 192.0.2.10 --helo out.test \
		--timeout 10 "$@"
	[ "$want" = 0 ] || return 0
	cp "$T/out" "$T/swaks.log"
}

# --- 1. inbound on port 25 ----------------------------------------------------
swaks_from_out "port 25 accepts mail for alice" 0 --port 25 \
	--from sender@out.test --to alice@example.org --data "@$T/m25.wire"
if wait_for 10 delivered "$T/m25.eml"; then pass; else
	fail "port 25 message not in alice's Maildir after 10 s: $(find "$MAILDIR" 2>&1 | head -20)"
fi
if grep -q 'status=sent (250 2.0.0 <alice@example.org>.*Saved)' "$(host_path mx /var/log/mail.log)"; then
	pass
else
	fail "postfix log shows no LMTP delivery to Dovecot: $(grep 'status=' "$(host_path mx /var/log/mail.log)" | tail -3)"
fi
if host_exec mx stat -c '%U:%G' /var/mail/vhosts/example.org/alice/Maildir | grep -qx vmail:vmail; then
	pass
else
	fail "alice's Maildir is not owned by vmail"
fi

# --- 2. no open relay on port 25, no AUTH there -----------------------------------
host_exec out python3 "$HERE/smtp_probe.py" relay 192.0.2.10 >"$T/relay" 2>&1
n=0
while IFS=$'\t' read -r case code text; do
	n=$((n + 1))
	if [[ $code == 5[0-9][0-9] ]]; then pass; else fail "relay attempt '$case': got $code $text, want 5xx"; fi
done <"$T/relay"
if [ "$n" -ge 16 ]; then pass; else fail "relay battery ran $n of 16 attempts: $(cat "$T/relay")"; fi
if grep -q 'Relay access denied' "$T/relay"; then pass; else fail "no 'Relay access denied' in: $(cat "$T/relay")"; fi
host_exec out python3 "$HERE/smtp_probe.py" cleartext 192.0.2.10 >"$T/clear" 2>&1
has_tab_line "$T/clear" "25 offers AUTH	False" "port 25 offers no AUTH"
has_tab_line "$T/clear" "25 offers AUTH after STARTTLS	False" "port 25 offers no AUTH, even with TLS"
has_tab_line "$T/clear" "587 offers AUTH before STARTTLS	False" "587 hides AUTH before STARTTLS"
has_tab_line "$T/clear" "587 offers STARTTLS	True" "587 offers STARTTLS"
if grep -qE '^587 AUTH before STARTTLS	5[0-9][0-9]	' "$T/clear"; then pass; else
	fail "AUTH before STARTTLS on 587 not refused: $(cat "$T/clear")"
fi
if grep -qE '^587 MAIL before STARTTLS	5[0-9][0-9]	' "$T/clear"; then pass; else
	fail "MAIL before STARTTLS on 587 not refused: $(cat "$T/clear")"
fi
echo "# port 25 checks done after $(since) s"

# --- 3. submission on 587 and 465 ---------------------------------------------------
auth=(--auth PLAIN --auth-user alice@example.org --auth-password "$PW")
swaks_from_out "alice submits on 587 (STARTTLS, AUTH PLAIN)" 0 --port 587 -tls "${auth[@]}" \
	--from alice@example.org --to alice@example.org --data "@$T/m587.wire"
contains "$T/swaks.log" "235 2.7.0 Authentication successful" "587 AUTH succeeded"
swaks_from_out "alice submits on 465 (implicit TLS)" 0 --port 465 --tls-on-connect "${auth[@]}" \
	--from alice@example.org --to alice@example.org --data "@$T/m465.wire"
if wait_for 10 delivered "$T/m587.eml"; then pass; else fail "587 message not delivered after 10 s"; fi
if wait_for 10 delivered "$T/m465.eml"; then pass; else fail "465 message not delivered after 10 s"; fi
# sender addresses alice does not own: the domain's postmaster alias
# (its target is off-site) and an outside address
for from in postmaster@example.org someone@elsewhere.example; do
	swaks_from_out "alice may not send as $from" 24 --port 587 -tls "${auth[@]}" \
		--from "$from" --to alice@example.org --quit-after RCPT
	contains "$T/out" "not owned by user" "sending as $from refused for ownership"
done
swaks_from_out "587 refuses mail without AUTH after STARTTLS" 24 --port 587 -tls \
	--from alice@example.org --to someone@elsewhere.example --quit-after RCPT

# --- 4. read back over IMAPS and POP3S --------------------------------------------
host_exec out python3 "$HERE/read_mail.py" mail.example.org alice@example.org "$PW" "$T/ca.pem" \
	"$T/m25.eml" "$T/m587.eml" "$T/m465.eml" >"$T/read" 2>&1
for proto in imap pop3; do
	has_tab_line "$T/read" "$proto	count	3" "$proto sees three messages"
	for m in m25 m587 m465; do
		has_tab_line "$T/read" "$proto	match	$T/$m.eml" "$proto returns $m byte for byte"
	done
done
if grep -qE '^(imap|pop3)	tls	TLSv1\.[23]$' "$T/read"; then pass; else fail "read_mail: $(cat "$T/read")"; fi
echo "# delivery and retrieval done after $(since) s"

# --- 5. Sieve: spam-marked mail goes to Junk ------------------------------------------
swaks_from_out "port 25 accepts a spam-marked message" 0 --port 25 \
	--from sender@out.test --to alice@example.org --data "@$T/spam.wire"
if wait_for 10 delivered "$T/spam.eml" Junk; then pass; else
	fail "spam-marked message not in Junk after 10 s: $(find "$MAILDIR" 2>&1 | head -30)"
fi

# --- 6. quota: a full mailbox defers, and nothing is lost -------------------------------
message "$T/mquota.eml" sender@out.test "over quota"
head -c -1 "$T/mquota.eml" >"$T/mquota.wire"
maillog=$(host_path mx /var/log/mail.log)
expect 0 "quota below alice's usage" -- mxctl user quota alice@example.org 2K
swaks_from_out "port 25 answers a full mailbox" 24 --port 25 \
	--from sender@out.test --to alice@example.org --data "@$T/mquota.wire"
contains "$T/out" "452 4.2.2" "a full mailbox is a temporary failure (452 at RCPT)"
if delivered "$T/mquota.eml"; then fail "a message was delivered over quota"; else pass; fi
# The sender's MTA keeps it and retries; here Postfix itself is that MTA:
# submitted by alice, the message waits in mx's queue.
swaks_from_out "alice submits to her own full mailbox" 0 --port 587 -tls "${auth[@]}" \
	--from alice@example.org --to alice@example.org --data "@$T/mquota.wire"
if wait_for 10 grep -q 'status=deferred.*4.2.2' "$maillog"; then pass; else
	fail "no deferral for the full mailbox: $(grep 'status=' "$maillog" | tail -3)"
fi
expect 0 "quota raised" -- mxctl user quota alice@example.org 1G
expect 0 "postqueue -f in mx" -- host_exec mx postqueue -f
if wait_for 10 delivered "$T/mquota.eml"; then pass; else fail "the deferred message never arrived"; fi
if grep -q 'status=bounced' "$maillog"; then fail "a message bounced: $(grep 'status=bounced' "$maillog")"; else pass; fi

# --- 7. TLS versions and ciphers -------------------------------------------------------
# tls_probe PORT ARGS...: a handshake from 'out'; its exit status. The
# client allows everything (security level 0), so a refusal is the server's.
tls_probe() {
	local port=$1 starttls=()
	shift
	case $port in 25 | 587) starttls=(-starttls smtp) ;; esac
	host_exec out timeout 10 openssl s_client -connect "192.0.2.10:$port" \
		-servername mail.example.org "${starttls[@]}" "$@" </dev/null >"$T/tls" 2>&1
}
OLD_CIPHERS='ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:AES128-SHA256:@SECLEVEL=0'
for port in 25 587 465 993 995; do
	for v in tls1 tls1_1; do
		if tls_probe "$port" "-$v" -cipher 'DEFAULT:@SECLEVEL=0'; then
			fail "port $port: a -$v handshake succeeded"
		else
			pass
		fi
	done
	# CBC with SHA-1: in OpenSSL's defaults, not in Mozilla's intermediate
	if tls_probe "$port" -tls1_2 -cipher "$OLD_CIPHERS"; then
		fail "port $port: TLS 1.2 with $(awk '/Cipher is/ {print $NF}' "$T/tls") (not Mozilla intermediate) succeeded"
	else
		pass
	fi
	for v in tls1_2 tls1_3; do
		if tls_probe "$port" "-$v" && grep -q '^New, TLSv1.[23]' "$T/tls"; then pass; else
			fail "port $port: -$v handshake failed: $(grep -iE 'error|alert|New,' "$T/tls" | head -3)"
		fi
	done
done
# OpenSSL 3 refuses TLS 1.0 and 1.1 below security level 0 on its own,
# so the handshakes above pass even without our settings: check those too.
expect 0 "postconf in mx" -- host_exec mx postconf -h smtpd_tls_protocols smtpd_tls_mandatory_protocols
if [ "$(sort -u "$T/out")" = ">=TLSv1.2" ]; then pass; else fail "postfix TLS protocols: $(cat "$T/out")"; fi
expect 0 "doveconf in mx" -- host_exec mx doveconf -h ssl_min_protocol
if [ "$(cat "$T/out")" = TLSv1.2 ]; then pass; else fail "dovecot ssl_min_protocol: $(cat "$T/out")"; fi
echo "# TLS checks done after $(since) s"

# --- 8. mail.plaintext_ports: 143 and 110, STARTTLS before login --------------------------
sed -i 's/^mail:$/mail:\n  plaintext_ports: true/' "$(host_path mx /etc/mailctl/mailctl.yaml)"
expect 0 "apply with mail.plaintext_ports" -- mxctl apply --no-reload
expect 0 "dovecot reload" -- host_exec mx doveadm reload
for port in 143 110; do
	expect 0 "port $port open with mail.plaintext_ports" -- host_wait_port out 192.0.2.10 "$port" 5
done
host_exec out python3 "$HERE/plain_ports.py" mail.example.org alice@example.org "$PW" "$T/ca.pem" \
	>"$T/plain" 2>&1
for line in "imap STARTTLS offered	True" "imap LOGINDISABLED	True" "imap login after STARTTLS	ok" \
	"pop3 STLS offered	True" "pop3 login after STLS	ok"; do
	has_tab_line "$T/plain" "$line" "plaintext ports"
done
for check in "imap login before STARTTLS" "pop3 login before STLS"; do
	if grep -q "^$check	refused" "$T/plain"; then pass; else fail "$check not refused: $(cat "$T/plain")"; fi
done

# --- 9. wrong password (last: Dovecot then slows this client down) ----------------------
# A disabled user is refused at SMTP AUTH too, with the right password.
expect 0 "user disable alice" -- mxctl user disable alice@example.org
# swaks's own transcript after STARTTLS is not reliable when it is not on a
# terminal; its exit status (28: AUTH refused) and Postfix's log are.
auth_failures() { grep -c 'SASL PLAIN authentication failed' "$(host_path mx /var/log/mail.log)"; }
before=$(auth_failures)
swaks_from_out "disabled user refused on 587" 28 --port 587 -tls --auth PLAIN \
	--auth-user alice@example.org --auth-password "$PW" \
	--from alice@example.org --to alice@example.org --quit-after AUTH
more_failures() { [ "$(auth_failures)" -gt "$before" ]; }
wait_for 5 more_failures && pass || fail "Postfix logged no failed AUTH for the disabled user"
expect 0 "user enable alice" -- mxctl user enable alice@example.org
# (Dovecot delays a client's repeated failures: more time for the second)
before=$(auth_failures)
swaks_from_out "wrong password refused on 587" 28 --port 587 -tls --auth PLAIN \
	--auth-user alice@example.org --auth-password "$PW-wrong" \
	--from alice@example.org --to alice@example.org --quit-after AUTH --timeout 25
wait_for 5 more_failures && pass || fail "Postfix logged no failed AUTH for the wrong password"

# no_errors LOG PATTERN [EXPECTED]: no line of mx's LOG matches PATTERN,
# apart from those matching EXPECTED (what the checks above provoke: the
# refused handshakes, the wrong password, the reload).
no_errors() {
	local f
	f=$(host_path mx "$1")
	if grep -E "$2" "$f" | grep -vE "${3:-^$}" >"$T/bad"; then
		fail "$1 has errors: $(head -5 "$T/bad")"
	else
		pass
	fi
}
no_errors /var/log/mail.log 'warning:|error:|fatal:|panic:' \
	'TLS library problem: .*(unsupported protocol|no shared cipher)|SASL PLAIN authentication failed'
no_errors /var/log/dovecot.log 'Error:|Fatal:|Panic:|Warning:' \
	'Warning: SIGHUP received - reloading|Warning: Sent SIGTERM to [0-9]+ [a-z-]+ process|Warning: Killed with signal 15|Warning: Processes aren.t dying after reload|auth-worker: Aborted [A-Z]+ request for [^ ]+: Shutting down'

host_postfix mx stop >/dev/null 2>&1
host_exec mx doveadm stop >/dev/null 2>&1
show_logs
echo "# done after $(since) s"
done_tests
