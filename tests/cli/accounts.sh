#!/bin/bash
# Domains, users, aliases, the audit log, config and help, end to end
# through the real mailctl binary against a private instance under $T
# (tests/lib.sh). Every check looks at what the command printed and at
# what it left in the database and the mail directories.
source "$MAILCTL_SRC/tests/lib.sh"
# Every assertion counts its own failure; go on after one so that a run
# reports all of them (done_tests sets the exit status).
set +e

# The audit actor is "root (sudo: X)" under sudo; these tests expect "root".
unset SUDO_USER || true

for tool in sqlite3 python3 doveadm cmp; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: '$tool' is not installed (sqlite3, python3, dovecot-core, diffutils)" >&2
		exit 1
	fi
done

PW='correct-Horse-battery-9'
PW2='Second-tulip-granite-63'
DB="$T/mailctl.db"

# eq GOT WANT DESCRIPTION
eq() {
	if [ "$1" == "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}

# jcheck_file FILE DESCRIPTION PYEXPR [ARG...]: FILE must be valid JSON and
# PYEXPR (with the document as 'd' and the ARGs as list 'a') true.
jcheck_file() {
	local file=$1 desc=$2 expr=$3 res
	shift 3
	if res=$(python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
except Exception as e:
    print("not JSON: %s" % e)
    sys.exit(1)
a = sys.argv[3:]
if not eval("(" + sys.argv[2] + "\n)"):
    print("false for: " + json.dumps(d, ensure_ascii=False)[:600])
    sys.exit(1)
' "$file" "$expr" "$@" 2>&1); then
		pass
	else
		fail "$desc: $expr: $res"
	fi
}

# jcheck DESCRIPTION PYEXPR [ARG...]: the same, on the last command's stdout.
jcheck() { jcheck_file "$T/out" "$@"; }

sql() { sqlite3 "$DB" "$1"; }
hash_of() { sql "SELECT password_hash FROM users WHERE address = '$1'"; }

# verifies HASH PASSWORD DESCRIPTION: Dovecot's own verifier accepts it.
verifies() {
	if doveadm pw -t "$1" -p "$2" >/dev/null 2>&1; then pass; else fail "$3: doveadm pw -t rejects the password for '$1'"; fi
}
# rejects HASH PASSWORD DESCRIPTION: and refuses a wrong one.
rejects() {
	if doveadm pw -t "$1" -p "$2" >/dev/null 2>&1; then fail "$3: doveadm pw -t accepts a wrong password"; else pass; fi
}

# last_audit ACTION SUBJECT: the newest audit entry is this change, by root.
last_audit() {
	if mc --json audit list --limit 1 >"$T/audit.json" 2>"$T/audit.err"; then
		jcheck_file "$T/audit.json" "audit entry for $1 $2" \
			'len(d) == 1 and d[0]["action"] == a[0] and d[0]["subject"] == a[1] and d[0]["actor"] == "root"' \
			"$1" "$2"
	else
		fail "audit list: $(head -c 300 "$T/audit.err")"
	fi
}

# refused CODE MESSAGE DESCRIPTION -- command...: fails with CODE, says
# MESSAGE on stderr in one "mailctl: " line, and leaves the database alone.
refused() {
	local code=$1 msg=$2 desc=$3 before
	shift 3
	before=$(dbhash)
	if expect "$code" "$desc" "$@"; then
		contains "$T/err" "$msg" "$desc"
		if head -n 1 "$T/err" | grep -q '^mailctl: '; then pass; else fail "$desc: stderr does not start with 'mailctl: ': $(head -c 200 "$T/err")"; fi
	fi
	eq "$(dbhash)" "$before" "$desc: database unchanged"
}

# --- help and usage ----------------------------------------------------

expect 64 "mailctl with no arguments" -- mc && contains "$T/err" "usage: mailctl" "mailctl alone prints usage"
expect 0 "mailctl -h" -- mc -h && contains "$T/out" "usage: mailctl" "mailctl -h"
expect 0 "mailctl --help" -- mc --help && contains "$T/out" "Exit codes" "mailctl --help"
expect 0 "mailctl --version" -- mc --version && contains "$T/out" "mailctl " "mailctl --version"

groups=$(mc -h | sed -n '/^groups:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
eq "$(xargs <<<"$groups")" "domain user alias dkim dns cert check blacklist setup apply service tui status config db audit" "groups listed by mailctl -h"
nverbs=0
for g in $groups; do
	# commands without verbs: tests/cli/{apply,setup,check,tui,status}.sh
	case $g in apply | setup | check | tui | status) continue ;; esac
	expect 0 "$g -h" -- mc "$g" -h && contains "$T/out" "usage: mailctl" "$g -h"
	expect 0 "$g --help" -- mc "$g" --help && contains "$T/out" "verbs:" "$g --help"
	verbs=$(mc "$g" -h | sed -n '/^verbs:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
	[ -n "$verbs" ] && pass || fail "$g -h lists no verbs"
	for v in $verbs; do
		nverbs=$((nverbs + 1))
		expect 0 "$g $v -h" -- mc "$g" "$v" -h &&
			contains "$T/out" "usage: mailctl [--config FILE] [--json] $g $v" "$g $v -h"
		expect 0 "$g $v --help" -- mc "$g" "$v" --help &&
			contains "$T/out" "-h, --help" "$g $v --help"
	done
done
eq "$(mc user -h | sed -n '/^verbs:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort | xargs)" \
	"add del disable enable list passwd quota show" "user verbs"
[ "$nverbs" -ge 19 ] && pass || fail "only $nverbs verbs found in the help"
expect 64 "group without a verb" -- mc user && contains "$T/err" "usage: mailctl" "group without a verb"
expect 0 "-h after other arguments" -- mc user add x@example.org --generate -h &&
	contains "$T/out" "usage: mailctl [--config FILE] [--json] user add" "-h anywhere after the verb"

# --- the database and the configuration ----------------------------------

mc_setup

expect 0 "db status" -- mc db status && contains "$T/out" "schema:" "db status text"
expect 0 "db status --json" -- mc --json db status &&
	jcheck "db status" 'd["schema"] == 6 and d["database"] == a[0] and d["domains"] == 0' "$DB"
before=$(dbhash)
expect 0 "db init on an existing database" -- mc db init &&
	contains "$T/out" "is up to date (schema 6)" "db init when current"
eq "$(dbhash)" "$before" "db init when current leaves the file alone"

expect 0 "config check" -- mc config check && contains "$T/out" "is valid" "config check"
expect 0 "config check --json" -- mc --json config check && jcheck "config check" 'd["valid"] is True'
expect 0 "config show" -- mc config show &&
	eq "$(awk '$1 == "paths.database" || $1 == "mail.vmail_uid" { print $1, $2, $3 }' "$T/out" | xargs)" \
		"paths.database $DB no mail.vmail_uid 5000 yes" "config show table: value and default"
expect 0 "config show --json" -- mc --json config show &&
	jcheck "config show" '
all(set(x) == {"key", "value", "default", "doc"} for x in d) and
[(x["value"], x["default"]) for x in d if x["key"] == "paths.database"] == [(a[0], False)] and
[(x["value"], x["default"]) for x in d if x["key"] == "mail.vmail_uid"] == [("5000", True)] and
[(x["value"], x["default"]) for x in d if x["key"] == "accounts.default_quota"] == [("2G", True)]' "$DB"

# A misspelt key: the message names the file, the line and the key.
sed 's/^  log_file:/  log_fiel:/' "$MAILCTL_CONFIG" >"$T/broken.yaml"
line=$(grep -n '^  log_fiel:' "$T/broken.yaml" | cut -d: -f1)
[ -n "$line" ] && pass || fail "could not make the broken config"
expect 78 "config check of a broken config" -- mc --config "$T/broken.yaml" config check &&
	contains "$T/err" "'$T/broken.yaml':$line: key 'paths.log_fiel': unknown key" "config error names file:line and key"
expect 78 "a broken config stops other commands" -- env MAILCTL_CONFIG="$T/broken.yaml" "$MAILCTL" domain list &&
	contains "$T/err" "unknown key" "broken config via MAILCTL_CONFIG"

# A second instance, chosen with --config or MAILCTL_CONFIG.
sed "s|$T/mailctl.db|$T/alt.db|" "$MAILCTL_CONFIG" >"$T/alt.yaml"
expect 0 "db init with --config" -- env -u MAILCTL_CONFIG "$MAILCTL" --config "$T/alt.yaml" db init &&
	contains "$T/out" "created (schema 0 -> 6)" "db init creates"
[ -f "$T/alt.db" ] && pass || fail "--config: $T/alt.db was not created"
expect 0 "domain add with MAILCTL_CONFIG" -- env MAILCTL_CONFIG="$T/alt.yaml" "$MAILCTL" domain add alt.example
expect 0 "domain list with --config" -- env -u MAILCTL_CONFIG "$MAILCTL" --json --config "$T/alt.yaml" domain list &&
	jcheck "--config reads the other database" '[x["name"] for x in d] == ["alt.example"]'
expect 0 "--config wins over MAILCTL_CONFIG" -- env MAILCTL_CONFIG="$MAILCTL_CONFIG" "$MAILCTL" --json --config "$T/alt.yaml" domain list &&
	jcheck "--config wins" '[x["name"] for x in d] == ["alt.example"]'
expect 0 "config show with MAILCTL_CONFIG" -- env MAILCTL_CONFIG="$T/alt.yaml" "$MAILCTL" --json config show &&
	jcheck "MAILCTL_CONFIG" '[x["value"] for x in d if x["key"] == "paths.database"] == [a[0]]' "$T/alt.db"
expect 0 "the main instance is separate" -- mc --json domain list && jcheck "main instance" 'd == []'

# user list over three domains is ordered by domain, then local part,
# whatever order they were added in.
alt() { env MAILCTL_CONFIG="$T/alt.yaml" "$MAILCTL" "$@"; }
for d in zeta.example alpha.example mid.example; do
	expect 0 "alt domain add $d" -- alt domain add "$d"
done
for u in zed@alpha.example carl@zeta.example bob@mid.example amy@zeta.example amy@alpha.example ann@mid.example; do
	expect 0 "alt user add $u" -- alt user add "$u" --password-stdin <<<"$PW"
done
expect 0 "user list of 3 domains" -- alt --json user list &&
	jcheck "user list order" '[x["address"] for x in d] == a' \
		amy@alpha.example zed@alpha.example ann@mid.example bob@mid.example amy@zeta.example carl@zeta.example
expect 0 "user list as a table" -- alt user list &&
	eq "$(awk 'NR > 1 { print $1 }' "$T/out" | xargs)" \
		"amy@alpha.example zed@alpha.example ann@mid.example bob@mid.example amy@zeta.example carl@zeta.example" \
		"user list table order"
expect 0 "user list of one domain" -- alt --json user list mid.example &&
	jcheck "user list DOMAIN" '[x["address"] for x in d] == ["ann@mid.example", "bob@mid.example"]'
expect 0 "domain list order" -- alt --json domain list &&
	jcheck "domain list order" '[x["name"] for x in d] == ["alpha.example", "alt.example", "mid.example", "zeta.example"]'

# --- domains ---------------------------------------------------------------

expect 0 "domain add" -- mc --json domain add example.org &&
	jcheck "domain add" 'd["name"] == "example.org" and d["postmaster"] == "admin@example.org" and "message" in d'
last_audit domain.add example.org
expect 0 "required aliases" -- mc --json alias list example.org &&
	jcheck "postmaster@ and abuse@ go to admin_address" '
sorted((x["source"], x["targets"], x["required"]) for x in d) ==
[("abuse@example.org", ["admin@example.org"], True), ("postmaster@example.org", ["admin@example.org"], True)]'

expect 0 "domain add of a Unicode name" -- mc --json domain add 'Bücher.example' &&
	jcheck "IDN stored as an A-label" 'd["name"] == "xn--bcher-kva.example"'
eq "$(sql "SELECT name FROM domains WHERE name LIKE 'xn--%'")" "xn--bcher-kva.example" "IDN in the database"
last_audit domain.add xn--bcher-kva.example
expect 0 "domain show by its Unicode name" -- mc --json domain show 'bücher.example' &&
	jcheck "domain show IDN" 'd["name"] == "xn--bcher-kva.example" and d["aliases"] == 2 and d["users"] == 0'
expect 0 "required aliases of the IDN domain" -- mc --json alias list 'Bücher.example' &&
	jcheck "IDN aliases" 'sorted(x["source"] for x in d) == ["abuse@xn--bcher-kva.example", "postmaster@xn--bcher-kva.example"]'
refused 65 "already exists" "domain add of the same IDN in another form" -- mc domain add 'XN--BCHER-KVA.example'

expect 0 "domain add --admin" -- mc --json domain add example.net --admin Boss@Elsewhere.TEST &&
	jcheck "--admin" 'd["postmaster"] == "boss@elsewhere.test"'
expect 0 "aliases after --admin" -- mc --json alias list example.net &&
	jcheck "postmaster@/abuse@ go to --admin" '
sorted((x["source"], x["targets"], x["required"]) for x in d) ==
[("abuse@example.net", ["boss@elsewhere.test"], True), ("postmaster@example.net", ["boss@elsewhere.test"], True)]'

expect 0 "domain list --json" -- mc --json domain list &&
	jcheck "domain list" '
all(set(x) == {"name", "users", "aliases", "created"} for x in d) and
[(x["name"], x["users"], x["aliases"]) for x in d] ==
[("example.net", 0, 2), ("example.org", 0, 2), ("xn--bcher-kva.example", 0, 2)]'
expect 0 "domain show --json" -- mc --json domain show example.org &&
	jcheck "domain show" 'set(d) == {"name", "users", "aliases", "created"} and d["name"] == "example.org"'

# A domain with nothing but its required aliases goes without --force.
expect 0 "domain add empty.example" -- mc domain add empty.example
expect 0 "domain del of an empty domain" -- mc domain del empty.example &&
	contains "$T/out" "deleted domain 'empty.example'" "domain del message"
last_audit domain.del empty.example
eq "$(sql "SELECT count(*) FROM aliases WHERE source LIKE '%@empty.example'")" 0 "its required aliases went too"
refused 68 "does not exist" "domain show after del" -- mc domain show empty.example

# --- users -------------------------------------------------------------------

NAME='Zoë Ångström 山田'
expect 0 "user add --password-stdin --name" -- mc --json user add alice@example.org --password-stdin --name "$NAME" <<<"$PW" &&
	jcheck "user add" 'd["address"] == "alice@example.org" and "password" not in d'
last_audit user.add alice@example.org
expect 0 "user show --json" -- mc --json user show alice@example.org &&
	jcheck "user show" '
set(d) == {"address", "name", "quota", "quota_bytes", "enabled", "admin", "created"} and
d["name"] == a[0] and d["quota_bytes"] == 2147483648 and d["quota"] == "2G" and
d["enabled"] is True and d["admin"] is False' "$NAME"
eq "$(sql "SELECT display_name FROM users WHERE address = 'alice@example.org'")" "$NAME" "UTF-8 name in the database"
h=$(hash_of alice@example.org)
case "$h" in '{ARGON2ID}$argon2id$'*) pass ;; *) fail "alice's hash is not ARGON2ID: '$h'" ;; esac
verifies "$h" "$PW" "--password-stdin password"
rejects "$h" "$PW2" "--password-stdin password"

expect 0 "user add --quota 500M" -- mc user add bob@example.org --quota 500M --password-stdin <<<"$PW"
expect 0 "user show bob" -- mc --json user show bob@example.org &&
	jcheck "--quota 500M" 'd["quota_bytes"] == 524288000 and d["quota"] == "500M" and d["name"] == ""'

expect 0 "user add --generate --json" -- mc --json user add carol@example.org --generate &&
	jcheck "generated password shown" 'len(d["password"]) >= 12 and d["password"] in d["message"]'
gen=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <"$T/out" || true)
h=$(hash_of carol@example.org)
verifies "$h" "$gen" "--generate (JSON) password"
rejects "$h" "${gen}x" "--generate (JSON) password"

expect 0 "user add --generate" -- mc user add dave@example.org --generate &&
	contains "$T/out" "added user 'dave@example.org' with password: " "--generate text"
gen=$(sed -n "s/^added user 'dave@example.org' with password: //p" "$T/out")
[ -n "$gen" ] && pass || fail "no generated password in: $(cat "$T/out")"
verifies "$(hash_of dave@example.org)" "$gen" "--generate (text) password"

expect 0 "user add normalises the address" -- mc --json user add Erin@EXAMPLE.org --password-stdin <<<"$PW" &&
	jcheck "normalised address" 'd["address"] == "erin@example.org"'
refused 65 "already exists" "user add of the same user in another case" -- mc user add ERIN@example.org --password-stdin <<<"$PW"

# passwd
old=$(hash_of alice@example.org)
expect 0 "user passwd --password-stdin" -- mc user passwd alice@example.org --password-stdin <<<"$PW2" &&
	contains "$T/out" "changed the password of 'alice@example.org'" "passwd message"
new=$(hash_of alice@example.org)
[ "$new" != "$old" ] && pass || fail "user passwd left the hash unchanged"
verifies "$new" "$PW2" "new password after passwd"
rejects "$new" "$PW" "old password after passwd"
last_audit user.passwd alice@example.org
expect 0 "user passwd --generate" -- mc --json user passwd dave@example.org --generate &&
	jcheck "passwd --generate" 'len(d["password"]) >= 12'
gen=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <"$T/out" || true)
verifies "$(hash_of dave@example.org)" "$gen" "passwd --generate password"

