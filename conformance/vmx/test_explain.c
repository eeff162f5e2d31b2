/* Conformance of explain-vmcs (models/vmx/explain.h): the documented dump
 * format (text and JSON), its line-numbered errors, and the report of
 * failing checks with ID, citation, predicate and values. */
#include "conformance/covers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/vmx/baseline.h"
#include "models/vmx/explain.h"
#include "models/vmx/vmcs_dump.h"

struct run { int rc; char *out, *err; };

static struct run explain_stream(FILE *in, const char *name, const struct vmx_caps *caps)
{
  struct run r = { 0 };
  size_t on, en;
  FILE *out = open_memstream(&r.out, &on), *err = open_memstream(&r.err, &en);
  assert_non_null(out);
  assert_non_null(err);
  r.rc = vmx_explain_vmcs(in, name, caps, out, err);
  fclose(out);
  fclose(err);
  return r;
}
static struct run explain_text(const char *text, const struct vmx_caps *caps)
{
  FILE *in = fmemopen((void *)text, strlen(text), "r");
  assert_non_null(in);
  struct run r = explain_stream(in, "dump", caps);
  fclose(in);
  return r;
}
static struct run explain_file(const char *file, const struct vmx_caps *caps)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", HVSIM_VMX_DUMPS_DIR, file);
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  struct run r = explain_stream(in, file, caps);
  fclose(in);
  return r;
}
static void run_free(struct run *r) { free(r->out); free(r->err); }
static unsigned count(const char *hay, const char *needle)
{
  unsigned n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
  return n;
}

static void explain_sample_text_dump_lists_each_failing_check(void **state)
{
  struct run r = explain_file("skylake_bad_entry.txt", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_FAIL);
  assert_string_equal(r.err, "");
  assert_int_equal(count(r.out, "\nFAIL "), 3);
  assert_non_null(strstr(r.out, "FAIL VMX_ENTRY_CTLS_ENTRY_RESERVED"));
  assert_non_null(strstr(r.out, "VM_ENTRY_CONTROLS = 0x8200; must-be-1 0x11fb"));
  assert_non_null(strstr(r.out, "FAIL VMX_ENTRY_GUEST_CR0_FIXED"));
  assert_non_null(strstr(r.out, "GUEST_CR0 = 0x80000011"));
  assert_non_null(strstr(r.out, "FAIL VMX_ENTRY_GUEST_TR_TYPE"));
  assert_non_null(strstr(r.out, "\"Checks on Guest Segment Registers\""));
  assert_non_null(strstr(r.out, "must hold: TR type is 11"));
  assert_non_null(strstr(r.out, "would report the first:\n  VMfailValid(7)"));
  run_free(&r);
}

static void explain_sample_json_dump_on_nehalem(void **state)
{
  struct run r = explain_file("skylake_bad_entry.json", &vmx_caps_nehalem);
  assert_int_equal(r.rc, VMX_EXPLAIN_FAIL);
  assert_int_equal(count(r.out, "\nFAIL "), 1);
  assert_non_null(strstr(r.out, "FAIL VMX_ENTRY_CTLS_VPID_ZERO"));
  assert_non_null(strstr(r.out, "CPU model nehalem"));
  run_free(&r);
}

/* The baseline VMCS of every model, written in the text format, passes. */
static void explain_baseline_dump_passes_every_model(void **state)
{
  static struct tcase t;
  for (int m = 0; vmx_cpu_models[m]; m++) {
    tcase_baseline(&t, vmx_cpu_models[m]);
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "# baseline of %s\n", t.caps->name);
    for (int i = 0; i < VMCS_FIELD_COUNT; i++)
      if (vmcs_field_supported(t.caps, i) && t.v.val[i])
        fprintf(f, "%s = %#llx\n", vmcs_fields[i].name, (unsigned long long)t.v.val[i]);
    fclose(f);
    struct run r = explain_text(text, t.caps);
    if (r.rc != VMX_EXPLAIN_PASS) fail_msg("%s: %s%s", t.caps->name, r.out, r.err);
    assert_non_null(strstr(r.out, "evaluated VM-entry checks pass"));
    run_free(&r);
    free(text);
  }
}

static void explain_malformed_text_reports_line_numbers(void **state)
{
  struct run r = explain_text("GUEST_CR0 = 0x31\n"
                              "BOGUS = 1\n"
                              "GUEST_CR0 = 5\n"
                              "GUEST_CS_SELECTOR = 0x10000\n"
                              "GUEST_RIP 5\n"
                              "GUEST_RSP = 12z\n"
                              "0x6801 = 1\n"
                              "= 4\n", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_BAD_INPUT);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "dump:2: error: unknown VMCS field 'BOGUS'"));
  assert_non_null(strstr(r.err, "dump:3: error: GUEST_CR0 already set on line 1"));
  assert_non_null(strstr(r.err, "dump:4: error: value 0x10000 does not fit the 16-bit field"));
  assert_non_null(strstr(r.err, "dump:5: error: expected 'FIELD = value'"));
  assert_non_null(strstr(r.err, "dump:6: error: invalid value '12z'"));
  assert_non_null(strstr(r.err, "dump:7: error: no VMCS field has encoding 0x6801"));
  assert_non_null(strstr(r.err, "dump:8: error"));
  assert_non_null(strstr(r.err, "7 errors; no checks run"));
  run_free(&r);
}

