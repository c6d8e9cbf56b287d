/*
 * reorder.c -- texts written in one order, read back in another
 * (reorder.h).
 *
 * Every text goes to the end of one temporary file, and its span (where
 * it begins and ends) is kept by its item's index.  Reading back is a
 * pread of the span, after one fflush: the file's pages are the kernel's
 * page cache, so a text read back costs a copy, not a disk read, and the
 * process's memory stays two offsets an item whatever the texts' size.
 *
 * The stream written to is stdio's over our own write and seek
 * (fopencookie), which count the file's length: ftello on a stream of
 * the file itself is an lseek, two system calls an item (20,000 for
 * drift's 10,000 pools).
 */
#include "job/base/reorder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "job/base/log.h"
#include "job/base/util.h"

#define WRITE_BUF (64 * 1024)

struct reorder {
	FILE *tmp; /* the unlinked file (tmpfile), owning its descriptor */
	int fd;
	off_t len; /* what was written to it */
	FILE *f; /* the stream the texts are written to (fopencookie) */
	char *fbuf; /* its buffer, WRITE_BUF */
	size_t n;
	off_t *span; /* item i from span[2 * i] to span[2 * i + 1] */
	int flushed; /* nothing written since the last fflush */
	char *buf; /* reorder_read's */
	size_t cap;
};

static int
file_error(void)
{
	log_err(NULL, "a temporary file: %s", strerror(errno));
	return -1;
}

/* fopencookie's write: all of ${buf} at the end of the file. */
static ssize_t
cookie_write(void *vro, const char *buf, size_t size)
{
	struct reorder *ro = vro;
	size_t done = 0;
	ssize_t got;

	while (done < size) {
		got = write(ro->fd, buf + done, size - done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return done > 0 ? (ssize_t)done : -1;
		done += (size_t)got;
		ro->len += got;
	}
	return (ssize_t)done;
}

/* fopencookie's seek: only where the file ends (ftello asks). */
static int
cookie_seek(void *vro, off64_t *off, int whence)
{
	struct reorder *ro = vro;

	if (whence != SEEK_CUR || *off != 0) {
		errno = EINVAL;
		return -1;
	}
	*off = ro->len;
	return 0;
}

struct reorder *
reorder_new(size_t n)
{
	cookie_io_functions_t io = {NULL, cookie_write, cookie_seek, NULL};
	struct reorder *ro = calloc(1, sizeof(*ro));

	if (ro != NULL)
		ro->span = calloc(2 * n + 2, sizeof(*ro->span));
	if (ro == NULL || ro->span == NULL) {
		log_err(NULL, "out of memory");
		free(ro);
		return NULL;
	}
	ro->n = n;
	ro->tmp = util_tmpfile();
	if (ro->tmp != NULL) {
		ro->fd = fileno(ro->tmp);
		ro->f = fopencookie(ro, "w", io);
	}
	if (ro->f == NULL) {
		(void)file_error();
		reorder_free(ro);
		return NULL;
	}
	/* written WRITE_BUF at a time, not stdio's page: drift --json's
	 * 15 MB at 10,000 pools made 5,700 write(2) calls */
	ro->fbuf = malloc(WRITE_BUF);
	if (ro->fbuf != NULL)
		(void)setvbuf(ro->f, ro->fbuf, _IOFBF, WRITE_BUF);
	return ro;
}

FILE *
reorder_begin(struct reorder *ro, size_t i)
{
	ro->span[2 * i] = ftello(ro->f);
	ro->flushed = 0;
	return ro->f;
}

int
reorder_end(struct reorder *ro, size_t i)
{
	ro->span[2 * i + 1] = ftello(ro->f);
	if (ro->span[2 * i] < 0 || ro->span[2 * i + 1] < 0 ||
	    ferror(ro->f) != 0)
		return file_error();
	return 0;
}

/* Make what was written readable by pread.  0/-1. */
static int
flush(struct reorder *ro)
{
	if (ro->flushed)
		return 0;
	if (fflush(ro->f) != 0)
		return file_error();
	ro->flushed = 1;
	return 0;
}

/* Read ${len} bytes at ${at} into ${buf}.  0/-1. */
static int
read_at(struct reorder *ro, char *buf, size_t len, off_t at)
{
	ssize_t got;

	while (len > 0) {
		got = pread(ro->fd, buf, len, at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO; /* shorter than written */
			return file_error();
		}
		buf += got;
		len -= (size_t)got;
		at += got;
	}
	return 0;
}

int
reorder_copy(struct reorder *ro, size_t i, FILE *out)
{
	char buf[65536];
	off_t at = ro->span[2 * i], end = ro->span[2 * i + 1];

	if (flush(ro))
		return -1;
	while (at < end) {
		size_t want = (size_t)(end - at) < sizeof(buf)
		    ? (size_t)(end - at)
		    : sizeof(buf);

		if (read_at(ro, buf, want, at))
			return -1;
		if (fwrite(buf, 1, want, out) != want)
			return -1;
		at += (off_t)want;
	}
	return 0;
}

const char *
reorder_read(struct reorder *ro, size_t i, size_t *len)
{
	size_t n = (size_t)(ro->span[2 * i + 1] - ro->span[2 * i]);
	char *p;

	if (flush(ro))
		return NULL;
	if (n + 1 > ro->cap) {
		p = realloc(ro->buf, n + 1);
		if (p == NULL) {
			log_err(NULL, "out of memory");
			return NULL;
		}
		ro->buf = p;
		ro->cap = n + 1;
	}
	if (read_at(ro, ro->buf, n, ro->span[2 * i]))
		return NULL;
	ro->buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return ro->buf;
}

void
reorder_free(struct reorder *ro)
{
	if (ro == NULL)
		return;
	if (ro->f != NULL)
		fclose(ro->f);
	free(ro->fbuf);
	if (ro->tmp != NULL)
		fclose(ro->tmp);
	free(ro->span);
	free(ro->buf);
	free(ro);
}
