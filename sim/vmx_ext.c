/* The VMX extension of the machine (sim/virt.h) over models/vmx: its MSRs
 * (capability MSRs, IA32_FEATURE_CONTROL), the CR0/CR4 rules of VMX
 * operation, the guest's translation context (EPT, VPID), the world-switch
 * glue, and the run summary. The VMX instructions are in vmx_exec.c, the
 * exits in vmx_exits.c. */
#include <stdlib.h>
#include <string.h>

#include "models/vmx/caps.h"
#include "sim/debug_bp.h"
#include "sim/irq.h"
#include "sim/msr.h"
#include "sim/virt.h"
#include "sim/vmx_internal.h"
/* After the headers whose enums name the same MSRs (caps.h, msr.h). */
#include "models/vmx/vmx_bits.h"

static struct vmx_ext *ext(struct machine *m) { return m->virt_state; }

/* ---- memory and MSRs for the model ------------------------------------- */

static bool phys_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
  struct machine *m = ctx;
  if (pa >= m->ram_size || len > m->ram_size - pa) return false;
  memcpy(buf, m->ram + pa, len);
  return true;
}

static bool phys_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  struct machine *m = ctx;
  if (pa >= m->ram_size || len > m->ram_size - pa) return false;
  memcpy(m->ram + pa, buf, len);
  return true;
}

/* The VM-entry checks ask whether a WRMSR would succeed before anything is
 * loaded; an MSR the machine has is taken as writable there, and the value
 * is tried for real when the list is loaded (a failure then is the same
 * VM-entry failure, reason 34, with the same qualification). */
static bool phys_wrmsr_ok(void *ctx, uint32_t index, uint64_t value)
{
  (void)value;
  uint64_t v;
  return msr_read(ctx, index, &v);
}

/* INVEPT / INVVPID on the MMU's tagged TLB. */
static void invalidate(void *ctx, int insn, uint64_t type, uint64_t tag, uint64_t addr)
{
  struct machine *m = ctx;
  if (insn == VMX_INSN_INVEPT) mmu_invept(&m->mmu, (unsigned)type, tag);
  else mmu_invvpid(&m->mmu, (unsigned)type, (uint16_t)tag, addr);
  m->tlb_flush = true;
}

struct vmx_mem_ops vmx_ext_mem(struct machine *m)
{
  return (struct vmx_mem_ops){ .read = phys_read, .write = phys_write, .wrmsr_ok = phys_wrmsr_ok,
                               .invalidate = invalidate, .ctx = m };
}

static bool list_rdmsr(void *ctx, uint32_t index, uint64_t *value) { return msr_read(ctx, index, value); }
static bool list_wrmsr(void *ctx, uint32_t index, uint64_t value) { return msr_write(ctx, index, value); }

struct vmx_msr_ops vmx_ext_msrs(struct machine *m)
{
  return (struct vmx_msr_ops){ .rdmsr = list_rdmsr, .wrmsr = list_wrmsr, .ctx = m };
}

/* ---- world switch glue -------------------------------------------------- */

static bool vpid_enabled(struct vmx_ext *x) { return vmx_proc2(&x->cpu.current) & PROC2_ENABLE_VPID; }

/* A new translation context: Unicorn's TLB keeps or flushes what it holds
 * (sim/uc_tlb.c), by the context and the model's invalidations. */
/* A world switch (VM entry, VM exit, failed VM entry). Each clears
 * address-range monitoring (SDM Vol. 3C, "Clearing Address-Range
 * Monitoring" in chapters "VM Entries" and "VM Exits"). */
static void switched(struct machine *m)
{
  m->state_dirty = m->context_switched = true;
  sysinsn_monitor_disarm(m);
}

/* The TSC without the guest's offset: the VMX-preemption timer counts
 * with the processor's TSC ("VMX-Preemption Timer"), which TSC offsetting
 * does not change. */
static uint64_t host_tsc(struct machine *m) { return machine_tsc(m) - ext(m)->tsc_offset; }

static unsigned timer_rate(const struct vmx_ext *x) { return MISC_PREEMPT_RATE(x->caps->misc); }