# disable / enable
expect 0 "user disable" -- mc user disable alice@example.org
last_audit user.disable alice@example.org
expect 0 "user show disabled" -- mc --json user show alice@example.org && jcheck "disabled" 'd["enabled"] is False'
eq "$(sql "SELECT enabled FROM users WHERE address = 'alice@example.org'")" 0 "enabled column after disable"
expect 0 "user enable" -- mc user enable alice@example.org
last_audit user.enable alice@example.org
expect 0 "user show enabled" -- mc --json user show alice@example.org && jcheck "enabled" 'd["enabled"] is True'

# quota
expect 0 "user quota 1G" -- mc user quota alice@example.org 1G &&
	contains "$T/out" "set the quota of 'alice@example.org' to 1G" "quota message"
last_audit user.quota alice@example.org
expect 0 "user show after quota" -- mc --json user show alice@example.org &&
	jcheck "quota 1G" 'd["quota_bytes"] == 1073741824 and d["quota"] == "1G"'
expect 0 "user quota unlimited" -- mc user quota alice@example.org unlimited
expect 0 "user show after unlimited" -- mc --json user show alice@example.org &&
	jcheck "quota unlimited" 'd["quota_bytes"] == 0 and d["quota"] == "unlimited"'

expect 0 "user list --json" -- mc --json user list &&
	jcheck "user list" '
