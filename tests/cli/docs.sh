# tests/cli/docs.sh - the man page and -h describe the same commands.
# Every group and verb that 'mailctl -h' and 'mailctl GROUP -h' list must
# appear in doc/mailctl.8, and the man page must render without warnings.
source "$MAILCTL_SRC/tests/lib.sh"
man_page="$MAILCTL_SRC/doc/mailctl.8"
command -v man >/dev/null || { fail "man is not installed (apt-get install man-db)"; done_tests; }

man --warnings -l "$man_page" >"$T/man.txt" 2>"$T/man.err" || fail "man cannot render mailctl.8"
[ -s "$T/man.err" ] && fail "man warnings: $(head -c 300 "$T/man.err")" || pass
# Join lines so a verb split by justification is still found.
tr -s ' \n' '  ' <"$T/man.txt" >"$T/man.flat"

groups=$("$MAILCTL" -h | awk '/^groups:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
[ -n "$groups" ] && pass || fail "no groups in 'mailctl -h'"
for g in $groups; do
	verbs=$("$MAILCTL" "$g" -h | awk '/^verbs:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
	[ -n "$verbs" ] && pass || fail "no verbs in 'mailctl $g -h'"
	for v in $verbs; do
		if grep -qF "$g $v" "$T/man.flat"; then pass; else fail "mailctl.8 does not describe '$g $v'"; fi
		expect 0 "'$g $v -h'" -- "$MAILCTL" "$g" "$v" -h
		contains "$T/out" "usage: mailctl" "'$g $v -h' prints usage"
		# every long option the help lists is in the man page
		for opt in $(grep -oE '^  --[a-z-]+' "$T/out" | tr -d ' '); do
			[ "$opt" = --help ] && continue
			if grep -qF -- "$opt" "$T/man.flat"; then pass; else fail "mailctl.8 lacks $opt of '$g $v'"; fi
		done
	done
done
done_tests
