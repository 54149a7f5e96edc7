#!/bin/bash
# Who may change the database: root and members of the 'mailctl' group.
# Everyone else is refused (77) before anything is opened for writing,
# even when the file itself would let them write; reading needs only a
# readable file. A database on a read-only mount is refused with 74.
#
# Runs as root: it switches to 'nobody' with setpriv, may create (behind a
# private overlay of /etc, see below) the
# system group and user 'mailctl' (and removes them again if it did; the
# user's primary group is nogroup, so removing it never takes the group
# 'mailctl' along), and makes the
# instance read-only inside a private mount namespace (unshare), which
# takes the mount with it when it ends.
# The user and group it may create must not reach the machine: run again
# in a private mount namespace with /etc behind an overlay whose writes
# live in a tmpfs and vanish with the namespace.
if [ -z "${MAILCTL_PRIVATE_ETC:-}" ] && [ "$(id -u)" = 0 ]; then
	export MAILCTL_PRIVATE_ETC=1
	exec unshare --mount --propagation private bash -c '
		mount -t tmpfs mailctl-etc /mnt && mkdir /mnt/u /mnt/w &&
		mount -t overlay -o lowerdir=/etc,upperdir=/mnt/u,workdir=/mnt/w mailctl-etc /etc ||
			{ echo "FAIL: cannot put /etc behind a private overlay" >&2; exit 1; }
		exec bash "$0"' "$0"
fi
source "$MAILCTL_SRC/tests/lib.sh"
# Every assertion counts its own failure; go on after one so that a run
# reports all of them (done_tests sets the exit status).
set +e

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: permissions.sh must run as root (it switches users and mounts)" >&2
	exit 1
fi
for tool in setpriv unshare mount groupadd groupdel useradd userdel getent sqlite3 sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: '$tool' is not installed (util-linux, passwd, sqlite3)" >&2
		exit 1
	fi
done
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
	echo "FAIL: user 'nobody' or group 'nogroup' is missing" >&2
	exit 1
fi

PW='correct-Horse-battery-9'
DB="$T/mailctl.db"
# Output of commands run where $T is read-only.
O=$(mktemp -d /tmp/mailctl-test-out.XXXXXX)
created_group=0
created_user=0
cleanup() {
	if [ "$created_user" = 1 ]; then userdel mailctl || echo "FAIL: cannot remove user 'mailctl'" >&2; fi
	if [ "$created_group" = 1 ]; then groupdel mailctl || echo "FAIL: cannot remove group 'mailctl'" >&2; fi
	rm -rf "$T" "$O"
}
trap cleanup EXIT

# as_nobody [setpriv group options] -- command...: run as nobody:nogroup.
as_nobody() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	setpriv --reuid=nobody --regid=nogroup "${opts[@]}" "$@"
}
nobody() { as_nobody --clear-groups -- "$MAILCTL" "$@"; }

