/* Interrupt sources on virtual time and their delivery (see irq.h). */
#include "sim/irq.h"

#include <unicorn/unicorn.h>

#include "sim/machine.h"
#include "sim/mca.h"
#include "sim/sysinsn.h"
#include "sim/uc_bridge.h"

/* ---- the local APIC's page and the NMI latch ------------------------------ */

uint64_t irq_apic_mmio_page(const struct machine *m) { return (m->ram_size + 0xFFF) & ~0xFFFull; }

bool irq_is_apic_page(const struct machine *m, uint64_t page_base)
{
  return (m->apic_base & LAPIC_BASE_ENABLE) && page_base == (m->apic_base & ~0xFFFull);
}

/* Unicorn calls these for every access to the page, inside its execution:
 * an access without a modelled outcome stops the run with the model's
 * message (the instruction itself completes, reading 0). */
static uint64_t apic_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
  (void)uc;
  struct machine *m = user;
  char msg[200];
  uint32_t v;
  if (lapic_read(&machine_irq_nmi(m)->apic, (uint32_t)offset, size, &v, msg, sizeof msg) != LAPIC_OK) {
    machine_stop(m, STOP_INTERNAL, 125, "%s", msg);
    return 0;
  }
  trace_event(&m->trace, m->insns, "apic-read", "offset=0x%03x value=0x%08x", (unsigned)offset, v);
  return v;
}

static void apic_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
  (void)uc;
  struct machine *m = user;
  char msg[200];
  trace_event(&m->trace, m->insns, "apic-write", "offset=0x%03x value=0x%08x", (unsigned)offset, (uint32_t)value);
  switch (lapic_write(&machine_irq_nmi(m)->apic, (uint32_t)offset, size, (uint32_t)value, msg, sizeof msg)) {
  case LAPIC_OK: return;
  case LAPIC_SEND_NMI: irq_raise_nmi(m); return;
  case LAPIC_SEND_SMI: irq_raise_signal(m, IRQ_SIGNAL_SMI); return;
  case LAPIC_SEND_INIT: irq_raise_signal(m, IRQ_SIGNAL_INIT); return;
  case LAPIC_UNMODELLED: machine_stop(m, STOP_INTERNAL, 125, "%s", msg); return;
  }
  machine_stop(m, STOP_INTERNAL, 125, "local APIC: unexpected result of a write at 0x%03x", (unsigned)offset);
}

void irq_set_nmi_ops(struct machine *m, const struct irq_nmi_ops *ops) { machine_irq_nmi(m)->ops = ops; }

void irq_raise_nmi(struct machine *m)
{
  struct irq_nmi *n = machine_irq_nmi(m);
  trace_event(&m->trace, m->insns, "nmi", "raised%s", n->pending ? " (one already pending: lost)" : "");
  n->pending = true;
  irq_rearm(m);
}

bool irq_nmi_pending(struct machine *m) { return machine_irq_nmi(m)->pending; }
void irq_nmi_consume(struct machine *m) { machine_irq_nmi(m)->pending = false; }
bool irq_nmi_delivering(struct machine *m) { return machine_irq_nmi(m)->delivering; }

/* A pending NMI the extension's rules (or, without them, blocking by NMI)
 * do not hold. */
static bool nmi_ready(struct machine *m)
{
  struct irq_nmi *n = machine_irq_nmi(m);
  if (!n->pending) return false;
  if (n->ops && n->ops->held) return !n->ops->held(m);
  return !m->cpu.nmi_blocking;
}

const char *irq_signal_name(enum irq_signal s) { return s == IRQ_SIGNAL_SMI ? "SMI" : "INIT"; }

void irq_raise_signal(struct machine *m, enum irq_signal s)
{
  struct irq_nmi *n = machine_irq_nmi(m);
  trace_event(&m->trace, m->insns, "signal", "%s raised%s", irq_signal_name(s),
              n->signal_pending[s] ? " (one already pending)" : "");
  n->signal_pending[s] = true;
  irq_rearm(m);
}

