// tui_swarm: many live processes and threads for measuring the TUI's own
// cost (bench/tui_cost.py). Forks PROCS processes of THREADS threads each;
// in every process one thread writes a byte to a pipe every PERIOD_MS and
// another reads it, the others sleep PERIOD_MS in a loop, so every task is
// active in every interval and every process has a flow. Children die with
// the parent (PR_SET_PDEATHSIG); the parent exits after SECONDS or on
// SIGTERM/SIGINT, killing its process group.
//
//   tui_swarm PROCS THREADS PERIOD_MS SECONDS
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int period_ms;
static int fds[2];

static void nap(void) {
  struct timespec ts = {period_ms / 1000, (long)(period_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void *writer(void *arg) {
  (void)arg;
  for (;;) {
    if (write(fds[1], "x", 1) != 1) _exit(1);
    nap();
  }
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  char c;
  while (read(fds[0], &c, 1) == 1) {
  }
  _exit(0);
  return NULL;
}

static void *sleeper(void *arg) {
  (void)arg;
  for (;;) nap();
  return NULL;
}

static void child(int threads) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) _exit(0);
  if (pipe(fds) != 0) _exit(1);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t t;
  pthread_create(&t, &attr, reader, NULL);
  for (int i = 2; i < threads; ++i) pthread_create(&t, &attr, sleeper, NULL);
  writer(NULL);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s PROCS THREADS PERIOD_MS SECONDS\n", argv[0]);
    return 2;
  }
  int procs = atoi(argv[1]), threads = atoi(argv[2]), seconds = atoi(argv[4]);
  period_ms = atoi(argv[3]);
  if (procs < 1 || threads < 2 || period_ms < 1 || seconds < 1) return 2;
  setpgid(0, 0);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  for (int i = 0; i < procs; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      child(threads);
    }
    if (pid < 0) {
      perror("fork");
      break;
    }
  }
  printf("ready %d processes x %d threads\n", procs, threads);
  fflush(stdout);
  for (int s = 0; s < seconds * 10 && !stop; ++s) usleep(100000);
  signal(SIGTERM, SIG_IGN);
  kill(0, SIGTERM);
  while (wait(NULL) > 0) {
  }
  return 0;
}
