# tests/cli/setup.sh - 'mailctl setup' on a private instance under $T:
# configuration keys added, database, domain with DKIM key, admin user with
# a password printed once that Dovecot verifies, TLS key and self-signed
# certificate, the shipped templates rendered and installed; a second run
# changes nothing; bad input changes nothing; no arguments on a machine
# without a public name makes the local demo. No servers are started.
source "$MAILCTL_SRC/tests/lib.sh"
for tool in postconf postfix doveconf doveadm openssl sqlite3 unshare; do
	command -v "$tool" >/dev/null || { fail "'$tool' is not installed"; done_tests; exit 1; }
done

# paths_config FILE DIR: a configuration with only paths, all under DIR.
paths_config() {
	mkdir -p "$2/etc/postfix" "$2/etc/dovecot"
	cat >"$1" <<YAML
paths:
  database: $2/db/mailctl.db
  key_dir: $2/keys
  mail_root: $2/mail
  archive_root: $2/archive
  template_dir: $MAILCTL_SRC/templates
  postfix_dir: $2/etc/postfix
  dovecot_dir: $2/etc/dovecot
  nginx_dir: $2/etc/nginx
  control_socket: $2/run/mailctld.sock
  log_file: $2/mailctl.log
passwords:
  # cheap hashing keeps the tests fast; production uses the defaults
  argon2_time_cost: 1
  argon2_memory_kib: 1024
tls:
  cert_file: $2/tls/cert.pem
  key_file: $2/tls/key.pem
YAML
}
paths_config "$MAILCTL_CONFIG" "$T"
DB=$T/db/mailctl.db
# snap: everything setup writes (the database by content, not by pages).
snap() {
	{
		cat "$MAILCTL_CONFIG"
		sqlite3 "$DB" .dump 2>/dev/null
		cd "$T" && find . -path ./out -prune -o -path ./err -prune -o -printf '%p %m %u:%g\n' | sort
		cat "$T"/etc/postfix/* "$T"/etc/dovecot/* "$T"/tls/* "$T"/keys/* 2>/dev/null
	} | sha256sum
}

# --- bad input first: nothing is written --------------------------------------------
before=$(snap)
while IFS='|' read -r args msg; do
	# shellcheck disable=SC2086
	expect 64 "setup $args" -- mc setup $args
	contains "$T/err" "$msg" "setup $args: message"
	[ "$(snap)" = "$before" ] && pass || fail "setup $args changed something"
done <<'CASES'
--hostname bad_host.example.org --domain example.org|invalid host name 'bad_host.example.org'
--hostname localhost --domain example.org|invalid host name 'localhost'
--hostname mail.example.org --domain exa..mple.org|invalid domain 'exa..mple.org'
--hostname mail.example.org --domain example.org --admin nobody|invalid admin address 'nobody'
--hostname mail.example.org extra|too many arguments
CASES
[ ! -e "$DB" ] && [ ! -e "$T/tls" ] && pass || fail "bad input created files"
expect 64 "new config, bad host" -- mc --config "$T/new.yaml" setup --hostname -bad.example
[ ! -e "$T/new.yaml" ] && pass || fail "bad input wrote a configuration file"

# --- first run ------------------------------------------------------------------------
expect 0 "setup" -- mc setup --hostname mail.example.org --domain example.org --admin admin@example.org
cp "$T/out" "$T/first.out"
contains "$T/out" "using the existing configuration" "an existing config is kept, and said so"
contains "$T/out" "added hostname and admin_address" "missing keys added"
contains "$T/out" "mail.example.org is set up for example.org" "summary"
grep -qx 'hostname: mail.example.org' "$MAILCTL_CONFIG" && pass || fail "hostname not in the config"
grep -q '^  database: ' "$MAILCTL_CONFIG" && pass || fail "the existing config lost its paths"
[ -f "$DB" ] && pass || fail "no database"
expect 0 "domain exists" -- mc domain show example.org
expect 0 "dkim list" -- mc dkim list example.org
contains "$T/out" "example.org" "a DKIM key for example.org"
[ "$(find "$T/keys" -type f | wc -l)" -ge 1 ] && pass || fail "no DKIM key file"
expect 0 "alias postmaster" -- mc alias list example.org
contains "$T/out" "admin@example.org" "postmaster@/abuse@ point at the admin"
[ "$(sqlite3 "$DB" "SELECT admin FROM users WHERE address = 'admin@example.org'")" = 1 ] && pass ||
	fail "admin user missing or not marked admin"
n=$(grep -c 'shown only this once' "$T/first.out")
[ "$n" = 1 ] && pass || fail "password printed $n times"
pw=$(sed -n 's/^password for admin@example.org (shown only this once): //p' "$T/first.out")
hash=$(sqlite3 "$DB" "SELECT password_hash FROM users WHERE address = 'admin@example.org'")
if [ -n "$pw" ] && doveadm pw -t "$hash" -p "$pw" >/dev/null 2>&1; then pass; else
	fail "the printed password does not verify against the stored hash"
fi
grep -qF -- "$pw" "$DB" && fail "the password is in the database in clear" || pass
# TLS
[ "$(stat -c %a "$T/tls/key.pem")" = 600 ] && pass || fail "key mode $(stat -c %a "$T/tls/key.pem")"
[ "$(stat -c %a "$T/tls/cert.pem")" = 644 ] && pass || fail "cert mode $(stat -c %a "$T/tls/cert.pem")"
if openssl x509 -in "$T/tls/cert.pem" -noout -ext subjectAltName >"$T/san" 2>&1; then pass; else
	fail "cert does not parse: $(cat "$T/san")"
fi
contains "$T/san" "DNS:mail.example.org" "SAN is the host name"
openssl x509 -in "$T/tls/cert.pem" -noout -subject -issuer >"$T/names"
[ "$(sed -n 's/^subject=//p' "$T/names")" = "$(sed -n 's/^issuer=//p' "$T/names")" ] && pass ||
	fail "certificate is not self-signed: $(cat "$T/names")"
openssl x509 -in "$T/tls/cert.pem" -noout -checkend $((360 * 86400)) >/dev/null && pass ||
	fail "certificate is valid for less than 360 days"
openssl x509 -in "$T/tls/cert.pem" -noout -text | grep -q 'Signature Algorithm: ecdsa-with-SHA256' &&
	pass || fail "not an ECDSA SHA-256 signature"
cmp -s <(openssl pkey -in "$T/tls/key.pem" -pubout) <(openssl x509 -in "$T/tls/cert.pem" -noout -pubkey) &&
	pass || fail "certificate does not match the key"
# apply
grep -qx 'myhostname = mail.example.org' "$T/etc/postfix/main.cf" && pass ||
	fail "main.cf not rendered with the host name"
for f in postfix/master.cf postfix/sqlite-virtual-mailboxes.cf dovecot/dovecot.conf dovecot/dovecot-sql.conf.ext; do
	[ -s "$T/etc/$f" ] && pass || fail "apply did not write $f"
done
grep -q "$T/db/mailctl.db" "$T/etc/dovecot/dovecot-sql.conf.ext" && pass || fail "dovecot SQL config names another database"
expect 0 "apply after setup" -- mc apply --dry-run
contains "$T/out" "0 of" "setup left nothing for apply to do"

# --- second run: nothing changes -----------------------------------------------------
before=$(snap)
expect 0 "setup again" -- mc setup --hostname mail.example.org --domain example.org --admin admin@example.org
contains "$T/out" "nothing changed" "second run says nothing changed"
grep -q 'shown only this once' "$T/out" && fail "second run printed a password" || pass
[ "$(snap)" = "$before" ] && pass || fail "second run changed files or the database"
expect 0 "setup again, no arguments" -- mc setup
contains "$T/out" "nothing changed: mail.example.org is already set up for example.org" "no-argument run uses the config"
[ "$(snap)" = "$before" ] && pass || fail "no-argument run changed something"
expect 0 "json" -- mc --json setup
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["changes"] == 0 and d["password"] == ""' <"$T/out" &&
	pass || fail "json: $(head -c 300 "$T/out")"

# Contradicting the configuration is refused; nothing changes.
expect 65 "another host name" -- mc setup --hostname mail.other.example
contains "$T/err" "sets hostname 'mail.example.org'" "conflict message"
[ "$(snap)" = "$before" ] && pass || fail "a refused setup changed something"

# An existing key is kept; only the missing certificate is made.
key_sum=$(sha256sum <"$T/tls/key.pem")
rm "$T/tls/cert.pem"
expect 0 "setup remakes a missing certificate" -- mc setup
contains "$T/out" "made a self-signed certificate" "certificate remade"
grep -q "made the TLS key" "$T/out" && fail "the key was remade" || pass
[ "$(sha256sum <"$T/tls/key.pem")" = "$key_sum" ] && pass || fail "the existing key was replaced"
cmp -s <(openssl pkey -in "$T/tls/key.pem" -pubout) <(openssl x509 -in "$T/tls/cert.pem" -noout -pubkey) &&
	pass || fail "new certificate does not match the kept key"
# A certificate without its key is an error, not a silent new key.
mv "$T/tls/key.pem" "$T/key.saved"
expect 65 "certificate without key" -- mc setup
contains "$T/err" "exists but its key" "certificate-without-key message"
[ ! -e "$T/tls/key.pem" ] && pass || fail "a key was made for a foreign certificate"
mv "$T/key.saved" "$T/tls/key.pem"

# --- an external admin: postmaster@ goes there, no mailbox is made --------------------
D2=$T/ext
paths_config "$T/ext.yaml" "$D2"
expect 0 "setup with an outside admin" -- mc --config "$T/ext.yaml" setup --hostname mx.example.net \
	--admin you@elsewhere.example
contains "$T/out" "added domain 'example.net'" "domain derived from the host name"
grep -q 'shown only this once' "$T/out" && fail "a password for an outside admin" || pass
[ "$(sqlite3 "$D2/db/mailctl.db" 'SELECT count(*) FROM users')" = 0 ] && pass || fail "a user was made for an outside admin"

# --- a domain unlike the host name stays the only one on a re-run without --domain -----
D4=$T/other
paths_config "$T/other.yaml" "$D4"
expect 0 "setup, domain unlike the host" -- mc --config "$T/other.yaml" setup --hostname mx.hoster.example \
	--domain example.org
expect 0 "setup again without --domain" -- mc --config "$T/other.yaml" setup
contains "$T/out" "nothing changed: mx.hoster.example is already set up for example.org" "re-run keeps the domain"
[ "$(sqlite3 "$D4/db/mailctl.db" 'SELECT group_concat(name) FROM domains')" = example.org ] && pass ||
	fail "a re-run without --domain added a domain"

# --- no arguments, no public name: the local demo --------------------------------------
D3=$T/demo
paths_config "$T/demo.yaml" "$D3"
# shellcheck disable=SC2016 # expanded by the inner sh
expect 0 "setup demo" -- unshare --uts sh -c 'hostname laptop && exec "$0" --config "$1" setup' \
	"$MAILCTL" "$T/demo.yaml"
contains "$T/out" "local demo" "demo is announced"
contains "$T/out" "mail.example.test is set up for example.test" "demo host and domain"
contains "$T/out" "password for admin@example.test" "demo admin"
done_tests
