/* Conformance of the VM-entry checks (SDM Vol. 3C, chapter "VM Entries"):
 * the baseline VMCS of every CPU model passes every check; every check ID
 * has a negative case that breaks exactly it (entry_negative.c) and
 * asserts its architectural outcome; and the notable allowed cases pass. */
#include "conformance/covers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/vmx/entry_negative.h"
#include "models/vmx/vmx_bits.h"

static struct tcase t_;
static struct vmx_entry_report rep_;

static bool passes(struct tcase *t)
{
  struct vmx_entry_result r;
  bool ok = vmx_entry_check(&t->v, &t->env, &r);
  if (!ok) print_message("%s: %s: %s\n", t->caps->name, vmx_checks[r.id].name, r.msg);
  return ok;
}
static enum vmx_check_id first_failure(struct tcase *t)
{
  struct vmx_entry_result r;
  return vmx_entry_check(&t->v, &t->env, &r) ? VMX_ENTRY_OK : r.id;
}

static void entry_baseline_every_model_passes_all_checks(void **state)
{
  for (int m = 0; vmx_cpu_models[m]; m++) {
    tcase_baseline(&t_, vmx_cpu_models[m]);
    vmx_entry_check_all(&t_.v, &t_.env, &rep_);
    if (rep_.count) fail_msg("%s: %s: %s", t_.caps->name, vmx_checks[rep_.fail[0].id].name, rep_.fail[0].msg);
    assert_int_equal(rep_.skipped_count, 0);
    assert_true(passes(&t_));
  }
}

static void entry_negative_case(void **state)
{
  const struct neg_case *n = *state;
  char why[400];
  if (!neg_case_holds(n, why, sizeof why)) fail_msg("%s: %s", vmx_checks[n->id].name, why);
}

static void entry_catalogue_ids_unique_and_cited(void **state)
{
  for (int i = VMX_CHECK_FIRST; i < VMX_CHECK_END; i++) {
    assert_true(strlen(vmx_checks[i].section) > 0);
    assert_true(strlen(vmx_checks[i].predicate) > 0);
    assert_int_equal(vmx_check_by_name(vmx_checks[i].name), i);
    for (int j = i + 1; j < VMX_CHECK_END; j++) assert_string_not_equal(vmx_checks[i].name, vmx_checks[j].name);
  }
  assert_int_equal(vmx_check_by_name("VMX_ENTRY_HOST_CR0_FIXED"), VMX_ENTRY_HOST_CR0_FIXED);
  assert_int_equal(vmx_check_by_name("NOT_A_CHECK"), VMX_ENTRY_OK);
  for (size_t i = 0; i < neg_case_count; i++)
    for (size_t j = i + 1; j < neg_case_count; j++) assert_int_not_equal(neg_cases[i].id, neg_cases[j].id);
}

/* Makes `live` what `to` is, the VMCS by stores as VMWRITE and VM exits
 * make them (so the memo sees each change), the rest by copy. */
static void become(struct tcase *live, const struct tcase *to)
{
  for (int f = 0; f < VMCS_FIELD_COUNT; f++) vmcs_set(&live->v, f, vmcs_get(&to->v, f));
  live->caps = to->caps;
  live->env = to->env;
  live->env.ctx = live;
  memcpy(live->mem, to->mem, sizeof live->mem);
  live->bad_msr = to->bad_msr;
}

/* Takes `live` to `to` and checks it with the memo: the same result as a
 * full check of `to`, or a failure message. */
static bool memo_agrees(struct tcase *live, const struct tcase *to, const char *step)
{
  struct vmx_entry_result full, memo;
  become(live, to);
  bool full_ok = vmx_entry_check(&to->v, &to->env, &full);
  bool memo_ok = vmx_entry_check_memo(&live->v, &live->env, &memo);
  if (full_ok == memo_ok && full.id == memo.id && full.exit_qual == memo.exit_qual) return true;
  print_error("%s: %s: full check %s, memo %s\n", to->caps->name, step, vmx_checks[full.id].name,
              vmx_checks[memo.id].name);
  return false;
}

/* vmx_entry_check_memo skips the groups of checks whose input fields did
 * not change since they last passed. One VMCS taken from the baseline to
 * every negative case and back gets from it what a full check gives, each
 * time: the memo must see every change (vmcs_set) and every field a check
 * reads (ec_get). A case's fields over the baseline's memory, then its
 * memory: a change only memory shows, which the groups that read memory
 * must not miss. */
