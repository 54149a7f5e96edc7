#!/bin/bash
# mailtui's Blacklist, Queue, Log and Certs screens through tmux against a
# private instance under $T, with real peers on loopback only:
#  - Blacklist: nsd on a free 127.0.0.1 port serves two test blocklists
#    (an address listed with a TXT record, a domain list); a third list is
#    refused. The rows (worst first), the golden screen, Enter, the OSC 52
#    copy of the delisting page, the filter, the stored history (rows
#    added to the database, compared with 'mailctl blacklist history'),
#    and a check against a resolver that never answers: timeouts, while
#    the screen keeps answering keys.
#  - Queue: the error when Postfix has no configuration, then a private
#    Postfix instance (its own config directory and queue under $T; the
#    mail system is not started, so messages stay where sendmail left
#    them): listing, the message in a pager (postcat), retry refused with
#    Postfix's words, delete after a confirmation (postsuper), the
#    periodic refresh, the filter.
#  - Log: a missing paths.mail_log, then lines as they are written, the
#    filter by address with the whole story of its messages (golden),
#    following and pausing, and rotation.
#  - Certs: no certificate, a self-signed one (TLSA copied with OSC 52),
#    a request to a CA that cannot be reached and renew with nothing to
#    renew (the CLI's words; nothing changed), and a CA that keeps the
#    connection 3 s before closing it: progress with the seconds taken,
#    other screens usable meanwhile.
# Every new screen at 40x10, and mailtui exits 0 (leak-free under ASan).
source "$MAILCTL_SRC/tests/lib.sh"
set +e

source "$MAILCTL_SRC/tests/cli/lib/tui.sh" nsd nsd-checkconf drill openssl postqueue postcat \
	postsuper sendmail
PIDS=()
trap 'tx kill-server 2>/dev/null; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# free_port udp|tcp: a port nothing listens on now.
free_port() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}
DNS_PORT=$(free_port udp)
mc_setup "network:" "  ipv4: 192.0.2.10" "dns:" "  resolver: 127.0.0.1:$DNS_PORT" \
	"status:" "  port25_probe: ''" "blacklist:" "  zones_file: $T/dnsbl.yaml" \
	"acme:" "  directory: https://127.0.0.1:1/directory"
sed -i "/^paths:/a\\  mail_log: $T/mail.log" "$MAILCTL_CONFIG"
mc domain add example.org >/dev/null || fail "domain add"

# ---- the blocklists: a table of three lists, two served by nsd ----
cat >"$T/dnsbl.yaml" <<'EOF'
lists:
  - zone: bl.test
    kind: ip
    ipv6: false
    weight: major
    delist: https://bl.test/removal
    why: the test address list
    codes:
      - {value: 127.0.0.2, meaning: "spam source"}
  - zone: dbl.test
    kind: domain
    weight: minor
    delist: https://dbl.test/delist
    why: the test domain list
    codes:
      - {value: 127.0.1.2, meaning: "spam domain"}
    test_listed: [dbltest.test]
    test_clean: [invalid]
  - zone: quiet.test
    kind: ip
    ipv6: false
    weight: minor
    delist: https://quiet.test/
    why: a list nsd does not serve, so it refuses
    codes:
      - {value: 127.0.0.2, meaning: "listed"}
EOF
NS=$T/ns
mkdir -p "$NS"
zone() {
	printf '$ORIGIN %s.\n$TTL 60\n@ IN SOA ns.test. hostmaster.test. 1 3600 900 604800 60\n@ IN NS ns.test.\n%s\n' \
		"$1" "$2" >"$NS/$1.zone"
}
zone bl.test '2.0.0.127 A 127.0.0.2
10.2.0.192 A 127.0.0.2
10.2.0.192 TXT "Listed for spam, see https://bl.test/lookup?ip=192.0.2.10"'
zone dbl.test 'dbltest.test A 127.0.1.2'
cat >"$NS/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$DNS_PORT
	username: ""
	chroot: ""
	zonesdir: "$NS"
	database: ""
	zonelistfile: "$NS/zone.list"
	xfrdfile: "$NS/xfrd.state"
	xfrdir: "$NS"
	pidfile: "$NS/nsd.pid"
	logfile: "$NS/nsd.log"
	server-count: 1