bool irq_signal_pending(struct machine *m, enum irq_signal s) { return machine_irq_nmi(m)->signal_pending[s]; }
void irq_signal_consume(struct machine *m, enum irq_signal s) { machine_irq_nmi(m)->signal_pending[s] = false; }

/* The pending SMI or INIT the extension does not hold, SMI first
 * ("Priority Among Concurrent Exceptions and Interrupts"). */
static bool signal_ready(struct machine *m, enum irq_signal *which)
{
  struct irq_nmi *n = machine_irq_nmi(m);
  for (unsigned i = 0; i < IRQ_SIGNAL_COUNT; i++) {
    enum irq_signal s = (enum irq_signal)i;
    if (!n->signal_pending[s]) continue;
    if (n->ops && n->ops->signal_held && n->ops->signal_held(m, s)) continue;
    if (which) *which = s;
    return true;
  }
  return false;
}

void irq_init(struct machine *m)
{
  pic_init(&m->pic);
  pit_init(&m->pit);
  m->irq_check_at = UINT64_MAX;
  struct irq_nmi *n = machine_irq_nmi(m);
  lapic_reset(&n->apic, 0);
  n->pending = n->delivering = false;
  for (unsigned i = 0; i < IRQ_SIGNAL_COUNT; i++) n->signal_pending[i] = false;
  uc_err e = uc_mmio_map(m->uc, irq_apic_mmio_page(m), 0x1000, apic_mmio_read, m, apic_mmio_write, m);
  if (e != UC_ERR_OK)
    machine_stop(m, STOP_INTERNAL, 125, "Unicorn cannot map the local APIC page: %s", uc_strerror(e));
}

uint64_t irq_pit_clock(uint64_t insns)
{
  return (uint64_t)((unsigned __int128)insns * PIT_HZ / MACHINE_INSNS_PER_SECOND);
}

uint64_t irq_insns_at_clock(uint64_t clock)
{
  unsigned __int128 t = ((unsigned __int128)clock * MACHINE_INSNS_PER_SECOND + PIT_HZ - 1) / PIT_HZ;
  return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* Feeds counter 0's OUT edges up to now into IRQ0 (edges that fall between
 * two looks coalesce into one IRR bit, as on an edge-triggered 8259A). */
static void sync_time(struct machine *m)
{
  if (pit_take_edges(&m->pit, 0, irq_pit_clock(m->insns))) pic_raise(&m->pic, 0);
}

/* The extension wants a stop at the next boundary where the guest can
 * take interrupts (virt_ops.window_wanted). */
static bool window_wanted(struct machine *m)
{
  return m->virt && m->virt->window_wanted && m->virt->window_wanted(m);
}

/* The extension holds the PIC's request pending (virt_ops.interrupts_held). */
static bool held(struct machine *m)
{
  return m->virt && m->virt->interrupts_held && m->virt->interrupts_held(m);
}

/* The extension's own stop time (virt_ops.deadline), UINT64_MAX: none. */
static uint64_t virt_deadline(struct machine *m)
{
  return m->virt && m->virt->deadline ? m->virt->deadline(m) : UINT64_MAX;
}

bool irq_deadline_due(struct machine *m) { return m->insns >= virt_deadline(m); }

void irq_rearm(struct machine *m)
{
  if (pic_intr(&m->pic) || window_wanted(m) || nmi_ready(m) || signal_ready(m, NULL) || mca_due(m)) {
    m->irq_check_at = 0;      /* a request is waiting: look at every block */
    return;
  }
  uint64_t edge = pit_next_edge(&m->pit, 0), deadline = virt_deadline(m), mce = mca_next_at(m);
  m->irq_check_at = edge == UINT64_MAX ? UINT64_MAX : irq_insns_at_clock(edge);
  if (deadline < m->irq_check_at) m->irq_check_at = deadline;
  if (mce < m->irq_check_at) m->irq_check_at = mce;
}

