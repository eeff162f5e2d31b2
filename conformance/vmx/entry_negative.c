/* Negative VM-entry cases: each mutation breaks exactly one check of the
 * catalogue (models/vmx/entry_checks.def) starting from the baseline. */
#include "conformance/vmx/entry_negative.h"

#include <stdio.h>
#include <string.h>

#include "models/vmx/vmx_bits.h"

#define HAS(f) vmx_has_feature(t->caps, VMX_FEAT_##f)
#define NONCANON 0x0000800000000000ull
#define INJECT(t, type, vec) SETF(t, VM_ENTRY_INTR_INFO, INTR_INFO_VALID | ((type) << 8) | (vec))

static void msr_entry(struct tcase *t, int n, uint64_t head, uint64_t value)
{
  tmem_put64(t, TPA_MSR_LIST + 16 * n, head);
  tmem_put64(t, TPA_MSR_LIST + 16 * n + 8, value);
}
static void msr_list(struct tcase *t, unsigned count)
{
  SETF(t, VM_ENTRY_MSR_LOAD_COUNT, count);
  SETF(t, VM_ENTRY_MSR_LOAD_ADDR, TPA_MSR_LIST);
  for (unsigned i = 0; i < count; i++) msr_entry(t, i, 0x174, 0x10); /* IA32_SYSENTER_CS: loadable */
}
static void tpr_shadow(struct tcase *t)
{
  ORF(t, CPU_BASED_VM_EXEC_CONTROL, PROC_USE_TPR_SHADOW);
  SETF(t, VIRTUAL_APIC_PAGE_ADDR, TPA_VAPIC);
}

/* ---- VM-execution controls ---- */
static bool pin_reserved(struct tcase *t) { ORF(t, PIN_BASED_VM_EXEC_CONTROL, PIN_POSTED_INTR); return true; }
static bool proc_reserved(struct tcase *t) { CLRF(t, CPU_BASED_VM_EXEC_CONTROL, 1u << 1); return true; }
static bool proc2_reserved(struct tcase *t) { ORF(t, SECONDARY_VM_EXEC_CONTROL, 1u << 24); return true; }
static bool cr3_target_count(struct tcase *t) { SETF(t, CR3_TARGET_COUNT, 5); return true; }
static bool io_bitmap_addr(struct tcase *t)
{
  ORF(t, CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS);
  SETF(t, IO_BITMAP_A, TPA_BITMAP);
  SETF(t, IO_BITMAP_B, TPA_BITMAP + 0x800);
  return true;
}
static bool msr_bitmap_addr(struct tcase *t)
{
  ORF(t, CPU_BASED_VM_EXEC_CONTROL, PROC_USE_MSR_BITMAPS);
  SETF(t, MSR_BITMAP, 1ull << 44);
  return true;
}
static bool virt_apic_addr(struct tcase *t) { tpr_shadow(t); SETF(t, VIRTUAL_APIC_PAGE_ADDR, TPA_VAPIC + 0x10); return true; }
static bool tpr_threshold_reserved(struct tcase *t) { tpr_shadow(t); SETF(t, TPR_THRESHOLD, 0x10); return true; }
static bool tpr_threshold_vtpr(struct tcase *t)
{
  tpr_shadow(t);
  t->mem[TPA_VAPIC + 0x80] = 0x20;              /* VTPR class 2 */
  SETF(t, TPR_THRESHOLD, 3);
  return true;
}
static bool vnmi_without_nmi_exiting(struct tcase *t) { ORF(t, PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS); return true; }
static bool nmi_window_without_vnmi(struct tcase *t) { ORF(t, CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING); return true; }
static bool apic_access_addr(struct tcase *t)
{
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_APIC_ACCESS);
  SETF(t, APIC_ACCESS_ADDR, TPA_BITMAP + 0x123);
  return true;
}
static bool apic_virt_without_tpr_shadow(struct tcase *t) { ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_X2APIC); return true; }
static bool x2apic_and_apic_access(struct tcase *t)
{
  tpr_shadow(t);
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_X2APIC | PROC2_VIRT_APIC_ACCESS);
  SETF(t, APIC_ACCESS_ADDR, TPA_BITMAP);
  return true;
}
static bool vid_without_ext_int_exiting(struct tcase *t)
{
  if (!HAS(VIRT_INTR_DELIVERY)) return false;
  tpr_shadow(t);
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_VIRT_INTR_DELIVERY);
  return true;
}
static bool vpid_zero(struct tcase *t) { SETF(t, VIRTUAL_PROCESSOR_ID, 0); return true; }
static bool eptp_memtype(struct tcase *t) { SETF(t, EPT_POINTER, (GETF(t, EPT_POINTER) & ~7ull) | 1); return true; }
static bool eptp_walk_length(struct tcase *t) { SETF(t, EPT_POINTER, (GETF(t, EPT_POINTER) & ~0x38ull) | (1 << 3)); return true; }
static bool eptp_ad(struct tcase *t)
{
  if (t->caps->ept_vpid_cap & EPTCAP_AD) return false;
  ORF(t, EPT_POINTER, 1u << 6);
  return true;
}
static bool eptp_reserved(struct tcase *t) { ORF(t, EPT_POINTER, 1u << 8); return true; }
static bool pml_without_ept(struct tcase *t)
{
  if (!HAS(PML)) return false;
  SETF(t, SECONDARY_VM_EXEC_CONTROL, (GETF(t, SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)PROC2_ENABLE_EPT) | PROC2_ENABLE_PML);
  SETF(t, PML_ADDRESS, TPA_BITMAP);
  return true;
}
static bool pml_addr(struct tcase *t)
{
  if (!HAS(PML)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML);
  SETF(t, PML_ADDRESS, 1ull << 45);
  return true;
}
static bool ug_without_ept(struct tcase *t)
{
  if (!HAS(UNRESTRICTED_GUEST)) return false;
  SETF(t, SECONDARY_VM_EXEC_CONTROL,
       (GETF(t, SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)PROC2_ENABLE_EPT) | PROC2_UNRESTRICTED_GUEST);
  return true;
}
static bool vmfunc_reserved(struct tcase *t)
{
  if (!HAS(VMFUNC)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC);
  SETF(t, VM_FUNCTION_CONTROL, 2);
  return true;
}
static bool eptp_switching_without_ept(struct tcase *t)
{
  if (!HAS(EPTP_SWITCHING)) return false;
  SETF(t, SECONDARY_VM_EXEC_CONTROL,
       (GETF(t, SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)PROC2_ENABLE_EPT) | PROC2_ENABLE_VMFUNC);
  SETF(t, VM_FUNCTION_CONTROL, VMFUNC_EPTP_SWITCHING);
  SETF(t, EPTP_LIST_ADDRESS, TPA_BITMAP);
  return true;
}
static bool eptp_list_addr(struct tcase *t)
{
  if (!HAS(EPTP_SWITCHING)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC);
  SETF(t, VM_FUNCTION_CONTROL, VMFUNC_EPTP_SWITCHING);
  SETF(t, EPTP_LIST_ADDRESS, TPA_BITMAP + 0x10);
  return true;
}
static bool vmcs_shadow_bitmap_addr(struct tcase *t)
{
  if (!HAS(VMCS_SHADOWING)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING);
  SETF(t, VMREAD_BITMAP, TPA_BITMAP);
  SETF(t, VMWRITE_BITMAP, TPA_BITMAP + 8);
  return true;
}
static bool ve_info_addr(struct tcase *t)
{
  if (!HAS(EPT_VE)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_VIOLATION_VE);
  SETF(t, VE_INFO_ADDRESS, 1ull << 50);
  return true;
}

