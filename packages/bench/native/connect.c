/*
 * Connections as src/load/connections.ts, echo-run.ts and probe-run.ts handle them: connect and
 * wait until ready (or failed, or timed out), join pairs to rooms, probe that the server has let
 * every client in, close (a clean FIN, then a grace), and forget clients safely within a loop turn.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "request.h"
#include "runs.h"

/* A connection that closes after close-all's FIN gets this long before it is cut. */
#define CLOSE_GRACE_US 3000000
/* Distinct failure reasons kept; more are counted under the last one. */
#define MAX_FAILURE_KINDS 32

ConnectSpec g_connect_spec;

/* ---- clients that are gone: freed once the loop turn that may still name them is over ---- */

static Client **forgotten;
static int forgotten_len, forgotten_cap;

void client_forget(Client *c) {
  if (c->id < g_clients_cap && g_clients[c->id] == c) g_clients[c->id] = NULL;
  client_close_now(c);
  if (forgotten_len == forgotten_cap) {
    forgotten_cap = forgotten_cap ? forgotten_cap * 2 : 256;
    forgotten = realloc(forgotten, sizeof *forgotten * (size_t)forgotten_cap);
    if (!forgotten) abort();
  }
  forgotten[forgotten_len++] = c;
}

void free_forgotten(void) {
  for (int i = 0; i < forgotten_len; i++) {
    free(forgotten[i]->out);
    free(forgotten[i]->pre);
    free(forgotten[i]->last_seq);
    free(forgotten[i]->tail);
    free(forgotten[i]);
  }
  forgotten_len = 0;
}

/* ---- connect ---- */

static struct {
  int id; /* request id, 0 when none is pending */
  int *clients;
  int count, pending, ready, failed;
  int opened;  /* clients opened so far, in order */
  int window;  /* most clients connecting at once (opened, not yet settled); 0: no limit */
  int opening; /* open_more is on the stack: a client that fails at once must not recurse */
  char *reasons[MAX_FAILURE_KINDS];
  int reason_counts[MAX_FAILURE_KINDS];
  int kinds;
  int64_t start_us, last_ready_us, deadline_us;
  Histogram *hist;
} conn;

static void count_failure(const char *reason) {
  conn.failed++;
  int i = 0;
  while (i < conn.kinds && strcmp(conn.reasons[i], reason) != 0) i++;
  if (i == conn.kinds) {
    if (conn.kinds == MAX_FAILURE_KINDS) i = MAX_FAILURE_KINDS - 1;
    else conn.reasons[conn.kinds++] = strdup(reason);
  }
  conn.reason_counts[i]++;
}

static void connect_finish(void) {
  /* Clients the window never let open ran out of time too. */
  for (int i = conn.opened; i < conn.count; i++) count_failure("timeout");
  for (int i = 0; i < conn.opened; i++) {
    Client *c = client_get(conn.clients[i]);
    if (c && !c->settled && c->state != C_CLOSED) {
      c->settled = 1;
      count_failure("timeout");
      client_forget(c);
    }
  }
  Str r = {0};
  str_printf(&r, "{\"ready\":%d,\"failed\":%d,\"failures\":{", conn.ready, conn.failed);
  for (int i = 0; i < conn.kinds; i++) {
    if (i) str_add(&r, ",", 1);
    str_json(&r, conn.reasons[i]);
    str_printf(&r, ":%d", conn.reason_counts[i]);
    free(conn.reasons[i]);
  }
  str_printf(&r, "},\"startUs\":%lld,\"lastReadyUs\":%lld,\"histogram\":",
             (long long)conn.start_us, (long long)conn.last_ready_us);
  str_hist(&r, conn.hist);
  str_add(&r, "}", 1);
  int id = conn.id;
  free(conn.clients);
  Histogram *hist = conn.hist;
  memset(&conn, 0, sizeof conn);
  conn.hist = hist;
  reply_ok_free(id, &r);
}

/* Opens the next clients while fewer than the window are connecting (all of them without one). */
static void open_more(void) {
  if (conn.opening) return;
  conn.opening = 1;
  int id = conn.id;
  while (conn.id == id && conn.opened < conn.count &&
         (conn.window == 0 || conn.opened - (conn.ready + conn.failed) < conn.window))
    client_open(conn.clients[conn.opened++], &g_connect_spec);
  if (conn.id == id) conn.opening = 0;
}

void connect_settle(Client *c, const char *reason) {
  if (conn.id == 0 || c->settled) return;
  c->settled = 1;
  if (reason == NULL) {
    c->state = C_READY;
    if (g_connect_spec.pause) client_pause(c);
    conn.ready++;
    g_progress_ready++;
    conn.last_ready_us = now_us();
    hist_record(conn.hist, conn.last_ready_us - conn.start_us);
  } else {
    count_failure(reason);
    /* A client that never became ready takes no part in the runs that follow. */
    client_forget(c);
  }
  if (--conn.pending == 0) connect_finish();
  else open_more();
}

