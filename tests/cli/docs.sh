# tests/cli/docs.sh - the man pages and -h describe the same commands.
# Every group and verb that 'mailctl -h' and 'mailctl GROUP -h' list must
# appear in doc/mailctl.8, every option of 'mailctld -h' in
# doc/mailctld.8, and both pages must render without warnings.
source "$MAILCTL_SRC/tests/lib.sh"
man_page="$MAILCTL_SRC/doc/mailctl.8"
command -v man >/dev/null || { fail "man is not installed (apt-get install man-db)"; # mailctld(8): renders cleanly and names every option of 'mailctld -h'.
man --warnings -l "$MAILCTL_SRC/doc/mailctld.8" >"$T/mand.txt" 2>"$T/mand.err" ||
	fail "man cannot render mailctld.8"
[ -s "$T/mand.err" ] && fail "mailctld.8 warnings: $(head -c 300 "$T/mand.err")" || pass
tr -s ' \n' '  ' <"$T/mand.txt" >"$T/mand.flat"
expect 0 "mailctld -h" -- "$MAILCTLD" -h
contains "$T/out" "usage: mailctld" "mailctld -h prints usage"
opts=$(grep -oE '^  -[a-zA-Z]' "$T/out" | tr -d ' ')
[ "$(wc -w <<<"$opts")" -ge 5 ] && pass || fail "mailctld -h lists too few options: $opts"
for opt in $opts; do
	grep -qF -- "$opt" "$T/mand.flat" && pass || fail "mailctld.8 lacks $opt"
done
expect 64 "mailctld with a stray argument" -- "$MAILCTLD" stray
contains "$T/err" "unexpected argument 'stray'" "mailctld names the stray argument"
done_tests; }

man --warnings -l "$man_page" >"$T/man.txt" 2>"$T/man.err" || fail "man cannot render mailctl.8"
[ -s "$T/man.err" ] && fail "man warnings: $(head -c 300 "$T/man.err")" || pass
# Join lines so a verb split by justification is still found.
tr -s ' \n' '  ' <"$T/man.txt" >"$T/man.flat"

groups=$("$MAILCTL" -h | awk '/^groups:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
[ -n "$groups" ] && pass || fail "no groups in 'mailctl -h'"
# check_help WORDS...: 'mailctl WORDS -h' prints usage, the man page
# describes 'WORDS', and every long option of the help is in the man page.
check_help() {
	if grep -qF "$*" "$T/man.flat"; then pass; else fail "mailctl.8 does not describe '$*'"; fi
	expect 0 "'$* -h'" -- "$MAILCTL" "$@" -h
	contains "$T/out" "usage: mailctl" "'$* -h' prints usage"
	for opt in $(grep -oE '^  --[a-z-]+' "$T/out" | tr -d ' '); do
		[ "$opt" = --help ] && continue
		if grep -qF -- "$opt" "$T/man.flat"; then pass; else fail "mailctl.8 lacks $opt of '$*'"; fi
	done
}
for g in $groups; do
	verbs=$("$MAILCTL" "$g" -h | awk '/^verbs:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
	if [ -z "$verbs" ]; then # a command without verbs, like 'apply'
		check_help "$g"
		continue
	fi
	for v in $verbs; do
		check_help "$g" "$v"
	done
done
# mailctld(8): renders cleanly and names every option of 'mailctld -h'.
man --warnings -l "$MAILCTL_SRC/doc/mailctld.8" >"$T/mand.txt" 2>"$T/mand.err" ||
	fail "man cannot render mailctld.8"
[ -s "$T/mand.err" ] && fail "mailctld.8 warnings: $(head -c 300 "$T/mand.err")" || pass
tr -s ' \n' '  ' <"$T/mand.txt" >"$T/mand.flat"
expect 0 "mailctld -h" -- "$MAILCTLD" -h
contains "$T/out" "usage: mailctld" "mailctld -h prints usage"
opts=$(grep -oE '^  -[a-zA-Z]' "$T/out" | tr -d ' ')
[ "$(wc -w <<<"$opts")" -ge 5 ] && pass || fail "mailctld -h lists too few options: $opts"
for opt in $opts; do
	grep -qF -- "$opt" "$T/mand.flat" && pass || fail "mailctld.8 lacks $opt"
done
expect 64 "mailctld with a stray argument" -- "$MAILCTLD" stray
contains "$T/err" "unexpected argument 'stray'" "mailctld names the stray argument"
done_tests
