# tests/cli/dns.sh - 'mailctl dns records': golden output in every format,
# a zone that two independent parsers accept, and its errors.
source "$MAILCTL_SRC/tests/lib.sh"
for tool in sqlite3 ldns-read-zone kzonecheck python3; do
	command -v "$tool" >/dev/null || { fail "'$tool' is not installed"; done_tests; exit 1; }
done
golden="$MAILCTL_SRC/tests/cli/golden"

mc_setup "network:" "  ipv4: 192.0.2.10" "  ipv6: 2001:db8::10"
mc domain add example.org >/dev/null
mc domain add example.net --admin hostmaster@elsewhere.example >/dev/null
mc dkim keygen example.org --algorithm ed25519 --selector ed1 >/dev/null
# Keys are random: give the test keys fixed selectors and public keys so the
# output can be compared byte for byte.
RSA_P="MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwMlYk3mX0Ccqsl9eKhZ1PCLJm7pxp4FyA5nq3bD9I5q1bFhL0ggC6V3rCkzqVY9W4i5nSyfqvcOHzsCGQwIDAQABrUJ8E4qT7Q1EC1b3T8bmwV4z8u8Ufh2a7aXKhYJgq4JxlGkC2P5Qp7hE3l5Q9pM6pXqLJxE1QpQ7L0iNfzPz0y9m3HT0xYy3NKf9d2k3s4hM3T2aD6H5i2c4y0B3iQ0Vb8gk6YdQ6ZbJj8wQh2Gx8zJQ4t5nK3xqFzwV8m3iL2J3aS2xZc9l4p2r7T8yQ3uB6cE1mN9vK0wIDAQAB"
sqlite3 "$T/mailctl.db" "UPDATE dkim_keys SET selector = 'rsa1', public_key = '$RSA_P' WHERE algorithm = 'rsa';
UPDATE dkim_keys SET public_key = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' WHERE algorithm = 'ed25519';"

# check_golden NAME ARGS...: output equals tests/cli/golden/NAME
check_golden() {
	local name=$1
	shift
	expect 0 "dns records $*" -- mc dns records "$@" || return
	if [ -n "${MAILCTL_UPDATE_GOLDEN:-}" ]; then cp "$T/out" "$golden/$name"; fi
	if diff -u "$golden/$name" "$T/out" >"$T/diff"; then pass; else
		fail "dns records $* differs from $name: $(head -c 600 "$T/diff")"
	fi
}
check_golden dns_records.zone
check_golden dns_records_org.zone example.org
check_golden dns_records_org.table example.org --format table
check_golden dns_records_org.json example.org --format json
expect 0 "--json is --format json" -- mc --json dns records example.org
diff -q "$golden/dns_records_org.json" "$T/out" >/dev/null && pass || fail "--json differs from --format json"

# The zone output, with an SOA and NS as a real zone has, loads in both
# ldns and Knot's checker; PTR lines are comments (they belong to the
# provider's reverse zone).
mc dns records example.org >"$T/records"
{
	printf '$ORIGIN example.org.\n$TTL 3600\n'
	printf '@ IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 3600\n'
	printf '@ IN NS ns1.example.org.\nns1 IN A 192.0.2.53\n'
	cat "$T/records"
} >"$T/example.org.zone"
if ldns-read-zone "$T/example.org.zone" >"$T/ldns.out" 2>"$T/ldns.err"; then pass; else fail "ldns-read-zone: $(head -c 300 "$T/ldns.err")"; fi
if kzonecheck -o example.org "$T/example.org.zone" >"$T/knot.out" 2>&1; then pass; else fail "kzonecheck: $(head -c 300 "$T/knot.out")"; fi
# ldns reads the DKIM record back to the very value we store
joined=$(grep 'rsa1._domainkey' "$T/ldns.out" | sed 's/.*TXT\t//; s/" "//g; s/"//g')
[ "$joined" = "v=DKIM1; k=rsa; p=$RSA_P" ] && pass || fail "DKIM TXT read back as '$joined'"

