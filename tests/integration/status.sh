#!/bin/bash
# tests/integration/status.sh - 'mailctl status' on a full lab host.
#
# Lab: 'ns' (192.0.2.53) runs nsd behind unbound with example.org exactly
# as 'mailctl dns records' prints it, the reverse zones of mx's addresses,
# example.net (the port 25 probe's name) and a lab blocklist table's zones
# (bl.lab.example, dbl.lab.example, with their RFC 5782 test points); 'mx'
# (mail.example.org, 192.0.2.10, 2001:db8::10) is set up as
# provision/install.sh does ('mailctl setup', 'mailctl service start');
# 'probe' (192.0.2.25) answers on port 25 as probe.example.net, the
# status.port25_probe of mx.
#  0. setup's self-signed certificate: a warning pointing at 'cert request'
#     (exit 0); then a lab CA's certificate for the same key is installed;
#  1. healthy: every row ok, exit 0; the time of a local-only and a full run;
#  2. Dovecot stopped: its row is an error naming it, exit 69;
#  3. the mail root on a small loop-mounted ext4: 15% free is a warning
#     (exit 0), 5% free an error (exit 69);
#  4. an expired certificate: an error with its date, exit 69;
#  5. DNS broken: the MX record gone (dns error), 192.0.2.10 listed on the
#     lab blocklist (blacklist error), the IPv6 PTR naming another host
#     that leads back (rdns warning), exit 69;
#  6. the probe gone: port25 error; a deferred message in the queue;
#  7. all mended: exit 0 again.
# No address outside 192.0.2.0/24 and 2001:db8::/32 is ever contacted.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"
source "$MAILCTL_SRC/tests/integration/lib/dns.sh"

for pkg in postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd \
	dovecot-sqlite dovecot-sieve nsd unbound ldnsutils openssl acl e2fsprogs mount python3; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOST_TIMEOUT=60
NS=$T/ns
mkdir -p "$NS"

lab_up() {
	HOST_FQDN=ns.example.net host_create ns 192.0.2.53 2001:db8::53 &&
		HOST_FQDN=mail.example.org host_create mx 192.0.2.10 2001:db8::10 &&
		HOST_FQDN=probe.example.net host_create probe 192.0.2.25 2001:db8::25
}
if ! lab_up; then
	fail "cannot create the lab hosts"
	done_tests
	exit 1
fi
host_set_resolver mx 192.0.2.53

# ---- mx as install.sh and 'mailctl setup' leave it ----
expect 0 "install.sh's users and files in mx" -- host_install_mailctl mx
expect 0 "mailctl setup in mx" -- host_mailctl mx setup
cat >"$T/dnsbl.yaml" <<'YAML'
lists:
  - zone: bl.lab.example
    kind: ip
    ipv6: true
    weight: major
    delist: https://bl.lab.example/removal
    codes:
      - {value: 127.0.0.2, meaning: "spam source"}
  - zone: dbl.lab.example
    kind: domain
    weight: major
    delist: https://dbl.lab.example/removal
    codes:
      - {value: 127.0.1.2, meaning: "spam domain"}
    test_listed: [dbltest.com]
    test_clean: [invalid]
YAML
printf 'blacklist:\n  zones_file: %s\nstatus:\n  port25_probe: probe.example.net:25\n' "$T/dnsbl.yaml" \
	>>"$(host_path mx /etc/mailctl/mailctl.yaml)"
expect 0 "the configuration with the lab's keys" -- host_mailctl mx config check