/* "VMX-Preemption Timer" (chapter "VM Entries"): the entry starts the
 * timer with the timer-value field; the machine stops at the virtual time
 * it reaches 0 (sim/irq.c, virt_ops.deadline). */
static void start_timer(struct machine *m)
{
  struct vmx_ext *x = ext(m);
  x->timer_running = vmx_preemption_timer_active(&x->cpu.current);
  x->timer_deadline = UINT64_MAX;
  if (!x->timer_running) return;
  x->timer_value = (uint32_t)vmcs_get(&x->cpu.current, VMCSI_VMX_PREEMPTION_TIMER_VALUE);
  x->timer_start = host_tsc(m);
  uint64_t expiry = vmx_preemption_timer_expiry(x->timer_start, x->timer_value, timer_rate(x));
  uint64_t after = expiry > x->timer_start ? expiry - x->timer_start : 0;
  x->timer_deadline = after > UINT64_MAX - m->insns ? UINT64_MAX - 1 : m->insns + after;
  trace_event(&m->trace, m->insns, "vmx-timer", "value=%u rate=%u deadline=%llu", x->timer_value, timer_rate(x),
              (unsigned long long)x->timer_deadline);
}

/* "Saving Non-Register State": the timer's value now, stored when "save
 * VMX-preemption timer value" says so; the timer stops with the exit. */
static void stop_timer(struct machine *m)
{
  struct vmx_ext *x = ext(m);
  if (!x->timer_running) return;
  x->timer_running = false;
  x->timer_deadline = UINT64_MAX;
  uint32_t left = vmx_preemption_timer_value_at(x->timer_start, x->timer_value, timer_rate(x), host_tsc(m));
  vmx_save_preemption_timer(&x->cpu.current, left);
}

void vmx_ext_exit(struct machine *m, const struct vmx_exit_info *exit_info)
{
  struct vmx_ext *x = ext(m);
  irq_shadow_sync(m);
  if (!vmx_exit_keeps_sti_movss_blocking(exit_info)) m->cpu.sti_blocking = m->cpu.movss_blocking = false;
  /* "Saving Non-Register State": debug exceptions a VM entry held for
   * blocking by MOV SS and not yet delivered are still pending. */
  struct vmx_exit_info held = *exit_info;
  if (x->held_dbg && !held.pending_dbg) held.pending_dbg = x->held_dbg;
  x->held_dbg = 0;
  /* The same for the #DB of a data or I/O breakpoint that a guest MOV SS
   * or POP SS hit, held for the instruction after it, which (or whose
   * event) exits: the exit saves B3-B0 and bit 12 with blocking by MOV SS
   * (sim/debug_bp.h). */
  unsigned movss_held = m->dbg.active ? debug_bp_take_held(m) : 0;
  if (movss_held) {
    held.pending_dbg |= vmx_pending_dbg_of_trap(movss_held, m->cpu.dr[7]);
    m->cpu.movss_blocking = true;
  }
  const struct vmx_exit_info *e = &held;
  struct vmx_mem_ops mem = vmx_ext_mem(m);
  struct vmx_msr_ops msr = vmx_ext_msrs(m);
  unsigned basic = e->reason & 0xFFFF;
  trace_event(&m->trace, m->insns, "vmexit", "reason=%u(%s) qual=0x%llx rip=0x%llx", basic,
              vmx_exit_reason_name(basic), (unsigned long long)e->qualification, (unsigned long long)m->cpu.rip);
  if (basic < VMX_EXIT_REASON_SLOTS) x->exits[basic]++;
  stop_timer(m);
  /* Stepping and the NMI window end with non-root operation. */
  x->mtf = x->step_armed = false;
  x->nmi_window_at = UINT64_MAX;
  x->iret_unblocked = false;
  /* "Loading Host State": the TSC offset of the guest ends with the exit. */
  m->tsc_offset -= x->tsc_offset;
  x->tsc_offset = 0;
  bool guest_nmi_blocking = m->cpu.nmi_blocking;
  bool ok = vmx_vm_exit(&x->cpu, &m->cpu, e, &mem, &msr);
  m->cpu.nmi_blocking = vmx_nmi_blocking_after_exit(&x->cpu.current, guest_nmi_blocking, e);
  /* "VMX Transitions" (chapter "VMX Support for Address Translation"): with
   * "enable VPID" 0, VM entries and exits invalidate VPID 0's mappings. */
  mmu_vmx_transition(&m->mmu, vpid_enabled(x));
  switched(m);
  irq_rearm(m);
  if (!ok)
    machine_stop(m, STOP_SHUTDOWN, 0, "VMX abort %u during the VM exit (reason %u): the processor shuts down",
                 x->cpu.current.abort, basic);
}

