/*
 * What the requests do (the same as the worker threads): each request that waits is kept as one
 * pending record in its module (connect.c, broadcast.c, echo.c) and answered from the loop.
 */
#include <string.h>

#include "loadgen.h"
#include "request.h"
#include "runs.h"

/* ---- lines and chunks ---- */

void on_line(Client *c, const char *buf, size_t start, size_t end) {
  switch (c->scan) {
  case SCAN_PARSE:
    broadcast_on_line(c, buf, start, end);
    break;
  case SCAN_SETUP:
    join_on_line(c, buf, start, end);
    break;
  case SCAN_PROBE:
    probe_on_line(c, buf, start, end);
    break;
  case SCAN_ECHO_A:
  case SCAN_ECHO_B:
    echo_on_line(c, buf, start, end);
    break;
  }
}

void after_chunk(Client *c) { broadcast_after_chunk(c); }

/* ---- the loop's timers ---- */

void runs_tick(void) {
  int64_t now = now_us();
  connect_tick(now);
  broadcast_tick(now);
  echo_tick(now);
}

int64_t runs_next_deadline_us(void) {
  int64_t next = connect_deadline_us();
  int64_t at = broadcast_deadline_us();
  if (at < next) next = at;
  at = echo_deadline_us();
  return at < next ? at : next;
}

void handle_request(char *line) {
  Request q;
  if (!req_parse(line, &q)) {
    reply_error(q.id, "malformed request line");
    return;
  }
  const char *op = q.op;
  if (strcmp(op, "connect") == 0) op_connect(q.id, &q);
  else if (strcmp(op, "join-pairs") == 0) op_join_pairs(q.id, &q);
  else if (strcmp(op, "probe") == 0) op_probe(q.id, &q);
  else if (strcmp(op, "broadcast") == 0) op_broadcast(q.id, &q);
  else if (strcmp(op, "broadcast-start") == 0) op_broadcast_start(q.id);
  else if (strcmp(op, "broadcast-stop") == 0) {
    broadcast_finish();
    reply_ok(q.id, NULL);
  } else if (strcmp(op, "counts") == 0) op_counts(q.id, &q);
  else if (strcmp(op, "echo") == 0) op_echo(q.id, &q);
  else if (strcmp(op, "close-all") == 0) op_close_all(q.id, &q);
  else reply_error(q.id, "unknown op");
}
