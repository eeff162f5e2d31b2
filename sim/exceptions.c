/* Delivering exceptions and interrupts (SDM Vol. 3A, chapter "Interrupt and
 * Exception Handling": "Exception and Interrupt Handling in 64-bit Mode",
 * "Interrupt Descriptor Table (IDT)", "Exception and Interrupt Handling",
 * and "Interrupt 8—Double Fault Exception (#DF)"), through interrupt and
 * trap gates, and through task gates outside IA-32e mode ("Interrupt
 * Tasks": a task switch, sim/task_switch.c). The state is m->cpu; the
 * caller stores it into Unicorn afterwards. */
#include "sim/exceptions.h"

#include <string.h>

#include "sim/machine.h"
#include "sim/task_switch.h"
#include "sim/uc_bridge.h"

#include <unicorn/unicorn.h>

/* SDM Vol. 3A, "Exception and Interrupt Reference"; AMD APM Vol. 2,
 * "Security Exception (#SX)": #SX pushes an error code too (1 for a
 * redirected INIT). */
bool exception_has_error_code(uint8_t v)
{
  return v == VEC_DF || v == VEC_TS || v == VEC_NP || v == VEC_SS || v == VEC_GP ||
         v == VEC_PF || v == VEC_AC || v == VEC_CP || v == VEC_SX;
}

/* "Exception and Interrupt Reference": the fault-class exceptions (#DB
 * is a fault or a trap; the machine raises only its trap forms). */
bool exception_is_fault(const struct pending_event *ev)
{
  if (ev->software || ev->external) return false;
  switch (ev->vector) {
  case VEC_DE: case VEC_BR: case VEC_UD: case VEC_NM: case VEC_TS: case VEC_NP: case VEC_SS: case VEC_GP:
  case VEC_PF: case VEC_MF: case VEC_AC: case VEC_XM: case VEC_VE: case VEC_CP:
    return true;
  }
  return false;
}

void raise_exception(struct machine *m, uint8_t vector, bool has_error, uint32_t error)
{
  m->event = (struct pending_event){.valid = true, .vector = vector, .has_error = has_error, .error = error};
  uc_emu_stop(m->uc);
}

/* "Conditions for Generating a Double Fault" (SDM Vol. 3A): benign,
 * contributory, page fault. AMD APM Vol. 2, "Double-Fault Exception
 * (#DF)", counts #SX among the contributory exceptions as well (only the
 * AMD models raise it). */
enum exc_class { BENIGN, CONTRIBUTORY, PAGE_FAULT };

static enum exc_class exc_class(uint8_t v)
{
  if (v == VEC_DE || v == VEC_TS || v == VEC_NP || v == VEC_SS || v == VEC_GP || v == VEC_SX) return CONTRIBUTORY;
  if (v == VEC_PF || v == VEC_VE) return PAGE_FAULT;
  return BENIGN;
}

/* A fault while delivering: what the combination of first and second
 * exception turns into. */
struct delivery_fault {
  bool raised;
  uint8_t vector;
  uint32_t error;
};

struct delivery {
  struct machine *m;
  struct cpu_state *s;
  struct delivery_fault fault;
  bool second_level;           /* the fault is EPT/NPT's (m->fault), not a #PF */
  bool committed;              /* the fault came after a task switch's commit
                                  point: it belongs to the new task */
  bool debug_trap;             /* the new task's TSS has its T flag set */
};


static bool fail_with(struct delivery *d, uint8_t vector, uint32_t error)
{
  d->fault = (struct delivery_fault){true, vector, error};
  return false;
}

/* Delivery's accesses meet data breakpoints like any other (sim/debug_bp.h). */
static bool read_mem(struct delivery *d, uint64_t la, void *buf, unsigned len)
{
  if (machine_read_linear(d->m, la, buf, len, true)) {
    debug_bp_model_access(d->m, la, len, false);
    return true;
  }
  d->m->fault_pending = false;
  d->second_level = MMU_FAULT_IS_SECOND_LEVEL(d->m->fault.kind);
  return fail_with(d, VEC_PF, d->m->fault.error_code);
}

