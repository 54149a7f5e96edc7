#!/bin/bash
# mailtui driven through tmux (send-keys, capture-pane) against a private
# instance under $T: add a user, reset its password, set its quota,
# disable it, delete it; add an alias and a Unicode domain; open the DNS
# screen and copy a value (OSC 52). Every change is checked on the screen
# and in the database through 'mailctl --json'. Golden screens (80x24, times
# and dates masked) for the dashboard and the users list; a terminal
# resized to 40x10, very long names, an empty database, a database that
# disappears, NO_COLOR, and 'mailctl tui'. Every wait is bounded. The
# blocklist, queue, log and certificate screens are tests/cli/tui_screens.sh.
source "$MAILCTL_SRC/tests/lib.sh"
set +e

source "$MAILCTL_SRC/tests/cli/lib/tui.sh" doveadm

# The DNS resolver is a closed loopback port: checks end at once, no
# traffic leaves the machine; the port 25 probe is off.
mc_setup "network:" "  ipv4: 192.0.2.10" "dns:" "  resolver: 127.0.0.1:9" \
	"status:" "  port25_probe: ''"

trap 'tx kill-server 2>/dev/null; rm -rf "$T"' EXIT

json() { mc --json "$@" >"$T/out" 2>"$T/err" || fail "mailctl --json $*: $(cat "$T/err")"; }
jcheck() {
	local desc=$1 expr=$2 res
	shift 2
	if res=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
a = sys.argv[3:]
if not eval(sys.argv[2]):
    print(json.dumps(d, ensure_ascii=False)[:600]); sys.exit(1)
' "$T/out" "$expr" "$@" 2>&1); then pass; else fail "$desc: $expr: $res"; fi
}
# The password a box shows: four groups of six.
shown_password() { screen | grep -oE '[A-Za-z0-9]{6}(-[A-Za-z0-9]{6}){3}' | tail -1; }
hash_of() { sqlite3 "$T/mailctl.db" "SELECT password_hash FROM users WHERE address = '$1'"; }

# ---- an empty database: the dashboard, then every screen, without a crash
start tui 80 24 -- "$MAILTUI"
shows "1 Dashboard 2 Domains 3 Users 4 Aliases 5 DNS 6 Blacklist 7 Queue 8 Log 9 Certs" \
	"tabs in the title bar"
shows "Status of mail.example.org" "the dashboard opens first"
shows "database" "the dashboard has the database row"
gone "checking..." "the status checks end"
shows "0 domains, 0 users, 0 aliases" "the dashboard counts an empty database"
keys 3
shows "no users yet: press a to add one" "an empty users list says what to do"
keys 5
shows "no hosted domains: add one on screen 2" "the DNS screen without domains"
keys 4
shows "Aliases: 0" "an empty aliases list"

# ---- a domain, then a user: add, reset the password, quota, disable, delete
keys 2 a
shows "New domain:" "domain add prompts"
keys "example.org" Enter
shows "added domain 'example.org'; postmaster@ and abuse@ go to 'admin@example.org'" \
	"domain add shows the CLI's message"
json domain list
jcheck "the domain is in the database" '[x["name"] for x in d] == ["example.org"]'

keys 3 a
shows "New user's address:" "user add prompts for the address"
keys "alice@example.org" Enter
shows "Display name" "user add prompts for the name"
keys "Alice Ünïcode" Enter
shows "added user 'alice@example.org' with password:" "user add shows the password once"
pw1=$(shown_password)
[ -n "$pw1" ] && pass || fail "no generated password on the screen"
keys Escape
shows "Alice Ünïcode" "the UTF-8 display name is shown"
json user list
jcheck "the user is in the database" \
	'[(x["address"], x["name"]) for x in d] == [("alice@example.org", "Alice Ünïcode")]'
h1=$(hash_of alice@example.org)
doveadm pw -t "$h1" -p "$pw1" >/dev/null 2>&1 && pass ||
	fail "the password shown does not match the stored hash"

keys p
shows "Generate a new password for 'alice@example.org'? [y/N]" "passwd asks first"
keys y
shows "changed the password of 'alice@example.org' to:" "passwd shows the new password"
pw2=$(shown_password)
keys Escape
h2=$(hash_of alice@example.org)
[ -n "$pw2" ] && [ "$pw2" != "$pw1" ] && [ "$h2" != "$h1" ] && pass ||
	fail "the password did not change ($pw1 -> $pw2)"
doveadm pw -t "$h2" -p "$pw2" >/dev/null 2>&1 && pass || fail "the new password does not verify"

