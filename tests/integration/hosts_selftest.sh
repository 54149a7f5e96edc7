#!/bin/bash
# Self-test of the isolated-host harness (tests/integration/lib/hosts.sh):
# two hosts on the lab bridge reach each other over IPv4 and IPv6 and
# nothing else; their /etc/postfix, /etc, /run, hostname and processes are
# their own; a real Postfix in one receives a message sent from the other;
# and when a host, the lab or the test itself goes away (even by SIGTERM or
# SIGKILL), no namespace, interface, mount, process or directory is left
# and the machine's own files, interfaces and routes are as they were.
source "$MAILCTL_SRC/tests/lib.sh"
source "$MAILCTL_SRC/tests/integration/lib/hosts.sh"

for pkg in iproute2 util-linux mount coreutils findutils libc-bin python3 postfix; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

HOSTS_LIB=$MAILCTL_SRC/tests/integration/lib/hosts.sh
started=$(date +%s.%N)
since() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# is WANT GOT DESC
is() { if [ "$2" = "$1" ]; then pass; else fail "$3: got '$2', want '$1'"; fi; }

# The machine as the test found it: the files a mail host writes, its
# hostname, virtual interfaces, routes and mount points. Only what no other
# test changes: ctest -j runs tests/cli/permissions.sh (useradd) alongside,
# and other labs add /run/netns entries.
snapshot() {
	local f
	for f in /etc/postfix/main.cf /etc/postfix/master.cf /etc/hosts /etc/resolv.conf \
		/etc/hostname /etc/mailname; do
		if [ -e "$f" ]; then sha256sum "$f"; else echo "absent $f"; fi
	done
	echo "hostname $(hostname)"
	ls -l --time-style=full-iso /var/mail /etc/postfix /etc/dovecot
	ip -o link show type veth | awk -F': ' '{print "veth", $2}'
	ip -o link show type bridge | awk -F': ' '{print "bridge", $2}'
	ip -4 route show table all
	ip -6 route show table all
	mounts
}

# Mount points of the machine's namespace, other labs' /run/netns aside.
mounts() { awk '{print $5}' /proc/self/mountinfo | grep -v '^/run/netns' | sort; }

# gone_within SECONDS PID: wait until PID has exited.
gone_within() {
	local _
	for _ in $(seq $(($1 * 10))); do
		[ -d "/proc/$2" ] || return 0
		sleep 0.1
	done
	return 1
}

snapshot >"$T/machine.before"
mounts >"$T/mounts.before"
HOST_TIMEOUT=30

# --- two hosts ----------------------------------------------------------------
if ! host_create mx1 192.0.2.10 2001:db8::10 || ! host_create mx2 192.0.2.20 2001:db8::20; then
	fail "cannot create the hosts"
	done_tests
	exit 1
fi
pass
echo "# two hosts up after $(since) s"
lab_dir=$LAB_DIR
lab_netns=$LAB_NETNS

ip netns list | awk '{print $1}' | sort >"$T/netns"
for ns in "mc-lab-$$" "mc-mx1-$$" "mc-mx2-$$"; do
	if grep -qx "$ns" "$T/netns"; then pass; else fail "netns '$ns' missing: $(cat "$T/netns")"; fi
done

expect 2 "bad IPv4 is refused" -- host_create bad 10.0.0.1
expect 2 "bad IPv6 is refused" -- host_create bad 192.0.2.99 fd00::1
expect 2 "a used address is refused" -- host_create bad 192.0.2.10
if [ -e "/run/netns/mc-bad-$$" ]; then fail "a refused host left a netns"; else pass; fi
expect 2 "unknown host" -- host_exec nosuch true

is mx1.test "$(host_exec mx1 hostname)" "hostname in mx1"
is mx2.test "$(host_exec mx2 hostname)" "hostname in mx2"
is "$(hostname)" "$(awk '/^hostname /{print $2}' "$T/machine.before")" "the machine's hostname"

# --- network ------------------------------------------------------------------
is "eth0 lo" "$(host_exec mx1 ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | paste -sd' ')" \
	"mx1 sees only its own interfaces"
host_exec mx1 ip -o addr show dev eth0 >"$T/out"
contains "$T/out" "inet 192.0.2.10/24" "mx1 IPv4"
contains "$T/out" "inet6 2001:db8::10/64" "mx1 IPv6"
is "" "$(host_exec mx1 ip -4 route show default)$(host_exec mx1 ip -6 route show default)" \
	"no default route: lab traffic cannot leave"