/* Frame pushes are supervisor accesses: delivery runs at the handler's CPL. */
static bool write_mem(struct delivery *d, uint64_t la, const void *buf, unsigned len)
{
  if (machine_write_linear(d->m, la, buf, len, true)) {
    debug_bp_model_access(d->m, la, len, true);
    return true;
  }
  d->m->fault_pending = false;
  d->second_level = MMU_FAULT_IS_SECOND_LEVEL(d->m->fault.kind);
  return fail_with(d, VEC_PF, d->m->fault.error_code);
}

/* Reads the code/stack segment descriptor for `sel` into a segment. */
static bool load_descriptor(struct delivery *d, uint16_t sel, struct segment *seg, uint8_t err_vec)
{
  const struct cpu_state *s = d->s;
  const struct dtable *table = (sel & 4) ? &(struct dtable){s->seg[SEG_LDTR].base, s->seg[SEG_LDTR].limit} : &s->gdtr;
  uint32_t index = sel & ~7u;
  if ((sel & ~3u) == 0 || index + 7 > table->limit) return fail_with(d, err_vec, sel & ~3u);
  uint8_t desc[8];
  if (!read_mem(d, table->base + index, desc, 8)) return false;
  uint32_t lo, hi;
  memcpy(&lo, desc, 4);
  memcpy(&hi, desc + 4, 4);
  /* Loading a code or data segment sets its descriptor's accessed bit, in
   * memory too (SDM Vol. 3A, "Segment Descriptors"). */
  const uint32_t s_bit = 1u << 12, accessed = 1u << 8;
  if ((hi & s_bit) && !(hi & accessed)) {
    hi |= accessed;
    uint8_t type = (uint8_t)(hi >> 8);
    if (!write_mem(d, table->base + index + 5, &type, 1)) return false;
  }
  uint32_t limit = (lo & 0xffff) | (hi & 0xf0000);
  if (hi & (1u << 23)) limit = (limit << 12) | 0xfff;
  *seg = (struct segment){
    .selector = sel,
    .base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u),
    .limit = limit,
    .ar = ((hi >> 8) & 0xff) | ((hi >> 8) & 0xf000),
  };
  return true;
}

static bool push(struct delivery *d, uint64_t *sp, uint64_t base, unsigned width, uint64_t value)
{
  *sp -= width;
  return write_mem(d, base + *sp, &value, width);
}

/* Real-address mode: the IVT (SDM Vol. 3A, "Interrupt and Exception
 * Handling in Real-Address Mode" in Vol. 3B's 8086 emulation chapter). */
static bool deliver_real(struct delivery *d, const struct pending_event *ev)
{
  struct cpu_state *s = d->s;
  if ((uint32_t)ev->vector * 4 + 3 > s->idtr.limit) return fail_with(d, VEC_GP, 0);
  uint16_t ivt[2];
  if (!read_mem(d, s->idtr.base + ev->vector * 4u, ivt, 4)) return false;
  uint64_t sp = s->gpr[GPR_RSP] & 0xffff, ssb = s->seg[SEG_SS].base;
  if (!push(d, &sp, ssb, 2, s->rflags & 0xffff) || !push(d, &sp, ssb, 2, s->seg[SEG_CS].selector) ||
      !push(d, &sp, ssb, 2, s->rip & 0xffff))
    return false;
  s->gpr[GPR_RSP] = (s->gpr[GPR_RSP] & ~0xffffull) | sp;
  s->rflags &= ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC);
  s->seg[SEG_CS].selector = ivt[1];
  s->seg[SEG_CS].base = (uint64_t)ivt[1] << 4;
  s->rip = ivt[0];
  return true;
}

/* ---- task gates ------------------------------------------------------------- */