keys s
shows "Quota of 'alice@example.org'" "quota prompts"
keys C-u "500M" Enter
shows "set the quota of 'alice@example.org' to 500M" "quota shows the CLI's message"
keys e
shows "disabled user 'alice@example.org'" "disable shows the CLI's message"
json user show alice@example.org
jcheck "quota and enabled in the database" \
	'd["quota_bytes"] == 500 * 1024 * 1024 and d["enabled"] is False'
keys s C-u "lots" Enter
shows "lots" "a bad quota is refused with the library's message"
json user show alice@example.org
jcheck "a refused quota changes nothing" 'd["quota_bytes"] == 500 * 1024 * 1024'

# filter as you type
echo 'Second-tulip-granite-63' | mc user add bob@example.org --password-stdin >/dev/null
keys F5 /
keys b o
shows "Users: 1 of 2  filter: bo_" "the filter narrows as it is typed"
gone "alice@example.org" "the filter hides alice"
keys Escape
shows "alice@example.org" "Esc clears the filter"

# the users list, golden at 80x24
keys g
shows "Users: 2" "two users"
golden users

# delete: asks, archives, says so
mkdir -p "$T/mail/example.org/alice/Maildir/cur"
keys g d
shows "Delete user 'alice@example.org'? Its mailbox is archived, not deleted. [y/N]" \
	"delete asks first"
keys n
shows "Users: 2" "n keeps the user"
keys d y
shows "deleted user 'alice@example.org'; its mailbox is archived in" \
	"delete archives and says where"
