/* Echo round trips in joined pairs, as src/load/echo-run.ts: A sends, B answers, A sends on. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "request.h"
#include "runs.h"


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
  reply_ok_free(id, &r);
}

static void echo_send(Client *a) {
  send_messages(a, echo.size, a->id, a->echo_seq, 1, (double)(now_us() - g_t0_us), 0);
}

void op_echo(int id, Request *q) {
  if (echo.id != 0) {
    reply_error(id, "an echo request is still pending");
    return;
  }
  echo.size = (int)req_int(q, "size", 64);
  if (echo.size < 34 || echo.size > MAX_MESSAGE_BYTES) {
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

void echo_on_line(Client *c, const char *buf, size_t start, size_t end) {
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

void echo_tick(int64_t now) {
  if (echo.id && now >= echo.grace_us) echo_finish();
}

int64_t echo_deadline_us(void) { return echo.id ? echo.grace_us : INT64_MAX; }
