/* explain-vmcb and the VMCB dump format: the sample dumps in this directory,
 * malformed input with line-numbered errors, and dump/parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/svm/svm_test_vmcb.h"
#include "models/svm/explain_vmcb.h"
#include "models/svm/vmcb_dump.h"
#include "models/svm/vmrun_checks.h"

static char out_buf[16384], err_buf[8192];

/* fmemopen does not clear the buffers; a stale message must not pass a test. */
static void clear_buffers(void)
{
  memset(out_buf, 0, sizeof out_buf);
  memset(err_buf, 0, sizeof err_buf);
}

/* Runs explain-vmcb on a file of this directory. */
static int explain_file(const char *file, const struct svm_features *f)
{
  char path[512];
  clear_buffers();
  snprintf(path, sizeof path, "%s/%s", SVM_SAMPLE_DIR, file);
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  FILE *out = fmemopen(out_buf, sizeof out_buf, "w");
  FILE *err = fmemopen(err_buf, sizeof err_buf, "w");
  int rc = svm_explain_vmcb(in, file, f, out, err);
  fclose(in);
  fclose(out);
  fclose(err);
  return rc;
}

/* Runs explain-vmcb on a string. */
static int explain_text(const char *text)
{
  clear_buffers();
  FILE *in = fmemopen((void *)text, strlen(text), "r");
  FILE *out = fmemopen(out_buf, sizeof out_buf, "w");
  FILE *err = fmemopen(err_buf, sizeof err_buf, "w");
  int rc = svm_explain_vmcb(in, "dump", &svm_features_ryzen, out, err);
  fclose(in);
  fclose(out);
  fclose(err);
  return rc;
}

static void svm_explain_sample_lists_every_failure(void **state)
{
  assert_int_equal(explain_file("sample_vmcb.txt", &svm_features_ryzen), SVM_EXPLAIN_CHECKS_FAIL);
  assert_non_null(strstr(out_buf, "FAIL SVM_VMRUN_LONG_MODE_CS_L_AND_D"));
  assert_non_null(strstr(out_buf, "cs.attrib = 0x69b (L=1, D=1)"));
  assert_non_null(strstr(out_buf, "FAIL SVM_VMRUN_INTERCEPT_VMRUN_CLEAR"));
  assert_non_null(strstr(out_buf, "intercept_vec2 = 0x2"));
  assert_non_null(strstr(out_buf, "FAIL SVM_VMRUN_ASID_ZERO"));
  assert_non_null(strstr(out_buf, "rule:   ASID is equal to zero"));
  assert_non_null(strstr(out_buf, "cite:   AMD APM Vol. 2, Canonicalization and Consistency Checks"));
  assert_non_null(strstr(out_buf, "3 of 21 VMRUN consistency checks fail"));
  assert_non_null(strstr(out_buf, "the first in APM order is SVM_VMRUN_LONG_MODE_CS_L_AND_D"));
  assert_int_equal(err_buf[0], '\0');
}

static void svm_explain_good_json_sample_passes(void **state)
{
  for (unsigned i = 0; svm_cpu_models[i]; i++) {
    assert_int_equal(explain_file("sample_vmcb_good.json", svm_cpu_models[i]), SVM_EXPLAIN_PASS);
    assert_non_null(strstr(out_buf, "VMRUN consistency checks pass"));
    assert_null(strstr(out_buf, "FAIL"));
  }
}

static void svm_explain_no_cpu_model_bad_input(void **state)
{
  clear_buffers();
  FILE *in = fmemopen((void *)"cr0 = 1\n", 8, "r");
  FILE *err = fmemopen(err_buf, sizeof err_buf, "w");
  assert_int_equal(svm_explain_vmcb(in, "dump", NULL, stdout, err), SVM_EXPLAIN_BAD_INPUT);
  fclose(in);
  fclose(err);
  assert_non_null(strstr(err_buf, "no CPU model"));
}

/* Every malformed line is reported with its line number. */
static void svm_explain_text_errors_have_line_numbers(void **state)
{
  const char *dump =
    "# header\n"
    "cr0 = 0x11\n"
    "cr9 = 1\n"               /* 3: unknown field */
    "efer 0x1000\n"           /* 4: no '=' */
    "cr4 = 12zz\n"            /* 5: not a number */
    "tlb_control = 0x100\n"   /* 6: too wide for 1 byte */
    "cr0 = 0x13\n"            /* 7: duplicate */
    " = 5\n"                  /* 8: no name */
    "rip = -1\n"              /* fine: two's complement */
    "cpl = -129\n";           /* 10: does not fit in 1 byte */
  assert_int_equal(explain_text(dump), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "dump:3: unknown VMCB field 'cr9'"));
  assert_non_null(strstr(err_buf, "dump:4: expected 'field_name = value'"));
  assert_non_null(strstr(err_buf, "dump:5: '12zz' is not a number"));
  assert_non_null(strstr(err_buf, "dump:6: value 0x100 does not fit in field 'tlb_control' (1 bytes)"));
  assert_non_null(strstr(err_buf, "dump:7: field 'cr0' given twice (first on line 2)"));
  assert_non_null(strstr(err_buf, "dump:8: missing field name"));
  assert_non_null(strstr(err_buf, "dump:10: value -129 does not fit"));
  assert_null(strstr(err_buf, "dump:9:"));
  assert_non_null(strstr(err_buf, "7 errors"));
  assert_int_equal(out_buf[0], '\0');
}