eq() {
	if [ "$1" == "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}

# denied DESCRIPTION -- command...: refused with 77, the database untouched.
denied() {
	local desc=$1 before
	shift 2
	before=$(dbhash)
	if expect 77 "$desc" -- "$@"; then
		contains "$T/err" "mailctl: permission denied: " "$desc"
		contains "$T/err" "needs root or membership of the 'mailctl' group" "$desc"
	fi
	if [ -s "$T/out" ]; then fail "$desc: printed on stdout: $(head -c 200 "$T/out")"; else pass; fi
	eq "$(dbhash)" "$before" "$desc: database unchanged"
}

mc_setup
mc domain add example.org >/dev/null
mc user add alice@example.org --password-stdin <<<"$PW" >/dev/null
mc alias add list@example.org alice@example.org >/dev/null

# nobody can reach the instance: the directory, the config, the database.
chmod 0755 "$T"
chmod 0644 "$MAILCTL_CONFIG"
if as_nobody --clear-groups -- test -x "$MAILCTL"; then pass; else
	fail "nobody cannot run '$MAILCTL' (a parent directory is not searchable)"
fi

# --- (a) not root, not in the group ---------------------------------------

# The database as created: 0640 root, so nobody cannot even read it, and
# the message must say why.
eq "$(stat -c %a "$DB")" 640 "db init creates the database with mode 0640"
before=$(dbhash)
expect 74 "user list as nobody, database unreadable" -- nobody user list &&
	contains "$T/err" "permission denied" "unreadable database: the message says why"
eq "$(dbhash)" "$before" "unreadable database: unchanged"

chmod 0644 "$DB"
denied "domain add as nobody" -- nobody domain add new.example
denied "domain del as nobody" -- nobody domain del example.org
denied "domain del --force as nobody" -- nobody domain del --force example.org
denied "user add --generate as nobody" -- nobody user add bob@example.org --generate
denied "user add --password-stdin as nobody" -- nobody user add bob@example.org --password-stdin <<<"$PW"
denied "user del as nobody" -- nobody user del alice@example.org
denied "user del --purge as nobody" -- nobody user del --purge alice@example.org
denied "user passwd as nobody" -- nobody user passwd alice@example.org --generate
denied "user disable as nobody" -- nobody user disable alice@example.org
denied "user enable as nobody" -- nobody user enable alice@example.org
denied "user quota as nobody" -- nobody user quota alice@example.org 1G
denied "alias add as nobody" -- nobody alias add sales@example.org alice@example.org
denied "alias del as nobody" -- nobody alias del list@example.org
denied "dkim keygen as nobody" -- nobody dkim keygen example.org --algorithm ed25519
denied "db init as nobody" -- nobody db init
contains "$T/err" "'mailctl db init'" "the refusal names the command"

# Reading needs only a readable file.
expect 0 "user list as nobody" -- nobody user list && contains "$T/out" "alice@example.org" "user list as nobody"
expect 0 "user show as nobody" -- nobody --json user show alice@example.org && contains "$T/out" '"address": "alice@example.org"' "user show as nobody"
expect 0 "domain list as nobody" -- nobody domain list && contains "$T/out" "example.org" "domain list as nobody"
expect 0 "alias list as nobody" -- nobody alias list && contains "$T/out" "list@example.org" "alias list as nobody"
expect 0 "audit list as nobody" -- nobody audit list && contains "$T/out" "user.add" "audit list as nobody"
# The public halves are in the database; the private keys stay unreadable.
expect 0 "dkim list as nobody" -- nobody dkim list && contains "$T/out" "example.org" "dkim list as nobody"
expect 0 "dkim show as nobody" -- nobody dkim show example.org && contains "$T/out" "v=DKIM1; k=rsa; p=" "dkim show as nobody"
for f in "$T"/keys/*.pem; do
	if as_nobody --clear-groups -- cat "$f" >/dev/null 2>&1; then fail "nobody can read the key file '$f'"; else pass; fi
done
expect 0 "db status as nobody" -- nobody db status && contains "$T/out" "schema:" "db status as nobody"
expect 0 "config check as nobody" -- nobody config check

# The check is mailctl's own: a file anyone may write changes nothing.
chmod 0777 "$T"
chmod 0666 "$DB"
denied "domain add as nobody, database world-writable" -- nobody domain add new.example
denied "user add as nobody, database world-writable" -- nobody user add bob@example.org --generate
chmod 0755 "$T"
chmod 0644 "$DB"

# --- (b) members of the 'mailctl' group ----------------------------------

if ! getent group mailctl >/dev/null; then
	if groupadd --system mailctl; then created_group=1; else fail "groupadd --system mailctl"; fi
fi
gid=$(getent group mailctl | cut -d: -f3)
if [ -n "$gid" ]; then pass; else fail "no gid for group 'mailctl'"; fi
member() { as_nobody --groups="$gid" -- "$MAILCTL" "$@"; }

# As documented: the database 0640, group mailctl. A member gets past the
# permission check, can read, and is stopped only by the file mode.
chgrp mailctl "$DB"
chmod 0640 "$DB"
expect 0 "user list as a group member" -- member user list && contains "$T/out" "alice@example.org" "member reads"
before=$(dbhash)
expect 74 "domain add as a group member, database 0640" -- member domain add group.example &&
	contains "$T/err" "read-only" "member, 0640: refused by the file, not by mailctl"
eq "$(dbhash)" "$before" "member, 0640: database unchanged"

# Database and directory writable by the group: members change things.
# domain add writes a DKIM key, so the key directory must be writable too.
chgrp mailctl "$T" "$T/keys"
chmod 0775 "$T"
chmod 0770 "$T/keys"
chmod 0660 "$DB"
expect 0 "domain add as a group member" -- member domain add group.example
expect 0 "user add as a group member" -- member user add carol@group.example --password-stdin <<<"$PW"
expect 0 "user quota as a group member" -- member user quota carol@group.example 1G
expect 0 "dkim keygen as a group member" -- member dkim keygen group.example --algorithm ed25519
key=$(sqlite3 "$DB" "SELECT key_file FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'group.example' AND k.algorithm = 'ed25519'")
eq "$(stat -c %a "$key" 2>&1)" 600 "a member's key file is mode 0600"
expect 0 "the member's changes are there" -- mc --json user show carol@group.example &&
	contains "$T/out" '"quota_bytes": 1073741824' "member's user"
expect 0 "audit actor of a member" -- mc --json audit list --limit 1 &&
	contains "$T/out" '"actor": "nobody"' "audit names the member"
# The group as the primary group counts as well.
expect 0 "domain add with mailctl as the primary group" -- \
	setpriv --reuid=nobody --regid="$gid" --clear-groups "$MAILCTL" domain add primary.example
# Without the group, the same writable database is still refused.
denied "user del as nobody without the group" -- nobody user del carol@group.example
# Journal files the members' writes made are gone again.
if compgen -G "$DB-*" >/dev/null; then fail "leftover files: $(echo "$DB"-*)"; else pass; fi

chmod 0700 "$T" "$T/keys"
chgrp root "$T" "$T/keys" "$DB"
chmod 0640 "$DB"

# Keys that root makes go to the signer's user, 'mailctl', when it exists.
if ! getent passwd mailctl >/dev/null; then
	if useradd --system --no-create-home --home-dir /nonexistent --gid nogroup \
		--shell /usr/sbin/nologin mailctl; then created_user=1; else fail "useradd mailctl"; fi
fi
expect 0 "dkim keygen as root with a 'mailctl' user" -- mc dkim keygen example.org --algorithm ed25519 --selector signer
eq "$(stat -c '%U %a' "$T/keys/signer._domainkey.example.org.pem" 2>&1)" "mailctl 600" "the key file belongs to the 'mailctl' user"

# --- (c) a read-only database ---------------------------------------------

# ro CODE DESCRIPTION -- command...: run as root with $T mounted
# read-only in a private mount namespace; output goes to $O.
ro() {
	local want=$1 desc=$2 got=0
	shift 3
	unshare --mount -- bash -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"' \
		_ "$T" "$@" >"$O/out" 2>"$O/err" || got=$?
	if [ "$got" = "$want" ]; then pass; else fail "$desc: exit $got, want $want; stderr: $(head -c 300 "$O/err")"; fi
}

before=$(dbhash)
ro 1 "the mount really is read-only" -- touch "$T/probe"
[ ! -e "$T/probe" ] && pass || fail "a file was written through the read-only mount"
ro 74 "user add on a read-only mount" -- "$MAILCTL" user add bob@example.org --password-stdin <<<"$PW"
contains "$O/err" "mailctl: database '$DB' is read-only" "user add: read-only message"
ro 74 "domain add on a read-only mount" -- "$MAILCTL" domain add new.example
contains "$O/err" "read-only" "domain add: read-only message"
ro 74 "dkim keygen on a read-only mount" -- "$MAILCTL" dkim keygen example.org
contains "$O/err" "read-only" "dkim keygen: read-only message"
ro 74 "user passwd on a read-only mount" -- "$MAILCTL" user passwd alice@example.org --generate
contains "$O/err" "read-only" "user passwd: read-only message"
ro 74 "alias add on a read-only mount" -- "$MAILCTL" alias add sales@example.org alice@example.org
contains "$O/err" "read-only" "alias add: read-only message"
ro 74 "user del on a read-only mount" -- "$MAILCTL" user del alice@example.org
contains "$O/err" "read-only" "user del: read-only message"
ro 0 "user list on a read-only mount" -- "$MAILCTL" user list
contains "$O/out" "alice@example.org" "reading a read-only database"
eq "$(dbhash)" "$before" "read-only mount: database unchanged"
if grep -qF " $T " /proc/self/mountinfo; then fail "the read-only mount leaked out of its namespace"; else pass; fi
# Back on the writable file system the same change works.
expect 0 "user add once writable again" -- mc user add bob@example.org --password-stdin <<<"$PW"

done_tests