/* ---- VM-exit and VM-entry controls ---- */
static bool exit_reserved(struct tcase *t) { ORF(t, VM_EXIT_CONTROLS, 1u << 23); return true; }
static bool exit_save_preempt(struct tcase *t)
{
  if (!((t->caps->exit >> 32) & EXIT_SAVE_PREEMPT_TIMER)) return false;
  ORF(t, VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER);
  return true;
}
static bool exit_msr_store_addr(struct tcase *t)
{
  SETF(t, VM_EXIT_MSR_STORE_COUNT, 1);
  SETF(t, VM_EXIT_MSR_STORE_ADDR, TPA_MSR_LIST + 8);
  return true;
}
static bool exit_msr_load_addr(struct tcase *t)
{
  /* Aligned, but the second entry's last byte is beyond MAXPHYADDR. */
  SETF(t, VM_EXIT_MSR_LOAD_COUNT, 2);
  SETF(t, VM_EXIT_MSR_LOAD_ADDR, (1ull << t->caps->maxphyaddr) - 16);
  return true;
}
static bool entry_reserved(struct tcase *t) { ORF(t, VM_ENTRY_CONTROLS, 1u << 16); return true; }
static bool intr_type(struct tcase *t) { INJECT(t, 1, 0); return true; }
static bool intr_nmi_vector(struct tcase *t) { INJECT(t, INTR_TYPE_NMI, 3); return true; }
static bool intr_hw_exc_vector(struct tcase *t) { INJECT(t, INTR_TYPE_HW_EXCEPTION, 32); return true; }
static bool intr_other_vector(struct tcase *t)
{
  if (!((t->caps->procbased >> 32) & PROC_MONITOR_TRAP_FLAG)) return false;
  INJECT(t, INTR_TYPE_OTHER_EVENT, 1);
  return true;
}
static bool intr_errcode_required(struct tcase *t) { INJECT(t, INTR_TYPE_HW_EXCEPTION, 13); return true; }
static bool intr_errcode_forbidden(struct tcase *t) { INJECT(t, INTR_TYPE_HW_EXCEPTION, 6 | INTR_INFO_DELIVER_CODE); return true; }
static bool intr_reserved(struct tcase *t) { INJECT(t, INTR_TYPE_HW_EXCEPTION, 6 | (1u << 12)); return true; }
static bool exc_errcode_reserved(struct tcase *t)
{
  INJECT(t, INTR_TYPE_HW_EXCEPTION, 13 | INTR_INFO_DELIVER_CODE);
  SETF(t, VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000);
  return true;
}
static bool intr_instr_len(struct tcase *t)
{
  INJECT(t, INTR_TYPE_SW_INTR, 0x80);
  SETF(t, VM_ENTRY_INSTRUCTION_LEN, 16);
  return true;
}
static bool entry_msr_load_addr(struct tcase *t)
{
  SETF(t, VM_ENTRY_MSR_LOAD_COUNT, 1);
  SETF(t, VM_ENTRY_MSR_LOAD_ADDR, TPA_MSR_LIST + 4);
  return true;
}
static bool entry_smm(struct tcase *t) { ORF(t, VM_ENTRY_CONTROLS, ENTRY_TO_SMM); return true; }
static bool entry_dual_monitor(struct tcase *t) { ORF(t, VM_ENTRY_CONTROLS, ENTRY_DEACT_DUAL_MONITOR); return true; }