remote-control:
	control-enable: no
zone:
	name: bl.test
	zonefile: "$NS/bl.test.zone"
zone:
	name: dbl.test
	zonefile: "$NS/dbl.test.zone"
EOF
nsd-checkconf "$NS/nsd.conf" >"$T/cc" 2>&1 || fail "nsd.conf: $(head -c 300 "$T/cc")"
nsd -d -c "$NS/nsd.conf" >/dev/null 2>&1 &
PIDS+=($!)
answers() { drill -p "$DNS_PORT" @127.0.0.1 A 10.2.0.192.bl.test 2>/dev/null | grep -q 'rcode: NOERROR'; }
wait_for 10 answers || { fail "nsd does not answer: $(tail -3 "$NS/nsd.log")"; done_tests; exit 1; }

start tui 80 24 -- "$MAILTUI"
shows "Status of mail.example.org" "mailtui starts"
keys 6
shows "Blocklists at" "the check runs when the screen opens"
shows "1 listed, 1 not asked, 1 clean, 0 skipped" "the summary counts the results"
screen | sed -n 4p | grep -qE '^192\.0\.2\.10 +bl\.test +listed +spam source \(127\.0\.0\.2\)' &&
	pass || fail "the listing is not the first row: $(screen | sed -n 4p)"
screen | sed -n 5p | grep -qE '^192\.0\.2\.10 +quiet\.test +refused ' && pass ||
	fail "the refusal is not second: $(screen | sed -n 5p)"
screen | sed -n 6p | grep -qE '^example\.org +dbl\.test +clean' && pass ||
	fail "the clean domain is not last: $(screen | sed -n 6p)"
golden blacklist "s/127\\.0\\.0\\.1:$DNS_PORT in [0-9]+ ms/RESOLVER in N ms/"
keys y
shows "copied the delisting page of bl.test (https://bl.test/removal)" "copy says what"
[ "$(clipboard)" = "https://bl.test/removal" ] && pass ||
	fail "OSC 52 copy: tmux buffer '$(clipboard)'"
keys Enter
shows "TXT: Listed for spam, see" "Enter shows the TXT"
shows "https://bl.test/lookup?ip=192.0.2.10" "the TXT is whole"
shows "major list: the test address list" "Enter shows the list's weight and why"
keys Escape j Enter
shows "fix: ask a local recursive resolver" "a refusal carries the CLI's fix"
keys Escape j
shows "dbl.test - delisting: https://dbl.test/delist (y copies it)" \
	"the line under the list follows the selection"
keys / e x a m
shows "Results: 1 of 3  filter: exam_" "the filter narrows the results"
keys Escape
shows "Blocklists at" "Esc clears the filter"

# the history: what a monitoring round would have stored
sqlite3 "$T/mailctl.db" "INSERT INTO blacklist_results (checked, subject, zone, status, detail) VALUES
	('2026-11-20T10:00:00Z', '192.0.2.10', 'bl.test', 'clean', ''),
	('2026-11-20T10:00:00Z', 'example.org', 'dbl.test', 'clean', ''),
	('2026-11-21T10:00:00Z', '192.0.2.10', 'bl.test', 'listed', 'spam source (127.0.0.2)'),
	('2026-11-21T10:00:00Z', 'example.org', 'dbl.test', 'clean', ''),
	('2026-11-22T10:00:00Z', '192.0.2.10', 'bl.test', 'clean', '')" ||
	fail "cannot add history rows"
