// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbench: IPC-heavy workloads for ipctop's overhead benchmark (bench/run.py).
 *
 *   ipcbench <workload> <same|cross> <seconds> [rate]
 *   ipcbench threads <count> <seconds> <sleep|wake>
 *
 * Ping-pong workloads (1 byte each way; one op = one round trip, 4 syscalls):
 *   pipe unix_stream unix_dgram tcp sysv_msg posix_mq sem
 * Others:
 *   stream64k  a writer streams 64 KiB write()s through a pipe, the reader
 *              reads 64 KiB at a time; one op = 64 KiB received
 *   yield      two processes on one CPU call sched_yield(); one op = one yield
 *   devnull    one process write()s 1 byte to /dev/null; one op = one write
 *
 * "same" pins both processes to CPU 0, "cross" the first to CPU 0 and the
 * second to CPU 1. An optional rate (ops/s) paces the first process, for the
 * CPU-cost measurement at a known syscall rate. After a 0.1 s warm-up the
 * first process counts ops for <seconds>, then SIGKILLs the second, cleans up
 * and prints one JSON line on stdout.
 *
 * `threads` starts <count> threads with small stacks that either sleep for
 * good (sleep) or wake once a second (wake), prints "ready" and waits for
 * <seconds> or a signal.
 *
 * Named objects never outlive a run: POSIX queues are unlinked before the
 * fork; the SysV queue's key is 0x1B7C0000 | (pid & 0xffff) so that run.py can
 * remove a leftover one after a SIGKILL; semaphores live in anonymous shared
 * memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYSV_KEY_BASE 0x1B7C0000
#define STREAM_CHUNK (64 * 1024)
#define WARMUP_S 0.1

static void die(const char *what)
{
	fprintf(stderr, "ipcbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* State shared by both processes. */
struct shared {
	sem_t a, b;
	volatile unsigned long yields[2];
};

static struct shared *sh;
static int fds[4] = { -1, -1, -1, -1 }; /* side 0: fds[0] out, fds[1] in; side 1: fds[2] in, fds[3] out */
static int msqid = -1;
static mqd_t mq[2] = { (mqd_t)-1, (mqd_t)-1 };
static pid_t child = -1;

struct sysv_msg {
	long mtype;
	char mtext[1];
};

static void cleanup(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	if (msqid >= 0) {
		msgctl(msqid, IPC_RMID, NULL);
		msqid = -1;
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* --- transports: one round trip half for each side ---------------------- */

enum kind { K_PIPE, K_USTREAM, K_UDGRAM, K_TCP, K_SYSV, K_MQ, K_SEM };

static enum kind kind;

static void xwrite(int fd, bool sock)
{
	char c = 'x';
	ssize_t n = sock ? send(fd, &c, 1, 0) : write(fd, &c, 1);

	if (n != 1)
		die("send");
}

static void xread(int fd, bool sock)
{
	char c;
	ssize_t n = sock ? recv(fd, &c, 1, 0) : read(fd, &c, 1);

	if (n != 1) {
		if (n == 0)
			exit(0); /* peer went away */
		die("recv");
	}
}

static void send_side(int side)
{
	switch (kind) {
	case K_PIPE:
		xwrite(side ? fds[3] : fds[0], false);
		break;
	case K_USTREAM: case K_UDGRAM: case K_TCP:
		xwrite(side ? fds[3] : fds[0], true);
		break;
	case K_SYSV: {
		struct sysv_msg m = { .mtype = side ? 2 : 1, .mtext = { 'x' } };

		if (msgsnd(msqid, &m, 1, 0))
			die("msgsnd");
		break;
	}
	case K_MQ:
		if (mq_send(mq[side], "x", 1, 0))
			die("mq_send");
		break;
	case K_SEM:
		if (sem_post(side ? &sh->b : &sh->a))
			die("sem_post");
		break;
	}
}

static void recv_side(int side)
{
	switch (kind) {
	case K_PIPE:
		xread(side ? fds[2] : fds[1], false);
		break;
	case K_USTREAM: case K_UDGRAM: case K_TCP:
		xread(side ? fds[2] : fds[1], true);
		break;
	case K_SYSV: {
		struct sysv_msg m;

		if (msgrcv(msqid, &m, 1, side ? 1 : 2, 0) != 1)
			die("msgrcv");
		break;
	}
	case K_MQ: {
		char buf[16];

		if (mq_receive(mq[side ? 0 : 1], buf, sizeof(buf), NULL) != 1)
			die("mq_receive");
		break;
	}
	case K_SEM:
		while (sem_wait(side ? &sh->a : &sh->b))
			if (errno != EINTR)
				die("sem_wait");
		break;
	}
}

static void setup_transport(void)
{
	int p[2], q[2], sv[2];

	switch (kind) {
	case K_PIPE:
		if (pipe(p) || pipe(q))
			die("pipe");
		/* side 0 writes p, reads q; side 1 reads p, writes q */
		fds[0] = p[1]; fds[2] = p[0];
		fds[3] = q[1]; fds[1] = q[0];
		break;
	case K_USTREAM: case K_UDGRAM:
		if (socketpair(AF_UNIX, kind == K_USTREAM ? SOCK_STREAM : SOCK_DGRAM, 0, sv))
			die("socketpair");
		fds[0] = fds[1] = sv[0];
		fds[2] = fds[3] = sv[1];
		break;
	case K_TCP: {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);
		int one = 1;
		int l = socket(AF_INET, SOCK_STREAM, 0), c, s;

		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
		    getsockname(l, (struct sockaddr *)&a, &len))
			die("tcp listen");
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
			die("tcp connect");
		s = accept(l, NULL, NULL);
		if (s < 0)
			die("tcp accept");
		close(l);
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fds[0] = fds[1] = c;
		fds[2] = fds[3] = s;
		break;
	}
	case K_SYSV:
		msqid = msgget(SYSV_KEY_BASE | (getpid() & 0xffff), IPC_CREAT | IPC_EXCL | 0600);
		if (msqid < 0)
			die("msgget");
		break;
	case K_MQ: {
		struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 8 };
		char name[64];

		for (int i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "/ipcbench.%d.%d", (int)getpid(), i);
			mq[i] = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
			if (mq[i] == (mqd_t)-1)
				die("mq_open");
			mq_unlink(name); /* the descriptors keep it alive */
		}
		break;
	}
	case K_SEM:
		if (sem_init(&sh->a, 1, 0) || sem_init(&sh->b, 1, 0))
			die("sem_init");
		break;
	}
}