void vmx_ext_entry_failed(struct machine *m)
{
  struct vmx_ext *x = ext(m);
  struct vmx_mem_ops mem = vmx_ext_mem(m);
  struct vmx_msr_ops msr = vmx_ext_msrs(m);
  x->entry_failures++;
  trace_event(&m->trace, m->insns, "vmentry-failed", "reason=0x%llx qual=0x%llx",
              (unsigned long long)vmcs_get(&x->cpu.current, VMCSI_VM_EXIT_REASON),
              (unsigned long long)vmcs_get(&x->cpu.current, VMCSI_EXIT_QUALIFICATION));
  bool ok = vmx_entry_failed(&x->cpu, &m->cpu, &mem, &msr);
  switched(m);
  if (!ok) machine_stop(m, STOP_SHUTDOWN, 0, "VMX abort %u after a failed VM entry", x->cpu.current.abort);
}

/* "Event Injection" (chapter "VM Entries"): the event of the VM-entry
 * interruption-information field is delivered through the guest IDT as if
 * it had occurred right after the entry; software interrupts and
 * exceptions push RIP + VM-entry instruction length. */
static void inject(struct machine *m)
{
  struct vmx_ext *x = ext(m);
  const struct vmcs *v = &x->cpu.current;
  uint32_t info = (uint32_t)vmcs_get(v, VMCSI_VM_ENTRY_INTR_INFO);
  if (!(info & INTR_INFO_VALID)) return;
  unsigned type = INTR_INFO_TYPE(info);
  /* Type 7 (other event) with vector 0 injects a pending MTF VM exit,
   * which vmx_ext_enter takes: nothing is delivered. */
  if (type == INTR_TYPE_OTHER_EVENT) return;
  bool software = type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION;
  uint8_t len = software ? (uint8_t)vmcs_get(v, VMCSI_VM_ENTRY_INSTRUCTION_LEN) : 0;
  struct pending_event ev = { .valid = true, .vector = (uint8_t)INTR_INFO_VECTOR(info),
                              .external = type == INTR_TYPE_EXT_INTR,
                              .has_error = (info & INTR_INFO_DELIVER_CODE) != 0,
                              .error = (uint32_t)vmcs_get(v, VMCSI_VM_ENTRY_EXCEPTION_ERROR_CODE),
                              .software = software, .insn_len = len,
                              /* "Event Injection": a privileged software
                               * exception is delivered as INT1 is (no gate
                               * DPL check, EXT = 1). */
                              .privileged = type == INTR_TYPE_PRIV_SW_EXCEPTION };
  m->cpu.rip += len;
  trace_event(&m->trace, m->insns, "vmentry-inject", "vector=%u type=%u error=0x%x", ev.vector, type, ev.error);
  x->injecting = true;
  x->injected_type = type;
  x->injected_vector = ev.vector;
  deliver_event(m, &ev);
  x->injecting = false;
}

bool vmx_ext_deliver_pending_dbg(struct machine *m, uint64_t conditions)
{
  struct vmx_ext *x = ext(m);
  struct pending_event ev = { .valid = true, .vector = VEC_DB };
  x->dr6_before = m->cpu.dr[6];
  x->entry_dbg = true;
  x->entry_dbg_conditions = conditions;
  deliver_event(m, &ev);
  x->entry_dbg = false;
  if (!x->cpu.non_root) return true;
  m->cpu.dr[6] = vmx_dr6_after_delivery(m->cpu.dr[6], conditions);
  x->dr6_before = m->cpu.dr[6];
  /* The delivery woke a guest in the HLT state. */
  m->cpu.halted = false;
  m->state_dirty = true;
  return false;
}

