/*
 * The WebSocket transport, as src/load/ws-client.ts and ws-frames.ts do it (RFC 6455): the
 * upgrade on the path, `hello` once upgraded, ready on `welcome`; client frames are masked with
 * an all-zero key (section 5.3 lets the client choose; the server still unmasks every byte),
 * server frames unmasked, and data payloads scanned in place as line pieces.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "loadgen.h"

/* ---- SHA-1 (FIPS 180-4), only for the Sec-WebSocket-Accept check ---- */

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           p[4 * i + 3];
  for (int i = 16; i < 80; i++) w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) f = (b & c) | (~b & d), k = 0x5a827999;
    else if (i < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
    else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
    else f = b ^ c ^ d, k = 0xca62c1d6;
    uint32_t t = ROL(a, 5) + f + e + k + w[i];
    e = d, d = c, c = ROL(b, 30), b = a, a = t;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1(const uint8_t *data, size_t n, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t block[64];
  size_t i = 0;
  for (; i + 64 <= n; i += 64) sha1_block(h, data + i);
  size_t rest = n - i;
  memset(block, 0, 64);
  memcpy(block, data + i, rest);
  block[rest] = 0x80;
  if (rest >= 56) {
    sha1_block(h, block);
    memset(block, 0, 64);
  }
  uint64_t bits = (uint64_t)n * 8;
  for (int j = 0; j < 8; j++) block[63 - j] = (uint8_t)(bits >> (8 * j));
  sha1_block(h, block);
  for (int j = 0; j < 5; j++) {
    out[4 * j] = (uint8_t)(h[j] >> 24);
    out[4 * j + 1] = (uint8_t)(h[j] >> 16);
    out[4 * j + 2] = (uint8_t)(h[j] >> 8);
    out[4 * j + 3] = (uint8_t)h[j];
  }
}

static void base64(const uint8_t *in, size_t n, char *out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? abc[v & 63] : '=';
  }
  out[o] = 0;
}