json user list
jcheck "only bob is left" '[x["address"] for x in d] == ["bob@example.org"]'
ls "$T/archive"/* >/dev/null 2>&1 && pass || fail "no archive of alice's mailbox"

# ---- aliases
keys 4 a
shows "Alias address" "alias add prompts for the source"
keys "info@example.org" Enter
shows "Forward to" "alias add prompts for the targets"
keys "bob@example.org, x@elsewhere.example" Enter
shows "alias 'info@example.org' now forwards to the given address(es)" "alias add message"
json alias list
jcheck "the alias is in the database" \
	'any(x["source"] == "info@example.org" and sorted(x["targets"]) == ["bob@example.org", "x@elsewhere.example"] for x in d)'
keys a "ghost@example.org" Enter "nobody@example.org" Enter
sleep 0.3
mc alias add ghost@example.org nobody@example.org >/dev/null 2>"$T/cli.err"
cli_msg=$(sed 's/^mailctl: //' "$T/cli.err")
[ -n "$cli_msg" ] && pass || fail "the CLI accepted an alias to a missing user"
shows "${cli_msg:0:70}" "a refused alias shows the CLI's error text"

# ---- a Unicode domain shows in Unicode, is stored as an A-label
keys 2 a "bücher.example" Enter
shows "added domain 'xn--bcher-kva.example'" "IDN domain added"
shows "bücher.example" "the domain list shows the Unicode name"
json domain list
jcheck "stored as an A-label" '"xn--bcher-kva.example" in [x["name"] for x in d]'

# ---- DNS: the records as 'dns records' has them, checked, one copied
keys g Enter
shows "DNS records of example.org" "Enter on a domain opens its DNS records"
shows "v=spf1 mx ip4:192.0.2.10 -all" "the SPF record is listed"
gone "checking..." "the live check ends"
screen | grep -E '^(error|refused|timeout|servfail) +example\.org\. +MX' >/dev/null && pass ||
	fail "the MX record is not marked with its check result: $(screen | head -5)"
mx=$(mc --json dns records example.org | python3 -c '
import json, sys
print([r["value"] for r in json.load(sys.stdin) if r["type"] == "MX"][0])')
keys g y
shows "copied the MX value of example.org." "copy says what it copied"
[ "$(clipboard)" = "$mx" ] && pass ||
	fail "OSC 52 copy: tmux buffer '$(tx show-buffer 2>&1)', want '$mx'"
keys n
shows "DNS records of bücher.example" "n shows the next domain, in Unicode"

# ---- the dashboard, golden at 80x24: what is checked and in which order
# levels depend on the machine (disk, memory, services), so the golden copy
# holds the check and subject columns, sorted; the order is checked apart:
# worst first.
keys 1 r
# The dashboard first, so the wait is for this run to end, not for the
# screen before it to go.
shows "Status of mail.example.org" "the dashboard is back"
gone "checking..." "the status checks end"
screen >"$T/dash"
sed -n '1p;3p;$p' "$T/dash" >"$T/dash.top"
python3 - "$T/dash" "$T" <<'PY' | sort >"$T/dash.rows"
import sys
for line in open(sys.argv[1], encoding="utf-8").read().splitlines()[3:22]:
    if line.strip():
        print((line[:10] + line[10:40].strip().replace(sys.argv[2], "$T")).rstrip())
PY
{ sed -E 's/[0-9]{2}:[0-9]{2}:[0-9]{2}/HH:MM:SS/' "$T/dash.top"; cat "$T/dash.rows"; } >"$T/dash.shape"
if [ -n "${MAILCTL_UPDATE_GOLDEN:-}" ]; then cp "$T/dash.shape" "$GOLDEN/dashboard"; fi
diff -u "$GOLDEN/dashboard" "$T/dash.shape" >"$T/diff" && pass ||
	{ fail "the dashboard drifted from its golden copy:"; cat "$T/diff" >&2; }
python3 - "$T/dash" <<'PY' && pass || fail "dashboard rows are not worst first"
import sys
rank = {"error": 0, "warning": 1, "...": 2, "ok": 3, "skipped": 4}
rows = [l[41:48].strip() for l in open(sys.argv[1], encoding="utf-8").read().splitlines()[3:22]]
levels = [rank[r] for r in rows if r in rank]
sys.exit(0 if levels and levels == sorted(levels) else 1)
PY

# ---- very long names do not break the layout
long=$(printf 'n%.0s' $(seq 250))
label=$(printf 'a%.0s' $(seq 63))
mc domain add "$label.example" >/dev/null || fail "long domain add"
echo 'Third-quartz-mandolin-71' | mc user add "$(printf 'l%.0s' $(seq 64))@$label.example" \
	--name "Ünï $long" --password-stdin >/dev/null || fail "long user add"
keys 3 F5
shows "Users: 2" "long names listed"
wide=$(screen | wc -L)
[ "$wide" -le 80 ] && pass || fail "a line $wide columns wide at 80x24"
screen | tail -1 | grep -q "q Quit" && pass || fail "the footer is gone with long names"

# ---- a terminal resized to 40x10 and back
tx resize-window -t tui -x 40 -y 10
shows "3/9 Users" "at 40x10 the title shows the current screen"
[ "$(screen | wc -l)" -le 10 ] && pass || fail "more than 10 rows at 40x10"
wide=$(screen | wc -L)
[ "$wide" -le 40 ] && pass || fail "a line $wide columns wide at 40x10"
keys '?'
shows "show this help" "the help screen at 40x10"
keys q
tx resize-window -t tui -x 80 -y 24
shows "1 Dashboard 2 Domains" "back at 80x24 the tabs return"

# ---- the database disappears while mailtui runs, then comes back
mv "$T/mailctl.db" "$T/moved.db"
keys F5
shows "database '$T/mailctl.db' does not exist" "a missing database is reported"
keys 1
wait_for 10 has tui "checking..." && gone "checking..." "the checks end without a database"
keys g Enter
shows "does not exist" "the dashboard's database row says why"
keys Escape
for k in 2 3 4 5; do
	keys "$k" F5
	shows "does not exist" "screen $k reports the missing database"
done
has tui "mailtui exited" && fail "mailtui ended without its database" || pass
mv "$T/moved.db" "$T/mailctl.db"
keys 3 F5
shows "bob@example.org" "the database is read again once back"

# ---- quit
keys q
shows "mailtui exited 0" "q quits with status 0"

# ---- colours: on by default, off with NO_COLOR
start col 80 24 -- "$MAILTUI"
shows "Status of" "colour session" col
tx capture-pane -e -p -t col | grep -qE $'\e\\[[0-9;]*(3[0-7]|4[0-7])[;m]' && pass ||
	fail "no colours without NO_COLOR"
start mono 80 24 NO_COLOR=1 -- "$MAILTUI"
shows "Status of" "NO_COLOR session" mono
tx capture-pane -e -p -t mono | grep -qE $'\e\\[[0-9;]*(3[0-7]|4[0-7])[;m]' &&
	fail "colours despite NO_COLOR" || pass
tx capture-pane -e -p -t mono | grep -qE $'\e\\[[0-9;]*7[;m]' && pass ||
	fail "NO_COLOR: no reverse video for the title bar"

# ---- mailctl tui starts it; bad use is refused
start cli 80 24 -- "$MAILCTL" tui
shows "Status of mail.example.org" "'mailctl tui' starts mailtui" cli
expect 64 "mailtui with a stray argument" -- "$MAILTUI" stray
contains "$T/err" "unexpected argument 'stray'" "stray argument named"
expect 64 "mailtui without a terminal" -- "$MAILTUI" </dev/null
contains "$T/err" "needs a terminal" "no terminal said"
expect 0 "mailtui -h" -- "$MAILTUI" -h
contains "$T/out" "usage: mailtui" "mailtui -h prints usage"
expect 0 "mailctl tui -h" -- "$MAILCTL" tui -h
contains "$T/out" "usage: mailctl" "mailctl tui -h prints usage"

done_tests