/* "Delivery of Pending Debug Exceptions after VM Entry": a non-vectoring
 * VM entry without blocking by MOV SS delivers the valid pending debug
 * exceptions as a #DB before the first guest instruction, with the
 * priority of "traps on the previous instruction" (after a pending MTF VM
 * exit, ahead of the VMX-preemption timer and the NMI and interrupt
 * windows). It exits under bit 1 of the exception bitmap (qualification:
 * the conditions, DR6 untouched), else it "updates DR6 normally". With the
 * monitor trap flag the MTF exit follows its delivery ("a pending event
 * (e.g., debug exception ...) is delivered before an instruction can
 * execute"). The HLT activity state is not among those that ignore the
 * field (shutdown, wait-for-SIPI) and does not block the #DB: it is
 * delivered at once, from the HLT state (an exit saves HLT; Bochs 2.7
 * the same), and its delivery through the guest IDT wakes the guest.
 * Blocking by MOV SS holds them (x->held_dbg) for after the guest's first
 * instruction (vmx_ext_step). True when the entry ended in a VM exit. */
static bool deliver_pending_dbg(struct machine *m, bool vectoring)
{
  struct vmx_ext *x = ext(m);
  x->dr6_before = m->cpu.dr[6];
  x->held_dbg = vmx_pending_dbg_held_at_entry(&x->cpu.current, vectoring, m->cpu.movss_blocking);
  if (x->held_dbg) {
    trace_event(&m->trace, m->insns, "vmentry-pending-dbg", "held=0x%llx", (unsigned long long)x->held_dbg);
    x->held_rip = m->cpu.rip;
    x->held_rsp = m->cpu.gpr[GPR_RSP];
    return false;
  }
  uint64_t conditions = vmx_pending_dbg_at_entry(&x->cpu.current, vectoring, m->cpu.movss_blocking);
  if (!conditions) return false;
  trace_event(&m->trace, m->insns, "vmentry-pending-dbg", "conditions=0x%llx", (unsigned long long)conditions);
  if (vmx_ext_deliver_pending_dbg(m, conditions)) return true;
  if (!x->mtf) return false;
  struct vmx_exit_info e;
  vmx_mtf_exit(&e);
  vmx_ext_exit(m, &e);
  return true;
}

