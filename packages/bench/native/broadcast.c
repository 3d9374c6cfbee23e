/*
 * Broadcast runs as src/load/broadcast-run.ts does them: prepare (fresh counters and scanners),
 * start (closed loop: a window per sender topped up after each read of the sender's socket;
 * open loop: what is due every millisecond), stop, and counts with sequence checks.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "request.h"
#include "runs.h"


typedef struct {
  int id;
  int64_t seq, echoed;
  int stopped;
  int started; /* present and open at the start: only these report what they sent */
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

static void open_tick(void);

static char *send_buf;
static size_t send_cap;

/* Writes `count` messages of a sender; message i is stamped first_stamp + i * step. */
void send_messages(Client *c, int size, int64_t sender, int64_t first_seq, int64_t count,
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

void broadcast_on_line(Client *c, const char *buf, size_t start, size_t end) {
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

void op_broadcast(int id, Request *q) {
  bc.open = strcmp(req_str(q, "mode", "closed"), "open") == 0;
  bc.size = (int)req_int(q, "size", 64);
  if (bc.size < 34 || bc.size > MAX_MESSAGE_BYTES) {
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

void broadcast_finish(void) {
  if (!bc.running) return;
  bc.running = 0;
  Str r = {0};
  str_add(&r, "{\"sent\":{", 9);
  int first = 1;
  for (int i = 0; i < bc.sender_count; i++) {
    Sender *s = &bc.senders[i];
    if (!s->started) continue;
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

void op_broadcast_start(int id) {
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
      continue;
    }
    s->started = 1;
    bc.active++;
    if (!bc.open) {
      int64_t n = bc.window < bc.max_per_sender ? bc.window : bc.max_per_sender;
      send_messages(c, bc.size, s->id, 0, n, (double)(now_us() - g_t0_us), 0);
      s->seq = n;
      g_progress_sent += (uint64_t)n;
    }
  }
  if (bc.active == 0) broadcast_finish();
  else if (bc.open) open_tick();
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

void op_counts(int id, Request *q) {
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
  reply_ok_free(id, &r);
}

void broadcast_after_chunk(Client *c) {
  if (bc.running && !bc.open && c->sender_index >= 0) closed_after_chunk(c);
}

void broadcast_tick(int64_t now) {
  if (bc.running && bc.open) open_tick();
  if (bc.running && now >= bc.finish_us) broadcast_finish();
}

int64_t broadcast_deadline_us(void) {
  if (!bc.running) return INT64_MAX;
  /* Open loop: a tick a millisecond, as the worker threads' setInterval(1). */
  return bc.open ? now_us() + 1000 : bc.finish_us;
}
