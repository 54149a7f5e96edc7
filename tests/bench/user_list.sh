#!/usr/bin/env bash
# tests/bench/user_list.sh - how long 'mailctl user list' takes with 10,000
# users (target: under 50 ms). Not a pass/fail test; prints the figures.
#
#   MAILCTL=build/ci/mailctl/mailctl MAILCTL_SRC=. bash tests/bench/user_list.sh
#
# The users are created with the real 'mailctl user add' for the first 20
# (to get real rows) and then copied in SQL with the same hash, since 10,000
# argon2 hashes would measure hashing, not listing.
set -euo pipefail
: "${MAILCTL:=$(pwd)/build/ci/mailctl/mailctl}"
: "${MAILCTL_SRC:=$(pwd)}"
export MAILCTL MAILCTL_SRC
. "$MAILCTL_SRC/tests/lib.sh"
N=${N:-10000}

mc_setup
mc domain add example.org >/dev/null
for i in $(seq 1 20); do
	echo 'correct-Horse-battery-9' | mc user add "seed$i@example.org" --password-stdin >/dev/null
done
sqlite3 "$T/mailctl.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 20)
INSERT INTO users (domain_id, local_part, address, password_hash, display_name, quota_bytes)
SELECT u.domain_id, 'user' || n.i, 'user' || n.i || '@example.org', u.password_hash,
       'User ' || n.i, u.quota_bytes
FROM n, (SELECT * FROM users LIMIT 1) u;
SQL
count=$(mc --json user list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "users in database: $count"

# time_ms CMD...: best and median of 20 runs, in milliseconds
time_ms() {
	local runs=() t0 t1
	for _ in $(seq 1 20); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		runs+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${runs[@]}" | sort -n | awk '{a[NR]=$1} END {printf "best %.1f ms, median %.1f ms\n", a[1]/1000, a[int((NR+1)/2)]/1000}'
}
echo "mailctl user list:          $(time_ms "$MAILCTL" user list)"
echo "mailctl --json user list:   $(time_ms "$MAILCTL" --json user list)"
echo "mailctl user list DOMAIN:   $(time_ms "$MAILCTL" user list example.org)"
echo "sqlite3 SELECT (the floor): $(time_ms sqlite3 "$T/mailctl.db" 'SELECT address, display_name, quota_bytes, enabled, admin, created FROM users ORDER BY address')"