# ---- DNS ----
host_mailctl mx dns records >"$T/records" || fail "dns records: $(head -c 300 "$T/records")"
soa() { # ORIGIN
	printf '$ORIGIN %s\n$TTL 60\n@ IN SOA ns.example.net. hostmaster.example.net. 1 3600 900 604800 60\n' "$1"
	printf '@ IN NS ns.example.net.\n'
}
nibbles() { python3 -c 'import ipaddress, sys; print(".".join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(":", ""))))' "$1"; }
# write_zones [MX-GONE] [LISTED] [V6-PTR]: the zones, broken as asked
write_zones() {
	{ soa example.org.; grep -v '^;' "$T/records" | { [ -n "${1:-}" ] && grep -vP '^example\.org\.\t.*\tMX\t' || cat; }; } >"$NS/example.org.zone"
	{ soa example.net.; printf 'ns A 192.0.2.53\nprobe A 192.0.2.25\nother AAAA 2001:db8::10\n'; } >"$NS/example.net.zone"
	{ soa 2.0.192.in-addr.arpa.; grep '^; at your provider: .*in-addr.arpa' "$T/records" | sed 's/^; at your provider: //'; } >"$NS/rev4.zone"
	{ soa 8.b.d.0.1.0.0.2.ip6.arpa.; grep '^; at your provider: .*ip6.arpa' "$T/records" | sed 's/^; at your provider: //' |
		{ [ -n "${3:-}" ] && sed "s/PTR\t.*/PTR\t$3/" || cat; }; } >"$NS/rev6.zone"
	{ soa bl.lab.example.; printf '2.0.0.127 A 127.0.0.2\n%s A 127.0.0.2\n' "$(nibbles ::ffff:7f00:2)"
		[ -n "${2:-}" ] && printf '10.2.0.192 A 127.0.0.2\n10.2.0.192 TXT "listed in the lab list"\n'; } >"$NS/bl.lab.example.zone"
	{ soa dbl.lab.example.; printf 'dbltest.com A 127.0.1.2\n'; } >"$NS/dbl.lab.example.zone"
}
lab_dns_conf "$NS" example.org example.net 2.0.192.in-addr.arpa=rev4.zone 8.b.d.0.1.0.0.2.ip6.arpa=rev6.zone \
	bl.lab.example dbl.lab.example
# serve [write_zones ARGS]: (re)start nsd and unbound (a cold cache)
serve() {
	lab_dns_stop
	write_zones "$@"
	lab_dns_start ns "$NS" || { fail "the lab DNS did not start"; return 1; }
}
serve

# ---- the probe: answers on port 25 like a mail server, then hangs up ----
PROBE_PID=
probe_start() {
	PROBE_PID=$(host_spawn probe python3 -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 25)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"220 probe.example.net ESMTP\r\n"); c.close()') || fail "the probe did not start"
	host_wait_port mx 192.0.2.25 25 10 || fail "the probe does not answer on port 25"
}
probe_start

expect 0 "service start in mx" -- host_mailctl mx service start
expect 0 "port 993 of mx open" -- host_wait_port mx 192.0.2.10 993 10

# ---- helpers ----

# status NAME WANT-EXIT [ARGS]: 'mailctl --json status ARGS' in mx, the JSON in $T/NAME.json
status() {
	local name=$1 want=$2 got=0
	shift 2
	host_mailctl mx --json status "$@" >"$T/$name.json" 2>"$T/$name.err" || got=$?
	if [ "$got" = "$want" ]; then pass; else
		fail "$name: exit $got, want $want; stderr: $(head -c 300 "$T/$name.err"); not ok: $(not_ok "$name")"
	fi
}
# not_ok NAME: the rows of NAME that are not ok, one a line: "CHECK SUBJECT
# STATUS", a tab, the finding and the fix
not_ok() {
	python3 - "$T/$1.json" <<'PY' 2>/dev/null
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["status"] != "ok":
        print(f'{r["check"]} {r["subject"]} {r["status"]}\t{r["finding"]} [fix: {r["fix"]}]')
PY
}
# expect_not_ok NAME "CHECK SUBJECT STATUS"...: exactly these rows are not ok
expect_not_ok() {
	local name=$1 got want
	shift
	got=$(not_ok "$name" | cut -f1 | sort)
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	[ "$got" = "$want" ] && pass || fail "$name: rows not ok:
$(not_ok "$name")
want: $*"
}
# row NAME CHECK SUBJECT FIELD=TEXT...: that row's field contains TEXT
row() {
	python3 - "$T/$1.json" "${@:2}" <<'PY' && pass || fail "$1: row $2 $3 lacks ${*:4}"
import json, sys
f, check, subject, *want = sys.argv[1:]
rows = [r for r in json.load(open(f)) if r["check"] == check and r["subject"] == subject]
if len(rows) != 1:
    sys.exit(f"{len(rows)} rows")
for w in want:
    k, v = w.split("=", 1)
    if v not in str(rows[0][k]):
        sys.exit(f"{k}: {rows[0][k]!r}")
PY
}

