/* Conformance of the VM-exit rules of the VMX model (SDM Vol. 3C, chapter
 * "VMX Non-Root Operation": "Instructions That Cause VM Exits
 * Unconditionally", "Instructions That Cause VM Exits Conditionally",
 * "Exceptions"; chapter "VM Exits": the exit qualifications and
 * information fields). Every rule has a case where it exits and one where
 * it does not. `--covers` prints "exit N" for each modelled exit reason a
 * passing scenario produces (vmx-coverage). */
#include "conformance/covers.h"

#include <stdio.h>
#include <string.h>

#include "models/vmx/caps.h"
#include "models/vmx/vmx_exit.h"
#include "models/vmx/vmx_bits.h"

#define MEM_SIZE 0x4000
#define PA_IO_A 0x1000
#define PA_IO_B 0x2000
#define PA_MSR_BITMAP 0x3000

static uint8_t mem[MEM_SIZE];
static struct vmcs v;

static bool mread(void *ctx, uint64_t pa, void *buf, size_t len)
{
  (void)ctx;
  if (pa >= MEM_SIZE || len > MEM_SIZE - pa) return false;
  memcpy(buf, mem + pa, len);
  return true;
}
static const struct vmx_mem_ops ops = { .read = mread };

static void set(enum vmcs_field f, uint64_t value) { vmcs_set(&v, f, value); }
static void reset(void)
{
  memset(&v, 0, sizeof v);
  memset(mem, 0, sizeof mem);
  set(VMCSI_IO_BITMAP_A, PA_IO_A);
  set(VMCSI_IO_BITMAP_B, PA_IO_B);
  set(VMCSI_MSR_BITMAP, PA_MSR_BITMAP);
}
static void set_bit(uint64_t base, uint32_t bit) { mem[base + bit / 8] |= (uint8_t)(1u << (bit & 7)); }

/* ---- instructions ------------------------------------------------------- */

struct insn_rule { enum vmx_insn_kind kind; unsigned reason; int ctl; uint32_t bit; const char *name; };
static const struct insn_rule insn_rules[] = {
#define ALWAYS 0
#define PROC 1
#define PROC2 2
#define X(kind, rsn, ctl, bit) { VMX_KIND_##kind, VMX_EXIT_##rsn, ctl, bit, #kind },
  VMX_INSN_EXIT_RULES(X)
#undef X
#undef ALWAYS
#undef PROC
#undef PROC2
};
#define INSN_RULES (sizeof insn_rules / sizeof insn_rules[0])

/* The extra secondary control RDTSCP and INVPCID also need. */
static uint32_t companion(enum vmx_insn_kind k)
{
  return k == VMX_KIND_RDTSCP ? PROC2_ENABLE_RDTSCP : k == VMX_KIND_INVPCID ? PROC2_ENABLE_INVPCID : 0;
}

/* With every control clear only the unconditional instructions exit; with
 * exactly its control set (secondary controls activated), each does, with
 * its reason. */
static bool insn_rule_holds(const struct insn_rule *r)
{
  unsigned reason = 0;
  reset();
  bool exits = vmx_insn_exits(&v, r->kind, &reason);
  if (exits != (r->ctl == 0)) return false;
  if (r->ctl == 0) return reason == r->reason;
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, (r->ctl == 1 ? r->bit : 0) | PROC_SECONDARY_CTLS);
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, (r->ctl == 2 ? r->bit : 0) | companion(r->kind));
  if (!vmx_insn_exits(&v, r->kind, &reason) || reason != r->reason) return false;
  /* Every other control set instead: no exit. */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, ~(r->ctl == 1 ? r->bit : 0));
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, ~(r->ctl == 2 ? r->bit : 0));
  return !vmx_insn_exits(&v, r->kind, &reason);
}

static void vmx_insn_exit_controls_each_exit_only_when_set(void **state)
{
  (void)state;
  for (size_t i = 0; i < INSN_RULES; i++)
    if (!insn_rule_holds(&insn_rules[i])) fail_msg("exit rule of %s does not hold", insn_rules[i].name);
}

static void vmx_secondary_controls_ignored_without_activation(void **state)
{
  (void)state;
  unsigned reason;
  reset();
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, PROC2_WBINVD_EXITING | PROC2_RDRAND_EXITING);
  assert_false(vmx_insn_exits(&v, VMX_KIND_WBINVD, &reason));
  assert_false(vmx_insn_exits(&v, VMX_KIND_RDRAND, &reason));
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CTLS);
  assert_true(vmx_insn_exits(&v, VMX_KIND_WBINVD, &reason));
  assert_int_equal(reason, VMX_EXIT_WBINVD);
}

static void vmx_rdtscp_and_invpcid_need_their_enable_control(void **state)
{
  (void)state;
  unsigned reason;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_RDTSC_EXITING | PROC_INVLPG_EXITING | PROC_SECONDARY_CTLS);
  assert_false(vmx_insn_exits(&v, VMX_KIND_RDTSCP, &reason));
  assert_false(vmx_insn_exits(&v, VMX_KIND_INVPCID, &reason));
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID);
  assert_true(vmx_insn_exits(&v, VMX_KIND_RDTSCP, &reason));
  assert_int_equal(reason, VMX_EXIT_RDTSCP);
  assert_true(vmx_insn_exits(&v, VMX_KIND_INVPCID, &reason));
  assert_int_equal(reason, VMX_EXIT_INVPCID);
}

static void vmx_rdtscp_and_invpcid_raise_ud_without_their_enable_control(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CTLS | PROC_RDTSC_EXITING);
  assert_true(vmx_insn_ud_in_guest(&v, VMX_KIND_RDTSCP));
  assert_true(vmx_insn_ud_in_guest(&v, VMX_KIND_INVPCID));
  assert_false(vmx_insn_ud_in_guest(&v, VMX_KIND_RDTSC));
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID);
  assert_false(vmx_insn_ud_in_guest(&v, VMX_KIND_RDTSCP));
  assert_false(vmx_insn_ud_in_guest(&v, VMX_KIND_INVPCID));
  /* Secondary controls not activated: as if all were 0. */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_RDTSC_EXITING);
  assert_true(vmx_insn_ud_in_guest(&v, VMX_KIND_RDTSCP));
}

static void vmx_privilege_and_ud_faults_come_before_exits(void **state)
{
  (void)state;
  assert_false(vmx_fault_precedes_exit(VMX_KIND_HLT, 0, 0));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_HLT, 3, 0));
  /* MOV DR is the exception: its exit comes before the #GP at CPL > 0
   * and the #UD of DR4/DR5 with CR4.DE = 1. */
  assert_false(vmx_fault_precedes_exit(VMX_KIND_MOV_DR, 0, 0));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_MOV_DR, 3, CR4_DE));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_CPUID, 3, 0));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_XSETBV, 0, 0));                 /* CR4.OSXSAVE = 0: #UD */
  assert_false(vmx_fault_precedes_exit(VMX_KIND_XSETBV, 0, CR4_OSXSAVE));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_XSETBV, 3, CR4_OSXSAVE));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_RDPMC, 3, 0));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_RDPMC, 3, CR4_PCE));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_RDTSC, 3, 0));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_RDTSC, 3, CR4_TSD));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_RDTSC, 0, CR4_TSD));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_MWAIT, 3, 0));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_GETSEC, 0, 0));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_GETSEC, 0, CR4_SMXE));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_RDRAND, 3, 0));
}

/* ---- control registers ---------------------------------------------------- */

static void vmx_mov_to_cr0_exits_when_a_masked_bit_differs_from_shadow(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CR0_GUEST_HOST_MASK, CR0_PG | CR0_CD);
  set(VMCSI_CR0_READ_SHADOW, CR0_PG);
  assert_false(vmx_cr_access_exits(&v, 0, VMX_CR_MOV_TO, CR0_PG | CR0_PE));      /* unmasked PE differs */
  assert_true(vmx_cr_access_exits(&v, 0, VMX_CR_MOV_TO, CR0_PE));               /* masked PG differs */
  assert_true(vmx_cr_access_exits(&v, 0, VMX_CR_MOV_TO, CR0_PG | CR0_CD));      /* masked CD differs */
  assert_false(vmx_cr_access_exits(&v, 0, VMX_CR_MOV_FROM, 0));                 /* reads never exit */
}