void vmx_ext_enter(struct machine *m, bool launch)
{
  struct vmx_ext *x = ext(m);
  struct vmx_mem_ops mem = vmx_ext_mem(m);
  struct vmx_msr_ops msr = vmx_ext_msrs(m);
  if (!vmx_vm_enter(&x->cpu, &m->cpu, &mem, &msr, launch)) {
    x->entry_failures++;
    trace_event(&m->trace, m->insns, "vmentry-failed", "reason=0x%llx qual=0x%llx",
                (unsigned long long)vmcs_get(&x->cpu.current, VMCSI_VM_EXIT_REASON),
                (unsigned long long)vmcs_get(&x->cpu.current, VMCSI_EXIT_QUALIFICATION));
    switched(m);
    return;
  }
  /* "Machine-Check Events During VM Entry" (SDM Vol. 3C): a machine check
   * that occurs after guest state was loaded must be handled by the third
   * treatment, a VM-entry failure with basic exit reason 41 ("VM-entry
   * failure due to machine-check event", bit 31 set) and host state
   * loaded as after a failed entry; a VMLAUNCH leaves the launch state
   * clear, as for the other failures of "VM-Entry Failures During or
   * After Loading Guest State". The error is in its bank (sim/mca.h). */
  if (mca_vm_entry_check(m)) {
    vmcs_set(&x->cpu.current, VMCSI_VM_EXIT_REASON, VMX_EXIT_MACHINE_CHECK | EXIT_REASON_ENTRY_FAILURE_BIT);
    vmcs_set(&x->cpu.current, VMCSI_EXIT_QUALIFICATION, 0);
    if (launch) x->cpu.current.launched = false;
    vmx_ext_entry_failed(m);
    return;
  }
  x->entries++;
  const struct vmcs *v = &x->cpu.current;
  /* "Timestamp Counter Offset and Multiplier": with "use TSC offsetting",
   * RDTSC, RDTSCP and RDMSR of IA32_TSC in the guest add the offset. */
  if (vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL) & PROC_USE_TSC_OFFSETTING) {
    x->tsc_offset = vmcs_get(v, VMCSI_TSC_OFFSET);
    m->tsc_offset += x->tsc_offset;
  }
  mmu_vmx_transition(&m->mmu, vpid_enabled(x));
  trace_event(&m->trace, m->insns, "vmentry", "%s rip=0x%llx", launch ? "launch" : "resume",
              (unsigned long long)m->cpu.rip);
  switched(m);
  /* A VM entry is vectoring when it injects an event other than a
   * pending MTF VM exit (type 7). */
  uint64_t info = vmcs_get(v, VMCSI_VM_ENTRY_INTR_INFO);
  bool injected = (info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) != INTR_TYPE_OTHER_EVENT;
  bool mtf_pending = vmx_mtf_pending_after_entry(v);
  /* "Interruptibility State" (chapter "VM Entries"): after a vectoring
   * VM entry there is no blocking by STI or MOV SS. */
  if (injected) m->cpu.sti_blocking = m->cpu.movss_blocking = false;
  inject(m);
  /* The injected event woke a guest entered in the HLT state ("Event
   * Injection for VM Entries"). */
  if (injected) m->cpu.halted = false;
  /* The injection may have ended in a VM exit. */
  if (!x->cpu.non_root) return;
  /* "Event Injection": an injected NMI leaves blocking by NMI (virtual-NMI
   * blocking with "virtual NMIs") in effect. */
  if (vmx_injection_blocks_nmis(v)) m->cpu.nmi_blocking = true;
  x->iret_unblocked = false;
  vmx_ext_nmi_window_rearm(m);
  start_timer(m);
  /* "Monitor Trap Flag": after a vectored injection with the control set,
   * or the injection of a pending MTF VM exit, the MTF exit comes before
   * the first guest instruction, ahead of a timer that expired. */
  x->mtf = vmx_mtf_active(v);
  x->step_armed = false;
  if (mtf_pending) {
    struct vmx_exit_info e;
    vmx_mtf_exit(&e);
    /* No instruction ran: pending debug exceptions the entry did not
     * deliver (they come after a pending MTF VM exit) stay pending. */
    e.pending_dbg = vmcs_get(v, VMCSI_GUEST_PENDING_DBG_EXCEPTIONS);
    vmx_ext_exit(m, &e);
    return;
  }
  if (deliver_pending_dbg(m, injected)) return;
  /* A timer of 0 expires during the entry, and an NMI window may be open
   * at once: the exit comes after event injection and before the first
   * guest instruction, and wakes a guest entered in the HLT state (the
   * exit saves that state). */
  if (irq_deadline_due(m) && vmx_ext_deadline_reached(m)) return;
  /* The interrupt window and external interrupts are looked at from the
   * first guest block on (sim/irq.c): the controls just changed. */
  irq_rearm(m);
  /* "Guest Non-Register State": in the HLT activity state the guest runs
   * nothing until an event wakes it; an injected event does ("Event
   * Injection for VM Entries"), and so does an interrupt the guest takes
   * or that exits (the machine's HLT wait in virtual time, sim/irq.c). */
  if (!m->cpu.halted) return;
  if ((m->cpu.rflags & RFLAGS_IF) || vmx_ext_interrupt_would_exit(m) || x->timer_running ||
      irq_signal_pending(m, IRQ_SIGNAL_INIT)) {
    m->cpu.halted = false;
    m->halted = true;
    return;
  }
  machine_stop(m, STOP_HALTED, 0, "VM entry into the HLT activity state at rip 0x%llx with nothing to wake the guest",
               (unsigned long long)m->cpu.rip);
}

/* ---- virt_ops ----------------------------------------------------------- */

/* The capability MSRs 480H-492H (SDM Vol. 3C, appendix "VMX Capability
 * Reporting Facility") are read-only: WRMSR to them raises #GP(0). */
static bool is_cap_msr(uint32_t index) { return index >= 0x480 && index <= 0x492; }

