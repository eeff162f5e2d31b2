/* Checking a parser's diagnostics: every message names the input and a
 * line that exists in it. Shared by the VMCS and VMCB dump harnesses. */
#ifndef HVSIM_FUZZ_FUZZ_DIAG_H
#define HVSIM_FUZZ_FUZZ_DIAG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"

/* The name every harness gives its input in messages. */
#define FUZZ_NAME "fuzz"

/* Lines of a text: newlines + 1 (the parsers count from 1 and a last line
 * need not end in a newline). */
static inline unsigned long fuzz_lines(const uint8_t *data, size_t size)
{
  unsigned long n = 1;
  for (size_t i = 0; i < size; i++) n += data[i] == '\n';
  return n;
}

/* If `line` is "fuzz:N: ...", returns N (>= 1) and sets *rest after ": ";
 * else returns 0. */
static inline unsigned long fuzz_diag_line(const char *line, const char **rest)
{
  size_t k = strlen(FUZZ_NAME);
  if (strncmp(line, FUZZ_NAME ":", k + 1) != 0) return 0;
  const char *p = line + k + 1;
  if (*p < '1' || *p > '9') return 0;
  char *end;
  unsigned long n = strtoul(p, &end, 10);
  if (end[0] != ':' || end[1] != ' ') return 0;
  *rest = end + 2;
  return n;
}

/* Memory streams, as the parsers take FILE *. fmemopen rejects a size of
 * 0 on some libcs: an empty input reads from an empty string instead. */
static inline FILE *fuzz_open_input(const uint8_t *data, size_t size)
{
  static char empty[1];
  FILE *f = size ? fmemopen((void *)data, size, "r") : fmemopen(empty, 1, "r");
  FUZZ_CHECK(f != NULL, "fmemopen failed");
  if (!size) fgetc(f); /* consume the NUL: the stream is now at its end */
  return f;
}

struct fuzz_sink {
  FILE *f;
  char *buf;
  size_t len;
};
static inline void fuzz_sink_open(struct fuzz_sink *s)
{
  s->buf = NULL;
  s->len = 0;
  s->f = open_memstream(&s->buf, &s->len);
  FUZZ_CHECK(s->f != NULL, "open_memstream failed");
}
static inline void fuzz_sink_close(struct fuzz_sink *s) { fclose(s->f); }
static inline void fuzz_sink_free(struct fuzz_sink *s) { free(s->buf); }

#endif