all(set(x) == {"address", "name", "quota", "quota_bytes", "enabled", "admin", "created"} for x in d) and
[x["address"] for x in d] == ["alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org", "erin@example.org"]'
expect 0 "user list DOMAIN --json" -- mc --json user list example.net && jcheck "user list example.net" 'd == []'

# --- admins, and who postmaster@ reaches ---------------------------------

expect 0 "user add --admin" -- mc user add chief@example.org --admin --password-stdin <<<"$PW"
last_audit user.add chief@example.org
expect 0 "user show admin" -- mc --json user show chief@example.org && jcheck "admin" 'd["admin"] is True'
expect 0 "a second admin" -- mc user add deputy@example.net --admin --password-stdin <<<"$PW"
expect 0 "domain add goes to the first admin user" -- mc --json domain add example.com &&
	jcheck "first admin user" 'd["postmaster"] == "chief@example.org"'
expect 0 "aliases of example.com" -- mc --json alias list example.com &&
	jcheck "postmaster@ to the first admin" 'sorted(x["targets"][0] for x in d) == ["chief@example.org", "chief@example.org"]'
expect 0 "user add frank" -- mc user add frank@example.org --password-stdin <<<"$PW"
expect 0 "--admin beats the admin users" -- mc --json domain add example.info --admin frank@example.org &&
	jcheck "--admin over admin users" 'd["postmaster"] == "frank@example.org"'
