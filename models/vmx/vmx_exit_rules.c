/* The rules that decide whether something a guest does in VMX non-root
 * operation causes a VM exit, and the exit qualifications they record
 * (SDM Vol. 3C, chapter "VMX Non-Root Operation": "Instructions That Cause
 * VM Exits Unconditionally", "Instructions That Cause VM Exits
 * Conditionally", "Exceptions"; chapter "VM Exits": "Exit Qualification for
 * VM Exits Due to ...", "Information for VM Exits Due to Instruction
 * Execution"). */
#include "models/vmx/vmx_exit.h"

#include "models/vmx/vmx_bits.h"

const struct vmx_exit_reason_info vmx_exit_reasons[] = {
#define VMX_EXIT(num, name, modelled, section) { num, #name, modelled, section },
#include "models/vmx/exit_reasons.def"
#undef VMX_EXIT
};
const unsigned vmx_exit_reason_count = sizeof vmx_exit_reasons / sizeof vmx_exit_reasons[0];

const struct vmx_exit_reason_info *vmx_exit_reason_find(unsigned basic)
{
  for (unsigned i = 0; i < vmx_exit_reason_count; i++)
    if (vmx_exit_reasons[i].number == basic) return &vmx_exit_reasons[i];
  return NULL;
}

const char *vmx_exit_reason_name(unsigned basic)
{
  const struct vmx_exit_reason_info *r = vmx_exit_reason_find(basic);
  return r ? r->name : "UNKNOWN";
}

static uint32_t proc(const struct vmcs *v) { return (uint32_t)vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL); }

/* "Secondary Processor-Based VM-Execution Controls": "If this control
 * [activate secondary controls] is 0, the logical processor operates as if
 * all the secondary processor-based VM-execution controls were also 0." */
uint32_t vmx_proc2(const struct vmcs *v)
{
  if (!(proc(v) & PROC_SECONDARY_CTLS)) return 0;
  return (uint32_t)vmcs_get(v, VMCSI_SECONDARY_VM_EXEC_CONTROL);
}

bool vmx_insn_exits(const struct vmcs *v, enum vmx_insn_kind k, unsigned *reason)
{
  static const struct { unsigned reason; int ctl; uint32_t bit; } rules[VMX_KIND_COUNT] = {
#define ALWAYS 0
#define PROC 1
#define PROC2 2
#define X(kind, rsn, ctl, bit) [VMX_KIND_##kind] = { VMX_EXIT_##rsn, ctl, bit },
    VMX_INSN_EXIT_RULES(X)
#undef X
#undef ALWAYS
#undef PROC
#undef PROC2
  };
  if ((unsigned)k >= VMX_KIND_COUNT) return false;
  *reason = rules[k].reason;
  bool exits;
  switch (rules[k].ctl) {
  case 0: exits = true; break;
  case 1: exits = (proc(v) & rules[k].bit) != 0; break;
  case 2: exits = (vmx_proc2(v) & rules[k].bit) != 0; break;
  default: return false;
  }
  /* "RDTSCP. The instruction causes a VM exit if the 'RDTSC exiting' and
   * 'enable RDTSCP' VM-execution controls are both 1." "INVPCID. The
   * instruction causes a VM exit if the 'INVLPG exiting' and 'enable
   * INVPCID' VM-execution controls are both 1." */
  if (k == VMX_KIND_RDTSCP) exits = exits && (vmx_proc2(v) & PROC2_ENABLE_RDTSCP);
  if (k == VMX_KIND_INVPCID) exits = exits && (vmx_proc2(v) & PROC2_ENABLE_INVPCID);
  return exits;
}

