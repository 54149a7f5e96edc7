/*
 * store_schema - the SQLite schema and its forward migrations.
 *
 * migrations[i] takes a database from user_version i to i+1. A migration
 * is never edited once released: changes come as a new entry. Postfix and
 * Dovecot read these tables through the queries in templates/, so a
 * change to a column they use must change those queries in the same
 * commit (tests/integration proves them).
 */
#ifndef MAILCTL_STORE_SCHEMA_H
#define MAILCTL_STORE_SCHEMA_H

extern const char *const store_migrations[];
extern const int store_nmigrations;

#endif
