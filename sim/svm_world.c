/* The SVM instructions in the running machine and the machine's side of the
 * world switches (AMD APM Vol. 2, "Secure Virtual Machine"): the model
 * (models/svm/svm_insn.c) moves the architectural state between m->cpu,
 * the VMCB and the HSAVE area; this file adds what belongs to the machine —
 * the TLB tag (ASID) and TLB_CONTROL, nested paging's host mode, the TSC
 * offset, event injection through the guest IDT, virtual interrupts, the
 * trace and the statistics. Everything here runs in the run loop [loop]
 * with m->cpu current; the machine reloads Unicorn afterwards. */
#include "sim/svm_ext.h"

#include "models/svm/vmrun_checks.h"
#include "sim/irq.h"

/* The tag the model's TLB uses now. It is part of the translation context
 * Unicorn's TLB is kept for (sim/uc_tlb.c); switching it invalidates
 * nothing (mmu_switch_tag). */
static void switch_asid(struct machine *m, uint16_t asid)
{
  struct svm_ext *x = svm_ext_of(m);
  mmu_switch_tag(&m->mmu, x->asid, asid);
  x->asid = asid;
  m->context_switched = true;
}

/* The machine's half of #VMEXIT, after the model loaded the host. */
static void left_guest(struct machine *m, const struct svm_vmcb_control *ctl, uint64_t code)
{
  struct svm_ext *x = svm_ext_of(m);
  /* "TSC Offset": the guest saw TSC + TSC_OFFSET; the host sees TSC. */
  m->tsc_offset -= ctl->tsc_offset;
  switch_asid(m, 0);
  int i = svm_exit_index_of(code);
  const char *name = i < 0 ? NULL : svm_exit_infos[i].name;
  if (i >= 0) x->exits[i]++;
  trace_event(&m->trace, m->insns, "vmexit", "code=0x%llx (%s)", (unsigned long long)code, name ? name : "unknown");
}

void svm_ext_vmexit(struct machine *m, const struct svm_exit *e)
{
  struct svm_ext *x = svm_ext_of(m);
  struct svm_vmcb_control ctl = x->vcpu.ctl;
  irq_shadow_sync(m);   /* INTERRUPT_SHADOW */
  struct svm_result r = svm_vmexit_ex(&x->vcpu, &x->mem, e);
  if (r.outcome == SVM_MEMORY_ERROR) {
    machine_stop(m, STOP_INTERNAL, 125, "#VMEXIT: the VMCB at 0x%llx or the HSAVE area at 0x%llx is outside RAM",
                 (unsigned long long)x->vcpu.vmcb_pa, (unsigned long long)x->vcpu.msrs.vm_hsave_pa);
    return;
  }
  if (r.outcome != SVM_VMEXITED) {
    machine_stop(m, STOP_INTERNAL, 125, "#VMEXIT 0x%llx requested outside guest mode", (unsigned long long)e->code);
    return;
  }
  left_guest(m, &ctl, e->code);
  irq_rearm(m);
}

/* "Event Injection": EVENTINJ is delivered through the guest's IDT once
 * the guest state is loaded, as if it had occurred in the guest; the
 * injected event itself is not subject to the exception intercepts. */
static void inject_event(struct machine *m, uint64_t eventinj)
{
  struct svm_ext *x = svm_ext_of(m);
  unsigned type = SVM_EVENT_TYPE(eventinj);
  struct pending_event ev = {
    .valid = true,
    .vector = (uint8_t)SVM_EVENT_VECTOR(eventinj),
    .has_error = (eventinj & SVM_EVENT_EV) != 0,
    .error = SVM_EVENT_ERRORCODE(eventinj),
    /* A software interrupt checks the gate's DPL like INT n; RIP is the
     * VMCB's, so it has no length to step back over. */
    .software = type == SVM_EVENT_SOFT_INT,
  };
  if (type == SVM_EVENT_NMI) ev.vector = VEC_NMI;
  trace_event(&m->trace, m->insns, "svm-inject", "vector=%u type=%u error=0x%x", ev.vector, type,
              ev.has_error ? ev.error : 0);
  x->injecting = true;
  deliver_event(m, &ev);
  x->injecting = false;
}