static pid_t spawn(int cpu, void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		pin(cpu);
		fn();
		_exit(0);
	}
	return pid;
}

static void pingpong_child(void)
{
	for (;;) {
		recv_side(1);
		send_side(1);
	}
}

static void stream_child(void)
{
	static char buf[STREAM_CHUNK];

	memset(buf, 'x', sizeof(buf));
	for (;;)
		if (write(fds[0], buf, sizeof(buf)) < 0)
			_exit(0);
}

static void yield_child(void)
{
	for (;;) {
		sched_yield();
		sh->yields[1]++;
	}
}

/* Busy phase of the first process: run `op` until `seconds` after a warm-up. */
struct result {
	double ops, secs, total; /* total: ops since the start, warm-up included */
};

static struct result measure(double seconds, double rate, int check_every,
			     void (*op)(void), double (*count)(void))
{
	double t0 = now_s(), start = 0, deadline = 0, base = 0;
	unsigned long n = 0;
	bool warm = false;

	for (;;) {
		op();
		if (++n % (unsigned long)check_every)
			continue;
		double t = now_s();

		if (!warm) {
			if (t - t0 < WARMUP_S)
				continue;
			warm = true;
			start = t;
			deadline = t + seconds;
			base = count ? count() : (double)n;
			continue;
		}
		if (t >= deadline) {
			double total = count ? count() : (double)n;
			struct result r = { total - base, t - start, total };
			return r;
		}
		if (rate > 0) {
			double due = start + ((count ? count() : (double)n) - base) / rate;

			if (due - t > 0.0005) {
				struct timespec ts;
				double d = due < deadline ? due : deadline;

				ts.tv_sec = (time_t)d;
				ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
		}
	}
}

static void pingpong_op(void)
{
	send_side(0);
	recv_side(0);
}

static double stream_bytes;
static void stream_op(void)
{
	static char buf[STREAM_CHUNK];
	ssize_t n = read(fds[2], buf, sizeof(buf));

	if (n <= 0)
		die("stream read");
	stream_bytes += (double)n;
}
static double stream_count(void) { return stream_bytes / STREAM_CHUNK; }

static void yield_op(void)
{
	sched_yield();
	sh->yields[0]++;
}
static double yield_count(void) { return (double)(sh->yields[0] + sh->yields[1]); }

static int devnull_fd = -1;
static void devnull_op(void)
{
	if (write(devnull_fd, "x", 1) != 1)
		die("write /dev/null");
}

/* --- threads: many idle threads for the RSS measurement ---------------- */

static bool wake_threads;

static void *idle_thread(void *arg)
{
	struct timespec ts = { 1, (long)((uintptr_t)arg % 1000) * 1000000L };

	if (!wake_threads)
		for (;;)
			pause();
	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

static int run_threads(int count, double seconds)
{
	pthread_attr_t attr;
	long min = sysconf(_SC_THREAD_STACK_MIN);
	size_t stack = min > 16384 ? (size_t)min : 16384;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, stack);
	pthread_attr_setguardsize(&attr, 0);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < count; i++) {
		pthread_t t;
		int err = pthread_create(&t, &attr, idle_thread, (void *)(uintptr_t)i);

		if (err) {
			errno = err;
			die("pthread_create");
		}
	}
	printf("ready\n");
	fflush(stdout);
	struct timespec ts = { (time_t)seconds, 0 };
	nanosleep(&ts, NULL);
	return 0;
}

