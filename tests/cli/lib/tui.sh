# tests/cli/lib/tui.sh - driving mailtui through tmux (sourced by
# tests/cli/tui*.sh after tests/lib.sh; not a test itself).
#
# A tmux server of our own on a private socket, without any user
# configuration; sessions run mailtui with LANG=C.UTF-8 and the test's
# MAILCTL_CONFIG, and say how mailtui ended. Every wait is bounded.

MAILTUI="$MAILCTL_BUILD/tui/mailtui"
GOLDEN="$MAILCTL_SRC/tests/cli/golden/tui"
for tool in tmux python3 sqlite3 "$@"; do
	command -v "$tool" >/dev/null || {
		echo "FAIL: '$tool' is not installed" >&2
		exit 1
	}
done
[ -x "$MAILTUI" ] || { echo "FAIL: $MAILTUI not built" >&2; exit 1; }

tx() { tmux -S "$T/tmux.sock" -f /dev/null "$@"; }

# start NAME COLS ROWS [ENV=VALUE...] -- COMMAND...: run COMMAND in a new
# session; when it ends the pane says how.
start() {
	local name=$1 cols=$2 rows=$3
	shift 3
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	tx new-session -d -s "$name" -x "$cols" -y "$rows" \
		"env LANG=C.UTF-8 MAILCTL_CONFIG=$MAILCTL_CONFIG ${envs[*]} $*; echo \"mailtui exited \$?\"; sleep 120"
	tx set-option -t "$name" -g set-clipboard on >/dev/null
}
screen() { tx capture-pane -p -t "${1:-tui}"; }
keys() { tx send-keys -t tui "$@"; }
# shows TEXT DESCRIPTION [SESSION]: the text appears within 10 s.
has() { screen "${1:-tui}" | grep -qF -- "$2"; }
shows() {
	if wait_for 10 has "${3:-tui}" "$1"; then pass; else
		fail "$2: '$1' not on screen:"
		screen "${3:-tui}" >&2
	fi
}
# gone TEXT DESCRIPTION: the text leaves the screen within 10 s.
lacks() { ! has tui "$1"; }
gone() { if wait_for 10 lacks "$1"; then pass; else fail "$2: '$1' still on screen"; fi; }
# golden NAME [SED-SCRIPT]: the screen, dates and times masked (and
# SED-SCRIPT applied), equals golden/tui/NAME.
golden() {
	screen | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}/YYYY-MM-DD/g; s/[0-9]{2}:[0-9]{2}:[0-9]{2}/HH:MM:SS/g' |
		sed -E "${2:-}" >"$T/$1.screen"
	if [ -n "${MAILCTL_UPDATE_GOLDEN:-}" ]; then cp "$T/$1.screen" "$GOLDEN/$1"; fi
	if diff -u "$GOLDEN/$1" "$T/$1.screen" >"$T/diff"; then pass; else
		fail "screen '$1' drifted from its golden copy:"
		cat "$T/diff" >&2
	fi
}
# clipboard: what the last OSC 52 copy put in tmux's buffer.
clipboard() { tx show-buffer 2>/dev/null; }
