/*
 * fuzz_ring.c - a hostile peer of the shared-memory ring (src/ring.c): a
 * pshm: pair a/b in one process, where the input both drives a's legitimate
 * calls and writes arbitrary bytes, words and 64-bit values anywhere in the
 * shared segment (header, positions, sleeping flags, record lengths) between
 * b's calls.  b must never crash, read or write outside its buffers, hang,
 * or return a message longer than its buffer or max_msg.
 *
 * Input: a program of operations, each one opcode byte then its operands:
 *   0 off16 v8    poke a byte          4 c8      b receives (cap table), timeout 0
 *   1 off16 v32   poke a 32-bit word   5 n8      b sends n bytes, timeout 0
 *   2 off16 v64   poke a 64-bit word   6         b peeks and releases
 *   3 n8          a sends 8n bytes     7         a receives, timeout 0
 * Offsets are taken modulo the segment size and aligned to the word.
 */
#include "fuzz.h"
#include "internal.h"
#include "ring.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const size_t ring_caps[] = {0, 1, 7, 8, 64, 100, 1000, 2040, 4096, 70000};

static uint64_t take(const uint8_t *d, size_t n, size_t *i, int bytes)
{
	uint64_t v = 0;
	for (int k = 0; k < bytes; k++, (*i)++)
		v |= (uint64_t)(*i < n ? d[*i] : 0) << (8 * k);
	return v;
}

static void poke(unsigned char *seg, size_t size, uint64_t off, uint64_t v, int bytes)
{
	off = (off % size) & ~(uint64_t)(bytes - 1);
	if (off + (size_t)bytes <= size)
		memcpy(seg + off, &v, (size_t)bytes);   /* little-endian: the low bytes */
}

static void b_recv(ipck_chan *b, size_t cap)
{
	unsigned char *buf = malloc(cap ? cap : 1);
	if (!buf)
		abort();
	ssize_t r = ipck_recv(b, buf, cap, 0);
	FUZZ_CHECK(r < 0 ? r > -4096 : (size_t)r <= cap && (size_t)r <= ipck_max_msg(b));
	free(buf);
}

static void b_peek(ipck_chan *b)
{
	const void *p;
	size_t len;
	if (ipck_peek(b, &p, &len, 0) == 0) {
		FUZZ_CHECK(len <= ipck_max_msg(b));
		volatile unsigned char sum = 0;
		for (size_t k = 0; k < len; k++)   /* every byte of it must be readable */
			sum ^= ((const unsigned char *)p)[k];
		(void)sum;
		ipck_release(b);
	}
}

int fuzz_ring(const uint8_t *d, size_t n)
{
	ipck_chan *a, *b;
	unsigned char msg[2048], back[2048];
	if (ipck_pair("pshm:?capacity=4096&spin_us=0", &a, &b))
		abort();
	struct ring *ra = ipck__priv(a);
	unsigned char *seg = (unsigned char *)ra->h;
	size_t size = ipck__ring_size(ra->cap, ra->mpmc);
	memset(msg, 0x5a, sizeof(msg));
	for (size_t i = 0; i < n;) {
		uint8_t op = d[i++] % 8;
		uint64_t off, v;
		switch (op) {
		case 0: case 1: case 2:
			off = take(d, n, &i, 2);
			v = take(d, n, &i, op == 0 ? 1 : op == 1 ? 4 : 8);
			poke(seg, size, off, v, op == 0 ? 1 : op == 1 ? 4 : 8);
			break;
		case 3: ipck_send(a, msg, 8 * take(d, n, &i, 1), 0); break;
		case 4: b_recv(b, ring_caps[take(d, n, &i, 1) % (sizeof(ring_caps) / sizeof(ring_caps[0]))]); break;
		case 5: ipck_send(b, msg, take(d, n, &i, 1), 0); break;
		case 6: b_peek(b); break;
		default: ipck_recv(a, back, sizeof(back), 0); break;
		}
	}
	ipck_close(a);
	ipck_close(b);
	return 0;
}