bool vmx_pause_loop_exits(const struct vmcs *v, struct vmx_pause_loop *p, unsigned cpl, uint64_t now)
{
  /* "The 'PAUSE-loop exiting' VM-execution control is ignored if CPL > 0"
   * and "if CPL = 0 and 'PAUSE exiting' is 1". */
  if (cpl > 0 || (proc(v) & PROC_PAUSE_EXITING) || !(vmx_proc2(v) & PROC2_PAUSE_LOOP_EXITING)) return false;
  uint32_t gap = (uint32_t)vmcs_get(v, VMCSI_PLE_GAP), window = (uint32_t)vmcs_get(v, VMCSI_PLE_WINDOW);
  bool exits = false;
  /* "If this amount of time exceeds the value of the VM-execution control
   * field PLE_Gap, the processor considers this execution to be the first
   * execution of PAUSE in a loop. (It also does so for the first execution
   * of PAUSE at CPL 0 after VM entry.) Otherwise, the processor determines
   * the amount of time since the most recent execution of PAUSE that was
   * considered to be the first in a loop. If this amount of time exceeds
   * the value of the VM-execution control field PLE_Window, a VM exit
   * occurs." */
  if (!p->seen || now - p->last > gap)
    p->first = now;
  else
    exits = now - p->first > window;
  p->seen = true;
  p->last = now;
  return exits;
}

bool vmx_insn_ud_in_guest(const struct vmcs *v, enum vmx_insn_kind k)
{
  if (k == VMX_KIND_RDTSCP) return !(vmx_proc2(v) & PROC2_ENABLE_RDTSCP);
  if (k == VMX_KIND_INVPCID) return !(vmx_proc2(v) & PROC2_ENABLE_INVPCID);
  return false;
}

bool vmx_fault_precedes_exit(enum vmx_insn_kind k, unsigned cpl, uint64_t cr4)
{
  switch (k) {
  case VMX_KIND_CPUID: case VMX_KIND_PAUSE: case VMX_KIND_RDRAND: case VMX_KIND_RDSEED: return false;
  case VMX_KIND_GETSEC: return !(cr4 & CR4_SMXE);
  case VMX_KIND_XSETBV: return !(cr4 & CR4_OSXSAVE) || cpl > 0;
  case VMX_KIND_RDPMC: return cpl > 0 && !(cr4 & CR4_PCE);
  case VMX_KIND_RDTSC: case VMX_KIND_RDTSCP: return cpl > 0 && (cr4 & CR4_TSD);
  case VMX_KIND_MWAIT: case VMX_KIND_MONITOR: return cpl > 0;
  case VMX_KIND_INVD: case VMX_KIND_WBINVD: case VMX_KIND_HLT: case VMX_KIND_INVLPG: case VMX_KIND_INVPCID:
    return cpl > 0;
  /* "MOV DR is an exception to this rule" ("Relative Priority of Faults
   * and VM Exits"; "Instructions That Cause VM Exits Conditionally", MOV
   * DR): its exit takes priority over the #GP at CPL > 0 and the #UD of
   * DR4/DR5 with CR4.DE = 1, and, as every fault-like exit, over the
   * general-detect #DB ("Fault-like VM exits have priority over
   * exceptions other than those mentioned above"). */
  case VMX_KIND_MOV_DR: return false;
  /* "Relative Priority of Faults and VM Exits": privilege-level faults
   * first — the loads are privileged, the stores only under UMIP (SDM
   * Vol. 3A, "User-Mode Instruction Prevention"). */
  case VMX_KIND_GDTR_IDTR_LOAD: case VMX_KIND_LDTR_TR_LOAD: return cpl > 0;
  case VMX_KIND_GDTR_IDTR_STORE: case VMX_KIND_LDTR_TR_STORE: return cpl > 0 && (cr4 & CR4_UMIP);
  case VMX_KIND_COUNT: break;
  }
  return false;
}

/* ---- control registers ---------------------------------------------------- */

static bool cr0_or_4(unsigned cr) { return cr == 0 || cr == 4; }

static uint64_t mask_of(const struct vmcs *v, unsigned cr)
{
  return vmcs_get(v, cr == 0 ? VMCSI_CR0_GUEST_HOST_MASK : VMCSI_CR4_GUEST_HOST_MASK);
}

