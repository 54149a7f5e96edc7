#!/bin/bash
# tests/cli/systemd_unit.sh - the mailctld.service the build generates is
# a unit systemd accepts ('systemd-analyze verify'), starting the daemon
# in the foreground, before Postfix, restarted on failure.
source "$MAILCTL_SRC/tests/lib.sh"
command -v systemd-analyze >/dev/null || { fail "systemd-analyze is missing (apt-get install systemd)"; done_tests; exit 1; }
unit=$MAILCTL_BUILD/daemon/mailctld.service
[ -s "$unit" ] && pass || { fail "the build made no $unit"; done_tests; exit 1; }
# Verified with ExecStart pointing at the built binary (the installed path
# need not exist here); the man page is checked by tests/cli/docs.sh.
sed "s|^ExecStart=[^ ]*|ExecStart=$MAILCTLD|" "$unit" >"$T/mailctld.service"
expect 0 "systemd-analyze verify" -- systemd-analyze verify --man=no "$T/mailctld.service"
[ ! -s "$T/err" ] && pass || fail "systemd-analyze warns: $(head -c 300 "$T/err")"
grep -qx 'ExecStart=/usr/local/sbin/mailctld -f' "$unit" && pass || fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx 'Before=postfix.service' "$unit" && pass || fail "the unit does not start before Postfix"
grep -qx 'Restart=on-failure' "$unit" && pass || fail "the unit is not restarted on failure"
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" && pass || fail "reload is not SIGHUP"
done_tests
