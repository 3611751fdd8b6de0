/*
 * t_soak.c - integrity soak: per scheme, two processes send each other a
 * seeded stream of messages at once (full duplex, sends and receives with
 * timeout 0 interleaved, so partial sends and full buffers happen), and each
 * checks every message it gets: 0 lost, duplicated, reordered or corrupt.
 * udp: losses are counted and reported, not failed.
 *
 * Message i of direction d is a pure function of (seed, d, i): its size
 * (every boundary first: 0, 1, the frame header sizes, around 4096, 65536,
 * max_msg and max_msg less each header size; then a seeded mix: 60% up to
 * 128 bytes, 39% up to 4200, 1% up to 70000; the boundaries up to 65537
 * again every 1009th), and its bytes: from 12 bytes on, a sequence number
 * (u64, d in the top bit) and a checksum (FNV-1a of the rest, by words)
 * lead; shorter ones carry the first bytes of that same header.  The
 * receiver makes the message it expects and compares.
 *
 *   IPCK_SEED=N          the seed (printed; random when unset)
 *   IPCK_SOAK_COUNT=N    messages per scheme, both directions together
 *                        (make test: 200,000; make soak: 10,000,000)
 *   IPCK_SOAK_SCHEMES="a b"  only these schemes (as the arguments do)
 *   t_soak [SCHEME...]   (default: every scheme; signal: t_soak_signal, below)
 *
 * Every scheme soaks 200,000 in make test: 20-40 s for all together on two
 * cores (50 s with ASan), but signal (a system call and a wake-up per 8
 * bytes) alone takes 33-75 s, so it soaks in t_soak_signal, a program of its
 * own with the runner's whole timeout; one after the other they took up to
 * 77 s (with a bytewise checksum) of its 120.
 * Under TSAN=1 every count is a tenth and sizes stop at 1 MiB.
 */
#include "check.h"
#include "internal.h"
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#define TOP (1ull << 63)
#define END_SEQ (TOP - 1)        /* udp: "nothing more" marker */
#ifdef __SANITIZE_THREAD__
#define BIG_MAX (1u << 20)       /* ThreadSanitizer: 16 MiB copies take minutes */
#else
#define BIG_MAX (16u << 20)      /* largest size used, whatever max_msg says */
#endif

struct soak {
	const char *scheme, *url;
	uint64_t seed;
	uint64_t n;                  /* messages per direction */
	size_t max;                  /* largest message */
	bool lossy;
	size_t bounds[48];           /* boundary sizes, each sent once first */
	int nb, nsmall;              /* how many; how many of them are <= 65537 */
};

struct tally {
	uint64_t ok, bytes, lost, dup, corrupt, extra;
	uint64_t lib_dropped;        /* what ipck_stats counted lost */
	bool ended;                  /* saw the peer's end where it should be */
};

/* ---- the message stream ------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void add_bound(struct soak *s, long long v)
{
	if (v < 0 || (size_t)v > s->max)
		return;
	for (int i = 0; i < s->nb; i++)
		if (s->bounds[i] == (size_t)v)
			return;
	s->bounds[s->nb++] = (size_t)v;
}

/* Every size where a framing or a buffer changes: headers of 1, 4 and 8. */
static void make_bounds(struct soak *s)
{
	static const long long fixed[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 255, 256,
		4087, 4088, 4091, 4092, 4095, 4096, 4097, 4100, 4104, 8192,
		65527, 65528, 65531, 65535, 65536, 65537, 1 << 20};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		add_bound(s, fixed[i]);
	for (int h = 0; h <= 8; h++)
		add_bound(s, (long long)s->max - h);
	for (int i = 0; i < s->nb; i++)   /* the small ones first: they come back */
		for (int k = i + 1; k < s->nb; k++)
			if (s->bounds[k] < s->bounds[i]) {
				size_t t = s->bounds[i];
				s->bounds[i] = s->bounds[k];
				s->bounds[k] = t;
			}
	while (s->nsmall < s->nb && s->bounds[s->nsmall] <= 65537)
		s->nsmall++;
}