/* The task switch's memory (sim/task_switch.h) during a delivery: its
 * faults are recorded as the delivery's. */
static bool ts_read(void *ctx, uint64_t la, void *buf, unsigned len) { return read_mem(ctx, la, buf, len); }
static bool ts_write(void *ctx, uint64_t la, const void *buf, unsigned len) { return write_mem(ctx, la, buf, len); }

/* CR3 from the new TSS, as MOV to CR3 loads it (the model's TLB and
 * Unicorn's see the new context), with the PDPTEs under PAE paging. */
static bool ts_load_cr3(void *ctx, struct cpu_state *s, uint64_t cr3)
{
  struct delivery *d = ctx;
  struct machine *m = d->m;
  if ((s->cr4 & CR4_PAE) && !(s->efer & EFER_LMA)) {
    uint64_t pdpte[4];
    if (!mmu_load_pdptes(&m->mmu.phys, cr3, pdpte)) return false;
    memcpy(s->pdpte, pdpte, sizeof pdpte);
  }
  struct mmu_context c;
  machine_paging_context(m, &c);
  mmu_mov_cr3(&m->mmu, &c, cr3);
  s->cr3 = cr3;
  m->tlb_flush = true;
  trace_event(&m->trace, m->insns, "cr3", "0x%llx", (unsigned long long)cr3);
  return true;
}

/* An event through a task gate in the IDT ("Interrupt Tasks" in SDM Vol.
 * 3A, "Exception- or Interrupt-Handler Procedures"): a task switch with
 * nesting to the gate's TSS, the event's error code pushed on the new
 * task's stack. The gate's own checks (IDT limit, type, DPL for software
 * interrupts, P) were made by the caller. */
static bool deliver_task_gate(struct delivery *d, const struct pending_event *ev, bool ext, uint16_t tss)
{
  struct ts_mem mem = {.read = ts_read, .write = ts_write, .load_cr3 = ts_load_cr3, .ctx = d};
  struct ts_target t;
  struct ts_fault f;
  enum ts_outcome o = task_switch_check_target(d->s, &mem, tss, TS_FROM_INT, ext, &t, &f);
  struct ts_event e = {.ext = ext, .fault = exception_is_fault(ev), .push_error = ev->has_error, .error = ev->error};
  if (o == TS_DONE) o = task_switch(d->s, &mem, &t, TS_FROM_INT, &e, &f, &d->debug_trap);
  if (o == TS_DONE) {
    trace_event(&d->m->trace, d->m->insns, "task-switch", "vector=%u tss=0x%x eip=0x%llx", ev->vector, tss,
                (unsigned long long)d->s->rip);
    return true;
  }
  d->committed = o == TS_FAULT_IN_NEW_TASK;
  if (f.memory) return false;   /* read_mem / write_mem recorded it */
  return fail_with(d, f.vector, f.error);
}

/* Protected mode and IA-32e mode through an interrupt or trap gate, or
 * (outside IA-32e mode) a task gate. */