static uint64_t shadow_of(const struct vmcs *v, unsigned cr)
{
  return vmcs_get(v, cr == 0 ? VMCSI_CR0_READ_SHADOW : VMCSI_CR4_READ_SHADOW);
}

/* "Instructions That Cause VM Exits Conditionally": CLTS, LMSW, MOV from
 * CR3, MOV from CR8, MOV to CR0, MOV to CR3, MOV to CR4, MOV to CR8. */
bool vmx_cr_access_exits(const struct vmcs *v, unsigned cr, enum vmx_cr_access a, uint64_t value)
{
  switch (a) {
  case VMX_CR_MOV_TO:
    if (cr0_or_4(cr)) {
      /* "...if, for any bit set in the CR0 (CR4) guest/host mask, the
       * corresponding bit in the source operand differs from the
       * corresponding bit in the CR0 (CR4) read shadow." */
      uint64_t m = mask_of(v, cr);
      return ((value ^ shadow_of(v, cr)) & m) != 0;
    }
    if (cr == 3) {
      /* "...unless [CR3-load exiting] is 0 or the value of its source
       * operand is equal to one of the CR3-target values specified in the
       * VMCS"; only the first CR3-target-count values count. */
      if (!(proc(v) & PROC_CR3_LOAD_EXITING)) return false;
      uint64_t n = vmcs_get(v, VMCSI_CR3_TARGET_COUNT);
      for (uint64_t i = 0; i < n && i < 4; i++)
        if (vmcs_get(v, (enum vmcs_field)(VMCSI_CR3_TARGET_VALUE0 + i)) == value) return false;
      return true;
    }
    if (cr == 8) return (proc(v) & PROC_CR8_LOAD_EXITING) != 0;
    return false;
  case VMX_CR_MOV_FROM:
    if (cr == 3) return (proc(v) & PROC_CR3_STORE_EXITING) != 0;
    if (cr == 8) return (proc(v) & PROC_CR8_STORE_EXITING) != 0;
    return false; /* MOV from CR0/CR4 reads the shadow, never exits */
  case VMX_CR_CLTS:
    /* "...if the bits corresponding to CR0.TS in the CR0 guest/host mask
     * and the CR0 read shadow are both 1." */
    return (mask_of(v, 0) & CR0_TS) && (shadow_of(v, 0) & CR0_TS);
  case VMX_CR_LMSW: {
    /* "...if either of the following are true: the bits corresponding to
     * CR0.PE in the mask and the source operand are both 1 and the bit in
     * the read shadow is 0; for any of CR0.MP, EM, TS set in the mask, the
     * source operand's bit differs from the read shadow's." */
    uint64_t m = mask_of(v, 0), sh = shadow_of(v, 0);
    if ((m & CR0_PE) && (value & CR0_PE) && !(sh & CR0_PE)) return true;
    return ((value ^ sh) & m & (CR0_MP | CR0_EM | CR0_TS)) != 0;
  }
  }
  return false;
}

/* "Exit Qualification for Control-Register Accesses". */
uint64_t vmx_cr_qualification(unsigned cr, enum vmx_cr_access a, unsigned gpr, bool lmsw_mem, uint16_t lmsw_src)
{
  uint64_t q = (cr & 0xF) | ((uint64_t)a << 4);
  if (a == VMX_CR_MOV_TO || a == VMX_CR_MOV_FROM) q |= (uint64_t)(gpr & 0xF) << 8;
  if (a == VMX_CR_LMSW) q |= (lmsw_mem ? 1u << 6 : 0) | ((uint64_t)lmsw_src << 16);
  return q;
}

/* "Exit Qualification for MOV DR". */
uint64_t vmx_dr_qualification(unsigned dr, bool from_dr, unsigned gpr)
{
  return (dr & 7) | (from_dr ? 1u << 4 : 0) | ((uint64_t)(gpr & 0xF) << 8);
}

