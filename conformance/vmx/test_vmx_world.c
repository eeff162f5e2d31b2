/* Conformance of the VMX world switch (SDM Vol. 3C, chapter "VM Entries":
 * "Loading Guest State", "Loading MSRs", "VM-Entry Failures During or
 * After Loading Guest State"; chapter "VM Exits": "Recording VM-Exit
 * Information and Updating VM-Entry Control Fields", "Saving Guest State",
 * "Saving MSRs", "Loading Host State", "Loading MSRs", "VMX Aborts") and
 * of the VMX instructions' exits in non-root operation ("Instructions That
 * Cause VM Exits Unconditionally"). `--covers` prints the exit reasons its
 * passing scenarios produce. */
#include "conformance/covers.h"

#include <stdio.h>
#include <string.h>

#include "conformance/vmx/baseline.h"
#include "models/vmx/vmx_exit.h"
#include "models/vmx/vmx_insn.h"
#include "models/vmx/vmx_bits.h"

#define VMCS_PA 0x8000
#define MSR_LIST_PA 0x9000

static struct tcase t;
static struct vmx_cpu x;
static struct cpu_state s;

static bool mread(void *ctx, uint64_t pa, void *buf, size_t len)
{
  (void)ctx;
  if (pa >= TMEM_SIZE || len > TMEM_SIZE - pa) return false;
  memcpy(buf, t.mem + pa, len);
  return true;
}
static bool mwrite(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  (void)ctx;
  if (pa >= TMEM_SIZE || len > TMEM_SIZE - pa) return false;
  memcpy(t.mem + pa, buf, len);
  return true;
}
static const struct vmx_mem_ops mem = { .read = mread, .write = mwrite };

/* A machine with three MSRs: 10H (TSC), 174H (SYSENTER_CS) and 277H
 * (PAT); anything else faults. */
static uint64_t msr_tsc, msr_sysenter_cs, msr_pat;
static uint64_t *msr_slot(uint32_t index)
{
  return index == 0x10 ? &msr_tsc : index == 0x174 ? &msr_sysenter_cs : index == 0x277 ? &msr_pat : NULL;
}
static bool fake_rdmsr(void *ctx, uint32_t index, uint64_t *value)
{
  (void)ctx;
  uint64_t *p = msr_slot(index);
  if (!p) return false;
  *value = *p;
  return true;
}
static bool fake_wrmsr(void *ctx, uint32_t index, uint64_t value)
{
  (void)ctx;
  uint64_t *p = msr_slot(index);
  if (!p) return false;
  *p = value;
  return true;
}
static const struct vmx_msr_ops msrs = { .rdmsr = fake_rdmsr, .wrmsr = fake_wrmsr };

static void msr_entry(unsigned i, uint32_t index, uint64_t value)
{
  memset(t.mem + MSR_LIST_PA + 16 * i, 0, 16);
  memcpy(t.mem + MSR_LIST_PA + 16 * i, &index, 4);
  memcpy(t.mem + MSR_LIST_PA + 16 * i + 8, &value, 8);
}

/* VMX root operation with the baseline VMCS (64-bit host and guest, EPT,
 * VPID, EFER loaded and saved) current, and a 64-bit host CPU state. */
static void setup(const struct vmx_caps *caps)
{
  tcase_baseline(&t, caps);
  vmx_cpu_init(&x, caps);
  x.vmx_operation = true;
  x.vmxon_ptr = 0x7000;
  x.current_vmcs_ptr = VMCS_PA;
  x.current = t.v;
  memset(&s, 0, sizeof s);
  s.cr0 = 0x80010031;
  s.cr4 = 0x2020;
  s.efer = 0xD01;
  s.rflags = 0x202;
  s.seg[SEG_CS].ar = SEG_AR_P | SEG_AR_S | SEG_AR_L | 0xB;
  msr_tsc = msr_sysenter_cs = msr_pat = 0;
}

static void set(enum vmcs_field f, uint64_t v) { vmcs_set(&x.current, f, v); }
static uint64_t get(enum vmcs_field f) { return vmcs_get(&x.current, f); }

/* ---- VM entry ------------------------------------------------------------ */

