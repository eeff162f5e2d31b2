/* VMRUN consistency checks (AMD APM Vol. 2, "Canonicalization and
 * Consistency Checks"): a valid baseline VMCB passes every check on every
 * CPU model; for every check ID a negative test breaks exactly that rule
 * and expects that ID, that ID alone, and EXITCODE = VMEXIT_INVALID (-1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/svm/svm_coverage.h"
#include "conformance/svm/svm_test_vmcb.h"
#include "models/svm/vmrun_checks.h"

/* How to break the baseline for one check. A breaker may change the CPU
 * model (a copy) for feature-dependent rules; it returns false when the rule
 * cannot be broken on that model (the test then skips that model). */
typedef bool breaker_fn(struct svm_vmcb *v, struct svm_features *f);

static bool break_EFER_SVME_CLEAR(struct svm_vmcb *v, struct svm_features *f)
{ v->save.efer &= ~EFER_SVME; return true; }
static bool break_CR0_CD_CLEAR_NW_SET(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cr0 |= CR0_NW; return true; }
static bool break_CR0_UPPER_NONZERO(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cr0 |= 1ull << 32; return true; }
static bool break_CR3_MBZ(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cr3 |= 1ull << f->maxphyaddr; return true; }
static bool break_CR4_MBZ(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cr4 |= CR4_VMXE; return true; }  /* VMX does not exist on AMD */
static bool break_DR6_UPPER_NONZERO(struct svm_vmcb *v, struct svm_features *f)
{ v->save.dr6 |= 1ull << 32; return true; }
static bool break_DR7_UPPER_NONZERO(struct svm_vmcb *v, struct svm_features *f)
{ v->save.dr7 |= 1ull << 63; return true; }
static bool break_EFER_MBZ(struct svm_vmcb *v, struct svm_features *f)
{ v->save.efer |= EFER_LMSLE; return true; }  /* not implemented by Zen */
static bool break_EFER_LONG_MODE_UNSUPPORTED(struct svm_vmcb *v, struct svm_features *f)
{ f->long_mode = false; return true; }  /* the same 64-bit guest on a CPU without LM */
static bool break_LONG_MODE_WITHOUT_PAE(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cr4 &= ~CR4_PAE; return true; }
static bool break_LONG_MODE_WITHOUT_PE(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cr0 &= ~CR0_PE; return true; }
static bool break_LONG_MODE_CS_L_AND_D(struct svm_vmcb *v, struct svm_features *f)
{ v->save.cs.attrib |= SVM_ATTR_DB; return true; }
static bool break_INTERCEPT_VMRUN_CLEAR(struct svm_vmcb *v, struct svm_features *f)
{ svm_intercept_set(v, SVM_INTERCEPT_VMRUN, false); return true; }
/* The last byte of the map lands exactly on 2^MAXPHYADDR - 1. */
static bool break_MSRPM_BEYOND_MAXPHYADDR(struct svm_vmcb *v, struct svm_features *f)
{ v->control.msrpm_base_pa = (1ull << f->maxphyaddr) - SVM_MSRPM_SIZE; return true; }
static bool break_IOPM_BEYOND_MAXPHYADDR(struct svm_vmcb *v, struct svm_features *f)
{ v->control.iopm_base_pa = (1ull << f->maxphyaddr) - SVM_IOPM_SIZE; return true; }
static bool break_EVENTINJ_TYPE_RESERVED(struct svm_vmcb *v, struct svm_features *f)
{ v->control.eventinj = SVM_EVENT_V | (1u << 8) | 0x20; return true; }
static bool break_EVENTINJ_EXCEPTION_VECTOR(struct svm_vmcb *v, struct svm_features *f)
{ v->control.eventinj = SVM_EVENT_V | (SVM_EVENT_EXCEPTION << 8) | 2; return true; }
static bool break_EVENTINJ_EXCEPTION_64BIT(struct svm_vmcb *v, struct svm_features *f)
{ v->control.eventinj = SVM_EVENT_V | (SVM_EVENT_EXCEPTION << 8) | 5; return true; }
static bool break_ASID_ZERO(struct svm_vmcb *v, struct svm_features *f)
{ v->control.guest_asid = 0; return true; }
static bool break_NP_NCR3_MBZ(struct svm_vmcb *v, struct svm_features *f)
{
  if (!svm_has(f, SVM_FEAT_NP)) return false;
  v->control.ncr3 |= 1ull << f->maxphyaddr;
  return true;
}
static bool break_NP_GPAT_INVALID(struct svm_vmcb *v, struct svm_features *f)
{
  if (!svm_has(f, SVM_FEAT_NP)) return false;
  v->save.g_pat = (v->save.g_pat & ~0xFF0000ull) | (0x02ull << 16);  /* PA2 = reserved type 2 */
  return true;
}