static void entry_memo_gives_the_full_check_result_across_every_case(void **state)
{
  static struct tcase base, live, broken, fields_only;
  struct vmx_entry_result r;
  for (int m = 0; vmx_cpu_models[m]; m++) {
    tcase_baseline(&base, vmx_cpu_models[m]);
    memset(&live, 0, sizeof live);
    assert_true(memo_agrees(&live, &base, "baseline"));
    /* No group of the baseline reads memory (link pointer ~0, EPT, no
     * MSR-load list): every one is remembered as passed, and the next
     * entry of the same VMCS evaluates none. */
    assert_int_equal(live.v.memo.passed, (1u << VMCS_CHECK_GROUPS) - 1);
    unsigned cases = 0, memory_only = 0;
    for (size_t i = 0; i < neg_case_count; i++) {
      const char *name = vmx_checks[neg_cases[i].id].name;
      tcase_baseline(&broken, vmx_cpu_models[m]);
      if (!neg_cases[i].mutate(&broken)) continue;
      cases++;
      assert_true(memo_agrees(&live, &broken, name));
      assert_true(memo_agrees(&live, &base, name));
      become(&fields_only, &broken);
      memcpy(fields_only.mem, base.mem, sizeof fields_only.mem);
      if (memcmp(broken.mem, base.mem, sizeof base.mem) == 0 ||
          !vmx_entry_check(&fields_only.v, &fields_only.env, &r))
        continue;
      memory_only++;
      assert_true(memo_agrees(&live, &fields_only, name));
      assert_true(memo_agrees(&live, &broken, name));
      assert_true(memo_agrees(&live, &base, name));
    }
    assert_true(cases > 100);
    assert_true(memory_only > 0);
  }
}

/* Unrestricted guest lets CR0.PE and PG be 0 (a real-mode guest); without
 * the feature the same VMCS fails. */
static void entry_unrestricted_guest_real_mode_passes_only_with_feature(void **state)
{
  for (int m = 0; vmx_cpu_models[m]; m++) {
    tcase_baseline(&t_, vmx_cpu_models[m]);
    tcase_32bit_guest(&t_);
    ORF(&t_, SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
    SETF(&t_, GUEST_CR0, 0x30);                         /* NE, ET */
    SETF(&t_, GUEST_CS_AR_BYTES, 0x9B);
    SETF(&t_, GUEST_CS_LIMIT, 0xFFFF);
    SETF(&t_, GUEST_CS_SELECTOR, 0xF000);
    SETF(&t_, GUEST_CS_BASE, 0xF0000);
    /* #GP in real mode is delivered without an error code. */
    SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 13);
    if (vmx_has_feature(t_.caps, VMX_FEAT_UNRESTRICTED_GUEST)) assert_true(passes(&t_));
    else assert_int_equal(first_failure(&t_), VMX_ENTRY_CTLS_PROC2_RESERVED);
  }
}

static void entry_eptp_ad_allowed_with_capability(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  ORF(&t_, EPT_POINTER, 1u << 6);
  assert_true(passes(&t_));
  tcase_baseline(&t_, &vmx_caps_nehalem);
  ORF(&t_, EPT_POINTER, 1u << 6);
  assert_int_equal(first_failure(&t_), VMX_ENTRY_CTLS_EPTP_AD);
}

/* Type 7 (pending MTF VM exit) needs monitor-trap-flag support: Nehalem
 * has it, the Bochs Skylake-X model does not. */
static void entry_other_event_injection_needs_mtf(void **state)
{
  tcase_baseline(&t_, &vmx_caps_nehalem);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_OTHER_EVENT << 8));
  assert_true(passes(&t_));
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_OTHER_EVENT << 8));
  assert_int_equal(first_failure(&t_), VMX_ENTRY_CTLS_ENTRY_INTR_TYPE);
}

/* "enable XSAVES/XRSTORS" is offered only by processors with XSAVES: the
 * skylake-x model (whose CPUID lacks XSAVES) rejects it as a reserved
 * secondary control; a model that offers it accepts it. */
static void entry_xsaves_control_needs_xsaves_support(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  assert_false(vmx_has_feature(&vmx_caps_skylake_x, VMX_FEAT_XSAVES));
  ORF(&t_, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_XSAVES);
  assert_int_equal(first_failure(&t_), VMX_ENTRY_CTLS_PROC2_RESERVED);
  static struct vmx_caps with_xsaves;
  with_xsaves = vmx_caps_skylake_x;
  with_xsaves.procbased2 |= (uint64_t)PROC2_ENABLE_XSAVES << 32;
  tcase_baseline(&t_, &with_xsaves);
  ORF(&t_, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_XSAVES);
  assert_true(passes(&t_));
}

static void entry_software_event_length_zero_needs_misc_bit30(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_SW_EXCEPTION << 8) | 3);
  SETF(&t_, VM_ENTRY_INSTRUCTION_LEN, 0);
  assert_true(passes(&t_));
  tcase_baseline(&t_, &vmx_caps_nehalem);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_SW_EXCEPTION << 8) | 3);
  SETF(&t_, VM_ENTRY_INSTRUCTION_LEN, 0);
  assert_int_equal(first_failure(&t_), VMX_ENTRY_CTLS_ENTRY_INTR_INSTR_LEN);
  SETF(&t_, VM_ENTRY_INSTRUCTION_LEN, 2);
  assert_true(passes(&t_));
}

