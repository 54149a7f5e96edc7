#!/usr/bin/env python3
"""SMTP probes for mail_flow.sh, run inside the lab host 'out'.

  smtp_probe.py relay HOST      the open-relay battery on port 25: one
                                connection per attempt, no AUTH; prints
                                "CASE<TAB>CODE<TAB>TEXT" for the RCPT reply
  smtp_probe.py cleartext HOST  is AUTH offered on port 25 (before and
                                after STARTTLS) and on 587 before STARTTLS;
                                what AUTH and MAIL get there on 587

Commands are sent raw (docmd), never through smtplib's address quoting,
which would rewrite the very addresses under test. Every socket has a
timeout: a hung server is a failure, not a hung test.
"""
import base64
import smtplib
import ssl
import sys

TIMEOUT = 10
EXTERNAL = "someone@elsewhere.example"

# (case, MAIL FROM, RCPT TO): every one must be refused (5xx).
RELAY_CASES = [
    ("external recipient", "sender@out.test", EXTERNAL),
    ("external, null sender", "", EXTERNAL),
    ("external, sender in a hosted domain", "alice@example.org", EXTERNAL),
    ("external, sender is the host", "postmaster@mail.example.org", EXTERNAL),
    ("percent hack via hosted domain", "sender@out.test", "someone%elsewhere.example@example.org"),
    ("percent hack via host name", "sender@out.test", "someone%elsewhere.example@mail.example.org"),
    ("percent hack via [IP]", "sender@out.test", "someone%elsewhere.example@[192.0.2.10]"),
    ("bang path via hosted domain", "sender@out.test", "elsewhere.example!someone@example.org"),
    ("bang path via host name", "sender@out.test", "elsewhere.example!someone@mail.example.org"),
    ("bare bang path", "sender@out.test", "elsewhere.example!someone"),
    ("quoted @ via hosted domain", "sender@out.test", '"someone@elsewhere.example"@example.org'),
    ("quoted @ via host name", "sender@out.test", '"someone@elsewhere.example"@mail.example.org'),
    ("source route via hosted domain", "sender@out.test", "@example.org:someone@elsewhere.example"),
    ("source route via host name", "sender@out.test", "@mail.example.org:someone@elsewhere.example"),
    ("external [IP] literal", "sender@out.test", "someone@[198.51.100.1]"),
    ("external, trailing dot", "sender@out.test", "someone@elsewhere.example."),
]


def connect(host, port):
    s = smtplib.SMTP(host, port, local_hostname="out.test", timeout=TIMEOUT)
    s.ehlo()
    return s


def one_line(text):
    return text.decode(errors="replace").replace("\n", " ")


def relay(host):
    for case, sender, rcpt in RELAY_CASES:
        try:
            s = connect(host, 25)
            code, text = s.docmd("MAIL FROM:<%s>" % sender)
            if code == 250:
                code, text = s.docmd("RCPT TO:<%s>" % rcpt)
            s.docmd("QUIT")
            s.close()
        except (OSError, smtplib.SMTPException) as e:
            code, text = 0, str(e).encode()
        print("%s\t%d\t%s" % (case, code, one_line(text)), flush=True)


def cleartext(host):
    s = connect(host, 25)
    print("25 offers AUTH\t%s" % s.has_extn("auth"))
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo()
    print("25 offers AUTH after STARTTLS\t%s" % s.has_extn("auth"))
    s.quit()
    s = connect(host, 587)
    print("587 offers AUTH before STARTTLS\t%s" % s.has_extn("auth"))
    print("587 offers STARTTLS\t%s" % s.has_extn("starttls"))
    plain = base64.b64encode(b"\0alice@example.org\0not-the-password").decode()
    code, text = s.docmd("AUTH PLAIN " + plain)
    print("587 AUTH before STARTTLS\t%d\t%s" % (code, one_line(text)))
    code, text = s.docmd("MAIL FROM:<alice@example.org>")
    print("587 MAIL before STARTTLS\t%d\t%s" % (code, one_line(text)))
    s.close()


if __name__ == "__main__":
    {"relay": relay, "cleartext": cleartext}[sys.argv[1]](sys.argv[2])
