# tests/cli/prompt.sh - the interactive password prompt, on a real terminal.
# 'script' gives mailctl a pseudo-terminal as standard input; what is typed
# must not be echoed, the two entries must match, and the stored password
# must be the one typed.
source "$MAILCTL_SRC/tests/lib.sh"
command -v script >/dev/null || { fail "script(1) is missing (apt-get install bsdutils)"; done_tests; exit 1; }
command -v doveadm >/dev/null || { fail "doveadm is missing (apt-get install dovecot-core)"; done_tests; exit 1; }
mc_setup
mc domain add example.org >/dev/null
PW='Typed-on-a-tty-4711'

# on_tty FIRST SECOND ARGS...: run mailctl on a pty, typing FIRST and then
# SECOND a moment later, as a person answers two prompts; output in $T/tty.
# (Input typed before a prompt is discarded on purpose, as getpass does.)
on_tty() {
	local first=$1 second=$2
	shift 2
	local cmd
	printf -v cmd '%q ' env MAILCTL_CONFIG="$MAILCTL_CONFIG" "$MAILCTL" "$@"
	{ sleep 0.5; printf '%s\n' "$first"; sleep 0.5; printf '%s\n' "$second"; sleep 1; } |
		script -qec "$cmd; echo EXIT=\$?" /dev/null >"$T/tty" 2>&1 || true
}

on_tty "$PW" "$PW" user add alice@example.org
contains "$T/tty" "New password for alice@example.org:" "prompt shown"
contains "$T/tty" "Repeat it:" "asked twice"
contains "$T/tty" "EXIT=0" "user add on a terminal succeeds"
if grep -qF "$PW" "$T/tty"; then fail "the password was echoed"; else pass; fi
hash=$(sqlite3 "$T/mailctl.db" "SELECT password_hash FROM users WHERE address='alice@example.org'")
if doveadm pw -t "$hash" -p "$PW" 2>&1 | grep -q verified; then pass; else fail "stored hash does not match the typed password"; fi

on_tty "$PW" "Something-else-99" user add bob@example.org
contains "$T/tty" "the two passwords differ" "mismatch refused"
contains "$T/tty" "EXIT=65" "mismatch exits 65"
n=$(sqlite3 "$T/mailctl.db" "SELECT count(*) FROM users WHERE address='bob@example.org'")
[ "$n" = 0 ] && pass || fail "bob was created despite the mismatch"

on_tty "New-Password-on-tty-88" "New-Password-on-tty-88" user passwd alice@example.org
contains "$T/tty" "EXIT=0" "user passwd on a terminal succeeds"
hash=$(sqlite3 "$T/mailctl.db" "SELECT password_hash FROM users WHERE address='alice@example.org'")
if doveadm pw -t "$hash" -p "New-Password-on-tty-88" 2>&1 | grep -q verified; then pass; else fail "passwd did not store the typed password"; fi
done_tests