static void vmx_mov_to_cr4_exits_when_a_masked_bit_differs_from_shadow(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CR4_GUEST_HOST_MASK, CR4_VMXE);
  set(VMCSI_CR4_READ_SHADOW, 0);
  assert_false(vmx_cr_access_exits(&v, 4, VMX_CR_MOV_TO, CR4_PAE));
  assert_true(vmx_cr_access_exits(&v, 4, VMX_CR_MOV_TO, CR4_PAE | CR4_VMXE));
}

static void vmx_mov_to_cr3_exits_unless_a_target_value_matches(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0x5000));             /* no CR3-load exiting */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_CR3_LOAD_EXITING);
  assert_true(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0x5000));
  set(VMCSI_CR3_TARGET_VALUE1, 0x5000);
  assert_true(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0x5000));              /* count 0: targets unused */
  set(VMCSI_CR3_TARGET_COUNT, 1);
  assert_true(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0x5000));              /* only target 0 counts */
  set(VMCSI_CR3_TARGET_COUNT, 2);
  assert_false(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0x5000));
  assert_true(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0x6000));
}

static void vmx_mov_from_cr3_and_cr8_follow_their_store_controls(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_FROM, 0));
  assert_false(vmx_cr_access_exits(&v, 8, VMX_CR_MOV_FROM, 0));
  assert_false(vmx_cr_access_exits(&v, 8, VMX_CR_MOV_TO, 0));
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_CR3_STORE_EXITING | PROC_CR8_STORE_EXITING);
  assert_true(vmx_cr_access_exits(&v, 3, VMX_CR_MOV_FROM, 0));
  assert_true(vmx_cr_access_exits(&v, 8, VMX_CR_MOV_FROM, 0));
  assert_false(vmx_cr_access_exits(&v, 8, VMX_CR_MOV_TO, 0));
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_CR8_LOAD_EXITING);
  assert_true(vmx_cr_access_exits(&v, 8, VMX_CR_MOV_TO, 0));
}

static void vmx_clts_exits_when_ts_owned_and_shadow_set(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CR0_GUEST_HOST_MASK, CR0_TS);
  assert_false(vmx_cr_access_exits(&v, 0, VMX_CR_CLTS, 0));
  set(VMCSI_CR0_READ_SHADOW, CR0_TS);
  assert_true(vmx_cr_access_exits(&v, 0, VMX_CR_CLTS, 0));
  set(VMCSI_CR0_GUEST_HOST_MASK, 0);
  assert_false(vmx_cr_access_exits(&v, 0, VMX_CR_CLTS, 0));
}

static void vmx_lmsw_exits_on_setting_owned_pe_or_changing_owned_mp_em_ts(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CR0_GUEST_HOST_MASK, CR0_PE | CR0_TS);
  set(VMCSI_CR0_READ_SHADOW, 0);
  assert_true(vmx_cr_access_exits(&v, 0, VMX_CR_LMSW, CR0_PE));
  assert_true(vmx_cr_access_exits(&v, 0, VMX_CR_LMSW, CR0_TS));
  assert_false(vmx_cr_access_exits(&v, 0, VMX_CR_LMSW, CR0_MP | CR0_EM));      /* not owned */
  /* LMSW cannot clear PE: a 0 source against a shadow of 1 does not exit. */
  set(VMCSI_CR0_READ_SHADOW, CR0_PE);
  assert_false(vmx_cr_access_exits(&v, 0, VMX_CR_LMSW, 0));
}

static void vmx_cr_access_qualification_layout(void **state)
{
  (void)state;
  /* MOV to CR3 from RBX (3): CR 3, type 0, register 3. */
  assert_int_equal(vmx_cr_qualification(3, VMX_CR_MOV_TO, 3, false, 0), 0x303);
  /* MOV from CR8 to R9: CR 8, type 1, register 9. */
  assert_int_equal(vmx_cr_qualification(8, VMX_CR_MOV_FROM, 9, false, 0), 0x918);
  assert_int_equal(vmx_cr_qualification(0, VMX_CR_CLTS, 0, false, 0), 0x20);
  /* LMSW from memory with source 0x000B: type 3, bit 6, data in 31:16. */
  assert_int_equal(vmx_cr_qualification(0, VMX_CR_LMSW, 0, true, 0xB), 0x000B0070);
  assert_int_equal(vmx_cr_qualification(0, VMX_CR_LMSW, 0, false, 0x1), 0x00010030);
}

static void vmx_mov_dr_qualification_layout(void **state)
{
  (void)state;
  assert_int_equal(vmx_dr_qualification(7, false, 0), 0x7);      /* MOV to DR7 from RAX */
  assert_int_equal(vmx_dr_qualification(6, true, 15), 0xF16);    /* MOV from DR6 to R15 */
}

static void vmx_cr_reads_see_shadow_and_writes_keep_owned_bits(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CR0_GUEST_HOST_MASK, CR0_NE);
  set(VMCSI_CR0_READ_SHADOW, 0);
  assert_int_equal(vmx_cr_read_shadowed(&v, 0, CR0_PE | CR0_NE), CR0_PE);
  assert_int_equal(vmx_cr_write_masked(&v, 0, CR0_NE, CR0_PE), CR0_PE | CR0_NE);
  assert_int_equal(vmx_cr_read_shadowed(&v, 3, 0x1234), 0x1234);                 /* CR3 unaffected */
  set(VMCSI_CR0_GUEST_HOST_MASK, 0);
  assert_int_equal(vmx_cr_read_shadowed(&v, 0, CR0_PE | CR0_NE), CR0_PE | CR0_NE);
}

/* ---- I/O ---------------------------------------------------------------- */

static void vmx_io_unconditional_exiting_without_bitmaps(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_io_exits(&v, &ops, 0x80, 1));
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_UNCOND_IO_EXITING);
  assert_true(vmx_io_exits(&v, &ops, 0x80, 1));
}

static void vmx_io_bitmaps_decide_and_override_unconditional_exiting(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS | PROC_UNCOND_IO_EXITING);
  assert_false(vmx_io_exits(&v, &ops, 0x80, 1));              /* bitmaps clear: no exit */
  set_bit(PA_IO_A, 0x81);
  assert_false(vmx_io_exits(&v, &ops, 0x80, 1));
  assert_true(vmx_io_exits(&v, &ops, 0x80, 2));               /* a 2-byte access covers 81H */
  set_bit(PA_IO_B, 0x8001 - 0x8000);
  assert_true(vmx_io_exits(&v, &ops, 0x8001, 1));             /* bitmap B */
  assert_false(vmx_io_exits(&v, &ops, 0x8002, 4));
}

static void vmx_io_wrapping_access_exits(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS);
  assert_false(vmx_io_exits(&v, &ops, 0xFFFC, 4));
  assert_true(vmx_io_exits(&v, &ops, 0xFFFE, 4));
}

static void vmx_io_qualification_layout(void **state)
{
  (void)state;
  assert_int_equal(vmx_io_qualification(1, false, false, false, true, 0x80), 0x00800040);   /* OUT imm8, AL */
  assert_int_equal(vmx_io_qualification(2, true, false, false, false, 0x3F8), 0x03F80009);  /* IN AX, DX */
  assert_int_equal(vmx_io_qualification(4, true, true, true, false, 0x60), 0x0060003B);     /* REP INSD */
}

/* ---- MSRs --------------------------------------------------------------- */

static void vmx_msr_access_exits_without_bitmaps(void **state)
{
  (void)state;
  reset();
  assert_true(vmx_msr_exits(&v, &ops, 0x10, false));
  assert_true(vmx_msr_exits(&v, &ops, 0x10, true));
}

static void vmx_msr_bitmaps_select_by_range_and_direction(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_MSR_BITMAPS);
  assert_false(vmx_msr_exits(&v, &ops, 0x10, false));
  set_bit(PA_MSR_BITMAP, 0x10);                              /* read, low MSRs */
  assert_true(vmx_msr_exits(&v, &ops, 0x10, false));
  assert_false(vmx_msr_exits(&v, &ops, 0x10, true));
  set_bit(PA_MSR_BITMAP + 3072, 0x80);                       /* write, high MSRs: C0000080H */
  assert_true(vmx_msr_exits(&v, &ops, 0xC0000080u, true));
  assert_false(vmx_msr_exits(&v, &ops, 0xC0000080u, false));
  assert_false(vmx_msr_exits(&v, &ops, 0x80, true));
}

