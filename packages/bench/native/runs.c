/*
 * What the requests do (the same as src/load/connections.ts, broadcast-run.ts, echo-run.ts):
 * connect and wait until ready, join pairs, broadcast in closed or open loop, echo, counts,
 * close. Each request that waits is kept as one pending record and answered from the loop.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "request.h"

/* A connection that closes after close-all's FIN gets this long before it is cut. */
#define CLOSE_GRACE_US 3000000
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
    free(forgotten[i]);
  }
  forgotten_len = 0;
}

/* ---- connect ---- */

static struct {
  int id; /* request id, 0 when none is pending */
  int *clients;
  int count, pending, ready, failed;
  char *reasons[MAX_FAILURE_KINDS];
  int reason_counts[MAX_FAILURE_KINDS];
  int kinds;
  int64_t start_us, last_ready_us, deadline_us;
  Histogram *hist;
} conn;

static void count_failure(const char *reason) {
  conn.failed++;
  for (int i = 0; i < conn.kinds; i++) {
    if (strcmp(conn.reasons[i], reason) == 0) {
      conn.reason_counts[i]++;
      return;
    }
  }
  if (conn.kinds == MAX_FAILURE_KINDS) reason = conn.reasons[MAX_FAILURE_KINDS - 1];
  else {
    conn.reasons[conn.kinds] = strdup(reason);
    conn.reason_counts[conn.kinds++] = 0;
  }
  for (int i = 0; i < conn.kinds; i++)
    if (strcmp(conn.reasons[i], reason) == 0) conn.reason_counts[i]++;
}