static bool deliver_protected(struct delivery *d, const struct pending_event *ev, bool ext)
{
  struct cpu_state *s = d->s;
  bool lm = cpu_long_mode_active(s);
  unsigned gate_size = lm ? 16 : 8;
  uint32_t idt_err = ev->vector * 8u + 2 + (ext ? 1 : 0);
  if ((uint32_t)ev->vector * gate_size + gate_size - 1 > s->idtr.limit) return fail_with(d, VEC_GP, idt_err);

  uint8_t gate[16] = {0};
  if (!read_mem(d, s->idtr.base + (uint64_t)ev->vector * gate_size, gate, gate_size)) return false;
  uint32_t g0, g1, g2;
  memcpy(&g0, gate, 4);
  memcpy(&g1, gate + 4, 4);
  memcpy(&g2, gate + 8, 4);
  unsigned type = (g1 >> 8) & 0x1f, dpl = (g1 >> 13) & 3;
  bool present = g1 & (1u << 15);
  bool trap_gate;
  if (lm) {
    if (type != 0xe && type != 0xf) return fail_with(d, VEC_GP, idt_err);
    trap_gate = type == 0xf;
  } else {
    /* Interrupt and trap gates (16- and 32-bit) and task gates ("IDT
     * Descriptors"); in IA-32e mode a task gate is #GP (above). */
    if (type != 0xe && type != 0xf && type != 0x6 && type != 0x7 && type != TS_TYPE_TASK_GATE)
      return fail_with(d, VEC_GP, idt_err);
    trap_gate = type & 1;
  }
  unsigned cpl = cpu_cpl(s);
  if (ev->software && !ev->privileged && dpl < cpl) return fail_with(d, VEC_GP, idt_err);
  if (!present) return fail_with(d, VEC_NP, idt_err);
  if (!lm && type == TS_TYPE_TASK_GATE) return deliver_task_gate(d, ev, ext, (uint16_t)(g0 >> 16));

  uint16_t sel = g0 >> 16;
  uint64_t offset = (g0 & 0xffff) | (g1 & 0xffff0000u);
  if (lm) offset |= (uint64_t)g2 << 32;
  if (!lm && !(type & 8)) offset &= 0xffff;
  struct segment cs;
  if (!load_descriptor(d, sel, &cs, VEC_GP)) return false;
  bool code = (cs.ar & SEG_AR_S) && (SEG_AR_TYPE(cs.ar) & 8);
  if (!code || SEG_AR_DPL(cs.ar) > cpl) return fail_with(d, VEC_GP, (sel & ~3u) + (ext ? 1 : 0));
  if (!(cs.ar & SEG_AR_P)) return fail_with(d, VEC_NP, (sel & ~3u) + (ext ? 1 : 0));
  if (lm && (!(cs.ar & SEG_AR_L) || (cs.ar & SEG_AR_DB))) return fail_with(d, VEC_GP, sel & ~3u);

  bool conforming = SEG_AR_TYPE(cs.ar) & 4;
  unsigned new_cpl = conforming ? cpl : SEG_AR_DPL(cs.ar);
  uint64_t sp = s->gpr[GPR_RSP], ss_base = s->seg[SEG_SS].base;
  struct segment ss = s->seg[SEG_SS];
  uint64_t tss = s->seg[SEG_TR].base;
  unsigned ist = lm ? (g1 & 7) : 0;

  if (new_cpl < cpl || ist) {
    if (lm) {
      /* 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1). */
      uint64_t slot = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * new_cpl;
      if (!read_mem(d, tss + slot, &sp, 8)) return false;
      if (new_cpl < cpl)
        ss = (struct segment){.selector = (uint16_t)new_cpl, .ar = SEG_AR_UNUSABLE | ((uint32_t)new_cpl << 5)};
      ss_base = 0;
    } else {
      /* 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n. */
      uint32_t esp;
      uint16_t ss_sel;
      if (!read_mem(d, tss + 4 + 8 * new_cpl, &esp, 4) || !read_mem(d, tss + 8 + 8 * new_cpl, &ss_sel, 2)) return false;
      if (!load_descriptor(d, ss_sel, &ss, VEC_TS)) return false;
      sp = esp;
      ss_base = ss.base;
    }
  }
  if (lm) sp &= ~0xfull;   /* the 64-bit frame is 16-byte aligned */

  unsigned width = lm ? 8 : (type & 8) ? 4 : 2;
  uint64_t sp_mask = lm ? ~0ull : (ss.ar & SEG_AR_DB) ? 0xffffffffull : 0xffff;
  uint64_t fsp = sp & sp_mask;
  bool stack_switch = new_cpl < cpl || ist;
  /* IA-32e mode always pushes SS:RSP; protected mode only on a privilege change. */
  if ((lm || new_cpl < cpl) &&
      (!push(d, &fsp, ss_base, width, s->seg[SEG_SS].selector) ||
       !push(d, &fsp, ss_base, width, s->gpr[GPR_RSP])))
    return false;
  if (!push(d, &fsp, ss_base, width, s->rflags) ||
      !push(d, &fsp, ss_base, width, s->seg[SEG_CS].selector) ||
      !push(d, &fsp, ss_base, width, s->rip))
    return false;
  if (ev->has_error && !push(d, &fsp, ss_base, width, ev->error)) return false;

  if (lm || stack_switch) s->gpr[GPR_RSP] = fsp & sp_mask;
  else s->gpr[GPR_RSP] = (s->gpr[GPR_RSP] & ~sp_mask) | (fsp & sp_mask);
  s->seg[SEG_SS] = ss;
  cs.selector = (uint16_t)((sel & ~3u) | new_cpl);
  s->seg[SEG_CS] = cs;
  s->rip = offset;
  s->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
  if (!trap_gate) s->rflags &= ~RFLAGS_IF;
  return true;
}