# postmaster@ must reach someone: an --admin in a hosted domain must exist,
# as every alias target there must (alias.h).
refused 67 "does not exist" "domain add --admin with a missing hosted address" -- mc domain add example.biz --admin ghost@example.org

refused 65 "is the only target of" "user del of the only target of postmaster@" -- mc user del frank@example.org
contains "$T/err" "example.info" "the refusal names the alias"
refused 65 "is the only target of" "user del of the first admin" -- mc user del chief@example.org
expect 0 "user show frank still there" -- mc user show frank@example.org
# Give both required aliases a second target, then frank can go and is
# taken out of their target lists.
expect 0 "second target for postmaster@" -- mc alias add postmaster@example.info alice@example.org
expect 0 "second target for abuse@" -- mc alias add abuse@example.info alice@example.org
expect 0 "user del once postmaster@ has another target" -- mc user del frank@example.org
expect 0 "aliases after frank left" -- mc --json alias list example.info &&
	jcheck "frank taken out of the targets" '[x["targets"] for x in d] == [["alice@example.org"], ["alice@example.org"]]'

# A mailbox may take over a required alias.
expect 0 "user add postmaster@" -- mc user add postmaster@example.org --password-stdin <<<"$PW"
last_audit user.add postmaster@example.org
expect 0 "postmaster@ is now a user" -- mc --json user show postmaster@example.org &&
	jcheck "postmaster user" 'd["address"] == "postmaster@example.org"'