static void vmx_msr_outside_bitmap_ranges_always_exits(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_MSR_BITMAPS);
  assert_true(vmx_msr_exits(&v, &ops, 0x2000, false));
  assert_true(vmx_msr_exits(&v, &ops, 0xC0002000u, true));
  assert_true(vmx_msr_exits(&v, &ops, 0x40000000u, false));
}

/* ---- exceptions --------------------------------------------------------- */

static void vmx_exception_bitmap_selects_vectors(void **state)
{
  (void)state;
  reset();
  set(VMCSI_EXCEPTION_BITMAP, 1u << 6);
  assert_true(vmx_exception_exits(&v, 6, 0));
  assert_false(vmx_exception_exits(&v, 13, 0));
  assert_false(vmx_exception_exits(&v, 32, 0));              /* INT n vectors are not exceptions */
}

static void vmx_page_fault_exits_by_error_code_mask_and_match(void **state)
{
  (void)state;
  reset();
  set(VMCSI_EXCEPTION_BITMAP, 1u << 14);
  set(VMCSI_PAGE_FAULT_ERROR_CODE_MASK, 0x2u);
  set(VMCSI_PAGE_FAULT_ERROR_CODE_MATCH, 0x2u);
  assert_true(vmx_exception_exits(&v, 14, 0x3));             /* write fault matches */
  assert_false(vmx_exception_exits(&v, 14, 0x1));            /* read fault does not */
  set(VMCSI_EXCEPTION_BITMAP, 0);                            /* bit 14 clear inverts the sense */
  assert_false(vmx_exception_exits(&v, 14, 0x3));
  assert_true(vmx_exception_exits(&v, 14, 0x1));
}

static void vmx_exception_exit_information(void **state)
{
  (void)state;
  reset();
  set(VMCSI_EXCEPTION_BITMAP, (1u << 14) | (1u << 3) | (1u << 13));
  struct vmx_exit_info e;
  struct vmx_event pf = { .vector = 14, .has_error = true, .error = 0x2, .protected_mode = true, .fault_address = 0xdead000 };
  assert_true(vmx_exception_exit(&v, &pf, &e));
  assert_int_equal(e.reason, VMX_EXIT_EXCEPTION_NMI);
  assert_int_equal(e.intr_info, 0x80000B0E);                 /* valid, error code, hardware exception, 14 */
  assert_int_equal(e.intr_error, 2);
  assert_int_equal(e.qualification, 0xdead000);
  struct vmx_event bp = { .vector = 3, .sw_exception = true, .insn_len = 1, .protected_mode = true };
  assert_true(vmx_exception_exit(&v, &bp, &e));
  assert_int_equal(e.intr_info, 0x80000603);                 /* software exception */
  assert_int_equal(e.insn_len, 1);
  /* Real-mode (unrestricted) guests get no error code. */
  struct vmx_event gp = { .vector = 13, .has_error = true, .error = 0, .protected_mode = false };
  assert_true(vmx_exception_exit(&v, &gp, &e));
  assert_int_equal(e.intr_info, 0x8000030D);
  struct vmx_event ud = { .vector = 6, .protected_mode = true };
  assert_false(vmx_exception_exit(&v, &ud, &e));
}

/* INT1 (ICEBP) is a privileged software exception (SDM Vol. 3C,
 * "Exceptions" in "VMX Non-Root Operation"; "Basic VM-Exit Information"):
 * with bit 1 of the exception bitmap it exits with interruption type 5 and
 * its instruction length, and the #DB qualification is 0 (INT1 sets none
 * of B3-B0, BD, BS). A hardware #DB is type 3 without a length. */
static void vmx_exception_exit_icebp_is_privileged_software_exception(void **state)
{
  (void)state;
  reset();
  set(VMCSI_EXCEPTION_BITMAP, 1u << 1);
  struct vmx_exit_info e;
  struct vmx_event icebp = { .vector = 1, .priv_sw_exception = true, .insn_len = 1, .protected_mode = true };
  assert_true(vmx_exception_exit(&v, &icebp, &e));
  assert_int_equal(e.reason, VMX_EXIT_EXCEPTION_NMI);
  assert_int_equal(e.intr_info, 0x80000501);                 /* valid, type 5, vector 1, no error code */
  assert_int_equal(e.insn_len, 1);
  assert_int_equal(e.qualification, 0);
  struct vmx_event hw_db = { .vector = 1, .protected_mode = true };
  assert_true(vmx_exception_exit(&v, &hw_db, &e));
  assert_int_equal(e.intr_info, 0x80000301);                 /* hardware exception */
  assert_int_equal(e.insn_len, 0);
  set(VMCSI_EXCEPTION_BITMAP, 1u << 3);
  assert_false(vmx_exception_exit(&v, &icebp, &e));          /* bit 1 clear: delivered, no exit */
}

/* "Exit Qualification for Debug Exceptions": a hardware #DB that exits
 * reports its conditions (B3-B0, BD, BS); a single step is BS. */
static void vmx_exception_exit_debug_qualification_is_the_conditions(void **state)
{
  (void)state;
  reset();
  set(VMCSI_EXCEPTION_BITMAP, 1u << 1);
  struct vmx_exit_info e;
  struct vmx_event step = { .vector = 1, .protected_mode = true, .debug_conditions = VMX_DBG_BS | 0x10000 };
  assert_true(vmx_exception_exit(&v, &step, &e));
  assert_int_equal(e.intr_info, 0x80000301);
  assert_int_equal(e.qualification, VMX_DBG_BS);             /* bit 16 is no condition of the layout */
  struct vmx_event bp = { .vector = 1, .protected_mode = true, .debug_conditions = 0x2 };
  assert_true(vmx_exception_exit(&v, &bp, &e));
  assert_int_equal(e.qualification, 0x2);
  set(VMCSI_EXCEPTION_BITMAP, 0);
  assert_false(vmx_exception_exit(&v, &step, &e));
}

/* The conditions of a trap Unicorn raised, from DR6 before and after: BS
 * when newly set, or set (sticky) with TF = 1; not a stale BS with TF = 0;
 * B3-B0 as DR6 reports them now for the data and I/O breakpoints of DR7
 * (R/W0 = 01 is bits 17:16 = 01, R/W2 = 11 bits 25:24). */
static void vmx_debug_trap_conditions_from_dr6(void **state)
{
  (void)state;
  const uint64_t init = 0xFFFF0FF0, w0 = 0x400 | 1ull << 16, rw2 = 0x400 | 3ull << 24;
  assert_int_equal(vmx_debug_trap_conditions(init, init | VMX_DBG_BS, true, 0x400), VMX_DBG_BS);
  assert_int_equal(vmx_debug_trap_conditions(init | VMX_DBG_BS, init | VMX_DBG_BS, true, 0x400), VMX_DBG_BS);
  assert_int_equal(vmx_debug_trap_conditions(init | VMX_DBG_BS, init | VMX_DBG_BS, false, 0x400), 0);
  assert_int_equal(vmx_debug_trap_conditions(init | VMX_DBG_BS, init | VMX_DBG_BS | 0x4, false, rw2), 0x4);
  assert_int_equal(vmx_debug_trap_conditions(init, init | 0x1, false, w0), 0x1);
  assert_int_equal(vmx_debug_trap_conditions(init, init | 0x1 | VMX_DBG_BS, true, w0), 0x1 | VMX_DBG_BS);
}

/* An instruction breakpoint (R/Wn = 00) is a fault on the instruction it
 * names, never part of a trap: QEMU's single step reports B0 when DR0 is
 * the next RIP with R/W0 = 00 (DR7's reset value), and that B0 is not a
 * condition of the single-step trap. I/O breakpoints (R/Wn = 10) are. */
