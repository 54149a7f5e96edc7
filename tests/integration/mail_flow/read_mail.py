#!/usr/bin/env python3
"""Read a mailbox over IMAPS (993) and POP3S (995), as a mail client does,
for mail_flow.sh (run inside the lab host 'out').

  read_mail.py HOST USER PASSWORD CAFILE MESSAGE...

TLS is verified against CAFILE (the server's self-signed certificate) and
HOST. For each protocol and each MESSAGE file it prints
"PROTO<TAB>match|missing<TAB>FILE": match when a stored message ends with
exactly the bytes of the file (headers and body; line ends as CRLF, which
is how both protocols send them), after the headers the servers
prepended (Return-Path, Delivered-To, Received).
"""
import imaplib
import poplib
import ssl
import sys

host, user, password, cafile = sys.argv[1:5]
wanted = {}
for path in sys.argv[5:]:
    with open(path, "rb") as f:
        wanted[path] = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def report(proto, stored):
    print("%s\tcount\t%d" % (proto, len(stored)))
    for path, data in wanted.items():
        hit = any(m.endswith(data) for m in stored)
        print("%s\t%s\t%s" % (proto, "match" if hit else "missing", path), flush=True)


ctx = ssl.create_default_context(cafile=cafile)

imap = imaplib.IMAP4_SSL(host, 993, ssl_context=ctx, timeout=10)
print("imap\ttls\t%s" % imap.sock.version())
imap.login(user, password)
imap.select("INBOX", readonly=True)
typ, data = imap.search(None, "ALL")
stored = []
for num in data[0].split():
    typ, parts = imap.fetch(num, "(BODY.PEEK[])")
    stored.append(parts[0][1])
imap.logout()
report("imap", stored)

pop = poplib.POP3_SSL(host, 995, context=ctx, timeout=10)
print("pop3\ttls\t%s" % pop.sock.version())
pop.user(user)
pop.pass_(password)
count, _ = pop.stat()
stored = []
for i in range(1, count + 1):
    resp, lines, octets = pop.retr(i)
    stored.append(b"\r\n".join(lines) + b"\r\n")
pop.quit()
report("pop3", stored)