static size_t msg_size(const struct soak *s, int dir, uint64_t i)
{
	if (i < (uint64_t)s->nb)
		return s->bounds[i];
	if (i % 1009 == 0)   /* the small boundaries again; the large ones were enough once */
		return s->bounds[(i / 1009) % (uint64_t)s->nsmall];
	uint64_t r = mix(s->seed ^ ((uint64_t)dir << 62) ^ (i * 0x100000001b3ull));
	size_t lim = s->max < 70000 ? s->max : 70000, n;
	switch (r % 100) {
	case 0 ... 59: n = (r >> 8) % 129; break;
	case 60 ... 98: n = 129 + (r >> 8) % 4072; break;
	default: n = 4201 + (r >> 8) % 65800; break;
	}
	return n > lim ? (r >> 40) % (lim + 1) : n;
}

/* FNV-1a over 8-byte words (then the last bytes): a byte at a time costs
 * as much as the transport in a 200,000-message soak. */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull, w;
	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 1099511628211ull;
	}
	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

/* Message i of direction dir, n bytes, into buf. */
static void msg_make(const struct soak *s, int dir, uint64_t i, unsigned char *buf, size_t n)
{
	unsigned char hdr[12];
	uint64_t x = mix(s->seed ^ i ^ ((uint64_t)dir << 61)), w;
	size_t k = 12;
	for (; k + 8 <= n; k += 8) {   /* words independent of each other: fast */
		w = (x + k) * 0x9e3779b97f4a7c15ull;
		memcpy(buf + k, &w, 8);
	}
	for (x = mix(x + k); k < n; k++, x >>= 8)
		buf[k] = (unsigned char)x;
	put64(hdr, i | ((uint64_t)dir << 63));
	uint32_t h = n > 12 ? fnv1a(buf + 12, n - 12) : (uint32_t)mix(i);
	memcpy(hdr + 8, &h, 4);
	memcpy(buf, hdr, n < 12 ? n : 12);
}

/* ---- checking what arrives ---------------------------------------------- */

static bool msg_is(const struct soak *s, int dir, uint64_t i, const unsigned char *b, size_t n,
		   unsigned char *tmp)
{
	if (msg_size(s, dir, i) != n)
		return false;
	msg_make(s, dir, i, tmp, n);
	return !memcmp(tmp, b, n);
}

/*
 * An unexpected message: which one it is, if any.  Returns the index it
 * matched (> expected: the ones between were lost), or UINT64_MAX: corrupt,
 * or a duplicate or reordered one (index < expected), counted in t.
 */
static uint64_t classify(const struct soak *s, int dir, const unsigned char *b, size_t n,
			 uint64_t want, unsigned char *tmp, struct tally *t)
{
	if (n >= 12) {
		uint64_t seq = get64(b);
		uint32_t h;
		memcpy(&h, b + 8, 4);
		if ((seq & TOP) != ((uint64_t)dir << 63) || (seq & ~TOP) >= s->n ||
		    (n > 12 && h != fnv1a(b + 12, n - 12)) || !msg_is(s, dir, seq & ~TOP, b, n, tmp)) {
			t->corrupt++;
			return UINT64_MAX;
		}
		if ((seq & ~TOP) < want) {
			t->dup++;
			return UINT64_MAX;
		}
		return seq & ~TOP;
	}
	for (uint64_t k = want + 1; s->lossy && k < s->n; k++)   /* udp drops in long bursts */
		if (msg_is(s, dir, k, b, n, tmp))
			return k;
	t->corrupt++;
	return UINT64_MAX;
}

struct side {
	const struct soak *s;
	ipck_chan *c;
	int dir;                     /* the direction this side sends */
	uint64_t sent, got;          /* next to send, next expected */
	int ends;                    /* udp: END markers sent */
	bool tx_ready, rx_done;
	size_t tx_len;
	unsigned char *tx, *rx, *tmp;
	struct tally t;
	long long last_rx_ms;
};