static void vmx_debug_trap_conditions_drop_instruction_breakpoints(void **state)
{
  (void)state;
  const uint64_t init = 0xFFFF0FF0;
  assert_int_equal(vmx_debug_trap_conditions(init, init | 0x1 | VMX_DBG_BS, true, 0x400), VMX_DBG_BS);
  assert_int_equal(vmx_debug_trap_conditions(init, init | 0x1, false, 0x401), 0);
  assert_int_equal(vmx_debug_trap_conditions(init, init | 0x8, false, 0x400 | 2ull << 28), 0x8);
  assert_int_equal(vmx_dr7_trap_breakpoints(0x400), 0);
  assert_int_equal(vmx_dr7_trap_breakpoints(0x400 | 1ull << 16 | 2ull << 20 | 3ull << 24), 0x7);
  assert_int_equal(vmx_dr7_trap_breakpoints(0xFFFF0400ull), 0xF);
}

/* "Saving Non-Register State": what an MTF exit that took priority over a
 * debug trap saves — BS, B3-B0 of data and I/O breakpoints, bit 12 only
 * for a matched data or I/O breakpoint DR7 enables (L0 is bit 0, G1 bit
 * 3; R/W0 bits 17:16, R/W1 bits 21:20). */
static void vmx_pending_dbg_of_trap_sets_enabled_bit(void **state)
{
  (void)state;
  const uint64_t w0 = 1ull << 16, rw1 = 3ull << 20;
  assert_int_equal(vmx_pending_dbg_of_trap(VMX_DBG_BS, 0x400), VMX_DBG_BS);
  assert_int_equal(vmx_pending_dbg_of_trap(VMX_DBG_BS | 0x1, 0x401 | w0), VMX_DBG_BS | 0x1 | VMX_DBG_ENABLED_BP);
  assert_int_equal(vmx_pending_dbg_of_trap(0x2, 0x408 | rw1), 0x2 | VMX_DBG_ENABLED_BP);
  assert_int_equal(vmx_pending_dbg_of_trap(0x2, 0x401 | w0 | rw1), 0x2);  /* B1 matched, only breakpoint 0 enabled */
}

/* "Guest Non-Register State", bit 12: "at least one data or I/O
 * breakpoint was met and was enabled" — an enabled instruction
 * breakpoint (R/W0 = 00, L0 = 1) neither sets it nor is saved as B0. */
static void vmx_pending_dbg_of_trap_ignores_instruction_breakpoints(void **state)
{
  (void)state;
  assert_int_equal(vmx_pending_dbg_of_trap(VMX_DBG_BS | 0x1, 0x401), VMX_DBG_BS);
  assert_int_equal(vmx_pending_dbg_of_trap(0x1, 0x401), 0);
  assert_int_equal(vmx_pending_dbg_of_trap(0x1, 0x402 | 2ull << 16), 0x1 | VMX_DBG_ENABLED_BP);  /* I/O, G0 */
}

/* "Delivery of Pending Debug Exceptions after VM Entry": valid pending
 * debug exceptions (BS or bit 12) become a #DB after a non-vectoring entry
 * without blocking by MOV SS; B3-B0 alone are not valid ones. */
static void vmx_pending_dbg_at_entry_rules(void **state)
{
  (void)state;
  reset();
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, VMX_DBG_BS);
  assert_int_equal(vmx_pending_dbg_at_entry(&v, false, false), VMX_DBG_BS);
  assert_int_equal(vmx_pending_dbg_at_entry(&v, true, false), 0);     /* vectoring entry */
  assert_int_equal(vmx_pending_dbg_at_entry(&v, false, true), 0);     /* held by MOV SS */
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, 0x1 | VMX_DBG_ENABLED_BP);
  assert_int_equal(vmx_pending_dbg_at_entry(&v, false, false), 0x1);
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, 0x1);
  assert_int_equal(vmx_pending_dbg_at_entry(&v, false, false), 0);
  assert_int_equal(vmx_dr6_after_delivery(0xFFFF0FF0, VMX_DBG_BS | 0x1), 0xFFFF4FF1);
}

/* "Monitor Trap Flag": a REP string instruction is complete when its
 * count register, as wide as the address size, is 0; while it is not,
 * the MTF exit after an iteration leaves RIP at the instruction. */
static void vmx_mtf_rep_complete_by_address_size(void **state)
{
  (void)state;
  assert_true(vmx_mtf_rep_complete(64, 0));
  assert_false(vmx_mtf_rep_complete(64, 1));
  assert_false(vmx_mtf_rep_complete(64, 1ull << 32));
  assert_true(vmx_mtf_rep_complete(32, 1ull << 32));
  assert_false(vmx_mtf_rep_complete(32, 0x10000));
  assert_true(vmx_mtf_rep_complete(16, 0x10000));
  assert_false(vmx_mtf_rep_complete(16, 0x1));
}

/* "Delivery of Pending Debug Exceptions after VM Entry": blocking by MOV
 * SS holds valid pending debug exceptions (the field's B3-B0, bit 12, BS)
 * for after the first guest instruction; nothing is held without the
 * blocking, on a vectoring entry, or when nothing valid is pending. */
static void vmx_pending_dbg_held_by_mov_ss(void **state)
{
  (void)state;
  reset();
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, 0x1 | VMX_DBG_ENABLED_BP);
  assert_int_equal(vmx_pending_dbg_held_at_entry(&v, false, true), 0x1 | VMX_DBG_ENABLED_BP);
  assert_int_equal(vmx_pending_dbg_held_at_entry(&v, false, false), 0);   /* delivered at once instead */
  assert_int_equal(vmx_pending_dbg_held_at_entry(&v, true, true), 0);     /* vectoring entry */
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, VMX_DBG_BS | 0x2);
  assert_int_equal(vmx_pending_dbg_held_at_entry(&v, false, true), VMX_DBG_BS | 0x2);
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, 0x2);
  assert_int_equal(vmx_pending_dbg_held_at_entry(&v, false, true), 0);    /* B1 alone is not valid */
}

/* ---- PAUSE-loop exiting (SDM Vol. 3C, "Instructions That Cause VM Exits
 * Conditionally", PAUSE) ------------------------------------------------ */

static void ple_controls(uint32_t gap, uint32_t window)
{
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CTLS);
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, PROC2_PAUSE_LOOP_EXITING);
  set(VMCSI_PLE_GAP, gap);
  set(VMCSI_PLE_WINDOW, window);
}

/* PAUSEs closer than PLE_Gap form one loop; the first PAUSE more than
 * PLE_Window after the loop's first exits ("exceeds": equal does not). */
static void vmx_pause_loop_exits_once_window_exceeded_within_gap(void **state)
{
  (void)state;
  ple_controls(10, 100);
  struct vmx_pause_loop p = {0};
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 1000));      /* first after entry: first in a loop */
  assert_true(p.seen);
  assert_int_equal(1000, p.first);
  for (uint64_t t = 1010; t <= 1100; t += 10) {              /* gap exactly 10: not exceeded, same loop */
    assert_false(vmx_pause_loop_exits(&v, &p, 0, t));
    assert_int_equal(1000, p.first);
    assert_int_equal(t, p.last);
  }
  /* 1100 - 1000 = 100 was not more than the window; 1101 is. */
  assert_true(vmx_pause_loop_exits(&v, &p, 0, 1101));
}

/* A PAUSE more than PLE_Gap after the previous one starts a new loop: the
 * window counts from it, so a spin with pauses too far apart never exits
 * however long it lasts. */
static void vmx_pause_loop_gap_exceeded_starts_a_new_loop(void **state)
{
  (void)state;
  ple_controls(10, 100);
  struct vmx_pause_loop p = {0};
  for (uint64_t t = 0; t <= 90; t += 10) assert_false(vmx_pause_loop_exits(&v, &p, 0, t));
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 101));        /* 11 > gap: first in a new loop, not an exit */
  assert_int_equal(101, p.first);
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 111));        /* 111 - 0 > window, but the loop began at 101 */
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 201));        /* gap exceeded again (90): another new loop */
  assert_int_equal(201, p.first);
  for (uint64_t t = 211; t <= 301; t += 10) assert_false(vmx_pause_loop_exits(&v, &p, 0, t));
  assert_true(vmx_pause_loop_exits(&v, &p, 0, 302));         /* 101 after 201 */

  ple_controls(10, 0);
  p = (struct vmx_pause_loop){0};
  for (uint64_t t = 0; t < 100000; t += 11) assert_false(vmx_pause_loop_exits(&v, &p, 0, t));
}

/* The first PAUSE at CPL 0 after VM entry is the first in a loop whatever
 * the time since the last one; the same PAUSE with that state seen exits. */