/* --- main ----------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: ipcbench <pipe|unix_stream|unix_dgram|tcp|sysv_msg|posix_mq|sem|"
		"stream64k|yield|devnull> <same|cross> <seconds> [rate]\n"
		"       ipcbench threads <count> <seconds> <sleep|wake>\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; enum kind kind; } pp[] = {
		{ "pipe", K_PIPE }, { "unix_stream", K_USTREAM }, { "unix_dgram", K_UDGRAM },
		{ "tcp", K_TCP }, { "sysv_msg", K_SYSV }, { "posix_mq", K_MQ }, { "sem", K_SEM },
	};
	const char *wl;
	double seconds, rate = 0;
	int cpu1 = 0;
	struct result r;
	bool found = false;

	if (argc < 4)
		usage();
	wl = argv[1];
	seconds = atof(argv[3]);
	if (!strcmp(wl, "threads")) {
		if (argc != 5)
			usage();
		wake_threads = !strcmp(argv[4], "wake");
		return run_threads(atoi(argv[2]), seconds);
	}
	if (!strcmp(argv[2], "cross"))
		cpu1 = 1;
	else if (strcmp(argv[2], "same"))
		usage();
	if (argc > 4)
		rate = atof(argv[4]);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm((unsigned)(seconds + 30)); /* never outlive a stuck peer */
	pin(0);

	for (size_t i = 0; i < sizeof(pp) / sizeof(pp[0]); i++) {
		if (strcmp(wl, pp[i].name))
			continue;
		kind = pp[i].kind;
		setup_transport();
		child = spawn(cpu1, pingpong_child);
		r = measure(seconds, rate, 16, pingpong_op, NULL);
		found = true;
	}
	if (!strcmp(wl, "stream64k")) {
		int p[2];

		if (pipe(p))
			die("pipe");
		fds[0] = p[1];
		fds[2] = p[0];
		child = spawn(cpu1, stream_child);
		close(fds[0]);
		r = measure(seconds, rate, 4, stream_op, stream_count);
		found = true;
	} else if (!strcmp(wl, "yield")) {
		child = spawn(cpu1, yield_child);
		r = measure(seconds, rate, 256, yield_op, yield_count);
		found = true;
	} else if (!strcmp(wl, "devnull")) {
		devnull_fd = open("/dev/null", O_WRONLY);
		if (devnull_fd < 0)
			die("open /dev/null");
		r = measure(seconds, rate, 1024, devnull_op, NULL);
		found = true;
	}
	if (!found)
		usage();
	cleanup();
	printf("{\"workload\":\"%s\",\"placement\":\"%s\",\"ops\":%.0f,\"seconds\":%.6f,"
	       "\"ops_per_s\":%.1f,\"ops_total\":%.0f}\n", wl, argv[2], r.ops, r.secs,
	       r.ops / r.secs, r.total);
	return 0;
}