# ---- 0. setup's self-signed certificate: a warning with the way out ----
status self_signed 0
expect_not_ok self_signed "tls /var/lib/mailctl/tls/cert.pem warning"
row self_signed tls /var/lib/mailctl/tls/cert.pem \
	"finding=self-signed certificate for mail.example.org" "fix=mailctl cert request"
# From here on a lab CA's certificate for the same key, as 'cert request' leaves it.
CERT=$(host_path mx /var/lib/mailctl/tls/cert.pem)
KEY=$(host_path mx /var/lib/mailctl/tls/key.pem)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=lab CA" \
	-keyout "$T/labca.key" -out "$T/labca.pem" 2>"$T/err" &&
	openssl req -new -key "$KEY" -subj /CN=mail.example.org -out "$T/leaf.csr" 2>>"$T/err" &&
	printf 'subjectAltName=DNS:mail.example.org\n' >"$T/leaf.ext" &&
	openssl x509 -req -in "$T/leaf.csr" -CA "$T/labca.pem" -CAkey "$T/labca.key" -days 90 \
		-extfile "$T/leaf.ext" -out "$T/leaf.pem" 2>>"$T/err" &&
	cat "$T/leaf.pem" "$T/labca.pem" >"$CERT" && pass ||
	fail "cannot make the lab CA's certificate: $(head -c 300 "$T/err")"

# ---- 1. healthy ----
status healthy 0
expect_not_ok healthy ""
row healthy service postfix "finding=running, listening on 25, 587, 465"
row healthy service dovecot "finding=running, listening on 993, 995"
row healthy service mailctld "finding=running, listening on '/var/spool/postfix/mailctl/milter.sock'"
row healthy queue postfix "finding=the queue is empty"
row healthy tls /var/lib/mailctl/tls/cert.pem "finding=CA-issued certificate for mail.example.org from CN = lab CA"
row healthy aliases example.org "finding=postmaster@ and abuse@ receive mail"
row healthy dns example.org "finding=checks ok"
row healthy blacklist all "finding=not listed"
row healthy port25 probe.example.net:25 "finding=connected to probe.example.net (192.0.2.25) port 25"
row healthy rdns 192.0.2.10 "finding=PTR mail.example.org, which leads back to 192.0.2.10"
row healthy rdns 2001:db8::10 "finding=PTR mail.example.org, which leads back to 2001:db8::10"
host_mailctl mx status >"$T/table" 2>&1 && pass || fail "the table run failed: $(head -c 300 "$T/table")"
head -1 "$T/table" | grep -qE '^CHECK +SUBJECT +STATUS +FINDING +FIX$' && pass || fail "table header: $(head -1 "$T/table")"
grep -qE '^[0-9]+ ok, 0 warnings, 0 errors, 0 skipped in [0-9]+ ms$' "$T/table" && pass ||
	fail "table summary: $(tail -1 "$T/table")"

# The time of a run, local-only and full: averages of 5, for the record.
avg_ms() { # ARGS...
	host_sh mx 's=$(date +%s%N); for i in 1 2 3 4 5; do env -u MAILCTL_CONFIG "$0" "$@" >/dev/null; done
		e=$(date +%s%N); echo $(( (e - s) / 5000000 ))' "$MAILCTL" "$@"
}
ms_local=$(avg_ms status --local)
ms_full=$(avg_ms status)
echo "mailctl status on a healthy lab host: --local $ms_local ms, full $ms_full ms (average of 5)"
[ -n "$ms_full" ] && [ "$ms_full" -lt 5000 ] && pass || fail "status took $ms_full ms"

# ---- 2. Dovecot stopped ----
expect 0 "stop Dovecot in mx" -- host_exec mx doveadm stop
dovecot_gone() { ! host_exec mx pgrep -x dovecot >/dev/null; }
wait_for 10 dovecot_gone && pass || fail "Dovecot did not stop"
status dovecot_stopped 69
expect_not_ok dovecot_stopped "service dovecot error"
row dovecot_stopped service dovecot "finding=dovecot is not running" "fix=mailctl service start"
expect 0 "service start brings Dovecot back" -- host_mailctl mx service start
expect 0 "port 993 open again" -- host_wait_port mx 192.0.2.10 993 10

