/*
 * template - render the files under templates/ (Postfix maps, Dovecot
 * queries, and later every configuration file 'mailctl apply' writes).
 *
 * The syntax is one construct, a placeholder: {{name}} or {{ name }},
 * where name is letters, digits, '.', '_' and '-'. Everything else is
 * copied byte for byte. No packaged C library renders this simple a form
 * without pulling in a whole language, and a mail server's configuration
 * needs no logic: decisions live in C, values in the variables.
 *
 * A name with no value, a '{{' without its '}}', and a value holding a
 * newline or another control character are errors naming the template,
 * line and placeholder, and nothing is produced. Variables and output are
 * owned by the caller; template_vars_release() frees the set.
 */
#ifndef MAILCTL_TEMPLATE_H
#define MAILCTL_TEMPLATE_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "strbuf.h"

struct template_var {
	char *name;
	char *value;
};

struct template_vars {
	struct template_var *v;
	size_t n, alloc;
};

void template_vars_init(struct template_vars *vars);
/* Set (or replace) 'name'. */
void template_vars_set(struct template_vars *vars, const char *name, const char *value);
/* Every configuration key, under its dotted name ("paths.database"), and
 * "milter_socket": milter.socket as chrooted Postfix daemons name it, and
 * "message_size_bytes": mail.message_size_limit in bytes. */
void template_vars_from_config(struct template_vars *vars, const struct config *cfg);
void template_vars_release(struct template_vars *vars);

/* Render 'len' bytes of 'text' into 'out' (appended). 'origin' names the
 * template in messages. MC_EDATA on a template or value error. */
int template_render(const char *origin, const char *text, size_t len,
                    const struct template_vars *vars, struct strbuf *out, struct mc_error *err);

/* Render the file at 'path'; MC_EIO when it cannot be read. */
int template_render_file(const char *path, const struct template_vars *vars, struct strbuf *out,
                         struct mc_error *err);

#endif
