/*
 * The bench's native load generator: one process holds many client sockets on one epoll loop
 * and answers the same requests as a load-generator worker thread (src/load/protocol.ts), read
 * as one request per line on stdin (see src/load/native-request.ts for the framing) and
 * answered as JSON lines on stdout.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The hello of a JSON or WebSocket client (json-requests.ts JSON_HELLO): compact, like every
 * tcpchat client, so a room's runs of messages arrive as `messages` frames (spec 4.6).
 */
#define JSON_HELLO "{\"type\":\"hello\",\"proto\":1,\"compact\":true}\n"

/* ---- histogram.c: latencies in µs, about three significant digits ---- */

/* Values below 2^11 are exact; above, each power of two is split into 1024 buckets. */
#define HIST_SUB_BITS 10
#define HIST_BUCKETS (2048 + 31 * 1024)

typedef struct {
  uint64_t counts[HIST_BUCKETS];
  uint64_t total;
} Histogram;

Histogram *hist_new(void);
void hist_reset(Histogram *h);
void hist_record(Histogram *h, int64_t value);

/* ---- out.c: the reply being written (a growing string) ---- */

typedef struct {
  char *data;
  size_t len, cap;
} Str;

void str_add(Str *s, const char *bytes, size_t n);
void str_printf(Str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void str_json(Str *s, const char *text);
void str_hist(Str *s, const Histogram *h);
void reply_ok(int id, const Str *result);
/* reply_ok, then frees the result's text (every request's last step). */
void reply_ok_free(int id, Str *result);
void reply_error(int id, const char *message);
void write_progress(void);

/* ---- clients ---- */

/* What a client's received lines are used for. */
enum { SCAN_COUNT, SCAN_PARSE, SCAN_SETUP, SCAN_PROBE, SCAN_ECHO_A, SCAN_ECHO_B };
/* Where a connection is in its life. */
enum { C_CONNECTING, C_UPGRADING, C_GREETING, C_WELCOME, C_WELCOME_LINE, C_READY, C_CLOSED };

/* Largest bench message the native generator decodes (tcpchat's line limit is 16 KiB). */
#define MAX_MESSAGE_BYTES 65536

typedef struct Client {
  int id;
  int fd;
  int state;
  int paused;
  int json;      /* JSON lines (structured mode): requests as JSON, `"}` after a message's text */
  int ws;        /* WebSocket transport: JSON lines in frames */
  int closing;   /* close-all sent our FIN; waiting for the server's */
  int dirty;     /* has queued output not yet written */
  /* Output not yet written (the kernel's buffer was full, or waiting for the flush). */
  char *out;
  size_t out_len, out_cap, out_sent;
  /* Scanner: lines counted, the tail of a line split across reads, and what lines are for. */
  int scan;
  uint64_t count;
  char *tail; /* allocated at the size kept (g_keep), so an idle client holds none */
  size_t tail_len, tail_cap;
  /* Text seen before ready (greeting, HTTP answer, welcome). */
  char *pre;
  size_t pre_len;
  char ws_accept[32];
  /* WebSocket frame reader: a header split across reads, and the payload still to come. */
  uint8_t ws_header[14];
  size_t ws_header_len;
  uint64_t ws_remaining;
  int ws_opcode;
  uint8_t ws_control[128];
  size_t ws_control_len;
  /* Broadcast parser: last sequence seen, by sender slot (-1: none). */
  int64_t *last_seq;
  int last_cap;
  /* Echo: the peer and the pair's next sequence number. */
  int peer;
  int64_t echo_seq;
  int echo_stopped;
  int64_t connect_start_us;
  /* Per run: settled by the connect request; paused for the run; a parser; a local sender. */
  int settled;
  int run_paused;
  int is_parser;
  int sender_index; /* index in the run's senders, or -1 */
  int join_waiting;
  int probe_waiting; /* the readiness probe waits for a setup line to reach this client */
  int echo_leader; /* the `a` of an echo pair: it sends, its peer answers */
} Client;

/* ---- globals (main.c) ---- */

extern int g_epoll;
extern int64_t g_t0_us;
extern int64_t g_chunk_now_us;
extern int64_t g_last_delivery_us;
extern uint64_t g_closed_since_run;
extern uint64_t g_progress_ready, g_progress_sent, g_progress_round_trips;
extern Client **g_clients; /* by client id; NULL where none */
extern int g_clients_cap;

int64_t now_us(void);
Client *client_get(int id);

/* ---- net.c ---- */

typedef struct {
  char host[256];
  int port;
  char local_address[64];
  int ready_on_connect;
  char greeting_prefix[256];
  int pause;
  int json;
  int ws;
  char ws_path[256];
} ConnectSpec;

/* What the pending connect request asked for (connect.c). */
extern ConnectSpec g_connect_spec;

int client_open(int id, const ConnectSpec *spec);
void client_on_event(Client *c, uint32_t events);
void client_queue(Client *c, const char *bytes, size_t n);
void client_flush_all(void);
void client_pause(Client *c);
void client_close_now(Client *c);
void client_begin_close(Client *c);
void client_write_lines(Client *c, const char *lines, size_t n);

/* ---- scan.c ---- */

void scan_reset(Client *c, int mode);
uint64_t scan_push(Client *c, const char *buf, size_t n);
/* Bench message fields at fixed offsets before `end` (message.ts); 0 if not one. */
int message_decode(const char *buf, size_t end_offset_len, size_t size, int64_t *sender,
                   int64_t *seq, int64_t *sent_at);
size_t message_encode(char *out, int size, int64_t sender, int64_t seq, int64_t sent_at_us);

/* ---- ws.c ---- */

/* Largest WebSocket message the generator writes (whole JSON lines); see client_write_lines. */
#define WS_MESSAGE_MAX 8192

void ws_upgrade_request(Client *c, const ConnectSpec *spec, Str *out);
int ws_check_head(Client *c, const char *head, const char **reason);
void ws_push(Client *c, const char *buf, size_t n);
size_t ws_frame(char *out, const char *payload, size_t n, int opcode);
size_t ws_json_requests(const char *lines, size_t n, Str *out);

/* ---- runs.c: what connections do once ready ---- */

void connect_settle(Client *c, const char *reason);
void on_line(Client *c, const char *buf, size_t start, size_t end);
void after_chunk(Client *c);
void runs_tick(void);
int64_t runs_next_deadline_us(void);
void handle_request(char *line);
void client_forget(Client *c);
void free_forgotten(void);
void close_everything(void);
extern size_t g_keep;

#endif
