/* The run trace: one line per event, prefixed by virtual time, and a SHA-256
 * digest of every line. Format: docs/trace-format.md. The same run gives a
 * byte-identical trace and digest on every machine. */
#ifndef HVSIM_SIM_TRACE_H
#define HVSIM_SIM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sha256.h"

#define TRACE_FORMAT_VERSION 1

struct trace {
  FILE *out;                   /* NULL: tracing off (the digest is still kept) */
  struct sha256 digest;
  uint64_t events;
};

void trace_open(struct trace *t, FILE *out, const char *image, const char *cpu, uint64_t ram);
/* Records one event at virtual time `insns`. */
void trace_event(struct trace *t, uint64_t insns, const char *kind, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* Writes the closing line with the digest; returns the digest in hex. */
void trace_close(struct trace *t, char hex[65]);

#endif