static void got_msg(struct side *d, size_t n)
{
	const struct soak *s = d->s;
	int rdir = !d->dir;
	if (n == 12 && get64(d->rx) == (END_SEQ | ((uint64_t)rdir << 63))) {
		d->rx_done = s->lossy;
		d->t.extra += !s->lossy;
		if (s->lossy) {   /* the tail before the end was lost too */
			d->t.lost += s->n - d->got;
			d->got = s->n;
		}
		return;
	}
	if (d->got >= s->n) {
		d->t.extra++;
		return;
	}
	if (msg_is(s, rdir, d->got, d->rx, n, d->tmp)) {
		d->got++;
	} else {
		uint64_t k = classify(s, rdir, d->rx, n, d->got, d->tmp, &d->t);
		if (k == UINT64_MAX)
			return;
		d->t.lost += k - d->got;
		d->got = k + 1;
	}
	d->t.ok++;
	d->t.bytes += n;
	d->rx_done = d->got == s->n;
}

/* One send with timeout; true when a message (or a udp END) went. */
static bool try_send(struct side *d, int timeout_ms)
{
	const struct soak *s = d->s;
	if (d->sent == s->n) {   /* udp: tell the end three times, best effort */
		put64(d->tx, END_SEQ | ((uint64_t)d->dir << 63));
		ssize_t r = ipck_send(d->c, d->tx, 12, timeout_ms);
		d->ends += r == 12 || (r < 0 && r != -ETIMEDOUT);
		return r == 12;
	}
	if (!d->tx_ready) {
		d->tx_len = msg_size(s, d->dir, d->sent);
		msg_make(s, d->dir, d->sent, d->tx, d->tx_len);
		d->tx_ready = true;
	}
	ssize_t r = ipck_send(d->c, d->tx, d->tx_len, timeout_ms);
	if (r == (ssize_t)d->tx_len) {
		d->sent++;
		d->tx_ready = false;
		return true;
	}
	if (r != -ETIMEDOUT) {
		check_fail(__FILE__, __LINE__, "%s: send %llu (%zu bytes): %s", s->scheme,
			   (unsigned long long)d->sent, d->tx_len, ipck_errname((int)r));
		d->sent = s->n;
		d->ends = 3;
	}
	return false;
}

static bool try_recv(struct side *d, int timeout_ms)
{
	ssize_t r = ipck_recv(d->c, d->rx, d->s->max, timeout_ms);
	if (r >= 0) {
		got_msg(d, (size_t)r);
		d->last_rx_ms = now_ms();
		return true;
	}
	if (r == -ETIMEDOUT) {   /* udp: the END markers may all be lost */
		if (d->s->lossy && now_ms() - d->last_rx_ms > 3000)
			d->rx_done = true;
		return false;
	}
	/* udp: a peer that is through and closed may answer with ICMP port
	 * unreachable (-ECONNRESET) while this side still waits for a tail
	 * that was lost. */
	if (!d->s->lossy || (r != -EPIPE && r != -ECONNRESET))
		check_fail(__FILE__, __LINE__, "%s: recv after %llu: %s", d->s->scheme,
			   (unsigned long long)d->got, ipck_errname((int)r));
	d->rx_done = true;
	return false;
}

static bool tx_done(const struct side *d)
{
	return d->sent == d->s->n && (!d->s->lossy || d->ends >= 3);
}

/* Full duplex until both streams are through. */
static void soak_side(struct side *d)
{
	d->last_rx_ms = now_ms();
	while (!tx_done(d) || !d->rx_done) {
		bool moved = false;
		if (!tx_done(d))
			moved |= try_send(d, d->rx_done ? 100 : 0);
		if (!d->rx_done)
			moved |= try_recv(d, tx_done(d) ? 100 : 0);
		if (moved || tx_done(d) || d->rx_done)
			continue;
		/* Both stuck: the server waits to read, the client to write, so
		 * two full buffers never leave both asleep. */
		if (d->dir) {
			try_send(d, 2);
		} else {
			struct pollfd p = {.fd = ipck_pollfd(d->c), .events = POLLIN};
			poll(&p, 1, 2);
		}
	}
}

