/* fuzz_vmcb_dump: the explain-vmcb dump parser (models/svm/vmcb_dump.c) and
 * the explain path (models/svm/explain_vmcb.c) on arbitrary text, on every
 * AMD CPU model. Properties:
 *  - no crash, no sanitizer report;
 *  - every diagnostic is "fuzz:LINE: message" with LINE a line of the
 *    input; the parser prints at most 50 and then one "N more errors not
 *    shown" line, and the count it returns matches; the only message
 *    without a line is about the whole input (a NUL byte);
 *  - a dump that parses round-trips: svm_vmcb_dump_text's output, and the
 *    same fields as JSON, parse back to the same VMCB bytes;
 *  - svm_explain_vmcb agrees with the parser and says FAIL exactly when it
 *    lists a failing check. */
#include <inttypes.h>
#include <string.h>

#include "fuzz/fuzz_diag.h"
#include "models/svm/explain_vmcb.h"
#include "models/svm/vmcb_dump.h"

#define PRINTED_MAX 50 /* vmcb_dump.c: errors printed before "more errors not shown" */

/* Checks the parser's messages against the error count it returned. */
static void check_messages(const char *msgs, const uint8_t *data, size_t size, unsigned errors)
{
  unsigned long lines = fuzz_lines(data, size);
  bool has_nul = memchr(data, 0, size) != NULL;
  unsigned with_line = 0, more = 0, whole = 0;
  for (const char *l = msgs; l && *l;) {
    const char *nl = strchr(l, '\n');
    FUZZ_CHECK(nl != NULL, "message not ended by a newline: '%s'", l);
    char line[1024];
    size_t len = (size_t)(nl - l) < sizeof line - 1 ? (size_t)(nl - l) : sizeof line - 1;
    memcpy(line, l, len);
    line[len] = 0;
    l = nl + 1;
    const char *rest;
    unsigned long n = fuzz_diag_line(line, &rest);
    if (n) {
      FUZZ_CHECK(n <= lines, "line %lu beyond the input's %lu lines: '%s'", n, lines, line);
      FUZZ_CHECK(*rest != 0, "empty message: '%s'", line);
      with_line++;
      continue;
    }
    unsigned long k;
    char tail[64];
    if (sscanf(line, FUZZ_NAME ": %lu more errors not %63[a-z]", &k, tail) == 2 && strcmp(tail, "shown") == 0) {
      FUZZ_CHECK(k + PRINTED_MAX == errors, "'%s' but %u errors", line, errors);
      more++;
      continue;
    }
    FUZZ_CHECK(has_nul && strncmp(line, FUZZ_NAME ": contains NUL bytes", 20) == 0,
               "message without a line number: '%s'", line);
    whole++;
  }
  if (whole) {
    FUZZ_CHECK(errors == 1 && with_line == 0 && more == 0, "NUL-byte error plus others (%u errors)", errors);
    return;
  }
  unsigned printed = errors < PRINTED_MAX ? errors : PRINTED_MAX;
  FUZZ_CHECK(with_line == printed && more == (errors > PRINTED_MAX),
             "parser returned %u errors but printed %u (+%u summary):\n%s", errors, with_line, more, msgs);
}

static unsigned parse(const void *text, size_t size, struct svm_vmcb *v, struct fuzz_sink *err)
{
  FILE *in = fuzz_open_input(text, size);
  fuzz_sink_open(err);
  unsigned errors = svm_vmcb_parse(in, FUZZ_NAME, v, err->f);
  fuzz_sink_close(err);
  fclose(in);
  return errors;
}

static void round_trip(const struct svm_vmcb *v, bool json)
{
  struct fuzz_sink w;
  fuzz_sink_open(&w);
  if (json) {
    fputc('{', w.f);
    for (unsigned i = 0; i < SVM_FIELD_COUNT; i++)
      fprintf(w.f, "%s\n\"%s\": \"0x%" PRIx64 "\"", i ? "," : "", svm_vmcb_fields[i].name,
              svm_vmcb_field_read(v, &svm_vmcb_fields[i]));
    fputs("}\n", w.f);
  } else {
    svm_vmcb_dump_text(v, w.f);
  }
  fuzz_sink_close(&w);
  static struct svm_vmcb again;
  struct fuzz_sink err;
  unsigned errors = parse(w.buf, w.len, &again, &err);
  FUZZ_CHECK(errors == 0 && err.len == 0, "%s round trip fails to parse:\n%s", json ? "JSON" : "text", err.buf);
  FUZZ_CHECK(memcmp(&again, v, sizeof *v) == 0, "%s round trip changes the VMCB:\n%s", json ? "JSON" : "text", w.buf);
  fuzz_sink_free(&err);
  fuzz_sink_free(&w);
}

static void explain(const uint8_t *data, size_t size, const struct svm_features *f, unsigned errors)
{
  FILE *in = fuzz_open_input(data, size);
  struct fuzz_sink out, err;
  fuzz_sink_open(&out);
  fuzz_sink_open(&err);
  int rc = svm_explain_vmcb(in, FUZZ_NAME, f, out.f, err.f);
  fclose(in);
  fuzz_sink_close(&out);
  fuzz_sink_close(&err);
  if (errors) {
    FUZZ_CHECK(rc == SVM_EXPLAIN_BAD_INPUT && out.len == 0, "explain: rc %d on a dump with %u errors", rc, errors);
  } else {
    bool listed = strstr(out.buf, "\nFAIL SVM_VMRUN_") != NULL;
    FUZZ_CHECK(rc == (listed ? SVM_EXPLAIN_CHECKS_FAIL : SVM_EXPLAIN_PASS), "explain: rc %d, failures listed: %d",
               rc, listed);
  }
  fuzz_sink_free(&out);
  fuzz_sink_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct svm_vmcb v;
  struct fuzz_sink err;
  unsigned errors = parse(data, size, &v, &err);
  check_messages(err.buf, data, size, errors);
  fuzz_sink_free(&err);
  if (errors == 0) {
    round_trip(&v, false);
    round_trip(&v, true);
  }
  for (int m = 0; svm_cpu_models[m]; m++) explain(data, size, svm_cpu_models[m], errors);
  return 0;
}