expect 0 "postmaster@ is no longer an alias" -- mc --json alias list example.org &&
	jcheck "postmaster alias gone" '[x["source"] for x in d] == ["abuse@example.org"]'
refused 65 "is a user" "alias add over the postmaster@ user" -- mc alias add postmaster@example.org friend@off-site.test

# --- aliases -------------------------------------------------------------

expect 0 "alias add with several targets" -- mc --json alias add team@example.org alice@example.org bob@example.org friend@off-site.test &&
	jcheck "alias add" 'd["source"] == "team@example.org"'
last_audit alias.add team@example.org
teams() { mc --json alias list example.org >"$T/out" && jcheck "$1" '[x["targets"] for x in d if x["source"] == "team@example.org"] == [a]' "${@:2}"; }
teams "three targets" alice@example.org bob@example.org friend@off-site.test
expect 0 "alias add to an existing alias" -- mc alias add team@example.org carol@example.org
teams "four targets" alice@example.org bob@example.org carol@example.org friend@off-site.test
expect 0 "alias list --json" -- mc --json alias list &&
	jcheck "alias list" '
all(set(x) == {"source", "targets", "required", "created"} for x in d) and
[x["required"] for x in d if x["source"] == "team@example.org"] == [False]'
expect 0 "alias add normalises" -- mc --json alias add Sales@Example.ORG Bob@EXAMPLE.org &&
	jcheck "alias source normalised" 'd["source"] == "sales@example.org"'
