/*
 * Sockets on the epoll loop: non-blocking connect, reads into one shared buffer (each read is
 * scanned before the next, as the worker threads' onread buffer), and output queued per client
 * and written once per loop turn, so a chunk that makes several replies costs one write.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"

/* 256 KiB: a receiver that fell behind catches up in few reads (worker-state.ts). */
#define READ_BUFFER_BYTES (256 * 1024)
/* Largest greeting line, HTTP answer or pre-welcome text kept (connections.ts, ws-client.ts). */
#define PRE_MAX 65536

static char read_buffer[READ_BUFFER_BYTES];
static Client **dirty;
static int dirty_len, dirty_cap;

static void watch(Client *c, int op) {
  struct epoll_event ev = {0};
  ev.data.ptr = c;
  ev.events = (c->paused ? 0 : EPOLLIN) | EPOLLRDHUP;
  if (c->state == C_CONNECTING || c->out_len > c->out_sent) ev.events |= EPOLLOUT;
  epoll_ctl(g_epoll, op, c->fd, &ev);
}

static int parse_address(const char *host, int port, struct sockaddr_storage *sa, socklen_t *len) {
  memset(sa, 0, sizeof *sa);
  struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
  if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    *len = sizeof *v6;
    return AF_INET6;
  }
  return -1;
}

static const char *errno_name(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

/* Opens the socket of client `id`; 0, or -1 with the reason settled already. */
int client_open(int id, const ConnectSpec *spec) {
  Client *c = calloc(1, sizeof *c);
  if (!c) abort();
  c->id = id;
  c->fd = -1;
  c->peer = -1;
  c->sender_index = -1;
  c->state = C_CONNECTING;
  c->json = spec->json;
  c->ws = spec->ws;
  c->connect_start_us = now_us();
  if (id >= g_clients_cap) {
    int cap = g_clients_cap ? g_clients_cap : 1024;
    while (cap <= id) cap *= 2;
    g_clients = realloc(g_clients, sizeof *g_clients * (size_t)cap);
    if (!g_clients) abort();
    memset(g_clients + g_clients_cap, 0, sizeof *g_clients * (size_t)(cap - g_clients_cap));
    g_clients_cap = cap;
  }
  g_clients[id] = c;
  struct sockaddr_storage sa;
  socklen_t len;
  int family = parse_address(spec->host, spec->port, &sa, &len);
  if (family < 0) {
    c->state = C_CLOSED;
    connect_settle(c, "EINVAL");
    return -1;
  }
  c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    c->state = C_CLOSED;
    connect_settle(c, errno_name(errno));
    return -1;
  }
  if (spec->local_address[0]) {
    struct sockaddr_storage local;
    socklen_t local_len;
    int err = parse_address(spec->local_address, 0, &local, &local_len) != family ? EINVAL
              : bind(c->fd, (struct sockaddr *)&local, local_len) < 0           ? errno
                                                                                 : 0;
    if (err) {
      client_close_now(c);
      connect_settle(c, errno_name(err));
      return -1;
    }
  }
  if (connect(c->fd, (struct sockaddr *)&sa, len) < 0 && errno != EINPROGRESS) {
    int err = errno;
    client_close_now(c);
    connect_settle(c, errno_name(err));
    return -1;
  }
  watch(c, EPOLL_CTL_ADD);
  return 0;
}

void client_queue(Client *c, const char *bytes, size_t n) {
  if (c->state == C_CLOSED || n == 0) return;
  if (c->out_len + n > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + n) cap *= 2;
    c->out = realloc(c->out, cap);
    if (!c->out) abort();
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, bytes, n);
  c->out_len += n;
  if (!c->dirty) {
    c->dirty = 1;
    if (dirty_len == dirty_cap) {
      dirty_cap = dirty_cap ? dirty_cap * 2 : 256;
      dirty = realloc(dirty, sizeof *dirty * (size_t)dirty_cap);
      if (!dirty) abort();
    }
    dirty[dirty_len++] = c;
  }
}

