#!/bin/bash
# Malformed invocations, one per table row. Each must exit with the
# documented code, say why in one "mailctl: " line on stderr (plus a
# "usage:" line for usage errors), print nothing on stdout, and change
# nothing: neither the database file (sha256 before and after) nor any
# other file or directory of the instance.
source "$MAILCTL_SRC/tests/lib.sh"
# Every assertion counts its own failure; go on after one so that a run
# reports all of them (done_tests sets the exit status).
set +e

for tool in sqlite3 sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: '$tool' is not installed" >&2
		exit 1
	fi
done

MIN_CASES=45
PW='correct-Horse-battery-9'

# rep CHAR N: CHAR repeated N times.
rep() { printf "%${2}s" "" | tr ' ' "$1"; }

# The state of the whole instance: every file's hash and every directory,
# so a created journal, database or mailbox directory counts as a change.
# $T/out, $T/err and $T/in are this script's own scratch files.
state() {
	(
		cd "$T" &&
			find . \( -path ./out -o -path ./err -o -path ./in \) -prune -o -type d -print | sort &&
			find . \( -path ./out -o -path ./err -o -path ./in \) -prune -o -type f -print0 |
			sort -z | xargs -0 sha256sum
	) | sha256sum | cut -d' ' -f1
}

mc_setup
mc domain add example.org >/dev/null
mc domain add example.net >/dev/null
mc user add alice@example.org --password-stdin <<<"$PW" >/dev/null
mc user add pwtester@example.org --password-stdin <<<"$PW" >/dev/null
mc alias add list@example.org alice@example.org >/dev/null
mc alias add @example.net alice@example.org >/dev/null
users_before=$(sqlite3 "$T/mailctl.db" 'SELECT count(*) FROM users')
[ "$users_before" = 2 ] && pass || fail "setup: $users_before users, want 2"

# Databases that are not usable, each with its own config.
mkdir -p "$T/alt"
alt_config() { sed "s|$T/mailctl.db|$2|" "$MAILCTL_CONFIG" >"$T/alt/$1.yaml"; }
alt_config missing "$T/alt/nodir/mailctl.db"
head -c 16384 /dev/urandom >"$T/alt/corrupt.db"
alt_config corrupt "$T/alt/corrupt.db"
cp "$T/mailctl.db" "$T/alt/future.db"
sqlite3 "$T/alt/future.db" 'PRAGMA user_version = 99'
alt_config future "$T/alt/future.db"
corrupt_hash=$(sha256sum <"$T/alt/corrupt.db")
future_hash=$(sha256sum <"$T/alt/future.db")
# Broken configurations.
printf 'hostname: mail.example.org\nfrobnicate: 1\n' >"$T/alt/unknown-key.yaml"
printf 'paths:\n  database: relative/mailctl.db\n' >"$T/alt/relative.yaml"
printf 'passwords:\n  min_length: 3\n' >"$T/alt/range.yaml"
printf 'hostname: [unclosed\n' >"$T/alt/syntax.yaml"

# Used by the table rows, which are eval'd.
# shellcheck disable=SC2034
{
	L65=$(rep a 65)
	L64=$(rep a 64)
	LABEL64=$(rep b 64)
	LONGDOMAIN="$(rep b 63).$(rep c 63).$(rep d 63).org" # 195 octets
	ARG10K=$(rep x 10000)
	PW1100=$(rep k 1100)
	MONTH=s$(date -u +%Y%m) # the selector domain add gave example.org
}

