/* Conformance of the CPU models' VMX capability MSRs and of the
 * IA32_FEATURE_CONTROL / VMX-fixed-bit rules (SDM Vol. 3C, appendix "VMX
 * Capability Reporting Facility"; "Enabling and Entering VMX Operation";
 * "Restrictions on VMX Operation"). */
#include "conformance/covers.h"

#include "models/vmx/caps.h"
#include "models/vmx/vmcs.h"
#include "models/vmx/vmx_bits.h"

static uint64_t rdmsr(const struct vmx_caps *c, uint32_t index)
{
  uint64_t v = 0;
  assert_true(vmx_caps_read_msr(c, index, &v));
  return v;
}

static void caps_skylake_x_msrs_match_bochs(void **state)
{
  const struct vmx_caps *c = &vmx_caps_skylake_x;
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_BASIC), 0x00D810000000002Bull);
  assert_int_equal(BASIC_REVISION(rdmsr(c, MSR_IA32_VMX_BASIC)), 0x2B);
  assert_int_equal(BASIC_REGION_SIZE(c->basic), 4096);
  assert_int_equal(BASIC_MEMTYPE(c->basic), 6);
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_CR0_FIXED0), 0x80000021);
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_CR4_FIXED1), 0x003727FF);
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_EPT_VPID_CAP), 0x00000F0106334141ull);
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_VMFUNC), 1);
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_VMCS_ENUM), vmx_caps_vmcs_enum(c));
  assert_int_equal(rdmsr(c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS), 0xF7F9FFFE04006172ull);
  assert_int_equal(rdmsr(c, MSR_IA32_FEATURE_CONTROL), FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX);
}

static void caps_missing_msrs_fail_rdmsr(void **state)
{
  uint64_t v;
  /* Nehalem has no VM functions: IA32_VMX_VMFUNC does not exist. */
  assert_false(vmx_caps_read_msr(&vmx_caps_nehalem, MSR_IA32_VMX_VMFUNC, &v));
  assert_true(vmx_caps_read_msr(&vmx_caps_skylake_x, MSR_IA32_VMX_VMFUNC, &v));
  /* Neither offers tertiary controls. */
  assert_false(vmx_caps_read_msr(&vmx_caps_skylake_x, MSR_IA32_VMX_PROCBASED_CTLS3, &v));
  /* Not VMX capability MSRs. */
  assert_false(vmx_caps_read_msr(&vmx_caps_skylake_x, 0x493, &v));
  assert_false(vmx_caps_read_msr(&vmx_caps_skylake_x, 0x47F, &v));
}

/* SDM appendix "VMX Capability Reporting Facility": the default-1 classes
 * of the non-TRUE control MSRs, allowed-0 within allowed-1, TRUE_ MSRs only
 * relax default-1 bits, fixed-0 within fixed-1, and the model-level
 * dependencies the SDM states (unrestricted guest and PML need EPT; an
 * unrestricted-guest CPU reports MISC bit 5; EPTP switching needs VM
 * functions; EPT needs a supported walk length and memory type). */
