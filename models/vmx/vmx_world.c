/* The VMX world switch over cpu_state and the current VMCS: VM entry's
 * loading of guest state (SDM Vol. 3C, chapter "VM Entries", "Loading
 * Guest State", "Loading MSRs", "VM-Entry Failures During or After Loading
 * Guest State") and the VM exit (chapter "VM Exits": "Recording VM-Exit
 * Information and Updating VM-Entry Control Fields", "Saving Guest State",
 * "Saving MSRs", "Loading Host State", "Loading MSRs", "VMX Aborts"). */
#include "models/vmx/vmx_exit.h"

#include <string.h>

#include "models/vmx/vmx_bits.h"

#define F(name) vmcs_get(v, VMCSI_##name)

/* CR0 bits a VM entry or exit never modifies: ET, NW, CD and the reserved
 * bits 63:32, 28:19, 17, 15:6 ("Loading Guest Control Registers, Debug
 * Registers, and MSRs"; "Loading Host Control Registers, Debug Registers,
 * MSRs"). */
#define CR0_KEEP (CR0_ET | CR0_NW | CR0_CD | 0xFFFFFFFF00000000ull | 0x1FF80000ull | (1ull << 17) | 0xFFC0ull)

static void read_pdptes(const struct vmx_mem_ops *m, uint64_t cr3, uint64_t pdpte[4])
{
  uint8_t b[32];
  if (!m || !m->read || !m->read(m->ctx, cr3 & 0xFFFFFFE0ull, b, sizeof b)) {
    memset(pdpte, 0, 4 * sizeof *pdpte);
    return;
  }
  memcpy(pdpte, b, sizeof b);
}

