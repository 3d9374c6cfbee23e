/* The request handlers and their timers, by module (see runs.c). */
#ifndef RUNS_H
#define RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"
#include "request.h"

/* connect.c: connect, join-pairs, probe, close-all. */
void op_connect(int id, Request *q);
void op_join_pairs(int id, Request *q);
void op_probe(int id, Request *q);
void op_close_all(int id, Request *q);
void join_on_line(Client *c, const char *buf, size_t start, size_t end);
void probe_on_line(Client *c, const char *buf, size_t start, size_t end);
void connect_tick(int64_t now);
int64_t connect_deadline_us(void);

/* broadcast.c: broadcast, broadcast-start, broadcast-stop, counts. */
void op_broadcast(int id, Request *q);
void op_broadcast_start(int id);
void broadcast_finish(void);
void op_counts(int id, Request *q);
void broadcast_on_line(Client *c, const char *buf, size_t start, size_t end);
void broadcast_after_chunk(Client *c);
void broadcast_tick(int64_t now);
int64_t broadcast_deadline_us(void);
/* Writes `count` messages of a sender; message i is stamped first_stamp + i * step. */
void send_messages(Client *c, int size, int64_t sender, int64_t first_seq, int64_t count,
                   double first_stamp, double step);

/* echo.c: echo. */
void op_echo(int id, Request *q);
void echo_on_line(Client *c, const char *buf, size_t start, size_t end);
void echo_tick(int64_t now);
int64_t echo_deadline_us(void);

#endif