expect 0 "alias to an off-site address" -- mc alias add ext@example.org someone@elsewhere.test
refused 67 "does not exist" "alias to a missing address of a hosted domain" -- mc alias add x@example.org ghost@example.org
refused 65 "is a user" "alias on a user's address" -- mc alias add alice@example.org friend@off-site.test

# Catch-all: covers every address of its domain that is no user or alias.
expect 0 "catch-all" -- mc --json alias add @example.net alice@example.org && jcheck "catch-all" 'd["source"] == "@example.net"'
expect 0 "catch-all listed" -- mc --json alias list example.net &&
	jcheck "catch-all in the list" '[x["targets"] for x in d if x["source"] == "@example.net"] == [["alice@example.org"]]'
expect 0 "alias to an address the catch-all covers" -- mc alias add fwd@example.org anything@example.net

# Loops.
expect 0 "la -> off-site" -- mc alias add la@example.org far@off-site.test
expect 0 "lb -> la" -- mc alias add lb@example.org la@example.org
expect 0 "lc -> lb" -- mc alias add lc@example.org lb@example.org
refused 65 "would make mail loop" "a -> b -> a" -- mc alias add la@example.org lb@example.org
refused 65 "would make mail loop" "a -> c -> b -> a" -- mc alias add la@example.org lc@example.org
refused 65 "cannot point at itself" "alias to itself" -- mc alias add self@example.org self@example.org
refused 65 "cannot point at itself" "alias to itself in another case" -- mc alias add Self@example.org self@EXAMPLE.org
refused 65 "would make mail loop" "catch-all to an address it covers" -- mc alias add @example.com nobody@example.com
expect 0 "catch-all gets a second target" -- mc alias add @example.net lb@example.org
refused 65 "would make mail loop" "loop through a catch-all" -- mc alias add la@example.org zz@example.net
expect 0 "catch-all of example.com to example.net" -- mc alias add @example.com x@example.net
refused 65 "would make mail loop" "catch-all -> catch-all -> catch-all" -- mc alias add @example.net y@example.com

# Removing targets and aliases.
expect 0 "alias del one target" -- mc alias del team@example.org friend@off-site.test &&
	contains "$T/out" "removed 'friend@off-site.test' from alias 'team@example.org'" "alias del target message"
last_audit alias.del team@example.org
teams "target removed" alice@example.org bob@example.org carol@example.org
expect 0 "alias del whole alias" -- mc alias del team@example.org &&
	contains "$T/out" "deleted alias 'team@example.org'" "alias del message"
last_audit alias.del team@example.org
eq "$(sql "SELECT count(*) FROM aliases WHERE source = 'team@example.org'")" 0 "team@ is gone"
eq "$(sql "SELECT count(*) FROM alias_targets t LEFT JOIN aliases a ON a.id = t.alias_id WHERE a.id IS NULL")" 0 "no orphan targets"

refused 65 "must always reach someone" "alias del of a required alias" -- mc alias del postmaster@example.net
refused 65 "must always reach someone" "alias del of the only target of a required alias" -- mc alias del abuse@example.net boss@elsewhere.test
expect 0 "required alias: second target" -- mc alias add abuse@example.net alice@example.org
expect 0 "required alias: one of two targets removed" -- mc alias del abuse@example.net boss@elsewhere.test
expect 0 "required alias keeps one" -- mc --json alias list example.net &&
	jcheck "abuse@ now" '[x["targets"] for x in d if x["source"] == "abuse@example.net"] == [["alice@example.org"]]'