void op_connect(int id, Request *q) {
  if (conn.id != 0) {
    reply_error(id, "a connect request is still pending");
    return;
  }
  memset(&g_connect_spec, 0, sizeof g_connect_spec);
  snprintf(g_connect_spec.host, sizeof g_connect_spec.host, "%s", req_str(q, "host", "127.0.0.1"));
  g_connect_spec.port = (int)req_int(q, "port", 0);
  snprintf(g_connect_spec.local_address, sizeof g_connect_spec.local_address, "%s",
           req_str(q, "localAddress", ""));
  g_connect_spec.ready_on_connect = strcmp(req_str(q, "readyOn", "greeting"), "connect") == 0;
  snprintf(g_connect_spec.greeting_prefix, sizeof g_connect_spec.greeting_prefix, "%s",
           req_str(q, "greetingPrefix", ""));
  g_connect_spec.pause = req_int(q, "pause", 0) != 0;
  const char *transport = req_str(q, "transport", "tcp");
  if (strcmp(transport, "tcp") != 0 && strcmp(transport, "ws") != 0 &&
      strcmp(transport, "json") != 0) {
    reply_error(id, "the native generator speaks tcp, json and ws only");
    return;
  }
  g_connect_spec.ws = strcmp(transport, "ws") == 0;
  g_connect_spec.json = strcmp(transport, "tcp") != 0;
  snprintf(g_connect_spec.ws_path, sizeof g_connect_spec.ws_path, "%s", req_str(q, "wsPath", "/ws"));
  if (!conn.hist) conn.hist = hist_new();
  hist_reset(conn.hist);
  conn.id = id;
  conn.start_us = now_us();
  conn.deadline_us = conn.start_us + req_int(q, "timeoutMs", 10000) * 1000;
  conn.count = req_ints(q, "clients", &conn.clients);
  conn.pending = conn.count;
  conn.window = (int)req_int(q, "window", 0);
  if (conn.pending == 0) {
    connect_finish();
    return;
  }
  /* Bounded: one socket per requested id; failures settle (and may finish) at once. */
  open_more();
}

/* ---- join-pairs ---- */

static struct {
  int id;
  int *pairs; /* a, b, a, b, ... */
  int count, waiting, failed;
  int64_t deadline_us;
} join;

static void join_finish(void) {
  int missing = 0;
  for (int i = 0; i < join.count; i++) {
    Client *a = client_get(join.pairs[2 * i]);
    Client *b = client_get(join.pairs[2 * i + 1]);
    if ((a && a->join_waiting) || (b && b->join_waiting)) missing++;
    if (a) a->join_waiting = 0, scan_reset(a, SCAN_COUNT);
    if (b) b->join_waiting = 0, scan_reset(b, SCAN_COUNT);
  }
  join.failed += missing;
  Str r = {0};
  str_printf(&r, "{\"joined\":%d,\"failed\":%d}", join.count - join.failed, join.failed);
  int id = join.id;
  free(join.pairs);
  memset(&join, 0, sizeof join);
  reply_ok_free(id, &r);
}

void op_join_pairs(int id, Request *q) {
  if (join.id != 0) {
    reply_error(id, "a join-pairs request is still pending");
    return;
  }
  char **rooms = NULL;
  join.count = req_pairs(q, "pairs", &join.pairs, &rooms);
  join.id = id;
  join.deadline_us = now_us() + req_int(q, "timeoutMs", 10000) * 1000;
  for (int i = 0; i < join.count; i++) {
    Client *a = client_get(join.pairs[2 * i]);
    Client *b = client_get(join.pairs[2 * i + 1]);
    if (!a || !b || a->state == C_CLOSED || b->state == C_CLOSED) {
      join.failed++;
      continue;
    }
    a->peer = b->id, b->peer = a->id;
    a->echo_leader = 1, b->echo_leader = 0;
    Client *both[2] = {a, b};
    for (int k = 0; k < 2; k++) {
      Client *c = both[k];
      c->join_waiting = 1;
      join.waiting++;
      scan_reset(c, SCAN_SETUP);
      /* The server handles one connection's lines in order: once the client sees its own
         setup line come back, the server has put it in the room. */
      char lines[512];
      int n = snprintf(lines, sizeof lines, "/join %s\nJ%06d^\n", rooms[i], c->id);
      client_write_lines(c, lines, (size_t)n);
    }
  }
  for (int i = 0; i < join.count; i++) free(rooms[i]);
  free(rooms);
  if (join.waiting == 0) join_finish();
}

/* ---- close-all ---- */

static struct {
  int id;
  Client **list;
  int count;
  int64_t deadline_us;
} closing;

static void close_all_check(int force) {
  int open = 0;
  for (int i = 0; i < closing.count; i++) {
    if (closing.list[i]->state != C_CLOSED) {
      if (force) client_close_now(closing.list[i]);
      else open++;
    }
  }
  if (open > 0) return;
  for (int i = 0; i < closing.count; i++) client_forget(closing.list[i]);
  Str r = {0};
  str_printf(&r, "{\"closed\":%d}", closing.count);
  int id = closing.id;
  free(closing.list);
  memset(&closing, 0, sizeof closing);
  reply_ok_free(id, &r);
}

