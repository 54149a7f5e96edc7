#!/usr/bin/python3
"""DKIM peers for tests/conformance/test_dkim_interop.c: dkimpy and OpenDKIM.

Keys never come from DNS. A keys file holds one record a line,
"<selector>._domainkey.<domain> <TXT value>" - the format of OpenDKIM's
TestPublicKeys, which dkimpy gets through its dnsfunc argument.

  peer.py check
      exit 0 when dkimpy (python3-dkim, with PyNaCl) and OpenDKIM
      (opendkim) are usable, else print what is missing and exit 3.
  peer.py dkimpy-sign KEY.pem DOMAIN SELECTOR CANON HEADERS [length] <MSG
      sign with dkimpy; HEADERS is "from:to:to:subject" (a name twice
      signs two instances), CANON "relaxed/simple"; "length" adds l=.
  peer.py opendkim-sign KEY.pem DOMAIN SELECTOR CANON [OVERSIGN] <MSG
      sign with opendkim in test mode (-t); OVERSIGN is "from,to".
  peer.py dkimpy-verify KEYS FILE...
  peer.py opendkim-verify KEYS FILE...
      one line per FILE: "pass", "fail <why>" or "none[: <why>]" (no
      verdict: no signature, or a message the peer would not take).
      dkimpy says pass when every signature passes; OpenDKIM reports on
      the signature it picks.

Signing writes the signed message (the new field first, then the input
unchanged) to stdout. Every exit but 0 is an error the test reports, with
the reason on stderr. Each opendkim run is bounded by a timeout.
"""
import base64
import os
import re
import subprocess
import sys
import tempfile

OPENDKIM = "/usr/sbin/opendkim"
TIMEOUT = 60
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def die(msg, code=2):
    sys.stderr.write("peer.py: %s\n" % msg)
    sys.exit(code)


def check():
    missing = []
    try:
        import dkim  # noqa: F401
    except ImportError:
        missing.append("python3-dkim (dkimpy) for %s" % sys.executable)
    try:
        import nacl.signing  # noqa: F401
    except ImportError:
        missing.append("python3-nacl (dkimpy's ed25519)")
    if not os.access(OPENDKIM, os.X_OK):
        missing.append("opendkim (%s)" % OPENDKIM)
    if missing:
        die("missing Debian packages: " + ", ".join(missing), 3)


def line_end(msg):
    """The message's own line end, which a new field must use too."""
    return b"\r\n" if re.match(rb"[^\n]*\r\n", msg) else b"\n"


def read_keys(path):
    keys = {}
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if line:
                name, _, value = line.partition(b" ")
                keys[name.lower().rstrip(b".")] = value
    return keys


def pem_der(path):
    with open(path, "rb") as f:
        pem = f.read()
    m = re.search(b"-----BEGIN PRIVATE KEY-----(.*?)-----END PRIVATE KEY-----", pem, re.S)
    if not m:
        die("%s: no PKCS#8 private key" % path)
    return pem, base64.b64decode(m.group(1))


def dkimpy_sign(args):
    import dkim

    if len(args) not in (5, 6):
        die("usage: dkimpy-sign KEY DOMAIN SELECTOR CANON HEADERS [length]")
    keyfile, domain, selector, canon, headers = args[:5]
    pem, der = pem_der(keyfile)
    if der.startswith(ED25519_PKCS8_PREFIX) and len(der) == 48:
        alg, key = b"ed25519-sha256", base64.b64encode(der[16:])
    else:
        alg, key = b"rsa-sha256", pem
    msg = sys.stdin.buffer.read()
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                    canonicalize=tuple(c.encode() for c in canon.split("/")),
                    include_headers=[h.encode() for h in headers.split(":")],
                    length=len(args) == 6 and args[5] == "length",
                    signature_algorithm=alg)
    if not sig:
        die("dkimpy signed nothing")
    sys.stdout.buffer.write(sig.replace(b"\r\n", line_end(msg)) + msg)