/* The list of negative tests; it generates the tests and the coverage table. */
#define NEGATIVE_TESTS(X) \
  X(EFER_SVME_CLEAR) X(CR0_CD_CLEAR_NW_SET) X(CR0_UPPER_NONZERO) X(CR3_MBZ) X(CR4_MBZ) \
  X(DR6_UPPER_NONZERO) X(DR7_UPPER_NONZERO) X(EFER_MBZ) X(EFER_LONG_MODE_UNSUPPORTED) \
  X(LONG_MODE_WITHOUT_PAE) X(LONG_MODE_WITHOUT_PE) X(LONG_MODE_CS_L_AND_D) \
  X(INTERCEPT_VMRUN_CLEAR) X(MSRPM_BEYOND_MAXPHYADDR) X(IOPM_BEYOND_MAXPHYADDR) \
  X(EVENTINJ_TYPE_RESERVED) X(EVENTINJ_EXCEPTION_VECTOR) X(EVENTINJ_EXCEPTION_64BIT) \
  X(ASID_ZERO) X(NP_NCR3_MBZ) X(NP_GPAT_INVALID)

static struct svm_vmcb vmcb;

/* The message names a VMCB field of the field table and its value. */
static bool message_names_field(const char *msg)
{
  char name[32];
  const char *eq = strstr(msg, " = 0x");
  if (!eq) return false;
  size_t len = (size_t)(eq - msg);
  if (len == 0 || len >= sizeof name) return false;
  memcpy(name, msg, len);
  name[len] = '\0';
  return svm_vmcb_field_by_name(name) != NULL;
}

/* The negative case of one check, on every model where the rule can be
 * broken: exactly that check fails, VMRUN reports it first, EXITCODE is
 * VMEXIT_INVALID and the message names a VMCB field. No cmocka assertions,
 * so `--covers` runs it too. */
static bool negative_holds(enum svm_check_id expected, breaker_fn *brk)
{
  unsigned applied = 0;
  for (unsigned i = 0; svm_cpu_models[i]; i++) {
    struct svm_features f = *svm_cpu_models[i];
    svm_test_baseline(&vmcb, &f);
    if (!brk(&vmcb, &f)) continue;
    applied++;
    struct svm_check_failure all[SVM_CHECK_COUNT];
    if (svm_vmrun_check_all(&vmcb, &f, all) != 1 || all[0].id != expected) return false;  /* exactly this rule */
    struct svm_check_failure first;
    if (svm_vmrun_consistency(&vmcb, &f, &first) != expected || first.id != expected) return false;
    if (vmcb.control.exitcode != (uint64_t)-1 || !message_names_field(first.message)) return false;
  }
  return applied > 0;
}

#define NEGATIVE_TEST_FN(id) \
  static void svm_vmrun_##id##_fails(void **state) { assert_true(negative_holds(SVM_VMRUN_##id, break_##id)); }
NEGATIVE_TESTS(NEGATIVE_TEST_FN)