bool irq_port_in(struct machine *m, uint16_t port, unsigned size, uint32_t *value)
{
  if (!pic_claims(port) && !pit_claims(port)) return false;
  sync_time(m);
  uint64_t now = irq_pit_clock(m->insns);
  uint32_t v = 0;
  for (unsigned i = 0; i < size; i++) {
    uint16_t p = (uint16_t)(port + i);
    uint8_t b = pic_claims(p) ? pic_read(&m->pic, p) : pit_claims(p) ? pit_read(&m->pit, p, now) : 0xff;
    v |= (uint32_t)b << (8 * i);
  }
  irq_rearm(m);
  *value = v;
  return true;
}

bool irq_port_out(struct machine *m, uint16_t port, unsigned size, uint32_t value)
{
  if (!pic_claims(port) && !pit_claims(port)) return false;
  sync_time(m);
  uint64_t now = irq_pit_clock(m->insns);
  for (unsigned i = 0; i < size; i++) {
    uint16_t p = (uint16_t)(port + i);
    uint8_t b = (uint8_t)(value >> (8 * i));
    if (pic_claims(p)) pic_write(&m->pic, p, b);
    else if (pit_claims(p)) pit_write(&m->pit, p, b, now);
  }
  irq_rearm(m);
  return true;
}

/* "Masking Maskable Hardware Interrupts" (STI: interrupts are recognized
 * after the instruction that follows it) and "Masking Exceptions and
 * Interrupts When Switching Stacks" (MOV SS, POP SS), SDM Vol. 3A. Every
 * STI counts, even with IF already 1: waiting one more instruction is
 * always allowed. */
static bool blocks_next_boundary(const struct insn *in)
{
  ZydisMnemonic mn = in->zi.mnemonic;
  if (mn == ZYDIS_MNEMONIC_STI) return true;
  if (mn != ZYDIS_MNEMONIC_MOV && mn != ZYDIS_MNEMONIC_POP) return false;
  return in->zi.operand_count > 0 && in->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
         in->op[0].reg.value == ZYDIS_REGISTER_SS;
}

/* Translation blocks end right after STI, MOV SS and POP SS (QEMU ends the
 * block to apply the shadow), so the last instruction of the previous
 * block is the one that decides. A block that cannot be decoded again
 * counts as blocking: the interrupt waits one more block. */
static bool in_shadow(struct machine *m, uint64_t block, uint32_t size)
{
  bool shadow = false;
  struct insn in;
  for (uint64_t at = block; at < block + size; at = in.next_rip) {
    if (!insn_decode(m, at, &in)) return true;
    shadow = blocks_next_boundary(&in);
  }
  return shadow;
}

/* Saving the blocking by STI or by MOV SS in effect at the current
 * instruction: SDM Vol. 3C, "Saving Non-Register State" (the
 * interruptibility state "reflects the logical processor's
 * interruptibility before the VM exit") and "Interruptibility State" (STI
 * blocks only when it found RFLAGS.IF = 0); AMD APM Vol. 2, "#VMEXIT"
 * (INTERRUPT_SHADOW). Unicorn's one flag says that some STI, MOV SS or
 * POP SS set a shadow for this instruction. Its source is the last
 * instruction of the block before the current one: the block after such an
 * instruction holds that one instruction alone, so when the newest block
 * starts here it is the current one and the shadow came from the block
 * before it. */
void irq_shadow_sync(struct machine *m)
{
  struct cpu_state *c = &m->cpu;
  /* A world switch whose state has not reached Unicorn yet (an exit at
   * the start of the guest): the blocking it loaded is the current one. */
  if (m->context_switched) return;
  if (!uc_bridge_inhibited(m->bridge)) {
    c->sti_blocking = c->movss_blocking = false;
    return;
  }
  /* A VM entry's or VMRUN's blocking, still in its first instruction. */
  if (c->sti_blocking || c->movss_blocking) return;
  const struct ran_block *b = &m->ran[m->ran[0].address == c->rip ? 1 : 0];
  struct insn in;
  bool cleared = false, decoded = false;
  for (uint64_t at = b->address; b->size && at < b->address + b->size; at = in.next_rip) {
    if (!insn_decode(m, at, &in)) return;
    decoded = true;
    if (in.next_rip < b->address + b->size) cleared |= in.zi.mnemonic == ZYDIS_MNEMONIC_CLI;
  }
  if (!decoded || !blocks_next_boundary(&in)) return;
  if (in.zi.mnemonic == ZYDIS_MNEMONIC_STI)
    c->sti_blocking = cleared || !b->if_at_start;   /* CLI ends no block: IF as STI found it */
  else
    c->movss_blocking = true;
}