void ws_upgrade_request(Client *c, const ConnectSpec *spec, Str *out) {
  uint8_t raw[16];
  if (getrandom(raw, sizeof raw, 0) != sizeof raw) memset(raw, 7, sizeof raw);
  char key[32];
  base64(raw, sizeof raw, key);
  char joined[96];
  int n = snprintf(joined, sizeof joined, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  uint8_t digest[20];
  sha1((const uint8_t *)joined, (size_t)n, digest);
  base64(digest, sizeof digest, c->ws_accept);
  int v6 = strchr(spec->host, ':') != NULL;
  str_printf(out,
             "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
             spec->ws_path, v6 ? "[" : "", spec->host, v6 ? "]" : "", spec->port, key);
}

/* 1 when the answer is a 101 with the right accept value; else 0 and why (as ws-frames.ts). */
int ws_check_head(Client *c, const char *head, const char **reason) {
  static char why[128];
  const char *eol = strstr(head, "\r\n");
  size_t status_len = eol ? (size_t)(eol - head) : strlen(head);
  if (strncmp(head, "HTTP/1.1 101", 12) != 0 || (status_len > 12 && head[12] != ' ')) {
    snprintf(why, sizeof why, "upgrade refused: %.*s", (int)(status_len > 60 ? 60 : status_len),
             head);
    *reason = why;
    return 0;
  }
  for (const char *line = eol; line && line[0]; line = strstr(line + 2, "\r\n")) {
    const char *name = line + 2;
    if (strncasecmp(name, "sec-websocket-accept:", 21) != 0) continue;
    const char *value = name + 21;
    while (*value == ' ' || *value == '\t') value++;
    size_t len = strcspn(value, " \t\r\n");
    if (len == strlen(c->ws_accept) && memcmp(value, c->ws_accept, len) == 0) return 1;
    break;
  }
  *reason = "upgrade answered with a wrong Sec-WebSocket-Accept";
  return 0;
}

/* One client frame, FIN set, masked with a zero key; out needs n + 14 bytes. */
size_t ws_frame(char *out, const char *payload, size_t n, int opcode) {
  uint8_t *o = (uint8_t *)out;
  size_t at = 2;
  o[0] = (uint8_t)(0x80 | opcode);
  if (n < 126) {
    o[1] = (uint8_t)(0x80 | n);
  } else if (n < 65536) {
    o[1] = 0x80 | 126;
    o[2] = (uint8_t)(n >> 8);
    o[3] = (uint8_t)n;
    at = 4;
  } else {
    o[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) o[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    at = 10;
  }
  memset(o + at, 0, 4);
  at += 4;
  memcpy(o + at, payload, n);
  return at + n;
}

/* Text-mode request lines as JSON requests (json-requests.ts); bench text needs no escaping. */
size_t ws_json_requests(const char *lines, size_t n, Str *out) {
  size_t start = 0;
  while (start < n) {
    const char *lf = memchr(lines + start, '\n', n - start);
    size_t end = lf ? (size_t)(lf - lines) : n;
    size_t len = end - start;
    const char *line = lines + start;
    start = end + 1;
    if (len == 0) continue;
    if (len > 6 && memcmp(line, "/join ", 6) == 0) {
      str_add(out, "{\"type\":\"join\",\"room\":\"", 23);
      str_add(out, line + 6, len - 6);
    } else {
      str_add(out, "{\"type\":\"send\",\"text\":\"", 23);
      str_add(out, line, len);
    }
    str_add(out, "\"}\n", 3);
  }
  return out->len;
}

/* A data payload piece: the welcome wait, or the scanner once ready. */
static void ws_data(Client *c, const char *buf, size_t n) {
  if (c->state == C_READY) {
    scan_push(c, buf, n);
    return;
  }
  if (c->pre_len + n > 65536) {
    connect_settle(c, "no welcome");
    return;
  }
  c->pre = realloc(c->pre, c->pre_len + n + 1);
  if (!c->pre) abort();
  memcpy(c->pre + c->pre_len, buf, n);
  c->pre_len += n;
  c->pre[c->pre_len] = 0;
  if (memmem(c->pre, c->pre_len, "\"type\":\"welcome\"", 16)) {
    free(c->pre);
    c->pre = NULL;
    c->pre_len = 0;
    c->state = C_READY;
    connect_settle(c, NULL);
  }
}

static void ws_fail(Client *c, const char *reason) {
  int ready = c->state == C_READY;
  client_close_now(c);
  if (!ready) connect_settle(c, reason);
}

/* Reads server frames from one read; a header split across reads is kept (at most 10 bytes). */
void ws_push(Client *c, const char *buf, size_t n) {
  size_t at = 0;
  /* Bounded: each pass consumes header or payload bytes of this read. */
  while (at < n && c->state != C_CLOSED) {
    if (c->ws_remaining > 0) {
      size_t take = n - at < c->ws_remaining ? n - at : (size_t)c->ws_remaining;
      if (c->ws_opcode >= 0x8) {
        if (c->ws_control_len + take <= sizeof c->ws_control)
          memcpy(c->ws_control + c->ws_control_len, buf + at, take);
        c->ws_control_len += take;
      } else {
        ws_data(c, buf + at, take);
      }
      at += take;
      c->ws_remaining -= take;
    } else {
      size_t take = n - at < 10 - c->ws_header_len ? n - at : 10 - c->ws_header_len;
      memcpy(c->ws_header + c->ws_header_len, buf + at, take);
      size_t have = c->ws_header_len + take;
      if (have < 2) {
        c->ws_header_len = have;
        return;
      }
      uint8_t *h = c->ws_header;
      if (h[1] & 0x80) {
        ws_fail(c, "the server sent a masked frame (RFC 6455 section 5.1)");
        return;
      }
      int len7 = h[1] & 0x7f;
      size_t size = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
      if (have < size) {
        c->ws_header_len = have;
        return;
      }
      uint64_t length = (uint64_t)len7;
      if (len7 == 126) length = (uint64_t)h[2] << 8 | h[3];
      else if (len7 == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) length = length << 8 | h[2 + i];
      }
      c->ws_opcode = h[0] & 0x0f;
      if (c->ws_opcode >= 0x8 && length > 125) {
        ws_fail(c, "a control frame longer than 125 bytes");
        return;
      }
      at += size - c->ws_header_len;
      c->ws_header_len = 0;
      c->ws_remaining = length;
      c->ws_control_len = 0;
    }
    if (c->ws_remaining == 0 && c->ws_opcode == 0x9) {
      /* Ping: answer with a pong carrying the same payload. */
      char frame[160];
      client_queue(c, frame, ws_frame(frame, (const char *)c->ws_control, c->ws_control_len, 0xa));
      c->ws_opcode = 0;
    }
  }
}