static void entry_error_code_delivery_allowed_cases_pass(void **state)
{
  tcase_baseline(&t_, &vmx_caps_nehalem);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_INFO_DELIVER_CODE | (INTR_TYPE_HW_EXCEPTION << 8) | 14);
  SETF(&t_, VM_ENTRY_EXCEPTION_ERROR_CODE, 0xFFFF);
  assert_true(passes(&t_));
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 6);
  assert_true(passes(&t_));
}

static void entry_32bit_host_and_32bit_guest_pass(void **state)
{
  for (int m = 0; vmx_cpu_models[m]; m++) {
    tcase_baseline(&t_, vmx_cpu_models[m]);
    tcase_32bit_guest(&t_);
    SETF(&t_, GUEST_TR_AR_BYTES, 0x83);               /* busy 16-bit TSS: allowed outside IA-32e */
    assert_true(passes(&t_));
    tcase_32bit_host(&t_);
    assert_true(passes(&t_));
  }
}

static void entry_virtual_8086_guest_passes(void **state)
{
  for (int m = 0; vmx_cpu_models[m]; m++) {
    tcase_baseline(&t_, vmx_cpu_models[m]);
    tcase_v86_guest(&t_);
    assert_true(passes(&t_));
  }
}

static void entry_host_ss_null_allowed_for_64bit_host(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  SETF(&t_, HOST_SS_SELECTOR, 0);
  assert_true(passes(&t_));
}

static void entry_hlt_with_external_interrupt_passes(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  SETF(&t_, GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
  ORF(&t_, GUEST_RFLAGS, 1u << 9);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << 8) | 0x30);
  assert_true(passes(&t_));
  /* #MC may be injected in shutdown state. */
  SETF(&t_, GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN);
  SETF(&t_, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 18);
  assert_true(passes(&t_));
}

static void entry_secondary_controls_ignored_unless_activated(void **state)
{
  tcase_baseline(&t_, &vmx_caps_nehalem);
  CLRF(&t_, CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CTLS);
  SETF(&t_, SECONDARY_VM_EXEC_CONTROL, 0xFFFFFFFF);
  assert_true(passes(&t_));
}

static void entry_conforming_cs_dpl_below_ss_dpl_passes(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  SETF(&t_, GUEST_CS_AR_BYTES, 0xA09F);               /* conforming code, DPL 0 */
  SETF(&t_, GUEST_SS_SELECTOR, 0x13);
  SETF(&t_, GUEST_CS_SELECTOR, 0x0B);
  SETF(&t_, GUEST_SS_AR_BYTES, 0xC0F3);               /* SS DPL 3 = RPL 3 */
  assert_true(passes(&t_));
}