/* Writes what is queued; what the kernel does not take waits for EPOLLOUT. */
static void flush_one(Client *c) {
  if (c->state == C_CLOSED || c->state == C_CONNECTING) return;
  int had_pending = c->out_len > c->out_sent;
  while (c->out_sent < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (w > 0) {
      c->out_sent += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    break;
  }
  if (c->out_sent == c->out_len) {
    c->out_sent = c->out_len = 0;
    if (had_pending) watch(c, EPOLL_CTL_MOD);
  } else {
    watch(c, EPOLL_CTL_MOD);
  }
}

void client_flush_all(void) {
  /* Bounded: a flush queues nothing new. */
  for (int i = 0; i < dirty_len; i++) {
    Client *c = dirty[i];
    c->dirty = 0;
    flush_one(c);
  }
  dirty_len = 0;
}

void client_write_lines(Client *c, const char *lines, size_t n) {
  if (!c->json) {
    client_queue(c, lines, n);
    return;
  }
  Str json = {0};
  ws_json_requests(lines, n, &json);
  if (!c->ws) {
    client_queue(c, json.data, json.len);
    free(json.data);
    return;
  }
  /* One WebSocket message per WS_MESSAGE_MAX bytes of whole lines: the server closes a
     connection whose message exceeds its line limit (16 KiB by default), and an open-loop
     sender catching up after a stall writes many lines at once. */
  char *frame = malloc((json.len < WS_MESSAGE_MAX ? json.len : WS_MESSAGE_MAX) + 14);
  if (!frame) abort();
  size_t start = 0;
  while (start < json.len) {
    size_t end = json.len - start <= WS_MESSAGE_MAX ? json.len : start + WS_MESSAGE_MAX;
    if (end < json.len) {
      /* Back to the end of the last whole line that fits (a longer line goes alone). */
      size_t cut = end;
      while (cut > start && json.data[cut - 1] != '\n') cut--;
      if (cut > start) {
        end = cut;
      } else {
        const char *lf = memchr(json.data + end, '\n', json.len - end);
        end = lf ? (size_t)(lf - json.data) + 1 : json.len;
      }
    }
    if (end - start > WS_MESSAGE_MAX) {
      frame = realloc(frame, end - start + 14);
      if (!frame) abort();
    }
    client_queue(c, frame, ws_frame(frame, json.data + start, end - start, 1));
    start = end;
  }
  free(frame);
  free(json.data);
}

void client_pause(Client *c) {
  if (c->paused || c->state == C_CLOSED) return;
  c->paused = 1;
  watch(c, EPOLL_CTL_MOD);
}

void client_close_now(Client *c) {
  if (c->fd >= 0) {
    epoll_ctl(g_epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
  }
  if (c->state != C_CLOSED) {
    c->state = C_CLOSED;
    g_closed_since_run++;
  }
}

/* A clean close (FIN, then read to the end): some servers quit when a peer is reset. */
void client_begin_close(Client *c) {
  if (c->state == C_CLOSED) return;
  c->closing = 1;
  flush_one(c);
  shutdown(c->fd, SHUT_WR);
  if (c->paused) client_close_now(c);
}

/*
 * The line of `c->pre` ending at `lf` made the client ready: settle it, and hand what came
 * after that line (none when `lf` is NULL) to the scanner as the first bytes of the run.
 */
static void ready_after_line(Client *c, const char *lf) {
  size_t rest = lf ? c->pre_len - (size_t)(lf - c->pre) - 1 : 0;
  char *pre = c->pre;
  c->pre = NULL;
  c->pre_len = 0;
  connect_settle(c, NULL);
  if (rest) scan_push(c, lf + 1, rest);
  free(pre);
}

/* Bytes before ready: the greeting line, the HTTP answer, or frames until welcome. */
static void before_ready(Client *c, const char *buf, size_t n) {
  if (c->state == C_WELCOME) {
    ws_push(c, buf, n);
    return;
  }
  size_t take = n;
  if (c->pre_len + take > PRE_MAX) take = PRE_MAX - c->pre_len;
  c->pre = realloc(c->pre, c->pre_len + take + 1);
  if (!c->pre) abort();
  memcpy(c->pre + c->pre_len, buf, take);
  c->pre_len += take;
  c->pre[c->pre_len] = 0;
  if (c->state == C_UPGRADING) {
    char *end = strstr(c->pre, "\r\n\r\n");
    if (!end) {
      if (c->pre_len > 8192) connect_settle(c, "upgrade answer too long");
      return;
    }
    size_t head_len = (size_t)(end - c->pre) + 4;
    const char *reason = NULL;
    end[2] = 0;
    if (!ws_check_head(c, c->pre, &reason)) {
      connect_settle(c, reason);
      return;
    }
    static const char hello[] = JSON_HELLO;
    char frame[64];
    client_queue(c, frame, ws_frame(frame, hello, sizeof hello - 1, 1));
    c->state = C_WELCOME;
    size_t rest = c->pre_len - head_len;
    char *copy = rest ? malloc(rest) : NULL;
    if (rest) memcpy(copy, c->pre + head_len, rest);
    free(c->pre);
    c->pre = NULL;
    c->pre_len = 0;
    if (rest) ws_push(c, copy, rest);
    free(copy);
    return;
  }
  if (c->state == C_WELCOME_LINE) {
    /* JSON lines: ready on the welcome line; a text greeting before it is skipped. */
    char *at = memmem(c->pre, c->pre_len, "\"type\":\"welcome\"", 16);
    if (!at) {
      if (c->pre_len >= PRE_MAX) connect_settle(c, "no welcome");
      return;
    }
    ready_after_line(c, memchr(at, '\n', c->pre_len - (size_t)(at - c->pre)));
    return;
  }
  /* C_GREETING: ready when the first line starts with the prefix (connections.ts). */
  char *lf = memchr(c->pre, '\n', c->pre_len);
  if (!lf && c->pre_len < 4096) return;
  size_t line_len = lf ? (size_t)(lf - c->pre) : 80;
  if (line_len > c->pre_len) line_len = c->pre_len;
  if (line_len > 0 && c->pre[line_len - 1] == '\r') line_len--;
  const char *prefix = g_connect_spec.greeting_prefix;
  size_t prefix_len = strlen(prefix);
  if (line_len >= prefix_len && memcmp(c->pre, prefix, prefix_len) == 0) {
    ready_after_line(c, lf);
  } else {
    char reason[128];
    if (line_len > 60) line_len = 60;
    snprintf(reason, sizeof reason, "unexpected first line: %.*s", (int)line_len, c->pre);
    connect_settle(c, reason);
  }
}

static void on_connected(Client *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    client_close_now(c);
    connect_settle(c, errno_name(err));
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->ws) {
    Str request = {0};
    ws_upgrade_request(c, &g_connect_spec, &request);
    c->state = C_UPGRADING;
    client_queue(c, request.data, request.len);
    free(request.data);
  } else if (c->json) {
    static const char hello[] = JSON_HELLO;
    c->state = C_WELCOME_LINE;
    client_queue(c, hello, sizeof hello - 1);
  } else if (g_connect_spec.ready_on_connect) {
    c->state = C_READY;
    connect_settle(c, NULL);
  } else {
    c->state = C_GREETING;
  }
  watch(c, EPOLL_CTL_MOD);
}

void client_on_event(Client *c, uint32_t events) {
  if (c->state == C_CLOSED) return;
  if (c->state == C_CONNECTING) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
    return;
  }
  if (events & EPOLLOUT) flush_one(c);
  if (c->state == C_CLOSED || !(events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) return;
  if (c->paused) return;
  ssize_t n = recv(c->fd, read_buffer, sizeof read_buffer, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    int ready = c->state == C_READY;
    const char *reason = n < 0 ? errno_name(errno) : "closed before ready";
    client_close_now(c);
    if (!ready) connect_settle(c, reason);
    return;
  }
  if (c->closing) return; /* reading to the end of a closing socket */
  g_chunk_now_us = now_us();
  if (c->state != C_READY) {
    before_ready(c, read_buffer, (size_t)n);
    return;
  }
  uint64_t before = c->count;
  if (c->ws) ws_push(c, read_buffer, (size_t)n);
  else scan_push(c, read_buffer, (size_t)n);
  if (c->count != before) g_last_delivery_us = g_chunk_now_us;
  after_chunk(c);
}