static void svm_explain_json_errors_have_line_numbers(void **state)
{
  assert_int_equal(explain_text("{\n  \"cr0\": 1,\n  \"cr4\" 2\n}\n"), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "dump:3: expected ':'"));
  assert_int_equal(explain_text("# c\n{\"cr0\": 1}\n}\n"), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "dump:3: unexpected text after the closing '}'"));
  assert_int_equal(explain_text("{\"cr0\": \"a\\b\"}"), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "dump:1: escape sequences are not supported"));
  assert_int_equal(explain_text("{\"cr0\": 1.5}"), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "'1.5' is not a number"));
  assert_int_equal(explain_text("{\"cr0\": 1,"), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "unexpected end of input"));
  assert_int_equal(explain_text("{\n\n\"nope\": 1}"), SVM_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(err_buf, "dump:3: unknown VMCB field 'nope'"));
}

static void svm_explain_binary_input_rejected(void **state)
{
  static const char bin[] = {'c', 'r', '0', 0, '=', '1'};
  clear_buffers();
  FILE *in = fmemopen((void *)bin, sizeof bin, "r");
  FILE *err = fmemopen(err_buf, sizeof err_buf, "w");
  static struct svm_vmcb v;
  assert_true(svm_vmcb_parse(in, "bin", &v, err) > 0);
  fclose(in);
  fclose(err);
  assert_non_null(strstr(err_buf, "NUL bytes"));
}

/* The text and JSON samples describe the same guest up to the three fixes. */
static void svm_dump_text_and_json_agree(void **state)
{
  static struct svm_vmcb a, b;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", SVM_SAMPLE_DIR, "sample_vmcb.txt");
  FILE *in = fopen(path, "r");
  assert_int_equal(svm_vmcb_parse(in, "txt", &a, stderr), 0);
  fclose(in);
  snprintf(path, sizeof path, "%s/%s", SVM_SAMPLE_DIR, "sample_vmcb_good.json");
  in = fopen(path, "r");
  assert_int_equal(svm_vmcb_parse(in, "json", &b, stderr), 0);
  fclose(in);
  a.control.intercept_vec2 |= 1;
  a.control.guest_asid = 1;
  a.save.cs.attrib &= (uint16_t)~SVM_ATTR_DB;
  assert_memory_equal(&a, &b, sizeof a);
}

/* dump_text writes every field; parsing it back gives the same VMCB. */
static void svm_dump_round_trip(void **state)
{
  static struct svm_vmcb v, back;
  static char text[16384];
  svm_test_baseline(&v, &svm_features_ryzen);
  v.control.exitcode = (uint64_t)-1;
  v.save.cpl = 3;
  FILE *out = fmemopen(text, sizeof text, "w");
  svm_vmcb_dump_text(&v, out);
  fclose(out);
  FILE *in = fmemopen(text, strlen(text), "r");
  assert_int_equal(svm_vmcb_parse(in, "round", &back, stderr), 0);
  fclose(in);
  assert_memory_equal(&v, &back, sizeof v);
  assert_non_null(strstr(text, "exitcode = 0xffffffffffffffff\n"));
}

/* docs/explain-vmcb.md lists every field with its offset and size. */
static void svm_explain_docs_list_every_field(void **state)
{
  static char doc[65536];
  char path[512], row[128];
  snprintf(path, sizeof path, "%s/explain-vmcb.md", SVM_DOCS_DIR);
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  size_t n = fread(doc, 1, sizeof doc - 1, in);
  fclose(in);
  doc[n] = '\0';
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) {
    const struct svm_vmcb_field *f = &svm_vmcb_fields[i];
    snprintf(row, sizeof row, "| `%s` | 0x%03X | %u |", f->name, f->offset, f->size);
    if (!strstr(doc, row)) fail_msg("docs/explain-vmcb.md lacks the row %s", row);
  }
}

/* docs/svm.md has a table row for every VMRUN check ID. */
static void svm_docs_list_every_check(void **state)
{
  static char doc[65536];
  char path[512], row[128];
  snprintf(path, sizeof path, "%s/svm.md", SVM_DOCS_DIR);
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  size_t n = fread(doc, 1, sizeof doc - 1, in);
  fclose(in);
  doc[n] = '\0';
  for (int id = 1; id <= SVM_CHECK_COUNT; id++) {
    snprintf(row, sizeof row, "| `%s` |", svm_check_info((enum svm_check_id)id)->id);
    if (!strstr(doc, row)) fail_msg("docs/svm.md lacks a row for %s", row);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_explain_sample_lists_every_failure),
    cmocka_unit_test(svm_explain_good_json_sample_passes),
    cmocka_unit_test(svm_explain_no_cpu_model_bad_input),
    cmocka_unit_test(svm_explain_text_errors_have_line_numbers),
    cmocka_unit_test(svm_explain_json_errors_have_line_numbers),
    cmocka_unit_test(svm_explain_binary_input_rejected),
    cmocka_unit_test(svm_dump_text_and_json_agree),
    cmocka_unit_test(svm_dump_round_trip),
    cmocka_unit_test(svm_explain_docs_list_every_field),
    cmocka_unit_test(svm_docs_list_every_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
