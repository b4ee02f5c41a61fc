// SPDX-License-Identifier: GPL-2.0
/*
 * Loader for the floor aggregator (floor.bpf.c): attach (the sched_waking
 * program too when argv[2] is "wake"), print "attached",
 * then once per interval (default 1 s, like ipctop -d 1) read the per-tgid
 * totals and the switch count and print one summary line, until SIGINT or
 * SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	double interval = argc > 1 ? atof(argv[1]) : 1.0;
	int ncpu = libbpf_num_possible_cpus();
	struct floor_bpf *skel;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long *vals;

	if (ncpu <= 0)
		return 1;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = floor_bpf__open();
	if (skel && !(argc > 2 && strcmp(argv[2], "wake") == 0))
		bpf_program__set_autoload(skel->progs.floor_sched_waking, false);
	if (!skel || floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: cannot load or attach: %s\n", strerror(errno));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (!stop) {
		struct timespec ts = { (time_t)interval,
				       (long)((interval - (double)(time_t)interval) * 1e9) };
		unsigned long long total = 0, sw = 0;
		unsigned int key, next, zero = 0, tgids = 0;
		int fd = bpf_map__fd(skel->maps.bytes);
		int have = bpf_map_get_next_key(fd, NULL, &next) == 0;

		nanosleep(&ts, NULL); /* a signal ends the interval early */
		while (have) {
			key = next;
			if (bpf_map_lookup_elem(fd, &key, vals) == 0) {
				for (int i = 0; i < ncpu; i++)
					total += vals[i];
				tgids++;
			}
			have = bpf_map_get_next_key(fd, &key, &next) == 0;
		}
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.switches), &zero, vals) == 0)
			for (int i = 0; i < ncpu; i++)
				sw += vals[i];
		printf("{\"tgids\":%u,\"bytes\":%llu,\"switches\":%llu}\n", tgids, total, sw);
		fflush(stdout);
	}
	floor_bpf__destroy(skel);
	free(vals);
	return 0;
}