static void caps_every_model_is_internally_consistent(void **state)
{
  for (int m = 0; vmx_cpu_models[m]; m++) {
    const struct vmx_caps *c = vmx_cpu_models[m];
    const uint64_t ctl[] = { c->pinbased, c->procbased, c->exit, c->entry, c->procbased2,
                             c->true_pinbased, c->true_procbased, c->true_exit, c->true_entry };
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++)
      assert_int_equal((uint32_t)ctl[i] & ~(uint32_t)(ctl[i] >> 32), 0);
    assert_int_equal((uint32_t)c->pinbased & 0x16, 0x16);
    assert_int_equal((uint32_t)c->procbased & 0x0401E172, 0x0401E172);
    assert_int_equal((uint32_t)c->exit & 0x00036DFF, 0x00036DFF);
    assert_int_equal((uint32_t)c->entry & 0x000011FF, 0x000011FF);
    const uint64_t pairs[][2] = { { c->pinbased, c->true_pinbased }, { c->procbased, c->true_procbased },
                                  { c->exit, c->true_exit }, { c->entry, c->true_entry } };
    for (size_t i = 0; i < 4; i++) {
      assert_int_equal((uint32_t)pairs[i][1] & ~(uint32_t)pairs[i][0], 0);
      assert_int_equal(pairs[i][0] >> 32, pairs[i][1] >> 32);
    }
    assert_int_equal(c->cr0_fixed0 & ~c->cr0_fixed1, 0);
    assert_int_equal(c->cr4_fixed0 & ~c->cr4_fixed1, 0);
    assert_true(BASIC_REGION_SIZE(c->basic) >= VMCS_REGION_BYTES);
    if (vmx_has_feature(c, VMX_FEAT_UNRESTRICTED_GUEST)) {
      assert_true(vmx_has_feature(c, VMX_FEAT_EPT));
      assert_true(c->misc & MISC_STORE_LMA);
    }
    if (vmx_has_feature(c, VMX_FEAT_PML)) assert_true(vmx_has_feature(c, VMX_FEAT_EPT));
    if (vmx_has_feature(c, VMX_FEAT_EPTP_SWITCHING)) assert_true(vmx_has_feature(c, VMX_FEAT_VMFUNC));
    if (vmx_has_feature(c, VMX_FEAT_EPT)) {
      assert_true(c->ept_vpid_cap & EPTCAP_WALK_4);
      assert_true(c->ept_vpid_cap & (EPTCAP_MEMTYPE_UC | EPTCAP_MEMTYPE_WB));
    }
  }
}

static void caps_features_differ_between_models(void **state)
{
  const enum vmx_feature skx_only[] = { VMX_FEAT_UNRESTRICTED_GUEST, VMX_FEAT_PREEMPTION_TIMER,
                                        VMX_FEAT_VMCS_SHADOWING, VMX_FEAT_PML, VMX_FEAT_VMFUNC,
                                        VMX_FEAT_EPTP_SWITCHING, VMX_FEAT_EPT_VE };
  for (size_t i = 0; i < sizeof skx_only / sizeof skx_only[0]; i++) {
    assert_true(vmx_has_feature(&vmx_caps_skylake_x, skx_only[i]));
    assert_false(vmx_has_feature(&vmx_caps_nehalem, skx_only[i]));
  }
  assert_true(vmx_has_feature(&vmx_caps_nehalem, VMX_FEAT_EPT));
  assert_true(vmx_has_feature(&vmx_caps_nehalem, VMX_FEAT_VPID));
  assert_false(vmx_has_feature(&vmx_caps_skylake_x, VMX_FEAT_POSTED_INTR));
  assert_true(vmx_caps_nehalem.ept_vpid_cap & EPTCAP_INVEPT);
  assert_false(vmx_caps_nehalem.ept_vpid_cap & EPTCAP_AD);
  assert_true(vmx_caps_skylake_x.ept_vpid_cap & EPTCAP_AD);
  assert_ptr_equal(vmx_caps_by_name("skylake-x"), &vmx_caps_skylake_x);
  assert_ptr_equal(vmx_caps_by_name("nehalem"), &vmx_caps_nehalem);
  assert_null(vmx_caps_by_name("pentium"));
}

static void caps_true_ctls_used_when_basic_bit55(void **state)
{
  /* Both models set bit 55, so CR3-load/store exiting (default-1 in the
   * plain MSR) may be 0, and "save debug controls" may be 0. */
  assert_false((uint32_t)vmx_caps_proc_ctls(&vmx_caps_skylake_x) & PROC_CR3_LOAD_EXITING);
  assert_true((uint32_t)vmx_caps_skylake_x.procbased & PROC_CR3_LOAD_EXITING);
  assert_false((uint32_t)vmx_caps_exit_ctls(&vmx_caps_nehalem) & EXIT_SAVE_DEBUG_CTLS);
  struct vmx_caps no_true = vmx_caps_skylake_x;
  no_true.basic &= ~BASIC_TRUE_CTLS;
  uint64_t v;
  assert_true((uint32_t)vmx_caps_proc_ctls(&no_true) & PROC_CR3_LOAD_EXITING);
  assert_false(vmx_caps_read_msr(&no_true, MSR_IA32_VMX_TRUE_ENTRY_CTLS, &v));
}

