/* Parser of the VMCS dump format (see vmcs_dump.h): text and JSON forms,
 * line-numbered errors, never a crash on bad input. */
#include "models/vmx/vmcs_dump.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "models/vmx/vmx_bits.h"

#define DUMP_MAX_BYTES (1u << 20)
#define PSEUDO_IA32E "PROCESSOR_IA32E_MODE"

struct parser {
  const char *name;
  const struct vmx_caps *caps;
  struct vmcs_dump *d;
  FILE *err;
  int errors;
  int line_of[VMCS_FIELD_COUNT][2];  /* line that set the low [0] / high [1] half */
  int ia32e_line;
};

static void diag(struct parser *p, int line, bool error, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void diag(struct parser *p, int line, bool error, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(p->err, "%s:%d: %s: ", p->name, line, error ? "error" : "warning");
  vfprintf(p->err, fmt, ap);
  fputc('\n', p->err);
  va_end(ap);
  if (error) p->errors++;
}

/* An unsigned integer: 0x hexadecimal or decimal, the whole string. */
static bool parse_uint(const char *s, uint64_t *out)
{
  int base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s += 2;
  if (!*s || !isxdigit((unsigned char)*s)) return false;
  if (base == 10 && !isdigit((unsigned char)*s)) return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (errno || *end) return false;
  *out = v;
  return true;
}

/* Stores one assignment; `line` for messages. */
static void assign(struct parser *p, int line, const char *key, const char *value)
{
  uint64_t v;
  if (!parse_uint(value, &v)) {
    diag(p, line, true, "invalid value '%s' for %s (want 0x-hexadecimal or decimal)", value, key);
    return;
  }
  char upper[128];
  size_t n = strlen(key);
  if (n >= sizeof upper) {
    diag(p, line, true, "field name too long");
    return;
  }
  for (size_t i = 0; i <= n; i++) upper[i] = (char)toupper((unsigned char)key[i]);

  if (strcmp(upper, PSEUDO_IA32E) == 0) {
    if (v > 1) diag(p, line, true, "%s must be 0 or 1, not %s", PSEUDO_IA32E, value);
    if (p->ia32e_line) diag(p, line, true, "%s given twice", PSEUDO_IA32E);
    p->ia32e_line = line;
    p->d->host_ia32e = v == 1;
    return;
  }
  int f;
  bool high = false;
  uint64_t enc;
  if (parse_uint(upper, &enc)) {
    f = enc > 0xFFFFFFFFull ? -1 : vmcs_field_by_encoding((uint32_t)enc);
    high = f >= 0 && (enc & 1);
    if (f < 0) {
      diag(p, line, true, "no VMCS field has encoding %s", key);
      return;
    }
  } else {
    f = vmcs_field_by_name(upper, &high);
    if (f < 0) {
      diag(p, line, true, "unknown VMCS field '%s'", key);
      return;
    }
  }
  const struct vmcs_field_info *fi = &vmcs_fields[f];
  unsigned bits = high ? 32 : vmcs_width_bits(fi->width);
  if (bits < 64 && (v >> bits)) {
    diag(p, line, true, "value %s does not fit the %u-bit field", value, bits);
    return;
  }
  int *seen = &p->line_of[f][high ? 1 : 0];
  if (*seen) {
    diag(p, line, true, "%s already set on line %d", key, *seen);
    return;
  }
  *seen = line;
  if (!vmcs_field_supported(p->caps, f)) {
    diag(p, line, false, "%s does not exist on CPU model %s; ignored", fi->name, p->caps->name);
    return;
  }
  /* A 64-bit field may come as one value or as low (full encoding) and
   * high halves; then the full value must fit in 32 bits. */
  uint64_t cur = p->d->v.val[f];
  bool other_half = p->line_of[f][high ? 0 : 1] != 0;
  if (fi->width == VMCS_WIDTH_W64 && other_half && (high ? (cur >> 32) : (v >> 32))) {
    diag(p, line, true, "%s: the full value sets bits 63:32 and %s_HIGH is given too", fi->name, fi->name);
    return;
  }
  p->d->present[f] = true;
  if (high) v = (cur & 0xFFFFFFFFull) | (v << 32);
  else if (other_half) v = (cur & ~0xFFFFFFFFull) | v;
  vmcs_set(&p->d->v, f, v);
}

static char *trim(char *s)
{
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
  return s;
}

static void parse_text(struct parser *p, char *buf)
{
  int line = 0;
  for (char *next, *s = buf; s; s = next) {
    line++;
    next = strchr(s, '\n');
    if (next) *next++ = 0;
    char *hash = strchr(s, '#');
    if (hash) *hash = 0;
    char *l = trim(s);
    if (!*l) continue;
    char *eq = strchr(l, '=');
    if (!eq) {
      diag(p, line, true, "expected 'FIELD = value', got '%s'", l);
      continue;
    }
    *eq = 0;
    char *key = trim(l), *value = trim(eq + 1);
    if (!*key || !*value) {
      diag(p, line, true, "expected 'FIELD = value'");
      continue;
    }
    assign(p, line, key, value);
  }
}

/* ---- JSON: one flat object of integer or string values ---- */
struct json { const char *s; int line; struct parser *p; bool failed; };

static void jerr(struct json *j, const char *msg)
{
  if (j->failed) return;
  diag(j->p, j->line, true, "%s", msg);
  j->failed = true;
}
static void jspace(struct json *j)
{
  for (; *j->s && isspace((unsigned char)*j->s); j->s++)
    if (*j->s == '\n') j->line++;
}
/* A string token without escapes other than \" and \\ (field names and
 * numbers need no more). */
static bool jstring(struct json *j, char *out, size_t len)
{
  if (*j->s != '"') { jerr(j, "expected a string"); return false; }
  size_t n = 0;
  for (j->s++; *j->s != '"'; j->s++) {
    if (!*j->s || *j->s == '\n') { jerr(j, "unterminated string"); return false; }
    if (*j->s == '\\') {
      j->s++;
      if (*j->s != '"' && *j->s != '\\') { jerr(j, "unsupported escape in string"); return false; }
    }
    if (n + 1 >= len) { jerr(j, "string too long"); return false; }
    out[n++] = *j->s;
  }
  j->s++;
  out[n] = 0;
  return true;
}

static void parse_json(struct parser *p, const char *buf)
{
  struct json j = { buf, 1, p, false };
  jspace(&j);
  if (*j.s != '{') { jerr(&j, "expected '{'"); return; }
  j.s++;
  jspace(&j);
  if (*j.s == '}') j.s++;
  else {
    for (;;) {
      char key[128], value[128];
      jspace(&j);
      if (!jstring(&j, key, sizeof key)) return;
      jspace(&j);
      if (*j.s != ':') { jerr(&j, "expected ':'"); return; }
      j.s++;
      jspace(&j);
      int line = j.line;
      if (*j.s == '"') {
        if (!jstring(&j, value, sizeof value)) return;
      } else {
        size_t n = 0;
        while (*j.s && (isalnum((unsigned char)*j.s) || *j.s == '-' || *j.s == '+' || *j.s == '.')) {
          if (n + 1 >= sizeof value) { jerr(&j, "number too long"); return; }
          value[n++] = *j.s++;
        }
        value[n] = 0;
        if (!n) { jerr(&j, "expected an integer or a string value"); return; }
      }
      assign(p, line, key, value);
      jspace(&j);
      if (*j.s == ',') { j.s++; continue; }
      if (*j.s == '}') { j.s++; break; }
      jerr(&j, "expected ',' or '}'");
      return;
    }
  }
  jspace(&j);
  if (*j.s) jerr(&j, "unexpected text after the object");
}

int vmcs_dump_parse(FILE *in, const char *input_name, const struct vmx_caps *caps,
                    struct vmcs_dump *d, FILE *err)
{
  static struct parser p;
  memset(&p, 0, sizeof p);
  memset(d, 0, sizeof *d);
  d->host_ia32e = true;
  d->v.revision = BASIC_REVISION(caps->basic);
  p = (struct parser){ .name = input_name, .caps = caps, .d = d, .err = err };

  char *buf = malloc(DUMP_MAX_BYTES + 1);
  if (!buf) {
    fprintf(err, "%s: error: out of memory\n", input_name);
    return 1;
  }
  size_t n = fread(buf, 1, DUMP_MAX_BYTES + 1, in);
  if (ferror(in) || n > DUMP_MAX_BYTES) {
    fprintf(err, "%s: error: %s\n", input_name, n > DUMP_MAX_BYTES ? "dump larger than 1 MiB" : "read error");
    free(buf);
    return 1;
  }
  buf[n] = 0;
  if (memchr(buf, 0, n)) {
    fprintf(err, "%s: error: binary data (NUL byte) in dump\n", input_name);
    free(buf);
    return 1;
  }
  const char *first = buf;
  while (isspace((unsigned char)*first)) first++;
  if (*first == '{') parse_json(&p, buf);
  else parse_text(&p, buf);
  free(buf);
  return p.errors;
}