/* "Virtual Interrupts": the interrupt VMRUN brings in V_IRQ is taken when
 * the guest can take interrupts (GIF = 1, RFLAGS.IF, no interrupt shadow)
 * and its priority is above V_TPR, unless V_IGN_TPR; the VINTR intercept
 * turns that moment into #VMEXIT(VINTR). Taking it clears V_IRQ, which
 * #VMEXIT writes back. Looked at after VMRUN and, through the machine's
 * interrupt window (virt_ops.window_wanted / window_open, sim/irq.c), at
 * every later boundary where the guest becomes able to take it (its STI,
 * POPF, IRET). True when it was taken (delivered or intercepted). */
static bool virtual_interrupt(struct machine *m)
{
  struct svm_ext *x = svm_ext_of(m);
  struct svm_vmcb_control *ctl = &x->vcpu.ctl;
  if (!x->vcpu.in_guest || !svm_virtual_interrupt_pending(x->vcpu.gif, ctl)) return false;
  if (!(m->cpu.rflags & RFLAGS_IF) || m->cpu.sti_blocking || m->cpu.movss_blocking) return false;
  if (svm_ctl_intercepts(ctl, SVM_INTERCEPT_VINTR)) {
    svm_ext_vmexit(m, &(struct svm_exit){.code = (uint64_t)SVM_EXIT_VINTR});
    return true;
  }
  ctl->vintr &= ~SVM_VINTR_V_IRQ;
  /* The guest's VMCB gets V_IRQ = 0 at #VMEXIT from this copy. */
  uint64_t vintr = ctl->vintr;
  x->mem.write(x->mem.ctx, x->vcpu.vmcb_pa + offsetof(struct svm_vmcb_control, vintr), &vintr, sizeof vintr);
  struct pending_event ev = {.valid = true, .vector = (uint8_t)SVM_VINTR_V_INTR_VECTOR(ctl->vintr)};
  x->injecting = true;
  deliver_event(m, &ev);
  x->injecting = false;
  return true;
}

bool svm_ext_window_wanted(struct machine *m)
{
  struct svm_ext *x = svm_ext_of(m);
  return x->vcpu.in_guest && svm_virtual_interrupt_pending(x->vcpu.gif, &x->vcpu.ctl);
}

/* A physical interrupt the guest would take or that exits comes first
 * (virtual interrupts rank below INTR, as Bochs 2.7 orders them too). */
bool svm_ext_window_open(struct machine *m)
{
  if (pic_intr(&m->pic) && !svm_ext_interrupts_held(m)) return false;
  return virtual_interrupt(m);
}

/* The machine's half of a successful VMRUN (APM Vol. 2, "VMRUN
 * Instruction", "TLB Flush", "TSC Offset"). */
static void entered_guest(struct machine *m, uint64_t host_cr4, uint64_t host_efer, bool host_if)
{
  struct svm_ext *x = svm_ext_of(m);
  const struct svm_vmcb_control *ctl = &x->vcpu.ctl;
  x->host_cr4 = host_cr4;
  x->host_efer = host_efer;
  x->host_if = host_if;
  /* "Pause Intercept Filtering": VMRUN loads the internal counter. */
  svm_pause_filter_load(&x->pause_filter, ctl);
  uint16_t asid = (uint16_t)ctl->guest_asid;
  /* Encodings 3 and 7 need FlushByAsid; a reserved TLB_CONTROL is
   * undefined, and flushing every ASID is the one choice that never keeps
   * a stale entry. */
  unsigned tlb = ctl->tlb_control;
  if ((tlb == SVM_TLB_CONTROL_FLUSH_ASID || tlb == SVM_TLB_CONTROL_FLUSH_ASID_NONGLOBAL) &&
      !svm_has(x->features, SVM_FEAT_FLUSH_BY_ASID))
    tlb = SVM_TLB_CONTROL_FLUSH_ALL;
  if (!mmu_svm_tlb_control(&m->mmu, tlb, asid)) mmu_svm_tlb_control(&m->mmu, SVM_TLB_CONTROL_FLUSH_ALL, asid);
  switch_asid(m, asid);
  m->tsc_offset += ctl->tsc_offset;
  x->vmruns++;
  trace_event(&m->trace, m->insns, "vmrun", "vmcb=0x%llx asid=%u rip=0x%llx np=%d tlb_control=%u",
              (unsigned long long)x->vcpu.vmcb_pa, asid, (unsigned long long)m->cpu.rip,
              (ctl->np_control & SVM_NP_ENABLE) ? 1 : 0, ctl->tlb_control);
  if (ctl->eventinj & SVM_EVENT_V) {
    inject_event(m, ctl->eventinj);
    return;
  }
  virtual_interrupt(m);
}