bool irq_should_stop(struct machine *m, uint64_t prev, uint32_t prev_size)
{
  sync_time(m);
  irq_rearm(m);
  /* A machine check (sim/mca.h): nothing masks it. */
  if (mca_due(m)) return true;
  /* SMI and INIT: neither RFLAGS.IF nor the shadows mask them (irq.h). */
  if (signal_ready(m, NULL)) return true;
  /* The extension's deadline (the VMX-preemption timer) is not masked by
   * RFLAGS.IF or the interrupt shadows. A pending NMI, which the
   * extensions count in their deadline (irq_nmi_deadline), waits out the
   * MOV SS / POP SS shadow ("blocking by MOV SS" covers maskable and
   * nonmaskable interrupts) and STI's; so then does a deadline due at the
   * same boundary, one block later at most. */
  bool nmi = nmi_ready(m);
  if (irq_deadline_due(m) && !nmi) return true;
  bool intr = pic_intr(&m->pic) && !held(m), window = window_wanted(m);
  if (!intr && !window && !nmi) return false;
  if (m->irq_hold) {
    /* The run loop could not take it at this boundary: let a block run. */
    m->irq_hold = false;
    return false;
  }
  bool if1 = (uc_bridge_rflags(m->bridge) & RFLAGS_IF) != 0;
  bool virt_may_exit = intr && m->virt && m->virt->interrupt_would_exit && m->virt->interrupt_would_exit(m);
  if (!if1 && !virt_may_exit && !nmi) return false;
  /* The shadow of the last instruction of the previous block, or, before
   * the first block of this run, the blocking a VM entry / VMRUN loaded. */
  if (prev_size ? in_shadow(m, prev, prev_size) : (m->cpu.sti_blocking || m->cpu.movss_blocking)) return false;
  return true;
}

/* What the vCPU waits after, for the messages. */
static const char *halted_by(const struct machine *m)
{
  return m->fpu.frozen ? "frozen by FERR# before the x87 instruction at rip" : "HLT before rip";
}

/* HLT with IF=1, or with IF=0 when the extension turns interrupts into
 * exits or has a deadline ("HLT—Halt", SDM Vol. 2: execution resumes on
 * an interrupt): virtual time jumps to the next PIT edge or the
 * extension's deadline, whichever comes first. Nothing else raises
 * interrupts, so when that edge leaves INT low (IRQ0 masked) or there is no
 * edge to come, the vCPU would sleep forever: the run stops and says so.
 *
 * A request the extension holds (virt_ops.interrupts_held; SVM: GIF = 0,
 * or the host's IF = 0 under V_INTR_MASKING) is not recognized, so it does
 * not end the halt either (AMD APM Vol. 2, "Global Interrupt Flag, STGI
 * and CLGI Instructions": with GIF = 0 INTR, NMI, SMI and INIT are held
 * pending; APM Vol. 3, "HLT": only a recognized NMI, SMI, INIT, RESET or
 * enabled INTR ends the halt). Nothing that halted vCPU does can release
 * the hold (STGI, VMRUN and #VMEXIT are instructions or exits), so only
 * the extension's deadline (an NMI it does not hold) can wake it; PIT
 * edges cannot. */