/* After both streams: the server sees the client's end and nothing else. */
static void soak_tail(struct side *d, bool server)
{
	struct ipck_stats st;
	CHECK_OK(ipck_stats(d->c, &st));
	d->t.lib_dropped = st.dropped;
	for (;;) {
		ssize_t r = ipck_recv(d->c, d->rx, d->s->max, server ? 10000 : 0);
		if (r < 0) {
			d->t.ended = server ? r == -EPIPE : (r == -ETIMEDOUT || r == -EPIPE ||
							     (d->s->lossy && r == -ECONNRESET));
			return;
		}
		if (!(d->s->lossy && r == 12 && get64(d->rx) == (END_SEQ | ((uint64_t)!d->dir << 63))))
			d->t.extra++;
	}
}

/* ---- one scheme ------------------------------------------------------------ */

#ifdef __SANITIZE_THREAD__
#define SOAK_SCALE 10   /* ThreadSanitizer runs this ten times slower: a tenth */
#else
#define SOAK_SCALE 1
#endif

static uint64_t scheme_count(void)
{
	const char *e = getenv("IPCK_SOAK_COUNT");
	if (e && *e)
		return strtoull(e, NULL, 0);
	return 200000 / SOAK_SCALE;
}

static void side_init(struct side *d, const struct soak *s, ipck_chan *c, int dir)
{
	*d = (struct side){.s = s, .c = c, .dir = dir};
	d->tx = malloc(s->max + 12);
	d->rx = malloc(s->max + 12);
	d->tmp = malloc(s->max + 12);
	REQUIRE(d->tx && d->rx && d->tmp);
}

static void side_free(struct side *d)
{
	free(d->tx);
	free(d->rx);
	free(d->tmp);
}

static struct soak sk;
static ipck_chan *pair_other;   /* the server's end of a pair, closed in the child */
static int report_fd;

static int client_main(void *arg)
{
	ipck_chan *c = arg;
	struct side d;
	ipck_close(pair_other);
	if (!c && ipck_open(&c, sk.url, 0) < 0)
		return 2;
	side_init(&d, &sk, c, 1);
	soak_side(&d);
	soak_tail(&d, false);
	ipck_close(c);
	if (write(report_fd, &d.t, sizeof(d.t)) != sizeof(d.t))
		return 2;
	side_free(&d);
	return 0;
}

static void print_tally(const struct soak *s, const char *way, const struct tally *t, uint64_t sent)
{
	printf("  %-14s %-3s %9llu sent %9llu ok %8.1f MB  lost %llu  dup/reordered %llu"
	       "  corrupt %llu  extra %llu  end %s\n", s->scheme, way, (unsigned long long)sent,
	       (unsigned long long)t->ok, t->bytes / 1e6, (unsigned long long)t->lost,
	       (unsigned long long)t->dup, (unsigned long long)t->corrupt,
	       (unsigned long long)t->extra, t->ended ? "ok" : "MISSING");
	CHECK_EQ(t->corrupt, 0);
	CHECK_EQ(t->dup, 0);
	CHECK_EQ(t->extra, 0);
	CHECK(t->ended);
	if (!s->lossy) {
		CHECK_EQ(t->lost, 0);
		CHECK_EQ(t->ok, sent);
		CHECK_EQ(t->lib_dropped, 0);
	} else {   /* the library counts the same gaps, and lost END markers (<= 2) */
		printf("  %-14s %-3s ipck_stats dropped %llu (%.2f%% lost)\n", s->scheme, way,
		       (unsigned long long)t->lib_dropped, 100.0 * (double)t->lost / (double)sent);
		CHECK(t->lib_dropped >= t->lost && t->lib_dropped <= t->lost + 2);
	}
}

