/* Parsing of the bench's request lines (request.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "request.h"

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes in place (never longer than the input). */
static void decode(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (*p == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
      *o++ = (char)(hex(p[1]) * 16 + hex(p[2]));
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  *o = 0;
}

int req_parse(char *line, Request *q) {
  memset(q, 0, sizeof *q);
  char *save = NULL;
  char *id = strtok_r(line, " ", &save);
  if (!id) return 0;
  q->id = atoi(id);
  q->op = strtok_r(NULL, " ", &save);
  if (!q->op) return 0;
  for (char *tok = strtok_r(NULL, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq || q->fields == REQUEST_MAX_FIELDS) return 0;
    *eq = 0;
    q->keys[q->fields] = tok;
    q->values[q->fields++] = eq + 1;
  }
  return 1;
}

static char *find(const Request *q, const char *key) {
  for (int i = 0; i < q->fields; i++)
    if (strcmp(q->keys[i], key) == 0) return q->values[i];
  return NULL;
}

int req_has(const Request *q, const char *key) { return find(q, key) != NULL; }

const char *req_str(const Request *q, const char *key, const char *fallback) {
  char *v = find(q, key);
  if (!v) return fallback;
  decode(v);
  return v;
}

int64_t req_int(const Request *q, const char *key, int64_t fallback) {
  char *v = find(q, key);
  return v && *v ? strtoll(v, NULL, 10) : fallback;
}

double req_num(const Request *q, const char *key, double fallback) {
  char *v = find(q, key);
  return v && *v ? strtod(v, NULL) : fallback;
}

static int items(const char *v) {
  if (!v || !*v) return 0;
  int n = 1;
  for (const char *p = v; *p; p++) n += *p == ',';
  return n;
}

/*
 * `n,n,...` (width 1) or `n:n,n:n,...` (width 2): the item count, and `width` numbers an item
 * in a malloc'd array.
 */
static int numbers(const Request *q, const char *key, int width, int64_t **out) {
  char *v = find(q, key);
  int n = items(v);
  *out = malloc(sizeof **out * (size_t)(width * n + 1));
  if (!*out) abort();
  char *p = v;
  for (int i = 0; i < width * n; i++) {
    (*out)[i] = strtoll(p, &p, 10);
    if (*p == ':' || *p == ',') p++;
  }
  return n;
}

int req_ints(const Request *q, const char *key, int **out) {
  int64_t *wide;
  int n = numbers(q, key, 1, &wide);
  *out = malloc(sizeof **out * (size_t)(n ? n : 1));
  if (!*out) abort();
  for (int i = 0; i < n; i++) (*out)[i] = (int)wide[i];
  free(wide);
  return n;
}

int req_pairs(const Request *q, const char *key, int **ids, char ***rooms) {
  char *v = find(q, key);
  int n = items(v);
  *ids = malloc(sizeof **ids * (size_t)(2 * n + 1));
  *rooms = malloc(sizeof **rooms * (size_t)(n + 1));
  if (!*ids || !*rooms) abort();
  char *save = NULL;
  int i = 0;
  for (char *item = n ? strtok_r(v, ",", &save) : NULL; item && i < n;
       item = strtok_r(NULL, ",", &save), i++) {
    char *p = item;
    (*ids)[2 * i] = (int)strtol(p, &p, 10);
    if (*p == ':') p++;
    (*ids)[2 * i + 1] = (int)strtol(p, &p, 10);
    if (*p == ':') p++;
    decode(p);
    (*rooms)[i] = strdup(p);
  }
  return i;
}

int req_pairs_int(const Request *q, const char *key, int64_t **out) {
  return numbers(q, key, 2, out);
}