static bool wait_for_interrupt(struct machine *m)
{
  bool intr_wakes = !held(m);
  if ((pic_intr(&m->pic) && intr_wakes) || irq_deadline_due(m) || nmi_ready(m) || mca_due(m)) return true;
  /* m->irq_check_at includes the next injected machine check's time
   * (irq_rearm): its #MC ends the halt too; a corrected error leaves the
   * vCPU halted (irq_take). */
  uint64_t at = intr_wakes ? m->irq_check_at : virt_deadline(m);
  if (at == UINT64_MAX && !intr_wakes) {
    machine_stop(m, STOP_HALTED, 0,
                 "guest halted (%s 0x%llx) with interrupts held (SVM: GIF = 0, or the host's IF = 0 "
                 "under V_INTR_MASKING): no interrupt or NMI can wake it",
                 halted_by(m), (unsigned long long)m->cpu.rip);
    return false;
  }
  if (at == UINT64_MAX) {
    machine_stop(m, STOP_HALTED, 0, "guest halted (%s 0x%llx) waiting for an interrupt and no timer armed",
                 halted_by(m), (unsigned long long)m->cpu.rip);
    return false;
  }
  if (m->opt.max_insns && at >= m->opt.max_insns) {
    m->insns = m->opt.max_insns;
    machine_stop(m, STOP_MAX_INSNS, 124, "stopped after %llu instructions (--max-insns) while halted",
                 (unsigned long long)m->insns);
    return false;
  }
  trace_event(&m->trace, m->insns, "wake", "at=%llu", (unsigned long long)at);
  m->insns = at;
  sync_time(m);
  irq_rearm(m);
  if ((pic_intr(&m->pic) && intr_wakes) || irq_deadline_due(m) || mca_due(m)) return true;
  machine_stop(m, STOP_HALTED, 0,
               "guest halted (%s 0x%llx) waiting for an interrupt but IRQ0 masked and no other source",
               halted_by(m), (unsigned long long)m->cpu.rip);
  return false;
}

/* The extension's deadline has come: it performs its event. */
static bool deadline_taken(struct machine *m)
{
  if (!irq_deadline_due(m) || !m->virt->deadline_reached || !m->virt->deadline_reached(m)) return false;
  m->state_dirty = true;
  irq_rearm(m);
  return true;
}

/* "NMI Handling" (SDM Vol. 3A): the extension may take the NMI as an exit;
 * else it goes through the current IDT (vector 2, an external event: no
 * error code, the saved RIP the interrupted instruction, not subject to
 * exception bitmaps or intercepts) and "the processor blocks the delivery
 * of subsequent NMIs until the next execution of IRET". Blocking starts
 * with the delivery, so a fault during it already sees it. */
static void take_nmi(struct machine *m, bool halted)
{
  struct irq_nmi *n = machine_irq_nmi(m);
  m->state_dirty = true;
  m->cpu.halted = halted;
  if (n->ops && n->ops->exits && n->ops->exits(m)) {
    irq_rearm(m);
    return;
  }
  m->cpu.halted = false;
  n->pending = false;
  trace_event(&m->trace, m->insns, "nmi", "delivered rip=0x%llx", (unsigned long long)m->cpu.rip);
  m->cpu.nmi_blocking = true;
  struct pending_event ev = {.valid = true, .vector = VEC_NMI, .external = true};
  n->delivering = true;
  deliver_event(m, &ev);
  n->delivering = false;
  irq_rearm(m);
}

/* An SMI or INIT that is not held: the extension may take it as an exit;
 * else the processor would enter SMM or perform the INIT reset, which the
 * machine does not model: the run stops and says so. */
static bool take_signal(struct machine *m, bool halted)
{
  enum irq_signal s;
  if (!signal_ready(m, &s)) return false;
  struct irq_nmi *n = machine_irq_nmi(m);
  m->state_dirty = true;
  m->cpu.halted = halted;
  char why[160] = "no hypervisor extension";
  trace_event(&m->trace, m->insns, "signal", "%s taken rip=0x%llx", irq_signal_name(s), (unsigned long long)m->cpu.rip);
  if (n->ops && n->ops->signal_exits && n->ops->signal_exits(m, s, why, sizeof why)) {
    irq_rearm(m);
    return true;
  }
  m->cpu.halted = false;
  machine_stop(m, STOP_INTERNAL, 125, "%s from the local APIC recognized at rip 0x%llx (%s): %s is not modelled",
               irq_signal_name(s), (unsigned long long)m->cpu.rip, why,
               s == IRQ_SIGNAL_SMI ? "system-management mode (SMM)" : "the INIT reset");
  return true;
}

