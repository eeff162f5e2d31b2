/* Reading and writing VMCB dumps (see vmcb_dump.h for the format). The
 * parsers keep going after an error so one run reports every bad line. */
#include "models/svm/vmcb_dump.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Errors stop being printed past this many; the count stays exact. */
#define MAX_PRINTED_ERRORS 50

struct parser {
  const char *name;            /* input name for messages */
  FILE *err;
  unsigned errors;
  struct svm_vmcb *vmcb;
  unsigned given_on[SVM_FIELD_COUNT]; /* line a field was set on, 0 = not yet */
};

static void error_at(struct parser *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error_at(struct parser *p, unsigned line, const char *fmt, ...)
{
  p->errors++;
  if (p->errors > MAX_PRINTED_ERRORS) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(p->err, "%s:%u: ", p->name, line);
  vfprintf(p->err, fmt, ap);
  fputc('\n', p->err);
  va_end(ap);
}

/* A number: decimal, 0x/0X hex, or -decimal. Whole text must be consumed. */
static bool parse_number(const char *s, size_t len, uint64_t *value, bool *negative)
{
  char buf[72];
  if (len == 0 || len >= sizeof buf) return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  *negative = buf[0] == '-';
  const char *digits = *negative ? buf + 1 : buf;
  int base = 10;
  if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits += 2;
    if (*negative) return false;
  }
  if (!*digits) return false;
  for (const char *c = digits; *c; c++)
    if (base == 16 ? !isxdigit((unsigned char)*c) : !isdigit((unsigned char)*c)) return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(digits, &end, base);
  if (errno == ERANGE || *end) return false;
  if (*negative && v > (1ull << 63)) return false;
  *value = *negative ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  return true;
}