void vmx_task_switch_exit(uint16_t tss_selector, enum vmx_task_switch_source source, unsigned insn_len,
                          struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_TASK_SWITCH, .insn_len = insn_len,
                               .qualification = tss_selector | ((uint64_t)(source & 3u) << 30) };
}

/* "Changes to Instruction Behavior in VMX Non-Root Operation", MOV from
 * CR0 / CR4: "...for each bit set in the guest/host mask, the value of the
 * corresponding bit in the read shadow". */
uint64_t vmx_cr_read_shadowed(const struct vmcs *v, unsigned cr, uint64_t actual)
{
  if (!cr0_or_4(cr)) return actual;
  uint64_t m = mask_of(v, cr);
  return (actual & ~m) | (shadow_of(v, cr) & m);
}

/* Same section, MOV to CR0 / CR4 without an exit: "...bits set in the
 * guest/host mask are not modified". */
uint64_t vmx_cr_write_masked(const struct vmcs *v, unsigned cr, uint64_t old, uint64_t value)
{
  if (!cr0_or_4(cr)) return value;
  uint64_t m = mask_of(v, cr);
  return (old & m) | (value & ~m);
}

/* ---- I/O and MSRs --------------------------------------------------------- */

static bool bitmap_bit(const struct vmx_mem_ops *m, uint64_t base, uint32_t bit)
{
  uint8_t byte;
  if (!m || !m->read || !m->read(m->ctx, base + bit / 8, &byte, 1)) return true;
  return (byte >> (bit & 7)) & 1;
}

/* "I/O instructions ... If the 'use I/O bitmaps' VM-execution control is
 * 0, the instruction causes a VM exit if the 'unconditional I/O exiting'
 * VM-execution control is 1. If [it] is 1, the instruction causes a VM
 * exit if it attempts to access an I/O port corresponding to a bit set to
 * 1 in the appropriate I/O bitmap ... If an I/O operation 'wraps around'
 * the 16-bit I/O-port space (accesses ports FFFFH and 0000H), the I/O
 * instruction causes a VM exit." ("I/O-Bitmap Addresses": bitmap A covers
 * ports 0000H-7FFFH, bitmap B 8000H-FFFFH.) */
bool vmx_io_exits(const struct vmcs *v, const struct vmx_mem_ops *m, uint16_t port, unsigned size)
{
  if (!(proc(v) & PROC_USE_IO_BITMAPS)) return (proc(v) & PROC_UNCOND_IO_EXITING) != 0;
  if ((uint32_t)port + size > 0x10000) return true;
  for (unsigned i = 0; i < size; i++) {
    uint16_t p = (uint16_t)(port + i);
    uint64_t base = vmcs_get(v, p < 0x8000 ? VMCSI_IO_BITMAP_A : VMCSI_IO_BITMAP_B);
    if (bitmap_bit(m, base, p & 0x7FFF)) return true;
  }
  return false;
}

/* "Exit Qualification for I/O Instructions". */
uint64_t vmx_io_qualification(unsigned size, bool in, bool string, bool rep, bool imm, uint16_t port)
{
  return ((size - 1) & 7) | (in ? 1u << 3 : 0) | (string ? 1u << 4 : 0) | (rep ? 1u << 5 : 0) |
         (imm ? 1u << 6 : 0) | ((uint64_t)port << 16);
}

/* "RDMSR / WRMSR ... If the 'use MSR bitmaps' VM-execution control is 0,
 * the instruction causes a VM exit. If [it] is 1, [it] causes a VM exit if
 * the value of RCX is in neither of the ranges 00000000H-00001FFFH and
 * C0000000H-C0001FFFH, or [the bit for RCX in the read (write) bitmap for
 * low or high MSRs] is 1." ("MSR-Bitmap Address": read low at 0, read high
 * at 1024, write low at 2048, write high at 3072.) */
