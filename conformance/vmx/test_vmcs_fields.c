/* Conformance of the VMCS field catalogue and VMREAD/VMWRITE rules
 * (SDM Vol. 3C, appendix "Field Encoding in VMCS"; "VMREAD"; "VMWRITE";
 * "Format of the VMCS Region"), on every CPU model. */
#include "conformance/covers.h"

#include <stdio.h>
#include <string.h>

#include "models/vmx/vmcs.h"
#include "models/vmx/vmx_bits.h"

static uint64_t mask_bits(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

/* VMREAD/VMWRITE of one field on one model behave as the SDM says; on
 * failure `why` says what differed. */
static bool field_conformance(const struct vmx_caps *caps, enum vmcs_field f, char *why, size_t n)
{
  static struct vmcs v;
  memset(&v, 0, sizeof v);
  const struct vmcs_field_info *fi = &vmcs_fields[f];
  uint64_t out = 0;
  int err;

  if (!vmcs_field_supported(caps, f)) {
    if ((err = vmcs_vmread(&v, caps, fi->encoding, 64, &out)) != VMXERR_UNSUPPORTED_FIELD ||
        (err = vmcs_vmwrite(&v, caps, fi->encoding, 64, 1)) != VMXERR_UNSUPPORTED_FIELD) {
      snprintf(why, n, "unsupported field gave error %d, not 12", err);
      return false;
    }
    if (fi->width == VMCS_WIDTH_W64 &&
        vmcs_vmread(&v, caps, fi->encoding | 1, 64, &out) != VMXERR_UNSUPPORTED_FIELD) {
      snprintf(why, n, "HIGH of unsupported field readable");
      return false;
    }
    return true;
  }

  uint64_t full = mask_bits(vmcs_width_bits(fi->width));
  bool read_only = fi->type == VMCS_TYPE_EXIT && !(caps->misc & MISC_VMWRITE_ANY_FIELD);
  err = vmcs_vmwrite(&v, caps, fi->encoding, 64, ~0ull);
  if (read_only) {
    if (err != VMXERR_VMWRITE_READ_ONLY || v.val[f] != 0) {
      snprintf(why, n, "VMWRITE to read-only field gave %d (want 13), value %#llx", err,
               (unsigned long long)v.val[f]);
      return false;
    }
    vmcs_set(&v, f, ~0ull); /* the processor itself writes exit information */
  } else if (err != VMXERR_NONE) {
    snprintf(why, n, "VMWRITE failed with %d", err);
    return false;
  }
  if (vmcs_vmread(&v, caps, fi->encoding, 64, &out) != VMXERR_NONE || out != full) {
    snprintf(why, n, "VMREAD after all-ones write gave %#llx, want %#llx (width truncation)",
             (unsigned long long)out, (unsigned long long)full);
    return false;
  }
  if (fi->width == VMCS_WIDTH_W64) {
    vmcs_set(&v, f, 0x1122334455667788ull);
    if (vmcs_vmread(&v, caps, fi->encoding | 1, 64, &out) != VMXERR_NONE || out != 0x11223344) {
      snprintf(why, n, "VMREAD HIGH gave %#llx", (unsigned long long)out);
      return false;
    }
    if (!read_only) {
      if (vmcs_vmwrite(&v, caps, fi->encoding | 1, 64, 0xFFFFFFFFAABBCCDDull) != VMXERR_NONE ||
          v.val[f] != 0xAABBCCDD55667788ull) {
        snprintf(why, n, "VMWRITE HIGH left %#llx", (unsigned long long)v.val[f]);
        return false;
      }
    }
  }
  if (fi->width != VMCS_WIDTH_W16 && fi->width != VMCS_WIDTH_W32) {
    /* 32-bit operand: VMREAD truncates, VMWRITE clears bits 63:32. */
    vmcs_set(&v, f, 0x1122334455667788ull);
    if (vmcs_vmread(&v, caps, fi->encoding, 32, &out) != VMXERR_NONE || out != 0x55667788) {
      snprintf(why, n, "32-bit VMREAD gave %#llx", (unsigned long long)out);
      return false;
    }
    if (!read_only &&
        (vmcs_vmwrite(&v, caps, fi->encoding, 32, 0xFFFFFFFF00000001ull) != VMXERR_NONE || v.val[f] != 1)) {
      snprintf(why, n, "32-bit VMWRITE left %#llx, want 1", (unsigned long long)v.val[f]);
      return false;
    }
  }
  return true;
}

static void vmcs_vmread_vmwrite_every_field_every_model_conform(void **state)
{
  char why[160];
  for (int m = 0; vmx_cpu_models[m]; m++)
    for (int f = 0; f < VMCS_FIELD_COUNT; f++) {
      bool ok = field_conformance(vmx_cpu_models[m], f, why, sizeof why);
      if (!ok) fail_msg("%s on %s: %s", vmcs_fields[f].name, vmx_cpu_models[m]->name, why);
    }
}

/* --covers: a field is covered when its conformance holds on every model. */
static void covered_fields(void)
{
  char why[160];
  for (int f = 0; f < VMCS_FIELD_COUNT; f++) {
    bool ok = true;
    for (int m = 0; vmx_cpu_models[m]; m++) ok = ok && field_conformance(vmx_cpu_models[m], f, why, sizeof why);
    if (ok) printf("field %s\n", vmcs_fields[f].name);
  }
}

static void vmcs_catalogue_names_and_encodings_unique(void **state)
{
  for (int i = 0; i < VMCS_FIELD_COUNT; i++)
    for (int j = i + 1; j < VMCS_FIELD_COUNT; j++) {
      assert_int_not_equal(vmcs_fields[i].encoding, vmcs_fields[j].encoding);
      assert_string_not_equal(vmcs_fields[i].name, vmcs_fields[j].name);
    }
}

static void vmcs_lookup_by_encoding_and_name_roundtrips(void **state)
{
  bool high;
  assert_int_equal(vmcs_field_by_encoding(0x6800), VMCSI_GUEST_CR0);
  assert_int_equal(vmcs_field_by_encoding(0x2801), VMCSI_VMCS_LINK_POINTER);
  assert_int_equal(vmcs_field_by_encoding(0x6801), -1);          /* HIGH of natural width */
  assert_int_equal(vmcs_field_by_encoding(0x4001), -1);          /* HIGH of 32-bit */
  assert_int_equal(vmcs_field_by_encoding(0x0001), -1);          /* HIGH of 16-bit */
  assert_int_equal(vmcs_field_by_encoding(0x482C), -1);          /* unassigned index */
  assert_int_equal(vmcs_field_by_name("GUEST_CR0", &high), VMCSI_GUEST_CR0);
  assert_false(high);
  assert_int_equal(vmcs_field_by_name("TSC_OFFSET_HIGH", &high), VMCSI_TSC_OFFSET);
  assert_true(high);
  assert_int_equal(vmcs_field_by_name("GUEST_CR0_HIGH", &high), -1);
  assert_int_equal(vmcs_field_by_name("NO_SUCH_FIELD", &high), -1);
  assert_int_equal(VMCS_TSC_OFFSET_HIGH, 0x2011);
}

static void vmcs_vmread_operand_high_bits_set_fails_12(void **state)
{
  static struct vmcs v;
  uint64_t out;
  assert_int_equal(vmcs_vmread(&v, &vmx_caps_skylake_x, 0x6800, 64, &out), VMXERR_NONE);
  assert_int_equal(vmcs_vmread(&v, &vmx_caps_skylake_x, 0x100006800ull, 64, &out), VMXERR_UNSUPPORTED_FIELD);
  assert_int_equal(vmcs_vmwrite(&v, &vmx_caps_skylake_x, 0x100006800ull, 64, 0), VMXERR_UNSUPPORTED_FIELD);
}

static void vmcs_vmwrite_read_only_depends_on_misc_bit29(void **state)
{
  static struct vmcs v;
  /* Skylake-X reports IA32_VMX_MISC bit 29: VMWRITE may write exit info. */
  assert_int_equal(vmcs_vmwrite(&v, &vmx_caps_skylake_x, VMCS_EXIT_QUALIFICATION, 64, 7), VMXERR_NONE);
  assert_int_equal(vmcs_get(&v, VMCSI_EXIT_QUALIFICATION), 7);
  /* Nehalem does not: error 13, field unchanged. */
  assert_int_equal(vmcs_vmwrite(&v, &vmx_caps_nehalem, VMCS_EXIT_QUALIFICATION, 64, 9), VMXERR_VMWRITE_READ_ONLY);
  assert_int_equal(vmcs_get(&v, VMCSI_EXIT_QUALIFICATION), 7);
}

static void vmcs_field_existence_follows_model_features(void **state)
{
  static struct vmcs v;
  uint64_t out;
  /* PML, VMCS shadowing, preemption timer, VM functions: Skylake-X only. */
  enum vmcs_encoding skx_only[] = { VMCS_PML_ADDRESS, VMCS_GUEST_PML_INDEX, VMCS_VMREAD_BITMAP,
                                    VMCS_VMX_PREEMPTION_TIMER_VALUE, VMCS_VM_FUNCTION_CONTROL,
                                    VMCS_EPTP_LIST_ADDRESS, VMCS_TSC_MULTIPLIER };
  for (size_t i = 0; i < sizeof skx_only / sizeof skx_only[0]; i++) {
    assert_int_equal(vmcs_vmread(&v, &vmx_caps_skylake_x, skx_only[i], 64, &out), VMXERR_NONE);
    assert_int_equal(vmcs_vmread(&v, &vmx_caps_nehalem, skx_only[i], 64, &out), VMXERR_UNSUPPORTED_FIELD);
  }
  /* EPT and VPID fields exist on both. */
  assert_int_equal(vmcs_vmread(&v, &vmx_caps_nehalem, VMCS_EPT_POINTER, 64, &out), VMXERR_NONE);
  assert_int_equal(vmcs_vmread(&v, &vmx_caps_nehalem, VMCS_VIRTUAL_PROCESSOR_ID, 64, &out), VMXERR_NONE);
  /* Posted interrupts: neither model. */
  assert_int_equal(vmcs_vmread(&v, &vmx_caps_skylake_x, VMCS_POSTED_INTR_DESC_ADDR, 64, &out),
                   VMXERR_UNSUPPORTED_FIELD);
}

static void vmcs_region_roundtrip_keeps_revision_abort_and_fields(void **state)
{
  static struct vmcs a, b;
  static uint8_t region[4096];
  a.revision = 0x8000002B; a.abort = 5; a.launched = true;
  vmcs_set(&a, VMCSI_GUEST_RIP, 0xFFFFFFFF81000000ull);
  vmcs_set(&a, VMCSI_GUEST_CS_SELECTOR, 0x10);
  assert_true(vmcs_region_store(&a, region, sizeof region));
  /* The architectural prefix: revision (with shadow bit 31), abort. */
  assert_int_equal(region[0], 0x2B); assert_int_equal(region[3], 0x80);
  assert_int_equal(region[4], 5);
  assert_true(vmcs_region_load(&b, region, sizeof region));
  assert_int_equal(b.revision, 0x8000002B);
  assert_int_equal(b.abort, 5);
  assert_true(b.launched);
  assert_memory_equal(a.val, b.val, sizeof a.val);
  assert_false(vmcs_region_store(&a, region, 64));
  assert_false(vmcs_region_load(&b, region, 64));
}

static void vmcs_vmcs_enum_covers_highest_supported_index(void **state)
{
  /* Skylake-X: TSC_MULTIPLIER (2032H) has the highest index, 19H.
   * Nehalem has no TSC scaling and no preemption timer (482EH, index 17H),
   * so its highest is GUEST_SYSENTER_CS (482AH, index 15H). */
  assert_int_equal(vmx_caps_vmcs_enum_derived(&vmx_caps_skylake_x), 0x19 << 1);
  assert_int_equal(vmx_caps_vmcs_enum(&vmx_caps_skylake_x), 0x34);   /* Bochs's stated value */
  assert_int_equal(vmx_caps_vmcs_enum(&vmx_caps_nehalem), 0x15 << 1);
  /* A stated value never hides a field the model has. */
  for (int m = 0; vmx_cpu_models[m]; m++)
    assert_true(vmx_caps_vmcs_enum(vmx_cpu_models[m]) >= vmx_caps_vmcs_enum_derived(vmx_cpu_models[m]));
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(vmcs_catalogue_names_and_encodings_unique),
    cmocka_unit_test(vmcs_lookup_by_encoding_and_name_roundtrips),
    cmocka_unit_test(vmcs_vmread_vmwrite_every_field_every_model_conform),
    cmocka_unit_test(vmcs_vmread_operand_high_bits_set_fails_12),
    cmocka_unit_test(vmcs_vmwrite_read_only_depends_on_misc_bit29),
    cmocka_unit_test(vmcs_field_existence_follows_model_features),
    cmocka_unit_test(vmcs_region_roundtrip_keeps_revision_abort_and_fields),
    cmocka_unit_test(vmcs_vmcs_enum_covers_highest_supported_index),
  };
  return cov_main(argc, argv, "vmx_vmcs_fields", tests, sizeof tests / sizeof tests[0], covered_fields);
}