/* Stores field = value after the checks every syntax shares. */
static void assign(struct parser *p, unsigned line, const char *name, size_t name_len,
                   const char *value, size_t value_len)
{
  char key[64];
  if (name_len == 0) {
    error_at(p, line, "missing field name before '='");
    return;
  }
  if (name_len >= sizeof key) {
    error_at(p, line, "field name too long");
    return;
  }
  memcpy(key, name, name_len);
  key[name_len] = '\0';
  const struct svm_vmcb_field *f = svm_vmcb_field_by_name(key);
  if (!f) {
    error_at(p, line, "unknown VMCB field '%s' (names are listed in docs/explain-vmcb.md)", key);
    return;
  }
  uint64_t v;
  bool negative;
  if (!parse_number(value, value_len, &v, &negative)) {
    error_at(p, line, "'%.*s' is not a number for field '%s' (decimal, 0x-hex or -decimal)",
             (int)(value_len > 40 ? 40 : value_len), value, key);
    return;
  }
  unsigned bits = 8u * f->size;
  if (bits < 64) {
    uint64_t mask = (1ull << bits) - 1;
    /* A negative number fits when it sign-extends from the field's width. */
    bool fits = negative ? (v | mask) == ~0ull && (v >> (bits - 1) & 1) : (v & ~mask) == 0;
    if (!fits) {
      error_at(p, line, "value %.*s does not fit in field '%s' (%u bytes)",
               (int)(value_len > 40 ? 40 : value_len), value, key, f->size);
      return;
    }
    v &= mask;
  }
  unsigned idx = (unsigned)(f - svm_vmcb_fields);
  if (p->given_on[idx]) {
    error_at(p, line, "field '%s' given twice (first on line %u)", key, p->given_on[idx]);
    return;
  }
  p->given_on[idx] = line;
  svm_vmcb_field_write(p->vmcb, f, v);
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void parse_text(struct parser *p, const char *s, size_t len)
{
  unsigned line = 1;
  size_t i = 0;
  while (i < len) {
    size_t start = i;
    while (i < len && s[i] != '\n') i++;
    size_t end = i;                  /* exclusive */
    const char *hash = memchr(s + start, '#', end - start);
    if (hash) end = (size_t)(hash - s);
    while (start < end && is_blank(s[start])) start++;
    while (end > start && is_blank(s[end - 1])) end--;
    if (start < end) {
      const char *eq = memchr(s + start, '=', end - start);
      if (!eq) {
        error_at(p, line, "expected 'field_name = value', got '%.*s'",
                 (int)(end - start > 40 ? 40 : end - start), s + start);
      } else {
        size_t name_end = (size_t)(eq - s), value_start = name_end + 1;
        while (name_end > start && is_blank(s[name_end - 1])) name_end--;
        while (value_start < end && is_blank(s[value_start])) value_start++;
        assign(p, line, s + start, name_end - start, s + value_start, end - value_start);
      }
    }
    i++;                             /* past '\n' */
    line++;
  }
}

/* A small JSON reader for one flat object of integers and numeric strings. */
struct json {
  struct parser *p;
  const char *s;
  size_t len, pos;
  unsigned line;
};

static void json_skip_ws(struct json *j)
{
  while (j->pos < j->len) {
    char c = j->s[j->pos];
    if (c == '\n') j->line++;
    else if (!is_blank(c)) return;
    j->pos++;
  }
}

static bool json_expect(struct json *j, char c, const char *what)
{
  json_skip_ws(j);
  if (j->pos < j->len && j->s[j->pos] == c) {
    j->pos++;
    return true;
  }
  if (j->pos >= j->len) error_at(j->p, j->line, "unexpected end of input, expected %s", what);
  else error_at(j->p, j->line, "expected %s, got '%c'", what, j->s[j->pos]);
  return false;
}

/* A string without escapes; sets start and n to its contents. */
static bool json_string(struct json *j, const char **start, size_t *n)
{
  if (!json_expect(j, '"', "'\"'")) return false;
  size_t b = j->pos;
  while (j->pos < j->len && j->s[j->pos] != '"') {
    char c = j->s[j->pos];
    if (c == '\\') {
      error_at(j->p, j->line, "escape sequences are not supported in VMCB dumps");
      return false;
    }
    if (c == '\n') {
      error_at(j->p, j->line, "unterminated string");
      return false;
    }
    j->pos++;
  }
  if (j->pos >= j->len) {
    error_at(j->p, j->line, "unterminated string");
    return false;
  }
  *start = j->s + b;
  *n = j->pos - b;
  j->pos++;
  return true;
}

static void parse_json(struct parser *p, const char *s, size_t len, unsigned first_line)
{
  struct json j = {p, s, len, 0, first_line};
  if (!json_expect(&j, '{', "'{'")) return;
  json_skip_ws(&j);
  if (j.pos < j.len && s[j.pos] == '}') {
    j.pos++;
  } else {
    for (;;) {
      const char *key, *val;
      size_t key_n, val_n;
      json_skip_ws(&j);
      unsigned key_line = j.line;
      if (!json_string(&j, &key, &key_n)) return;
      if (!json_expect(&j, ':', "':'")) return;
      json_skip_ws(&j);
      if (j.pos < j.len && s[j.pos] == '"') {
        if (!json_string(&j, &val, &val_n)) return;
      } else {
        size_t b = j.pos;
        while (j.pos < j.len && (s[j.pos] == '-' || isalnum((unsigned char)s[j.pos]) || s[j.pos] == '.' || s[j.pos] == '+')) j.pos++;
        val = s + b;
        val_n = j.pos - b;
        if (val_n == 0) {
          error_at(p, j.line, "expected a number or a string as the value of '%.*s'", (int)(key_n > 40 ? 40 : key_n), key);
          return;
        }
      }
      assign(p, key_line, key, key_n, val, val_n);
      json_skip_ws(&j);
      if (j.pos < j.len && s[j.pos] == ',') {
        j.pos++;
        continue;
      }
      if (!json_expect(&j, '}', "',' or '}'")) return;
      break;
    }
  }
  json_skip_ws(&j);
  if (j.pos < j.len) error_at(p, j.line, "unexpected text after the closing '}'");
}

/* The first significant character decides the syntax: '{' means JSON. */
static bool looks_like_json(const char *s, size_t len)
{
  size_t i = 0;
  for (;;) {
    while (i < len && (is_blank(s[i]) || s[i] == '\n')) i++;
    if (i < len && s[i] == '#') {
      while (i < len && s[i] != '\n') i++;
      continue;
    }
    return i < len && s[i] == '{';
  }
}

unsigned svm_vmcb_parse(FILE *in, const char *input_name, struct svm_vmcb *out, FILE *err)
{
  struct parser p = {.name = input_name, .err = err, .vmcb = out};
  memset(out, 0, sizeof *out);
  char *buf = malloc(SVM_DUMP_MAX_BYTES + 1);
  if (!buf) {
    fprintf(err, "%s: out of memory\n", input_name);
    return 1;
  }
  size_t len = fread(buf, 1, SVM_DUMP_MAX_BYTES + 1, in);
  if (ferror(in)) {
    fprintf(err, "%s: read error\n", input_name);
    free(buf);
    return 1;
  }
  if (len > SVM_DUMP_MAX_BYTES) {
    fprintf(err, "%s: larger than %u bytes, not a VMCB dump\n", input_name, SVM_DUMP_MAX_BYTES);
    free(buf);
    return 1;
  }
  if (memchr(buf, '\0', len)) {
    fprintf(err, "%s: contains NUL bytes; a VMCB dump is text (text or JSON syntax)\n", input_name);
    free(buf);
    return 1;
  }
  if (looks_like_json(buf, len)) {
    /* '#' comment lines may precede the object; start at its '{' and keep
     * counting lines from there. */
    size_t start = 0;
    unsigned line = 1;
    for (;;) {
      while (start < len && (is_blank(buf[start]) || buf[start] == '\n')) line += buf[start++] == '\n';
      if (start < len && buf[start] == '#') {
        while (start < len && buf[start] != '\n') start++;
        continue;
      }
      break;
    }
    parse_json(&p, buf + start, len - start, line);
  } else {
    parse_text(&p, buf, len);
  }
  if (p.errors > MAX_PRINTED_ERRORS)
    fprintf(err, "%s: %u more errors not shown\n", input_name, p.errors - MAX_PRINTED_ERRORS);
  free(buf);
  return p.errors;
}

void svm_vmcb_dump_text(const struct svm_vmcb *v, FILE *out)
{
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) {
    const struct svm_vmcb_field *f = &svm_vmcb_fields[i];
    fprintf(out, "%s = 0x%llx\n", f->name, (unsigned long long)svm_vmcb_field_read(v, f));
  }
}