static void explain_malformed_json_reports_line_numbers(void **state)
{
  struct run r = explain_text("{\n  \"GUEST_CR0\": 1,\n  \"X\": [1]\n}", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(r.err, "dump:3: error: expected an integer or a string value"));
  run_free(&r);
  r = explain_text("{\n\n  \"GUEST_CR0\": \"0x31\"\n  \"GUEST_CR4\": 1\n}", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(r.err, "dump:4: error: expected ',' or '}'"));
  run_free(&r);
  r = explain_text("{ \"GUEST_CR0\": \"0x31 }\n", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(r.err, "dump:1: error: unterminated string"));
  run_free(&r);
  r = explain_text("{ \"NOPE\": 1 } trailing", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(r.err, "unknown VMCS field 'NOPE'"));
  assert_non_null(strstr(r.err, "unexpected text after the object"));
  run_free(&r);
}

static void explain_binary_input_rejected(void **state)
{
  static const char bin[] = { 'G', 0, 'X', '\n' };
  FILE *in = fmemopen((void *)bin, sizeof bin, "r");
  struct run r = explain_stream(in, "blob", &vmx_caps_skylake_x);
  fclose(in);
  assert_int_equal(r.rc, VMX_EXPLAIN_BAD_INPUT);
  assert_non_null(strstr(r.err, "blob: error: binary data"));
  run_free(&r);
}

static void explain_unsupported_field_warns_and_is_ignored(void **state)
{
  static struct vmcs_dump d;
  char *err;
  size_t len;
  FILE *e = open_memstream(&err, &len);
  FILE *in = fmemopen((void *)"PML_ADDRESS = 0x1000\n", 21, "r");
  assert_int_equal(vmcs_dump_parse(in, "d", &vmx_caps_nehalem, &d, e), 0);
  fclose(in);
  fclose(e);
  assert_non_null(strstr(err, "d:1: warning: PML_ADDRESS does not exist on CPU model nehalem"));
  assert_false(d.present[VMCSI_PML_ADDRESS]);
  free(err);
}

static void explain_dump_halves_names_and_encodings_combine(void **state)
{
  static struct vmcs_dump d;
  const char *text = "tsc_offset = 0x1\nTSC_OFFSET_HIGH = 0x2\n0x6800 = 0x80000031\n0x2805 = 7\n"
                     "PROCESSOR_IA32E_MODE = 0\n";
  FILE *in = fmemopen((void *)text, strlen(text), "r");
  assert_int_equal(vmcs_dump_parse(in, "d", &vmx_caps_skylake_x, &d, stderr), 0);
  fclose(in);
  assert_int_equal(d.v.val[VMCSI_TSC_OFFSET], 0x200000001ull);
  assert_int_equal(d.v.val[VMCSI_GUEST_CR0], 0x80000031);
  assert_int_equal(d.v.val[VMCSI_GUEST_IA32_PAT], 7ull << 32);
  assert_false(d.host_ia32e);
}

static void explain_memory_checks_listed_not_evaluated(void **state)
{
  struct run r = explain_file("skylake_bad_entry.txt", &vmx_caps_skylake_x);
  assert_null(strstr(r.out, "NOT EVALUATED"));
  run_free(&r);
  r = explain_text("VMCS_LINK_POINTER = 0x5000\n", &vmx_caps_skylake_x);
  assert_int_equal(r.rc, VMX_EXPLAIN_FAIL);
  assert_non_null(strstr(r.out, "NOT EVALUATED VMX_ENTRY_GUEST_LINK_PTR_REVISION"));
  run_free(&r);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(explain_sample_text_dump_lists_each_failing_check),
    cmocka_unit_test(explain_sample_json_dump_on_nehalem),
    cmocka_unit_test(explain_baseline_dump_passes_every_model),
    cmocka_unit_test(explain_malformed_text_reports_line_numbers),
    cmocka_unit_test(explain_malformed_json_reports_line_numbers),
    cmocka_unit_test(explain_binary_input_rejected),
    cmocka_unit_test(explain_unsupported_field_warns_and_is_ignored),
    cmocka_unit_test(explain_dump_halves_names_and_encodings_combine),
    cmocka_unit_test(explain_memory_checks_listed_not_evaluated),
  };
  return cov_main(argc, argv, "vmx_explain", tests, sizeof tests / sizeof tests[0], NULL);
}
