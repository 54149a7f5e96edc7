# tests/lib.sh - shared helpers for the shell tests (sourced, not run).
#
# ctest passes MAILCTL (the built binary), MAILCTL_SRC and MAILCTL_BUILD.
# mc_setup makes a private instance under a fresh temporary directory: a
# config file whose every path points inside it, and an initialised
# database. Nothing outside $T is touched.
#
# No 'set -e': a failed check is counted by fail() and the script goes on,
# so one run reports every failure; done_tests sets the exit status.
set -uo pipefail

: "${MAILCTL:?MAILCTL must point at the built mailctl binary}"
: "${MAILCTL_SRC:?MAILCTL_SRC must point at the source tree}"

T=$(mktemp -d /tmp/mailctl-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
export MAILCTL_CONFIG="$T/mailctl.yaml"
unset SUDO_USER || true # the audit log's actor is then plainly 'root' 

failures=0
passes=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }

# mc_setup [extra yaml lines...]: write the config and create the database.
mc_setup() {
	mkdir -p "$T/keys" "$T/mail" "$T/archive" "$T/etc/postfix" "$T/etc/dovecot" "$T/etc/nginx" "$T/run"
	cat >"$MAILCTL_CONFIG" <<YAML
hostname: mail.example.org
admin_address: admin@example.org
paths:
  database: $T/mailctl.db
  key_dir: $T/keys
  mail_root: $T/mail
  archive_root: $T/archive
  template_dir: $MAILCTL_SRC/templates
  postfix_dir: $T/etc/postfix
  dovecot_dir: $T/etc/dovecot
  nginx_dir: $T/etc/nginx
  control_socket: $T/run/mailctld.sock
  log_file: $T/mailctl.log
passwords:
  # cheap hashing keeps the tests fast; production uses the defaults
  argon2_time_cost: 1
  argon2_memory_kib: 1024
tls:
  cert_file: $T/tls/cert.pem
  key_file: $T/tls/key.pem
YAML
	for line in "$@"; do printf '%s\n' "$line" >>"$MAILCTL_CONFIG"; done
	"$MAILCTL" db init >/dev/null
}

mc() { "$MAILCTL" "$@"; }

# expect CODE DESCRIPTION -- command...: assert the exit code.
expect() {
	local want=$1 desc=$2
	shift 3
	local got=0
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" != "$want" ]; then
		fail "$desc: exit $got, want $want; stderr: $(head -c 300 "$T/err")"
		return 1
	fi
	pass
}

# contains FILE TEXT DESCRIPTION
contains() {
	if grep -qF -- "$2" "$1"; then pass; else fail "$3: '$2' not in: $(head -c 300 "$1")"; fi
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds;
# 1 when it never did within SECONDS.
wait_for() {
	local secs=$1 _
	shift
	for _ in $(seq $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

dbhash() { sha256sum "$T/mailctl.db" | cut -d' ' -f1; }

# done_tests: print the summary line and exit non-zero on any failure.
done_tests() {
	echo "$passes passed, $failures failed"
	[ "$failures" -eq 0 ]
}
