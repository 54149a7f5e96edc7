#!/bin/bash
# DKIM keys end to end through the real mailctl binary on a private
# instance (tests/lib.sh): domain add makes a key, dkim keygen/list/show,
# refused requests that change nothing, and a peer check: dkimpy (Debian
# python3-dkim, another implementation) signs a message with our private
# key file and verifies it against the TXT record we print, for RSA and
# Ed25519; with one character of p= changed, verification must fail.
source "$MAILCTL_SRC/tests/lib.sh"
# Every assertion counts its own failure; go on after one so that a run
# reports all of them (done_tests sets the exit status).
set +e

# Debian's python, where python3-dkim installs; not a pyenv or venv one.
PY=/usr/bin/python3
for tool in sqlite3 openssl ldns-read-zone sha256sum "$PY"; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: '$tool' is not installed (sqlite3, openssl, ldnsutils, python3)" >&2
		exit 1
	fi
done
if ! "$PY" -c 'import dkim, nacl' 2>/dev/null; then
	echo "FAIL: python3-dkim is not installed (apt-get install python3-dkim)" >&2
	exit 1
fi

DB="$T/mailctl.db"
KEYS="$T/keys"
MONTH=s$(date -u +%Y%m)

eq() {
	if [ "$1" == "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}

# jcheck DESCRIPTION PYEXPR [ARG...]: the last stdout is JSON and PYEXPR
# (document 'd', arguments 'a') is true.
jcheck() {
	local desc=$1 expr=$2 res
	shift 2
	if res=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
a = sys.argv[3:]
if not eval("(" + sys.argv[2] + "\n)"):
    print("false for: " + json.dumps(d)[:600])
    sys.exit(1)
' "$T/out" "$expr" "$@" 2>&1); then pass; else fail "$desc: $expr: $res"; fi
}

sql() { sqlite3 "$DB" "$1"; }

# The key directory as a whole: names, modes and contents.
keystate() { (cd "$KEYS" && stat -c '%n %a %U' -- * 2>/dev/null && cat -- * 2>/dev/null) | sha256sum | cut -d' ' -f1; }

# refused CODE MESSAGE DESCRIPTION -- command...: fails with CODE and
# MESSAGE, and neither the database nor the key directory changes.
refused() {
	local code=$1 msg=$2 desc=$3 db keys
	shift 3
	db=$(dbhash)
	keys=$(keystate)
	if expect "$code" "$desc" "$@"; then contains "$T/err" "$msg" "$desc"; fi
	if [ -s "$T/out" ]; then fail "$desc: printed on stdout: $(head -c 200 "$T/out")"; else pass; fi
	eq "$(dbhash)" "$db" "$desc: database unchanged"
	eq "$(keystate)" "$keys" "$desc: key directory unchanged"
}

mc_setup

# --- domain add makes an active RSA-2048 key -------------------------------

start=$(date +%s%N)
expect 0 "domain add" -- mc --json domain add example.org &&
	jcheck "domain add names its key" 'd["dkim_selector"] == a[0] and "dkim show" in d["message"]' "$MONTH"
echo "domain add took $((($(date +%s%N) - start) / 1000000)) ms"
expect 0 "dkim list" -- mc --json dkim list &&
	jcheck "the key of domain add" '[(x["domain"], x["selector"], x["algorithm"], x["bits"], x["state"]) for x in d] == [("example.org", a[0], "rsa", 2048, "active")]' "$MONTH"
RSA_FILE="$KEYS/$MONTH._domainkey.example.org.pem"
eq "$(stat -c %a "$RSA_FILE" 2>&1)" 600 "key file mode"
eq "$(sql "SELECT key_file FROM dkim_keys")" "$RSA_FILE" "key file recorded"
if openssl pkey -in "$RSA_FILE" -noout 2>"$T/ossl"; then pass; else fail "openssl cannot read '$RSA_FILE': $(head -c 200 "$T/ossl")"; fi
head -n 1 "$RSA_FILE" | grep -qx -- '-----BEGIN PRIVATE KEY-----' && pass || fail "the key file is not PKCS#8 PEM"
eq "$(sql "SELECT count(*) FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.org'")" 1 "one key row"
eq "$(sql "SELECT action || ' ' || subject FROM audit_log WHERE action LIKE 'dkim.%'")" "dkim.keygen example.org" "keygen audited"
# The public key in the database is the private key's.
eq "$(openssl pkey -in "$RSA_FILE" -pubout -outform DER 2>/dev/null | base64 -w0)" \
	"$(sql "SELECT public_key FROM dkim_keys")" "p= is the SPKI of the key file"

# --- dkim keygen ---------------------------------------------------------------

expect 0 "dkim keygen ed25519" -- mc --json dkim keygen example.org --algorithm ed25519 &&
	jcheck "ed25519 key" 'd["algorithm"] == "ed25519" and d["bits"] == 256 and d["state"] == "active" and d["selector"] == a[0] + "b" and d["value"].startswith("v=DKIM1; k=ed25519; p=")' "$MONTH"
ED_SEL=${MONTH}b
ED_FILE="$KEYS/$ED_SEL._domainkey.example.org.pem"
eq "$(stat -c %a "$ED_FILE" 2>&1)" 600 "ed25519 key file mode"
if openssl pkey -in "$ED_FILE" -noout 2>"$T/ossl"; then pass; else fail "openssl cannot read '$ED_FILE': $(head -c 200 "$T/ossl")"; fi
# RFC 8463: p= is the raw 32-byte key, the last 32 bytes of the SPKI.
eq "$(openssl pkey -in "$ED_FILE" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)" \
	"$(sql "SELECT public_key FROM dkim_keys WHERE selector = '$ED_SEL'")" "ed25519 p= is the raw key"

expect 0 "a second rsa key" -- mc dkim keygen example.org --bits 3072 &&
	contains "$T/out" "made rsa-3072 DKIM key '${MONTH}c' of 'example.org', published" "second rsa key message"
expect 0 "--selector, in capitals" -- mc --json dkim keygen example.org --selector Rot.2027 --algorithm RSA &&
	jcheck "selector lowercased" 'd["selector"] == "rot.2027" and d["state"] == "published"'
expect 0 "dkim list" -- mc dkim list &&
	eq "$(head -n 1 "$T/out" | xargs)" "DOMAIN SELECTOR ALGORITHM BITS STATE CREATED" "list header"
eq "$(awk 'NR > 1 { print $2, $3, $4, $5 }' "$T/out" | xargs)" \
	"$MONTH rsa 2048 active $ED_SEL ed25519 256 active ${MONTH}c rsa 3072 published rot.2027 rsa 2048 published" "list rows"
expect 0 "domain add example.net" -- mc domain add example.net
expect 0 "dkim list DOMAIN" -- mc --json dkim list EXAMPLE.NET &&
	jcheck "one domain" '[(x["domain"], x["selector"]) for x in d] == [("example.net", a[0])]' "$MONTH"
expect 0 "dkim list of all" -- mc --json dkim list &&
	jcheck "all domains" 'len(d) == 5 and all(set(x) == {"domain", "selector", "algorithm", "bits", "state", "created"} for x in d)'

# --- dkim show -----------------------------------------------------------------

expect 0 "dkim show" -- mc dkim show example.org
contains "$T/out" "name:      $MONTH._domainkey.example.org" "show: the record name"
contains "$T/out" "value:     v=DKIM1; k=rsa; p=MII" "show: the value, unsplit"
contains "$T/out" "zone:      $MONTH._domainkey.example.org."$'\t'"3600"$'\t'"IN"$'\t'"TXT"$'\t'"\"v=DKIM1; k=rsa; p=MII" "show: the zone line"
expect 0 "dkim show --json" -- mc --json dkim show example.org &&
	jcheck "show json" '
d["name"] == a[0] + "._domainkey.example.org" and d["selector"] == a[0] and
d["zone"].startswith(d["name"] + ".\t3600\tIN\tTXT\t\"") and d["zone"].endswith("\"") and
"".join(__import__("re").findall(r"\"([^\"]*)\"", d["zone"])) == d["value"] and
all(len(s) <= 255 for s in __import__("re").findall(r"\"([^\"]*)\"", d["zone"])) and
len(__import__("re").findall(r"\"([^\"]*)\"", d["zone"])) == 2 and
"-----" not in json.dumps(d)' "$MONTH"
cp "$T/out" "$T/show-rsa.json"
expect 0 "dkim show --selector" -- mc --json dkim show example.org --selector "$ED_SEL" &&
	jcheck "ed25519 record" 'd["algorithm"] == "ed25519" and d["value"] == "v=DKIM1; k=ed25519; p=" + a[0] and d["zone"] == d["name"] + ".\t3600\tIN\tTXT\t\"" + d["value"] + "\""' \
		"$(sql "SELECT public_key FROM dkim_keys WHERE selector = '$ED_SEL'")"
cp "$T/out" "$T/show-ed.json"
expect 0 "dkim show of a 3072-bit key" -- mc --json dkim show example.org --selector "${MONTH}C" &&
	jcheck "3072: three strings" 'len(__import__("re").findall(r"\"([^\"]*)\"", d["zone"])) == 3'

# The zone line is zone-file syntax: ldns reads it back to the same value.
{
	echo '$ORIGIN example.org.'
	echo '$TTL 3600'
	echo '@ IN SOA ns.example.org. hostmaster.example.org. 1 7200 3600 1209600 3600'
	echo '@ IN NS ns.example.org.'
	for f in "$T/show-rsa.json" "$T/show-ed.json"; do "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["zone"])' "$f"; done
} >"$T/zone"
if ldns-read-zone "$T/zone" >"$T/zone.out" 2>"$T/zone.err"; then pass; else fail "ldns-read-zone rejects our zone lines: $(head -c 300 "$T/zone.err")"; fi
for f in "$T/show-rsa.json" "$T/show-ed.json"; do
	if "$PY" - "$f" "$T/zone.out" <<'PY'; then pass; else fail "ldns-read-zone reads a different TXT value for $f"; fi
import json, re, sys
d = json.load(open(sys.argv[1]))
for line in open(sys.argv[2]):
    f = line.split(None, 4)
    if len(f) == 5 and f[0] == d["name"] + "." and f[3] == "TXT":
        sys.exit(0 if "".join(re.findall(r'"([^"]*)"', f[4])) == d["value"] else 1)
sys.exit(1)
PY
done

# --- the peer check: dkimpy signs with our key, verifies with our record --------

# peer JSON KEYFILE DESCRIPTION: sign with KEYFILE and verify against the
# record in JSON (as dkim show prints it): both the unsplit value and the
# strings of the zone line joined, as a resolver returns them. Then with
# one character of p= changed, verification must fail.
peer() {
	local res
	if res=$("$PY" - "$1" "$2" 2>&1 <<'PY'
import base64, json, re, sys
import dkim

d = json.load(open(sys.argv[1]))
pem = open(sys.argv[2], "rb").read()
if d["algorithm"] == "ed25519":
    # dkimpy takes the base64 of the raw 32-byte seed; ours is PKCS#8
    # (RFC 8410): a fixed 16-byte prefix, then the seed.
    der = base64.b64decode(b"".join(l for l in pem.splitlines() if not l.startswith(b"-----")))
    assert der[:16] == bytes.fromhex("302e020100300506032b657004220420"), der[:16].hex()
    key, alg = base64.b64encode(der[16:]), b"ed25519-sha256"
else:
    key, alg = pem, b"rsa-sha256"
msg = (b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
       b"Subject: peer check\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       b"Message-ID: <peer@example.org>\r\n\r\nHello from mailctl.\r\n")
signed = dkim.sign(msg, d["selector"].encode(), d["domain"].encode(), key,
                   signature_algorithm=alg) + msg
assert b"a=" + alg in signed, signed[:300]
name = d["name"].encode()

def verify(txt):
    def dnsfunc(qname, timeout=5):
        return txt.encode() if qname.rstrip(b".") == name else None
    return dkim.verify(signed, dnsfunc=dnsfunc)

joined = "".join(re.findall(r'"([^"]*)"', d["zone"]))
assert verify(d["value"]), "dkimpy rejects the signature with our record"
assert verify(joined), "dkimpy rejects the signature with the zone line's strings"
p = d["value"].index("p=") + 2
i = p + (len(d["value"]) - p) // 2
bad = d["value"][:i] + ("B" if d["value"][i] != "B" else "C") + d["value"][i + 1:]
assert not verify(bad), "dkimpy accepts a record with p= changed"
PY
	); then pass; else fail "$3: $res"; fi
}
peer "$T/show-rsa.json" "$RSA_FILE" "peer check, rsa-sha256"
peer "$T/show-ed.json" "$ED_FILE" "peer check, ed25519-sha256"

# --- refused requests change nothing ----------------------------------------------

refused 68 "domain 'nowhere.example' does not exist" "keygen for an unknown domain" -- mc dkim keygen nowhere.example
refused 68 "domain 'nowhere.example' does not exist" "list of an unknown domain" -- mc dkim list nowhere.example
refused 68 "domain 'nowhere.example' does not exist" "show of an unknown domain" -- mc dkim show nowhere.example
refused 65 "invalid selector 'bad_sel'" "bad selector" -- mc dkim keygen example.org --selector bad_sel
refused 65 "invalid selector 'a..b'" "empty label" -- mc dkim keygen example.org --selector a..b
refused 65 "invalid selector '-x'" "leading hyphen" -- mc dkim keygen example.org --selector=-x
refused 65 "invalid selector ''" "empty selector" -- mc dkim keygen example.org --selector ''
refused 65 "unsupported rsa key size 1000" "--bits 1000" -- mc dkim keygen example.org --bits 1000
refused 65 "use 2048, 3072 or 4096" "--bits 1024" -- mc dkim keygen example.org --bits 1024
refused 65 "always 256 bits" "--bits with ed25519" -- mc dkim keygen example.org --algorithm ed25519 --bits 2048
refused 65 "unknown DKIM algorithm 'dsa'" "--algorithm dsa" -- mc dkim keygen example.org --algorithm dsa
refused 65 "already has a DKIM key with selector '$ED_SEL'" "selector taken" -- mc dkim keygen example.org --selector "$ED_SEL"
refused 65 "no DKIM key with selector 'nope'" "show of an unknown selector" -- mc dkim show example.org --selector nope
refused 64 "invalid --bits 'abc'" "--bits abc" -- mc dkim keygen example.org --bits abc
refused 64 "unknown option '--bits'" "--bits on show" -- mc dkim show example.org --bits 2048
refused 64 "missing argument" "keygen without a domain" -- mc dkim keygen
refused 64 "too many arguments" "list of two domains" -- mc dkim list example.org example.net
refused 64 "option '--selector' needs a value" "--selector without a value" -- mc dkim keygen example.org --selector

# --- domain del deletes the domain's keys, and says so ---------------------------

expect 0 "domain add gone.example" -- mc domain add gone.example
expect 0 "a second key of gone.example" -- mc dkim keygen gone.example --algorithm ed25519
gone=$(sql "SELECT key_file FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'gone.example'")
eq "$(wc -l <<<"$gone")" 2 "gone.example has two keys"
expect 0 "domain del" -- mc domain del gone.example &&
	contains "$T/out" "its 2 DKIM key(s) were deleted" "domain del message"
for f in $gone; do [ ! -e "$f" ] && pass || fail "domain del left the key file '$f'"; done
eq "$(sql "SELECT count(*) FROM dkim_keys k LEFT JOIN domains d ON d.id = k.domain_id WHERE d.id IS NULL")" 0 "no orphan key rows"
[ -e "$RSA_FILE" ] && [ -e "$ED_FILE" ] && pass || fail "domain del of another domain took example.org's keys"

done_tests