# CODE | STDERR SUBSTRING | ARGUMENTS (shell words) [| STDIN (one word)]
# Without a STDIN column standard input is /dev/null. Rows are eval'd, so
# $'...', variables and $(...) work in the last two columns.
read -r -d '' TABLE <<'TABLE'
65 | missing '@'                              | user add alice.example.org --generate
65 | more than one '@'                        | user add a@b@example.org --generate
65 | local part is empty                      | user add @example.org --generate
65 | local part is longer than 64 characters  | user add $L65@example.org --generate
65 | label '$LABEL64' is longer than 63       | user add x@$LABEL64.org --generate
65 | address is longer than 254 characters    | user add $L64@$LONGDOMAIN --generate
65 | domain is longer than 255 octets         | domain add $LONGDOMAIN.$(rep e 63)
65 | local part has consecutive dots          | user add a..b@example.org --generate
65 | local part starts with a dot             | user add .a@example.org --generate
65 | local part ends with a dot               | user add a.@example.org --generate
65 | local part contains a space              | user add 'a b@example.org' --generate
65 | label 'exa mple' contains a space        | domain add 'exa mple.org'
65 | quoted local parts are not supported     | user add '"a b"@example.org' --generate
65 | address is not valid UTF-8               | user add $'\xff@example.org' --generate
65 | domain is not valid UTF-8                | domain add $'b\xffcher.example'
65 | address contains control characters     | user add $'a\tb@x.org' --generate
65 | address contains control characters     | alias add $'a\nb@example.org' x@off-site.test
65 | non-ASCII local parts are not supported  | user add 'jürgen@example.org' --generate
65 | label '-bad' starts with a hyphen        | domain add -- -bad.example
65 | label 'bad_domain' contains '_'          | domain add bad_domain.example
65 | domain needs at least two labels         | domain add localhost
65 | IP addresses are not supported           | domain add 192.0.2.1
65 | top-level domain '123' is all-numeric    | domain add example.123
65 | IDNA conversion failed                   | domain add xn--zz.example
65 | string contains a disallowed character   | domain add '☃.example'
65 | domain has an empty label                | domain add example..org
65 | IP address literals are not supported    | user add 'a@[192.0.2.1]' --generate
65 | label 'org ' contains a space            | user add 'alice@example.org ' --generate
65 | label 'org ' contains a space            | user show $'alice@example.org\xc2\xa0'
65 | address contains control characters     | user show $'alice\x7f@example.org'
65 | domain contains control characters      | domain add $'example.org\n'
65 | domain is empty                          | domain add ''
65 | address is empty                         | user show ''
65 | invalid display name                     | user add n@example.org --name $'a\x01b' --generate
65 | invalid display name                     | user add n@example.org --name $'a\xffb' --generate
65 | invalid display name                     | user add n@example.org --name $'a\xc2\x85b' --generate
65 | display name is longer than 256 bytes    | user add n@example.org --name $(rep n 257) --generate
68 | domain 'nowhere.example' does not exist  | user add bob@nowhere.example --generate
68 | domain 'nowhere.example' does not exist  | domain show nowhere.example
68 | domain 'nowhere.example' does not exist  | domain del nowhere.example
68 | domain 'nowhere.example' does not exist  | user list nowhere.example
68 | domain 'nowhere.example' does not exist  | alias add a@nowhere.example x@off-site.test
67 | user 'nobody@example.org' does not exist | user show nobody@example.org
67 | user 'nobody@example.org' does not exist | user del nobody@example.org
67 | user 'nobody@example.org' does not exist | user passwd nobody@example.org --generate
67 | user 'nobody@example.org' does not exist | user disable nobody@example.org
67 | user 'nobody@example.org' does not exist | user quota nobody@example.org 1G
67 | alias 'nolist@example.org' does not exist | alias del nolist@example.org
67 | alias '@example.org' does not exist      | alias del @example.org
67 | user 'nobody@example.org' does not exist | --json user show nobody@example.org
67 | is not a target of alias 'list@example.org' | alias del list@example.org bob@off-site.test
67 | target 'ghost@example.org' does not exist | alias add new@example.org ghost@example.org
65 | domain 'example.org' already exists      | domain add example.org
65 | domain 'example.org' already exists      | domain add EXAMPLE.ORG.
65 | domain 'example.org' already exists      | domain add 'ＥＸＡＭＰＬＥ.org'
65 | user 'alice@example.org' already exists  | user add Alice@Example.org --generate
65 | is a user; an alias cannot share         | alias add alice@example.org x@off-site.test
65 | is already an alias                      | user add list@example.org --generate
65 | must always reach someone                | alias del postmaster@example.org
65 | still has 2 user(s)                      | domain del example.org
65 | local part contains ';'                  | user add "x'; DROP TABLE users;--@example.org" --generate
65 | contains '''                             | domain add "x'; DROP TABLE domains;--"
67 | user 'a'or'1'='1@example.org' does not exist | user show "a'or'1'='1@example.org"
67 | alias 'x'--@example.org' does not exist  | alias del "x'--@example.org"
65 | invalid domain                           | user list "example.org' OR '1'='1"
65 | missing '@'                              | user show $ARG10K
65 | domain is longer than 255 octets         | domain add $ARG10K
65 | local part is longer than 64 characters  | alias add $ARG10K@example.org x@off-site.test
65 | password is longer than 1024 bytes       | user add long@example.org --password-stdin | $PW1100
65 | password is longer than 1024 bytes       | user passwd alice@example.org --password-stdin | $PW1100
65 | password is too short: at least 12       | user add weak@example.org --password-stdin | Sh0rt-pw!
65 | dictionary word                          | user add weak@example.org --password-stdin | password1234
65 | contains the user name                   | user add pwtester@example.net --password-stdin | Xkq7-pwtester-2024
65 | password is empty                        | user add weak@example.org --password-stdin | ''
65 | password is empty                        | user passwd alice@example.org --password-stdin | ''
65 | password contains control characters     | user add weak@example.org --password-stdin | $'correct\tHorse-battery-9'
65 | password is not valid UTF-8              | user add weak@example.org --password-stdin | $'\xffcorrect-Horse-battery-9'
65 | invalid size '12X': unknown unit         | user add q@example.org --quota 12X --generate
65 | invalid size '-5': negative sizes        | user add q@example.org --quota -5 --generate
65 | invalid size '1e9999'                    | user add q@example.org --quota 1e9999 --generate
65 | invalid size '99999T': too large         | user quota alice@example.org 99999T
65 | invalid size '0.0001K': rounds down to 0 | user quota alice@example.org 0.0001K
65 | invalid size '': empty                   | user quota alice@example.org ''
65 | invalid size '-5': negative sizes        | user quota alice@example.org -- -5
64 | unknown option '-5'                      | user quota alice@example.org -5
64 | unknown option '--bogus'                 | user add q@example.org --bogus --generate
64 | unknown option '--force'                 | user del alice@example.org --force
64 | unknown option '--bogus'; see 'mailctl -h' | --bogus domain list
64 | missing argument                         | user add
64 | missing argument                         | alias add only-source@example.org
64 | option '--quota' needs a value           | user add q@example.org --generate --quota
64 | missing value for option '--config'      | --config
64 | too many arguments                       | user show alice@example.org bob@example.org
64 | too many arguments                       | domain list extra.example
64 | too many arguments                       | alias del a@example.org b@example.org c@example.org
64 | unknown command 'frobnicate'             | frobnicate list
64 | unknown verb 'user frobnicate'           | user frobnicate
64 | exclude each other                       | user add q@example.org --password-stdin --generate
64 | exclude each other                       | user passwd alice@example.org --generate --password-stdin
64 | standard input is not a terminal         | user add q@example.org
64 | standard input is not a terminal         | user passwd alice@example.org
64 | invalid --limit '0'                      | audit list --limit 0
64 | invalid --limit '1000001'                | audit list --limit 1000001
64 | option '--name' needs a value            | user add a@example.org --generate --name
65 | local part is empty                      | alias add x@example.org @example.org
65 | cannot point at itself                   | alias add x@example.org X@Example.org
65 | would make mail loop                     | alias add @example.net nobody@example.net
65 | cannot point at itself                   | domain add example.edu --admin postmaster@example.edu
69 | run 'mailctl db init'                    | --config $T/alt/missing.yaml user list
69 | run 'mailctl db init'                    | --config $T/alt/missing.yaml domain add new.example
69 | run 'mailctl db init'                    | --config $T/alt/missing.yaml db status
64 | unknown option '-x'                      | --config $T/alt/missing.yaml domain list -x
64 | too many arguments                      | --config $T/alt/corrupt.yaml user show a@example.org b@example.org
69 | is damaged or not a database             | --config $T/alt/corrupt.yaml user list
69 | is damaged or not a database             | --config $T/alt/corrupt.yaml domain add new.example
69 | is damaged or not a database             | --config $T/alt/corrupt.yaml db init
69 | schema version 99, newer than this mailctl knows | --config $T/alt/future.yaml user list
69 | schema version 99, newer than this mailctl knows | --config $T/alt/future.yaml user add new@example.org --generate
69 | schema version 99, newer than this mailctl knows | --config $T/alt/future.yaml db init
78 | :2: key 'frobnicate': unknown key        | --config $T/alt/unknown-key.yaml user list
78 | :2: key 'frobnicate': unknown key        | --config $T/alt/unknown-key.yaml config check
78 | key 'paths.database': must be an absolute path | --config $T/alt/relative.yaml domain add new.example
78 | key 'passwords.min_length': must be between 8 and 128 | --config $T/alt/range.yaml user add new@example.org --generate
78 | syntax.yaml':1:                          | --config $T/alt/syntax.yaml config check
78 | cannot open '$T/alt/none.yaml'           | --config $T/alt/none.yaml user list
68 | domain 'nowhere.example' does not exist  | dkim keygen nowhere.example
65 | invalid selector 'bad_sel'               | dkim keygen example.org --selector bad_sel
65 | unsupported rsa key size 1000            | dkim keygen example.org --bits 1000
65 | unknown DKIM algorithm 'dsa'             | dkim keygen example.org --algorithm dsa
65 | always 256 bits                          | dkim keygen example.org --algorithm ed25519 --bits 4096
64 | invalid --bits 'x'                       | dkim keygen example.org --bits x
65 | no DKIM key with selector 'nope'         | dkim show example.org --selector nope
65 | already has a DKIM key with selector     | dkim keygen example.org --selector $MONTH
TABLE

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

cases=0
argv=()
stdin=''
while IFS= read -r row; do
	case "$row" in '' | '#'*) continue ;; esac
	IFS='|' read -r code msg args input <<<"$row"
	code=$(trim "$code")
	msg=$(trim "$msg")
	args=$(trim "$args")
	# The message may quote expanded values ($T, $LABEL64).
	msg=${msg//'$T'/$T}
	msg=${msg//'$LABEL64'/$LABEL64}
	eval "argv=($args)"
	desc="mailctl ${args:0:100}"
	db_before=$(dbhash)
	st_before=$(state)
	got=0
	if [ -n "$input" ]; then
		eval "stdin=$(trim "$input")"
		printf '%s\n' "$stdin" >"$T/in"
		"$MAILCTL" "${argv[@]}" <"$T/in" >"$T/out" 2>"$T/err" || got=$?
	else
		"$MAILCTL" "${argv[@]}" </dev/null >"$T/out" 2>"$T/err" || got=$?
	fi
	cases=$((cases + 1))
	if [ "$got" = "$code" ]; then pass; else fail "$desc: exit $got, want $code; stderr: $(head -c 300 "$T/err")"; fi
	contains "$T/err" "$msg" "$desc"
	first=$(head -n 1 "$T/err")
	lines=$(wc -l <"$T/err")
	if [ "${first#mailctl: }" != "$first" ] &&
		{ [ "$lines" = 1 ] || { [ "$code" = 64 ] && [ "$lines" = 2 ] && sed -n 2p "$T/err" | grep -q '^usage: mailctl '; }; }; then
		pass
	else
		fail "$desc: stderr is not one 'mailctl: ' line (and a usage line): $(head -c 300 "$T/err")"
	fi
	if [ -s "$T/out" ]; then fail "$desc: printed on stdout: $(head -c 200 "$T/out")"; else pass; fi
	if [ "$(dbhash)" = "$db_before" ]; then pass; else fail "$desc: the database changed"; fi
	if [ "$(state)" = "$st_before" ]; then pass; else fail "$desc: files under $T changed"; fi
done <<<"$TABLE"

# A busy database: another process holds the write lock for longer than
# mailctl waits (5 s). Writers give up with 75 and change nothing; readers
# are not blocked.
fifo="$T/lock.fifo"
mkfifo "$fifo" || fail "mkfifo $fifo"
sqlite3 "$T/mailctl.db" <"$fifo" >/dev/null 2>&1 &
locker=$!
exec 3>"$fifo"
echo 'BEGIN IMMEDIATE;' >&3
sleep 0.5
db_before=$(dbhash)
expect 75 "domain add while the database is locked" -- mc domain add busy.example &&
	contains "$T/err" "is busy, try again" "busy database message"
cases=$((cases + 1))
[ "$(dbhash)" = "$db_before" ] && pass || fail "busy database: the database changed"
expect 0 "user list while the database is locked" -- mc user list && contains "$T/out" "alice@example.org" "reading a busy database"
echo 'ROLLBACK;' >&3
exec 3>&-
wait "$locker"
rm -f "$fifo"

# The injection attempts found no SQL to inject into.
# (the tables of a fresh database of this build, made alike, are the measure)
tables() { sqlite3 "$1" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)"; }
sed "s|$T/mailctl.db|$T/fresh.db|" "$MAILCTL_CONFIG" >"$T/fresh.yaml"
"$MAILCTL" --config "$T/fresh.yaml" db init >/dev/null
tables=$(tables "$T/mailctl.db")
want=$(tables "$T/fresh.db")
[ -n "$want" ] && [ "$tables" = "$want" ] && pass || fail "tables after the injection attempts: '$tables', want '$want'"
users_after=$(sqlite3 "$T/mailctl.db" 'SELECT count(*) FROM users')
[ "$users_after" = "$users_before" ] && pass || fail "users after the table: $users_after, want $users_before"
[ ! -e "$T/alt/nodir" ] && pass || fail "a missing database's directory was created"
[ "$(sha256sum <"$T/alt/corrupt.db")" = "$corrupt_hash" ] && pass || fail "the corrupt database changed"
[ "$(sha256sum <"$T/alt/future.db")" = "$future_hash" ] && pass || fail "the future-schema database changed"

echo "$cases bad-input cases run"
if [ "$cases" -ge "$MIN_CASES" ]; then pass; else fail "only $cases cases ran, want at least $MIN_CASES"; fi

done_tests