/* ---- Host state ---- */
static bool host_cr0_fixed(struct tcase *t) { CLRF(t, HOST_CR0, 0x20); return true; }
static bool host_cr4_fixed(struct tcase *t) { CLRF(t, HOST_CR4, 0x2000); return true; }
static bool host_cr3_reserved(struct tcase *t) { SETF(t, HOST_CR3, 1ull << 45); return true; }
static bool host_sysenter_esp(struct tcase *t) { SETF(t, HOST_IA32_SYSENTER_ESP, NONCANON); return true; }
static bool host_sysenter_eip(struct tcase *t) { SETF(t, HOST_IA32_SYSENTER_EIP, NONCANON); return true; }
static bool host_perf_global(struct tcase *t)
{
  ORF(t, VM_EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL);
  SETF(t, HOST_IA32_PERF_GLOBAL_CTRL, 1ull << 40);
  return true;
}
static bool host_pat(struct tcase *t)
{
  ORF(t, VM_EXIT_CONTROLS, EXIT_LOAD_PAT);
  SETF(t, HOST_IA32_PAT, 0x0007040600070402ull);
  return true;
}
static bool host_efer_reserved(struct tcase *t) { ORF(t, HOST_IA32_EFER, 1u << 12); return true; }
static bool host_efer_lma(struct tcase *t) { CLRF(t, HOST_IA32_EFER, 1u << 10); return true; }
static bool host_efer_lme(struct tcase *t) { CLRF(t, HOST_IA32_EFER, 1u << 8); return true; }
static bool host_sel_rpl_ti(struct tcase *t) { SETF(t, HOST_DS_SELECTOR, 0x13); return true; }
static bool host_cs_null(struct tcase *t) { SETF(t, HOST_CS_SELECTOR, 0); return true; }
static bool host_tr_null(struct tcase *t) { SETF(t, HOST_TR_SELECTOR, 0); return true; }
static bool host_ss_null(struct tcase *t) { tcase_32bit_host(t); SETF(t, HOST_SS_SELECTOR, 0); return true; }
static bool host_base_canonical(struct tcase *t) { SETF(t, HOST_GS_BASE, NONCANON); return true; }
static bool host_outside_ia32e(struct tcase *t)
{
  tcase_32bit_host(t);
  CLRF(t, VM_EXIT_CONTROLS, EXIT_LOAD_EFER);
  ORF(t, VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE);
  return true;
}
static bool host_in_ia32e(struct tcase *t) { tcase_32bit_host(t); t->env.host_ia32e = true; return true; }
static bool host_ia32e_guest_32bit_host(struct tcase *t)
{
  tcase_32bit_host(t);
  ORF(t, VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
  ORF(t, GUEST_IA32_EFER, (1u << 8) | (1u << 10));
  SETF(t, GUEST_CS_AR_BYTES, 0xA09B);
  return true;
}
static bool host_pcide_32bit(struct tcase *t)
{
  if (!(t->caps->cr4_fixed1 & (1u << 17))) return false;
  tcase_32bit_host(t);
  ORF(t, HOST_CR4, 1u << 17);
  return true;
}
static bool host_rip_high(struct tcase *t) { tcase_32bit_host(t); SETF(t, HOST_RIP, 1ull << 32); return true; }
static bool host_cr4_pae(struct tcase *t) { CLRF(t, HOST_CR4, 0x20); return true; }
static bool host_rip_canonical(struct tcase *t) { SETF(t, HOST_RIP, NONCANON); return true; }

/* ---- Guest registers ---- */
static bool guest_cr0_fixed(struct tcase *t) { CLRF(t, GUEST_CR0, 0x20); return true; }
static bool guest_pg_without_pe(struct tcase *t)
{
  if (!HAS(UNRESTRICTED_GUEST)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
  CLRF(t, GUEST_CR0, 1);
  return true;
}
static bool guest_cr4_fixed(struct tcase *t) { CLRF(t, GUEST_CR4, 0x2000); return true; }
static bool guest_debugctl(struct tcase *t)
{
  ORF(t, VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS);
  SETF(t, GUEST_IA32_DEBUGCTL, 1u << 2);
  return true;
}
static bool guest_ia32e_pg(struct tcase *t)
{
  if (!HAS(UNRESTRICTED_GUEST)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
  CLRF(t, GUEST_CR0, 1u << 31);
  return true;
}
static bool guest_ia32e_pae(struct tcase *t) { CLRF(t, GUEST_CR4, 0x20); return true; }
static bool guest_pcide(struct tcase *t)
{
  if (!(t->caps->cr4_fixed1 & (1u << 17))) return false;
  tcase_32bit_guest(t);
  ORF(t, GUEST_CR4, 1u << 17);
  return true;
}
static bool guest_cr3_reserved(struct tcase *t) { SETF(t, GUEST_CR3, 1ull << 45); return true; }
static bool guest_dr7_high(struct tcase *t)
{
  ORF(t, VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS);
  SETF(t, GUEST_DR7, (1ull << 32) | 0x400);
  return true;
}
static bool guest_sysenter_esp(struct tcase *t) { SETF(t, GUEST_SYSENTER_ESP, NONCANON); return true; }
static bool guest_sysenter_eip(struct tcase *t) { SETF(t, GUEST_SYSENTER_EIP, NONCANON); return true; }
static bool guest_perf_global(struct tcase *t)
{
  ORF(t, VM_ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL);
  SETF(t, GUEST_IA32_PERF_GLOBAL_CTRL, 1ull << 40);
  return true;
}
static bool guest_pat(struct tcase *t)
{
  ORF(t, VM_ENTRY_CONTROLS, ENTRY_LOAD_PAT);
  SETF(t, GUEST_IA32_PAT, 0x0007040600070403ull);
  return true;
}
static bool guest_efer_reserved(struct tcase *t) { ORF(t, GUEST_IA32_EFER, 1u << 12); return true; }
static bool guest_efer_lma(struct tcase *t) { CLRF(t, GUEST_IA32_EFER, 1u << 10); return true; }
static bool guest_efer_lme(struct tcase *t) { CLRF(t, GUEST_IA32_EFER, 1u << 8); return true; }

/* ---- Guest segments ---- */
static bool tr_ti(struct tcase *t) { SETF(t, GUEST_TR_SELECTOR, 0x1C); return true; }
static bool ldtr_ti(struct tcase *t) { tcase_usable_ldtr(t); SETF(t, GUEST_LDTR_SELECTOR, 0x24); return true; }
static bool ss_rpl_cs_rpl(struct tcase *t) { SETF(t, GUEST_CS_SELECTOR, 0x0B); return true; }
static bool v86_base(struct tcase *t) { tcase_v86_guest(t); ORF(t, GUEST_DS_BASE, 1); return true; }
static bool v86_limit(struct tcase *t) { tcase_v86_guest(t); SETF(t, GUEST_DS_LIMIT, 0xFFFFF); return true; }
static bool v86_ar(struct tcase *t) { tcase_v86_guest(t); SETF(t, GUEST_DS_AR_BYTES, 0xF1); return true; }
static bool base_canonical(struct tcase *t) { SETF(t, GUEST_FS_BASE, NONCANON); return true; }
static bool ldtr_base_canonical(struct tcase *t) { tcase_usable_ldtr(t); SETF(t, GUEST_LDTR_BASE, NONCANON); return true; }
static bool cs_base_high(struct tcase *t) { SETF(t, GUEST_CS_BASE, 1ull << 32); return true; }
static bool seg_base_high(struct tcase *t) { SETF(t, GUEST_DS_BASE, 1ull << 32); return true; }
static bool cs_type(struct tcase *t) { SETF(t, GUEST_CS_AR_BYTES, 0xA093); return true; }
static bool ss_type(struct tcase *t) { SETF(t, GUEST_SS_AR_BYTES, 0xC091); return true; }
static bool data_seg_type(struct tcase *t) { SETF(t, GUEST_DS_AR_BYTES, 0xC092); return true; }
static bool seg_s(struct tcase *t) { CLRF(t, GUEST_DS_AR_BYTES, 1u << 4); return true; }
static bool cs_dpl(struct tcase *t) { ORF(t, GUEST_CS_AR_BYTES, 3u << 5); return true; }
static bool ss_dpl_rpl(struct tcase *t) { SETF(t, GUEST_CS_SELECTOR, 0x0B); SETF(t, GUEST_SS_SELECTOR, 0x13); return true; }
static bool ss_dpl_zero(struct tcase *t)
{
  if (!HAS(UNRESTRICTED_GUEST)) return false;
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
  SETF(t, GUEST_CS_AR_BYTES, 0xA093);
  ORF(t, GUEST_SS_AR_BYTES, 3u << 5);
  return true;
}
static bool data_dpl_rpl(struct tcase *t) { SETF(t, GUEST_DS_SELECTOR, 0x13); return true; }
static bool seg_p(struct tcase *t) { CLRF(t, GUEST_DS_AR_BYTES, 1u << 7); return true; }
static bool seg_ar_reserved(struct tcase *t) { ORF(t, GUEST_DS_AR_BYTES, 0x100); return true; }
static bool cs_l_d(struct tcase *t) { ORF(t, GUEST_CS_AR_BYTES, 1u << 14); return true; }
static bool seg_g_limit(struct tcase *t) { SETF(t, GUEST_DS_LIMIT, 0xFFFFF000); return true; }
static bool tr_type(struct tcase *t) { SETF(t, GUEST_TR_AR_BYTES, 0x83); return true; }
static bool tr_s(struct tcase *t) { ORF(t, GUEST_TR_AR_BYTES, 1u << 4); return true; }
static bool tr_p(struct tcase *t) { CLRF(t, GUEST_TR_AR_BYTES, 1u << 7); return true; }
static bool tr_ar_reserved(struct tcase *t) { ORF(t, GUEST_TR_AR_BYTES, 0x100); return true; }
static bool tr_g_limit(struct tcase *t) { ORF(t, GUEST_TR_AR_BYTES, 1u << 15); return true; }
static bool tr_unusable(struct tcase *t) { ORF(t, GUEST_TR_AR_BYTES, 1u << 16); return true; }
static bool ldtr_type(struct tcase *t) { tcase_usable_ldtr(t); SETF(t, GUEST_LDTR_AR_BYTES, 0x83); return true; }
static bool ldtr_s(struct tcase *t) { tcase_usable_ldtr(t); ORF(t, GUEST_LDTR_AR_BYTES, 1u << 4); return true; }
static bool ldtr_p(struct tcase *t) { tcase_usable_ldtr(t); CLRF(t, GUEST_LDTR_AR_BYTES, 1u << 7); return true; }
static bool ldtr_ar_reserved(struct tcase *t) { tcase_usable_ldtr(t); ORF(t, GUEST_LDTR_AR_BYTES, 0x100); return true; }
static bool ldtr_g_limit(struct tcase *t) { tcase_usable_ldtr(t); SETF(t, GUEST_LDTR_LIMIT, 0x1FFFFF); return true; }
static bool dtr_base_canonical(struct tcase *t) { SETF(t, GUEST_GDTR_BASE, NONCANON); return true; }
static bool dtr_limit_high(struct tcase *t) { SETF(t, GUEST_IDTR_LIMIT, 0x10000); return true; }

/* ---- Guest RIP and RFLAGS ---- */
static bool rip_high(struct tcase *t)
{
  SETF(t, GUEST_CS_AR_BYTES, 0x809B);           /* compatibility mode: L = 0 */
  SETF(t, GUEST_RIP, 1ull << 32);
  return true;
}
static bool rip_canonical(struct tcase *t) { SETF(t, GUEST_RIP, NONCANON); return true; }
static bool rflags_reserved(struct tcase *t) { SETF(t, GUEST_RFLAGS, 0); return true; }
static bool rflags_vm(struct tcase *t)
{
  if (!HAS(UNRESTRICTED_GUEST)) return false;
  tcase_v86_guest(t);
  ORF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
  CLRF(t, GUEST_CR0, (1u << 31) | 1);
  return true;
}
static bool rflags_if_extint(struct tcase *t) { INJECT(t, INTR_TYPE_EXT_INTR, 0x20); return true; }

/* ---- Guest non-register state ---- */
static bool activity_reserved(struct tcase *t) { SETF(t, GUEST_ACTIVITY_STATE, 4); return true; }
static bool activity_hlt_ss_dpl(struct tcase *t)
{
  SETF(t, GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
  SETF(t, GUEST_CS_SELECTOR, 0x0B);
  SETF(t, GUEST_SS_SELECTOR, 0x13);
  SETF(t, GUEST_CS_AR_BYTES, 0xA0FB);
  SETF(t, GUEST_SS_AR_BYTES, 0xC0F3);
  return true;
}
static bool activity_blocking(struct tcase *t)
{
  SETF(t, GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
  return true;
}
static bool activity_event_blocked(struct tcase *t)
{
  SETF(t, GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN);
  ORF(t, GUEST_RFLAGS, 1u << 9);
  INJECT(t, INTR_TYPE_EXT_INTR, 0x20);
  return true;
}
static bool intr_state_reserved(struct tcase *t) { SETF(t, GUEST_INTERRUPTIBILITY_INFO, 1u << 4); return true; }
static bool sti_and_mov_ss(struct tcase *t)
{
  ORF(t, GUEST_RFLAGS, 1u << 9);
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
  return true;
}
static bool sti_if(struct tcase *t) { SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI); return true; }
static bool extint_blocking(struct tcase *t)
{
  ORF(t, GUEST_RFLAGS, 1u << 9);
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
  INJECT(t, INTR_TYPE_EXT_INTR, 0x20);
  return true;
}
static bool nmi_mov_ss(struct tcase *t)
{
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
  INJECT(t, INTR_TYPE_NMI, 2);
  return true;
}
static bool smi_outside_smm(struct tcase *t) { SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_SMI); return true; }
static bool vnmi_nmi_blocking(struct tcase *t)
{
  ORF(t, PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
  INJECT(t, INTR_TYPE_NMI, 2);
  return true;
}
static bool pending_dbg_reserved(struct tcase *t) { SETF(t, GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4); return true; }
static bool pending_bs_set(struct tcase *t)
{
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
  ORF(t, GUEST_RFLAGS, 1u << 8);
  return true;
}
static bool pending_bs_clear(struct tcase *t)
{
  SETF(t, GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
  SETF(t, GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14);
  return true;
}
static bool link_ptr_addr(struct tcase *t) { SETF(t, VMCS_LINK_POINTER, TPA_LINK_VMCS + 1); return true; }
static bool link_ptr_revision(struct tcase *t)
{
  SETF(t, VMCS_LINK_POINTER, TPA_LINK_VMCS);
  tmem_put64(t, TPA_LINK_VMCS, BASIC_REVISION(t->caps->basic) + 1);
  return true;
}
static bool link_ptr_shadow(struct tcase *t)
{
  SETF(t, VMCS_LINK_POINTER, TPA_LINK_VMCS);
  tmem_put64(t, TPA_LINK_VMCS, BASIC_REVISION(t->caps->basic) | (1u << 31));
  return true;
}
static bool pdpte_ept(struct tcase *t) { tcase_32bit_guest(t); SETF(t, GUEST_PDPTE0, 0x7); return true; }
static bool pdpte_mem(struct tcase *t)
{
  tcase_32bit_guest(t);
  CLRF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
  tmem_put64(t, TPA_GUEST_CR3 + 8, 0x21);       /* P with reserved bit 5 */
  return true;
}

/* ---- MSR loading ---- */
static bool msrload_reserved(struct tcase *t) { msr_list(t, 2); msr_entry(t, 1, (1ull << 32) | 0x175, 0); return true; }
static bool msrload_fs_gs(struct tcase *t) { msr_list(t, 1); msr_entry(t, 0, 0xC0000100, 0); return true; }
static bool msrload_x2apic(struct tcase *t) { msr_list(t, 3); msr_entry(t, 2, 0x808, 0); return true; }
static bool msrload_smm_only(struct tcase *t) { msr_list(t, 2); msr_entry(t, 1, MSR_IA32_SMM_MONITOR_CTL, 0); return true; }
static bool msrload_model_specific(struct tcase *t) { msr_list(t, 1); msr_entry(t, 0, MSR_IA32_BIOS_UPDT_TRIG, 0); return true; }
static bool msrload_wrmsr(struct tcase *t) { msr_list(t, 2); msr_entry(t, 1, 0x10, 5); t->bad_msr = 0x10; return true; }

#define N(id, fn) { VMX_ENTRY_##id, fn, VMX_ENTRY_OK, -1 }
const struct neg_case neg_cases[] = {
  N(CTLS_PIN_RESERVED, pin_reserved),
  N(CTLS_PROC_RESERVED, proc_reserved),
  N(CTLS_PROC2_RESERVED, proc2_reserved),
  N(CTLS_CR3_TARGET_COUNT, cr3_target_count),
  N(CTLS_IO_BITMAP_ADDR, io_bitmap_addr),
  N(CTLS_MSR_BITMAP_ADDR, msr_bitmap_addr),
  N(CTLS_VIRT_APIC_ADDR, virt_apic_addr),
  N(CTLS_TPR_THRESHOLD_RESERVED, tpr_threshold_reserved),
  N(CTLS_TPR_THRESHOLD_VTPR, tpr_threshold_vtpr),
  N(CTLS_VNMI_WITHOUT_NMI_EXITING, vnmi_without_nmi_exiting),
  N(CTLS_NMI_WINDOW_WITHOUT_VNMI, nmi_window_without_vnmi),
  N(CTLS_APIC_ACCESS_ADDR, apic_access_addr),
  N(CTLS_APIC_VIRT_WITHOUT_TPR_SHADOW, apic_virt_without_tpr_shadow),
  N(CTLS_X2APIC_AND_APIC_ACCESS, x2apic_and_apic_access),
  N(CTLS_VID_WITHOUT_EXT_INT_EXITING, vid_without_ext_int_exiting),
  N(CTLS_VPID_ZERO, vpid_zero),
  N(CTLS_EPTP_MEMTYPE, eptp_memtype),
  N(CTLS_EPTP_WALK_LENGTH, eptp_walk_length),
  N(CTLS_EPTP_AD, eptp_ad),
  N(CTLS_EPTP_RESERVED, eptp_reserved),
  N(CTLS_PML_WITHOUT_EPT, pml_without_ept),
  N(CTLS_PML_ADDR, pml_addr),
  N(CTLS_UG_WITHOUT_EPT, ug_without_ept),
  N(CTLS_VMFUNC_RESERVED, vmfunc_reserved),
  N(CTLS_EPTP_SWITCHING_WITHOUT_EPT, eptp_switching_without_ept),
  N(CTLS_EPTP_LIST_ADDR, eptp_list_addr),
  N(CTLS_VMCS_SHADOW_BITMAP_ADDR, vmcs_shadow_bitmap_addr),
  N(CTLS_VE_INFO_ADDR, ve_info_addr),
  N(CTLS_EXIT_RESERVED, exit_reserved),
  N(CTLS_EXIT_SAVE_PREEMPT_WITHOUT_TIMER, exit_save_preempt),
  N(CTLS_EXIT_MSR_STORE_ADDR, exit_msr_store_addr),
  N(CTLS_EXIT_MSR_LOAD_ADDR, exit_msr_load_addr),
  N(CTLS_ENTRY_RESERVED, entry_reserved),
  N(CTLS_ENTRY_INTR_TYPE, intr_type),
  N(CTLS_ENTRY_INTR_NMI_VECTOR, intr_nmi_vector),
  N(CTLS_ENTRY_INTR_HW_EXC_VECTOR, intr_hw_exc_vector),
  N(CTLS_ENTRY_INTR_OTHER_VECTOR, intr_other_vector),
  N(CTLS_ENTRY_INTR_ERRCODE_REQUIRED, intr_errcode_required),
  N(CTLS_ENTRY_INTR_ERRCODE_FORBIDDEN, intr_errcode_forbidden),
  N(CTLS_ENTRY_INTR_RESERVED, intr_reserved),
  N(CTLS_ENTRY_EXC_ERRCODE_RESERVED, exc_errcode_reserved),
  N(CTLS_ENTRY_INTR_INSTR_LEN, intr_instr_len),
  N(CTLS_ENTRY_MSR_LOAD_ADDR, entry_msr_load_addr),
  N(CTLS_ENTRY_SMM_OUTSIDE_SMM, entry_smm),
  N(CTLS_ENTRY_DUAL_MONITOR_OUTSIDE_SMM, entry_dual_monitor),
  N(HOST_CR0_FIXED, host_cr0_fixed),
  N(HOST_CR4_FIXED, host_cr4_fixed),
  N(HOST_CR3_RESERVED, host_cr3_reserved),
  N(HOST_SYSENTER_ESP_CANONICAL, host_sysenter_esp),
  N(HOST_SYSENTER_EIP_CANONICAL, host_sysenter_eip),
  N(HOST_PERF_GLOBAL_RESERVED, host_perf_global),
  N(HOST_PAT_INVALID, host_pat),
  N(HOST_EFER_RESERVED, host_efer_reserved),
  N(HOST_EFER_LMA, host_efer_lma),
  N(HOST_EFER_LME, host_efer_lme),
  N(HOST_SEL_RPL_TI, host_sel_rpl_ti),
  N(HOST_CS_NULL, host_cs_null),
  N(HOST_TR_NULL, host_tr_null),
  N(HOST_SS_NULL, host_ss_null),
  N(HOST_BASE_CANONICAL, host_base_canonical),
  N(HOST_ADDR_SPACE_OUTSIDE_IA32E, host_outside_ia32e),
  N(HOST_ADDR_SPACE_IN_IA32E, host_in_ia32e),
  /* On a 64-bit CPU this check cannot fail alone: with a 32-bit host
   * address space and an IA-32e guest, the processor is either outside
   * IA-32e mode (which forbids the IA-32e guest first) or inside it (which
   * requires a 64-bit host first). */
  { VMX_ENTRY_HOST_IA32E_GUEST_32BIT_HOST, host_ia32e_guest_32bit_host, VMX_ENTRY_HOST_ADDR_SPACE_OUTSIDE_IA32E, -1 },
  N(HOST_CR4_PCIDE_32BIT, host_pcide_32bit),
  N(HOST_RIP_HIGH_32BIT, host_rip_high),
  N(HOST_CR4_PAE_64BIT, host_cr4_pae),
  N(HOST_RIP_CANONICAL, host_rip_canonical),
  N(GUEST_CR0_FIXED, guest_cr0_fixed),
  N(GUEST_CR0_PG_WITHOUT_PE, guest_pg_without_pe),
  N(GUEST_CR4_FIXED, guest_cr4_fixed),
  N(GUEST_DEBUGCTL_RESERVED, guest_debugctl),
  N(GUEST_IA32E_PG, guest_ia32e_pg),
  N(GUEST_IA32E_PAE, guest_ia32e_pae),
  N(GUEST_PCIDE_WITHOUT_IA32E, guest_pcide),
  N(GUEST_CR3_RESERVED, guest_cr3_reserved),
  N(GUEST_DR7_HIGH, guest_dr7_high),
  N(GUEST_SYSENTER_ESP_CANONICAL, guest_sysenter_esp),
  N(GUEST_SYSENTER_EIP_CANONICAL, guest_sysenter_eip),
  N(GUEST_PERF_GLOBAL_RESERVED, guest_perf_global),
  N(GUEST_PAT_INVALID, guest_pat),
  N(GUEST_EFER_RESERVED, guest_efer_reserved),
  N(GUEST_EFER_LMA, guest_efer_lma),
  N(GUEST_EFER_LME, guest_efer_lme),
  N(GUEST_TR_TI, tr_ti),
  N(GUEST_LDTR_TI, ldtr_ti),
  N(GUEST_SS_RPL_CS_RPL, ss_rpl_cs_rpl),
  N(GUEST_V86_BASE, v86_base),
  N(GUEST_V86_LIMIT, v86_limit),
  N(GUEST_V86_AR, v86_ar),
  N(GUEST_BASE_CANONICAL, base_canonical),
  N(GUEST_LDTR_BASE_CANONICAL, ldtr_base_canonical),
  N(GUEST_CS_BASE_HIGH, cs_base_high),
  N(GUEST_SEG_BASE_HIGH, seg_base_high),
  N(GUEST_CS_TYPE, cs_type),
  N(GUEST_SS_TYPE, ss_type),
  N(GUEST_DATA_SEG_TYPE, data_seg_type),
  N(GUEST_SEG_S, seg_s),
  N(GUEST_CS_DPL, cs_dpl),
  N(GUEST_SS_DPL_RPL, ss_dpl_rpl),
  N(GUEST_SS_DPL_ZERO, ss_dpl_zero),
  N(GUEST_DATA_DPL_RPL, data_dpl_rpl),
  N(GUEST_SEG_P, seg_p),
  N(GUEST_SEG_AR_RESERVED, seg_ar_reserved),
  N(GUEST_CS_L_D, cs_l_d),
  N(GUEST_SEG_G_LIMIT, seg_g_limit),
  N(GUEST_TR_TYPE, tr_type),
  N(GUEST_TR_S, tr_s),
  N(GUEST_TR_P, tr_p),
  N(GUEST_TR_AR_RESERVED, tr_ar_reserved),
  N(GUEST_TR_G_LIMIT, tr_g_limit),
  N(GUEST_TR_UNUSABLE, tr_unusable),
  N(GUEST_LDTR_TYPE, ldtr_type),
  N(GUEST_LDTR_S, ldtr_s),
  N(GUEST_LDTR_P, ldtr_p),
  N(GUEST_LDTR_AR_RESERVED, ldtr_ar_reserved),
  N(GUEST_LDTR_G_LIMIT, ldtr_g_limit),
  N(GUEST_DTR_BASE_CANONICAL, dtr_base_canonical),
  N(GUEST_DTR_LIMIT_HIGH, dtr_limit_high),
  N(GUEST_RIP_HIGH, rip_high),
  N(GUEST_RIP_CANONICAL, rip_canonical),
  N(GUEST_RFLAGS_RESERVED, rflags_reserved),
  N(GUEST_RFLAGS_VM, rflags_vm),
  N(GUEST_RFLAGS_IF_EXTINT, rflags_if_extint),
  N(GUEST_ACTIVITY_RESERVED, activity_reserved),
  N(GUEST_ACTIVITY_HLT_SS_DPL, activity_hlt_ss_dpl),
  N(GUEST_ACTIVITY_BLOCKING, activity_blocking),
  N(GUEST_ACTIVITY_EVENT_BLOCKED, activity_event_blocked),
  N(GUEST_INTR_RESERVED, intr_state_reserved),
  N(GUEST_INTR_STI_AND_MOV_SS, sti_and_mov_ss),
  N(GUEST_INTR_STI_IF, sti_if),
  N(GUEST_INTR_EXTINT_BLOCKING, extint_blocking),
  N(GUEST_INTR_NMI_MOV_SS, nmi_mov_ss),
  N(GUEST_INTR_SMI_OUTSIDE_SMM, smi_outside_smm),
  N(GUEST_INTR_VNMI_NMI_BLOCKING, vnmi_nmi_blocking),
  N(GUEST_PENDING_DBG_RESERVED, pending_dbg_reserved),
  N(GUEST_PENDING_DBG_BS_SET, pending_bs_set),
  N(GUEST_PENDING_DBG_BS_CLEAR, pending_bs_clear),
  N(GUEST_LINK_PTR_ADDR, link_ptr_addr),
  N(GUEST_LINK_PTR_REVISION, link_ptr_revision),
  N(GUEST_LINK_PTR_SHADOW, link_ptr_shadow),
  N(GUEST_PDPTE_RESERVED_EPT, pdpte_ept),
  N(GUEST_PDPTE_RESERVED_MEM, pdpte_mem),
  { VMX_ENTRY_MSRLOAD_FS_GS_BASE, msrload_fs_gs, VMX_ENTRY_OK, 1 },
  { VMX_ENTRY_MSRLOAD_X2APIC, msrload_x2apic, VMX_ENTRY_OK, 3 },
  { VMX_ENTRY_MSRLOAD_SMM_ONLY, msrload_smm_only, VMX_ENTRY_OK, 2 },
  { VMX_ENTRY_MSRLOAD_MODEL_SPECIFIC, msrload_model_specific, VMX_ENTRY_OK, 1 },
  { VMX_ENTRY_MSRLOAD_RESERVED, msrload_reserved, VMX_ENTRY_OK, 2 },
  { VMX_ENTRY_MSRLOAD_WRMSR_FAULT, msrload_wrmsr, VMX_ENTRY_OK, 2 },
};
const size_t neg_case_count = sizeof neg_cases / sizeof neg_cases[0];

static struct tcase g_case;
static struct vmx_entry_report g_report;

/* The architectural outcome a check's failure must produce. */
static bool outcome_matches(const struct vmx_entry_result *r, enum vmx_check_id id, long qual, char *why, size_t len)
{
  const struct vmx_check_info *ci = &vmx_checks[id];
  unsigned err = 0;
  uint32_t reason = 0;
  uint64_t q = qual >= 0 ? (uint64_t)qual : ci->qual;
  switch (ci->outcome) {
  case VMX_OUTCOME_CTLS: err = 7; q = 0; break;
  case VMX_OUTCOME_HOST: err = 8; q = 0; break;
  case VMX_OUTCOME_GUEST: reason = 0x80000000u | 33; break;
  case VMX_OUTCOME_MSR: reason = 0x80000000u | 34; break;
  }
  if (r->vm_instruction_error == err && r->exit_reason == reason && r->exit_qual == q) return true;
  snprintf(why, len, "outcome: error %u reason %#x qual %llu, want error %u reason %#x qual %llu",
           r->vm_instruction_error, r->exit_reason, (unsigned long long)r->exit_qual, err, reason,
           (unsigned long long)q);
  return false;
}

bool neg_case_holds(const struct neg_case *n, char *why, size_t len)
{
  int applied = 0;
  for (int m = 0; vmx_cpu_models[m]; m++) {
    struct tcase *t = &g_case;
    tcase_baseline(t, vmx_cpu_models[m]);
    if (!n->mutate(t)) continue;
    applied++;
    const char *model = t->caps->name;
    vmx_entry_check_all(&t->v, &t->env, &g_report);
    unsigned want = n->also != VMX_ENTRY_OK ? 2 : 1;
    bool has_id = false, has_also = n->also == VMX_ENTRY_OK;
    for (unsigned i = 0; i < g_report.count; i++) {
      has_id |= g_report.fail[i].id == n->id;
      has_also |= g_report.fail[i].id == n->also;
    }
    if (g_report.count != want || !has_id || !has_also) {
      snprintf(why, len, "%s: %u failing checks, first %s (%s)", model, g_report.count,
               g_report.count ? vmx_checks[g_report.fail[0].id].name : "none",
               g_report.count ? g_report.fail[0].msg : "");
      return false;
    }
    struct vmx_entry_result r;
    enum vmx_check_id first = n->also != VMX_ENTRY_OK ? n->also : n->id;
    if (vmx_entry_check(&t->v, &t->env, &r) || r.id != first) {
      snprintf(why, len, "%s: first failing check %s, want %s", model, vmx_checks[r.id].name, vmx_checks[first].name);
      return false;
    }
    if (!r.msg[0]) {
      snprintf(why, len, "%s: empty message", model);
      return false;
    }
    if (!outcome_matches(&r, first, n->also != VMX_ENTRY_OK ? -1 : n->qual, why, len)) return false;
  }
  if (applied) return true;
  snprintf(why, len, "no CPU model can express this case");
  return false;
}