/* --covers: a check is proved when its negative case holds. */
static void covered_checks(void)
{
#define NEGATIVE_COV(id) \
  if (negative_holds(SVM_VMRUN_##id, break_##id)) printf("vmrun_check SVM_VMRUN_" #id "\n");
  NEGATIVE_TESTS(NEGATIVE_COV)
}

static void svm_vmrun_baseline_passes_every_model(void **state)
{
  for (unsigned i = 0; svm_cpu_models[i]; i++) {
    const struct svm_features *f = svm_cpu_models[i];
    struct svm_check_failure all[SVM_CHECK_COUNT];
    svm_test_baseline(&vmcb, f);
    assert_int_equal(svm_vmrun_check_all(&vmcb, f, all), 0);
    assert_int_equal(svm_vmrun_consistency(&vmcb, f, NULL), SVM_CHECK_NONE);
    assert_int_equal(vmcb.control.exitcode, 0);  /* untouched */
  }
}

/* Boundaries of the feature- and mode-dependent rules, on the passing side. */
static void svm_vmrun_permission_maps_below_limit_pass(void **state)
{
  const struct svm_features *f = &svm_features_epyc_qemu;
  svm_test_baseline(&vmcb, f);
  vmcb.control.msrpm_base_pa = (1ull << f->maxphyaddr) - SVM_MSRPM_SIZE - 0x1000;
  vmcb.control.iopm_base_pa = ((1ull << f->maxphyaddr) - SVM_IOPM_SIZE - 0x1000) | 0xFFF; /* 11:0 ignored */
  assert_int_equal(svm_vmrun_check_first(&vmcb, f, NULL), SVM_CHECK_NONE);
}

static void svm_vmrun_legacy_mode_ignores_long_mode_rules_pass(void **state)
{
  const struct svm_features *f = &svm_features_ryzen;
  svm_test_baseline(&vmcb, f);
  vmcb.save.efer &= ~(EFER_LME | EFER_LMA);
  vmcb.save.cr4 &= ~CR4_PAE;                      /* 32-bit paging */
  vmcb.save.cr3 = 1ull << f->maxphyaddr;          /* no long-mode CR3 rule */
  vmcb.save.cs.attrib |= SVM_ATTR_DB;             /* L and D both set: L ignored */
  vmcb.control.eventinj = SVM_EVENT_V | (SVM_EVENT_EXCEPTION << 8) | 5; /* #BR legal here */
  assert_int_equal(svm_vmrun_check_first(&vmcb, f, NULL), SVM_CHECK_NONE);
}

static void svm_vmrun_valid_event_injections_pass(void **state)
{
  const struct svm_features *f = &svm_features_ryzen;
  const uint64_t ok[] = {
    SVM_EVENT_V | (SVM_EVENT_EXCEPTION << 8) | SVM_EVENT_EV | 13 | (0x18ull << 32), /* #GP(0x18) */
    SVM_EVENT_V | (SVM_EVENT_NMI << 8) | 2,
    SVM_EVENT_V | (SVM_EVENT_INTR << 8) | 0x30,
    SVM_EVENT_V | (SVM_EVENT_SOFT_INT << 8) | 0x80,
    (1u << 8) | 0x20,  /* reserved type but V = 0: not injected, not checked */
  };
  for (unsigned i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    svm_test_baseline(&vmcb, f);
    vmcb.control.eventinj = ok[i];
    assert_int_equal(svm_vmrun_check_first(&vmcb, f, NULL), SVM_CHECK_NONE);
  }
}

/* NP_ENABLE clear, or a CPU without nested paging: nCR3 and G_PAT unchecked. */
static void svm_vmrun_np_rules_need_np_pass(void **state)
{
  struct svm_features f = svm_features_ryzen;
  svm_test_baseline(&vmcb, &f);
  vmcb.control.np_control = 0;
  vmcb.control.ncr3 = ~0ull;
  vmcb.save.g_pat = 0x0202020202020202ull;
  assert_int_equal(svm_vmrun_check_first(&vmcb, &f, NULL), SVM_CHECK_NONE);
  vmcb.control.np_control = SVM_NP_ENABLE;
  f.feature_edx &= ~(uint32_t)SVM_FEAT_NP;
  assert_int_equal(svm_vmrun_check_first(&vmcb, &f, NULL), SVM_CHECK_NONE);
  f.feature_edx |= SVM_FEAT_NP;
  assert_int_equal(svm_vmrun_check_first(&vmcb, &f, NULL), SVM_VMRUN_NP_NCR3_MBZ);
}

/* Several broken rules: all listed in catalogue order, the first reported. */
static void svm_vmrun_all_failures_listed_in_order(void **state)
{
  const struct svm_features *f = &svm_features_ryzen;
  struct svm_check_failure all[SVM_CHECK_COUNT];
  svm_test_baseline(&vmcb, f);
  vmcb.control.guest_asid = 0;
  vmcb.save.efer &= ~EFER_SVME;
  vmcb.save.dr7 |= 1ull << 40;
  assert_int_equal(svm_vmrun_check_all(&vmcb, f, all), 3);
  assert_int_equal(all[0].id, SVM_VMRUN_EFER_SVME_CLEAR);
  assert_int_equal(all[1].id, SVM_VMRUN_DR7_UPPER_NONZERO);
  assert_int_equal(all[2].id, SVM_VMRUN_ASID_ZERO);
  assert_int_equal(svm_vmrun_check_first(&vmcb, f, NULL), SVM_VMRUN_EFER_SVME_CLEAR);
}

static void svm_vmrun_catalogue_complete(void **state)
{
  for (int id = 1; id <= SVM_CHECK_COUNT; id++) {
    const struct svm_check_info *info = svm_check_info((enum svm_check_id)id);
    assert_non_null(info);
    assert_int_equal(strncmp(info->id, "SVM_VMRUN_", 10), 0);
    assert_int_equal(strncmp(info->citation, "AMD APM Vol. 2, ", 16), 0);
    assert_true(strlen(info->predicate) > 10);
    assert_int_equal(svm_check_by_name(info->id), id);
  }
  assert_null(svm_check_info(SVM_CHECK_NONE));
  assert_null(svm_check_info(SVM_CHECK_END));
  assert_int_equal(svm_check_by_name("SVM_VMRUN_NOPE"), SVM_CHECK_NONE);
}

#define NEGATIVE_ENTRY(id) cmocka_unit_test(svm_vmrun_##id##_fails),
int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_vmrun_catalogue_complete),
    cmocka_unit_test(svm_vmrun_baseline_passes_every_model),
    cmocka_unit_test(svm_vmrun_permission_maps_below_limit_pass),
    cmocka_unit_test(svm_vmrun_legacy_mode_ignores_long_mode_rules_pass),
    cmocka_unit_test(svm_vmrun_valid_event_injections_pass),
    cmocka_unit_test(svm_vmrun_np_rules_need_np_pass),
    cmocka_unit_test(svm_vmrun_all_failures_listed_in_order),
    NEGATIVE_TESTS(NEGATIVE_ENTRY)
  };
  return cov_main(argc, argv, "svm_vmrun_checks", tests, sizeof tests / sizeof tests[0], covered_checks);
}
