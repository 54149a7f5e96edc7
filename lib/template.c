/* Placeholder rendering for templates/; see template.h. */
#include "template.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void template_vars_init(struct template_vars *vars)
{
	memset(vars, 0, sizeof(*vars));
}

static struct template_var *find(const struct template_vars *vars, const char *name, size_t len)
{
	for (size_t i = 0; i < vars->n; i++)
		if (strlen(vars->v[i].name) == len && memcmp(vars->v[i].name, name, len) == 0)
			return &vars->v[i];
	return NULL;
}

void template_vars_set(struct template_vars *vars, const char *name, const char *value)
{
	struct template_var *v = find(vars, name, strlen(name));
	if (!v) {
		vars->v = xgrow(vars->v, &vars->alloc, vars->n + 1, sizeof(*vars->v));
		v = &vars->v[vars->n++];
		v->name = xstrdup(name);
		v->value = NULL;
	}
	free(v->value);
	v->value = xstrdup(value);
}

static void set_item(const struct config_item *item, void *ctx)
{
	template_vars_set(ctx, item->name, item->value);
}

void template_vars_from_config(struct template_vars *vars, const struct config *cfg)
{
	static const char queue[] = "/var/spool/postfix/";
	config_foreach(cfg, set_item, vars);
	/* Postfix's smtpd and cleanup run chrooted in the queue directory, so
	 * they name mailctld's socket relative to it. */
	const char *s = cfg->milter_socket;
	if (!strncmp(s, queue, sizeof(queue) - 1))
		s += sizeof(queue) - 2; /* keep the slash */
	template_vars_set(vars, "milter_socket", s);
	/* Sizes render as "50M"; Postfix wants bytes. */
	char bytes[32];
	snprintf(bytes, sizeof(bytes), "%lld", cfg->message_size_limit);
	template_vars_set(vars, "message_size_bytes", bytes);
}

void template_vars_release(struct template_vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
	}
	free(vars->v);
	template_vars_init(vars);
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int line_of(const char *text, const char *at)
{
	int line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	return line;
}

/* Expand the placeholder whose "{{" is at 'p'; returns the byte after its
 * "}}", or NULL with 'err' set. */
static const char *expand(const char *origin, const char *text, const char *p, const char *end,
                          const struct template_vars *vars, struct strbuf *out,
                          struct mc_error *err)
{
	const char *name = p + 2, *q;
	while (name < end && *name == ' ')
		name++;
	for (q = name; q < end && name_char(*q); q++)
		;
	size_t len = (size_t)(q - name);
	while (q < end && *q == ' ')
		q++;
	if (len == 0 || end - q < 2 || q[0] != '}' || q[1] != '}') {
		mc_fail(err, MC_EDATA, "'%s':%d: '{{' without a name and '}}'", origin,
		        line_of(text, p));
		return NULL;
	}
	const struct template_var *v = find(vars, name, len);
	if (!v) {
		mc_fail(err, MC_EDATA, "'%s':%d: unknown placeholder '%.*s'", origin,
		        line_of(text, p), (int)len, name);
		return NULL;
	}
	for (const char *c = v->value; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			mc_fail(err, MC_EDATA, "'%s':%d: value of '%s' holds a control character",
			        origin, line_of(text, p), v->name);
			return NULL;
		}
	strbuf_addstr(out, v->value);
	return q + 2;
}

int template_render(const char *origin, const char *text, size_t len,
                    const struct template_vars *vars, struct strbuf *out, struct mc_error *err)
{
	const char *p = text, *end = text + len;
	size_t start = out->len;
	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "{{", 2);
		if (!open) {
			strbuf_add(out, p, (size_t)(end - p));
			break;
		}
		strbuf_add(out, p, (size_t)(open - p));
		if (!(p = expand(origin, text, open, end, vars, out, err))) {
			out->len = start; /* nothing half-rendered */
			out->buf[start] = '\0';
			return -1;
		}
	}
	return 0;
}

int template_render_file(const char *path, const struct template_vars *vars, struct strbuf *out,
                         struct mc_error *err)
{
	struct strbuf text = STRBUF_INIT;
	char buf[8192];
	size_t n;
	FILE *fp = fopen(path, "re");
	if (!fp)
		return mc_fail(err, MC_EIO, "cannot open template '%s': %s", path,
		               mc_strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&text, buf, n);
	int failed = ferror(fp);
	fclose(fp);
	int rc = failed ? mc_fail(err, MC_EIO, "cannot read template '%s'", path)
	                : template_render(path, text.buf, text.len, vars, out, err);
	strbuf_release(&text);
	return rc;
}
