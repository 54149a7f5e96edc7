# Runs before every user's own Sieve script, for every delivery (LMTP):
# mail that a filter marked as spam, or that mailctl quarantines (a DMARC
# policy of 'quarantine'), is filed into Junk, which is created if needed.
#   X-Spam: Yes            rspamd
#   X-Spam-Flag: YES       SpamAssassin
#   X-Mailctl-Quarantine   mailctld's milter (any value)
require ["fileinto", "mailbox"];

if anyof (header :is "X-Spam" "Yes",
          header :is "X-Spam-Flag" "YES",
          exists "X-Mailctl-Quarantine") {
  fileinto :create "Junk";
  stop;
}