static void entry_link_pointer_to_shadow_vmcs_passes(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  ORF(&t_, SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
  SETF(&t_, VMREAD_BITMAP, TPA_BITMAP);
  SETF(&t_, VMWRITE_BITMAP, TPA_BITMAP + 0x1000);
  SETF(&t_, VMCS_LINK_POINTER, TPA_LINK_VMCS);
  tmem_put64(&t_, TPA_LINK_VMCS, 0x8000002Bull);      /* revision 2BH, shadow indicator */
  assert_true(passes(&t_));
}

static void entry_pdptes_valid_with_and_without_ept_pass(void **state)
{
  tcase_baseline(&t_, &vmx_caps_nehalem);
  tcase_32bit_guest(&t_);
  SETF(&t_, GUEST_PDPTE0, 0x10001);                   /* present, reserved bits clear */
  SETF(&t_, GUEST_PDPTE1, 0xFFFFFFFFFFFFFFFEull);     /* not present: not checked */
  assert_true(passes(&t_));
  CLRF(&t_, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
  tmem_put64(&t_, TPA_GUEST_CR3, 0x20001);
  assert_true(passes(&t_));
}

static void entry_msr_load_list_of_valid_entries_passes(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  SETF(&t_, VM_ENTRY_MSR_LOAD_COUNT, 2);
  SETF(&t_, VM_ENTRY_MSR_LOAD_ADDR, TPA_MSR_LIST);
  tmem_put64(&t_, TPA_MSR_LIST, 0x174);
  tmem_put64(&t_, TPA_MSR_LIST + 16, 0xC0000102);     /* IA32_KERNEL_GS_BASE is loadable */
  assert_true(passes(&t_));
}

/* Without a memory reader the memory checks are reported as skipped, not
 * passed silently. */
static void entry_memory_checks_skipped_without_reader(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  t_.env.read_phys = NULL;
  SETF(&t_, VMCS_LINK_POINTER, TPA_LINK_VMCS);
  SETF(&t_, VM_ENTRY_MSR_LOAD_COUNT, 1);
  SETF(&t_, VM_ENTRY_MSR_LOAD_ADDR, TPA_MSR_LIST);
  vmx_entry_check_all(&t_.v, &t_.env, &rep_);
  assert_int_equal(rep_.count, 0);
  assert_int_equal(rep_.skipped_count, 8);
  assert_int_equal(rep_.skipped[0], VMX_ENTRY_GUEST_LINK_PTR_REVISION);
  assert_int_equal(rep_.skipped[7], VMX_ENTRY_MSRLOAD_WRMSR_FAULT);
}

/* Several broken fields: every failure is listed, in architectural order,
 * and the VM entry reports the first (a control failure beats guest state). */
static void entry_all_failures_listed_in_order(void **state)
{
  tcase_baseline(&t_, &vmx_caps_skylake_x);
  CLRF(&t_, GUEST_CR4, 0x2000);
  SETF(&t_, HOST_TR_SELECTOR, 0);
  SETF(&t_, CR3_TARGET_COUNT, 9);
  vmx_entry_check_all(&t_.v, &t_.env, &rep_);
  assert_int_equal(rep_.count, 3);
  assert_int_equal(rep_.fail[0].id, VMX_ENTRY_CTLS_CR3_TARGET_COUNT);
  assert_int_equal(rep_.fail[1].id, VMX_ENTRY_HOST_TR_NULL);
  assert_int_equal(rep_.fail[2].id, VMX_ENTRY_GUEST_CR4_FIXED);
  assert_non_null(strstr(rep_.fail[2].msg, "GUEST_CR4"));
  struct vmx_entry_result r;
  assert_false(vmx_entry_check(&t_.v, &t_.env, &r));
  assert_int_equal(r.vm_instruction_error, VMXERR_ENTRY_INVALID_CTLS);
  assert_int_equal(r.exit_reason, 0);
}

/* --covers: a check is covered when its negative case holds. */
static void covered_checks(void)
{
  char why[400];
  for (size_t i = 0; i < neg_case_count; i++)
    if (neg_case_holds(&neg_cases[i], why, sizeof why)) printf("check %s\n", vmx_checks[neg_cases[i].id].name);
}

int main(int argc, char **argv)
{
  static const struct CMUnitTest fixed[] = {
    cmocka_unit_test(entry_baseline_every_model_passes_all_checks),
    cmocka_unit_test(entry_memo_gives_the_full_check_result_across_every_case),
    cmocka_unit_test(entry_catalogue_ids_unique_and_cited),
    cmocka_unit_test(entry_unrestricted_guest_real_mode_passes_only_with_feature),
    cmocka_unit_test(entry_eptp_ad_allowed_with_capability),
    cmocka_unit_test(entry_other_event_injection_needs_mtf),
    cmocka_unit_test(entry_software_event_length_zero_needs_misc_bit30),
    cmocka_unit_test(entry_error_code_delivery_allowed_cases_pass),
    cmocka_unit_test(entry_32bit_host_and_32bit_guest_pass),
    cmocka_unit_test(entry_virtual_8086_guest_passes),
    cmocka_unit_test(entry_host_ss_null_allowed_for_64bit_host),
    cmocka_unit_test(entry_hlt_with_external_interrupt_passes),
    cmocka_unit_test(entry_secondary_controls_ignored_unless_activated),
    cmocka_unit_test(entry_conforming_cs_dpl_below_ss_dpl_passes),
    cmocka_unit_test(entry_link_pointer_to_shadow_vmcs_passes),
    cmocka_unit_test(entry_pdptes_valid_with_and_without_ept_pass),
    cmocka_unit_test(entry_msr_load_list_of_valid_entries_passes),
    cmocka_unit_test(entry_memory_checks_skipped_without_reader),
    cmocka_unit_test(entry_all_failures_listed_in_order),
    cmocka_unit_test(entry_xsaves_control_needs_xsaves_support),
  };
  size_t nfixed = sizeof fixed / sizeof fixed[0], n = nfixed + neg_case_count;
  struct CMUnitTest *tests = calloc(n, sizeof *tests);
  static char names[VMX_CHECK_END][96];
  if (!tests) return 1;
  memcpy(tests, fixed, sizeof fixed);
  for (size_t i = 0; i < neg_case_count; i++) {
    snprintf(names[i], sizeof names[i], "entry_%s_fails", vmx_checks[neg_cases[i].id].name);
    tests[nfixed + i] = (struct CMUnitTest){ .name = names[i], .test_func = entry_negative_case,
                                             .initial_state = (void *)&neg_cases[i] };
  }
  int rc = cov_main(argc, argv, "vmx_entry_checks", tests, n, covered_checks);
  free(tests);
  return rc;
}