# ---- 3. a small mail root, filling up ----
truncate -s 8M "$T/mailroot.img" && mkfs.ext4 -q -F "$T/mailroot.img" && pass || fail "mkfs.ext4"
# mounted in mx's own mount namespace; the loop device goes with the mount
expect 0 "loop-mount the mail root in mx" -- host_exec mx mount -o loop "$T/mailroot.img" /var/mail/vhosts
fill_to() { # PERCENT: leave that much of the blocks free for mail
	host_sh mx 'read -r total avail bs <<<"$(stat -f -c "%b %a %S" /var/mail/vhosts)"
		n=$(( avail - total * $1 / 100 ))
		dd if=/dev/zero of="/var/mail/vhosts/fill.$1" bs="$bs" count="$n" status=none && sync' _ "$1"
}
expect 0 "fill the mail root to 15% free" -- fill_to 15
status disk_low 0
expect_not_ok disk_low "disk /var/mail/vhosts warning"
row disk_low disk /var/mail/vhosts "finding=KiB free of" "fix=free space"
expect 0 "fill the mail root to 5% free" -- fill_to 5
status disk_full 69
expect_not_ok disk_full "disk /var/mail/vhosts error"
row disk_full disk /var/mail/vhosts "finding=KiB free of"
expect 0 "unmount the small mail root" -- host_exec mx umount /var/mail/vhosts
losetup -j "$T/mailroot.img" | grep -q . && fail "the loop device outlived the mount" || pass

# ---- 4. an expired certificate ----
cp -p "$CERT" "$T/cert.good"
mkdir -p "$T/ca" && : >"$T/ca/index.txt" && echo 01 >"$T/ca/serial"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
	"$T/ca" "$T/ca" "$T/ca" >"$T/ca/ca.cnf"
openssl req -new -key "$KEY" -subj /CN=mail.example.org -out "$T/ca/req.csr" 2>"$T/err" &&
	openssl ca -batch -config "$T/ca/ca.cnf" -selfsign -keyfile "$KEY" -in "$T/ca/req.csr" -notext \
		-startdate 20240101000000Z -enddate 20240201000000Z -out "$T/cert.expired" >/dev/null 2>>"$T/err" &&
	pass || fail "cannot make an expired certificate: $(head -c 300 "$T/err")"
cat "$T/cert.expired" >"$CERT"
status cert_expired 69
expect_not_ok cert_expired "tls /var/lib/mailctl/tls/cert.pem error"
row cert_expired tls /var/lib/mailctl/tls/cert.pem "finding=self-signed certificate for CN = mail.example.org expired on 2024-02-01"
cat "$T/cert.good" >"$CERT"

# ---- 5. DNS broken three ways at once ----
serve mx-gone listed other.example.net.
status dns_broken 69
expect_not_ok dns_broken "dns example.org error" "blacklist all error" "rdns 2001:db8::10 warning"
row dns_broken dns example.org "finding=checks fail: MX example.org. missing"
row dns_broken blacklist all "finding=192.0.2.10 is listed on bl.lab.example (a major list)" \
	"fix=https://bl.lab.example/removal"
row dns_broken rdns 2001:db8::10 "finding=PTR other.example.net is not the mail host name mail.example.org"
serve

# ---- 6. the probe gone; a deferred message ----
kill "$PROBE_PID" 2>/dev/null
expect 1 "the probe is down" -- host_wait_port mx 192.0.2.25 25 1
expect 0 "a message to a domain that does not exist" -- host_sh mx \
	'printf "Subject: stuck\n\nstuck\n" | /usr/sbin/sendmail -f admin@example.org someone@nowhere.example'
deferred() { host_exec mx postqueue -j 2>/dev/null | grep -q '"queue_name": *"deferred"'; }
wait_for 20 deferred && pass || fail "the message was not deferred: $(host_exec mx postqueue -p 2>&1 | tail -3)"
status probe_down 69
expect_not_ok probe_down "port25 probe.example.net:25 error"
row probe_down port25 probe.example.net:25 "finding=probe.example.net refused the connection on port 25" \
	"fix=open outbound port 25"
row probe_down queue postfix "finding=1 message queued, 1 deferred; the oldest deferred is 0 minutes old"

# ---- 7. mended ----
probe_start
status mended 0
expect_not_ok mended ""

done_tests
