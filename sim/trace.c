/* Trace recording. Every line goes into the digest whether or not a trace
 * file was asked for, so `hvsim run` can always print the digest. */
#include "sim/trace.h"

#include <stdarg.h>
#include <string.h>

static void emit(struct trace *t, const char *line, size_t len)
{
  sha256_update(&t->digest, line, len);
  if (t->out) fwrite(line, 1, len, t->out);
}

void trace_open(struct trace *t, FILE *out, const char *image, const char *cpu, uint64_t ram)
{
  t->out = out;
  t->events = 0;
  sha256_init(&t->digest);
  char line[512];
  int n = snprintf(line, sizeof line, "hvsim-trace %d image=%s cpu=%s ram=%llu\n",
                   TRACE_FORMAT_VERSION, image, cpu, (unsigned long long)ram);
  emit(t, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void trace_event(struct trace *t, uint64_t insns, const char *kind, const char *fmt, ...)
{
  char line[512];
  int n = snprintf(line, sizeof line, "%llu %s", (unsigned long long)insns, kind);
  if (fmt && *fmt && n < (int)sizeof line - 2) {
    line[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n += m < (int)(sizeof line - (size_t)n - 1) ? m : (int)(sizeof line - (size_t)n - 2);
  }
  line[n++] = '\n';
  t->events++;
  emit(t, line, (size_t)n);
}

void trace_close(struct trace *t, char hex[65])
{
  uint8_t d[32];
  sha256_final(&t->digest, d);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
  if (t->out) fprintf(t->out, "# events %llu digest sha256:%s\n", (unsigned long long)t->events, hex);
}