static void deliver_fault(struct machine *m, uint8_t vector)
{
  struct pending_event ev = {.valid = true, .vector = vector, .has_error = vector == VEC_GP, .error = 0};
  deliver_event(m, &ev);
}

typedef struct svm_result (*svm_insn_fn)(struct svm_vcpu *, const struct svm_machine *, uint64_t);

static svm_insn_fn svm_insn_of(ZydisMnemonic mn)
{
  switch (mn) {
  case ZYDIS_MNEMONIC_VMRUN: return svm_vmrun;
  case ZYDIS_MNEMONIC_VMLOAD: return svm_vmload;
  case ZYDIS_MNEMONIC_VMSAVE: return svm_vmsave;
  case ZYDIS_MNEMONIC_STGI: return svm_stgi;
  case ZYDIS_MNEMONIC_CLGI: return svm_clgi;
  case ZYDIS_MNEMONIC_VMMCALL: return svm_vmmcall;
  case ZYDIS_MNEMONIC_INVLPGA: return svm_invlpga;
  case ZYDIS_MNEMONIC_SKINIT: return svm_skinit;
  default: return NULL;
  }
}

bool svm_ext_execute(struct machine *m, struct insn *in)
{
  svm_insn_fn fn = svm_insn_of(in->zi.mnemonic);
  if (!fn) return false;
  struct svm_ext *x = svm_ext_of(m);
  bool was_guest = x->vcpu.in_guest;
  struct svm_vmcb_control ctl = x->vcpu.ctl;
  uint64_t host_cr4 = m->cpu.cr4, host_efer = m->cpu.efer;
  bool host_if = (m->cpu.rflags & RFLAGS_IF) != 0;
  struct svm_result r = fn(&x->vcpu, &x->mem, in->next_rip);
  /* GIF, guest mode and the interrupt controls may have changed: the
   * machine looks at pending interrupts again (sim/irq.c). */
  irq_rearm(m);
  switch (r.outcome) {
  case SVM_DONE:
    if (!was_guest && x->vcpu.in_guest) entered_guest(m, host_cr4, host_efer, host_if);
    return true;
  case SVM_FAULT:
    deliver_fault(m, r.vector);
    return true;
  case SVM_VMEXITED:
    if (was_guest) {
      left_guest(m, &ctl, r.exitcode);   /* an intercepted SVM instruction */
      return true;
    }
    /* VMRUN's consistency checks failed: #VMEXIT(VMEXIT_INVALID) without
     * leaving the host. The trace names the check. */
    x->invalid_vmruns++;
    x->exits[SVM_EXIT_IDX_INVALID]++;
    const struct svm_check_info *ci = svm_check_info(r.check);
    trace_event(&m->trace, m->insns, "vmexit", "code=0x%llx (INVALID) check=%s", (unsigned long long)r.exitcode,
                ci ? ci->id : "unknown");
    return true;
  case SVM_MEMORY_ERROR:
    machine_stop(m, STOP_INTERNAL, 125, "%s at 0x%llx: the VMCB (rAX=0x%llx) or HSAVE area (0x%llx) is outside RAM",
                 ZydisMnemonicGetString(in->zi.mnemonic), (unsigned long long)in->rip,
                 (unsigned long long)m->cpu.gpr[GPR_RAX], (unsigned long long)x->vcpu.msrs.vm_hsave_pa);
    return true;
  case SVM_NOT_IN_GUEST:
    break;
  }
  machine_stop(m, STOP_INTERNAL, 125, "%s at 0x%llx: unexpected SVM model outcome %d",
               ZydisMnemonicGetString(in->zi.mnemonic), (unsigned long long)in->rip, (int)r.outcome);
  return true;
}

/* In guest mode the ASID tags every translation; with nested paging the
 * guest-physical addresses go through nCR3 in the host's paging mode
 * (APM Vol. 2, "Nested Paging"). */
void svm_ext_paging_context(struct machine *m, struct mmu_context *ctx)
{
  struct svm_ext *x = svm_ext_of(m);
  if (!x->vcpu.in_guest) return;
  ctx->tag = x->asid;
  if (!svm_has(x->features, SVM_FEAT_NP) || !(x->vcpu.ctl.np_control & SVM_NP_ENABLE)) return;
  ctx->slat = MMU_SLAT_NPT;
  ctx->ncr3 = x->vcpu.ctl.ncr3;
  ctx->host_cr4 = x->host_cr4;
  ctx->host_efer = x->host_efer;
}