static void vmx_pause_loop_first_pause_after_entry_never_exits(void **state)
{
  (void)state;
  ple_controls(1000, 0);
  struct vmx_pause_loop p = { .seen = false, .last = 500, .first = 0 };
  struct vmx_pause_loop q = p;
  q.seen = true;
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 501));
  assert_int_equal(501, p.first);
  assert_true(vmx_pause_loop_exits(&v, &q, 0, 501));         /* within the gap of 500, 501 after 0 */
  assert_true(vmx_pause_loop_exits(&v, &p, 0, 502));         /* now in a loop: window 0 exceeded */
}

/* The rule applies only at CPL 0, with "PAUSE exiting" 0 and the
 * secondary controls activated; otherwise it neither exits nor counts. */
static void vmx_pause_loop_ignored_at_cpl3_with_pause_exiting_or_inactive(void **state)
{
  (void)state;
  const struct vmx_pause_loop in_loop = { .seen = true, .last = 100, .first = 0 };
  struct vmx_pause_loop p;
  unsigned reason;
  ple_controls(1000, 0);
  p = in_loop;
  assert_true(vmx_pause_loop_exits(&v, &p, 0, 101));
  p = in_loop;
  assert_false(vmx_pause_loop_exits(&v, &p, 3, 101));
  assert_memory_equal(&in_loop, &p, sizeof p);
  /* "PAUSE exiting" wins: the exit is vmx_insn_exits's, at any CPL. */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CTLS | PROC_PAUSE_EXITING);
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 101));
  assert_memory_equal(&in_loop, &p, sizeof p);
  assert_true(vmx_insn_exits(&v, VMX_KIND_PAUSE, &reason));
  assert_int_equal(VMX_EXIT_PAUSE, reason);
  /* "PAUSE-loop exiting" without "activate secondary controls". */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, 0);
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 101));
  assert_false(vmx_insn_exits(&v, VMX_KIND_PAUSE, &reason));
  /* Nor with the control itself clear. */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CTLS);
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, 0);
  assert_false(vmx_pause_loop_exits(&v, &p, 0, 101));
  assert_memory_equal(&in_loop, &p, sizeof p);
}

/* "Exit Qualification for Task Switches": the TSS selector in 15:0, the
 * source in 31:30 (0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT); each
 * source gives a different qualification for the same selector. */
static void vmx_task_switch_qualification_layout(void **state)
{
  (void)state;
  struct vmx_exit_info e;
  const uint64_t expected[4] = { 0x0033, 0x40000033, 0x80000033, 0xC0000033 };
  for (unsigned src = VMX_TS_CALL; src <= VMX_TS_IDT_GATE; src++) {
    vmx_task_switch_exit(0x33, (enum vmx_task_switch_source)src, src == VMX_TS_IDT_GATE ? 0 : 5, &e);
    assert_int_equal(VMX_EXIT_TASK_SWITCH, e.reason);
    assert_int_equal(expected[src], e.qualification);
    assert_int_equal(src == VMX_TS_IDT_GATE ? 0 : 5, e.insn_len);
  }
  vmx_task_switch_exit(0xFFFB, VMX_TS_JMP, 7, &e);              /* all 16 selector bits, RPL and TI kept */
  assert_int_equal(0x8000FFFBu, e.qualification);
  assert_int_equal(0, e.intr_info);
  assert_int_equal(0, e.idt_info);
}

static void vmx_preemption_timer_of_zero_fires_at_entry(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_preemption_timer_fires_at_entry(&v));                  /* timer not active */
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
  assert_true(vmx_preemption_timer_fires_at_entry(&v));
  set(VMCSI_VMX_PREEMPTION_TIMER_VALUE, 1);
  assert_false(vmx_preemption_timer_fires_at_entry(&v));
}

/* GETSEC raises #UD when CR4.SMXE = 0 ("GETSEC—GetSec Leaf Functions"),
 * ahead of exit 11. No CPU model lets CR4.SMXE be 1 in VMX operation
 * (CR4_FIXED1 bit 14 is 0: none has SMX), so on every model the guest's
 * GETSEC raises #UD and exit 11 never occurs; with SMXE it would exit. */
static void vmx_getsec_raises_ud_on_models_without_smx(void **state)
{
  (void)state;
  unsigned reason;
  reset();
  for (int i = 0; vmx_cpu_models[i]; i++) {
    uint64_t widest_cr4 = vmx_cpu_models[i]->cr4_fixed1;
    assert_false(widest_cr4 & CR4_SMXE);
    assert_true(vmx_fault_precedes_exit(VMX_KIND_GETSEC, 0, widest_cr4));
  }
  assert_false(vmx_fault_precedes_exit(VMX_KIND_GETSEC, 0, CR4_SMXE));
  assert_true(vmx_insn_exits(&v, VMX_KIND_GETSEC, &reason));
  assert_int_equal(reason, VMX_EXIT_GETSEC);
}

/* IRET and NMI blocking ("Changes to Instruction Behavior in VMX Non-Root
 * Operation"): NMI exiting 0: IRET unblocks NMIs; NMI exiting 1 without
 * virtual NMIs: it does not; with virtual NMIs: it removes virtual-NMI
 * blocking. */
static void vmx_iret_unblocks_nmis_per_nmi_controls(void **state)
{
  (void)state;
  reset();
  assert_true(vmx_iret_unblocks_nmis(&v));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
  assert_false(vmx_iret_unblocks_nmis(&v));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
  assert_true(vmx_iret_unblocks_nmis(&v));
}

/* "NMI-Window Exiting": only with virtual NMIs and the control, and only
 * without virtual-NMI blocking and outside a MOV SS / STI shadow. */
static void vmx_nmi_window_opens_without_virtual_nmi_blocking(void **state)
{
  (void)state;
  reset();
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING);
  assert_false(vmx_nmi_window_open(&v, false, false));                     /* no virtual NMIs */
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
  assert_true(vmx_nmi_window_open(&v, false, false));
  assert_false(vmx_nmi_window_open(&v, true, false));                      /* virtual-NMI blocking */
  assert_false(vmx_nmi_window_open(&v, false, true));                      /* MOV SS / STI shadow */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, 0);
  assert_false(vmx_nmi_window_open(&v, false, false));                     /* control clear */
  struct vmx_exit_info e;
  vmx_nmi_window_exit(&e);
  assert_int_equal(e.reason, VMX_EXIT_NMI_WINDOW);
  assert_int_equal(e.qualification, 0);
}

/* Physical NMIs ("Pin-Based VM-Execution Controls", "Interruptibility
 * State" in chapter "VM Entries"): blocking by NMI holds an NMI unless
 * "virtual NMIs" makes the bit virtual-NMI blocking, under which NMIs are
 * not blocked in non-root operation; "NMI exiting" turns it into exit 0. */
static void vmx_nmi_held_by_blocking_unless_virtual_nmis(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_nmi_held(&v, false));
  assert_true(vmx_nmi_held(&v, true));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
  assert_true(vmx_nmi_held(&v, true));                          /* blocked for the whole of non-root operation */
  assert_false(vmx_nmi_held(&v, false));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
  assert_false(vmx_nmi_held(&v, true));                         /* the bit is virtual-NMI blocking */
}

static void vmx_nmi_exits_only_with_nmi_exiting(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_nmi_exits(&v));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);   /* another pin control */
  assert_false(vmx_nmi_exits(&v));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
  assert_true(vmx_nmi_exits(&v));
  /* "Information for VM Exits Due to Vectored Events": vector 2, type 2,
   * valid; no error code, no qualification. */
  struct vmx_exit_info e;
  vmx_nmi_exit(&e);
  assert_int_equal(e.reason, VMX_EXIT_EXCEPTION_NMI);
  assert_int_equal(e.intr_info, 0x80000202);
  assert_int_equal(e.intr_error, 0);
  assert_int_equal(e.qualification, 0);
  assert_int_equal(e.idt_info, 0);
}

/* "Updating Non-Register State": an exit caused by an NMI leaves blocking
 * by NMI; other exits leave it as it was (with "virtual NMIs" the bit was
 * virtual-NMI blocking and NMIs were not blocked: none). */
