/* Postfix's mail queue through its own tools; see mailqueue.h. */
#include "mailqueue.h"
#include "run.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* What run_capture() keeps of a tool's output. */
#define RUN_OUTPUT_MAX 65536

int mailqueue_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n < 1 || n > 32 || !strcmp(id, "ALL"))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return 0;
	}
	return 1;
}

static char *str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return xstrdup(s ? s : dflt);
}

static void add_recipients(struct mailqueue_msg *m, json_t *rcpts)
{
	size_t i, alloc = 0;
	json_t *r;
	if (!json_is_array(rcpts))
		return;
	json_array_foreach(rcpts, i, r)
	{
		const char *addr = json_string_value(json_object_get(r, "address"));
		if (!addr)
			continue;
		m->rcpt = xgrow(m->rcpt, &alloc, m->nrcpt + 1, sizeof(*m->rcpt));
		m->rcpt[m->nrcpt++] =
		    (struct mailqueue_rcpt){xstrdup(addr), str_or(r, "delay_reason", "")};
	}
}

/* One JSON object: a message when it has a usable queue id. */
static int add_message(struct mailqueue *q, json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "queue_id"));
	json_t *arrival = json_object_get(o, "arrival_time");
	json_t *size = json_object_get(o, "message_size");
	if (!id || !mailqueue_id_valid(id))
		return -1;
	q->v = xgrow(q->v, &q->alloc, q->n + 1, sizeof(*q->v));
	struct mailqueue_msg *m = &q->v[q->n++];
	memset(m, 0, sizeof(*m));
	m->id = xstrdup(id);
	m->queue = str_or(o, "queue_name", "");
	m->arrival = json_is_integer(arrival) ? (time_t)json_integer_value(arrival) : 0;
	m->size = json_is_integer(size) ? json_integer_value(size) : -1;
	m->sender = str_or(o, "sender", "");
	m->forced_expire = json_is_true(json_object_get(o, "forced_expire"));
	add_recipients(m, json_object_get(o, "recipients"));
	return 0;
}

/* Keep a line that is no JSON (a tool's warning) as a note. */
static void add_note(struct strbuf *notes, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	if (notes->len)
		strbuf_addch(notes, '\n');
	strbuf_add(notes, line, len);
}

void mailqueue_parse(const char *text, size_t len, struct mailqueue *q)
{
	struct strbuf notes = STRBUF_INIT;
	const char *p = text, *end = text + len;
	memset(q, 0, sizeof(*q));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *o = n && *p == '{' ? json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
		if (json_is_object(o)) {
			if (add_message(q, o) < 0)
				q->skipped++;
		} else {
			add_note(&notes, p, n);
		}
		json_decref(o);
		p = nl ? nl + 1 : end;
	}
	q->notes = strbuf_detach(&notes);
}

/* The line of a tool's output that says what went wrong: its first
 * "fatal:" line, else its first line. */
static char *tool_error(const struct strbuf *out)
{
	const char *s = out->buf, *fatal = strstr(s, ": fatal: ");
	if (fatal) {
		while (fatal > s && fatal[-1] != '\n')
			fatal--;
		s = fatal;
	}
	size_t n = strcspn(s, "\n");
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	return n ? xstrndup(s, n) : xstrdup("no output");
}

/* Run 'argv'; a failure is MC_EUNAVAIL "cannot WHAT: <the tool's words>". */
static int run_tool(char *const argv[], struct strbuf *out, const char *what, struct mc_error *err)
{
	int rc = run_capture(argv, out);
	if (rc == 0)
		return 0;
	char *why = rc < 0 ? xasprintf("cannot run %s", argv[0]) : tool_error(out);
	mc_fail(err, MC_EUNAVAIL, "cannot %s: %s", what, why);
	free(why);
	return -1;
}

int mailqueue_list(const struct config *cfg, struct mailqueue *q, struct mc_error *err)
{
	char *argv[] = {"postqueue", "-c", cfg->postfix_dir, "-j", NULL};
	struct strbuf out = STRBUF_INIT;
	memset(q, 0, sizeof(*q));
	int rc = run_tool(argv, &out, "read the queue", err);
	if (rc == 0) {
		mailqueue_parse(out.buf, out.len, q);
		q->truncated = out.len >= RUN_OUTPUT_MAX;
	}
	strbuf_release(&out);
	return rc;
}

static int check_id(const char *id, struct mc_error *err)
{
	if (!mailqueue_id_valid(id))
		return mc_fail(err, MC_EUSAGE, "invalid queue id '%s'", id);
	return 0;
}

int mailqueue_show(const struct config *cfg, const char *id, struct strbuf *out, int *truncated,
                   struct mc_error *err)
{
	struct strbuf buf = STRBUF_INIT;
	if (check_id(id, err) < 0)
		return -1;
	char *argv[] = {"postcat", "-c", cfg->postfix_dir, "-q", (char *)id, NULL};
	char *what = xasprintf("show queued message '%s'", id);
	int rc = run_tool(argv, &buf, what, err);
	free(what);
	if (rc == 0) {
		strbuf_add(out, buf.buf, buf.len);
		if (truncated)
			*truncated = buf.len >= RUN_OUTPUT_MAX;
	}
	strbuf_release(&buf);
	return rc;
}

int mailqueue_flush(const struct config *cfg, const char *id, struct mc_error *err)
{
	struct strbuf out = STRBUF_INIT;
	if (id && check_id(id, err) < 0)
		return -1;
	char *one[] = {"postqueue", "-c", cfg->postfix_dir, "-i", (char *)id, NULL};
	char *all[] = {"postqueue", "-c", cfg->postfix_dir, "-f", NULL};
	char *what = id ? xasprintf("retry delivery of '%s'", id) : xstrdup("flush the queue");
	int rc = run_tool(id ? one : all, &out, what, err);
	free(what);
	strbuf_release(&out);
	return rc;
}

int mailqueue_delete(const struct config *cfg, const char *id, struct mc_error *err)
{
	struct strbuf out = STRBUF_INIT;
	if (check_id(id, err) < 0)
		return -1;
	char *argv[] = {"postsuper", "-c", cfg->postfix_dir, "-d", (char *)id, NULL};
	char *what = xasprintf("delete queued message '%s'", id);
	int rc = run_tool(argv, &out, what, err);
	free(what);
	/* postsuper succeeds when nothing matched: "Deleted: 0 messages". */
	if (rc == 0 && !strstr(out.buf, "Deleted: 1 message"))
		rc = mc_fail(err, MC_ENOUSER,
		             "no message '%s' in the queue: it was delivered or "
		             "removed meanwhile",
		             id);
	strbuf_release(&out);
	return rc;
}

const struct mailqueue_msg *mailqueue_find(const struct mailqueue *q, const char *id)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->v[i].id, id))
			return &q->v[i];
	return NULL;
}

void mailqueue_release(struct mailqueue *q)
{
	for (size_t i = 0; i < q->n; i++) {
		struct mailqueue_msg *m = &q->v[i];
		for (size_t r = 0; r < m->nrcpt; r++) {
			free(m->rcpt[r].address);
			free(m->rcpt[r].reason);
		}
		free(m->rcpt);
		free(m->id);
		free(m->queue);
		free(m->sender);
	}
	free(q->v);
	free(q->notes);
	memset(q, 0, sizeof(*q));
}
