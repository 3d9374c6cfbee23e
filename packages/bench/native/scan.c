/*
 * Line scanning and the bench message format (src/line-scanner.ts, src/message.ts): a bench
 * message is a line whose text ends in `~`; its fields sit at fixed offsets from the line end.
 */
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

/* Bytes of a split line kept across reads: enough to decode a message at the line's end. */
size_t g_keep = 2 + 16 + 2;

void scan_reset(Client *c, int mode) {
  c->scan = mode;
  c->count = 0;
  c->tail_len = 0;
}

/*
 * One complete unit, buf[start, at): a line, or in JSON mode also one item of a `messages` run
 * (spec 4.6: `["id","from",dt,"text"]`, cut at its `]`). Strips CR and the JSON trailer after
 * the text (`"}` of a message frame, `"` of a run's item).
 */
static uint64_t line_done(Client *c, const char *buf, size_t start, size_t lf) {
  size_t end = lf;
  if (end > start && buf[end - 1] == '\r') end--;
  if (c->json && end - start >= 2 && buf[end - 2] == '"' && buf[end - 1] == '}') end -= 2;
  else if (c->json && end > start && buf[end - 1] == '"') end--;
  if (c->scan != SCAN_COUNT) on_line(c, buf, start, end);
  return end > start && buf[end - 1] == '~';
}

static void append_tail(Client *c, const char *buf, size_t from, size_t n) {
  size_t rest = n - from;
  if (rest == 0) return;
  if (c->tail_cap < g_keep) {
    c->tail = realloc(c->tail, g_keep);
    if (!c->tail) abort();
    c->tail_cap = g_keep;
  }
  if (rest >= g_keep) {
    memcpy(c->tail, buf + n - g_keep, g_keep);
    c->tail_len = g_keep;
    return;
  }
  size_t keep_old = c->tail_len < g_keep - rest ? c->tail_len : g_keep - rest;
  memmove(c->tail, c->tail + c->tail_len - keep_old, keep_old);
  memcpy(c->tail + keep_old, buf + from, rest);
  c->tail_len = keep_old + rest;
}

/* Where units end in one piece of the stream: LF, and in JSON mode `]` too (one memchr each). */
typedef struct {
  const char *buf;
  size_t n;
  const char *lf, *bracket;
} Ends;

static const char *next_end(Ends *e, size_t from, int json) {
  const char *at = e->buf + from;
  if (e->lf && e->lf < at) e->lf = memchr(at, '\n', e->n - from);
  if (!json) return e->lf;
  if (e->bracket && e->bracket < at) e->bracket = memchr(at, ']', e->n - from);
  if (!e->lf) return e->bracket;
  if (!e->bracket) return e->lf;
  return e->lf < e->bracket ? e->lf : e->bracket;
}

/* Scans one piece of the stream (memchr per unit); returns the bench messages it completed. */
uint64_t scan_push(Client *c, const char *buf, size_t n) {
  Ends ends = {buf, n, memchr(buf, '\n', n), c->json ? memchr(buf, ']', n) : NULL};
  const char *end = next_end(&ends, 0, c->json);
  if (!end) {
    append_tail(c, buf, 0, n);
    return 0;
  }
  uint64_t found = 0;
  size_t first = (size_t)(end - buf);
  if (c->tail_len > 0 && first < g_keep) {
    /* The unit began in an earlier read: join what was kept with its end. */
    static char joined[2 * (MAX_MESSAGE_BYTES + 8)];
    memcpy(joined, c->tail, c->tail_len);
    memcpy(joined + c->tail_len, buf, first);
    found += line_done(c, joined, 0, c->tail_len + first);
  } else {
    found += line_done(c, buf, 0, first);
  }
  c->tail_len = 0;
  size_t start = first + 1;
  while (start < n && (end = next_end(&ends, start, c->json)) != NULL) {
    size_t at = (size_t)(end - buf);
    found += line_done(c, buf, start, at);
    start = at + 1;
  }
  append_tail(c, buf, start, n);
  c->count += found;
  return found;
}

static int64_t read_digits(const char *p, int digits) {
  int64_t value = 0;
  for (int i = 0; i < digits; i++) {
    unsigned d = (unsigned char)p[i] - '0';
    if (d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

int message_decode(const char *buf, size_t end, size_t size, int64_t *sender, int64_t *seq,
                   int64_t *sent_at) {
  if (end < size) return 0;
  const char *p = buf + end - size;
  if (p[0] != 'B' || p[size - 1] != '~') return 0;
  *sender = read_digits(p + 1, 6);
  *seq = read_digits(p + 8, 10);
  *sent_at = read_digits(p + 19, 12);
  return *sender >= 0 && *seq >= 0 && *sent_at >= 0;
}

static void write_digits(char *p, int digits, int64_t value) {
  if (value < 0) value = 0;
  for (int i = digits - 1; i >= 0; i--) {
    p[i] = (char)('0' + value % 10);
    value /= 10;
  }
}

/* One message line (size bytes of text and LF) into out; returns size + 1. */
size_t message_encode(char *out, int size, int64_t sender, int64_t seq, int64_t sent_at_us) {
  memset(out, 'x', (size_t)size);
  out[0] = 'B';
  out[7] = out[18] = out[31] = '.';
  write_digits(out + 1, 6, sender);
  write_digits(out + 8, 10, seq);
  write_digits(out + 19, 12, sent_at_us);
  out[size - 1] = '~';
  out[size] = '\n';
  return (size_t)size + 1;
}
