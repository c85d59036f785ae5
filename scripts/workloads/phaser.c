/* A long-lived process whose CPU, memory and disk use change in phases, driven by commands on stdin
 * (one per line), so that one pid goes idle -> busy -> idle, grows and shrinks its heap, and bursts
 * I/O, the way a service does. train-mix compiles it with gcc and feeds it a seeded phase sequence.
 *
 *   cpu MS PCT    burn PCT % of one CPU for MS ms (duty cycle over 100 ms periods)
 *   ramp MIB MS   grow or shrink the touched heap to MIB MiB in even steps over MS ms
 *   touch MS      re-dirty every held page for MS ms (memory-bound CPU)
 *   write MIB     write MIB MiB to ./phaser.dat, fsync, drop it from the page cache, read it back
 *   idle MS       sleep MS ms
 *
 * Each command is answered with "ok" on stdout once it is done. Exits at end of input. Heap chunks are 1 MiB, above glibc's mmap threshold, so freeing one returns
 * it to the kernel and RSS falls.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1L << 20)
#define MAX_CHUNKS 4096

static char *chunks[MAX_CHUNKS];
static long held;
static volatile unsigned long sink;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
	if (ms <= 0)
		return;
	struct timespec t = { (time_t)(ms / 1e3), (long)((ms - (time_t)(ms / 1e3) * 1e3) * 1e6) };
	nanosleep(&t, NULL);
}

static void spin_until(double end)
{
	unsigned long x = 88172645463325252UL;
	while (now_ms() < end)
		for (int i = 0; i < 10000; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		}
	sink += x;
}

static void cpu(double ms, double pct)
{
	double end = now_ms() + ms;
	while (now_ms() < end) {
		double t = now_ms();
		spin_until(t + pct);           /* pct % of a 100 ms period */
		sleep_ms(t + 100 - now_ms());
	}
}

static void set_held(long want)
{
	while (held < want && held < MAX_CHUNKS) {
		chunks[held] = malloc(CHUNK);
		if (!chunks[held])
			return;
		memset(chunks[held], (int)held, CHUNK);
		held++;
	}
	while (held > want)
		free(chunks[--held]);
}

static void ramp(long mib, double ms)
{
	long from = held, steps = labs(mib - from);
	if (steps == 0) {
		sleep_ms(ms);
		return;
	}
	double start = now_ms();
	for (long i = 1; i <= steps; i++) {
		set_held(from + (mib > from ? i : -i));
		sleep_ms(start + ms * i / steps - now_ms());
	}
}

static void touch(double ms)
{
	double end = now_ms() + ms;
	if (held == 0) {
		sleep_ms(ms);
		return;
	}
	for (long i = 0; now_ms() < end; i = (i + 1) % held)
		for (long off = 0; off < CHUNK; off += 4096)
			chunks[i][off]++;
}

static void disk(long mib)
{
	static char buf[256 << 10];
	int fd = open("phaser.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	memset(buf, 'p', sizeof(buf));
	for (long i = 0; i < mib * 4; i++)
		if (write(fd, buf, sizeof(buf)) < 0)
			break;
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	lseek(fd, 0, SEEK_SET);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	unlink("phaser.dat");
}

int main(void)
{
	char line[128], op[16];
	double a, b;
	while (fgets(line, sizeof(line), stdin)) {
		int n = sscanf(line, "%15s %lf %lf", op, &a, &b);
		if (n < 2)
			continue;
		if (!strcmp(op, "cpu") && n == 3)
			cpu(a, b);
		else if (!strcmp(op, "ramp") && n == 3)
			ramp((long)a, b);
		else if (!strcmp(op, "touch"))
			touch(a);
		else if (!strcmp(op, "write"))
			disk((long)a);
		else if (!strcmp(op, "idle"))
			sleep_ms(a);
		printf("ok\n");
		fflush(stdout);
	}
	return 0;
}