/* Reads for a question only (exception_task_gate): no fault is left. */
static bool peek_read(void *ctx, uint64_t la, void *buf, unsigned len)
{
  return machine_peek_linear(ctx, la, buf, len, true);
}

/* In guest mode the hypervisor may take an event instead of the IDT
 * (exception bitmap, exception and INTn intercepts); `during` is the event
 * whose delivery raised this one (IDT-vectoring information, EXITINTINFO). */
static bool virt_takes(struct machine *m, const struct pending_event *ev, const struct pending_event *during)
{
  if (!m->virt || !m->virt->event_exits) return false;
  m->delivering = during;
  bool taken = m->virt->event_exits(m, ev);
  m->delivering = NULL;
  return taken;
}

/* DR6.BT: the debug exception is a task switch's ("Debug Status Register
 * (DR6)"). */
#define DR6_BT (1ull << 15)

bool exception_task_gate(struct machine *m, const struct pending_event *ev, uint16_t *tss)
{
  const struct cpu_state *s = &m->cpu;
  if (!(s->cr0 & CR0_PE) || (s->efer & EFER_LMA)) return false;
  uint32_t g[2];
  if ((uint32_t)ev->vector * 8 + 7 > s->idtr.limit ||
      !machine_peek_linear(m, s->idtr.base + (uint64_t)ev->vector * 8, g, sizeof g, true))
    return false;
  unsigned type = (g[1] >> 8) & 0x1f, dpl = (g[1] >> 13) & 3;
  if (type != TS_TYPE_TASK_GATE || !(g[1] & (1u << 15))) return false;
  if (ev->software && !ev->privileged && dpl < cpu_cpl(s)) return false;   /* ICEBP: no gate-DPL check */
  struct ts_mem peek = {.read = peek_read, .ctx = m};
  struct ts_target t;
  struct ts_fault f;
  if (task_switch_check_target(s, &peek, (uint16_t)(g[0] >> 16), TS_FROM_INT, false, &t, &f) != TS_DONE)
    return false;
  *tss = t.selector;
  return true;
}

