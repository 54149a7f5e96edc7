/* Schema migrations for the SQLite store; see store_schema.h. */
#include "store_schema.h"

#define NOW "(strftime('%Y-%m-%dT%H:%M:%SZ','now'))"

const char *const store_migrations[] = {
    /* 0 -> 1: accounts and the audit log */
    "CREATE TABLE domains ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE," /* lowercase A-label */
    "  created TEXT NOT NULL DEFAULT " NOW ");"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,"
    "  local_part TEXT NOT NULL,"
    "  address TEXT NOT NULL UNIQUE," /* local_part@domain, lowercase */
    "  password_hash TEXT NOT NULL,"  /* {ARGON2ID}$argon2id$... */
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  quota_bytes INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),"
    "  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
    "  admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),"
    "  created TEXT NOT NULL DEFAULT " NOW ","
    "  UNIQUE (domain_id, local_part));"
    "CREATE INDEX users_domain ON users(domain_id);"
    "CREATE TABLE aliases ("
    "  id INTEGER PRIMARY KEY,"
    "  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,"
    "  source TEXT NOT NULL UNIQUE," /* local@domain, or @domain for catch-all */
    "  required INTEGER NOT NULL DEFAULT 0 CHECK (required IN (0, 1)),"
    "  created TEXT NOT NULL DEFAULT " NOW ");"
    "CREATE INDEX aliases_domain ON aliases(domain_id);"
    "CREATE TABLE alias_targets ("
    "  alias_id INTEGER NOT NULL REFERENCES aliases(id) ON DELETE CASCADE,"
    "  target TEXT NOT NULL,"
    "  PRIMARY KEY (alias_id, target));"
    "CREATE INDEX alias_targets_target ON alias_targets(target);"
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL DEFAULT " NOW ","
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');",
    /* 1 -> 2: DKIM keys. The private key lives in key_file (never in the
     * database); public_key is the p= value of the DNS record. */
    "CREATE TABLE dkim_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,"
    "  selector TEXT NOT NULL," /* lowercase DNS labels */
    "  algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),"
    "  bits INTEGER NOT NULL CHECK (bits > 0),"
    "  public_key TEXT NOT NULL," /* base64: SPKI DER (rsa), raw key (ed25519) */
    "  key_file TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'published', 'retired')),"
    "  created TEXT NOT NULL DEFAULT " NOW ","
    "  UNIQUE (domain_id, selector));",
    /* 2 -> 3: when a DKIM key was retired (replaced by a rotation): it stays
     * published for dkim.rotation_grace_days after that. NULL unless the
     * state is 'retired'; keys already retired count from the migration. */
    "ALTER TABLE dkim_keys ADD COLUMN retired TEXT;"
    "UPDATE dkim_keys SET retired = " NOW " WHERE state = 'retired';",
    /* 3 -> 4: blocklist results, one row per subject (IP or domain) and list
     * per check (mailctld every blacklist.interval_hours, or on demand):
     * 'blacklist history' and the alerts read the changes from it. */
    "CREATE TABLE blacklist_results ("
    "  id INTEGER PRIMARY KEY,"
    "  checked TEXT NOT NULL," /* UTC, the same for every row of one check */
    "  subject TEXT NOT NULL,"
    "  zone TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN"
    "    ('clean', 'listed', 'refused', 'timeout', 'error', 'skipped')),"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX blacklist_results_by_list ON blacklist_results (subject, zone, id);",
    /* 4 -> 5: ACME. One account per CA directory (its key is a file under
     * paths.key_dir); every certificate request or renewal that reached
     * the CA, with its outcome, so renewals can be audited and paced. */
    "CREATE TABLE acme_accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  directory TEXT NOT NULL UNIQUE,"
    "  url TEXT NOT NULL,"
    "  key_file TEXT NOT NULL,"
    "  contact TEXT NOT NULL DEFAULT '',"
    "  ca_file TEXT NOT NULL DEFAULT '',"
    "  created TEXT NOT NULL DEFAULT " NOW ");"
    "CREATE TABLE cert_attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  started TEXT NOT NULL,"
    "  finished TEXT NOT NULL DEFAULT " NOW ","
    "  kind TEXT NOT NULL CHECK (kind IN ('request', 'renew')),"
    "  actor TEXT NOT NULL,"
    "  directory TEXT NOT NULL,"
    "  names TEXT NOT NULL," /* comma-separated */
    "  names_given INTEGER NOT NULL DEFAULT 0 CHECK (names_given IN (0, 1)),"
    "  result TEXT NOT NULL CHECK (result IN ('issued', 'unverified', 'failed')),"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  serial TEXT NOT NULL DEFAULT '',"
    "  not_after TEXT NOT NULL DEFAULT '',"
    "  duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0));",
    /* 5 -> 6: 'cert rollover' (a certificate for a new TLS key) is an
     * attempt of its own kind; SQLite cannot change a CHECK in place. */
    "CREATE TABLE cert_attempts_v6 ("
    "  id INTEGER PRIMARY KEY,"
    "  started TEXT NOT NULL,"
    "  finished TEXT NOT NULL DEFAULT " NOW ","
    "  kind TEXT NOT NULL CHECK (kind IN ('request', 'renew', 'rollover')),"
    "  actor TEXT NOT NULL,"
    "  directory TEXT NOT NULL,"
    "  names TEXT NOT NULL,"
    "  names_given INTEGER NOT NULL DEFAULT 0 CHECK (names_given IN (0, 1)),"
    "  result TEXT NOT NULL CHECK (result IN ('issued', 'unverified', 'failed')),"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  serial TEXT NOT NULL DEFAULT '',"
    "  not_after TEXT NOT NULL DEFAULT '',"
    "  duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0));"
    "INSERT INTO cert_attempts_v6 SELECT * FROM cert_attempts;"
    "DROP TABLE cert_attempts;"
    "ALTER TABLE cert_attempts_v6 RENAME TO cert_attempts;",
};

const int store_nmigrations = sizeof(store_migrations) / sizeof(store_migrations[0]);
