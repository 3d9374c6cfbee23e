/*
 * One request line from the bench: `ID OP key=value key=value ...`, values percent-encoded
 * (encodeURIComponent), lists comma-separated. See src/load/native-request.ts.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdint.h>

#define REQUEST_MAX_FIELDS 32

typedef struct {
  int id;
  const char *op;
  int fields;
  char *keys[REQUEST_MAX_FIELDS];
  char *values[REQUEST_MAX_FIELDS];
} Request;

int req_parse(char *line, Request *q);
int req_has(const Request *q, const char *key);
const char *req_str(const Request *q, const char *key, const char *fallback);
int64_t req_int(const Request *q, const char *key, int64_t fallback);
double req_num(const Request *q, const char *key, double fallback);
/* `1,2,3`: the count, and a malloc'd array (free it). */
int req_ints(const Request *q, const char *key, int **out);
/* `a:b:room,...`: pairs of client ids (2 per pair) and the rooms, malloc'd. */
int req_pairs(const Request *q, const char *key, int **ids, char ***rooms);
/* `id:n,...`: pairs of numbers (2 per pair), malloc'd. */
int req_pairs_int(const Request *q, const char *key, int64_t **out);

#endif