# --- deleting users: the mailbox is archived unless --purge ---------------

mkdir -p "$T/mail/example.org/bob/Maildir/cur" "$T/mail/example.org/bob/Maildir/new"
head -c 3000 /dev/urandom >"$T/bob-msg"
printf 'Subject: keep me\r\n\r\nhello\r\n' >>"$T/bob-msg"
cp "$T/bob-msg" "$T/mail/example.org/bob/Maildir/cur/1700000000.M1P1.host:2,S"
expect 0 "user del archives" -- mc --json user del bob@example.org &&
	jcheck "user del archived path" '__import__("re").fullmatch(__import__("re").escape(a[0]) + r"\.[0-9]{8}T[0-9]{6}Z", d["archived"]) is not None' \
		"$T/archive/example.org/bob"
archived=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["archived"])' <"$T/out" || true)
if [ -n "$archived" ] && cmp -s "$T/bob-msg" "$archived/Maildir/cur/1700000000.M1P1.host:2,S"; then pass; else fail "archived message differs or is missing under '$archived'"; fi
[ -d "$archived/Maildir/new" ] && pass || fail "archive lost Maildir/new"
[ ! -e "$T/mail/example.org/bob" ] && pass || fail "user del left $T/mail/example.org/bob"
last_audit user.del bob@example.org
refused 67 "does not exist" "user show after del" -- mc user show bob@example.org
expect 0 "bob left sales@, which had no other target" -- mc --json alias list example.org &&
	jcheck "sales@ deleted with its last target" 'not [x for x in d if x["source"] == "sales@example.org"]'

mkdir -p "$T/mail/example.org/carol/Maildir/cur"
echo "carol's mail" >"$T/mail/example.org/carol/Maildir/cur/msg"
expect 0 "user del --purge" -- mc user del --purge carol@example.org &&
	contains "$T/out" "purged" "purge message"
[ ! -e "$T/mail/example.org/carol" ] && pass || fail "user del --purge left the mailbox"
if compgen -G "$T/archive/example.org/carol*" >/dev/null; then fail "user del --purge archived the mailbox"; else pass; fi
last_audit user.del carol@example.org
expect 0 "user del without a mailbox" -- mc --json user del dave@example.org &&
	jcheck "no mailbox" 'd["archived"] == "" and "no mailbox" in d["message"]'

# --- deleting domains ----------------------------------------------------

expect 0 "domain add force.example" -- mc domain add force.example
expect 0 "user in force.example" -- mc user add gina@force.example --password-stdin <<<"$PW"
expect 0 "alias in force.example" -- mc alias add info@force.example gina@force.example
mkdir -p "$T/mail/force.example/gina/Maildir/cur"
head -c 5000 /dev/urandom >"$T/gina-msg"
cp "$T/gina-msg" "$T/mail/force.example/gina/Maildir/cur/msg"
refused 65 "still has 1 user(s) and 1 alias(es)" "domain del with users and aliases" -- mc domain del force.example
[ -f "$T/mail/force.example/gina/Maildir/cur/msg" ] && pass || fail "refused domain del moved the mail"
expect 0 "domain del --force" -- mc --json domain del --force force.example &&
	jcheck "domain archive path" '__import__("re").fullmatch(__import__("re").escape(a[0]) + r"\.[0-9]{8}T[0-9]{6}Z", d["archived"]) is not None' \
		"$T/archive/force.example"
archived=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["archived"])' <"$T/out" || true)
if [ -n "$archived" ] && cmp -s "$T/gina-msg" "$archived/gina/Maildir/cur/msg"; then pass; else fail "domain archive lost the message under '$archived'"; fi
[ ! -e "$T/mail/force.example" ] && pass || fail "domain del --force left $T/mail/force.example"
last_audit domain.del force.example
refused 68 "does not exist" "domain show after del --force" -- mc domain show force.example
eq "$(sql "SELECT count(*) FROM users WHERE address LIKE '%@force.example'")" 0 "users of the domain gone"
eq "$(sql "SELECT count(*) FROM aliases WHERE source LIKE '%@force.example'")" 0 "aliases of the domain gone"
refused 65 "still has" "domain del of example.org with users" -- mc domain del example.org
# --force still keeps other domains' postmaster@ reachable, and a refused
# delete moves no mail.
mkdir -p "$T/mail/example.org/alice/Maildir/cur"
echo "alice's mail" >"$T/mail/example.org/alice/Maildir/cur/msg"
refused 65 "is the only target of" "domain del --force of a domain whose user alone serves another's postmaster@" -- mc domain del --force example.org
[ -f "$T/mail/example.org/alice/Maildir/cur/msg" ] && pass || fail "a refused domain del --force moved the mail"
if compgen -G "$T/archive/example.org.*" >/dev/null; then fail "a refused domain del --force left an archive"; else pass; fi

