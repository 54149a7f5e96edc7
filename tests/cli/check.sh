#!/bin/bash
# tests/cli/check.sh - 'mailctl check FILE': its usage errors, its output
# and exit codes where no DNS answer is needed (the resolver is a closed
# loopback port, so every lookup fails at once). The verdicts that need DNS
# answers are tested in tests/integration/milter_flow.sh and, with a fake
# resolver, in tests/unit/test_msgauth.c.
source "$MAILCTL_SRC/tests/lib.sh"
mc_setup
DEAD=127.0.0.1:9 # nothing listens: ICMP port unreachable, an error at once

msg() { # FILE HEADER-LINES...: a message with those fields and a body
	local f=$1
	shift
	printf '%s\n' "$@" "" "hello" >"$f"
}
msg "$T/one.eml" "From: Alice <alice@example.net>" "To: bob@example.org" "Subject: hi" \
	"Authentication-Results: mail.example.org; dkim=pass (forged)"
msg "$T/twofrom.eml" "From: alice@example.net" "From: eve@example.com" "Subject: two"
msg "$T/nofrom.eml" "To: bob@example.org" "Subject: none"

# ---- usage errors: exit 64, nothing printed on stdout ----
expect 64 "no file" -- mc check
expect 64 "two files" -- mc check "$T/one.eml" "$T/one.eml"
expect 64 "bad --ip" -- mc check "$T/one.eml" --ip 192.0.2.300
contains "$T/err" "invalid --ip '192.0.2.300'" "bad --ip named"
expect 64 "bad --resolver" -- mc check "$T/one.eml" --resolver 'x y'
contains "$T/err" "invalid --resolver" "bad --resolver named"
expect 64 "unknown option" -- mc check "$T/one.eml" --frobnicate
[ ! -s "$T/out" ] && pass || fail "a usage error printed on stdout: $(cat "$T/out")"
expect 74 "missing file" -- mc check "$T/nonexistent.eml"
contains "$T/err" "cannot open '$T/nonexistent.eml'" "missing file named"
expect 0 "check -h" -- mc check -h
contains "$T/out" "usage: mailctl [--config FILE] [--json] check FILE" "check -h usage"
for o in --ip --helo --mail-from --resolver; do contains "$T/out" "$o" "check -h lists $o"; done

# ---- DNS unreachable: deferred (exit 2), never accepted ----
expect 2 "DNS down: deferred" -- mc check "$T/one.eml" --ip 192.0.2.20 --helo mx.example.net \
	--mail-from alice@example.net --resolver "$DEAD"
contains "$T/out" "Authentication-Results: mail.example.org;" "our authserv-id"
contains "$T/out" "spf=temperror smtp.mailfrom=alice@example.net" "SPF temperror"
contains "$T/out" "dkim=none" "no signature"
contains "$T/out" "dmarc=temperror header.from=example.net" "DMARC temperror"
contains "$T/out" "action: tempfail 451 the DMARC policy of example.net could not be looked up" "451 and why"
grep -q '(forged)' "$T/out" && fail "the forged Authentication-Results leaked into ours" || pass
# Return-Path stands in for --mail-from; standard input works.
sed '1i Return-Path: <bounce@example.net>' "$T/one.eml" >"$T/rp.eml"
expect 2 "Return-Path as the envelope sender" -- mc check - --ip 192.0.2.20 --resolver "$DEAD" <"$T/rp.eml"
contains "$T/out" "smtp.mailfrom=bounce@example.net" "Return-Path used"
# Without --ip, SPF says why it cannot tell.
expect 2 "no --ip" -- mc check "$T/one.eml" --resolver "$DEAD"
contains "$T/out" "spf: none" "SPF none without an address"

# ---- RFC 5322 wants one From: zero or two are rejected, DNS or not ----
for f in twofrom nofrom; do
	expect 1 "$f: rejected" -- mc check "$T/$f.eml" --ip 192.0.2.20 --resolver "$DEAD"
	contains "$T/out" "action: reject 550 message rejected: it must have exactly one From field" \
		"$f: 550 with the reason"
done

# ---- --json: one object ----
expect 2 "--json" -- mc --json check "$T/one.eml" --ip 192.0.2.20 --resolver "$DEAD"
python3 - "$T/out" <<'PY' && pass || fail "--json: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
d = d[0] if isinstance(d, list) else d
assert d["action"] == "tempfail", d
assert d["reply"].startswith("451 4.7.1 "), d
assert "dmarc=temperror" in d["authentication_results"], d
assert "spf: none for <> (no HELO name to check)" in d["report"], d
PY

done_tests
