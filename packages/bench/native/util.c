/* Histograms, the reply writer and the clock. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

/* CLOCK_MONOTONIC is what Node's process.hrtime reads, so stamps from both can be subtracted. */
int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

Histogram *hist_new(void) {
  Histogram *h = calloc(1, sizeof *h);
  if (!h) abort();
  return h;
}

void hist_reset(Histogram *h) { memset(h, 0, sizeof *h); }

void hist_record(Histogram *h, int64_t value) {
  uint64_t v = value < 1 ? 1 : (uint64_t)value;
  if (v >= (uint64_t)1 << 41) v = ((uint64_t)1 << 41) - 1;
  size_t index;
  if (v < 2048) {
    index = (size_t)v;
  } else {
    int e = 63 - __builtin_clzll(v) - HIST_SUB_BITS;
    index = 2048 + (size_t)(e - 1) * 1024 + (size_t)((v >> e) - 1024);
  }
  h->counts[index]++;
  h->total++;
}

/* The lowest value of a bucket: the JS side records it with its count (recordValueWithCount). */
static uint64_t hist_value(size_t index) {
  if (index < 2048) return index;
  size_t e = (index - 2048) / 1024 + 1;
  return (uint64_t)((index - 2048) % 1024 + 1024) << e;
}

void str_add(Str *s, const char *bytes, size_t n) {
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 256;
    while (cap < s->len + n + 1) cap *= 2;
    s->data = realloc(s->data, cap);
    if (!s->data) abort();
    s->cap = cap;
  }
  memcpy(s->data + s->len, bytes, n);
  s->len += n;
  s->data[s->len] = 0;
}

void str_printf(Str *s, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    str_add(s, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) abort();
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  str_add(s, big, (size_t)n);
  free(big);
}

/* A JSON string literal; bytes below 0x20 and above 0x7e are escaped (reasons quote server text). */
void str_json(Str *s, const char *text) {
  str_add(s, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char esc[2] = {'\\', (char)*p};
      str_add(s, esc, 2);
    } else if (*p < 0x20 || *p > 0x7e) {
      str_printf(s, "\\u%04x", *p);
    } else {
      str_add(s, (const char *)p, 1);
    }
  }
  str_add(s, "\"", 1);
}

/* Sparse buckets, [[value, count], ...]: the JS side rebuilds an hdr histogram from them. */
void str_hist(Str *s, const Histogram *h) {
  str_add(s, "[", 1);
  int first = 1;
  for (size_t i = 0; i < HIST_BUCKETS; i++) {
    if (h->counts[i] == 0) continue;
    str_printf(s, "%s[%llu,%llu]", first ? "" : ",", (unsigned long long)hist_value(i),
               (unsigned long long)h->counts[i]);
    first = 0;
  }
  str_add(s, "]", 1);
}

/* stdout is the bench's pipe: written whole, blocking (replies are small and rare). */
static void write_all(const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, data, n);
    if (w <= 0) exit(0); /* the bench is gone */
    data += w;
    n -= (size_t)w;
  }
}

void reply_ok(int id, const Str *result) {
  Str line = {0};
  str_printf(&line, "{\"kind\":\"reply\",\"id\":%d,\"ok\":true,\"result\":", id);
  if (result && result->len) str_add(&line, result->data, result->len);
  else str_add(&line, "null", 4);
  str_add(&line, "}\n", 2);
  write_all(line.data, line.len);
  free(line.data);
}

void reply_ok_free(int id, Str *result) {
  reply_ok(id, result);
  free(result->data);
  result->data = NULL;
  result->len = result->cap = 0;
}

void reply_error(int id, const char *message) {
  Str line = {0};
  str_printf(&line, "{\"kind\":\"reply\",\"id\":%d,\"ok\":false,\"error\":", id);
  str_json(&line, message);
  str_add(&line, "}\n", 2);
  write_all(line.data, line.len);
  free(line.data);
}

void write_progress(void) {
  char line[256];
  uint64_t delivered = 0;
  for (int i = 0; i < g_clients_cap; i++)
    if (g_clients[i]) delivered += g_clients[i]->count;
  int n = snprintf(line, sizeof line,
                   "{\"kind\":\"progress\",\"ready\":%llu,\"sent\":%llu,\"delivered\":%llu,"
                   "\"roundTrips\":%llu}\n",
                   (unsigned long long)g_progress_ready, (unsigned long long)g_progress_sent,
                   (unsigned long long)delivered, (unsigned long long)g_progress_round_trips);
  write_all(line, (size_t)n);
}