void deliver_event(struct machine *m, const struct pending_event *first)
{
  struct pending_event ev = *first, during = {0};
  struct cpu_state saved = m->cpu;
  bool ext = !ev.software || ev.privileged;
  bool in_double_fault = false;

  for (;;) {
    /* An external interrupt is not an exception: the exception bitmap and
     * exception intercepts never see it (the extension had its say through
     * interrupt_exits before the PIC was acknowledged). */
    /* An external interrupt through a task gate is a task switch, which
     * the extension may take (VMX: always in non-root operation). */
    uint16_t tss;
    bool ask = !ev.external || exception_task_gate(m, &ev, &tss);
    if (ask && virt_takes(m, &ev, during.valid ? &during : NULL)) return;
    /* Delivery through the IDT ends a blocking by STI or MOV SS ("STI—Set
     * Interrupt Flag": "the inhibition ends after delivery of another
     * event"), so a VM exit from here on saves none (SDM Vol. 3C,
     * "Architectural State Before a VM Exit"). An exit the event caused
     * directly (above) saved it. */
    m->cpu.sti_blocking = m->cpu.movss_blocking = saved.sti_blocking = saved.movss_blocking = false;
    uc_bridge_set_inhibited(m->bridge, false);
    struct delivery d = {.m = m, .s = &m->cpu};
    if (ev.vector == VEC_PF) m->cpu.cr2 = m->fault.cr2;
    trace_event(&m->trace, m->insns, "exception", "vector=%u error=0x%x rip=0x%llx%s", ev.vector,
                ev.has_error ? ev.error : 0, (unsigned long long)m->cpu.rip, ev.software ? " software" : "");
    bool ok = (m->cpu.cr0 & CR0_PE) ? deliver_protected(&d, &ev, ext) : deliver_real(&d, &ev);
    if (ok && !d.debug_trap) return;
    if (ok) {
      /* "Debug Exceptions": the new TSS's T flag is a trap before the new
       * task's first instruction, DR6.BT set. */
      m->cpu.dr[6] |= DR6_BT;
      ev = (struct pending_event){.valid = true, .vector = VEC_DB};
      during = (struct pending_event){0};
      saved = m->cpu;
      ext = true;
      in_double_fault = false;
      continue;
    }

    uint64_t cr2 = m->cpu.cr2;
    if (!d.committed) {
      /* Delivery faulted: restore what the attempt changed, then combine. */
      m->cpu = saved;
      m->cpu.cr2 = cr2;
      /* A fault while delivering INT n belongs to the INT instruction: its
       * saved RIP points at it, not after it. */
      if (ev.software) m->cpu.rip -= ev.insn_len;
    }
    /* After a task switch's commit point the fault is raised in the new
     * task ("Task Switching"): its state stays, RIP is its first
     * instruction, and the fault still combines with the event. */
    saved = m->cpu;
    if (d.second_level && m->virt && m->virt->slat_fault) {
      /* An EPT violation or #NPF while delivering: a VM exit that records
       * the event being delivered. */
      m->delivering = &ev;
      m->virt->slat_fault(m, &m->fault, m->fault_linear);
      m->delivering = NULL;
      return;
    }
    uint8_t second = d.fault.vector;
    if (in_double_fault) {
      /* "Triple fault": a VM exit in VMX non-root operation, #VMEXIT
       * (SHUTDOWN) under its intercept, else the processor shuts down. */
      if (m->virt && m->virt->shutdown && m->virt->shutdown(m)) return;
      machine_stop(m, STOP_SHUTDOWN, 0,
                   "triple fault: delivering #DF raised vector %u (error 0x%x) at rip 0x%llx",
                   second, d.fault.error, (unsigned long long)m->cpu.rip);
      trace_event(&m->trace, m->insns, "shutdown", "reason=triple-fault");
      return;
    }
    /* "Interrupt and Exception Classes" (SDM Vol. 3A): every external
     * interrupt is benign, whatever its vector (IRQ0 of an unremapped PIC
     * is vector 8). */
    enum exc_class c1 = ev.external ? BENIGN : exc_class(ev.vector), c2 = exc_class(second);
    bool dbl = (c1 == CONTRIBUTORY && c2 == CONTRIBUTORY) || (c1 == PAGE_FAULT && c2 != BENIGN);
    during = ev;
    if (dbl) {
      ev = (struct pending_event){.valid = true, .vector = VEC_DF, .has_error = true, .error = 0};
      in_double_fault = true;
    } else {
      ev = (struct pending_event){.valid = true, .vector = second, .has_error = exception_has_error_code(second),
                                  .error = d.fault.error};
    }
    if (second == VEC_PF) m->cpu.cr2 = m->fault.cr2;
    ext = true;
  }
}
