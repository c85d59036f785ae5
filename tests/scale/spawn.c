// SPDX-License-Identifier: GPL-2.0
/*
 * Many idle processes, cheaply: every child shares the parent's address space, files and signal
 * handlers (clone without CLONE_THREAD, so each is a process of its own, with its own pid) and
 * sleeps until killed. A child costs the kernel a task and a kernel stack, and no page tables.
 *
 *   spawn            reads lines from stdin: "N" grows to N children (answers "N"),
 *                    "kill K" kills and reaps the K oldest children (answers the count left);
 *                    at end of input kills and reaps them all.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK (16 * 1024)
#define MAX_CHILDREN (1L << 20)

static int sleeper(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

static pid_t *pids;
static long first, count;

static void kill_oldest(long k)
{
	for (long i = 0; i < k && first < count; i++, first++) {
		kill(pids[first], SIGKILL);
		waitpid(pids[first], NULL, 0);
	}
}

int main(void)
{
	char line[64];
	char *stacks = mmap(NULL, MAX_CHILDREN * STACK, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	pids = calloc(MAX_CHILDREN, sizeof(*pids));
	if (stacks == MAP_FAILED || !pids) {
		perror("spawn: memory");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "kill ", 5) == 0) {
			kill_oldest(atol(line + 5));
		} else {
			long want = atol(line);

			while (count - first < want && count < MAX_CHILDREN) {
				pid_t pid = clone(sleeper, stacks + (count + 1) * STACK,
						  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | SIGCHLD,
						  NULL);
				if (pid < 0) {
					perror("spawn: clone");
					break;
				}
				pids[count++] = pid;
			}
		}
		printf("%ld\n", count - first);
	}
	kill_oldest(count);
	return 0;
}