uint64_t irq_nmi_deadline(struct machine *m)
{
  if (signal_ready(m, NULL)) return m->insns;
  if (!nmi_ready(m)) return UINT64_MAX;
  return m->cpu.sti_blocking || m->cpu.movss_blocking ? m->insns + 1 : m->insns;
}

bool irq_halt_can_end(struct machine *m, uint64_t rflags)
{
  return (rflags & RFLAGS_IF) || (m->virt && m->virt->interrupt_would_exit && m->virt->interrupt_would_exit(m)) ||
         (m->virt && m->virt->deadline && m->virt->deadline(m) != UINT64_MAX);
}

void irq_take(struct machine *m)
{
  bool halted = m->halted;
  m->halted = false;
  m->irq_stop = false;
  /* "Interrupt-Window Exiting and Virtual-Interrupt Delivery": the window
   * (and SVM's virtual interrupt) comes before external interrupts. The
   * stop was decided outside any shadow; a halted vCPU is after its HLT. */
  /* An exit taken here records whether the vCPU was halted (VMX's
   * activity state, "Saving Non-Register State"). */
  m->cpu.halted = halted;
  /* Machine checks ("Hardware Reset and Machine Checks", the highest
   * priority) first: the injected errors due now are logged, and a
   * signaled one is taken (sim/mca.h). */
  if (mca_due(m) && mca_take(m, halted)) {
    irq_rearm(m);
    return;
  }
  /* SMI and INIT ("External Hardware Interventions") come before
   * everything else here, the extension's deadline included (Bochs 2.7
   * orders them the same way). */
  if (take_signal(m, halted)) return;
  /* The extension's deadline first (VMX: "VM exits caused by the
   * VMX-preemption timer take priority over ... NMI-window exiting and
   * lower priority events"); it also ends a halt. */
  if (deadline_taken(m)) return;
  /* "Priority Among Concurrent Exceptions and Interrupts": NMIs before
   * maskable interrupts (and their windows). */
  if (nmi_ready(m)) {
    take_nmi(m, halted);
    return;
  }
  if ((m->cpu.rflags & RFLAGS_IF) && window_wanted(m) && m->virt->window_open && m->virt->window_open(m)) {
    m->state_dirty = true;
    irq_rearm(m);
    return;
  }
  if (halted && !wait_for_interrupt(m)) return;
  if (mca_due(m)) {
    if (mca_take(m, halted)) {
      irq_rearm(m);
      return;
    }
    /* Only errors that signal nothing were due (corrected, or not
     * enabled): a halted vCPU goes on waiting unless something else woke
     * it. */
    if (halted && !(pic_intr(&m->pic) && !held(m)) && !irq_deadline_due(m) && !nmi_ready(m)) {
      m->halted = true;
      m->cpu.halted = false;
      irq_rearm(m);
      return;
    }
  }
  if (deadline_taken(m)) return;
  if (nmi_ready(m)) {
    take_nmi(m, halted);
    return;
  }
  if (pic_intr(&m->pic) && held(m)) {
    m->cpu.halted = false;
    return;
  }
  if (pic_intr(&m->pic) && m->virt && m->virt->interrupt_exits && m->virt->interrupt_exits(m)) {
    m->state_dirty = true;
    irq_rearm(m);
    return;
  }
  m->cpu.halted = false;
  if (!pic_intr(&m->pic)) return;
  if (!(m->cpu.rflags & RFLAGS_IF)) {
    m->irq_hold = true;
    return;
  }
  uint8_t vector = pic_ack(&m->pic);
  trace_event(&m->trace, m->insns, "irq", "vector=0x%x rip=0x%llx", vector, (unsigned long long)m->cpu.rip);
  struct pending_event ev = {.valid = true, .vector = vector, .external = true};
  deliver_event(m, &ev);
  m->state_dirty = true;
  irq_rearm(m);
}
