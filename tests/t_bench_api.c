/*
 * t_bench_api.c - ipck_bench_run's contract: bad options are -EINVAL before
 * anything runs; a size larger than a target carries comes back as a row
 * with -EMSGSIZE and its max_msg; a progress callback that returns non-zero
 * stops the run with -ECANCELED and leaves nothing in TMPDIR; the target
 * list starts with the scheme table.  No timing is asserted.
 */
#include "check.h"
#include <dirent.h>

struct seen {
	int rows, skipped, measured;
	size_t max_msg;
	int calls;
	int stop_after;   /* progress returns 1 after this many calls, or 0 */
};

static int on_row(const struct ipck_bench_row *r, void *arg)
{
	struct seen *s = arg;
	s->rows++;
	if (r->err) {
		CHECK_EQ(r->err, -EMSGSIZE);
		CHECK(r->max_msg > 0 && r->max_msg < r->size);
		s->skipped++;
		s->max_msg = r->max_msg;
		return 0;
	}
	CHECK(r->rtt_p50_ns > 0 && r->rtt_p50_ns <= r->rtt_p99_ns && r->rtt_p99_ns <= r->rtt_p999_ns);
	CHECK(r->msgs_per_s > 0 && r->mb_per_s > 0 && r->cpu_tx_ns + r->cpu_rx_ns > 0);
	CHECK_EQ(r->reps, 1);
	CHECK(r->rounds >= 10 && r->msgs >= 10);
	CHECK(!strcmp(r->wait, "kernel"));
	s->measured++;
	return 0;
}

static int count_row(const struct ipck_bench_row *r, void *arg)
{
	((struct seen *)arg)->rows++;
	return 0;
}

static int on_progress(void *arg, unsigned done, unsigned total, const char *what)
{
	struct seen *s = arg;
	CHECK(done <= total);
	CHECK(what != NULL);
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void bad_options(void)
{
	struct seen s = {0};
	size_t zero = 0, ok = 64, many[17] = {0};
	struct ipck_bench_opts o = {.names = "nope"};
	CHECK_EQ(ipck_bench_run(&o, on_row, &s), -EINVAL);
	o = (struct ipck_bench_opts){.names = "pipe", .sizes = &zero, .nsizes = 1};
	CHECK_EQ(ipck_bench_run(&o, on_row, &s), -EINVAL);
	o = (struct ipck_bench_opts){.names = "pipe", .sizes = many, .nsizes = 17};
	CHECK_EQ(ipck_bench_run(&o, on_row, &s), -EINVAL);
	o = (struct ipck_bench_opts){.names = "pipe", .sizes = &ok, .nsizes = 1, .reps = 65};
	CHECK_EQ(ipck_bench_run(&o, on_row, &s), -EINVAL);
	o = (struct ipck_bench_opts){.names = "pipe", .pin = 1, .cpu = {0, 100000}};
	CHECK_EQ(ipck_bench_run(&o, on_row, &s), -EINVAL);
	CHECK_EQ(ipck_bench_run(NULL, on_row, &s), -EINVAL);
	CHECK_EQ(ipck_bench_run(&o, NULL, &s), -EINVAL);
	CHECK_EQ(s.rows, 0);
}

int main(void)
{
	setenv("TMPDIR", test_dir(), 1);
	CHECK(!strcmp(ipck_bench_target_at(0), ipck_scheme_at(0)->name));
	bad_options();

	/* socketpair carries 64 B but not 1 MiB: one measured row, one skipped */
	size_t sizes[] = {64, 1u << 20};
	struct seen s = {0};
	struct ipck_bench_opts o = {.names = "socketpair", .sizes = sizes, .nsizes = 2,
				    .rounds = 100, .reps = 1, .quick = 1,
				    .progress = on_progress, .arg = &s};
	CHECK_EQ(ipck_bench_run(&o, on_row, &s), 0);
	CHECK_EQ(s.rows, 2);
	CHECK_EQ(s.measured, 1);
	CHECK_EQ(s.skipped, 1);
	CHECK(s.calls >= 1);

	/* a stop from progress: -ECANCELED, nothing left behind */
	struct seen st = {.stop_after = 3};
	struct ipck_bench_opts so = {.names = "lib,raw", .quick = 1, .progress = on_progress,
				     .arg = &st};
	CHECK_EQ(ipck_bench_run(&so, count_row, &st), -ECANCELED);
	CHECK_EQ(st.calls, 3);
	CHECK_EQ(count_entries(test_dir()), 0);
	check_exit();
}