/* The server end: the listener's accepted channel, or a pair end. */
static void soak_scheme(const struct ipck_scheme *sc)
{
	char url[PATH_MAX];
	ipck_chan *l = NULL, *a = NULL, *b = NULL;
	int fds[2];
	snprintf(url, sizeof(url), "%s", test_url(sc->info.name));
	sk = (struct soak){.scheme = sc->info.name, .url = url, .seed = sk.seed, .lossy = sc->info.caps & IPCK_CAP_LOSSY};
	sk.n = scheme_count() / 2;
	if (sc->info.caps & IPCK_CAP_PAIR_ONLY)
		CHECK_OK(ipck_pair(url, &a, &b));
	else
		CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!a && !l)
		return;
	sk.max = ipck_max_msg(a ? a : l);
	sk.max = sk.max < BIG_MAX ? sk.max : BIG_MAX;
	make_bounds(&sk);
	CHECK_SYS(pipe(fds));
	report_fd = fds[1];
	pair_other = a;
	long long t0 = now_ms();
	pid_t pid = spawn(client_main, b);
	pair_other = NULL;
	close(fds[1]);
	ipck_close(b);
	if (l) {
		CHECK_OK(ipck_accept(l, &a, 10000));
		ipck_close(l);
	}
	struct side d;
	struct tally ct = {0};
	if (a) {
		side_init(&d, &sk, a, 0);
		soak_side(&d);
		soak_tail(&d, true);
		ipck_close(a);
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(read(fds[0], &ct, sizeof(ct)), sizeof(ct));
	close(fds[0]);
	long long ms = now_ms() - t0;
	printf("%-14s %llu messages (%llu each way), sizes 0..%zu, %lld ms\n", sc->info.name,
	       (unsigned long long)(2 * sk.n), (unsigned long long)sk.n, sk.max, ms);
	if (a) {
		print_tally(&sk, "c>s", &d.t, sk.n);
		print_tally(&sk, "s>c", &ct, sk.n);
		side_free(&d);
	}
	ipck_unlink(url);
}

/*
 * Schemes that soak in a test program of their own, with the runner's whole
 * timeout: t_soak skips them, named or not (make soak runs both programs
 * with the same IPCK_SOAK_SCHEMES); t_soak_signal.c is this file with
 * SOAK_ONLY "signal".
 */
static const char *const alone[] = {"signal"};

static bool soak_wanted(const char *scheme, int argc, char **argv)
{
#ifdef SOAK_ONLY
	return !strcmp(scheme, SOAK_ONLY) && scheme_wanted(scheme, argc, argv);
#else
	for (size_t i = 0; i < sizeof(alone) / sizeof(alone[0]); i++)
		if (!strcmp(alone[i], scheme))
			return false;
	return scheme_wanted(scheme, argc, argv);
#endif
}

int main(int argc, char **argv)
{
	const char *e = getenv("IPCK_SEED");
	setvbuf(stdout, NULL, _IOLBF, 0);
	sk.seed = e && *e ? strtoull(e, NULL, 0) : mix((uint64_t)now_ms() ^ ((uint64_t)getpid() << 20));
	printf("seed %llu (IPCK_SEED=%llu to repeat)\n", (unsigned long long)sk.seed,
	       (unsigned long long)sk.seed);
	char *only = getenv("IPCK_SOAK_SCHEMES"), *av[64] = {argv[0]};
	if (only && *only && argc < 2) {   /* the same as naming them as arguments */
		for (char *t = strtok(only, " ,"); t && argc < 64; t = strtok(NULL, " ,"))
			av[argc++] = t;
		argv = av;
	}
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (soak_wanted(ipck__schemes[i]->info.name, argc, argv))
			soak_scheme(ipck__schemes[i]);
	check_exit();
}