is 3 "$(ip -n "$LAB_NETNS" -o link show | grep -c "alias $LAB_NETNS")" "bridge and two ports in the lab netns"
is 0 "$(ip -o link show | grep -c "mc-lab-$$")" "no harness interface in the machine's namespace"

is 192.0.2.20 "$(host_exec mx1 getent ahostsv4 mx2.test | awk 'NR == 1 {print $1}')" "mx1 resolves mx2.test (IPv4)"
is 2001:db8::20 "$(host_exec mx1 getent ahostsv6 mx2.test | awk 'NR == 1 {print $1}')" "mx1 resolves mx2.test (IPv6)"
is 192.0.2.10 "$(host_exec mx2 getent ahostsv4 mx1 | awk 'NR == 1 {print $1}')" "mx2 resolves short name mx1"

host_sh mx2 'mkdir -p /run/www && hostname >/run/www/whoami'
srv4=$(host_spawn mx2 python3 -m http.server 8080 --bind 192.0.2.20 --directory /run/www) &&
	srv6=$(host_spawn mx2 python3 -m http.server 8080 --bind 2001:db8::20 --directory /run/www)
if [ -n "${srv6:-}" ] && host_wait_port mx2 192.0.2.20 8080 && host_wait_port mx2 2001:db8::20 8080; then
	pass
else
	fail "http servers in mx2 did not start: $(tail -n 5 "$(host_path mx2 /var/log/spawn.log)")"
fi
host_exec mx1 python3 - >"$T/out" 2>&1 <<'PY'
import errno, socket, urllib.request
for url in ("http://192.0.2.20:8080/whoami", "http://[2001:db8::20]:8080/whoami",
            "http://mx2.test:8080/whoami"):
    try:
        body = urllib.request.urlopen(url, timeout=5).read().decode().strip()
    except Exception as e:
        body = "error %s" % e
    print(url, body)
# 198.51.100.1 is TEST-NET-2: a documentation address no lab host has
s = socket.socket()
s.settimeout(2)
print("outside", errno.errorcode.get(s.connect_ex(("198.51.100.1", 80)), "connected"))
PY
contains "$T/out" "http://192.0.2.20:8080/whoami mx2.test" "mx1 reaches mx2 over IPv4"
contains "$T/out" "http://[2001:db8::20]:8080/whoami mx2.test" "mx1 reaches mx2 over IPv6"
contains "$T/out" "http://mx2.test:8080/whoami mx2.test" "mx1 reaches mx2 by name"
contains "$T/out" "outside ENETUNREACH" "an address outside the lab is unreachable"
contains "$(host_path mx2 /var/log/spawn.log)" '192.0.2.10 - -' "mx2 saw mx1's IPv4 address"
contains "$(host_path mx2 /var/log/spawn.log)" '2001:db8::10 - -' "mx2 saw mx1's IPv6 address"

# --- file systems, processes ------------------------------------------------
marker="mc-hosts-selftest-$$-$RANDOM"
host_sh mx1 "echo '# $marker' >>/etc/postfix/main.cf; echo x >/etc/$marker; echo x >/var/lib/mailctl/$marker"
probe_user=mcprobe$$
expect 0 "useradd inside mx1" -- host_exec mx1 useradd --system --no-create-home "$probe_user"
expect 0 "mx1 knows its new user" -- host_exec mx1 getent passwd "$probe_user"
if grep -q "^$probe_user:" /etc/passwd; then fail "useradd in mx1 changed the machine's /etc/passwd"; else pass; fi
expect 2 "mx2 does not know mx1's user" -- host_exec mx2 getent passwd "$probe_user"
expect 0 "mx1 sees its own main.cf change" -- host_exec mx1 grep -q "$marker" /etc/postfix/main.cf
contains "$(host_path mx1 /etc/postfix/main.cf)" "$marker" "mx1's main.cf is in its host directory"
expect 1 "mx2 does not see mx1's main.cf" -- host_exec mx2 grep -q "$marker" /etc/postfix/main.cf
if grep -qs "$marker" /etc/postfix/main.cf; then fail "the machine's main.cf changed"; else pass; fi
expect 0 "mx1 wrote into its /etc overlay" -- host_exec mx1 test -f "/etc/$marker"
if [ -e "/etc/$marker" ]; then fail "/etc/$marker appeared on the machine"; else pass; fi
expect 1 "mx2 does not see mx1's /etc" -- host_exec mx2 test -e "/etc/$marker"
if [ -e "/var/lib/mailctl/$marker" ]; then fail "/var/lib/mailctl/$marker appeared on the machine"; else pass; fi
expect 0 "/etc/nginx exists in a host" -- host_exec mx1 test -d /etc/nginx
expect 1 "/run is private" -- host_exec mx1 test -e /run/netns
is "bash -c while :; do sleep 3600 & wait \$!; done" "$(host_exec mx1 cat /proc/1/cmdline | tr '\0' ' ' | sed 's/ $//')" \
	"PID 1 in mx1 is the host's init"
