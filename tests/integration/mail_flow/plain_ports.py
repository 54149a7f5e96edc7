#!/usr/bin/env python3
"""IMAP 143 and POP3 110 (open when mail.plaintext_ports is true): no
login before STARTTLS, login after it. For mail_flow.sh, run in 'out'.

  plain_ports.py HOST USER PASSWORD CAFILE

Prints "CHECK<TAB>VALUE" lines; socket timeouts keep it bounded.
"""
import imaplib
import poplib
import ssl
import sys

host, user, password, cafile = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=cafile)


def attempt(fn):
    try:
        fn()
        return "ok"
    except (imaplib.IMAP4.error, poplib.error_proto) as e:
        return "refused " + str(e).replace("\n", " ")


imap = imaplib.IMAP4(host, 143, timeout=10)
print("imap STARTTLS offered\t%s" % ("STARTTLS" in imap.capabilities))
print("imap LOGINDISABLED\t%s" % ("LOGINDISABLED" in imap.capabilities))
print("imap login before STARTTLS\t%s" % attempt(lambda: imap.login(user, password)))
imap.starttls(ssl_context=ctx)
print("imap login after STARTTLS\t%s" % attempt(lambda: imap.login(user, password)))
imap.logout()

pop = poplib.POP3(host, 110, timeout=10)
print("pop3 STLS offered\t%s" % ("STLS" in pop.capa()))
print("pop3 login before STLS\t%s" % attempt(lambda: (pop.user(user), pop.pass_(password))))
pop.close()
pop = poplib.POP3(host, 110, timeout=10)
pop.stls(context=ctx)
print("pop3 login after STLS\t%s" % attempt(lambda: (pop.user(user), pop.pass_(password))))
pop.quit()