static void vmx_entry_loads_guest_state(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_true(x.non_root);
  assert_int_equal(s.rip, 0x100000);
  assert_int_equal(s.gpr[GPR_RSP], 0x200000);
  assert_int_equal(s.rflags, 0x2);
  assert_int_equal(s.cr3, TPA_GUEST_CR3);
  assert_int_equal(s.seg[SEG_CS].selector, 0x08);
  assert_int_equal(s.seg[SEG_CS].ar, 0xA09B);
  assert_int_equal(s.seg[SEG_TR].base, 0x9000);
  assert_int_equal(s.seg[SEG_LDTR].ar, SEG_AR_UNUSABLE);
  assert_int_equal(s.gdtr.base, 0xA000);
  assert_int_equal(s.gdtr.limit, 0x37);
  assert_int_equal(s.idtr.limit, 0xFFF);
  assert_int_equal(s.efer, 0xD01);                            /* "load IA32_EFER" */
  assert_false(s.halted);
  setup(&vmx_caps_skylake_x);
  set(VMCSI_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
  set(VMCSI_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_true(s.halted);                                      /* activity state HLT */
  assert_true(s.sti_blocking);                                /* blocking by STI */
  assert_false(s.movss_blocking);
}

/* "Instructions That Cause VM Exits Conditionally" (PAUSE): the first
 * PAUSE at CPL 0 after VM entry is the first in a loop, so VM entry
 * forgets the previous PAUSE; a VM exit alone does not. */
static void vmx_entry_starts_pause_loop_afresh(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  set(VMCSI_CPU_BASED_VM_EXEC_CONTROL, get(VMCSI_CPU_BASED_VM_EXEC_CONTROL) | PROC_SECONDARY_CTLS);
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, get(VMCSI_SECONDARY_VM_EXEC_CONTROL) | PROC2_PAUSE_LOOP_EXITING);
  set(VMCSI_PLE_GAP, 1000);
  set(VMCSI_PLE_WINDOW, 0);
  x.ple = (struct vmx_pause_loop){ .seen = true, .last = 10, .first = 0 };
  struct vmx_pause_loop kept = x.ple;
  assert_true(vmx_pause_loop_exits(&x.current, &kept, 0, 11));   /* without an entry: in the loop */
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_false(x.ple.seen);
  assert_false(vmx_pause_loop_exits(&x.current, &x.ple, 0, 11));
}

static void vmx_entry_without_load_efer_takes_lma_lme_from_ia32e_guest(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  set(VMCSI_VM_ENTRY_CONTROLS, get(VMCSI_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_LOAD_EFER);
  s.efer = EFER_SCE;
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_int_equal(s.efer, EFER_SCE | EFER_LMA | EFER_LME);
  setup(&vmx_caps_skylake_x);
  tcase_32bit_guest(&t);
  x.current = t.v;
  set(VMCSI_VM_ENTRY_CONTROLS, get(VMCSI_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_LOAD_EFER);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_int_equal(s.efer & (EFER_LMA | EFER_LME), 0);
}

static void vmx_entry_pdptes_from_vmcs_with_ept_from_memory_without(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  tcase_32bit_guest(&t);
  x.current = t.v;
  set(VMCSI_GUEST_PDPTE2, 0x5001);
  tmem_put64(&t, TPA_GUEST_CR3 + 16, 0x6001);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_int_equal(s.pdpte[2], 0x5001);                       /* EPT: from the VMCS */
  setup(&vmx_caps_skylake_x);
  tcase_32bit_guest(&t);
  tmem_put64(&t, TPA_GUEST_CR3 + 16, 0x6001);
  x.current = t.v;
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VPID);    /* no EPT: from guest CR3 */
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_int_equal(s.pdpte[2], 0x6001);
}

static void vmx_entry_loads_the_msr_load_list(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  msr_entry(0, 0x174, 0x10);
  msr_entry(1, 0x277, 0x0007040600070406ull);
  set(VMCSI_VM_ENTRY_MSR_LOAD_ADDR, MSR_LIST_PA);
  set(VMCSI_VM_ENTRY_MSR_LOAD_COUNT, 2);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_int_equal(msr_sysenter_cs, 0x10);
  assert_int_equal(msr_pat, 0x0007040600070406ull);
}

static bool entry_msr_failure_scenario(void)
{
  setup(&vmx_caps_skylake_x);
  x.current.launched = true;                                  /* as VMLAUNCH's checks left it */
  msr_entry(0, 0x174, 0x10);
  msr_entry(1, MSR_IA32_FS_BASE, 0);                          /* never allowed in the list */
  set(VMCSI_VM_ENTRY_MSR_LOAD_ADDR, MSR_LIST_PA);
  set(VMCSI_VM_ENTRY_MSR_LOAD_COUNT, 2);
  return !vmx_vm_enter(&x, &s, &mem, &msrs, true) && get(VMCSI_VM_EXIT_REASON) == 0x80000022u &&
         get(VMCSI_EXIT_QUALIFICATION) == 2;
}

static void vmx_entry_msr_load_failure_exits_34_naming_the_entry(void **state)
{
  (void)state;
  assert_true(entry_msr_failure_scenario());
  assert_false(x.non_root);
  assert_false(x.current.launched);                           /* VMLAUNCH left it clear */
  assert_int_equal(s.rip, 0xFFFFFFFF81000000ull);             /* host RIP */
  assert_int_equal(msr_sysenter_cs, 0x10);                    /* the first entry was loaded */
  /* Reserved bits 63:32 of an entry fail it too. */
  setup(&vmx_caps_skylake_x);
  msr_entry(0, 0x174, 0x10);
  t.mem[MSR_LIST_PA + 4] = 1;
  set(VMCSI_VM_ENTRY_MSR_LOAD_ADDR, MSR_LIST_PA);
  set(VMCSI_VM_ENTRY_MSR_LOAD_COUNT, 1);
  assert_false(vmx_vm_enter(&x, &s, &mem, &msrs, false));
  assert_int_equal(get(VMCSI_EXIT_QUALIFICATION), 1);
}

static bool entry_guest_state_failure_scenario(void)
{
  setup(&vmx_caps_skylake_x);
  set(VMCSI_GUEST_RFLAGS, 0);                                 /* bit 1 must be 1 */
  struct vmx_insn_result r = vmx_vmlaunch(&x, &s, &mem, false);
  if (r.outcome != VMX_INSN_ENTRY_FAILED) return false;
  return vmx_entry_failed(&x, &s, &mem, &msrs) && get(VMCSI_VM_EXIT_REASON) == 0x80000021u;
}

static void vmx_entry_guest_state_failure_continues_at_host_rip(void **state)
{
  (void)state;
  assert_true(entry_guest_state_failure_scenario());
  assert_int_equal(s.rip, 0xFFFFFFFF81000000ull);
  assert_int_equal(s.gpr[GPR_RSP], 0xFFFFFFFF80200000ull);
  assert_false(x.non_root);
  assert_false(x.current.launched);
}

/* ---- VM exit ------------------------------------------------------------- */

static void enter_then_run_guest(const struct vmx_caps *caps)
{
  setup(caps);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  s.rip = 0x100123;
  s.gpr[GPR_RSP] = 0x1FFF00;
  s.rflags = 0x246;
}

static void vmx_exit_saves_guest_state_and_records_the_exit(void **state)
{
  (void)state;
  enter_then_run_guest(&vmx_caps_skylake_x);
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | 0x30E);
  struct vmx_exit_info e = { .reason = VMX_EXIT_CPUID, .insn_len = 2 };
  assert_true(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  assert_int_equal(get(VMCSI_VM_EXIT_REASON), 10);
  assert_int_equal(get(VMCSI_VM_EXIT_INSTRUCTION_LEN), 2);
  assert_int_equal(get(VMCSI_VM_EXIT_INTR_INFO), 0);
  assert_int_equal(get(VMCSI_GUEST_RIP), 0x100123);
  assert_int_equal(get(VMCSI_GUEST_RSP), 0x1FFF00);
  assert_int_equal(get(VMCSI_GUEST_RFLAGS), 0x246);
  assert_int_equal(get(VMCSI_GUEST_CS_AR_BYTES), 0xA09B);
  assert_int_equal(get(VMCSI_GUEST_IA32_EFER), 0xD01);        /* "save IA32_EFER" */
  assert_int_equal(get(VMCSI_VM_ENTRY_INTR_INFO), 0x30E);     /* valid bit cleared */
  assert_int_equal(get(VMCSI_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE);
  s.sti_blocking = true;
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, false));
  s.sti_blocking = true;
  s.halted = true;
  assert_true(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  assert_int_equal(get(VMCSI_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_STI);
  assert_int_equal(get(VMCSI_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
}

/* "Saving Non-Register State": the pending-debug-exceptions field holds
 * what the exit says is pending (an MTF exit that took priority over a
 * single step: BS), and 0 for an exit with none, whatever the field held. */
static void vmx_exit_saves_pending_debug_exceptions(void **state)
{
  (void)state;
  enter_then_run_guest(&vmx_caps_nehalem);
  set(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, 0x1000);
  struct vmx_exit_info mtf = { .reason = VMX_EXIT_MONITOR_TRAP_FLAG, .pending_dbg = 0x4000 };
  assert_true(vmx_vm_exit(&x, &s, &mtf, &mem, &msrs));
  assert_int_equal(get(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS), 0x4000);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, false));
  struct vmx_exit_info cpuid = { .reason = VMX_EXIT_CPUID, .insn_len = 2 };
  assert_true(vmx_vm_exit(&x, &s, &cpuid, &mem, &msrs));
  assert_int_equal(get(VMCSI_GUEST_PENDING_DBG_EXCEPTIONS), 0);
}

static void vmx_exit_loads_host_state(void **state)
{
  (void)state;
  enter_then_run_guest(&vmx_caps_skylake_x);
  set(VMCSI_HOST_FS_SELECTOR, 0);
  s.dr[7] = 0x4FF;
  struct vmx_exit_info e = { .reason = VMX_EXIT_HLT, .insn_len = 1 };
  assert_true(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  assert_false(x.non_root);
  assert_int_equal(s.rip, 0xFFFFFFFF81000000ull);
  assert_int_equal(s.gpr[GPR_RSP], 0xFFFFFFFF80200000ull);
  assert_int_equal(s.rflags, 0x2);
  assert_int_equal(s.cr3, TPA_HOST_CR3);
  assert_int_equal(s.dr[7], 0x400);
  assert_int_equal(s.seg[SEG_CS].ar, 0xB | SEG_AR_S | SEG_AR_P | SEG_AR_G | SEG_AR_L);
  assert_int_equal(s.seg[SEG_CS].limit, 0xFFFFFFFF);
  assert_int_equal(s.seg[SEG_DS].ar & SEG_AR_UNUSABLE, 0);
  assert_int_equal(s.seg[SEG_FS].ar & SEG_AR_UNUSABLE, SEG_AR_UNUSABLE);   /* null selector */
  assert_int_equal(s.seg[SEG_TR].limit, 0x67);
  assert_int_equal(s.seg[SEG_TR].base, 0xFFFFFFFF80100000ull);
  assert_int_equal(s.gdtr.limit, 0xFFFF);
  assert_int_equal(s.idtr.base, 0xFFFFFFFF80102000ull);
  assert_int_equal(s.seg[SEG_LDTR].ar, SEG_AR_UNUSABLE);
}

static void vmx_exit_stores_lma_in_ia32e_guest_control_when_misc_says(void **state)
{
  (void)state;
  enter_then_run_guest(&vmx_caps_skylake_x);                  /* MISC bit 5 set */
  s.efer &= ~EFER_LMA;
  struct vmx_exit_info e = { .reason = VMX_EXIT_HLT };
  assert_true(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  assert_int_equal(get(VMCSI_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST, 0);
  enter_then_run_guest(&vmx_caps_nehalem);                    /* MISC bit 5 clear */
  s.efer &= ~EFER_LMA;
  assert_true(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  assert_int_equal(get(VMCSI_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST, ENTRY_IA32E_MODE_GUEST);
}

static void vmx_exit_processes_msr_store_and_load_lists(void **state)
{
  (void)state;
  enter_then_run_guest(&vmx_caps_skylake_x);
  msr_tsc = 0x1234;
  msr_entry(0, 0x10, 0);                                      /* store TSC here */
  msr_entry(1, 0x277, 0x0606060606060606ull);                 /* load PAT from here */
  set(VMCSI_VM_EXIT_MSR_STORE_ADDR, MSR_LIST_PA);
  set(VMCSI_VM_EXIT_MSR_STORE_COUNT, 1);
  set(VMCSI_VM_EXIT_MSR_LOAD_ADDR, MSR_LIST_PA + 16);
  set(VMCSI_VM_EXIT_MSR_LOAD_COUNT, 1);
  struct vmx_exit_info e = { .reason = VMX_EXIT_HLT };
  assert_true(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  uint64_t stored;
  memcpy(&stored, t.mem + MSR_LIST_PA + 8, 8);
  assert_int_equal(stored, 0x1234);
  assert_int_equal(msr_pat, 0x0606060606060606ull);
}

static void vmx_exit_msr_store_failure_is_a_vmx_abort(void **state)
{
  (void)state;
  enter_then_run_guest(&vmx_caps_skylake_x);
  msr_entry(0, 0x12345, 0);                                   /* RDMSR faults */
  set(VMCSI_VM_EXIT_MSR_STORE_ADDR, MSR_LIST_PA);
  set(VMCSI_VM_EXIT_MSR_STORE_COUNT, 1);
  struct vmx_exit_info e = { .reason = VMX_EXIT_HLT };
  assert_false(vmx_vm_exit(&x, &s, &e, &mem, &msrs));
  assert_int_equal(x.current.abort, 1);
  uint32_t indicator;
  memcpy(&indicator, t.mem + VMCS_PA + 4, 4);
  assert_int_equal(indicator, 1);
}

static bool triple_fault_scenario(void)
{
  struct vmx_exit_info e;
  setup(&vmx_caps_skylake_x);
  if (vmx_triple_fault_exit(&x, &e)) return false;                            /* root: shutdown */
  if (!vmx_vm_enter(&x, &s, &mem, &msrs, true) || !vmx_triple_fault_exit(&x, &e)) return false;
  return e.reason == VMX_EXIT_TRIPLE_FAULT && e.qualification == 0 && e.idt_info == 0;
}

static void vmx_triple_fault_exits_in_non_root_only(void **state)
{
  (void)state;
  assert_true(triple_fault_scenario());
}

static void vmx_entry_failure_keeps_entry_interruption_valid(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  set(VMCSI_VM_ENTRY_INTR_INFO, INTR_INFO_VALID | 0x30E);
  struct vmx_exit_info e = { .reason = EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE_BIT };
  vmx_record_exit(&x.current, &e);
  assert_int_equal(get(VMCSI_VM_ENTRY_INTR_INFO), INTR_INFO_VALID | 0x30E);
}

/* ---- VMX instructions in non-root operation -------------------------------- */

struct insn_exit { enum vmx_insn insn; unsigned reason; };
static const struct insn_exit insn_exits[] = {
  { VMX_INSN_VMXON, VMX_EXIT_VMXON }, { VMX_INSN_VMXOFF, VMX_EXIT_VMXOFF }, { VMX_INSN_VMCLEAR, VMX_EXIT_VMCLEAR },
  { VMX_INSN_VMPTRLD, VMX_EXIT_VMPTRLD }, { VMX_INSN_VMPTRST, VMX_EXIT_VMPTRST }, { VMX_INSN_VMREAD, VMX_EXIT_VMREAD },
  { VMX_INSN_VMWRITE, VMX_EXIT_VMWRITE }, { VMX_INSN_VMLAUNCH, VMX_EXIT_VMLAUNCH },
  { VMX_INSN_VMRESUME, VMX_EXIT_VMRESUME }, { VMX_INSN_INVEPT, VMX_EXIT_INVEPT }, { VMX_INSN_INVVPID, VMX_EXIT_INVVPID },
  { VMX_INSN_VMCALL, VMX_EXIT_VMCALL },
};
#define INSN_EXITS (sizeof insn_exits / sizeof insn_exits[0])

/* In non-root operation (after a VM entry) the instruction's checks end in
 * a VM exit; in root operation they do not. */
static bool insn_exit_holds(const struct insn_exit *ie)
{
  setup(&vmx_caps_skylake_x);
  s.cr4 |= CR4_VMXE;
  if (vmx_insn_precheck(&x, &s, ie->insn).outcome == VMX_INSN_VMEXIT) return false;
  if (!vmx_vm_enter(&x, &s, &mem, &msrs, true)) return false;
  return vmx_insn_precheck(&x, &s, ie->insn).outcome == VMX_INSN_VMEXIT;
}

static void vmx_vmx_instructions_exit_in_non_root_operation(void **state)
{
  (void)state;
  for (size_t i = 0; i < INSN_EXITS; i++)
    if (!insn_exit_holds(&insn_exits[i])) fail_msg("VMX instruction %d does not exit in non-root operation", insn_exits[i].insn);
  /* The full instruction functions agree with the precheck. */
  setup(&vmx_caps_skylake_x);
  assert_true(vmx_vm_enter(&x, &s, &mem, &msrs, true));
  assert_int_equal(vmx_vmcall(&x, &s).outcome, VMX_INSN_VMEXIT);
  assert_int_equal(vmx_vmread(&x, &s, VMCS_GUEST_RIP).outcome, VMX_INSN_VMEXIT);
}

/* ---- VMFUNC ----------------------------------------------------------------- */

#define EPTP_LIST_PA 0xA000

/* Non-root operation with "enable VM functions" and EPTP switching, an
 * EPTP list whose entry 1 is a valid EPTP and entry 2 is not. */
static void vmfunc_setup(void)
{
  setup(&vmx_caps_skylake_x);
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, get(VMCSI_SECONDARY_VM_EXEC_CONTROL) | PROC2_ENABLE_VMFUNC);
  set(VMCSI_VM_FUNCTION_CONTROL, VMFUNC_EPTP_SWITCHING);
  set(VMCSI_EPTP_LIST_ADDRESS, EPTP_LIST_PA);
  memset(t.mem + EPTP_LIST_PA, 0, 4096);
  tmem_put64(&t, EPTP_LIST_PA + 8, 0x3000 | (3 << 3) | 6);
  tmem_put64(&t, EPTP_LIST_PA + 16, 0x3000 | (3 << 3) | 5);   /* memory type 5: invalid */
  x.non_root = true;
}

static bool vmfunc_exit_scenario(void)
{
  vmfunc_setup();
  return vmx_vmfunc_execute(&x, &s, &mem, 1, 0).outcome == VMX_INSN_VMEXIT &&   /* function 1 not enabled */
         vmx_vmfunc_execute(&x, &s, &mem, 0, 1).outcome == VMX_INSN_DONE;
}

static void vmx_vmfunc_eptp_switching_loads_the_list_entry(void **state)
{
  (void)state;
  vmfunc_setup();
  assert_int_equal(vmx_vmfunc_execute(&x, &s, &mem, 0, 1).outcome, VMX_INSN_DONE);
  assert_int_equal(get(VMCSI_EPT_POINTER), 0x3000 | (3 << 3) | 6);
  uint64_t before = get(VMCSI_EPT_POINTER);
  assert_int_equal(vmx_vmfunc_execute(&x, &s, &mem, 0, 2).outcome, VMX_INSN_VMEXIT);   /* invalid EPTP */
  assert_int_equal(vmx_vmfunc_execute(&x, &s, &mem, 0, 512).outcome, VMX_INSN_VMEXIT); /* index beyond the list */
  assert_int_equal(vmx_vmfunc_execute(&x, &s, &mem, 64, 0).outcome, VMX_INSN_VMEXIT);  /* function > 63 */
  assert_int_equal(get(VMCSI_EPT_POINTER), before);
}

static void vmx_vmfunc_ud_without_enable_vm_functions_or_in_root(void **state)
{
  (void)state;
  vmfunc_setup();
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, get(VMCSI_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)PROC2_ENABLE_VMFUNC);
  assert_int_equal(vmx_vmfunc_execute(&x, &s, &mem, 0, 1).outcome, VMX_INSN_UD);
  vmfunc_setup();
  x.non_root = false;
  assert_int_equal(vmx_vmfunc_execute(&x, &s, &mem, 0, 1).outcome, VMX_INSN_UD);
}

/* ---- VMCS shadowing ------------------------------------------------------- */

#define SHADOW_PA 0xB000
#define VMREAD_BITMAP_PA 0xC000
#define VMWRITE_BITMAP_PA 0xD000

/* Non-root operation with "VMCS shadowing", a shadow VMCS whose GUEST_RSP
 * is 1111H, and a VMREAD bitmap that makes GUEST_RIP exit. */
static void shadow_setup(void)
{
  setup(&vmx_caps_skylake_x);
  static struct vmcs sh;
  static uint8_t region[VMCS_REGION_BYTES];
  memset(&sh, 0, sizeof sh);
  sh.revision = BASIC_REVISION(vmx_caps_skylake_x.basic) | (1u << 31);
  vmcs_set(&sh, VMCSI_GUEST_RSP, 0x1111);
  vmcs_region_store(&sh, region, sizeof region);
  memcpy(t.mem + SHADOW_PA, region, sizeof region);
  memset(t.mem + VMREAD_BITMAP_PA, 0, 0x2000);
  t.mem[VMREAD_BITMAP_PA + (VMCS_GUEST_RIP >> 3)] |= (uint8_t)(1u << (VMCS_GUEST_RIP & 7));
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, get(VMCSI_SECONDARY_VM_EXEC_CONTROL) | PROC2_VMCS_SHADOWING);
  set(VMCSI_VMCS_LINK_POINTER, SHADOW_PA);
  set(VMCSI_VMREAD_BITMAP, VMREAD_BITMAP_PA);
  set(VMCSI_VMWRITE_BITMAP, VMWRITE_BITMAP_PA);
  x.non_root = true;
}

static void vmx_shadowing_bitmaps_decide_between_shadow_access_and_exit(void **state)
{
  (void)state;
  shadow_setup();
  assert_true(vmx_shadow_access(&x, &mem, VMCS_GUEST_RSP, false));
  assert_false(vmx_shadow_access(&x, &mem, VMCS_GUEST_RIP, false));           /* bitmap bit set */
  assert_true(vmx_shadow_access(&x, &mem, VMCS_GUEST_RIP, true));             /* VMWRITE bitmap clear */
  assert_false(vmx_shadow_access(&x, &mem, 1ull << 15, false));              /* encoding bits 63:15 */
  set(VMCSI_SECONDARY_VM_EXEC_CONTROL, get(VMCSI_SECONDARY_VM_EXEC_CONTROL) & ~(uint64_t)PROC2_VMCS_SHADOWING);
  assert_false(vmx_shadow_access(&x, &mem, VMCS_GUEST_RSP, false));          /* no shadowing: exit */
  shadow_setup();
  x.non_root = false;
  assert_false(vmx_shadow_access(&x, &mem, VMCS_GUEST_RSP, false));          /* root: the current VMCS */
}

static void vmx_shadow_vmread_vmwrite_use_the_link_pointer_vmcs(void **state)
{
  (void)state;
  shadow_setup();
  struct vmx_insn_result r = vmx_vmread_shadow(&x, &s, &mem, VMCS_GUEST_RSP);
  assert_int_equal(r.outcome, VMX_INSN_SUCCEED);
  assert_int_equal(r.value, 0x1111);
  assert_int_equal(vmx_vmwrite_shadow(&x, &s, &mem, VMCS_GUEST_RSP, 0x2222).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_vmread_shadow(&x, &s, &mem, VMCS_GUEST_RSP).value, 0x2222);
  assert_int_equal(get(VMCSI_GUEST_RSP), 0x200000);                          /* the current VMCS is untouched */
  r = vmx_vmread_shadow(&x, &s, &mem, 0x7FFE);
  assert_int_equal(r.outcome, VMX_INSN_FAIL_VALID);
  assert_int_equal(get(VMCSI_VM_INSTRUCTION_ERROR), 12);                     /* recorded in the current VMCS */
  set(VMCSI_VMCS_LINK_POINTER, ~0ull);
  assert_int_equal(vmx_vmread_shadow(&x, &s, &mem, VMCS_GUEST_RSP).outcome, VMX_INSN_FAIL_INVALID);
  s.seg[SEG_CS].ar |= 3u << 5;
  assert_int_equal(vmx_vmwrite_shadow(&x, &s, &mem, VMCS_GUEST_RSP, 1).outcome, VMX_INSN_GP);
}

static void vmx_precheck_orders_ud_before_gp_before_operands(void **state)
{
  (void)state;
  setup(&vmx_caps_skylake_x);
  x.vmx_operation = false;
  s.cr4 &= ~CR4_VMXE;
  assert_int_equal(vmx_insn_precheck(&x, &s, VMX_INSN_VMXON).outcome, VMX_INSN_UD);
  s.cr4 |= CR4_VMXE;
  s.seg[SEG_CS].ar |= 3u << 5;                                /* CPL 3 */
  assert_int_equal(vmx_insn_precheck(&x, &s, VMX_INSN_VMXON).outcome, VMX_INSN_GP);
  s.seg[SEG_CS].ar &= ~(3u << 5);
  assert_int_equal(vmx_insn_precheck(&x, &s, VMX_INSN_VMXON).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_insn_precheck(&x, &s, VMX_INSN_VMCLEAR).outcome, VMX_INSN_UD);   /* not in VMX operation */
  x.vmx_operation = true;
  assert_int_equal(vmx_insn_precheck(&x, &s, VMX_INSN_VMCLEAR).outcome, VMX_INSN_SUCCEED);
  assert_int_equal(vmx_insn_precheck(&x, &s, VMX_INSN_VMFUNC).outcome, VMX_INSN_UD);    /* root: #UD */
}

/* ---- coverage ------------------------------------------------------------ */

static void covered_exits(void)
{
  for (size_t i = 0; i < INSN_EXITS; i++)
    if (insn_exit_holds(&insn_exits[i])) printf("exit %u\n", insn_exits[i].reason);
  if (triple_fault_scenario()) printf("exit %u\n", VMX_EXIT_TRIPLE_FAULT);
  if (vmfunc_exit_scenario()) printf("exit %u\n", VMX_EXIT_VMFUNC);
  if (entry_guest_state_failure_scenario()) printf("exit %u\n", EXIT_REASON_INVALID_GUEST_STATE);
  if (entry_msr_failure_scenario()) printf("exit %u\n", EXIT_REASON_MSR_LOADING);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(vmx_entry_loads_guest_state),
    cmocka_unit_test(vmx_entry_starts_pause_loop_afresh),
    cmocka_unit_test(vmx_entry_without_load_efer_takes_lma_lme_from_ia32e_guest),
    cmocka_unit_test(vmx_entry_pdptes_from_vmcs_with_ept_from_memory_without),
    cmocka_unit_test(vmx_entry_loads_the_msr_load_list),
    cmocka_unit_test(vmx_entry_msr_load_failure_exits_34_naming_the_entry),
    cmocka_unit_test(vmx_entry_guest_state_failure_continues_at_host_rip),
    cmocka_unit_test(vmx_exit_saves_guest_state_and_records_the_exit),
    cmocka_unit_test(vmx_exit_saves_pending_debug_exceptions),
    cmocka_unit_test(vmx_exit_loads_host_state),
    cmocka_unit_test(vmx_exit_stores_lma_in_ia32e_guest_control_when_misc_says),
    cmocka_unit_test(vmx_exit_processes_msr_store_and_load_lists),
    cmocka_unit_test(vmx_exit_msr_store_failure_is_a_vmx_abort),
    cmocka_unit_test(vmx_triple_fault_exits_in_non_root_only),
    cmocka_unit_test(vmx_entry_failure_keeps_entry_interruption_valid),
    cmocka_unit_test(vmx_vmx_instructions_exit_in_non_root_operation),
    cmocka_unit_test(vmx_vmfunc_eptp_switching_loads_the_list_entry),
    cmocka_unit_test(vmx_vmfunc_ud_without_enable_vm_functions_or_in_root),
    cmocka_unit_test(vmx_shadowing_bitmaps_decide_between_shadow_access_and_exit),
    cmocka_unit_test(vmx_shadow_vmread_vmwrite_use_the_link_pointer_vmcs),
    cmocka_unit_test(vmx_precheck_orders_ud_before_gp_before_operands),
  };
  return cov_main(argc, argv, "vmx_world", tests, sizeof tests / sizeof tests[0], covered_exits);
}
