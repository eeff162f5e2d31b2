/* Trace recording. Every line goes into the digest whether or not a trace
 * file was asked for, so `hvsim run` can always print the digest. */
#include "sim/trace.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
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

/* ---- formatting ---------------------------------------------------------
 * Every event of a run is formatted (the digest covers them all, file or
 * not), so the conversions trace lines use are done here directly:
 * flags - 0 #, a width, the h/l/ll/z sizes and d i u x X c s %. A format
 * with anything else goes to vsnprintf, with the same result. */

/* Output with its bound; formatting keeps it in locals (a cursor in
 * memory costs a load and a store per character). */
struct out { char *p, *end; };

static inline void put_char(char **p, char *end, char c)
{
  if (*p < end) *(*p)++ = c;
}

static inline void put_padded(char **p, char *end, const char *s, size_t len, unsigned width, bool left, char pad)
{
  size_t fill = width > len ? width - len : 0;
  if (!left)
    while (fill--) put_char(p, end, pad);
  size_t room = (size_t)(end - *p), n = len < room ? len : room;
  memcpy(*p, s, n);
  *p += n;
  if (left)
    while (fill--) put_char(p, end, ' ');
}

/* Decimal digits of u ending at `end`, two at a time (every line starts
 * with the run's instruction count); returns the first digit. */
static char *put_decimal(char *end, unsigned long long u)
{
  static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";
  char *b = end;
  while (u >= 100) {
    unsigned r = (unsigned)(u % 100);
    u /= 100;
    b -= 2;
    memcpy(b, pairs + 2 * r, 2);
  }
  if (u >= 10) {
    b -= 2;
    memcpy(b, pairs + 2 * u, 2);
  } else {
    *--b = (char)('0' + u);
  }
  return b;
}

/* Returns false when `fmt` needs vsnprintf. */
static bool format_fast(struct out *o, const char *fmt, va_list ap)
{
  char *p = o->p, *const end = o->end;
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      /* The literal run up to the next conversion, in one copy. */
      const char *lit = f;
      while (f[1] && f[1] != '%') f++;
      put_padded(&p, end, lit, (size_t)(f - lit + 1), 0, false, ' ');
      continue;
    }
    bool left = false, zero = false, alt = false;
    for (f++;; f++) {
      if (*f == '-') left = true;
      else if (*f == '0') zero = true;
      else if (*f == '#') alt = true;
      else break;
    }
    unsigned width = 0;
    while (*f >= '0' && *f <= '9') width = width * 10 + (unsigned)(*f++ - '0');
    int size = 0;   /* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t */
    if (*f == 'h') { size = -1; if (*++f == 'h') size = -2, f++; }
    else if (*f == 'l') { size = 1; if (*++f == 'l') size = 2, f++; }
    else if (*f == 'z') { size = 2; f++; }
    char buf[32], *bend = buf + sizeof buf, *b = bend;
    switch (*f) {
    case '%': put_char(&p, end, '%'); continue;
    case 'c': buf[0] = (char)va_arg(ap, int); put_padded(&p, end, buf, 1, width, left, ' '); continue;
    case 's': {
      const char *str = va_arg(ap, const char *);
      if (!str) str = "(null)";
      put_padded(&p, end, str, strlen(str), width, left, ' ');
      continue;
    }
    case 'd': case 'i': {
      long long v = size == 2 ? va_arg(ap, long long) : size == 1 ? va_arg(ap, long) : va_arg(ap, int);
      if (size == -1) v = (short)v;
      if (size == -2) v = (signed char)v;
      unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
      b = put_decimal(b, u);
      if (v < 0) {
        if (zero && !left) { put_char(&p, end, '-'); if (width) width--; }
        else *--b = '-';
      }
      put_padded(&p, end, b, (size_t)(bend - b), width, left, zero && !left ? '0' : ' ');
      continue;
    }
    case 'u': case 'x': case 'X': {
      unsigned long long u = size == 2 ? va_arg(ap, unsigned long long) : size == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
      if (size == -1) u = (unsigned short)u;
      if (size == -2) u = (unsigned char)u;
      const char *digits = *f == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
      bool hex = *f != 'u', prefix = alt && hex && u != 0;
      /* Constant divisors: a division by a variable base costs tens of
       * cycles per digit, and every event of a run is formatted. */
      if (hex)
        do *--b = digits[u & 15]; while (u >>= 4);
      else
        b = put_decimal(b, u);
      if (prefix && zero && !left) {
        put_char(&p, end, '0'); put_char(&p, end, *f);
        width = width > 2 ? width - 2 : 0;
      } else if (prefix) {
        *--b = *f; *--b = '0';
      }
      put_padded(&p, end, b, (size_t)(bend - b), width, left, zero && !left ? '0' : ' ');
      continue;
    }
    default:
      return false;
    }
  }
  o->p = p;
  return true;
}

void trace_event(struct trace *t, uint64_t insns, const char *kind, const char *fmt, ...)
{
  char line[512];
  struct out o = {line, line + sizeof line - 1};
  char num[24], *b = put_decimal(num + sizeof num, insns);
  put_padded(&o.p, o.end, b, (size_t)(num + sizeof num - b), 0, false, ' ');
  put_char(&o.p, o.end, ' ');
  put_padded(&o.p, o.end, kind, strlen(kind), 0, false, ' ');
  int n;
  if (fmt && *fmt) {
    put_char(&o.p, o.end, ' ');
    char *args = o.p;
    va_list ap;
    va_start(ap, fmt);
    bool fast = format_fast(&o, fmt, ap);
    va_end(ap);
    if (!fast) {
      va_start(ap, fmt);
      int m = vsnprintf(args, (size_t)(line + sizeof line - 1 - args), fmt, ap);
      va_end(ap);
      o.p = m < 0 ? args : args + m < o.end ? args + m : o.end;
    }
  }
  n = (int)(o.p - line);
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
