/*
 * flog.h - the append-only record logs behind "file:" (flog.c), and the
 * fcntl record locks both they and the scheme's rendezvous use.  Private to
 * src/flog.c and src/scheme/file.c.
 */
#ifndef IPCK_FLOG_H
#define IPCK_FLOG_H

#include "internal.h"

#define FLOG_MAGIC 0x676c6b69u   /* "iklg": a log */
#define FCTL_MAGIC 0x6c636b69u   /* "ikcl": a rendezvous file */
#define FREC_MAGIC 0x63726b69u   /* "ikrc": a record */
#define FLOG_VERSION 1

/* Head of a log file, little-endian. */
struct flog_hdr {
	uint32_t magic;      /* FLOG_MAGIC */
	uint32_t version;    /* FLOG_VERSION */
	uint64_t saved_off;  /* the reader's next record, for from=saved */
	uint64_t saved_seq;  /* that record's sequence number */
	uint8_t pad[40];     /* zero; the first record starts at byte 64 */
};
#define FLOG_START ((uint64_t)sizeof(struct flog_hdr))

/* Head of every record; the payload follows.  Little-endian. */
struct frec {
	uint32_t magic;      /* FREC_MAGIC */
	uint32_t len;        /* payload bytes, <= IPCK_STREAM_MAX */
	uint64_t seq;        /* number of the record in its log, from 0 */
	uint64_t gen;        /* the connection that wrote it */
	uint32_t tag;        /* REC_DATA, or REC_BYE: its writer closed */
	uint32_t crc;        /* CRC-32C of this head (crc 0) and the payload */
};
enum { REC_DATA = 1, REC_BYE = 2 };

/* One direction's log as one side sees it. */
struct flog {
	int fd;
	uint64_t off;        /* reader: next record; writer: end of the last */
	uint64_t seq;        /* that record's sequence number */
};

/* The byte of a log its writer locks while it appends. */
#define FLOG_LOCK_APPEND 0

/* ---- fcntl record locks: OFD where the file system has them -------------- */
/* Take a lock on [at, at+1) of fd (type F_RDLCK / F_WRLCK), waiting until dl. */
int ipck__flk_lock(int fd, bool *classic, short type, off_t at, deadline_t dl);
void ipck__flk_unlock(int fd, bool classic, off_t at);
/* 1 when another open file holds a lock in [at, at+len) (len 0: to the end). */
int ipck__flk_held(int fd, bool classic, off_t at, off_t len);

/* ---- logs ------------------------------------------------------------------ */
uint32_t ipck__crc32c(uint32_t crc, const void *data, size_t n);
/* pread / pwrite of all n bytes; a read past the end is -EAGAIN. */
int ipck__flog_pread(int fd, void *buf, size_t n, uint64_t off);
int ipck__flog_pwrite(int fd, const void *buf, size_t n, uint64_t off);
/* Write the head of a new, empty log. */
int ipck__flog_init(int fd);
/* Check the head of fd is a log's. */
int ipck__flog_check(int fd);
/* Start reading at the saved position, or at the first record. */
int ipck__flog_reader(struct flog *lg, bool from_start);
/* Become the writer: find the end of the valid records, cut a torn tail. */
int ipck__flog_writer(struct flog *lg);
/* Append one record (the append lock held).  len or -errno; on error the
 * log is cut back so that no part of the record stays. */
ssize_t ipck__flog_append(struct flog *lg, uint32_t tag, uint64_t gen, const void *msg, size_t len);
/*
 * Read the record at lg->off into buf: its length (head in *h), -EAGAIN when
 * there is no whole, valid record there (yet), -EMSGSIZE when it is larger
 * than cap (*h filled), -EPROTO when it is out of sequence.
 */
ssize_t ipck__flog_read(struct flog *lg, void *buf, size_t cap, struct frec *h);
/* Step past the record just read, and save the position in the head. */
void ipck__flog_consume(struct flog *lg, const struct frec *h);

#endif