static void caps_ctl_valid_checks_both_halves(void **state)
{
  uint64_t msr = 0x0000007F00000016ull;
  assert_true(vmx_ctl_valid(msr, 0x16));
  assert_true(vmx_ctl_valid(msr, 0x7F));
  assert_false(vmx_ctl_valid(msr, 0x06));   /* allowed-0 bit 4 clear */
  assert_false(vmx_ctl_valid(msr, 0x96));   /* bit 7 not allowed-1 */
}

static void caps_cr_fixed_bits_in_vmx_operation(void **state)
{
  const struct vmx_caps *c = &vmx_caps_skylake_x;
  uint64_t cr0 = 0x80000031, cr4 = 0x2020;
  assert_true(vmx_cr_fixed_ok(c->cr0_fixed0, c->cr0_fixed1, cr0));
  assert_false(vmx_cr_fixed_ok(c->cr0_fixed0, c->cr0_fixed1, cr0 & ~0x20ull)); /* NE */
  assert_false(vmx_cr_fixed_ok(c->cr0_fixed0, c->cr0_fixed1, cr0 | (1ull << 32)));
  assert_true(vmx_cr_fixed_ok(c->cr4_fixed0, c->cr4_fixed1, cr4));
  assert_false(vmx_cr_fixed_ok(c->cr4_fixed0, c->cr4_fixed1, cr4 & ~0x2000ull)); /* VMXE */
  /* SMEP is allowed on Skylake-X, not on Nehalem. */
  assert_true(vmx_cr_fixed_ok(c->cr4_fixed0, c->cr4_fixed1, cr4 | (1ull << 20)));
  assert_false(vmx_cr_fixed_ok(vmx_caps_nehalem.cr4_fixed0, vmx_caps_nehalem.cr4_fixed1, cr4 | (1ull << 20)));
}

static void caps_feature_control_lock_and_enable(void **state)
{
  uint64_t fc = 0;
  assert_false(vmx_feature_control_allows_vmxon(fc, false));
  assert_true(vmx_feature_control_write(&fc, FEATCTL_VMX_OUTSIDE_SMX));
  assert_false(vmx_feature_control_allows_vmxon(fc, false));          /* not locked */
  assert_false(vmx_feature_control_write(&fc, 1ull << 40));           /* reserved */
  assert_true(vmx_feature_control_write(&fc, FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX));
  assert_true(vmx_feature_control_allows_vmxon(fc, false));
  assert_false(vmx_feature_control_allows_vmxon(fc, true));           /* SMX enable clear */
  assert_false(vmx_feature_control_write(&fc, 0));                    /* locked: #GP */
  assert_int_equal(fc, FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX);
  assert_false(vmx_feature_control_allows_vmxon(FEATCTL_LOCK, false));/* locked off */
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(caps_skylake_x_msrs_match_bochs),
    cmocka_unit_test(caps_missing_msrs_fail_rdmsr),
    cmocka_unit_test(caps_every_model_is_internally_consistent),
    cmocka_unit_test(caps_features_differ_between_models),
    cmocka_unit_test(caps_true_ctls_used_when_basic_bit55),
    cmocka_unit_test(caps_ctl_valid_checks_both_halves),
    cmocka_unit_test(caps_cr_fixed_bits_in_vmx_operation),
    cmocka_unit_test(caps_feature_control_lock_and_enable),
  };
  return cov_main(argc, argv, "vmx_caps", tests, sizeof tests / sizeof tests[0], NULL);
}