static bool pae_outside_ia32e(const struct cpu_state *s)
{
  return (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !(s->efer & EFER_LMA);
}

/* ---- VM entry: loading guest state ---------------------------------------- */

void vmx_load_guest_state(const struct vmcs *v, struct cpu_state *s, const struct vmx_mem_ops *m)
{
  uint32_t entry = (uint32_t)F(VM_ENTRY_CONTROLS);
  /* "Loading Guest Control Registers, Debug Registers, and MSRs". */
  s->cr0 = (s->cr0 & CR0_KEEP) | (F(GUEST_CR0) & ~CR0_KEEP);
  s->cr4 = F(GUEST_CR4);
  s->cr3 = F(GUEST_CR3);
  if (entry & ENTRY_LOAD_DEBUG_CTLS) {
    s->dr[7] = F(GUEST_DR7);
    s->debugctl = F(GUEST_IA32_DEBUGCTL);
  }
  s->sysenter_cs = F(GUEST_SYSENTER_CS);
  s->sysenter_esp = F(GUEST_SYSENTER_ESP);
  s->sysenter_eip = F(GUEST_SYSENTER_EIP);
  if (entry & ENTRY_LOAD_PAT) s->pat = F(GUEST_IA32_PAT);
  /* "If the 'load IA32_EFER' VM-entry control is 1, ... loaded from the
   * IA32_EFER field. ... Otherwise, LMA and LME are loaded with the
   * setting of the 'IA-32e mode guest' VM-entry control." */
  if (entry & ENTRY_LOAD_EFER) {
    s->efer = F(GUEST_IA32_EFER);
  } else if (entry & ENTRY_IA32E_MODE_GUEST) {
    s->efer |= EFER_LMA | EFER_LME;
  } else {
    s->efer &= ~(EFER_LMA | EFER_LME);
  }
  /* "Loading Guest Segment Registers and Descriptor-Table Registers": the
   * selector, base, limit and access rights of every segment register,
   * unusable ones included (the unusable bit travels with the rights). */
  for (int i = 0; i < SEG_COUNT; i++) {
    s->seg[i] = (struct segment){
      .selector = (uint16_t)vmcs_get(v, (enum vmcs_field)(VMCSI_GUEST_ES_SELECTOR + i)),
      .base = vmcs_get(v, (enum vmcs_field)(VMCSI_GUEST_ES_BASE + i)),
      .limit = (uint32_t)vmcs_get(v, (enum vmcs_field)(VMCSI_GUEST_ES_LIMIT + i)),
      .ar = (uint32_t)vmcs_get(v, (enum vmcs_field)(VMCSI_GUEST_ES_AR_BYTES + i)) & 0x1F0FFu,
    };
  }
  s->gdtr = (struct dtable){ F(GUEST_GDTR_BASE), (uint32_t)F(GUEST_GDTR_LIMIT) & 0xFFFF };
  s->idtr = (struct dtable){ F(GUEST_IDTR_BASE), (uint32_t)F(GUEST_IDTR_LIMIT) & 0xFFFF };
  /* "Loading Guest RIP, RSP, and RFLAGS". */
  s->rip = F(GUEST_RIP);
  s->gpr[GPR_RSP] = F(GUEST_RSP);
  s->rflags = F(GUEST_RFLAGS);
  /* "Loading Page-Directory-Pointer-Table Entries": with PAE paging
   * outside IA-32e mode, from the VMCS when "enable EPT" is 1, else from
   * the page the guest CR3 points at. */
  if (pae_outside_ia32e(s)) {
    if (vmx_proc2(v) & PROC2_ENABLE_EPT) {
      for (int i = 0; i < 4; i++) s->pdpte[i] = vmcs_get(v, (enum vmcs_field)(VMCSI_GUEST_PDPTE0 + i));
    } else {
      read_pdptes(m, s->cr3, s->pdpte);
    }
  }
  /* "Updating Non-Register State": blocking by STI, MOV SS and NMI as the
   * interruptibility-state field says; the activity state. */
  uint32_t intr = (uint32_t)F(GUEST_INTERRUPTIBILITY_INFO);
  s->sti_blocking = intr & INTERRUPTIBILITY_STI;
  s->movss_blocking = intr & INTERRUPTIBILITY_MOV_SS;
  s->nmi_blocking = intr & INTERRUPTIBILITY_NMI;
  s->halted = F(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT;
}

/* ---- VM exit -------------------------------------------------------------- */

void vmx_record_exit(struct vmcs *v, const struct vmx_exit_info *e)
{
  vmcs_set(v, VMCSI_VM_EXIT_REASON, e->reason);
  vmcs_set(v, VMCSI_EXIT_QUALIFICATION, e->qualification);
  vmcs_set(v, VMCSI_VM_EXIT_INSTRUCTION_LEN, e->insn_len);
  vmcs_set(v, VMCSI_VMX_INSTRUCTION_INFO, e->insn_info);
  /* "Basic VM-Exit Information" / "Information for VM Exits Due to Vectored
   * Events": the interruption-information field is valid only for exits
   * caused by exceptions, NMIs and external interrupts. */
  vmcs_set(v, VMCSI_VM_EXIT_INTR_INFO, e->intr_info);
  if (e->intr_info & (1u << 11)) vmcs_set(v, VMCSI_VM_EXIT_INTR_ERROR_CODE, e->intr_error);
  /* "Information for VM Exits That Occur During Event Delivery". */
  vmcs_set(v, VMCSI_IDT_VECTORING_INFO, e->idt_info);
  if (e->idt_info & (1u << 11)) vmcs_set(v, VMCSI_IDT_VECTORING_ERROR_CODE, e->idt_error);
  if (e->linear_valid) vmcs_set(v, VMCSI_GUEST_LINEAR_ADDRESS, e->guest_linear);
  if (e->physical_valid) vmcs_set(v, VMCSI_GUEST_PHYSICAL_ADDRESS, e->guest_physical);
  /* "Updating VM-Entry Control Fields": "Bit 31 (valid) of the VM-entry
   * interruption-information field is cleared" on every VM exit (not on a
   * VM-entry failure, which is not an exit from the guest). */
  if (!(e->reason & EXIT_REASON_ENTRY_FAILURE_BIT))
    vmcs_set(v, VMCSI_VM_ENTRY_INTR_INFO, F(VM_ENTRY_INTR_INFO) & ~(uint64_t)INTR_INFO_VALID);
}

void vmx_save_guest_state(struct vmcs *v, const struct cpu_state *s)
{
  uint32_t exitc = (uint32_t)F(VM_EXIT_CONTROLS);
  /* "Saving Control Registers, Debug Registers, and MSRs". */
  vmcs_set(v, VMCSI_GUEST_CR0, s->cr0);
  vmcs_set(v, VMCSI_GUEST_CR3, s->cr3);
  vmcs_set(v, VMCSI_GUEST_CR4, s->cr4);
  if (exitc & EXIT_SAVE_DEBUG_CTLS) {
    vmcs_set(v, VMCSI_GUEST_DR7, s->dr[7]);
    vmcs_set(v, VMCSI_GUEST_IA32_DEBUGCTL, s->debugctl);
  }
  vmcs_set(v, VMCSI_GUEST_SYSENTER_CS, s->sysenter_cs);
  vmcs_set(v, VMCSI_GUEST_SYSENTER_ESP, s->sysenter_esp);
  vmcs_set(v, VMCSI_GUEST_SYSENTER_EIP, s->sysenter_eip);
  if (exitc & EXIT_SAVE_PAT) vmcs_set(v, VMCSI_GUEST_IA32_PAT, s->pat);
  if (exitc & EXIT_SAVE_EFER) vmcs_set(v, VMCSI_GUEST_IA32_EFER, s->efer);
  /* "Saving Segment Registers and Descriptor-Table Registers": bits 11:8
   * and 31:17 of the access rights are saved as 0. */
  for (int i = 0; i < SEG_COUNT; i++) {
    vmcs_set(v, (enum vmcs_field)(VMCSI_GUEST_ES_SELECTOR + i), s->seg[i].selector);
    vmcs_set(v, (enum vmcs_field)(VMCSI_GUEST_ES_BASE + i), s->seg[i].base);
    vmcs_set(v, (enum vmcs_field)(VMCSI_GUEST_ES_LIMIT + i), s->seg[i].limit);
    vmcs_set(v, (enum vmcs_field)(VMCSI_GUEST_ES_AR_BYTES + i), s->seg[i].ar & 0x1F0FFu);
  }
  vmcs_set(v, VMCSI_GUEST_GDTR_BASE, s->gdtr.base);
  vmcs_set(v, VMCSI_GUEST_GDTR_LIMIT, s->gdtr.limit & 0xFFFF);
  vmcs_set(v, VMCSI_GUEST_IDTR_BASE, s->idtr.base);
  vmcs_set(v, VMCSI_GUEST_IDTR_LIMIT, s->idtr.limit & 0xFFFF);
  /* "Saving RIP, RSP, RFLAGS, and SSP". */
  vmcs_set(v, VMCSI_GUEST_RIP, s->rip);
  vmcs_set(v, VMCSI_GUEST_RSP, s->gpr[GPR_RSP]);
  vmcs_set(v, VMCSI_GUEST_RFLAGS, s->rflags);
  /* "Saving Non-Register State": PDPTEs when "enable EPT" is 1 and the
   * guest uses PAE paging outside IA-32e mode; activity and
   * interruptibility state (blocking by SMI saved as 0). */
  if ((vmx_proc2(v) & PROC2_ENABLE_EPT) && pae_outside_ia32e(s))
    for (int i = 0; i < 4; i++) vmcs_set(v, (enum vmcs_field)(VMCSI_GUEST_PDPTE0 + i), s->pdpte[i]);
  vmcs_set(v, VMCSI_GUEST_ACTIVITY_STATE, s->halted ? ACTIVITY_HLT : ACTIVITY_ACTIVE);
  uint32_t intr = (s->sti_blocking ? INTERRUPTIBILITY_STI : 0) | (s->movss_blocking ? INTERRUPTIBILITY_MOV_SS : 0) |
                  (s->nmi_blocking ? INTERRUPTIBILITY_NMI : 0);
  vmcs_set(v, VMCSI_GUEST_INTERRUPTIBILITY_INFO, intr);
  vmcs_set(v, VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

void vmx_load_host_state(const struct vmcs *v, struct cpu_state *s, const struct vmx_mem_ops *m)
{
  uint32_t exitc = (uint32_t)F(VM_EXIT_CONTROLS);
  bool host64 = exitc & EXIT_HOST_ADDR_SPACE;
  /* "Loading Host Control Registers, Debug Registers, MSRs". */
  s->cr0 = (s->cr0 & CR0_KEEP) | (F(HOST_CR0) & ~CR0_KEEP);
  s->cr3 = F(HOST_CR3);
  s->cr4 = F(HOST_CR4);
  s->dr[7] = 0x400;
  s->debugctl = 0;
  s->sysenter_cs = F(HOST_IA32_SYSENTER_CS);
  s->sysenter_esp = F(HOST_IA32_SYSENTER_ESP);
  s->sysenter_eip = F(HOST_IA32_SYSENTER_EIP);
  if (exitc & EXIT_LOAD_PAT) s->pat = F(HOST_IA32_PAT);
  if (exitc & EXIT_LOAD_EFER) s->efer = F(HOST_IA32_EFER);
  else if (host64) s->efer |= EFER_LMA | EFER_LME;
  else s->efer &= ~(EFER_LMA | EFER_LME);
  /* "Loading Host Segment and Descriptor-Table Registers": CS is a flat
   * 4-GByte execute/read accessed code segment with L = host address-space
   * size and D = !L; SS, DS, ES, FS, GS are flat read/write accessed data
   * segments, unusable when their selector is 0; TR is a busy TSS with
   * limit 67H; LDTR is unusable; GDTR and IDTR limits are FFFFH. */
  const uint32_t flat = SEG_AR_S | SEG_AR_P | SEG_AR_G;
  s->seg[SEG_CS] = (struct segment){ (uint16_t)F(HOST_CS_SELECTOR), 0, 0xFFFFFFFFu,
                                     0xB | flat | (host64 ? SEG_AR_L : SEG_AR_DB) };
  static const enum vmcs_field data_sel[] = { [SEG_ES] = VMCSI_HOST_ES_SELECTOR, [SEG_SS] = VMCSI_HOST_SS_SELECTOR,
                                              [SEG_DS] = VMCSI_HOST_DS_SELECTOR, [SEG_FS] = VMCSI_HOST_FS_SELECTOR,
                                              [SEG_GS] = VMCSI_HOST_GS_SELECTOR };
  for (int i = SEG_ES; i <= SEG_GS; i++) {
    if (i == SEG_CS) continue;
    uint16_t sel = (uint16_t)vmcs_get(v, data_sel[i]);
    s->seg[i] = (struct segment){ sel, 0, 0xFFFFFFFFu, 0x3 | flat | SEG_AR_DB | (sel ? 0 : SEG_AR_UNUSABLE) };
  }
  s->seg[SEG_FS].base = F(HOST_FS_BASE);
  s->seg[SEG_GS].base = F(HOST_GS_BASE);
  s->seg[SEG_TR] = (struct segment){ (uint16_t)F(HOST_TR_SELECTOR), F(HOST_TR_BASE), 0x67, 0xB | SEG_AR_P };
  s->seg[SEG_LDTR] = (struct segment){ 0, 0, 0, SEG_AR_UNUSABLE };
  s->gdtr = (struct dtable){ F(HOST_GDTR_BASE), 0xFFFF };
  s->idtr = (struct dtable){ F(HOST_IDTR_BASE), 0xFFFF };
  /* "Loading Host RIP, RSP, RFLAGS, and SSP": RFLAGS is cleared except bit 1. */
  s->rip = F(HOST_RIP);
  s->gpr[GPR_RSP] = F(HOST_RSP);
  s->rflags = RFLAGS_FIXED1;
  /* A PAE host outside IA-32e mode has its PDPTEs loaded from host CR3. */
  if (pae_outside_ia32e(s)) read_pdptes(m, s->cr3, s->pdpte);
  /* "Updating Non-Register State": no blocking by STI or MOV SS; the
   * processor is active. */
  s->sti_blocking = s->movss_blocking = false;
  s->halted = false;
}

/* ---- MSR lists -------------------------------------------------------------- */

/* MSRs no MSR-load list may name ("Loading MSRs"): the x2APIC range
 * 800H-8FFH, IA32_FS_BASE, IA32_GS_BASE, IA32_SMM_MONITOR_CTL, and
 * IA32_SMBASE (9EH, SMM only). */
static bool load_forbidden(uint32_t index)
{
  return (index >> 8) == 8 || index == MSR_IA32_FS_BASE || index == MSR_IA32_GS_BASE ||
         index == MSR_IA32_SMM_MONITOR_CTL || index == 0x9Eu;
}

unsigned vmx_msr_list_load(const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr, uint64_t pa, uint32_t count)
{
  for (uint32_t i = 0; i < count; i++) {
    uint8_t e[16];
    uint32_t index, reserved;
    uint64_t value;
    if (!m->read(m->ctx, pa + 16ull * i, e, sizeof e)) return i + 1;
    memcpy(&index, e, 4);
    memcpy(&reserved, e + 4, 4);
    memcpy(&value, e + 8, 8);
    if (reserved || load_forbidden(index)) return i + 1;
    if (!msr->wrmsr(msr->ctx, index, value)) return i + 1;
  }
  return 0;
}

/* "Saving MSRs": an entry naming the x2APIC range or IA32_SMBASE, with
 * reserved bits set, or whose RDMSR would fault, aborts. */
bool vmx_msr_list_store(const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr, uint64_t pa, uint32_t count)
{
  for (uint32_t i = 0; i < count; i++) {
    uint8_t e[8];
    uint32_t index, reserved;
    uint64_t value;
    if (!m->read(m->ctx, pa + 16ull * i, e, sizeof e)) return false;
    memcpy(&index, e, 4);
    memcpy(&reserved, e + 4, 4);
    if (reserved || (index >> 8) == 8 || index == 0x9Eu) return false;
    if (!msr->rdmsr(msr->ctx, index, &value)) return false;
    if (!m->write(m->ctx, pa + 16ull * i + 8, &value, 8)) return false;
  }
  return true;
}

/* ---- whole transitions -------------------------------------------------------- */

/* "VMX Aborts": the abort indicator (bytes 4-7 of the VMCS region) takes
 * the reason; the processor enters shutdown. */
enum { VMX_ABORT_SAVE_GUEST_MSRS = 1, VMX_ABORT_LOAD_HOST_MSRS = 4 };

static bool vmx_abort(struct vmx_cpu *x, const struct vmx_mem_ops *m, uint32_t code)
{
  x->current.abort = code;
  if (x->current_vmcs_ptr != VMX_INVALID_PTR && m->write) m->write(m->ctx, x->current_vmcs_ptr + 4, &code, 4);
  return false;
}

static bool back_to_host(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_mem_ops *m,
                         const struct vmx_msr_ops *msr)
{
  const struct vmcs *v = &x->current;
  x->non_root = false;
  vmx_load_host_state(v, s, m);
  if (vmx_msr_list_load(m, msr, F(VM_EXIT_MSR_LOAD_ADDR), (uint32_t)F(VM_EXIT_MSR_LOAD_COUNT)))
    return vmx_abort(x, m, VMX_ABORT_LOAD_HOST_MSRS);
  return true;
}

bool vmx_vm_exit(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_exit_info *e, const struct vmx_mem_ops *m,
                 const struct vmx_msr_ops *msr)
{
  struct vmcs *v = &x->current;
  vmx_record_exit(v, e);
  vmx_save_guest_state(v, s);
  vmcs_set(v, VMCSI_GUEST_PENDING_DBG_EXCEPTIONS, e->pending_dbg);
  /* "Saving Guest State": processors that support the 1-setting of
   * "unrestricted guest" store EFER.LMA into the "IA-32e mode guest"
   * VM-entry control (IA32_VMX_MISC bit 5 reports it). */
  if (x->caps->misc & MISC_STORE_LMA) {
    uint64_t entry = F(VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
    vmcs_set(v, VMCSI_VM_ENTRY_CONTROLS, entry | ((s->efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
  }
  if (!vmx_msr_list_store(m, msr, F(VM_EXIT_MSR_STORE_ADDR), (uint32_t)F(VM_EXIT_MSR_STORE_COUNT)))
    return vmx_abort(x, m, VMX_ABORT_SAVE_GUEST_MSRS);
  return back_to_host(x, s, m, msr);
}

bool vmx_vm_enter(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr,
                  bool launch)
{
  struct vmcs *v = &x->current;
  vmx_load_guest_state(v, s, m);
  x->non_root = true;
  /* The first PAUSE at CPL 0 after VM entry starts a loop ("Instructions
   * That Cause VM Exits Conditionally", PAUSE). */
  x->ple.seen = false;
  unsigned failed = vmx_msr_list_load(m, msr, F(VM_ENTRY_MSR_LOAD_ADDR), (uint32_t)F(VM_ENTRY_MSR_LOAD_COUNT));
  if (!failed) return true;
  /* "VM-Entry Failures During or After Loading Guest State": exit reason
   * 34 with bit 31 set, the qualification names the failing entry (from
   * 1); the VMLAUNCH leaves the launch state clear; host state is loaded
   * as on a VM exit (state the guest-state loading changed and the
   * host-state loading does not cover, such as a guest PAT, stays). */
  vmcs_set(v, VMCSI_VM_EXIT_REASON, EXIT_REASON_MSR_LOADING | EXIT_REASON_ENTRY_FAILURE_BIT);
  vmcs_set(v, VMCSI_EXIT_QUALIFICATION, failed);
  if (launch) v->launched = false;
  back_to_host(x, s, m, msr);
  return false;
}

bool vmx_entry_failed(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_mem_ops *m,
                      const struct vmx_msr_ops *msr)
{
  return back_to_host(x, s, m, msr);
}