static void connect_finish(void) {
  for (int i = 0; i < conn.count; i++) {
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
  reply_ok(id, &r);
  free(r.data);
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
}

static void op_connect(int id, Request *q) {
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
  if (conn.pending == 0) {
    connect_finish();
    return;
  }
  /* Bounded: one socket per requested id; failures settle (and may finish) at once. */
  int count = conn.count;
  for (int i = 0; i < count && conn.id == id; i++) client_open(conn.clients[i], &g_connect_spec);
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
  reply_ok(id, &r);
  free(r.data);
}

static void op_join_pairs(int id, Request *q) {
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

/* ---- broadcast ---- */

typedef struct {
  int id;
  int64_t seq, echoed;
  int stopped;
  int watcher;
} Sender;

static struct {
  int prepared, running, id;
  int open, self_echo, size, window;
  double rate;
  int64_t duration_ms, max_per_sender;
  int64_t node_block; /* -1: one server */
  Sender *senders;
  int sender_count, active;
  int64_t start_us, stop_at_us, finish_us;
  Histogram *hist, *send_lag;
  uint64_t parsed, gaps, duplicates;
  int *slot_of; /* sender id -> slot in each parser's last_seq */
  int slot_cap, slots;
} bc;

static char *send_buf;
static size_t send_cap;

/* Writes `count` messages of a sender; message i is stamped first_stamp + i * step. */
static void send_messages(Client *c, int size, int64_t sender, int64_t first_seq, int64_t count,
                          double first_stamp, double step) {
  if (count <= 0) return;
  size_t need = (size_t)count * ((size_t)size + 1);
  if (need > send_cap) {
    send_cap = need * 2;
    send_buf = realloc(send_buf, send_cap);
    if (!send_buf) abort();
  }
  size_t at = 0;
  for (int64_t i = 0; i < count; i++)
    at += message_encode(send_buf + at, size, sender, first_seq + i,
                         (int64_t)(first_stamp + (double)i * step + 0.5));
  client_write_lines(c, send_buf, at);
}

static int slot_of(int64_t sender) {
  if (sender >= bc.slot_cap) {
    int cap = bc.slot_cap ? bc.slot_cap : 1024;
    while (cap <= sender) cap *= 2;
    bc.slot_of = realloc(bc.slot_of, sizeof *bc.slot_of * (size_t)cap);
    if (!bc.slot_of) abort();
    for (int i = bc.slot_cap; i < cap; i++) bc.slot_of[i] = -1;
    bc.slot_cap = cap;
  }
  if (bc.slot_of[sender] < 0) bc.slot_of[sender] = bc.slots++;
  return bc.slot_of[sender];
}

static int64_t *last_seq_of(Client *c, int slot) {
  if (slot >= c->last_cap) {
    int cap = c->last_cap ? c->last_cap : 16;
    while (cap <= slot) cap *= 2;
    c->last_seq = realloc(c->last_seq, sizeof *c->last_seq * (size_t)cap);
    if (!c->last_seq) abort();
    for (int i = c->last_cap; i < cap; i++) c->last_seq[i] = -1;
    c->last_cap = cap;
  }
  return &c->last_seq[slot];
}

static void parse_line(Client *c, const char *buf, size_t start, size_t end) {
  int64_t sender, seq, sent_at;
  if (end - start < (size_t)bc.size || !message_decode(buf, end, (size_t)bc.size, &sender, &seq, &sent_at))
    return;
  bc.parsed++;
  if (bc.node_block < 0 || sender / bc.node_block != c->id / bc.node_block)
    hist_record(bc.hist, g_chunk_now_us - g_t0_us - sent_at);
  int64_t *last = last_seq_of(c, slot_of(sender));
  if (seq == *last + 1) *last = seq;
  else if (seq <= *last) bc.duplicates++;
  else {
    bc.gaps += (uint64_t)(seq - *last - 1);
    *last = seq;
  }
  /* Closed loop: the sender's watcher in this process tells it a message went round. */
  Client *s = client_get((int)sender);
  if (s && s->sender_index >= 0 && bc.senders[s->sender_index].watcher == c->id)
    bc.senders[s->sender_index].echoed++;
}

static void op_broadcast(int id, Request *q) {
  bc.open = strcmp(req_str(q, "mode", "closed"), "open") == 0;
  bc.size = (int)req_int(q, "size", 64);
  if (bc.size < 34 || (size_t)bc.size + 8 > TAIL_MAX) {
    reply_error(id, "message size out of range for the native generator");
    return;
  }
  g_keep = (size_t)bc.size + 4;
  bc.self_echo = req_int(q, "selfEcho", 1) != 0;
  bc.window = (int)req_int(q, "window", 32);
  bc.rate = req_num(q, "ratePerSender", 1);
  bc.duration_ms = req_int(q, "durationMs", 1000);
  bc.max_per_sender = req_int(q, "maxMessagesPerSender", 1000000000);
  bc.node_block = req_int(q, "nodeBlock", -1);
  if (!bc.hist) bc.hist = hist_new(), bc.send_lag = hist_new();
  hist_reset(bc.hist);
  hist_reset(bc.send_lag);
  bc.parsed = bc.gaps = bc.duplicates = 0;
  for (int i = 0; i < bc.slot_cap; i++) bc.slot_of[i] = -1;
  bc.slots = 0;
  g_progress_sent = 0;
  g_closed_since_run = 0;
  g_last_delivery_us = 0;
  int *senders, *parsers, *paused;
  int ns = req_ints(q, "senders", &senders);
  int np = req_ints(q, "parsers", &parsers);
  int nz = req_ints(q, "paused", &paused);
  for (int i = 0; i < g_clients_cap; i++) {
    Client *c = g_clients[i];
    if (!c) continue;
    c->run_paused = 0;
    c->is_parser = 0;
    c->sender_index = -1;
    free(c->last_seq);
    c->last_seq = NULL;
    c->last_cap = 0;
    scan_reset(c, SCAN_COUNT);
  }
  for (int i = 0; i < nz; i++) {
    Client *c = client_get(paused[i]);
    if (c) c->run_paused = 1, client_pause(c);
  }
  /* Watcher of a sender without self-echo: another reading client (broadcast-run.ts). */
  int other = -1;
  for (int i = 0; i < g_clients_cap && other < 0; i++) {
    Client *c = g_clients[i];
    if (!c || c->run_paused) continue;
    int is_sender = 0;
    for (int k = 0; k < ns; k++) is_sender |= senders[k] == c->id;
    if (!is_sender) other = c->id;
  }
  free(bc.senders);
  bc.senders = calloc((size_t)(ns ? ns : 1), sizeof *bc.senders);
  bc.sender_count = 0;
  for (int i = 0; i < ns; i++) {
    Sender *s = &bc.senders[bc.sender_count++];
    s->id = senders[i];
    s->watcher = bc.self_echo ? s->id : (other >= 0 ? other : s->id);
    Client *c = client_get(s->id);
    if (c) c->sender_index = bc.sender_count - 1;
  }
  for (int pass = 0; pass < 3; pass++) {
    int n = pass == 0 ? np : ns;
    for (int i = 0; i < n; i++) {
      int cid = pass == 0 ? parsers[i] : pass == 1 ? senders[i] : bc.senders[i].watcher;
      Client *c = client_get(cid);
      if (c && !c->run_paused) c->is_parser = 1, scan_reset(c, SCAN_PARSE);
    }
  }
  free(senders);
  free(parsers);
  free(paused);
  bc.prepared = 1;
  reply_ok(id, NULL);
}

static void broadcast_finish(void) {
  if (!bc.running) return;
  bc.running = 0;
  Str r = {0};
  str_add(&r, "{\"sent\":{", 9);
  int first = 1;
  for (int i = 0; i < bc.sender_count; i++) {
    Sender *s = &bc.senders[i];
    if (s->watcher < -1) continue; /* not started here (absent or closed) */
    str_printf(&r, "%s\"%d\":%lld", first ? "" : ",", s->id, (long long)s->seq);
    first = 0;
  }
  str_printf(&r, "},\"startUs\":%lld,\"endUs\":%lld,\"sendLag\":", (long long)bc.start_us,
             (long long)now_us());
  str_hist(&r, bc.send_lag);
  str_add(&r, "}", 1);
  reply_ok(bc.id, &r);
  free(r.data);
}

static void sender_stop(Sender *s) {
  if (s->stopped) return;
  s->stopped = 1;
  if (--bc.active == 0) broadcast_finish();
}

static void op_broadcast_start(int id) {
  if (!bc.prepared) {
    reply_error(id, "broadcast-start without broadcast");
    return;
  }
  bc.prepared = 0;
  bc.running = 1;
  bc.id = id;
  bc.start_us = now_us();
  bc.stop_at_us = bc.start_us + bc.duration_ms * 1000;
  bc.finish_us = bc.stop_at_us + 5000;
  bc.active = 0;
  for (int i = 0; i < bc.sender_count; i++) {
    Sender *s = &bc.senders[i];
    Client *c = client_get(s->id);
    if (!c || c->state == C_CLOSED) {
      s->stopped = 1;
      s->watcher = -2;
      continue;
    }
    bc.active++;
    if (!bc.open) {
      int64_t n = bc.window < bc.max_per_sender ? bc.window : bc.max_per_sender;
      send_messages(c, bc.size, s->id, 0, n, (double)(now_us() - g_t0_us), 0);
      s->seq = n;
      g_progress_sent += (uint64_t)n;
    }
  }
  if (bc.active == 0) broadcast_finish();
  else if (bc.open) runs_tick();
}

/* Open loop: every sender sends what is due by now (broadcast-run.ts). */
static void open_tick(void) {
  int64_t now = now_us();
  double interval = 1e6 / bc.rate;
  for (int i = 0; i < bc.sender_count && bc.running; i++) {
    Sender *s = &bc.senders[i];
    Client *c = client_get(s->id);
    if (s->stopped || !c) continue;
    int64_t until = now < bc.stop_at_us ? now : bc.stop_at_us;
    int64_t due = (int64_t)((double)(until - bc.start_us) * bc.rate / 1e6) + 1;
    if (due > bc.max_per_sender) due = bc.max_per_sender;
    int64_t first = s->seq;
    if (due > first) {
      hist_record(bc.send_lag, now - (bc.start_us + (int64_t)((double)first * interval)));
      /* Stamped with when each was due, not when it left: no coordinated omission. */
      send_messages(c, bc.size, s->id, first, due - first,
                    (double)(bc.start_us - g_t0_us) + (double)first * interval, interval);
      g_progress_sent += (uint64_t)(due - first);
      s->seq = due;
    }
    if (now >= bc.stop_at_us || s->seq >= bc.max_per_sender) sender_stop(s);
  }
}

/* Closed loop: a sender tops its window up after each read of its own socket. */
static void closed_after_chunk(Client *c) {
  Sender *s = &bc.senders[c->sender_index];
  if (s->stopped) return;
  if (g_chunk_now_us >= bc.stop_at_us || s->seq >= bc.max_per_sender) {
    sender_stop(s);
    return;
  }
  int64_t room = bc.window - (s->seq - s->echoed);
  if (bc.max_per_sender - s->seq < room) room = bc.max_per_sender - s->seq;
  if (room <= 0) return;
  send_messages(c, bc.size, s->id, s->seq, room, (double)(g_chunk_now_us - g_t0_us), 0);
  s->seq += room;
  g_progress_sent += (uint64_t)room;
}

static void op_counts(int id, Request *q) {
  int64_t expected_per_receiver = req_int(q, "expectedPerReceiver", -1);
  uint64_t delivered = 0, min = UINT64_MAX, max = 0;
  int receivers = 0, receivers_off = 0;
  for (int i = 0; i < g_clients_cap; i++) {
    Client *c = g_clients[i];
    if (!c || c->run_paused) continue;
    uint64_t n = c->count;
    int64_t own = 0;
    if (!bc.self_echo && c->sender_index >= 0) own = bc.senders[c->sender_index].seq;
    if (expected_per_receiver >= 0 && (int64_t)n != expected_per_receiver - own) receivers_off++;
    delivered += n;
    receivers++;
    if (n < min) min = n;
    if (n > max) max = n;
  }
  int64_t *eps = NULL;
  int n_eps = req_pairs_int(q, "expectedPerSender", &eps);
  int mismatched = 0, checked = 0;
  for (int i = 0; n_eps > 0 && i < g_clients_cap; i++) {
    Client *c = g_clients[i];
    if (!c || !c->is_parser || c->run_paused) continue;
    for (int k = 0; k < n_eps; k++) {
      int64_t sender = eps[2 * k], expected = eps[2 * k + 1];
      if (sender == c->id && !bc.self_echo && c->sender_index >= 0) continue;
      checked++;
      int slot = sender < bc.slot_cap ? bc.slot_of[sender] : -1;
      int64_t last = slot >= 0 && slot < c->last_cap ? c->last_seq[slot] : -1;
      if (last != expected - 1) mismatched++;
    }
  }
  free(eps);
  Str r = {0};
  str_printf(&r,
             "{\"delivered\":%llu,\"receivers\":%d,\"minPerReceiver\":%llu,\"maxPerReceiver\":%llu,"
             "\"closed\":%llu,\"lastDeliveryUs\":%lld,\"parsed\":%llu,\"gaps\":%llu,"
             "\"duplicates\":%llu,\"mismatched\":%d,\"checkedStreams\":%d,\"receiversOff\":%d,"
             "\"histogram\":",
             (unsigned long long)delivered, receivers,
             (unsigned long long)(receivers ? min : 0), (unsigned long long)max,
             (unsigned long long)g_closed_since_run, (long long)g_last_delivery_us,
             (unsigned long long)bc.parsed, (unsigned long long)bc.gaps,
             (unsigned long long)bc.duplicates, mismatched, checked, receivers_off);
  if (!bc.hist) bc.hist = hist_new(), bc.send_lag = hist_new();
  str_hist(&r, bc.hist);
  str_add(&r, "}", 1);
  reply_ok(id, &r);
  free(r.data);
}

/* ---- echo ---- */

static struct {
  int id, active, size;
  uint64_t round_trips;
  int64_t start_us, stop_at_us, grace_us, end_us, max_per_pair;
  Histogram *hist;
} echo;

static void echo_finish(void) {
  Str r = {0};
  str_printf(&r, "{\"roundTrips\":%llu,\"startUs\":%lld,\"endUs\":%lld,\"unfinishedPairs\":%d,"
                 "\"histogram\":",
             (unsigned long long)echo.round_trips, (long long)echo.start_us,
             (long long)echo.end_us, echo.active);
  str_hist(&r, echo.hist);
  str_add(&r, "}", 1);
  int id = echo.id;
  echo.id = 0;
  reply_ok(id, &r);
  free(r.data);
}

static void echo_send(Client *a) {
  send_messages(a, echo.size, a->id, a->echo_seq, 1, (double)(now_us() - g_t0_us), 0);
}

static void op_echo(int id, Request *q) {
  if (echo.id != 0) {
    reply_error(id, "an echo request is still pending");
    return;
  }
  echo.size = (int)req_int(q, "size", 64);
  if (echo.size < 34 || (size_t)echo.size + 8 > TAIL_MAX) {
    reply_error(id, "message size out of range for the native generator");
    return;
  }
  g_keep = (size_t)echo.size + 4;
  if (!echo.hist) echo.hist = hist_new();
  hist_reset(echo.hist);
  echo.id = id;
  echo.round_trips = 0;
  echo.active = 0;
  echo.start_us = echo.end_us = now_us();
  echo.stop_at_us = echo.start_us + req_int(q, "durationMs", 1000) * 1000;
  echo.grace_us = echo.stop_at_us + 5000000;
  echo.max_per_pair = req_int(q, "maxRoundTripsPerPair", 1000000000);
  for (int i = 0; i < g_clients_cap; i++) {
    Client *a = g_clients[i];
    if (!a || !a->echo_leader) continue;
    Client *b = client_get(a->peer);
    if (!b || a->state == C_CLOSED || b->state == C_CLOSED) continue;
    echo.active++;
    a->echo_seq = 0;
    a->echo_stopped = 0;
    scan_reset(a, SCAN_ECHO_A);
    scan_reset(b, SCAN_ECHO_B);
  }
  for (int i = 0; i < g_clients_cap; i++) {
    Client *a = g_clients[i];
    if (a && a->scan == SCAN_ECHO_A) echo_send(a);
  }
  if (echo.active == 0) echo_finish();
}

static void echo_line(Client *c, const char *buf, size_t start, size_t end) {
  int64_t sender, seq, sent_at;
  if (end - start < (size_t)echo.size ||
      !message_decode(buf, end, (size_t)echo.size, &sender, &seq, &sent_at) || sender != c->peer)
    return;
  if (c->scan == SCAN_ECHO_B) {
    send_messages(c, echo.size, c->id, seq, 1, (double)sent_at, 0);
    return;
  }
  if (c->echo_stopped || seq != c->echo_seq || echo.id == 0) return;
  hist_record(echo.hist, g_chunk_now_us - g_t0_us - sent_at);
  echo.round_trips++;
  g_progress_round_trips++;
  echo.end_us = g_chunk_now_us;
  c->echo_seq++;
  if (g_chunk_now_us >= echo.stop_at_us || c->echo_seq >= echo.max_per_pair) {
    c->echo_stopped = 1;
    if (--echo.active == 0) echo_finish();
  } else {
    echo_send(c);
  }
}

/* ---- lines and chunks ---- */

void on_line(Client *c, const char *buf, size_t start, size_t end) {
  switch (c->scan) {
  case SCAN_PARSE:
    parse_line(c, buf, start, end);
    break;
  case SCAN_SETUP:
    /* `J<6 digits>^`: this client's own setup line came back through the room. */
    if (end - start >= 8 && buf[end - 8] == 'J' && buf[end - 1] == '^' && c->join_waiting &&
        atoi(buf + end - 7) == c->id && join.id != 0) {
      c->join_waiting = 0;
      if (--join.waiting == 0) join_finish();
    }
    break;
  case SCAN_ECHO_A:
  case SCAN_ECHO_B:
    echo_line(c, buf, start, end);
    break;
  }
}

void after_chunk(Client *c) {
  if (bc.running && !bc.open && c->sender_index >= 0) closed_after_chunk(c);
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
  reply_ok(id, &r);
  free(r.data);
}

static void op_close_all(int id, Request *q) {
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

/* ---- the loop's timers ---- */

void runs_tick(void) {
  int64_t now = now_us();
  if (conn.id && now >= conn.deadline_us) connect_finish();
  if (join.id && now >= join.deadline_us) join_finish();
  if (bc.running && bc.open) open_tick();
  if (bc.running && now >= bc.finish_us) broadcast_finish();
  if (echo.id && now >= echo.grace_us) echo_finish();
  if (closing.id) close_all_check(now >= closing.deadline_us);
}

int64_t runs_next_deadline_us(void) {
  int64_t next = INT64_MAX;
  if (conn.id && conn.deadline_us < next) next = conn.deadline_us;
  if (join.id && join.deadline_us < next) next = join.deadline_us;
  if (bc.running) {
    /* Open loop: a tick a millisecond, as the worker threads' setInterval(1). */
    int64_t at = bc.open ? now_us() + 1000 : bc.finish_us;
    if (at < next) next = at;
  }
  if (echo.id && echo.grace_us < next) next = echo.grace_us;
  if (closing.id) {
    int64_t at = now_us() + 10000;
    if (at < next) next = at;
  }
  return next;
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