bool vmx_msr_exits(const struct vmcs *v, const struct vmx_mem_ops *m, uint32_t msr, bool write)
{
  if (!(proc(v) & PROC_USE_MSR_BITMAPS)) return true;
  uint64_t base = vmcs_get(v, VMCSI_MSR_BITMAP) + (write ? 2048 : 0);
  if (msr <= 0x1FFF) return bitmap_bit(m, base, msr);
  if (msr >= 0xC0000000u && msr <= 0xC0001FFFu) return bitmap_bit(m, base + 1024, msr - 0xC0000000u);
  return true;
}

/* ---- the VMX-preemption timer --------------------------------------------- */

bool vmx_preemption_timer_active(const struct vmcs *v)
{
  return (vmcs_get(v, VMCSI_PIN_BASED_VM_EXEC_CONTROL) & PIN_PREEMPTION_TIMER) != 0;
}

bool vmx_preemption_timer_fires_at_entry(const struct vmcs *v)
{
  return vmx_preemption_timer_active(v) && vmcs_get(v, VMCSI_VMX_PREEMPTION_TIMER_VALUE) == 0;
}

/* "...the timer counts down by 1 every time bit X in the TSC changes due
 * to a TSC increment": between TSC values a and b bit X changes
 * (b >> X) - (a >> X) times. */
uint64_t vmx_preemption_timer_expiry(uint64_t start, uint32_t value, unsigned rate)
{
  rate &= 0x1F;
  unsigned __int128 t = ((unsigned __int128)((start >> rate) + value)) << rate;
  return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

uint32_t vmx_preemption_timer_value_at(uint64_t start, uint32_t value, unsigned rate, uint64_t now)
{
  rate &= 0x1F;
  if (now <= start) return value;
  uint64_t ticks = (now >> rate) - (start >> rate);
  return ticks >= value ? 0 : value - (uint32_t)ticks;
}

void vmx_save_preemption_timer(struct vmcs *v, uint32_t value)
{
  if (vmcs_get(v, VMCSI_VM_EXIT_CONTROLS) & EXIT_SAVE_PREEMPT_TIMER)
    vmcs_set(v, VMCSI_VMX_PREEMPTION_TIMER_VALUE, value);
}

/* ---- NMIs -------------------------------------------------------------------- */

static uint32_t pin(const struct vmcs *v) { return (uint32_t)vmcs_get(v, VMCSI_PIN_BASED_VM_EXEC_CONTROL); }

bool vmx_iret_unblocks_nmis(const struct vmcs *v)
{
  if (!(pin(v) & PIN_NMI_EXITING)) return true;
  return (pin(v) & PIN_VIRTUAL_NMIS) != 0;
}

bool vmx_nmi_window_open(const struct vmcs *v, bool nmi_blocking, bool sti_or_movss_blocking)
{
  if (!(pin(v) & PIN_VIRTUAL_NMIS) || !(proc(v) & PROC_NMI_WINDOW_EXITING)) return false;
  return !nmi_blocking && !sti_or_movss_blocking;
}

void vmx_nmi_window_exit(struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_NMI_WINDOW };
}

bool vmx_injection_blocks_nmis(const struct vmcs *v)
{
  uint32_t info = (uint32_t)vmcs_get(v, VMCSI_VM_ENTRY_INTR_INFO);
  return (info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == INTR_TYPE_NMI;
}

void vmx_note_nmi_unblocking_by_iret(const struct vmcs *v, struct vmx_exit_info *e)
{
  if ((pin(v) & PIN_NMI_EXITING) && !(pin(v) & PIN_VIRTUAL_NMIS)) return;
  if (e->idt_info & INTR_INFO_VALID) return;
  if ((e->reason & 0xFFFF) == VMX_EXIT_EXCEPTION_NMI && (e->intr_info & INTR_INFO_VALID) &&
      INTR_INFO_VECTOR(e->intr_info) != 8)
    e->intr_info |= 1u << 12;
  if ((e->reason & 0xFFFF) == VMX_EXIT_EPT_VIOLATION) e->qualification |= 1u << 12;
}

bool vmx_nmi_held(const struct vmcs *v, bool blocking)
{
  if (pin(v) & PIN_VIRTUAL_NMIS) return false;
  return blocking;
}

bool vmx_nmi_exits(const struct vmcs *v)
{
  return (pin(v) & PIN_NMI_EXITING) != 0;
}

void vmx_nmi_exit(struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI,
                               .intr_info = INTR_INFO_VALID | ((uint32_t)INTR_TYPE_NMI << 8) | 2 };
}