static enum virt_msr_result vmx_rdmsr(struct machine *m, uint32_t index, uint64_t *value)
{
  if (index == MSR_IA32_FEATURE_CONTROL) {
    *value = ext(m)->cpu.feature_control;
    return VIRT_MSR_OK;
  }
  if (!is_cap_msr(index)) return VIRT_MSR_NOT_MINE;
  return vmx_caps_read_msr(ext(m)->caps, index, value) ? VIRT_MSR_OK : VIRT_MSR_GP;
}

/* IA32_FEATURE_CONTROL: writable until its lock bit is set (SDM Vol. 3C,
 * "Enabling and Entering VMX Operation"). */
static enum virt_msr_result vmx_wrmsr(struct machine *m, uint32_t index, uint64_t value)
{
  if (index == MSR_IA32_FEATURE_CONTROL)
    return vmx_feature_control_write(&ext(m)->cpu.feature_control, value) ? VIRT_MSR_OK : VIRT_MSR_GP;
  return is_cap_msr(index) ? VIRT_MSR_GP : VIRT_MSR_NOT_MINE;
}

/* "VMX-Fixed Bits in CR0" / "VMX-Fixed Bits in CR4" (appendix "VMX
 * Capability Reporting Facility") and "Restrictions on VMX Operation": in
 * VMX operation MOV to CR0/CR4 that would leave a fixed bit at its wrong
 * value raises #GP(0) (CR4.VMXE is fixed to 1, so it cannot be cleared).
 * In non-root operation the bits the guest/host mask owns keep their
 * value, and with "unrestricted guest" CR0.PE and CR0.PG are free ("Changes
 * to Instruction Behavior in VMX Non-Root Operation", MOV to CR0/CR4). */
static bool vmx_cr_write(struct machine *m, int cr, uint64_t *value)
{
  struct vmx_ext *x = ext(m);
  if (!x->cpu.vmx_operation) return true;
  const struct vmx_caps *c = x->caps;
  uint64_t fixed0 = cr == 0 ? c->cr0_fixed0 : c->cr4_fixed0, fixed1 = cr == 0 ? c->cr0_fixed1 : c->cr4_fixed1;
  if (!x->cpu.non_root) return vmx_cr_fixed_ok(fixed0, fixed1, *value);
  const struct vmcs *v = &x->cpu.current;
  uint64_t old = cr == 0 ? m->cpu.cr0 : m->cpu.cr4;
  *value = vmx_cr_write_masked(v, (unsigned)cr, old, *value);
  if (cr == 0 && (vmx_proc2(v) & PROC2_UNRESTRICTED_GUEST)) fixed0 &= ~(CR0_PE | CR0_PG);
  return vmx_cr_fixed_ok(fixed0, fixed1, *value);
}

/* Same section, MOV from CR0/CR4 and SMSW: the bits the guest/host mask
 * owns read from the read shadow. */
static uint64_t vmx_cr_read(struct machine *m, int cr, uint64_t value)
{
  struct vmx_ext *x = ext(m);
  return x->cpu.non_root ? vmx_cr_read_shadowed(&x->cpu.current, (unsigned)cr, value) : value;
}

/* Non-root operation translates through the guest's EPT (when "enable
 * EPT" is 1) and tags its translations with the VPID (when "enable VPID"
 * is 1; otherwise with 0, the host's tag, which VM entries and exits
 * flush). SDM Vol. 3C, chapter "VMX Support for Address Translation". */
static void vmx_paging_context(struct machine *m, struct mmu_context *ctx)
{
  struct vmx_ext *x = ext(m);
  if (!x->cpu.non_root) return;
  const struct vmcs *v = &x->cpu.current;
  uint32_t p2 = vmx_proc2(v);
  if (p2 & PROC2_ENABLE_EPT) {
    ctx->slat = MMU_SLAT_EPT;
    ctx->eptp = vmcs_get(v, VMCSI_EPT_POINTER);
  }
  if (p2 & PROC2_ENABLE_VPID) ctx->tag = (uint16_t)vmcs_get(v, VMCSI_VIRTUAL_PROCESSOR_ID);
}

