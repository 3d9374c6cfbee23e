/*
 * loadgen: the bench's native load generator. Usage: loadgen T0_US
 * (T0_US: the run's time origin on CLOCK_MONOTONIC in µs; message stamps count from it).
 * Requests come on stdin, one a line; replies and progress go to stdout as JSON lines. The
 * process exits when stdin ends, closing every socket, so it never outlives the bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "loadgen.h"

int g_epoll;
int64_t g_t0_us;
int64_t g_chunk_now_us;
int64_t g_last_delivery_us;
uint64_t g_closed_since_run;
uint64_t g_progress_ready, g_progress_sent, g_progress_round_trips;
Client **g_clients;
int g_clients_cap;

#define PROGRESS_EVERY_US 500000
#define MAX_EVENTS 256
#define STDIN_LINE_MAX (4 * 1024 * 1024)

Client *client_get(int id) {
  return id >= 0 && id < g_clients_cap ? g_clients[id] : NULL;
}

static char stdin_marker;
static char *in_buf;
static size_t in_len;

/* Reads what stdin has; hands over every complete line. Returns 0 at EOF. */
static int read_stdin(void) {
  char chunk[65536];
  ssize_t n = read(0, chunk, sizeof chunk);
  if (n == 0) return 0;
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (in_len + (size_t)n > STDIN_LINE_MAX) {
    fprintf(stderr, "loadgen: request line too long\n");
    return 0;
  }
  in_buf = realloc(in_buf, in_len + (size_t)n + 1);
  if (!in_buf) abort();
  memcpy(in_buf + in_len, chunk, (size_t)n);
  in_len += (size_t)n;
  size_t start = 0;
  char *lf;
  while ((lf = memchr(in_buf + start, '\n', in_len - start)) != NULL) {
    *lf = 0;
    if (lf > in_buf + start) handle_request(in_buf + start);
    start = (size_t)(lf - in_buf) + 1;
  }
  memmove(in_buf, in_buf + start, in_len - start);
  in_len -= start;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: loadgen T0_US (requests on stdin)\n");
    return 2;
  }
  g_t0_us = strtoll(argv[1], NULL, 10);
  signal(SIGPIPE, SIG_IGN);
  /* As many sockets as the hard limit allows (the idle scenario opens thousands). */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &stdin_marker};
  epoll_ctl(g_epoll, EPOLL_CTL_ADD, 0, &ev);
  struct epoll_event events[MAX_EVENTS];
  int64_t next_progress = now_us() + PROGRESS_EVERY_US;
  for (;;) {
    int64_t now = now_us();
    int64_t next = runs_next_deadline_us();
    if (next_progress < next) next = next_progress;
    int timeout = next <= now ? 0 : (int)((next - now + 999) / 1000);
    int n = epoll_wait(g_epoll, events, MAX_EVENTS, timeout);
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == &stdin_marker) {
        if (!read_stdin()) {
          close_everything();
          return 0;
        }
        continue;
      }
      client_on_event(events[i].data.ptr, events[i].events);
    }
    runs_tick();
    client_flush_all();
    free_forgotten();
    if (now_us() >= next_progress) {
      write_progress();
      next_progress = now_us() + PROGRESS_EVERY_US;
    }
  }
}