bool vmx_nmi_blocking_after_exit(const struct vmcs *v, bool blocking, const struct vmx_exit_info *e)
{
  if ((e->reason & 0xFFFF) == VMX_EXIT_EXCEPTION_NMI && (e->intr_info & INTR_INFO_VALID) &&
      INTR_INFO_TYPE(e->intr_info) == INTR_TYPE_NMI)
    return true;
  if (pin(v) & PIN_VIRTUAL_NMIS) return false;
  return blocking;
}

/* ---- the monitor trap flag ------------------------------------------------ */

bool vmx_mtf_active(const struct vmcs *v)
{
  return (proc(v) & PROC_MONITOR_TRAP_FLAG) != 0;
}

bool vmx_mtf_pending_after_entry(const struct vmcs *v)
{
  uint32_t info = (uint32_t)vmcs_get(v, VMCSI_VM_ENTRY_INTR_INFO);
  if (!(info & INTR_INFO_VALID)) return false;
  if (INTR_INFO_TYPE(info) == INTR_TYPE_OTHER_EVENT) return true;
  return vmx_mtf_active(v);
}

void vmx_mtf_exit(struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_MONITOR_TRAP_FLAG };
}

bool vmx_mtf_rep_complete(unsigned address_width, uint64_t rcx)
{
  if (address_width == 16) return (rcx & 0xFFFF) == 0;
  if (address_width == 32) return (rcx & 0xFFFFFFFFull) == 0;
  return rcx == 0;
}

/* ---- debug exceptions ------------------------------------------------------ */

uint64_t vmx_dr7_trap_breakpoints(uint64_t dr7)
{
  uint64_t mask = 0;
  for (unsigned i = 0; i < 4; i++)
    if ((dr7 >> (16 + 4 * i)) & 3) mask |= 1ull << i;
  return mask;
}

uint64_t vmx_debug_trap_conditions(uint64_t dr6_before, uint64_t dr6_after, bool tf, uint64_t dr7)
{
  uint64_t c = dr6_after & vmx_dr7_trap_breakpoints(dr7);
  bool bs_new = (dr6_after & ~dr6_before & VMX_DBG_BS) != 0;
  if (bs_new || ((dr6_after & VMX_DBG_BS) && tf)) c |= VMX_DBG_BS;
  return c;
}

uint64_t vmx_pending_dbg_of_trap(uint64_t conditions, uint64_t dr7)
{
  uint64_t bps = conditions & vmx_dr7_trap_breakpoints(dr7);
  uint64_t p = bps | (conditions & VMX_DBG_BS);
  for (unsigned i = 0; i < 4; i++)
    if ((bps >> i & 1) && (dr7 >> (2 * i) & 3)) p |= VMX_DBG_ENABLED_BP;
  return p;
}

uint64_t vmx_pending_dbg_at_entry(const struct vmcs *v, bool vectoring, bool movss_blocking)
{
  uint64_t p = vmcs_get(v, VMCSI_GUEST_PENDING_DBG_EXCEPTIONS);
  if (vectoring || movss_blocking || !(p & (VMX_DBG_BS | VMX_DBG_ENABLED_BP))) return 0;
  return p & (VMX_DBG_B3_B0 | VMX_DBG_BS);
}

uint64_t vmx_pending_dbg_held_at_entry(const struct vmcs *v, bool vectoring, bool movss_blocking)
{
  uint64_t p = vmcs_get(v, VMCSI_GUEST_PENDING_DBG_EXCEPTIONS);
  if (vectoring || !movss_blocking || !(p & (VMX_DBG_BS | VMX_DBG_ENABLED_BP))) return 0;
  return p & (VMX_DBG_B3_B0 | VMX_DBG_ENABLED_BP | VMX_DBG_BS);
}

