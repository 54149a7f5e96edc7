#!/usr/bin/env bash
# tests/bench/tui_startup.sh - mailtui from start to the first full
# dashboard with 1,000 users (target: under 200 ms), and its resident
# memory. Not a pass/fail test; prints the figures.
#
#   MAILCTL=build/ci/mailctl/mailctl MAILCTL_SRC=. MAILCTL_BUILD=build/ci \
#       bash tests/bench/tui_startup.sh
#
# mailtui runs in tmux at 80x24; the screen is read every few milliseconds
# (capture-pane), so the times include up to one poll (about 3 ms).
# "Full dashboard": every status row is on screen with the database row's
# counts; the local checks and the network ones (bounded by their timeout;
# the resolver here is a closed loopback port) end later.
set -euo pipefail
: "${MAILCTL:=$(pwd)/build/ci/mailctl/mailctl}"
: "${MAILCTL_SRC:=$(pwd)}"
: "${MAILCTL_BUILD:=$(pwd)/build/ci}"
export MAILCTL MAILCTL_SRC
. "$MAILCTL_SRC/tests/lib.sh"
N=${N:-1000}
RUNS=${RUNS:-10}

mc_setup "network:" "  ipv4: 192.0.2.10" "dns:" "  resolver: 127.0.0.1:9" \
	"status:" "  port25_probe: ''"
mc domain add example.org >/dev/null
echo 'correct-Horse-battery-9' | mc user add seed@example.org --password-stdin >/dev/null
sqlite3 "$T/mailctl.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO users (domain_id, local_part, address, password_hash, display_name, quota_bytes)
SELECT u.domain_id, 'user' || n.i, 'user' || n.i || '@example.org', u.password_hash,
       'User ' || n.i, u.quota_bytes
FROM n, (SELECT * FROM users LIMIT 1) u;
SQL
echo "users in database: $(mc --json user list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

tx() { tmux -S "$T/tmux.sock" -f /dev/null "$@"; }
trap 'tx kill-server 2>/dev/null; rm -rf "$T"' EXIT
now_us() { echo $(($(date +%s%N) / 1000)); }

# One run: ms to the full dashboard, to the local checks, to all; RSS.
run_once() {
	local t0 full="" local_done="" all="" pid
	tx new-session -d -s b -x 80 -y 24 \
		"env LANG=C.UTF-8 MAILCTL_CONFIG=$MAILCTL_CONFIG $MAILCTL_BUILD/tui/mailtui"
	t0=$(now_us)
	for _ in $(seq 1 3000); do
		s=$(tx capture-pane -p -t b 2>/dev/null || true)
		if [ -z "$full" ] && grep -q "$N users" <<<"$s" && grep -q '^rdns' <<<"$s"; then
			full=$((($(now_us) - t0) / 1000))
		fi
		if [ -n "$full" ] && [ -z "$local_done" ] &&
			! grep -E '^(service|queue|disk|memory|tls|aliases) .* \.\.\.' <<<"$s" >/dev/null; then
			local_done=$((($(now_us) - t0) / 1000))
		fi
		if [ -n "$full" ] && ! grep -q 'checking\.\.\.' <<<"$s"; then
			all=$((($(now_us) - t0) / 1000))
			break
		fi
	done
	pid=$(tx display-message -p -t b '#{pane_pid}')
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = mailtui ] || pid=$(pgrep -P "$pid" mailtui || true)
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "?")
	tx send-keys -t b 3
	sleep 0.3
	rss_users=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "?")
	tx send-keys -t b q
	sleep 0.2
	tx kill-server 2>/dev/null || true
	echo "$full $local_done $all $rss $rss_users"
}

echo "run  full-dashboard-ms  local-checks-ms  all-checks-ms  rss-kB  rss-kB-users-screen"
for i in $(seq 1 "$RUNS"); do
	echo "$i    $(run_once)"
done