def dkimpy_verify(args):
    import logging
    import dkim

    if len(args) < 2:
        die("usage: dkimpy-verify KEYS FILE...")
    keys = read_keys(args[0])

    def dnsfunc(name, timeout=5):
        return keys.get(name.lower().rstrip(b"."))

    class Last(logging.Handler):
        text = ""

        def emit(self, record):
            Last.text = record.getMessage().replace("\n", " ")

    log = logging.getLogger("peer-dkimpy")
    log.propagate = False
    log.addHandler(Last(logging.ERROR))  # dkimpy's debug lines are no reasons
    log.setLevel(logging.ERROR)
    for path in args[1:]:
        with open(path, "rb") as f:
            msg = f.read()
        d = dkim.DKIM(msg, logger=log, minkey=1024, timeout=5)
        n = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
        verdict = "none" if n == 0 else "pass"
        for idx in range(n):
            Last.text = ""
            try:
                ok = d.verify(idx=idx, dnsfunc=dnsfunc)
            except dkim.DKIMException as e:
                ok, Last.text = False, str(e)
            if not ok:
                verdict = "fail sig %d: %s" % (idx, Last.text or "signature did not verify")
                break
        print(verdict)


def opendkim_run(conf_lines, files, tmp):
    conf = os.path.join(tmp, "opendkim.conf")
    with open(conf, "w") as f:
        f.write("\n".join(conf_lines + ["Syslog no", "RequireSafeKeys no",
                                        "AuthservID peer.test"]) + "\n")
    try:
        r = subprocess.run([OPENDKIM, "-x", conf, "-t", ",".join(files)],
                           capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        die("opendkim took more than %d s" % TIMEOUT)
    if r.returncode != 0:
        die("opendkim exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


def opendkim_sign(args):
    if len(args) not in (4, 5):
        die("usage: opendkim-sign KEY DOMAIN SELECTOR CANON [OVERSIGN]")
    keyfile, domain, selector, canon = args[:4]
    _, der = pem_der(keyfile)
    ed = der.startswith(ED25519_PKCS8_PREFIX) and len(der) == 48
    msg = sys.stdin.buffer.read()
    with tempfile.TemporaryDirectory(prefix="peer-opendkim.") as tmp:
        path = os.path.join(tmp, "message")
        with open(path, "wb") as f:
            f.write(msg)
        conf = ["Mode s", "Domain " + domain, "Selector " + selector,
                "KeyFile " + os.path.abspath(keyfile), "Canonicalization " + canon,
                "SignatureAlgorithm " + ("ed25519-sha256" if ed else "rsa-sha256")]
        if len(args) == 5:
            conf.append("OversignHeaders " + args[4])
        out = opendkim_run(conf, [path], tmp)
    m = re.search(r"^(DKIM-Signature: .*?)\r?\n(?![ \t])", out, re.S | re.M)
    if not m:
        die("opendkim added no DKIM-Signature: %r" % out)
    eol = line_end(msg)
    sys.stdout.buffer.write(m.group(1).encode().replace(b"\r\n", eol) + eol + msg)


def opendkim_verify(args):
    if len(args) < 2:
        die("usage: opendkim-verify KEYS FILE...")
    files = [os.path.abspath(p) for p in args[1:]]
    with tempfile.TemporaryDirectory(prefix="peer-opendkim.") as tmp:
        out = opendkim_run(["Mode v", "TestPublicKeys " + os.path.abspath(args[0])], files, tmp)
    verdicts, notes = {}, {}
    for line in out.splitlines():
        m = re.match(r"opendkim: (.*?): verification \((.*)\) (succeeded|failed)(.*)", line)
        if m and m.group(1) not in verdicts:
            ok = m.group(3) == "succeeded"
            verdicts[m.group(1)] = "pass" if ok else "fail (%s)%s" % (m.group(2), m.group(4))
        m = re.match(r"opendkim: (.*?): (.*)", line)
        if m:
            notes[m.group(1)] = m.group(2)
    for path in files:
        print(verdicts.get(path, "none" + (": " + notes[path] if path in notes else "")))


COMMANDS = {
    "dkimpy-sign": dkimpy_sign,
    "dkimpy-verify": dkimpy_verify,
    "opendkim-sign": opendkim_sign,
    "opendkim-verify": opendkim_verify,
}

if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        check()
    elif len(sys.argv) >= 2 and sys.argv[1] in COMMANDS:
        check()
        COMMANDS[sys.argv[1]](sys.argv[2:])
    else:
        die("usage: peer.py check|%s ..." % "|".join(COMMANDS))