# --- the audit log as a whole ---------------------------------------------

expect 0 "audit list --json" -- mc --json audit list --limit 1000 &&
	jcheck "every action audited by root" '
all(set(x) == {"at", "actor", "action", "subject", "detail"} for x in d) and
all(x["actor"] == "root" for x in d) and
set(a) <= {x["action"] for x in d}' \
		domain.add user.add user.passwd user.disable user.enable user.quota user.del alias.add alias.del domain.del
expect 0 "audit list --json is newest first" -- mc --json audit list --limit 2 &&
	jcheck "audit order" 'len(d) == 2 and d[0]["action"] == "domain.del" and d[0]["subject"] == "force.example"'
eq "$(sql "SELECT detail FROM audit_log WHERE action = 'user.del' AND subject = 'carol@example.org'")" purge "user.del detail says purge"
expect 0 "audit list" -- mc audit list && contains "$T/out" "ACTION" "audit list table"

# --- a mailbox that cannot be archived: nothing changes ------------------

expect 0 "user add henry" -- mc user add henry@example.org --password-stdin <<<"$PW"
mkdir -p "$T/mail/example.org/henry/Maildir/cur"
echo "henry's mail" >"$T/mail/example.org/henry/Maildir/cur/msg"
# The archive name is taken (the same user deleted twice in one second):
# a numbered name is used and the archive already there is kept.
for i in 0 1 2 3 4 5 6 7 8 9; do
	taken="$T/archive/example.org/henry.$(date -u -d "+$i sec" +%Y%m%dT%H%M%SZ)"
	mkdir -p "$taken" && echo "older archive" >"$taken/keep"
done
expect 0 "user del when the archive name is taken" -- mc --json user del henry@example.org
moved=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["archived"])' <"$T/out")
case "$moved" in
*/henry.*Z-1) pass ;;
*) fail "archive of henry is not numbered: '$moved'" ;;
esac
cmp -s "$moved/Maildir/cur/msg" <(echo "henry's mail") && pass || fail "numbered archive lost henry's mail"
n=$(grep -l "older archive" "$T"/archive/example.org/henry.*/keep | wc -l)
[ "$n" = 10 ] && pass || fail "an existing archive was replaced ($n of 10 kept)"
rm -rf "$T/archive/example.org/henry."*
expect 0 "user add henry again" -- mc user add henry@example.org --password-stdin <<<"$PW"
mkdir -p "$T/mail/example.org/henry/Maildir/cur"
echo "henry's mail" >"$T/mail/example.org/henry/Maildir/cur/msg"
# archive_root is not a directory.
touch "$T/archive-file"
sed "s|archive_root: $T/archive|archive_root: $T/archive-file|" "$MAILCTL_CONFIG" >"$T/badarchive.yaml"
refused 74 "cannot create directory" "user del with archive_root not a directory" -- mc --config "$T/badarchive.yaml" user del henry@example.org
[ -f "$T/mail/example.org/henry/Maildir/cur/msg" ] && pass || fail "a failed user del moved the mailbox"
expect 0 "domain add arch.example" -- mc domain add arch.example
expect 0 "user add ivy@arch.example" -- mc user add ivy@arch.example --password-stdin <<<"$PW"
mkdir -p "$T/mail/arch.example/ivy/Maildir/cur"
echo "ivy's mail" >"$T/mail/arch.example/ivy/Maildir/cur/msg"
refused 74 "cannot archive" "domain del --force with archive_root not a directory" -- mc --config "$T/badarchive.yaml" domain del --force arch.example
[ -f "$T/mail/arch.example/ivy/Maildir/cur/msg" ] && pass || fail "a failed domain del moved the mail"
expect 0 "ivy is still there" -- mc user show ivy@arch.example

# Every list and show parses as JSON.
for args in "domain list" "domain show example.org" "user list" "user list example.org" \
	"user show alice@example.org" "alias list" "alias list example.net" "audit list" \
	"config show" "config check" "db status"; do
	# shellcheck disable=SC2086
	expect 0 "--json $args" -- mc --json $args &&
		if python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/out" 2>"$T/pyerr"; then pass; else fail "--json $args is not JSON: $(head -c 200 "$T/pyerr")"; fi
done

done_tests