static void vmx_nmi_blocking_after_exit_by_cause(void **state)
{
  (void)state;
  reset();
  struct vmx_exit_info nmi, cpuid = { .reason = VMX_EXIT_CPUID }, hw_exc = { .reason = VMX_EXIT_EXCEPTION_NMI,
                                                                            .intr_info = 0x80000B0D };
  vmx_nmi_exit(&nmi);
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
  assert_true(vmx_nmi_blocking_after_exit(&v, false, &nmi));
  assert_false(vmx_nmi_blocking_after_exit(&v, false, &cpuid));
  assert_true(vmx_nmi_blocking_after_exit(&v, true, &cpuid));
  assert_false(vmx_nmi_blocking_after_exit(&v, false, &hw_exc));  /* reason 0 for #GP is no NMI */
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
  assert_true(vmx_nmi_blocking_after_exit(&v, false, &nmi));
  assert_false(vmx_nmi_blocking_after_exit(&v, true, &cpuid));
}

/* "Event Injection": an injected NMI blocks NMIs; other events do not. */
static void vmx_injected_nmi_blocks_nmis(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_injection_blocks_nmis(&v));
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_NMI << 8) | 2);
  assert_true(vmx_injection_blocks_nmis(&v));
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 2);
  assert_false(vmx_injection_blocks_nmis(&v));
  set(VMCSI_VM_ENTRY_INTR_INFO, (INTR_TYPE_NMI << 8) | 2);                    /* not valid */
  assert_false(vmx_injection_blocks_nmis(&v));
}

/* "NMI unblocking due to IRET": bit 12 of the exit interruption
 * information (exception exits) or of the qualification (EPT violations);
 * undefined, left 0, with NMI exiting and no virtual NMIs, with valid
 * IDT-vectoring information, for #DF. */
static void vmx_nmi_unblocking_due_to_iret_bit(void **state)
{
  (void)state;
  reset();
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
  struct vmx_exit_info e = { .reason = VMX_EXIT_EXCEPTION_NMI, .intr_info = 0x80000B0D };
  vmx_note_nmi_unblocking_by_iret(&v, &e);
  assert_int_equal(e.intr_info, 0x80001B0D);
  e = (struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x181 };
  vmx_note_nmi_unblocking_by_iret(&v, &e);
  assert_int_equal(e.qualification, 0x1181);
  e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI, .intr_info = 0x80000B08 };   /* #DF */
  vmx_note_nmi_unblocking_by_iret(&v, &e);
  assert_int_equal(e.intr_info, 0x80000B08);
  e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI, .intr_info = 0x80000B0D, .idt_info = 0x80000202 };
  vmx_note_nmi_unblocking_by_iret(&v, &e);
  assert_int_equal(e.intr_info, 0x80000B0D);
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);                      /* no virtual NMIs */
  e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI, .intr_info = 0x80000B0D };
  vmx_note_nmi_unblocking_by_iret(&v, &e);
  assert_int_equal(e.intr_info, 0x80000B0D);
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, 0);                                    /* NMI exiting 0: defined */
  vmx_note_nmi_unblocking_by_iret(&v, &e);
  assert_int_equal(e.intr_info, 0x80001B0D);
}

/* "Monitor Trap Flag": the control is the primary processor-based bit 27;
 * an MTF exit is pending right after VM entry when the entry injects a
 * vectored event with the control set, or injects a pending MTF VM exit
 * (type 7) even with the control clear; nothing is pending without an
 * injection. */
static void vmx_mtf_pending_after_entry_follows_injection(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_mtf_active(&v));
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
  assert_true(vmx_mtf_active(&v));
  assert_false(vmx_mtf_pending_after_entry(&v));                           /* no injection */
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 6);
  assert_true(vmx_mtf_pending_after_entry(&v));                            /* #UD injected */
  set(VMCSI_VM_ENTRY_INTR_INFO, (INTR_TYPE_HW_EXCEPTION << 8) | 6);         /* not valid */
  assert_false(vmx_mtf_pending_after_entry(&v));
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, 0);
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 6);
  assert_false(vmx_mtf_pending_after_entry(&v));                           /* control clear */
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_OTHER_EVENT << 8));
  assert_true(vmx_mtf_pending_after_entry(&v));                            /* pending MTF injected */
  struct vmx_exit_info e;
  vmx_mtf_exit(&e);
  assert_int_equal(e.reason, VMX_EXIT_MONITOR_TRAP_FLAG);
  assert_int_equal(e.qualification, 0);
  assert_int_equal(e.intr_info, 0);
}

/* "VMX-Preemption Timer": the timer counts down by 1 each time bit X of the
 * TSC changes, so it reaches 0 at ((start >> X) + value) << X. */
static void vmx_preemption_timer_counts_changes_of_tsc_bit_x(void **state)
{
  (void)state;
  /* X = 0: one count per TSC increment. */
  assert_int_equal(vmx_preemption_timer_expiry(1000, 50, 0), 1050);
  assert_int_equal(vmx_preemption_timer_value_at(1000, 50, 0, 1000), 50);
  assert_int_equal(vmx_preemption_timer_value_at(1000, 50, 0, 1049), 1);
  assert_int_equal(vmx_preemption_timer_value_at(1000, 50, 0, 1050), 0);
  assert_int_equal(vmx_preemption_timer_value_at(1000, 50, 0, 5000), 0);     /* stops at 0 */
  /* X = 5: bit 5 changes at multiples of 32, whatever the start. */
  assert_int_equal(vmx_preemption_timer_expiry(100, 2, 5), 160);
  assert_int_equal(vmx_preemption_timer_value_at(100, 2, 5, 127), 2);        /* no change of bit 5 yet */
  assert_int_equal(vmx_preemption_timer_value_at(100, 2, 5, 128), 1);
  assert_int_equal(vmx_preemption_timer_value_at(100, 2, 5, 159), 1);
  assert_int_equal(vmx_preemption_timer_value_at(100, 2, 5, 160), 0);
  /* 0 has expired at the start; a far expiry saturates instead of wrapping. */
  assert_true(vmx_preemption_timer_expiry(100, 0, 5) <= 100);
  assert_int_equal(vmx_preemption_timer_expiry(UINT64_MAX - 10, 0xFFFFFFFFu, 31), UINT64_MAX);
}

/* "Saving Non-Register State": the remaining value is stored only under
 * "save VMX-preemption timer value". */
static void vmx_preemption_timer_value_saved_only_with_its_exit_control(void **state)
{
  (void)state;
  reset();
  set(VMCSI_VMX_PREEMPTION_TIMER_VALUE, 1000);
  vmx_save_preemption_timer(&v, 321);
  assert_int_equal(vmcs_get(&v, VMCSI_VMX_PREEMPTION_TIMER_VALUE), 1000);
  set(VMCSI_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER);
  vmx_save_preemption_timer(&v, 321);
  assert_int_equal(vmcs_get(&v, VMCSI_VMX_PREEMPTION_TIMER_VALUE), 321);
}

static void vmx_exit_during_delivery_records_idt_vectoring_information(void **state)
{
  (void)state;
  struct vmx_exit_info e = { .reason = VMX_EXIT_EPT_VIOLATION };
  vmx_record_delivery(&e, 0x90, INTR_TYPE_SW_INTR, false, 0, 2);             /* INT 90H */
  assert_int_equal(e.idt_info, 0x80000490);
  assert_int_equal(e.insn_len, 2);
  e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI };
  vmx_record_delivery(&e, 14, INTR_TYPE_HW_EXCEPTION, true, 0x6, 0);        /* #PF with error code */
  assert_int_equal(e.idt_info, 0x80000B0E);
  assert_int_equal(e.idt_error, 6);
  assert_int_equal(e.insn_len, 0);                                           /* hardware: no length */
  vmx_record_delivery(&e, 13, INTR_TYPE_HW_EXCEPTION, false, 0x10, 0);      /* real mode: no error code */
  assert_int_equal(e.idt_info, 0x8000030D);
  assert_int_equal(e.idt_error, 0);
}

/* ---- EPT ---------------------------------------------------------------- */