static void vmx_report(struct machine *m, FILE *out)
{
  struct vmx_ext *x = ext(m);
  fprintf(out, "vmx: %llu VM entries, %llu failed VM entries\n", (unsigned long long)x->entries,
          (unsigned long long)x->entry_failures);
  for (unsigned r = 0; r < VMX_EXIT_REASON_SLOTS; r++)
    if (x->exits[r])
      fprintf(out, "vmx: exit %u %s: %llu\n", r, vmx_exit_reason_name(r), (unsigned long long)x->exits[r]);
}

static void vmx_destroy(struct machine *m)
{
  free(m->virt_state);
  m->virt_state = NULL;
}

static const struct virt_ops vmx_ops = {
  .name = "vmx",
  .execute = vmx_ext_execute,
  .execute_in_hook = vmx_ext_execute_in_hook,
  .insn_exits = vmx_ext_insn_exits,
  .io_exits = vmx_ext_io_exits,
  .exit_for_insn = vmx_ext_exit_for_insn,
  .event_exits = vmx_ext_event_exits,
  .slat_fault = vmx_ext_slat_fault,
  .shutdown = vmx_ext_shutdown,
  .interrupt_exits = vmx_ext_interrupt_exits,
  .interrupt_would_exit = vmx_ext_interrupt_would_exit,
  .window_wanted = vmx_ext_window_wanted,
  .window_open = vmx_ext_window_open,
  .paging_context = vmx_paging_context,
  .rdmsr = vmx_rdmsr,
  .wrmsr = vmx_wrmsr,
  .cr_write = vmx_cr_write,
  .cr_read = vmx_cr_read,
  .report = vmx_report,
  .destroy = vmx_destroy,
  .deadline = vmx_ext_deadline,
  .deadline_reached = vmx_ext_deadline_reached,
  .step = vmx_ext_step,
  .stepping = vmx_ext_stepping,
  .hook_classes = vmx_ext_hook_classes,
  .iret = vmx_ext_iret,
};

static const struct irq_nmi_ops vmx_nmi_ops = {
  .held = vmx_ext_nmi_held,
  .exits = vmx_ext_nmi_exits,
  .signal_held = vmx_ext_signal_held,
  .signal_exits = vmx_ext_signal_exits,
};

/* The EPT capabilities of the model decide what the MMU's EPT formats
 * accept (execute-only, 1-GByte pages, A/D flags, advanced exit info). */
static void mmu_ept_features(struct machine *m, const struct vmx_caps *c)
{
  unsigned f = m->mmu.geo.features;
  if (c->ept_vpid_cap & EPTCAP_EXEC_ONLY) f |= MMU_FEAT_EPT_EXEC_ONLY;
  if (c->ept_vpid_cap & EPTCAP_WALK_5) f |= MMU_FEAT_EPT_5LEVEL;
  if (c->ept_vpid_cap & EPTCAP_AD) f |= MMU_FEAT_EPT_AD;
  if (c->ept_vpid_cap & EPTCAP_1G) f |= MMU_FEAT_EPT_1G;
  if (c->ept_vpid_cap & EPTCAP_ADV_EXIT_INFO) f |= MMU_FEAT_EPT_ADV_INFO;
  if (f == m->mmu.geo.features) return;
  m->mmu.geo.features = f;
  mmu_phys_init(&m->mmu.phys, m->mmu.phys.ram, m->mmu.phys.ram_size, m->mmu.phys.maxphyaddr, f);
  m->mmu.memo_valid = false;
}

bool vmx_ext_attach(struct machine *m, const char *model, char *err, size_t err_size)
{
  const struct vmx_caps *caps = vmx_caps_by_name(model);
  if (!caps) { snprintf(err, err_size, "CPU model %s: no VMX capability model \"%s\"", m->opt.cpu->name, model); return false; }
  struct vmx_ext *x = calloc(1, sizeof *x);
  if (!x) { snprintf(err, err_size, "out of memory"); return false; }
  x->caps = caps;
  x->timer_deadline = x->step_deadline = x->nmi_window_at = UINT64_MAX;
  vmx_cpu_init(&x->cpu, caps);
  m->virt = &vmx_ops;
  m->virt_state = x;
  irq_set_nmi_ops(m, &vmx_nmi_ops);
  mmu_ept_features(m, caps);
  return true;
}