# With two domains the mail host's own records appear once.
n=$(mc dns records | grep -c $'^mail.example.org.\t3600\tIN\tA\t')
[ "$n" = 1 ] && pass || fail "mail host A record printed $n times"
expect 0 "json of all domains" -- mc --json dns records
python3 - "$T/out" <<'PY' && pass || fail "json records lack fields or domains"
import json, sys
d = json.load(open(sys.argv[1]))
names = {r["name"] for r in d}
assert {"example.org.", "example.net.", "_dmarc.example.net.", "ed1._domainkey.example.org."} <= names
assert all(set(r) == {"name", "type", "ttl", "value", "purpose", "provider"} for r in d)
assert any(r["type"] == "PTR" and r["provider"] for r in d)
PY

# DANE: once the TLS key exists, TLSA 3 1 1 carries the SHA-256 of its
# public key, as OpenSSL computes it independently.
mkdir -p "$T/tls"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/tls/key.pem" 2>/dev/null
want=$(openssl pkey -in "$T/tls/key.pem" -pubout -outform DER | sha256sum | cut -d' ' -f1)
expect 0 "dns records with a TLS key" -- mc dns records example.org
contains "$T/out" "_25._tcp.mail.example.org."$'\t'"3600"$'\t'"IN"$'\t'"TLSA"$'\t'"3 1 1 $want" "TLSA 3 1 1 of the key"
rm -f "$T/tls/key.pem"

# Errors: unknown domain, bad format, no usable host name or address.
expect 68 "unknown domain" -- mc dns records nowhere.example
contains "$T/err" "domain 'nowhere.example' does not exist" "unknown domain message"
expect 64 "bad format" -- mc dns records --format xml
contains "$T/err" "invalid --format 'xml'" "bad format message"
sed 's/^hostname: .*/hostname: ""/' "$MAILCTL_CONFIG" >"$T/nohost.yaml"
if hostname | grep -q '\.'; then pass; else
	expect 78 "no FQDN" -- mc --config "$T/nohost.yaml" dns records
	contains "$T/err" "set 'hostname'" "no FQDN message"
fi

# dns check: errors caught before any query is sent (the live check runs
# against real servers in tests/integration/dns_check.sh).
expect 64 "check: bad --resolver" -- mc dns check example.org --resolver nonsense
contains "$T/err" "invalid --resolver 'nonsense'" "bad --resolver message"
expect 64 "check: port 0" -- mc dns check example.org --resolver 192.0.2.53:0
expect 68 "check: unknown domain" -- mc dns check nowhere.example --resolver 192.0.2.53
contains "$T/err" "domain 'nowhere.example' does not exist" "check unknown domain message"
{ cat "$MAILCTL_CONFIG"; printf 'dns:\n  resolver: "ns.example.org"\n'; } >"$T/badresolver.yaml"
expect 78 "check: bad dns.resolver" -- mc --config "$T/badresolver.yaml" dns check example.org
contains "$T/err" "key 'dns.resolver': invalid address 'ns.example.org'" "bad dns.resolver message"
expect 0 "check -h" -- mc dns check -h
contains "$T/out" "--resolver ADDR[:PORT]" "check -h lists --resolver"

# Once an ACME account exists at acme.directory, CAA names it (RFC 8657);
# an account at another CA changes nothing.
grep -q 'accounturi' <(mc dns records example.org) && fail "accounturi before any account" || pass
dir=$(mc --json config show | python3 -c 'import json,sys; print(next(r["value"] for r in json.load(sys.stdin) if r["key"] == "acme.directory"))')
sqlite3 "$T/mailctl.db" "INSERT INTO acme_accounts (directory, url, key_file) VALUES
	('https://other.example/dir', 'https://other.example/acct/9', '/nonexistent'),
	('$dir', 'https://acme.example/acct/42', '/nonexistent')"
expect 0 "records with an ACME account" -- mc dns records example.org
contains "$T/out" 'CAA	0 issue "letsencrypt.org; accounturi=https://acme.example/acct/42"' "CAA names the account"
grep -q 'other.example' "$T/out" && fail "the other CA's account leaked into CAA" || pass
grep -v '^;' "$T/out" >"$T/acct.zone"
LDNS_OUT=$(ldns-read-zone "$T/acct.zone" 2>&1 >/dev/null) || LDNS_OUT="failed: $LDNS_OUT"
[ -z "$LDNS_OUT" ] && pass || fail "ldns-read-zone on the records with accounturi: $LDNS_OUT"
done_tests