static void vmx_ept_violation_records_linear_address_only_when_valid(void **state)
{
  (void)state;
  struct vmx_exit_info e;
  vmx_ept_violation_exit(0x181, 0x123456, 0x7000, &e);       /* read, linear valid, translation */
  assert_int_equal(e.reason, VMX_EXIT_EPT_VIOLATION);
  assert_int_equal(e.qualification, 0x181);
  assert_true(e.physical_valid);
  assert_int_equal(e.guest_physical, 0x123456);
  assert_true(e.linear_valid);
  assert_int_equal(e.guest_linear, 0x7000);
  vmx_ept_violation_exit(0x1, 0x123456, 0x7000, &e);
  assert_false(e.linear_valid);
  vmx_ept_misconfig_exit(0x999000, &e);
  assert_int_equal(e.reason, VMX_EXIT_EPT_MISCONFIG);
  assert_int_equal(e.guest_physical, 0x999000);
  assert_false(e.linear_valid);
}

/* ---- instruction information -------------------------------------------- */

static void vmx_instruction_information_layout(void **state)
{
  (void)state;
  /* vmptrld 0x10(%rax,%rcx,8): scale 3, 64-bit address, DS, index RCX, base RAX. */
  struct vmx_insn_operands o = { .scale = 8, .addr_size = 2, .segment = 3, .index = 1, .base = 0 };
  assert_int_equal(vmx_insn_info_encode(&o), 3u | (2u << 7) | (3u << 15) | (1u << 18) | (0u << 23));
  /* vmread %rbx, %r12: register form, reg1 = R12, reg2 = RBX. */
  struct vmx_insn_operands r = { .reg_form = true, .reg1 = 12, .reg2 = 3, .addr_size = 2, .index = -1, .base = -1 };
  assert_int_equal(vmx_insn_info_encode(&r), (12u << 3) | (2u << 7) | (1u << 10) | (3u << 28));
  /* No index, no base (absolute): both invalid bits. */
  struct vmx_insn_operands n = { .scale = 1, .addr_size = 2, .segment = 3, .index = -1, .base = -1 };
  assert_int_equal(vmx_insn_info_encode(&n) & ((1u << 22) | (1u << 27)), (1u << 22) | (1u << 27));
}

/* "... as Used for LIDT, LGDT, SIDT, or SGDT": lidt 8(%rsi) in 64-bit
 * mode with a 32-bit operand size; "... for LLDT, LTR, SLDT, and STR":
 * str %eax (register form) and lldt (%rbx,%rcx,2). */
static void vmx_descriptor_table_instruction_information_layout(void **state)
{
  (void)state;
  struct vmx_insn_operands lidt = { .scale = 1, .addr_size = 2, .segment = 3, .index = -1, .base = 6, .reg1 = 5 };
  assert_int_equal(vmx_desc_table_insn_info(&lidt, true, true, 3),
                   (2u << 7) | (1u << 11) | (3u << 15) | (1u << 22) | (6u << 23) | (3u << 28));
  assert_int_equal(vmx_desc_table_insn_info(&lidt, true, false, 0) & ((1u << 11) | (3u << 28)), 0);
  struct vmx_insn_operands str = { .reg_form = true, .reg1 = 0, .addr_size = 2, .index = -1, .base = -1 };
  assert_int_equal(vmx_desc_table_insn_info(&str, false, true, 1), (2u << 7) | (1u << 10) | (1u << 28));
  struct vmx_insn_operands lldt = { .scale = 2, .addr_size = 1, .segment = 3, .index = 1, .base = 3 };
  /* No operand-size bit for LDTR/TR even with a 32-bit operand size. */
  assert_int_equal(vmx_desc_table_insn_info(&lldt, false, true, 2),
                   1u | (1u << 7) | (3u << 15) | (1u << 18) | (3u << 23) | (2u << 28));
}

static void vmx_descriptor_table_faults_come_before_exits(void **state)
{
  (void)state;
  assert_true(vmx_fault_precedes_exit(VMX_KIND_GDTR_IDTR_LOAD, 3, 0));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_GDTR_IDTR_LOAD, 0, CR4_UMIP));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_LDTR_TR_LOAD, 1, 0));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_GDTR_IDTR_STORE, 3, 0));        /* no UMIP: exits at CPL 3 */
  assert_true(vmx_fault_precedes_exit(VMX_KIND_GDTR_IDTR_STORE, 3, CR4_UMIP));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_LDTR_TR_STORE, 0, CR4_UMIP));
  assert_true(vmx_fault_precedes_exit(VMX_KIND_LDTR_TR_STORE, 3, CR4_UMIP));
  assert_false(vmx_fault_precedes_exit(VMX_KIND_PAUSE, 3, CR4_UMIP));           /* PAUSE exits at any CPL */
}

/* ---- external interrupts and the interrupt window ------------------------ */

static void vmx_external_interrupt_exits_only_with_its_pin_control(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_external_interrupt_exits(&v));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);          /* another pin control */
  assert_false(vmx_external_interrupt_exits(&v));
  set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);
  assert_true(vmx_external_interrupt_exits(&v));
}

static void vmx_external_interrupt_exit_information_follows_acknowledge(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_exit_acknowledges_interrupt(&v));
  set(VMCSI_VM_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT);
  assert_true(vmx_exit_acknowledges_interrupt(&v));
  struct vmx_exit_info e;
  vmx_external_interrupt_exit(true, 0x20, &e);
  assert_int_equal(e.reason, VMX_EXIT_EXTERNAL_INTERRUPT);
  assert_int_equal(e.intr_info, 0x80000020u);                     /* vector, type 0, valid */
  assert_int_equal(e.qualification, 0);
  vmx_external_interrupt_exit(false, 0x20, &e);
  assert_int_equal(e.reason, VMX_EXIT_EXTERNAL_INTERRUPT);
  assert_int_equal(e.intr_info, 0);                               /* not acknowledged: invalid */
}

static void vmx_interrupt_window_opens_with_if_and_no_blocking(void **state)
{
  (void)state;
  reset();
  assert_false(vmx_interrupt_window_open(&v, RFLAGS_FIXED1 | RFLAGS_IF, false));   /* control 0 */
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_INTR_WINDOW_EXITING);
  assert_true(vmx_interrupt_window_open(&v, RFLAGS_FIXED1 | RFLAGS_IF, false));
  assert_false(vmx_interrupt_window_open(&v, RFLAGS_FIXED1, false));              /* IF = 0 */
  assert_false(vmx_interrupt_window_open(&v, RFLAGS_FIXED1 | RFLAGS_IF, true));   /* STI / MOV SS */
  struct vmx_exit_info e;
  vmx_interrupt_window_exit(&e);
  assert_int_equal(e.reason, VMX_EXIT_INTERRUPT_WINDOW);
  assert_int_equal(e.intr_info, 0);
}

/* ---- catalogue ---------------------------------------------------------- */

static void vmx_exit_reason_catalogue_names_and_numbers(void **state)
{
  (void)state;
  assert_string_equal(vmx_exit_reason_name(10), "CPUID");
  assert_string_equal(vmx_exit_reason_name(48), "EPT_VIOLATION");
  assert_string_equal(vmx_exit_reason_name(35), "UNKNOWN");   /* 35 is not a basic exit reason */
  for (unsigned i = 1; i < vmx_exit_reason_count; i++)
    assert_true(vmx_exit_reasons[i].number > vmx_exit_reasons[i - 1].number);
}

/* ---- coverage: each modelled exit reason produced by a passing scenario -- */