void op_close_all(int id, Request *q) {
  if (closing.id != 0) {
    reply_error(id, "a close-all request is still pending");
    return;
  }
  int *ids = NULL;
  int n = req_has(q, "ids") ? req_ints(q, "ids", &ids) : -1;
  closing.list = malloc(sizeof *closing.list * (size_t)(g_clients_cap + 1));
  if (!closing.list) abort();
  for (int i = 0; i < (n < 0 ? g_clients_cap : n); i++) {
    Client *c = client_get(n < 0 ? i : ids[i]);
    if (!c) continue;
    g_clients[c->id] = NULL;
    closing.list[closing.count++] = c;
    if (c->run_paused || c->paused) client_close_now(c);
    else client_begin_close(c);
  }
  free(ids);
  if (n < 0) g_progress_ready = g_progress_sent = g_progress_round_trips = 0;
  closing.id = id;
  closing.deadline_us = now_us() + CLOSE_GRACE_US;
  close_all_check(0);
}

/* Closes every socket and forgets every client: close-all without waiting (stdin ended). */
void close_everything(void) {
  for (int i = 0; i < g_clients_cap; i++)
    if (g_clients[i]) client_close_now(g_clients[i]);
  for (int i = 0; i < closing.count; i++) client_close_now(closing.list[i]);
}

/* A setup line, `J<6 digits>^` (message.ts setupLine), ends at `end`: its client id, or -1. */
static int setup_line_client(const char *buf, size_t start, size_t end) {
  if (end - start < 8 || buf[end - 8] != 'J' || buf[end - 1] != '^') return -1;
  return atoi(buf + end - 7);
}

void join_on_line(Client *c, const char *buf, size_t start, size_t end) {
  /* This client's own setup line came back through the room. */
  if (c->join_waiting && join.id != 0 && setup_line_client(buf, start, end) == c->id) {
    c->join_waiting = 0;
    if (--join.waiting == 0) join_finish();
  }
}

/* ---- probe (probe-run.ts): one round of the readiness probe ---- */

static struct {
  int id;
  int *clients;
  int count, waiting;
  int64_t deadline_us;
} probe;

static void probe_finish(void) {
  Str r = {0};
  str_printf(&r, "{\"unheard\":[");
  int listed = 0;
  for (int i = 0; i < probe.count; i++) {
    Client *c = client_get(probe.clients[i]);
    if (!c || c->scan != SCAN_PROBE) continue;
    if (c->probe_waiting) str_printf(&r, listed++ ? ",%d" : "%d", c->id);
    c->probe_waiting = 0;
    scan_reset(c, SCAN_COUNT);
  }
  str_add(&r, "]}", 2);
  int id = probe.id;
  free(probe.clients);
  memset(&probe, 0, sizeof probe);
  reply_ok_free(id, &r);
}

void op_probe(int id, Request *q) {
  if (probe.id != 0) {
    reply_error(id, "a probe request is still pending");
    return;
  }
  probe.id = id;
  probe.deadline_us = now_us() + req_int(q, "timeoutMs", 1000) * 1000;
  probe.count = req_ints(q, "clients", &probe.clients);
  for (int i = 0; i < probe.count; i++) {
    Client *c = client_get(probe.clients[i]);
    /* Dropped by connect (never ready) or closed since: it cannot hear anything. */
    if (!c || c->state == C_CLOSED) continue;
    c->probe_waiting = 1;
    probe.waiting++;
    scan_reset(c, SCAN_PROBE);
  }
  int *senders = NULL;
  int n = req_ints(q, "senders", &senders);
  for (int i = 0; i < n; i++) {
    Client *c = client_get(senders[i]);
    if (!c || c->state == C_CLOSED) continue;
    char line[32];
    int len = snprintf(line, sizeof line, "J%06d^\n", c->id);
    client_write_lines(c, line, (size_t)len);
  }
  free(senders);
  if (probe.waiting == 0) probe_finish();
}

void probe_on_line(Client *c, const char *buf, size_t start, size_t end) {
  /* Anyone's setup line: the server relays only to clients it has accepted. */
  if (c->probe_waiting && probe.id != 0 && setup_line_client(buf, start, end) >= 0) {
    c->probe_waiting = 0;
    if (--probe.waiting == 0) probe_finish();
  }
}

void connect_tick(int64_t now) {
  if (conn.id && now >= conn.deadline_us) connect_finish();
  if (join.id && now >= join.deadline_us) join_finish();
  if (probe.id && now >= probe.deadline_us) probe_finish();
  if (closing.id) close_all_check(now >= closing.deadline_us);
}

int64_t connect_deadline_us(void) {
  int64_t next = INT64_MAX;
  if (conn.id && conn.deadline_us < next) next = conn.deadline_us;
  if (join.id && join.deadline_us < next) next = join.deadline_us;
  if (probe.id && probe.deadline_us < next) next = probe.deadline_us;
  /* Closing: look every 10 ms for the sockets the server has closed. */
  if (closing.id && now_us() + 10000 < next) next = now_us() + 10000;
  return next;
}