uint64_t vmx_dr6_after_delivery(uint64_t dr6, uint64_t conditions)
{
  return dr6 | (conditions & (VMX_DBG_B3_B0 | VMX_DBG_BD | VMX_DBG_BS));
}

/* ---- external interrupts and the interrupt window ------------------------ */

bool vmx_external_interrupt_exits(const struct vmcs *v)
{
  return (vmcs_get(v, VMCSI_PIN_BASED_VM_EXEC_CONTROL) & PIN_EXT_INTR_EXITING) != 0;
}

bool vmx_exit_acknowledges_interrupt(const struct vmcs *v)
{
  return (vmcs_get(v, VMCSI_VM_EXIT_CONTROLS) & EXIT_ACK_INTR_ON_EXIT) != 0;
}

/* "Basic VM-Exit Information": the qualification of an external-interrupt
 * exit is 0; the interruption information is valid only when the
 * interrupt was acknowledged. */
void vmx_external_interrupt_exit(bool acknowledged, unsigned vector, struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXTERNAL_INTERRUPT };
  if (acknowledged) e->intr_info = vmx_intr_info(vector, INTR_TYPE_EXT_INTR, false);
}

bool vmx_interrupt_window_open(const struct vmcs *v, uint64_t rflags, bool sti_or_movss_blocking)
{
  if (!(vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL) & PROC_INTR_WINDOW_EXITING)) return false;
  return (rflags & RFLAGS_IF) && !sti_or_movss_blocking;
}

void vmx_interrupt_window_exit(struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_INTERRUPT_WINDOW };
}

/* ---- exceptions ----------------------------------------------------------- */

/* "Exceptions": "...a VM exit if the bit corresponding to the exception's
 * vector is set in the exception bitmap. For page faults: if
 * (PFEC & PFEC_MASK) = PFEC_MATCH the page fault exits when bit 14 of the
 * exception bitmap is 1; otherwise it exits when bit 14 is 0." */
bool vmx_exception_exits(const struct vmcs *v, unsigned vector, uint32_t error)
{
  if (vector > 31) return false;
  bool bit = (vmcs_get(v, VMCSI_EXCEPTION_BITMAP) >> vector) & 1;
  if (vector != 14) return bit;
  uint32_t mask = (uint32_t)vmcs_get(v, VMCSI_PAGE_FAULT_ERROR_CODE_MASK);
  uint32_t match = (uint32_t)vmcs_get(v, VMCSI_PAGE_FAULT_ERROR_CODE_MATCH);
  return ((error & mask) == match) ? bit : !bit;
}

/* Software exceptions (INT3, INTO: type 6) and privileged software
 * exceptions (INT1: type 5) keep their type and length; RIP is saved at
 * the instruction (the caller moves it back). The #PF qualification is the
 * faulting linear address; a #DB's qualification reports the debug
 * conditions that caused it ("Exit Qualification for Debug Exceptions":
 * B3-B0, BD, BS), none of which INT1 is, so INT1's is 0. */
bool vmx_exception_exit(const struct vmcs *v, const struct vmx_event *ev, struct vmx_exit_info *e)
{
  uint32_t error = ev->has_error ? ev->error : 0;
  if (!vmx_exception_exits(v, ev->vector, error)) return false;
  unsigned type = ev->priv_sw_exception ? INTR_TYPE_PRIV_SW_EXCEPTION
                  : ev->sw_exception    ? INTR_TYPE_SW_EXCEPTION
                  : ev->vector == 2     ? INTR_TYPE_NMI
                                        : INTR_TYPE_HW_EXCEPTION;
  bool with_length = ev->sw_exception || ev->priv_sw_exception;
  bool deliver = ev->has_error && ev->protected_mode;
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI, .intr_info = vmx_intr_info(ev->vector, type, deliver),
                               .intr_error = deliver ? error : 0,
                               .qualification = ev->vector == 14 ? ev->fault_address
                                                : ev->vector == 1 && type == INTR_TYPE_HW_EXCEPTION
                                                    ? ev->debug_conditions & (VMX_DBG_B3_B0 | VMX_DBG_BD | VMX_DBG_BS)
                                                    : 0,
                               .insn_len = with_length ? ev->insn_len : 0 };
  return true;
}

