/*
 * shmclient.c with libipckit - the other half of shmserver.c: wait on
 * "filled", read the segment, write the text back in capitals, post "done".
 * The server removes both objects.  ipck_shm_open checks the segment's
 * owner and learns its size (checked here before use).
 *
 * usage: shmclient [KEY]           (the server's; default 5679)
 *
 * Transcript: see shmserver.c.
 */
#include <ipckit.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_SIZE 64
enum { SEM_FILLED, SEM_DONE };

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "shmclient: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *key = argc > 1 ? argv[1] : "5679";
	char shm_url[64], sem_url[64];
	snprintf(shm_url, sizeof(shm_url), "svshm:%s", key);
	snprintf(sem_url, sizeof(sem_url), "svsem:%s", key);

	/* The server makes the segment after the set: once it is there, both are. */
	ipck_shm *shm;
	int r;
	printf("step: ipck_shm_open(&shm, \"%s\")\n", shm_url);
	for (int i = 0; (r = ipck_shm_open(&shm, shm_url)) == -ENOENT && i < 1000; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);   /* not there yet */
	ok(r, "ipck_shm_open");
	if (ipck_shm_size(shm) < TEXT_SIZE)
		ok(-EPROTO, "segment smaller than expected");
	ipck_sem *sem;
	printf("step: ipck_sem_open(&sem, \"%s\")\n", sem_url);
	ok(ipck_sem_open(&sem, sem_url), "ipck_sem_open");
	char *text;
	ok(ipck_shm_map(shm, (void **)&text), "ipck_shm_map");

	printf("step: ipck_sem_wait(sem, filled, 10000)\n");
	ok(ipck_sem_wait(sem, SEM_FILLED, 10000), "ipck_sem_wait");
	size_t len = strnlen(text, TEXT_SIZE - 1);
	printf("client: read \"%.*s\"\n", (int)len, text);
	for (size_t i = 0; i < len; i++)
		text[i] = (char)toupper((unsigned char)text[i]);
	text[len] = '\0';
	printf("step: ipck_sem_post(sem, done)\n");
	ok(ipck_sem_post(sem, SEM_DONE), "ipck_sem_post");
	ok(ipck_shm_close(shm), "ipck_shm_close");
	ok(ipck_sem_close(sem), "ipck_sem_close");
	return 0;
}
