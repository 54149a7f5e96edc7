/* The command groups mailctl knows: dispatch and help come from here. */
#include "cli.h"

#include <stddef.h>

const struct command commands[] = {
    {"domain", domain_verbs, "Hosted mail domains."},
    {"user", user_verbs, "Mailbox users: passwords, quotas, enable and disable."},
    {"alias", alias_verbs, "Forwarding addresses and catch-alls."},
    {"dkim", dkim_verbs, "DKIM signing keys and their DNS records."},
    {"dns", dns_verbs, "The DNS records each hosted domain needs, and a live check of them."},
    {"cert", cert_verbs,
     "The TLS certificate: from an ACME CA (Let's Encrypt), kept key, renewal, checks."},
    {"check", check_verbs,
     "Check a saved message as mailctld does: SPF, DKIM, DMARC and the verdict."},
    {"blacklist", blacklist_verbs, "DNS blocklists: is the server listed, do the lists work."},
    {"setup", setup_verbs,
     "One-command setup: config, database, certificate, first domain, apply."},
    {"apply", apply_verbs, "Render templates/ onto the system (Postfix, Dovecot)."},
    {"service", service_verbs,
     "Start, stop and check Dovecot, mailctld, Postfix, nginx and the firewall."},
    {"tui", tui_verbs, "The terminal console, mailtui(8)."},
    {"status", status_verbs,
     "The health of the whole server, one row per check, each with a finding and a fix."},
    {"config", config_verbs, "The configuration file."},
    {"db", db_verbs, "The account database: create, migrate, inspect."},
    {"audit", audit_verbs, "The log of every change made through mailctl."},
    {NULL, NULL, NULL},
};
