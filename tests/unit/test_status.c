/* Unit tests for the health report: every evaluator on fixed input, the
 * local checks on a private instance, outbound connects and the network
 * checks' time bound on loopback only, and the progress protocol. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domain.h"
#include "fake_dns.h"
#include "instance.h"
#include "status.h"
#include "status_int.h"
#include "tls.h"

static struct status_row row;

static void row_release(void)
{
	free(row.finding);
	free(row.fix);
	memset(&row, 0, sizeof(row));
}

/* The row is at 'level' and its finding contains 'text'. */
static void expect_row(const struct status_row *r, enum status_level level, const char *text)
{
	if (r->level != level || !strstr(r->finding, text))
		fail_msg("want %s containing '%s', got %s: '%s'", status_level_name(level), text,
		         status_level_name(r->level), r->finding);
}

/* ---- services: what /proc/net says ---- */

static const char proc_tcp[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
    "0 1 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:024B 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        "
    "0 2 1 0000000000000000 20 4 30 10 -1\n";

static void test_tcp_listening(void **state)
{
	(void)state;
	assert_true(status_tcp_listening(proc_tcp, 25));
	/* 587 (0x24B) is an established connection, not a listener */
	assert_false(status_tcp_listening(proc_tcp, 587));
	assert_false(status_tcp_listening(proc_tcp, 465));
	assert_false(status_tcp_listening("", 25));
	assert_false(status_tcp_listening("header only\n", 25));
}

static const char proc_unix[] =
    "Num       RefCount Protocol Flags    Type St Inode Path\n"
    "0000000000000000: 00000002 00000000 00010000 0001 01 1001 /run/milter.sock\n"
    "0000000000000000: 00000003 00000000 00000000 0001 03 1002 /run/other.sock\n"
    "0000000000000000: 00000003 00000000 00000000 0001 03 1003\n"
    "0000000000000000: 00000002 00000000 00010000 0001 01 1004 /run/milter.sock.old\n";

static void test_unix_listening(void **state)
{
	(void)state;
	assert_true(status_unix_listening(proc_unix, "/run/milter.sock"));
	/* bound but connected, not listening */
	assert_false(status_unix_listening(proc_unix, "/run/other.sock"));
	assert_false(status_unix_listening(proc_unix, "/run/milter"));
	assert_false(status_unix_listening(proc_unix, "/run/none.sock"));
}

static void test_service_ports(void **state)
{
	struct config c;
	unsigned ports[8];
	const char *ux;
	(void)state;
	config_init(&c);
	assert_int_equal(status_service_ports(&c, "postfix", ports, &ux), 3);
	assert_true(ports[0] == 25 && ports[1] == 587 && ports[2] == 465 && !ux);
	assert_int_equal(status_service_ports(&c, "dovecot", ports, &ux), 2);
	c.plaintext_ports = 1;
	assert_int_equal(status_service_ports(&c, "dovecot", ports, &ux), 4);
	assert_int_equal(ports[2], 143);
	assert_int_equal(status_service_ports(&c, "mailctld", ports, &ux), 0);
	assert_string_equal(ux, c.milter_socket);
	assert_int_equal(status_service_ports(&c, "nginx", ports, &ux), 2);
	assert_int_equal(status_service_ports(&c, "unknown", ports, &ux), 0);
	config_release(&c);
}

/* ---- the queue ---- */

#define NOW 1700000000L

static void queue(const char *jsonl)
{
	row_release();
	status_eval_queue(jsonl, NOW, &row);
}

static void test_queue(void **state)
{
	char buf[2048];
	(void)state;
	queue("");
	expect_row(&row, STATUS_OK, "the queue is empty");
	queue("{\"queue_id\": \"A1\", \"queue_name\": \"active\", \"arrival_time\": 1699999990, "
	      "\"recipients\": []}\n"
	      "postqueue: warning: not a JSON line\n"
	      "{\"queue_id\": \"A1\", \"queue_name\": \"deferred\", \"arrival_time\": 1699996400, "
	      "\"recipients\": "
	      "[{\"address\": \"a@b.example\", \"delay_reason\": \"connect to b.example: timed "
	      "out\"}]}\n");
	expect_row(&row, STATUS_OK,
	           "2 messages queued, 1 deferred; the oldest deferred is 60 "
	           "minutes old: connect to b.example: timed out");
	assert_string_equal(row.fix, "");
	/* older than STATUS_DEFERRED_WARN_S; the oldest one's reason is shown */
	snprintf(buf, sizeof(buf),
	         "{\"queue_id\": \"A1\", \"queue_name\": \"deferred\", \"arrival_time\": %ld, "
	         "\"recipients\": "
	         "[{\"address\": \"x@b.example\", \"delay_reason\": \"newer\"}]}\n"
	         "{\"queue_id\": \"A1\", \"queue_name\": \"deferred\", \"arrival_time\": %ld, "
	         "\"recipients\": "
	         "[{\"address\": \"x@b.example\", \"delay_reason\": \"older\"}]}",
	         NOW - 600, NOW - 5 * 3600);
	queue(buf);
	expect_row(&row, STATUS_WARNING, "oldest deferred is 5 hours old: older");
	assert_non_null(strstr(row.fix, "postqueue"));
	snprintf(buf, sizeof(buf),
	         "{\"queue_id\": \"A1\", \"queue_name\": \"deferred\", \"arrival_time\": %ld}\n",
	         NOW - 4 * 86400);
	queue(buf);
	expect_row(&row, STATUS_ERROR, "4 days old");
	queue("{\"queue_id\": \"A1\", \"queue_name\": \"hold\", \"arrival_time\": 1699999990}");
	expect_row(&row, STATUS_OK, "1 message queued (1 on hold), none deferred");
	row_release();
}

static void test_queue_size(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	for (int i = 0; i < STATUS_QUEUE_WARN; i++)
		strbuf_addf(
		    &sb,
		    "{\"queue_id\": \"A1\", \"queue_name\": \"active\", \"arrival_time\": %ld}\n",
		    NOW);
	queue(sb.buf);
	expect_row(&row, STATUS_WARNING, "100 messages queued");
	for (int i = STATUS_QUEUE_WARN; i < STATUS_QUEUE_ERROR; i++)
		strbuf_addf(
		    &sb,
		    "{\"queue_id\": \"A1\", \"queue_name\": \"incoming\", \"arrival_time\": %ld}\n",
		    NOW);
	queue(sb.buf);
	expect_row(&row, STATUS_ERROR, "1000 messages queued");
	strbuf_release(&sb);
	row_release();
}

/* ---- disk, memory ---- */

static void disk(unsigned long blocks, unsigned long avail, unsigned long files,
                 unsigned long favail)
{
	struct statvfs sv = {0};
	sv.f_frsize = 4096;
	sv.f_blocks = blocks;
	sv.f_bavail = avail;
	sv.f_files = files;
	sv.f_favail = favail;
	row_release();
	status_eval_disk(&sv, &row);
}

static void test_disk(void **state)
{
	(void)state;
	disk(262144, 131072, 1000, 900); /* 1 GiB, half free */
	expect_row(&row, STATUS_OK, "512 MiB free of 1.0 GiB (50%)");
	assert_string_equal(row.fix, "");
	disk(262144, 52428, 1000, 900); /* 19.99% */
	expect_row(&row, STATUS_WARNING, "(19%)");
	assert_non_null(strstr(row.fix, "free space"));
	disk(262144, 52429, 1000, 900); /* 20% */
	expect_row(&row, STATUS_OK, "(20%)");
	disk(262144, 26214, 1000, 900); /* 9.99% */
	expect_row(&row, STATUS_ERROR, "(9%)");
	disk(262144, 200000, 1000, 50); /* space, but no inodes */
	expect_row(&row, STATUS_ERROR, "5% of inodes free");
	disk(262144, 200000, 0, 0); /* no inode limit (btrfs) */
	expect_row(&row, STATUS_OK, "(76%)");
	row_release();
}

static void test_memory(void **state)
{
	(void)state;
	row_release();
	status_eval_memory("MemTotal:        4000000 kB\nMemFree:  100 kB\n"
	                   "MemAvailable:    1000000 kB\n",
	                   &row);
	expect_row(&row, STATUS_OK, "977 MiB available of 3.8 GiB (25%)");
	row_release();
	status_eval_memory("MemTotal: 4000000 kB\nMemAvailable: 300000 kB\n", &row);
	expect_row(&row, STATUS_WARNING, "(7%)");
	row_release();
	status_eval_memory("MemTotal: 4000000 kB\nMemAvailable: 100000 kB\n", &row);
	expect_row(&row, STATUS_ERROR, "(2%)");
	row_release();
	status_eval_memory("MemTotal: 4000000 kB\n", &row);
	expect_row(&row, STATUS_WARNING, "cannot read");
	row_release();
}

/* ---- the certificate ---- */

static void test_tls_eval(void **state)
{
	char *names[] = {"mail.example.org"};
	struct cert_info info = {0};
	(void)state;
	info.subject = "CN = mail.example.org";
	info.issuer = "CN = mail.example.org";
	info.names = names;
	info.nnames = 1;
	info.self_signed = 1;
	info.key_matches = 1;
	info.not_after = NOW + 200 * 86400L;
	row_release();
	status_eval_tls(&info, NOW, &row);
	expect_row(&row, STATUS_WARNING,
	           "self-signed certificate for mail.example.org, valid until 2024-06-01: mail "
	           "programs warn and MTA-STS senders refuse it");
	assert_non_null(strstr(row.fix, "mailctl cert request"));
	info.self_signed = 0;
	info.issuer = "CN = R11, O = Let's Encrypt";
	status_eval_tls(&info, NOW, &row);
	expect_row(&row, STATUS_OK,
	           "CA-issued certificate for mail.example.org from CN = R11, O = Let's Encrypt, "
	           "valid until 2024-06-01 (200 days left)");
	info.not_after = NOW + 5 * 86400L + 60;
	status_eval_tls(&info, NOW, &row);
	expect_row(&row, STATUS_WARNING,
	           "CA-issued certificate for mail.example.org expires on 2023-11-19, in 5 days");
	assert_non_null(strstr(row.fix, "mailctl cert renew --force"));
	info.not_after = NOW + 200 * 86400L;
	info.chain_broken = 1;
	status_eval_tls(&info, NOW, &row);
	expect_row(&row, STATUS_ERROR, "the chain is broken: certificate 1 is not issued");
	info.chain_broken = 0;
	info.key_matches = 0;
	status_eval_tls(&info, NOW, &row);
	expect_row(&row, STATUS_ERROR, "not for tls.key_file");
	info.key_matches = -1; /* the key is not readable: not held against it */
	info.not_after = NOW - 1;
	status_eval_tls(&info, NOW, &row);
	expect_row(&row, STATUS_ERROR, "expired on 2023-11-14");
	row_release();
}

static void test_tls_file(void **state)
{
	struct config c;
	int mk, mc;
	struct mc_error err;
	(void)state;
	config_init(&c);
	free(c.tls_key_file);
	free(c.tls_cert_file);
	c.tls_key_file = xasprintf("%s/tls-key.pem", dir);
	c.tls_cert_file = xasprintf("%s/tls-cert.pem", dir);
	row_release();
	status_check_tls(&c, time(NULL), &row);
	expect_row(&row, STATUS_ERROR, "no usable certificate: cannot open");
	assert_int_equal(
	    tls_ensure(c.tls_key_file, c.tls_cert_file, "mail.example.org", &mk, &mc, &err), 0);
	status_check_tls(&c, time(NULL), &row);
	expect_row(&row, STATUS_WARNING, "self-signed certificate for mail.example.org");
	/* a year later it has expired */
	status_check_tls(&c, time(NULL) + 400 * 86400L, &row);
	expect_row(&row, STATUS_ERROR, "expired");
	row_release();
	config_release(&c);
}

/* ---- aliases, on a private instance ---- */

static void test_aliases(void **state)
{
	struct domain_added d;
	struct alias_row a;
	struct mc_error err;
	(void)state;
	assert_int_equal(domain_add(&ctx, "example.org", NULL, &d, &err), 0);
	domain_added_release(&d);
	row_release();
	status_check_aliases(&ctx, "example.org", &row);
	expect_row(&row, STATUS_OK, "postmaster@ and abuse@ receive mail");
	/* what 'alias del' refuses, done behind its back */
	assert_int_equal(store_alias_get(ctx.st, "abuse@example.org", &a, &err), 1);
	assert_int_equal(store_alias_delete(ctx.st, a.id, &err), 0);
	alias_row_release(&a);
	status_check_aliases(&ctx, "example.org", &row);
	expect_row(&row, STATUS_ERROR, "abuse@example.org cannot receive mail");
	assert_non_null(strstr(row.fix, "mailctl alias add abuse@example.org"));
	row_release();
}

/* ---- dns, blacklist: from reports ---- */

static struct dnscheck_finding finding(const char *name, const char *type, enum dnscheck_status st,
                                       enum dnscheck_level l, const char *detail, const char *fix)
{
	return (struct dnscheck_finding){.name = (char *)name,
	                                 .type = (char *)type,
	                                 .check = "record",
	                                 .status = st,
	                                 .level = l,
	                                 .detail = (char *)detail,
	                                 .fix = (char *)fix};
}

static void test_dns_eval(void **state)
{
	struct dnscheck_finding f[] = {
	    finding("example.org.", "MX", DNSCHECK_OK, DNSCHECK_LOK, "", ""),
	    finding("mail.example.org.", "A", DNSCHECK_OK, DNSCHECK_LOK, "", ""),
	    finding("10.2.0.192.in-addr.arpa.", "PTR", DNSCHECK_INFO, DNSCHECK_LINFO, "", ""),
	    finding("_dmarc.example.org.", "TXT", DNSCHECK_OK, DNSCHECK_LOK, "", ""),
	    finding("s1._domainkey.example.net.", "TXT", DNSCHECK_MISSING, DNSCHECK_LFAIL,
	            "no record", "publish it"),
	    finding("example.net.", "MX", DNSCHECK_MISSING, DNSCHECK_LFAIL, "none", "add MX"),
	    finding("example.net.", "CAA", DNSCHECK_TIMEOUT, DNSCHECK_LTEMP, "", ""),
	    finding("sub.example.net.", "TXT", DNSCHECK_DIFFERENT, DNSCHECK_LWARN, "", ""),
	    finding("notexample.net.", "MX", DNSCHECK_TIMEOUT, DNSCHECK_LTEMP, "t/o", ""),
	    finding("sub.example.net.", "TXT", DNSCHECK_TIMEOUT, DNSCHECK_LTEMP, "", ""),
	    finding("EXAMPLE.COM.", "MX", DNSCHECK_DIFFERENT, DNSCHECK_LWARN, "other", "fix it"),
	};
	struct dnscheck_report rep = {f, sizeof(f) / sizeof(f[0]), 0, 0};
	char *doms[] = {"example.org", "example.net", "example.com", "sub.example.net"};
	struct status_row out[4] = {{0}};
	(void)state;
	status_eval_dns(&rep, doms, 4, out);
	/* example.org also has the PTR and notexample.net's finding */
	expect_row(&out[0], STATUS_WARNING,
	           "1 of 5 checks could not be checked: MX notexample.net.");
	expect_row(&out[1], STATUS_ERROR,
	           "2 of 3 checks fail: TXT s1._domainkey.example.net. "
	           "missing: no record (and 1 more)");
	assert_string_equal(out[1].fix, "publish it");
	expect_row(&out[2], STATUS_WARNING, "1 of 1 checks warn: MX EXAMPLE.COM. different: other");
	assert_string_equal(out[2].fix, "fix it");
	expect_row(&out[3], STATUS_WARNING, "1 of 2 checks could not be checked");
	for (int i = 0; i < 4; i++)
		free(out[i].finding), free(out[i].fix);
	memset(out, 0, sizeof(out));
	rep.n = 4;
	status_eval_dns(&rep, doms, 1, out);
	expect_row(&out[0], STATUS_OK, "3 checks ok, with notes");
	free(out[0].finding), free(out[0].fix);
}

static void test_blacklist_eval(void **state)
{
	struct dnsbl_zone major = {
	    .zone = "zen.example", .weight = DNSBL_MAJOR, .delist = "https://zen.example/"};
	struct dnsbl_zone minor = {
	    .zone = "minor.example", .weight = DNSBL_MINOR, .delist = "https://minor.example/"};
	struct dnsbl_result v[] = {
	    {"192.0.2.10", &minor, DNSBL_CLEAN, 0, NULL, NULL},
	    {"192.0.2.10", &major, DNSBL_CLEAN, 0, NULL, NULL},
	    {"example.org", &minor, DNSBL_SKIPPED, 0, NULL, NULL},
	};
	struct dnsbl_report rep = {v, 3, 3, NULL, 6};
	(void)state;
	row_release();
	status_eval_blacklist(&rep, &row);
	expect_row(&row, STATUS_OK, "not listed (2 lookups, all clean)");
	v[1].status = DNSBL_TIMEOUT;
	status_eval_blacklist(&rep, &row);
	expect_row(&row, STATUS_WARNING,
	           "1 of 2 queries could not be answered: 192.0.2.10 on "
	           "zen.example (timeout)");
	v[0] = (struct dnsbl_result){"192.0.2.10", &minor, DNSBL_LISTED, 0, "spam", NULL};
	status_eval_blacklist(&rep, &row);
	expect_row(&row, STATUS_WARNING,
	           "192.0.2.10 is listed on minor.example (a minor list): spam");
	assert_string_equal(row.fix,
	                    "ask for removal at https://minor.example/ once the cause is fixed");
	v[1] = (struct dnsbl_result){"192.0.2.10", &major, DNSBL_LISTED, 0, "SBL", NULL};
	status_eval_blacklist(&rep, &row);
	expect_row(&row, STATUS_ERROR,
	           "192.0.2.10 is listed on zen.example (a major list): SBL; "
	           "and more listings");
	row_release();
}

/* ---- port 25 ---- */

static void test_probe_parse(void **state)
{
	char host[64];
	unsigned port;
	(void)state;
	assert_int_equal(status_probe_parse("portquiz.net:25", host, sizeof(host), &port), 0);
	assert_string_equal(host, "portquiz.net");
	assert_int_equal(port, 25);
	assert_int_equal(status_probe_parse("mx.example:2525", host, sizeof(host), &port), 0);
	assert_int_equal(port, 2525);
	assert_int_equal(status_probe_parse("192.0.2.25", host, sizeof(host), &port), 0);
	assert_string_equal(host, "192.0.2.25");
	assert_int_equal(port, 25);
	assert_int_equal(status_probe_parse("2001:db8::25", host, sizeof(host), &port), 0);
	assert_string_equal(host, "2001:db8::25");
	assert_int_equal(status_probe_parse("[2001:db8::25]:587", host, sizeof(host), &port), 0);
	assert_string_equal(host, "2001:db8::25");
	assert_int_equal(port, 587);
	assert_int_equal(status_probe_parse("[2001:db8::25]", host, sizeof(host), &port), 0);
	assert_int_equal(port, 25);
	const char *bad[] = {"",        ":25",  "host:",  "host:0", "host:65536",
	                     "host:2x", "[::1", "[::1]x", "[]:25"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (status_probe_parse(bad[i], host, sizeof(host), &port) == 0)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(status_probe_parse("a-very-long-name.example:25", host, 8, &port), -1);
}

/* A TCP socket on 127.0.0.1 with a free port, listening when 'backlog'
 * is not negative. */
static int loopback_socket(int backlog, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*len = sizeof(*sin);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)ss, *len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, len), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static void test_connect(void **state)
{
	struct sockaddr_storage ss[2];
	socklen_t len[2];
	size_t which = 9;
	(void)state;
	int closed = loopback_socket(-1, &ss[0], &len[0]); /* bound, not listening */
	int open = loopback_socket(5, &ss[1], &len[1]);
	assert_int_equal(status_connect_any(ss, len, 1, 1000, &which), ECONNREFUSED);
	assert_int_equal(status_connect_any(ss, len, 2, 1000, &which), 0);
	assert_int_equal(which, 1);
	assert_int_equal(status_connect_any(ss, len, 0, 100, &which), ETIMEDOUT);
	close(closed);
	close(open);
}

/* An accept queue that is full drops SYNs: a connect that never answers,
 * without leaving the machine. */
static void test_connect_timeout(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = loopback_socket(0, &ss, &len), tries = 0, rc = 0;
	size_t which;
	(void)state;
	long long t0 = status_now_ms();
	/* each connection made stays in the queue, never accepted */
	while (tries++ < 8 && (rc = status_connect_any(&ss, &len, 1, 300, &which)) == 0)
		;
	assert_int_equal(rc, ETIMEDOUT);
	assert_true(tries > 1); /* the first ones got in */
	long long took = status_now_ms() - t0;
	assert_true(took >= 290 && took < 1000);
	close(fd);
}

/* ---- reverse DNS, through a fake resolver ---- */

#define PTR_NAME "10.2.0.192.in-addr.arpa."

/* A zone answering the PTR from round 1 on and the A from round 2 on,
 * like dnsq. */
struct rounds {
	struct fake_dns zone;
	int rounds;
};

static void fake_lookup(void *arg, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	struct rounds *f = arg;
	*out = (struct dnsq_answer){DNSQ_PENDING, NULL, 0};
	if (!f->rounds)
		return;
	if (type == LDNS_RR_TYPE_PTR) {
		assert_string_equal(name, PTR_NAME);
	} else {
		assert_int_equal(type, LDNS_RR_TYPE_A);
		if (f->rounds < 2)
			return;
	}
	fake_dns_lookup(&f->zone, name, type, out);
}

/* Evaluate in rounds, as status_net_rdns() does: 'ptr' is the PTR target
 * (NULL: NXDOMAIN, "": timeout), 'forward' its A record (NULL: none). */
static void rdns(const char *ptr, const char *forward)
{
	struct rounds f = {{0}, 0};
	if (ptr && !*ptr)
		fake_dns_set(&f.zone, PTR_NAME, LDNS_RR_TYPE_PTR, DNSQ_TIMEOUT);
	else if (ptr)
		fake_dns_addf(&f.zone, PTR_NAME " PTR %s", ptr);
	if (ptr && forward)
		fake_dns_addf(&f.zone, "%s A %s", ptr, forward);
	row_release();
	while (status_eval_rdns("192.0.2.10", "mail.example.org", fake_lookup, &f, &row))
		assert_true(++f.rounds < 3);
	fake_dns_release(&f.zone);
}

static void test_rdns(void **state)
{
	(void)state;
	rdns("mail.example.org.", "192.0.2.10");
	expect_row(&row, STATUS_OK, "PTR mail.example.org, which leads back to 192.0.2.10");
	rdns(NULL, NULL);
	expect_row(&row, STATUS_ERROR, "no PTR record for 192.0.2.10 (nxdomain)");
	assert_string_equal(row.fix, "ask your hosting provider to set the PTR (reverse DNS) of "
	                             "192.0.2.10 to mail.example.org");
	rdns("", NULL);
	expect_row(&row, STATUS_WARNING, "could not look up the PTR of 192.0.2.10: timeout");
	rdns("vps-1234.provider.example.", "192.0.2.10");
	expect_row(&row, STATUS_WARNING,
	           "PTR vps-1234.provider.example is not the mail host name mail.example.org");
	rdns("mail.example.org.", "192.0.2.11");
	expect_row(&row, STATUS_WARNING, "PTR mail.example.org, which does not lead back");
	assert_non_null(strstr(row.fix, "publish A 192.0.2.10 for mail.example.org"));
	rdns("MAIL.Example.ORG.", NULL);
	expect_row(&row, STATUS_WARNING, "does not lead back");
	row_release();
}

/* ---- status_run: the plan, progress, and the time bound ---- */

struct seen {
	pthread_t thread;
	int planned, wrong_thread, told_pending, twice;
	size_t n, order[64];
	int told[64];
};

static void on_progress(const struct status_report *rep, size_t i, void *arg)
{
	struct seen *s = arg;
	s->wrong_thread |= !pthread_equal(pthread_self(), s->thread);
	if (i == STATUS_PLANNED) {
		s->planned++;
		for (size_t k = 0; k < rep->n; k++)
			s->told_pending |= rep->v[k].level != STATUS_PENDING;
		return;
	}
	assert_true(i < rep->n && i < 64);
	s->twice |= s->told[i]++;
	s->told_pending |= rep->v[i].level == STATUS_PENDING;
	s->order[s->n++] = i;
}

static size_t find_row(const struct status_report *rep, const char *check, const char *subject)
{
	for (size_t i = 0; i < rep->n; i++)
		if (!strcmp(rep->v[i].check, check) && !strcmp(rep->v[i].subject, subject))
			return i;
	fail_msg("no row %s %s", check, subject);
	return 0;
}

static void add_example_org(void)
{
	struct domain_added d;
	struct mc_error err;
	assert_int_equal(domain_add(&ctx, "example.org", NULL, &d, &err), 0);
	domain_added_release(&d);
	free(cfg.hostname);
	cfg.hostname = xstrdup("mail.example.org");
	free(cfg.ipv4);
	cfg.ipv4 = xstrdup("192.0.2.10");
	free(cfg.tls_cert_file);
	cfg.tls_cert_file = xasprintf("%s/no-cert.pem", dir);
}

static void test_run_local(void **state)
{
	struct status_report rep;
	struct seen s = {.thread = pthread_self()};
	struct mc_error err;
	(void)state;
	add_example_org();
	assert_int_equal(status_run(&ctx, STATUS_LOCAL, 0, &rep, on_progress, &s, &err), 0);
	assert_int_equal(s.planned, 1);
	assert_false(s.wrong_thread || s.told_pending || s.twice);
	assert_int_equal(s.n, rep.n);
	for (size_t i = 0; i < rep.n; i++)
		assert_int_equal(s.order[i], i); /* local rows first, in order */
	expect_row(&rep.v[find_row(&rep, "aliases", "example.org")], STATUS_OK, "receive mail");
	expect_row(&rep.v[find_row(&rep, "tls", cfg.tls_cert_file)], STATUS_ERROR, "no usable");
	expect_row(&rep.v[find_row(&rep, "disk", cfg.mail_root)], STATUS_ERROR, "cannot look at");
	assert_int_equal(rep.v[find_row(&rep, "dns", "example.org")].level, STATUS_SKIPPED);
	assert_int_equal(rep.v[find_row(&rep, "blacklist", "all")].level, STATUS_SKIPPED);
	assert_int_equal(rep.v[find_row(&rep, "port25", "portquiz.net:25")].level, STATUS_SKIPPED);
	size_t rd = find_row(&rep, "rdns", "192.0.2.10");
	assert_true(rep.v[rd].network && rep.v[rd].level == STATUS_SKIPPED);
	assert_false(rep.v[find_row(&rep, "memory", "ram")].network);
	assert_int_equal(status_worst(&rep), STATUS_ERROR);
	status_report_release(&rep);
}

/* A resolver that never answers (a bound UDP socket nobody reads) and a
 * probe that accepts: every network check must end within the one
 * deadline, all of them together. */
static void test_run_network_bounded(void **state)
{
	struct status_report rep;
	struct seen s = {.thread = pthread_self()};
	struct sockaddr_storage ss, ps;
	socklen_t len, plen;
	struct mc_error err;
	(void)state;
	add_example_org();
	int dns = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = sizeof(*sin);
	assert_int_equal(bind(dns, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(dns, (struct sockaddr *)&ss, &len), 0);
	int probe = loopback_socket(5, &ps, &plen);
	free(cfg.dns_resolver);
	cfg.dns_resolver = xasprintf("127.0.0.1:%u", ntohs(sin->sin_port));
	free(cfg.status_port25_probe);
	cfg.status_port25_probe =
	    xasprintf("127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ps)->sin_port));
	free(cfg.dnsbl_file);
	cfg.dnsbl_file = xstrdup(MAILCTL_SRC "/data/dnsbl.yaml");
	long long t0 = status_now_ms();
	assert_int_equal(status_run(&ctx, 0, 1500, &rep, on_progress, &s, &err), 0);
	long long took = status_now_ms() - t0;
	/* one after another they would take three times the deadline */
	assert_true(took >= 1400 && took < 2900);
	assert_false(s.wrong_thread || s.told_pending || s.twice);
	assert_int_equal(s.n, rep.n);
	expect_row(&rep.v[find_row(&rep, "port25", cfg.status_port25_probe)], STATUS_OK,
	           "connected to 127.0.0.1 (127.0.0.1) port");
	expect_row(&rep.v[find_row(&rep, "dns", "example.org")], STATUS_WARNING,
	           "could not be checked");
	expect_row(&rep.v[find_row(&rep, "blacklist", "all")], STATUS_WARNING,
	           "could not be answered");
	expect_row(&rep.v[find_row(&rep, "rdns", "192.0.2.10")], STATUS_WARNING,
	           "could not look up the PTR of 192.0.2.10: timeout");
	status_report_release(&rep);
	close(dns);
	close(probe);
}

static void test_run_no_database(void **state)
{
	struct status_report rep;
	struct mc_error err;
	struct mc_ctx bare = {&cfg, NULL, "unit"};
	(void)state;
	free(cfg.status_port25_probe);
	cfg.status_port25_probe = xstrdup("");
	free(cfg.dns_resolver);
	cfg.dns_resolver = xstrdup("not an address");
	assert_int_equal(status_run(&bare, 0, 500, &rep, NULL, NULL, &err), 0);
	expect_row(&rep.v[find_row(&rep, "aliases", "")], STATUS_ERROR,
	           "cannot read the domains: the database is not open");
	expect_row(&rep.v[find_row(&rep, "dns", "")], STATUS_ERROR, "cannot read the domains");
	expect_row(&rep.v[find_row(&rep, "port25", "")], STATUS_SKIPPED, "port25_probe is empty");
	size_t bl = find_row(&rep, "blacklist", "all");
	assert_true(rep.v[bl].level == STATUS_WARNING || rep.v[bl].level == STATUS_SKIPPED);
	for (size_t i = 0; i < rep.n; i++)
		assert_int_not_equal(rep.v[i].level, STATUS_PENDING);
	status_report_release(&rep);
}

static void test_names(void **state)
{
	struct status_report empty = {0};
	char buf[32];
	(void)state;
	assert_string_equal(status_level_name(STATUS_OK), "ok");
	assert_string_equal(status_level_name(STATUS_WARNING), "warning");
	assert_string_equal(status_level_name(STATUS_ERROR), "error");
	assert_string_equal(status_level_name(STATUS_SKIPPED), "skipped");
	assert_string_equal(status_level_name(STATUS_PENDING), "pending");
	assert_int_equal(status_worst(&empty), STATUS_SKIPPED);
	status_human_size(512, buf, sizeof(buf));
	assert_string_equal(buf, "512 bytes");
	status_human_size(1536, buf, sizeof(buf));
	assert_string_equal(buf, "1.5 KiB");
	status_human_size(20ULL << 30, buf, sizeof(buf));
	assert_string_equal(buf, "20 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_listening),
	    cmocka_unit_test(test_unix_listening),
	    cmocka_unit_test(test_service_ports),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_queue_size),
	    cmocka_unit_test(test_disk),
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_tls_eval),
	    cmocka_unit_test(test_tls_file),
	    cmocka_unit_test_setup_teardown(test_aliases, instance_setup, instance_teardown),
	    cmocka_unit_test(test_dns_eval),
	    cmocka_unit_test(test_blacklist_eval),
	    cmocka_unit_test(test_probe_parse),
	    cmocka_unit_test(test_connect),
	    cmocka_unit_test(test_connect_timeout),
	    cmocka_unit_test(test_rdns),
	    cmocka_unit_test_setup_teardown(test_run_local, instance_setup, instance_teardown),
	    cmocka_unit_test_setup_teardown(test_run_network_bounded, instance_setup,
	                                    instance_teardown),
	    cmocka_unit_test_setup_teardown(test_run_no_database, instance_setup,
	                                    instance_teardown),
	    cmocka_unit_test(test_names),
	};
	return run_in_tmpdir(tests);
}
