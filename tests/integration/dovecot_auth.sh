#!/bin/bash
# A real Dovecot, configured from templates/dovecot/dovecot-sql.conf.ext,
# authenticates and looks up users in a database written by the mailctl
# CLI. It runs in private mount, network and PID namespaces with every
# path under the test directory; the system's Dovecot directories are
# covered by empty tmpfs mounts, so nothing can read or change them, and
# the namespace's end takes every Dovecot process with it.
set -euo pipefail

if [ "${MAILCTL_IN_NS:-}" != 1 ]; then
	for pkg in dovecot-core dovecot-sqlite iproute2 util-linux; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
			echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
			exit 1
		fi
	done
	MAILCTL_IN_NS=1 exec unshare --mount --net --pid --fork --kill-child --mount-proc \
		bash "$0" "$@"
fi

ip link set lo up
for d in /etc/dovecot /run/dovecot /var/lib/dovecot; do
	if [ -d "$d" ]; then mount -t tmpfs -o mode=0755,size=1m mailctl-test "$d"; fi
done

source "$MAILCTL_SRC/tests/lib.sh"

C="$T/dovecot/dovecot.conf"
VMAIL_UID=5001
VMAIL_GID=5002
PW1='correct-Horse-battery-9'
PW2='Second-tulip-granite-63'

stop_dovecot() {
	local pid
	[ -s "$T/dovecot/run/master.pid" ] || return 0
	pid=$(cat "$T/dovecot/run/master.pid")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
}

# On failure Dovecot's log usually says why (an unreadable database shows
# up only as a temporary failure).
finish() {
	local rc=$?
	stop_dovecot
	if [ "$rc" != 0 ] || [ "$failures" != 0 ]; then
		if [ -s "$T/dovecot/dovecot.log" ]; then
			echo "--- dovecot log:" >&2
			tail -n 20 "$T/dovecot/dovecot.log" >&2
		fi
	fi
	rm -rf "$T"
}
trap finish EXIT

# render TEMPLATE OUT: fill the {{key}} placeholders as `mailctl apply` will.
render() {
	sed -e "s|{{paths.database}}|$T/mailctl.db|g" -e "s|{{paths.mail_root}}|$T/mail|g" \
		-e "s|{{paths.dovecot_dir}}|$T/etc/dovecot|g" -e "s|{{test.dir}}|$T|g" \
		-e "s|{{mail.vmail_uid}}|$VMAIL_UID|g" -e "s|{{mail.vmail_gid}}|$VMAIL_GID|g" \
		"$1" >"$2"
	if grep -q '{{' "$2"; then fail "placeholder left in $2: $(grep '{{' "$2")"; fi
}

# Dovecot slows down repeated failures from one remote IP (no IP counts as
# one), which would add seconds per check; every attempt gets its own.
ip_seq=0
auth() {
	ip_seq=$((ip_seq + 1))
	doveadm -c "$C" auth test -x "rip=127.0.1.$ip_seq" "$1" "$2"
}

# auth_ok DESC USER PASSWORD / auth_no DESC USER PASSWORD
auth_ok() {
	expect 0 "$1" -- auth "$2" "$3" && contains "$T/out" "auth succeeded" "$1"
}
auth_no() {
	# 77 is also what a temporary failure (database unreadable) returns
	expect 77 "$1" -- auth "$2" "$3" || return 0
	if grep -q temp_fail "$T/out"; then fail "$1: temporary failure: $(cat "$T/out")"; else pass; fi
}

# has_line FILE LINE DESC: FILE has LINE as a whole line.
has_line() {
	if grep -qxF -- "$2" "$1"; then pass; else fail "$3: '$2' not a line of: $(cat "$1")"; fi
}
no_line() {
	if grep -q -- "$2" "$1"; then fail "$3: '$2' found in: $(cat "$1")"; else pass; fi
}

mc_setup "mail:" "  vmail_uid: $VMAIL_UID" "  vmail_gid: $VMAIL_GID"

expect 0 "domain add" -- mc domain add example.org
expect 0 "user add alice" -- mc user add alice@example.org --password-stdin --quota 0 <<<"$PW1"
expect 0 "user add bob" -- mc user add bob@example.org --password-stdin <<<'Bob-lantern-quartz-77'

# The auth worker runs as 'dovecot' and opens the database itself: it must
# traverse the database's directory and read the file. mailctl creates the
# file 0640; provisioning gives the group to dovecot, as done here.
if [ "$(stat -c %a "$T/mailctl.db")" = 640 ]; then pass; else
	fail "database mode is $(stat -c %a "$T/mailctl.db"), want 640"
fi
chgrp dovecot "$T" "$T/mailctl.db"
chmod 0710 "$T"

mkdir -p "$T/dovecot"
render "$MAILCTL_SRC/templates/dovecot/dovecot-sql.conf.ext" "$T/etc/dovecot/dovecot-sql.conf.ext"
render "$MAILCTL_SRC/tests/integration/dovecot-test.conf.in" "$C"
expect 0 "doveconf accepts the configuration" -- doveconf -c "$C" -n

expect 0 "dovecot starts" -- dovecot -c "$C"
for _ in $(seq 50); do
	[ -S "$T/dovecot/run/auth-client" ] && break
	sleep 0.1
done
if [ -S "$T/dovecot/run/auth-client" ]; then pass; else fail "no auth-client socket after 5 s"; fi

# --- passdb -----------------------------------------------------------------
auth_ok "right password" alice@example.org "$PW1"
auth_no "wrong password" alice@example.org "$PW1-x"
auth_ok "login is matched lowercase" ALICE@Example.org "$PW1"
contains "$T/out" "user=alice@example.org" "canonical login name"
auth_no "unknown user" carol@example.org "$PW1"

expect 0 "user disable" -- mc user disable alice@example.org
auth_no "disabled user cannot log in" alice@example.org "$PW1"
expect 0 "user enable" -- mc user enable alice@example.org
auth_ok "enabled again" alice@example.org "$PW1"

expect 0 "user passwd" -- mc user passwd alice@example.org --password-stdin <<<"$PW2"
auth_ok "new password works" alice@example.org "$PW2"
auth_no "old password no longer works" alice@example.org "$PW1"

# --- userdb -----------------------------------------------------------------
expect 0 "userdb lookup" -- doveadm -c "$C" user alice@example.org
has_line "$T/out" "home	$T/mail/example.org/alice" "home"
has_line "$T/out" "uid	$VMAIL_UID" "uid"
has_line "$T/out" "gid	$VMAIL_GID" "gid"
no_line "$T/out" "^quota_rule" "no quota means no quota_rule"

expect 0 "user quota" -- mc user quota alice@example.org 1G
expect 0 "userdb lookup with quota" -- doveadm -c "$C" user alice@example.org
has_line "$T/out" "quota_rule	*:bytes=1073741824" "quota_rule"

# LMTP delivery looks the user up even when it may not log in
expect 0 "user disable" -- mc user disable alice@example.org
expect 0 "userdb lookup of a disabled user" -- doveadm -c "$C" user alice@example.org
has_line "$T/out" "home	$T/mail/example.org/alice" "disabled user's home"

expect 67 "userdb lookup of an unknown user" -- doveadm -c "$C" user carol@example.org
expect 0 "user iteration" -- doveadm -c "$C" user -u '*'
has_line "$T/out" "alice@example.org" "iteration lists alice"
has_line "$T/out" "bob@example.org" "iteration lists bob"

no_line "$T/dovecot/dovecot.log" "Error:\|Fatal:\|Panic:" "dovecot log"

done_tests
