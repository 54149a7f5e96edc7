# tests/cli/apply.sh - the apply engine on a private template set: diff,
# dry run, validation with the real postconf/postfix/doveconf, nginx, nft
# and fail2ban-client, atomic install with modes and owners, missing
# directories made, idempotence, rollback, manifest errors.
# (The shipped templates are exercised end to end in tests/integration.)
source "$MAILCTL_SRC/tests/lib.sh"
for tool in postconf postfix doveconf diff nginx nft fail2ban-client; do
	command -v "$tool" >/dev/null || { fail "'$tool' is not installed"; done_tests; exit 1; }
done
mc_setup
TPL=$T/tpl
mkdir -p "$TPL/postfix" "$TPL/dovecot"
sed -i "s|template_dir: .*|template_dir: $TPL|" "$MAILCTL_CONFIG"
PF=$T/etc/postfix DC=$T/etc/dovecot
cp /etc/postfix/master.cf "$PF/"
printf 'compatibility_level = 3.6\nmyhostname = {{mailhost}}\nqueue_directory = /var/spool/postfix\n' >"$TPL/postfix/main.cf"
printf 'protocols =\nauth_username_format = %%Lu\nssl = no\n# db {{paths.database}}\n' >"$TPL/dovecot/dovecot.conf"
printf 'dbpath = {{paths.database}}\nquery = SELECT name FROM domains WHERE name = %s\n' "'%s'" >"$TPL/postfix/map.cf"
cat >"$TPL/manifest" <<'M'
# template          destination                      mode owner:group  service
postfix/main.cf     {{paths.postfix_dir}}/main.cf    0644 root:root    postfix
postfix/map.cf      {{paths.postfix_dir}}/map.cf     0640 root:postfix postfix
dovecot/dovecot.conf {{paths.dovecot_dir}}/dovecot.conf 0644 root:root dovecot
M
snap() { (cd "$T/etc" && find . -type f -printf '%p %m %u:%g\n' | sort && cat postfix/* dovecot/* 2>/dev/null) | sha256sum; }

expect 0 "dry run" -- mc apply --dry-run
contains "$T/out" "+myhostname = mail.example.org" "dry run shows the rendered diff"
contains "$T/out" "dry run: 3 of 3 file(s) would change" "dry run summary"
[ ! -e "$PF/main.cf" ] && [ ! -e "$DC/dovecot.conf" ] && pass || fail "dry run wrote files"

expect 0 "apply" -- mc apply --no-reload
contains "$T/out" "3 of 3 file(s) changed" "apply summary"
[ "$(stat -c '%a %U:%G' "$PF/map.cf")" = "640 root:postfix" ] && pass || fail "map.cf mode/owner: $(stat -c '%a %U:%G' "$PF/map.cf")"
grep -qx "myhostname = mail.example.org" "$PF/main.cf" && pass || fail "main.cf not rendered"
grep -q "db $T/mailctl.db" "$DC/dovecot.conf" && pass || fail "dovecot.conf not rendered"
ls "$PF" | grep -q 'mailctl-new' && fail "a temporary file was left" || pass

expect 0 "apply again" -- mc --json apply --no-reload
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["changed"] == 0 and d["diff"] == ""' <"$T/out" && pass || fail "second apply is not a no-op: $(head -c 300 "$T/out")"

# A template the validator rejects: nothing is installed.
before=$(snap)
echo 'this is not a postfix parameter' >>"$TPL/postfix/main.cf"
expect 65 "invalid Postfix config" -- mc apply --no-reload
contains "$T/err" "the new Postfix configuration is invalid" "validation message"
contains "$T/err" "missing '='" "the validator's own words"
[ "$(snap)" = "$before" ] && pass || fail "a refused apply changed the installed files"
sed -i '$d' "$TPL/postfix/main.cf"
echo 'protocols = nosuchproto' >>"$TPL/dovecot/dovecot.conf"
expect 65 "invalid Dovecot config" -- mc apply --no-reload
contains "$T/err" "the new Dovecot configuration is invalid" "Dovecot validation message"
[ "$(snap)" = "$before" ] && pass || fail "a refused Dovecot apply changed files"
sed -i '$d' "$TPL/dovecot/dovecot.conf"

# A real change, then rollback: the old content, mode and owner come back,
# and a file the apply created goes away.
echo 'smtpd_banner = $myhostname ESMTP' >>"$TPL/postfix/main.cf"
printf 'postfix/extra.cf {{paths.postfix_dir}}/extra.cf 0600 root:root postfix\n' >>"$TPL/manifest"
echo 'x = 1' >"$TPL/postfix/extra.cf"
expect 0 "apply a change" -- mc apply --no-reload
grep -q "smtpd_banner" "$PF/main.cf" && [ -f "$PF/extra.cf" ] && pass || fail "change not installed"
expect 0 "rollback" -- mc apply --rollback
contains "$T/out" "restored 2 file(s)" "rollback count"
[ "$(snap)" = "$before" ] && pass || fail "rollback did not restore the previous files exactly"
expect 65 "second rollback" -- mc apply --rollback
contains "$T/err" "nothing to roll back" "nothing to roll back message"

# Manifest errors: clear message, nothing written.
before=$(snap)
while IFS='|' read -r code line msg; do
	cp "$TPL/manifest" "$T/manifest.good"
	echo "$line" >>"$TPL/manifest"
	expect "$code" "manifest: $line" -- mc apply --dry-run
	contains "$T/err" "$msg" "manifest error names the problem"
	cp "$T/manifest.good" "$TPL/manifest"
done <<'CASES'
65|postfix/main.cf {{paths.postfix_dir}}/main.cf 0644 nosuchuser:root postfix|no such user 'nosuchuser'
65|postfix/main.cf relative/main.cf 0644 root:root postfix|is not absolute
65|postfix/main.cf {{nope}}/main.cf 0644 root:root postfix|unknown placeholder 'nope'
74|postfix/missing.cf {{paths.postfix_dir}}/m.cf 0644 root:root postfix|cannot open template
65|../../etc/passwd {{paths.postfix_dir}}/p 0644 root:root postfix|manifest:
65|only three columns|manifest:
CASES
[ "$(snap)" = "$before" ] && pass || fail "a bad manifest changed files"
expect 64 "--rollback with --dry-run" -- mc apply --rollback --dry-run

# --- nginx, nftables, fail2ban: {{etc_dir}} and {{log_dir}}, directories
# made, each validated by its own tool before anything is written --------
expect 0 "apply the template changes made above" -- mc apply --no-reload
mkdir -p "$TPL/nginx" "$TPL/nftables" "$TPL/fail2ban"
cat >"$TPL/nginx/nginx.conf" <<'N'
error_log {{log_dir}}/nginx-error.log;
events {
}
http {
	access_log off;
	include site.conf;
}
N
printf 'server {\n\tlisten 127.0.0.1:8080;\n\treturn 200 "{{mailhost}}";\n}\n' >"$TPL/nginx/site.conf"
printf 'table inet mailctl_apply_test {\n\tchain input {\n\t\ttcp dport 9 accept\n\t}\n}\n' \
	>"$TPL/nftables/nftables.conf"
printf '[postfix-sasl]\nenabled = true\nlogpath = {{log_dir}}/mail.log\nbackend = auto\n' \
	>"$TPL/fail2ban/jail.conf"
cat >>"$TPL/manifest" <<'M'
nginx/nginx.conf       {{paths.nginx_dir}}/nginx.conf            0644 root:root nginx
nginx/site.conf        {{paths.nginx_dir}}/site.conf             0644 root:root nginx
nftables/nftables.conf {{etc_dir}}/nftables.conf                 0755 root:root nftables
fail2ban/jail.conf     {{etc_dir}}/fail2ban/jail.d/mailctl.conf  0644 root:root fail2ban
M
rm -rf "$T/etc/nginx"
expect 0 "apply nginx, nftables and fail2ban files" -- mc --json apply --no-reload
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["changed"] == 4, d["changed"]; assert d["services"] == "nginx,nftables,fail2ban", d["services"]' <"$T/out" &&
	pass || fail "apply summary: $(head -c 300 "$T/out")"
grep -q "return 200 \"mail.example.org\"" "$T/etc/nginx/site.conf" && pass || fail "site.conf not rendered"
grep -qx "error_log $T/nginx-error.log;" "$T/etc/nginx/nginx.conf" && pass ||
	fail "{{log_dir}} is not the log file's directory"
[ "$(stat -c '%a %U:%G' "$T/etc/nftables.conf")" = "755 root:root" ] && pass ||
	fail "{{etc_dir}} is not the directory above postfix_dir, or mode: $(ls -l "$T/etc" 2>&1)"
grep -qx "logpath = $T/mail.log" "$T/etc/fail2ban/jail.d/mailctl.conf" && pass ||
	fail "jail.d/mailctl.conf not written below the directories apply made"
[ "$(stat -c '%a' "$T/etc/fail2ban/jail.d")" = 755 ] && pass || fail "made directory mode: $(stat -c '%a' "$T/etc/fail2ban/jail.d")"

# Each validator refuses a broken file in its own words; nothing changes.
before=$(snap)
while IFS='|' read -r file bad what words; do
	cp "$TPL/$file" "$T/good"
	printf '%s\n' "$bad" >>"$TPL/$file"
	expect 65 "invalid $what configuration" -- mc apply --no-reload
	contains "$T/err" "the new $what configuration is invalid" "$what: validation message"
	contains "$T/err" "$words" "$what: the validator's own words"
	[ "$(snap)" = "$before" ] && pass || fail "a refused $what apply changed files"
	cp "$T/good" "$TPL/$file"
done <<'CASES'
nginx/site.conf|no_such_directive on;|nginx|unknown directive "no_such_directive"
nftables/nftables.conf|table inet mailctl_apply_test { chain input { tcp dport 99999 accept; }; }|nftables|Error:
fail2ban/jail.conf|filter = no-such-filter|fail2ban|Unable to read the filter 'no-such-filter'
CASES
echo 'postfix/main.cf {{paths.postfix_dir}}/x.cf 0644 root:root httpd' >>"$TPL/manifest"
expect 65 "manifest: unknown service" -- mc apply --dry-run
contains "$T/err" "unknown service 'httpd'" "an unknown service is named"
sed -i '$d' "$TPL/manifest"
expect 0 "apply after the refusals" -- mc --json apply --no-reload
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["changed"] == 0' <"$T/out" && pass ||
	fail "refused applies left something to do: $(head -c 300 "$T/out")"
done_tests