void vmx_record_delivery(struct vmx_exit_info *e, unsigned vector, unsigned type, bool has_error, uint32_t error,
                         unsigned insn_len)
{
  e->idt_info = vmx_intr_info(vector, type, has_error);
  e->idt_error = has_error ? error : 0;
  if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION)
    e->insn_len = insn_len;
}

bool vmx_triple_fault_exit(const struct vmx_cpu *x, struct vmx_exit_info *e)
{
  if (!x->non_root) return false;
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_TRIPLE_FAULT };
  return true;
}

/* "Exit Qualification for EPT Violations": bit 7 says the guest-linear
 * address field is valid. */
void vmx_ept_violation_exit(uint64_t qualification, uint64_t gpa, uint64_t gla, struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = qualification,
                               .guest_physical = gpa, .physical_valid = true };
  if (qualification & (1u << 7)) {
    e->guest_linear = gla;
    e->linear_valid = true;
  }
}

void vmx_ept_misconfig_exit(uint64_t gpa, struct vmx_exit_info *e)
{
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_EPT_MISCONFIG, .guest_physical = gpa, .physical_valid = true };
}

/* "Information for VM Exits Due to Instruction Execution", table "Format of
 * the VM-Exit Instruction-Information Field as Used for VMCLEAR, VMPTRLD,
 * VMPTRST, VMXON, XRSTORS, and XSAVES" and "... for VMREAD and VMWRITE"
 * (and INVEPT, INVPCID, INVVPID). */
uint32_t vmx_insn_info_encode(const struct vmx_insn_operands *o)
{
  unsigned scale = o->scale == 8 ? 3 : o->scale == 4 ? 2 : o->scale == 2 ? 1 : 0;
  uint32_t info = scale | ((o->reg1 & 0xF) << 3) | ((o->addr_size & 7) << 7) | (o->reg_form ? 1u << 10 : 0) |
                  ((o->segment & 7) << 15) | ((o->reg2 & 0xFu) << 28);
  if (o->reg_form) return info & ~(3u | (7u << 15));  /* no memory operand: scaling and segment undefined */
  info |= o->index < 0 ? 1u << 22 : ((uint32_t)o->index & 0xF) << 18;
  info |= o->base < 0 ? 1u << 27 : ((uint32_t)o->base & 0xF) << 23;
  return info;
}

uint32_t vmx_desc_table_insn_info(const struct vmx_insn_operands *o, bool gdtr_idtr, bool opsize32,
                                  unsigned identity)
{
  struct vmx_insn_operands f = *o;
  f.reg2 = 0;
  /* LIDT/LGDT/SIDT/SGDT always have a memory operand: bits 6:3 and 10
   * are undefined and cleared. */
  if (gdtr_idtr) f.reg1 = 0, f.reg_form = false;
  uint32_t info = vmx_insn_info_encode(&f) | ((identity & 3u) << 28);
  if (gdtr_idtr && opsize32) info |= 1u << 11;
  return info;
}

bool vmx_exit_keeps_sti_movss_blocking(const struct vmx_exit_info *e)
{
  if (e->idt_info & INTR_INFO_VALID) return false;
  /* "Suppose that a VM exit is caused directly by an x87 FPU
   * Floating-Point Error (#MF) ...: there is no blocking by STI or by
   * MOV SS when the VM exit commences." */
  bool exception = (e->reason & 0xFFFF) == VMX_EXIT_EXCEPTION_NMI && (e->intr_info & INTR_INFO_VALID);
  return !(exception && INTR_INFO_VECTOR(e->intr_info) == 16);
}