static bool produces(unsigned reason)
{
  for (size_t i = 0; i < INSN_RULES; i++)
    if (insn_rules[i].reason == reason && insn_rule_holds(&insn_rules[i])) return true;
  struct vmx_exit_info e;
  switch (reason) {
  case VMX_EXIT_EXCEPTION_NMI: {
    reset();
    set(VMCSI_EXCEPTION_BITMAP, 1u << 6);
    struct vmx_event ud = { .vector = 6, .protected_mode = true };
    return vmx_exception_exit(&v, &ud, &e) && e.reason == reason;
  }
  case VMX_EXIT_CR_ACCESS:
    reset();
    set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_CR3_LOAD_EXITING);
    return vmx_cr_access_exits(&v, 3, VMX_CR_MOV_TO, 0) && !vmx_cr_access_exits(&v, 0, VMX_CR_MOV_TO, 0);
  case VMX_EXIT_IO_INSTRUCTION:
    reset();
    set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_UNCOND_IO_EXITING);
    return vmx_io_exits(&v, &ops, 0x80, 1);
  case VMX_EXIT_RDMSR: case VMX_EXIT_WRMSR:
    reset();
    set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_MSR_BITMAPS);
    set_bit(PA_MSR_BITMAP + (reason == VMX_EXIT_WRMSR ? 2048 : 0), 0x10);
    return vmx_msr_exits(&v, &ops, 0x10, reason == VMX_EXIT_WRMSR) &&
           !vmx_msr_exits(&v, &ops, 0x10, reason != VMX_EXIT_WRMSR);
  case VMX_EXIT_NMI_WINDOW:
    reset();
    set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
    set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING);
    vmx_nmi_window_exit(&e);
    return vmx_nmi_window_open(&v, false, false) && !vmx_nmi_window_open(&v, true, false) && e.reason == reason;
  case VMX_EXIT_MONITOR_TRAP_FLAG:
    reset();
    set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
    vmx_mtf_exit(&e);
    return vmx_mtf_active(&v) && e.reason == reason && e.qualification == 0;
  case VMX_EXIT_PREEMPTION_TIMER:
    reset();
    set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
    if (!vmx_preemption_timer_fires_at_entry(&v)) return false;
    set(VMCSI_VMX_PREEMPTION_TIMER_VALUE, 5);
    return !vmx_preemption_timer_fires_at_entry(&v);
  case VMX_EXIT_EXTERNAL_INTERRUPT:
    reset();
    if (vmx_external_interrupt_exits(&v)) return false;
    set(VMCSI_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);
    vmx_external_interrupt_exit(false, 0x20, &e);
    return vmx_external_interrupt_exits(&v) && e.reason == reason && e.intr_info == 0;
  case VMX_EXIT_INTERRUPT_WINDOW:
    reset();
    set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, PROC_INTR_WINDOW_EXITING);
    vmx_interrupt_window_exit(&e);
    return vmx_interrupt_window_open(&v, RFLAGS_IF, false) && !vmx_interrupt_window_open(&v, 0, false) &&
           e.reason == reason;
  case VMX_EXIT_TASK_SWITCH:
    vmx_task_switch_exit(0x28, VMX_TS_JMP, 7, &e);
    return e.reason == reason && e.qualification == (0x28u | 2u << 30) && e.insn_len == 7;
  case VMX_EXIT_EPT_VIOLATION: vmx_ept_violation_exit(0x181, 1, 2, &e); return e.reason == reason;
  case VMX_EXIT_EPT_MISCONFIG: vmx_ept_misconfig_exit(1, &e); return e.reason == reason;
  default: return false;
  }
}

static void covered_exits(void)
{
  for (unsigned i = 0; i < vmx_exit_reason_count; i++)
    if (vmx_exit_reasons[i].modelled && produces(vmx_exit_reasons[i].number))
      printf("exit %u\n", vmx_exit_reasons[i].number);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(vmx_insn_exit_controls_each_exit_only_when_set),
    cmocka_unit_test(vmx_secondary_controls_ignored_without_activation),
    cmocka_unit_test(vmx_rdtscp_and_invpcid_need_their_enable_control),
    cmocka_unit_test(vmx_rdtscp_and_invpcid_raise_ud_without_their_enable_control),
    cmocka_unit_test(vmx_privilege_and_ud_faults_come_before_exits),
    cmocka_unit_test(vmx_mov_to_cr0_exits_when_a_masked_bit_differs_from_shadow),
    cmocka_unit_test(vmx_mov_to_cr4_exits_when_a_masked_bit_differs_from_shadow),
    cmocka_unit_test(vmx_mov_to_cr3_exits_unless_a_target_value_matches),
    cmocka_unit_test(vmx_mov_from_cr3_and_cr8_follow_their_store_controls),
    cmocka_unit_test(vmx_clts_exits_when_ts_owned_and_shadow_set),
    cmocka_unit_test(vmx_lmsw_exits_on_setting_owned_pe_or_changing_owned_mp_em_ts),
    cmocka_unit_test(vmx_cr_access_qualification_layout),
    cmocka_unit_test(vmx_mov_dr_qualification_layout),
    cmocka_unit_test(vmx_cr_reads_see_shadow_and_writes_keep_owned_bits),
    cmocka_unit_test(vmx_io_unconditional_exiting_without_bitmaps),
    cmocka_unit_test(vmx_io_bitmaps_decide_and_override_unconditional_exiting),
    cmocka_unit_test(vmx_io_wrapping_access_exits),
    cmocka_unit_test(vmx_io_qualification_layout),
    cmocka_unit_test(vmx_msr_access_exits_without_bitmaps),
    cmocka_unit_test(vmx_msr_bitmaps_select_by_range_and_direction),
    cmocka_unit_test(vmx_msr_outside_bitmap_ranges_always_exits),
    cmocka_unit_test(vmx_exception_bitmap_selects_vectors),
    cmocka_unit_test(vmx_page_fault_exits_by_error_code_mask_and_match),
    cmocka_unit_test(vmx_exception_exit_information),
    cmocka_unit_test(vmx_exception_exit_icebp_is_privileged_software_exception),
    cmocka_unit_test(vmx_exception_exit_debug_qualification_is_the_conditions),
    cmocka_unit_test(vmx_debug_trap_conditions_from_dr6),
    cmocka_unit_test(vmx_debug_trap_conditions_drop_instruction_breakpoints),
    cmocka_unit_test(vmx_pending_dbg_of_trap_sets_enabled_bit),
    cmocka_unit_test(vmx_pending_dbg_of_trap_ignores_instruction_breakpoints),
    cmocka_unit_test(vmx_pending_dbg_at_entry_rules),
    cmocka_unit_test(vmx_pending_dbg_held_by_mov_ss),
    cmocka_unit_test(vmx_mtf_rep_complete_by_address_size),
    cmocka_unit_test(vmx_pause_loop_exits_once_window_exceeded_within_gap),
    cmocka_unit_test(vmx_pause_loop_gap_exceeded_starts_a_new_loop),
    cmocka_unit_test(vmx_pause_loop_first_pause_after_entry_never_exits),
    cmocka_unit_test(vmx_pause_loop_ignored_at_cpl3_with_pause_exiting_or_inactive),
    cmocka_unit_test(vmx_task_switch_qualification_layout),
    cmocka_unit_test(vmx_preemption_timer_of_zero_fires_at_entry),
    cmocka_unit_test(vmx_preemption_timer_counts_changes_of_tsc_bit_x),
    cmocka_unit_test(vmx_getsec_raises_ud_on_models_without_smx),
    cmocka_unit_test(vmx_mtf_pending_after_entry_follows_injection),
    cmocka_unit_test(vmx_iret_unblocks_nmis_per_nmi_controls),
    cmocka_unit_test(vmx_nmi_window_opens_without_virtual_nmi_blocking),
    cmocka_unit_test(vmx_injected_nmi_blocks_nmis),
    cmocka_unit_test(vmx_nmi_held_by_blocking_unless_virtual_nmis),
    cmocka_unit_test(vmx_nmi_exits_only_with_nmi_exiting),
    cmocka_unit_test(vmx_nmi_blocking_after_exit_by_cause),
    cmocka_unit_test(vmx_nmi_unblocking_due_to_iret_bit),
    cmocka_unit_test(vmx_preemption_timer_value_saved_only_with_its_exit_control),
    cmocka_unit_test(vmx_exit_during_delivery_records_idt_vectoring_information),
    cmocka_unit_test(vmx_external_interrupt_exits_only_with_its_pin_control),
    cmocka_unit_test(vmx_external_interrupt_exit_information_follows_acknowledge),
    cmocka_unit_test(vmx_interrupt_window_opens_with_if_and_no_blocking),
    cmocka_unit_test(vmx_ept_violation_records_linear_address_only_when_valid),
    cmocka_unit_test(vmx_instruction_information_layout),
    cmocka_unit_test(vmx_descriptor_table_instruction_information_layout),
    cmocka_unit_test(vmx_descriptor_table_faults_come_before_exits),
    cmocka_unit_test(vmx_exit_reason_catalogue_names_and_numbers),
  };
  return cov_main(argc, argv, "vmx_exits", tests, sizeof tests / sizeof tests[0], covered_exits);
}