n=$(host_exec mx1 sh -c 'ls -d /proc/[0-9]* | wc -l')
if [ "$n" -lt 8 ]; then pass; else fail "mx1 sees $n processes: $(host_exec mx1 ps -ef)"; fi
if diff "$T/mounts.before" <(mounts) >"$T/out"; then pass; else
	fail "mounts leaked into the machine's namespace: $(cat "$T/out")"
fi

start=$(date +%s)
HOST_TIMEOUT=1 host_exec mx1 sleep 10 2>/dev/null
rc=$?
is 124 "$rc" "HOST_TIMEOUT stops a command"
if [ $(($(date +%s) - start)) -le 4 ]; then pass; else fail "HOST_TIMEOUT=1 took $(($(date +%s) - start)) s"; fi
echo "# isolation checks done after $(since) s"

# --- a real Postfix in mx2, a message from mx1 -----------------------------------
cat >"$(host_path mx2 /etc/postfix/main.cf)" <<'CF'
compatibility_level = 3.6
myhostname = mx2.test
mydestination = mx2.test, localhost
inet_interfaces = 192.0.2.20
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
maillog_file = /var/log/postfix.log
smtpd_banner = $myhostname ESMTP lab
CF
expect 0 "postfix check in mx2" -- host_exec mx2 postfix check
expect 0 "postfix start in mx2" -- host_postfix mx2 start
expect 0 "port 25 of mx2 reachable from mx1" -- host_wait_port mx1 192.0.2.20 25 10
host_exec mx1 python3 - "$marker" >"$T/out" 2>&1 <<'PY'
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "tester@mx1.test"
m["To"] = "root@mx2.test"
m["Subject"] = "lab smoke " + sys.argv[1]
m.set_content("body " + sys.argv[1] + "\n")
with smtplib.SMTP("mx2.test", 25, local_hostname="mx1.test", timeout=10) as s:
    print("banner ok" if s.ehlo()[0] == 250 else "ehlo failed")
    print("refused", s.send_message(m))
PY
contains "$T/out" "refused {}" "mx2 accepted the message"
mbox=$(host_path mx2 /var/mail/root)
for _ in $(seq 100); do
	grep -qs "body $marker" "$mbox" && break
	sleep 0.1
done
contains "$mbox" "Subject: lab smoke $marker" "the message is in mx2's /var/mail/root"
contains "$(host_path mx2 /var/log/postfix.log)" "client=mx1.test[192.0.2.10]" \
	"chrooted smtpd resolved mx1 through the private /etc/hosts"
contains "$(host_path mx2 /var/log/postfix.log)" "status=sent (delivered to mailbox)" "postfix log shows delivery"
if [ -e /var/mail/root ] && grep -qs "$marker" /var/mail/root; then fail "the message reached the machine's /var/mail"; else pass; fi
master=$(host_outer_pid mx2 "$(tr -dc 0-9 <"$(host_path mx2 /var/spool/postfix/pid/master.pid)")")
if [ -n "$master" ]; then pass; else fail "no postfix master in mx2"; fi
expect 0 "postfix stop in mx2" -- host_postfix mx2 stop
if [ -n "$master" ] && gone_within 5 "$master"; then pass; else fail "postfix master $master still runs"; fi
echo "# postfix round trip done after $(since) s"

