#!/bin/bash
# The Postfix sqlite: maps in templates/postfix answer real postmap
# lookups against a database built through the mailctl CLI.
#
# postmap runs with -c pointing at an empty private main.cf, so the
# system's /etc/postfix/main.cf is never read; Postfix still reads its
# read-only map registry (dynamicmaps.cf) to load the sqlite module.
source "$MAILCTL_SRC/tests/lib.sh"

for pkg in postfix postfix-sqlite sqlite3; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		echo "FAIL: package '$pkg' is not installed: apt-get install $pkg" >&2
		exit 1
	fi
done

P="$T/etc/postfix"

# render TEMPLATE OUT: fill the {{key}} placeholders as `mailctl apply` will.
render() {
	sed -e "s|{{paths.database}}|$T/mailctl.db|g" "$1" >"$2"
	if grep -q '{{' "$2"; then fail "placeholder left in $2: $(grep '{{' "$2")"; fi
}

# lookup MAP KEY: postmap -q into $T/out and $T/err; returns postmap's status.
lookup() {
	local rc=0
	postmap -c "$T/postfix-conf" -q "$2" "sqlite:$P/$1.cf" >"$T/out" 2>"$T/err" || rc=$?
	return $rc
}

# Comma-separated values as a sorted set, so row order does not matter.
set_of() { tr ',' '\n' | sed '/^$/d' | sort | paste -sd, -; }

# hit MAP KEY WANT: KEY is found and yields exactly the values in WANT.
hit() {
	local rc=0 got want
	lookup "$1" "$2" || rc=$?
	got=$(set_of <"$T/out")
	want=$(printf '%s' "$3" | set_of)
	if [ "$rc" = 0 ] && [ "$got" = "$want" ] && [ ! -s "$T/err" ]; then
		pass
	else
		fail "$1 '$2': exit $rc, got '$got', want '$want'; stderr: $(head -c 300 "$T/err")"
	fi
}

# miss MAP KEY: KEY is not found (exit 1) and postmap reports no error,
# which would also exit 1 but say so on stderr.
miss() {
	local rc=0
	lookup "$1" "$2" || rc=$?
	if [ "$rc" = 1 ] && [ ! -s "$T/out" ] && [ ! -s "$T/err" ]; then
		pass
	else
		fail "$1 '$2': exit $rc, want 1 (not found); out: $(head -c 200 "$T/out"); stderr: $(head -c 300 "$T/err")"
	fi
}

mc_setup

# --- data, only through the CLI ---------------------------------------------
expect 0 "domain add example.org" -- mc domain add example.org
expect 0 "user add admin" -- mc user add admin@example.org --password-stdin <<<'Staple-orbit-lantern-41'
expect 0 "domain add example.net" -- mc domain add example.net
expect 0 "user add alice" -- mc user add alice@example.org --password-stdin --name Alice <<<'correct-Horse-battery-9'
expect 0 "user add bob" -- mc user add bob@example.net --password-stdin <<<'Bob-lantern-quartz-77'
expect 0 "user disable bob" -- mc user disable bob@example.net
expect 0 "alias add sales" -- mc alias add sales@example.org alice@example.org admin@example.org
expect 0 "alias add team" -- mc alias add team@example.org alice@example.org partner@elsewhere.test
expect 0 "catch-all add @example.net" -- mc alias add @example.net bob@example.net

# --- render the maps ------------------------------------------------------------
mkdir -p "$T/postfix-conf"
: >"$T/postfix-conf/main.cf"
for f in sqlite-virtual-domains sqlite-virtual-mailboxes sqlite-virtual-aliases sqlite-sender-login; do
	render "$MAILCTL_SRC/templates/postfix/$f.cf" "$P/$f.cf"
done

# --- virtual_mailbox_domains ----------------------------------------------------
hit sqlite-virtual-domains example.org example.org
hit sqlite-virtual-domains example.net example.net
miss sqlite-virtual-domains elsewhere.test
miss sqlite-virtual-domains org

# --- virtual_mailbox_maps -------------------------------------------------------
hit sqlite-virtual-mailboxes alice@example.org example.org/alice/Maildir/
hit sqlite-virtual-mailboxes admin@example.org example.org/admin/Maildir/
# disabled users still receive mail
hit sqlite-virtual-mailboxes bob@example.net example.net/bob/Maildir/
# Postfix folds the key to lowercase, matching the stored addresses
hit sqlite-virtual-mailboxes Alice@Example.ORG example.org/alice/Maildir/
miss sqlite-virtual-mailboxes sales@example.org
miss sqlite-virtual-mailboxes postmaster@example.org
miss sqlite-virtual-mailboxes unknown@example.org
miss sqlite-virtual-mailboxes @example.net

# --- virtual_alias_maps ---------------------------------------------------------
hit sqlite-virtual-aliases sales@example.org alice@example.org,admin@example.org
hit sqlite-virtual-aliases team@example.org alice@example.org,partner@elsewhere.test
hit sqlite-virtual-aliases postmaster@example.org admin@example.org
hit sqlite-virtual-aliases abuse@example.net admin@example.org
# users map to themselves, so the catch-all does not take bob's mail
hit sqlite-virtual-aliases alice@example.org alice@example.org
hit sqlite-virtual-aliases bob@example.net bob@example.net
hit sqlite-virtual-aliases @example.net bob@example.net
miss sqlite-virtual-aliases unknown@example.org
miss sqlite-virtual-aliases @example.org
miss sqlite-virtual-aliases partner@elsewhere.test

# --- smtpd_sender_login_maps ----------------------------------------------------
hit sqlite-sender-login alice@example.org alice@example.org
hit sqlite-sender-login sales@example.org admin@example.org,alice@example.org
# off-site targets own nothing here
hit sqlite-sender-login team@example.org alice@example.org
hit sqlite-sender-login bob@example.net bob@example.net
miss sqlite-sender-login unknown@example.org
# the catch-all grants no address of its domain, whichever key Postfix tries
miss sqlite-sender-login @example.net
miss sqlite-sender-login anything@example.net

# --- quoting: keys are data, never SQL ----------------------------------------
for f in sqlite-virtual-domains sqlite-virtual-mailboxes sqlite-virtual-aliases sqlite-sender-login; do
	miss "$f" "o'brien@example.org"
	miss "$f" "x' OR '1'='1"
	miss "$f" "x@example.org' OR '1'='1"
done

done_tests
