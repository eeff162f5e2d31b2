/* fuzz_vmcs_dump: the explain-vmcs dump parser (models/vmx/vmcs_dump.c) and
 * the explain path (models/vmx/explain.c) on arbitrary text, text and JSON
 * alike, on every CPU model. Properties:
 *  - no crash, no sanitizer report;
 *  - every diagnostic is "fuzz:LINE: error|warning: ..." with LINE a line of
 *    the input, and the number of "error" lines is the count returned; the
 *    only messages without a line are about the whole input (a NUL byte),
 *    as documented in vmcs_dump.h;
 *  - a dump that parses round-trips: written back as text and as JSON, it
 *    parses to the same VMCS;
 *  - vmx_explain_vmcs agrees with the parser (bad input iff errors) and
 *    says FAIL exactly when it lists a failing check. */
#include <inttypes.h>
#include <string.h>

#include "fuzz/fuzz_diag.h"
#include "models/vmx/explain.h"
#include "models/vmx/vmcs_dump.h"

/* Checks the parser's messages; returns the number of error lines. */
static int check_messages(const char *msgs, const uint8_t *data, size_t size)
{
  unsigned long lines = fuzz_lines(data, size);
  bool has_nul = memchr(data, 0, size) != NULL;
  int errors = 0;
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
    if (n == 0) {
      /* Whole-input errors carry no line: only a NUL byte can cause one
       * here (fuzz inputs are far below the 1 MiB limit). */
      FUZZ_CHECK(has_nul && strcmp(line, FUZZ_NAME ": error: binary data (NUL byte) in dump") == 0,
                 "message without a line number: '%s'", line);
      errors++;
      continue;
    }
    FUZZ_CHECK(n <= lines, "line %lu beyond the input's %lu lines: '%s'", n, lines, line);
    bool err = strncmp(rest, "error: ", 7) == 0;
    FUZZ_CHECK(err || strncmp(rest, "warning: ", 9) == 0, "neither error nor warning: '%s'", line);
    errors += err;
  }
  return errors;
}

static int parse(const void *text, size_t size, const struct vmx_caps *caps, struct vmcs_dump *d,
                 struct fuzz_sink *err)
{
  FILE *in = fuzz_open_input(text, size);
  fuzz_sink_open(err);
  int errors = vmcs_dump_parse(in, FUZZ_NAME, caps, d, err->f);
  fuzz_sink_close(err);
  fclose(in);
  return errors;
}

/* Writes the parsed dump back (text or JSON) and parses that: same VMCS. */
static void round_trip(const struct vmcs_dump *d, const struct vmx_caps *caps, bool json)
{
  struct fuzz_sink w;
  fuzz_sink_open(&w);
  fprintf(w.f, json ? "{\"PROCESSOR_IA32E_MODE\": %d" : "PROCESSOR_IA32E_MODE = %d\n", d->host_ia32e);
  for (int f = 0; f < VMCS_FIELD_COUNT; f++) {
    if (!d->present[f]) continue;
    const char *fmt = json ? ",\n \"%s\": \"0x%" PRIx64 "\"" : "%s = 0x%" PRIx64 "\n";
    fprintf(w.f, fmt, vmcs_fields[f].name, d->v.val[f]);
  }
  if (json) fputs("}\n", w.f);
  fuzz_sink_close(&w);

  static struct vmcs_dump again;
  struct fuzz_sink err;
  int errors = parse(w.buf, w.len, caps, &again, &err);
  FUZZ_CHECK(errors == 0 && err.len == 0, "%s round trip fails to parse:\n%s\nmessages:\n%s",
             json ? "JSON" : "text", w.buf, err.buf);
  FUZZ_CHECK(memcmp(&again.v, &d->v, sizeof d->v) == 0 && memcmp(again.present, d->present, sizeof d->present) == 0 &&
                 again.host_ia32e == d->host_ia32e,
             "%s round trip changes the VMCS:\n%s", json ? "JSON" : "text", w.buf);
  fuzz_sink_free(&err);
  fuzz_sink_free(&w);
}

static void explain(const uint8_t *data, size_t size, const struct vmx_caps *caps, int errors)
{
  FILE *in = fuzz_open_input(data, size);
  struct fuzz_sink out, err;
  fuzz_sink_open(&out);
  fuzz_sink_open(&err);
  int rc = vmx_explain_vmcs(in, FUZZ_NAME, caps, out.f, err.f);
  fclose(in);
  fuzz_sink_close(&out);
  fuzz_sink_close(&err);
  if (errors) {
    FUZZ_CHECK(rc == VMX_EXPLAIN_BAD_INPUT && out.len == 0, "explain: rc %d on a dump with %d errors", rc, errors);
    FUZZ_CHECK(strstr(err.buf, "no checks run\n") != NULL, "explain: no summary of the errors:\n%s", err.buf);
  } else {
    bool listed = strstr(out.buf, "\nFAIL VMX_ENTRY_") != NULL;
    FUZZ_CHECK(rc == (listed ? VMX_EXPLAIN_FAIL : VMX_EXPLAIN_PASS), "explain: rc %d, failures listed: %d", rc, listed);
  }
  fuzz_sink_free(&out);
  fuzz_sink_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct vmcs_dump d;
  for (int m = 0; vmx_cpu_models[m]; m++) {
    const struct vmx_caps *caps = vmx_cpu_models[m];
    struct fuzz_sink err;
    int errors = parse(data, size, caps, &d, &err);
    int counted = check_messages(err.buf, data, size);
    FUZZ_CHECK(counted == errors, "parser returned %d errors but printed %d:\n%s", errors, counted, err.buf);
    fuzz_sink_free(&err);
    if (errors == 0) {
      round_trip(&d, caps, false);
      round_trip(&d, caps, true);
    }
    explain(data, size, caps, errors);
  }
  return 0;
}