# --- host_destroy ---------------------------------------------------------------
srv=$(host_spawn mx1 python3 -m http.server 8081 --bind 192.0.2.10)
if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then pass; else fail "server in mx1 did not start"; fi
mx1_ns=$(host_ns_ids mx1)
host_destroy mx1
if [ -n "$srv" ] && [ ! -d "/proc/$srv" ]; then pass; else fail "server $srv in mx1 survived host_destroy"; fi
# shellcheck disable=SC2086
is "" "$(_lab_procs_in $mx1_ns)" "no process left in mx1's namespaces"
if [ -e "/run/netns/mc-mx1-$$" ]; then fail "netns mc-mx1-$$ left"; else pass; fi
is 0 "$(ip -n "$lab_netns" -o link show | grep -c 'p-mx1')" "mx1's port left the bridge"
if [ -e "$lab_dir/mx1" ]; then fail "$lab_dir/mx1 left"; else pass; fi
if grep -q mx1 "$(host_path mx2 /etc/hosts)"; then fail "mx2's /etc/hosts still lists mx1"; else pass; fi

# --- lab_destroy ------------------------------------------------------------------
mx2_ns=$(host_ns_ids mx2)
lab_destroy
for s in "$srv4" "$srv6"; do
	if [ -n "$s" ] && [ ! -d "/proc/$s" ]; then pass; else fail "server $s in mx2 survived lab_destroy"; fi
done
# shellcheck disable=SC2086
is "" "$(_lab_procs_in $mx2_ns)" "no process left in mx2's namespaces"
is "" "$(ip netns list | awk '{print $1}' | grep -E "^mc-.*-$$\$")" "no netns of this test left"
if [ -e "$lab_dir" ]; then fail "$lab_dir left"; else pass; fi
is 0 "$(grep -c " $lab_dir" /proc/self/mountinfo)" "no mount under $lab_dir"
is 0 "$(ip -o link show | grep -c "mc-lab-$$")" "no harness interface in the machine's namespace"
echo "# lab gone after $(since) s"

# --- a test killed by SIGTERM, then by SIGKILL ------------------------------------
# child SIGNAL N: a test shell with one host running a server is sent SIGNAL
# while inside host_exec; sets cpid, csrv, cdir.
child() {
	rm -f "$T/child"
	bash -c 'source "$1"
		host_create "k$2" "192.0.2.3$2" "2001:db8::3$2" || exit 1
		srv=$(host_spawn "k$2" sleep 300) || exit 1
		echo "$srv $LAB_DIR" >"$3/child"
		host_exec "k$2" sleep 30' child "$HOSTS_LIB" "$2" "$T" >"$T/child.log" 2>&1 &
	cpid=$!
	for _ in $(seq 100); do
		[ -s "$T/child" ] || ! kill -0 "$cpid" 2>/dev/null && break
		sleep 0.1
	done
	if ! read -r csrv cdir <"$T/child"; then
		fail "$1: child test did not start: $(cat "$T/child.log")"
		kill -KILL "$cpid" 2>/dev/null
		return 1
	fi
	kill "-$1" "$cpid"
	local t0=$SECONDS
	wait "$cpid" 2>/dev/null
	crc=$?
	if [ $((SECONDS - t0)) -le 5 ]; then pass; else fail "$1: child took $((SECONDS - t0)) s to exit"; fi
}
if child TERM 1; then
	is 143 "$crc" "SIGTERM: exit status"
	if gone_within 5 "$csrv"; then pass; else fail "SIGTERM: server $csrv survived"; fi
	is "" "$(ip netns list | awk '{print $1}' | grep -E "^mc-.*-$cpid\$")" "SIGTERM: no netns left"
	if [ -e "$cdir" ]; then fail "SIGTERM: $cdir left"; else pass; fi
fi
if child KILL 2; then
	if gone_within 5 "$csrv"; then pass; else fail "SIGKILL: server $csrv survived"; fi
	lab_gc
	is "" "$(ip netns list | awk '{print $1}' | grep -E "^mc-.*-$cpid\$")" "SIGKILL: lab_gc removed the netns"
	if [ -e "$cdir" ]; then fail "SIGKILL: lab_gc left $cdir"; else pass; fi
fi

# --- the machine is untouched -------------------------------------------------------
snapshot >"$T/machine.after"
if diff "$T/machine.before" "$T/machine.after" >"$T/out"; then pass; else
	fail "the machine changed: $(cat "$T/out")"
fi
echo "# done after $(since) s"
done_tests