keys h
shows "Blocklist history: 4 changes found by mailctld" "h shows the stored changes"
n=$(mc --json blacklist history | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$n" = 4 ] && pass || fail "the CLI's history has $n changes, the screen 4"
screen | sed -n 4p | grep -qE '^2026-11-22T10:00 +192\.0\.2\.10 +bl\.test +clean' && pass ||
	fail "the newest change is not first: $(screen | sed -n 4p)"
shows "2026-11-21T10:00 192.0.2.10       bl.test            listed   spam source" \
	"the listing is in the history"
keys y
[ "$(clipboard)" = "https://bl.test/removal" ] && pass || fail "copy from the history"
keys h
shows "Blocklists at" "h goes back to the live check"

# a resolver that never answers: timeouts, and the screen answers keys
SILENT=$(free_port udp)
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
time.sleep(300)' "$SILENT" "$T/silent.ready" &
PIDS+=($!)
wait_for 20 test -e "$T/silent.ready" || fail "the silent resolver did not start"
sed "s/resolver: 127.0.0.1:$DNS_PORT/resolver: 127.0.0.1:$SILENT/" "$MAILCTL_CONFIG" >"$T/silent.yaml"
start slow 80 24 MAILCTL_CONFIG="$T/silent.yaml" -- "$MAILTUI"
shows "Status of" "the second session starts" slow
tx send-keys -t slow 6
shows "Blocklist check: checking..." "the check runs in the background" slow
shows "asking 3 blocklists about 2 subjects through 127.0.0.1:$SILENT..." \
	"the check shows its progress" slow
tx send-keys -t slow 2
shows "Domains: 1" "another screen opens while the check runs" slow
tx send-keys -t slow 6
shows "timeout" "unanswered queries are timeouts" slow
shows "0 listed, 3 not asked" "timeouts are counted as not asked" slow
tx send-keys -t slow q
shows "mailtui exited 0" "the second session quits cleanly" slow

# ---- the queue: Postfix without a configuration, then a private instance ----
PF=$T/etc/postfix
keys 7
shows "cannot read the queue: postqueue: fatal: open $T/etc/" "no Postfix configuration"
shows "main.cf: No such file or directory" "no Postfix configuration: Postfix's words"
shows "the queue could not be read: see the message below" "the list says why it is empty"
mkdir -p "$T/spool" "$T/postfix-data"
cp /etc/postfix/master.cf "$PF/master.cf"
cat >"$PF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/spool
data_directory = $T/postfix-data
myhostname = mail.example.org
mydestination =
alias_maps =
alias_database =
inet_interfaces = loopback-only
EOF
postfix -c "$PF" post-install create-missing >"$T/pi" 2>&1 || fail "postfix post-install: $(cat "$T/pi")"
keys F5
shows "the queue is empty" "an empty queue says so"
shows "Mail queue at" "the header once listed"
shows "Mail system is down -- accessing queue directly" "Postfix's warning is shown"
send() { # FROM SUBJECT TO...
	local from=$1 subject=$2
	shift 2
	printf 'Subject: %s\n\nbody\n' "$subject" | sendmail -C "$PF" -f "$from" "$@" 2>/dev/null ||
		fail "sendmail $*"
}
queued() { postqueue -c "$PF" -j 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    print(m["queue_id"], ",".join(r["address"] for r in m["recipients"]))'; }
send alice@example.org first bob1@example.net
sleep 1.1 # arrival times a second apart: the list is oldest first
send alice@example.org second bob2@example.net carol@example.net
id1=$(queued | awk '$2 == "bob1@example.net" {print $1}')
id2=$(queued | awk '$2 == "bob2@example.net,carol@example.net" {print $1}')
[ -n "$id1" ] && [ -n "$id2" ] && pass || fail "messages not queued: $(queued)"
keys F5
shows "2 messages, 0 deferred, 0 on hold" "two messages listed"
screen | sed -n 4p | grep -qE "^$id1 +maildrop .* alice@example\. bob1@example\.n" && pass ||
	fail "the oldest message is not first: $(screen | sed -n 4p)"
shows "$id2" "the second message is listed"
keys g Enter
shows "Queued message $id1" "Enter opens the message"
shows "*** ENVELOPE RECORDS maildrop/$id1 ***" "the pager shows postcat's output"
shows "Subject: first" "the message's header is shown"
keys q
shows "2 messages, 0 deferred" "q closes the pager"
has tui "mailtui exited" && fail "q in the pager quit mailtui" || pass
keys f
want=$(postqueue -c "$PF" -i "$id1" 2>&1 | grep fatal)
shows "cannot retry delivery of '$id1': ${want:0:40}" "retry with the mail system down: Postfix's words"
keys F
shows "cannot flush the queue: postqueue: fatal: Cannot flush mail queue" "retry all refused too"
keys d
shows "Delete '$id1' to bob1@example.net for good? [y/N]" "delete asks first"
keys n
shows "kept queued message '$id1'" "n keeps it"
[ "$(queued | wc -l)" = 2 ] && pass || fail "n deleted something: $(queued)"
keys d y
shows "deleted queued message '$id1'" "y deletes it"
shows "1 message, 0 deferred" "the list is read again after the delete"
[ "$(queued)" = "$id2 bob2@example.net,carol@example.net" ] && pass ||
	fail "the queue after the delete: $(queued)"
send root@mail.example.org third dave@ex.org
if wait_for 15 has tui "dave@ex.org"; then pass; else
	fail "the periodic refresh did not show the new message"
fi
keys / d a v e
shows "Messages: 1 of 2  filter: dave_" "the filter narrows the queue"
keys Escape

# ---- the log ----
keys 8
shows "cannot open '$T/mail.log': no such file or directory" "a missing log is said"
cat >"$T/mail.log" <<'EOF'
Nov 23 05:01:00 mail postfix/smtpd[10]: connect from unknown[192.0.2.7]
Nov 23 05:01:01 mail postfix/smtpd[10]: 4F2A1C0123: client=unknown[192.0.2.7]
Nov 23 05:01:01 mail postfix/cleanup[11]: 4F2A1C0123: message-id=<1@example.net>
Nov 23 05:01:01 mail postfix/qmgr[12]: 4F2A1C0123: from=<ext@example.net>, size=900, nrcpt=1
Nov 23 05:01:02 mail postfix/smtpd[10]: NOQUEUE: reject: RCPT from x[192.0.2.8]: 554 <alice@example.org>: Relay access denied
Nov 23 05:01:02 mail postfix/qmgr[12]: 5A0B1C2D3E: from=<bob@example.org>, size=100, nrcpt=1
Nov 23 05:01:03 mail postfix/lmtp[13]: 4F2A1C0123: to=<alice@example.org>, status=sent (250 2.0.0 Saved)
Nov 23 05:01:03 mail postfix/smtp[14]: 5A0B1C2D3E: to=<carol@example.com>, status=deferred (timeout)
EOF
shows "Mail log: 8 lines, following new ones" "the log is read once it exists"
keys / a l i c e @ e x a m p l e . o r g Enter
shows "Mail log lines: 5 of 8  filter: alice@example.org" "the filter keeps the whole story"
golden log_filtered "s|$T|\$T|g"
echo "Nov 23 05:01:04 mail postfix/qmgr[12]: 4F2A1C0123: removed" >>"$T/mail.log"
shows "4F2A1C0123: removed" "a new line of the traced message shows under the filter"
shows "6 of 9" "the count follows"
keys / Escape
keys k k
shows "paused (End follows new lines)" "moving up stops following"
echo "Nov 23 05:01:05 mail postfix/smtpd[10]: disconnect from unknown[192.0.2.7]" >>"$T/mail.log"
shows "Mail log: 10 lines, paused" "new lines are counted while paused"
keys End
shows "Mail log: 10 lines, following new ones" "End follows again"
mv "$T/mail.log" "$T/mail.log.1"
echo "Nov 23 06:00:00 mail postfix/postfix-script[99]: starting the Postfix mail system" >"$T/mail.log"
shows "the log was rotated: following '$T/" "rotation is said"
shows "starting the Postfix mail" "the new file's lines show"
shows "Mail log: 11 lines" "the old lines stay"

# ---- the certificate ----
keys 9
shows "No certificate: cannot open '$T/tls/cert.pem'" "no certificate yet"
mkdir -p "$T/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
	-subj "/CN=mail.example.org" -addext "subjectAltName=DNS:mail.example.org" \
	-keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2>/dev/null
chmod 600 "$T/tls/key.pem"
tlsa=$(openssl pkey -in "$T/tls/key.pem" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
keys F5
shows "Certificate: self-signed (from setup): no certificate from a CA yet" "self-signed said"
shows "names         mail.example.org" "the names"
screen | grep -qE '^expires +[0-9-]+ [0-9:]+ UTC \(36[45] days left\)' && pass ||
	fail "days left: $(screen | grep expires)"
shows "kind          self-signed" "self-signed or from a CA"
shows "CA            none (self-signed)" "no CA"
keys / T L S A Enter
shows "TLSA 3 1 1    $tlsa" "the TLSA of the key"
keys y
[ "$(clipboard)" = "$tlsa" ] && pass || fail "TLSA copy: '$(clipboard)', want '$tlsa'"
keys / Escape
before=$(sha256sum "$T/tls/cert.pem" "$T/tls/key.pem")
keys R
shows "Ask 127.0.0.1:1 for a certificate for these 3 names? [y/N]" "request asks first"
shows "To request: mail.example.org, mta-sts.example.org, autoconfig.example.org" \
	"the names to request are shown"
keys n
has tui "cannot reach" && fail "n still requested" || pass
keys R y
shows "cannot reach the CA at 'https://127.0.0.1:1/directory'" "an unreachable CA is said"
shows "request failed: cannot reach the CA" "the attempt is listed"
mc cert request 2>"$T/cli.err" >/dev/null
cli_msg=$(sed 's/^mailctl: //' "$T/cli.err")
[ -n "$cli_msg" ] && pass || fail "the CLI reached a CA at 127.0.0.1:1"
shows "${cli_msg:0:70}" "an unreachable CA: the CLI's error text"
keys u
shows "nothing to renew: no certificate from a CA was installed yet" "renew: nothing to renew"
[ "$(sha256sum "$T/tls/cert.pem" "$T/tls/key.pem")" = "$before" ] && pass ||
	fail "a failed request changed the certificate or key"
# A key rollover under way (its next key beside tls.key_file): its TLSA shown.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/tls/key.pem.next" 2>/dev/null
next=$(openssl pkey -in "$T/tls/key.pem.next" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
keys F5
shows "next key      TLSA 3 1 1 ${next:0:50}" "a rollover's next key is shown"
rm -f "$T/tls/key.pem.next"

# a CA that holds the connection 3 s: progress, and the screens answer
CA_PORT=$(free_port tcp)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept(); time.sleep(3); c.close()' "$CA_PORT" "$T/ca.ready" &
PIDS+=($!)
wait_for 20 test -e "$T/ca.ready" || fail "the slow CA did not start"
sed "s|directory: https://127.0.0.1:1/directory|directory: https://127.0.0.1:$CA_PORT/directory|" \
	"$MAILCTL_CONFIG" >"$T/slowca.yaml"
start ca 80 24 MAILCTL_CONFIG="$T/slowca.yaml" -- "$MAILTUI"
shows "Status of" "the third session starts" ca
tx send-keys -t ca 9 R y
shows "requesting a certificate from https://127.0.0.1:$CA_PORT/directory... 1 s" \
	"the request shows the seconds taken" ca
tx send-keys -t ca 3
shows "Users: 0" "another screen opens while the request runs" ca
tx send-keys -t ca 9
shows "cannot reach the CA at 'https://127.0.0.1:$CA_PORT/directory'" \
	"the request ends with the error" ca
tx send-keys -t ca q
shows "mailtui exited 0" "the third session quits cleanly" ca

# ---- 40x10: every new screen fits ----
tx resize-window -t tui -x 40 -y 10
for k in 6 7 8 9; do
	keys "$k"
	shows "$k/9 " "screen $k at 40x10"
	wide=$(screen | wc -L)
	[ "$wide" -le 40 ] && pass || fail "screen $k: a line $wide columns wide at 40x10"
	[ "$(screen | wc -l)" -le 10 ] && pass || fail "screen $k: more than 10 rows"
done
tx resize-window -t tui -x 80 -y 24
shows "1 Dashboard 2 Domains" "back at 80x24"

keys q
shows "mailtui exited 0" "q quits with status 0"

done_tests
