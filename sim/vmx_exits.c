/* VM exits caused by what the guest does in VMX non-root operation, as the
 * machine's seam reports it (sim/virt.h): intercepted system instructions
 * and port I/O ([hook] asks, [loop] exits), exceptions about to be
 * delivered through the guest IDT, and EPT faults of the MMU. The rules
 * are the model's (models/vmx/vmx_exit.h); this file reads the machine's
 * registers and memory for them and builds the exit information (SDM Vol.
 * 3C, chapter "VMX Non-Root Operation"; chapter "VM Exits", "Basic VM-Exit
 * Information" and "Information for VM Exits Due to Instruction
 * Execution"). */
#include "sim/vmx_internal.h"

#include "sim/irq.h"
/* After the headers whose enums name the same MSRs (caps.h, msr.h). */
#include "models/vmx/vmx_bits.h"

/* Registers: Unicorn's inside a hook, the model's copy in the run loop. */
struct view {
  struct machine *m;
  bool live;
};

static uint64_t gpr(const struct view *w, int n)
{
  if (n < 0) return 0;
  return w->live ? uc_bridge_gpr(w->m->bridge, (enum gpr)n) : w->m->cpu.gpr[n];
}

/* MOV CR / MOV DR / LMSW / CLTS: the control-register rules. */
static bool cr_exit(const struct view *w, struct insn *in, const struct vmcs *v, struct vmx_exit_info *e)
{
  ZydisMnemonic mn = in->zi.mnemonic;
  if (mn == ZYDIS_MNEMONIC_CLTS) {
    e->qualification = vmx_cr_qualification(0, VMX_CR_CLTS, 0, false, 0);
    return vmx_cr_access_exits(v, 0, VMX_CR_CLTS, 0);
  }
  if (mn == ZYDIS_MNEMONIC_LMSW) {
    const ZydisDecodedOperand *op = &in->op[0];
    uint16_t src = 0;
    bool mem = op->type == ZYDIS_OPERAND_TYPE_MEMORY;
    if (mem) {
      uint64_t la = insn_operand_linear(in, op);
      struct mmu_fault saved = w->m->fault;
      bool pending = w->m->fault_pending;
      /* A source that cannot be read makes LMSW fault, not exit. */
      bool ok = machine_read_linear(w->m, la, &src, 2, false);
      w->m->fault = saved;
      w->m->fault_pending = pending;
      if (!ok) return false;
      e->guest_linear = la;
      e->linear_valid = true;
    } else {
      src = (uint16_t)gpr(w, vmx_ext_gpr_number(op->reg.value));
    }
    e->qualification = vmx_cr_qualification(0, VMX_CR_LMSW, 0, mem, src);
    return vmx_cr_access_exits(v, 0, VMX_CR_LMSW, src);
  }
  const ZydisDecodedOperand *dst = &in->op[0], *src = &in->op[1];
  bool to = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_CONTROL ||
            ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_DEBUG;
  ZydisRegister special = to ? dst->reg.value : src->reg.value;
  int g = vmx_ext_gpr_number(to ? src->reg.value : dst->reg.value);
  if (ZydisRegisterGetClass(special) == ZYDIS_REGCLASS_DEBUG) {
    /* "MOV DR. The MOV DR instruction causes a VM exit if the 'MOV-DR
     * exiting' VM-execution control is 1." */
    unsigned reason;
    e->qualification = vmx_dr_qualification((unsigned)(special - ZYDIS_REGISTER_DR0), !to, (unsigned)g);
    if (!vmx_insn_exits(v, VMX_KIND_MOV_DR, &reason)) return false;
    e->reason = reason;
    return true;
  }
  unsigned cr = (unsigned)(special - ZYDIS_REGISTER_CR0);
  uint64_t value = gpr(w, g);
  if (!in->mode.cs64) value &= 0xFFFFFFFFull;   /* 32-bit operands outside 64-bit mode */
  e->reason = VMX_EXIT_CR_ACCESS;
  e->qualification = vmx_cr_qualification(cr, to ? VMX_CR_MOV_TO : VMX_CR_MOV_FROM, (unsigned)g, false, 0);
  return vmx_cr_access_exits(v, cr, to ? VMX_CR_MOV_TO : VMX_CR_MOV_FROM, value);
}

static bool is_cr_or_dr_mov(const struct insn *in)
{
  if (in->op[0].type != ZYDIS_OPERAND_TYPE_REGISTER || in->op[1].type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  ZydisRegisterClass a = ZydisRegisterGetClass(in->op[0].reg.value), b = ZydisRegisterGetClass(in->op[1].reg.value);
  return a == ZYDIS_REGCLASS_CONTROL || b == ZYDIS_REGCLASS_CONTROL || a == ZYDIS_REGCLASS_DEBUG ||
         b == ZYDIS_REGCLASS_DEBUG;
}

/* RDRAND / RDSEED: "Format of the VM-Exit Instruction-Information Field as
 * Used for RDRAND and RDSEED": destination register 6:3, operand size
 * 12:11 (0 = 16, 1 = 32, 2 = 64 bits). */
static uint32_t rdrand_info(const struct insn *in)
{
  unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, in->op[0].reg.value);
  return ((unsigned)vmx_ext_gpr_number(in->op[0].reg.value) << 3) | ((w == 16 ? 0u : w == 32 ? 1u : 2u) << 11);
}

/* LGDT, LIDT, SGDT, SIDT, LLDT, LTR, SLDT, STR: the kind of rule, and the
 * exit's information — "Exit Qualification for ... LIDT, LGDT, SIDT, SGDT,
 * LLDT, LTR, SLDT, STR" is the displacement (0 without one), the
 * instruction information as the two tables for them lay it out. False
 * for any other instruction. */
static bool desc_table(struct insn *in, enum vmx_insn_kind *kind, struct vmx_exit_info *e)
{
  unsigned identity;
  bool gdtr_idtr = true;
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_SGDT: *kind = VMX_KIND_GDTR_IDTR_STORE; identity = 0; break;
  case ZYDIS_MNEMONIC_SIDT: *kind = VMX_KIND_GDTR_IDTR_STORE; identity = 1; break;
  case ZYDIS_MNEMONIC_LGDT: *kind = VMX_KIND_GDTR_IDTR_LOAD; identity = 2; break;
  case ZYDIS_MNEMONIC_LIDT: *kind = VMX_KIND_GDTR_IDTR_LOAD; identity = 3; break;
  case ZYDIS_MNEMONIC_SLDT: *kind = VMX_KIND_LDTR_TR_STORE; identity = 0; gdtr_idtr = false; break;
  case ZYDIS_MNEMONIC_STR: *kind = VMX_KIND_LDTR_TR_STORE; identity = 1; gdtr_idtr = false; break;
  case ZYDIS_MNEMONIC_LLDT: *kind = VMX_KIND_LDTR_TR_LOAD; identity = 2; gdtr_idtr = false; break;
  case ZYDIS_MNEMONIC_LTR: *kind = VMX_KIND_LDTR_TR_LOAD; identity = 3; gdtr_idtr = false; break;
  default: return false;
  }
  struct vmx_insn_operands o = vmx_ext_operands(in, &in->op[0], &e->qualification);
  e->insn_info = vmx_desc_table_insn_info(&o, gdtr_idtr, in->zi.operand_width != 16, identity);
  return true;
}

/* What the guest's system instruction `in` does instead of executing:
 * nothing (the machine carries it out), a VM exit (with its information),
 * or a #UD the VMX controls impose. */
enum taken { NOT_TAKEN, TAKEN_EXIT, TAKEN_UD };

static enum taken decide(const struct view *w, struct insn *in, struct vmx_exit_info *e)
{
  struct machine *m = w->m;
  const struct vmcs *v = &vmx_ext_of(m)->cpu.current;
  *e = (struct vmx_exit_info){ .insn_len = in->zi.length };
  enum vmx_insn_kind kind;
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_CPUID: kind = VMX_KIND_CPUID; break;
  case ZYDIS_MNEMONIC_INVD: kind = VMX_KIND_INVD; break;
  case ZYDIS_MNEMONIC_XSETBV: kind = VMX_KIND_XSETBV; break;
  case ZYDIS_MNEMONIC_HLT: kind = VMX_KIND_HLT; break;
  case ZYDIS_MNEMONIC_INVLPG:
    /* "Exit Qualification for INVLPG": the linear-address operand. */
    kind = VMX_KIND_INVLPG;
    e->qualification = insn_operand_linear(in, &in->op[0]);
    break;
  case ZYDIS_MNEMONIC_RDPMC: kind = VMX_KIND_RDPMC; break;
  case ZYDIS_MNEMONIC_RDTSC: kind = VMX_KIND_RDTSC; break;
  case ZYDIS_MNEMONIC_RDTSCP: kind = VMX_KIND_RDTSCP; break;
  case ZYDIS_MNEMONIC_MWAIT:
    /* "Basic VM-Exit Information", exit qualification: for MWAIT 1 when
     * the address-range monitoring hardware is armed, else 0. */
    kind = VMX_KIND_MWAIT;
    e->qualification = sysinsn_monitor_armed(m) ? 1 : 0;
    break;
  case ZYDIS_MNEMONIC_MONITOR: kind = VMX_KIND_MONITOR; break;
  case ZYDIS_MNEMONIC_WBINVD: kind = VMX_KIND_WBINVD; break;
  case ZYDIS_MNEMONIC_RDRAND: kind = VMX_KIND_RDRAND; e->insn_info = rdrand_info(in); break;
  case ZYDIS_MNEMONIC_RDSEED: kind = VMX_KIND_RDSEED; e->insn_info = rdrand_info(in); break;
  case ZYDIS_MNEMONIC_INVPCID:
    kind = VMX_KIND_INVPCID;
    e->insn_info = vmx_ext_insn_info(in, &in->op[1], vmx_ext_gpr_number(in->op[0].reg.value), &e->qualification);
    break;
  case ZYDIS_MNEMONIC_RDMSR: case ZYDIS_MNEMONIC_WRMSR: {
    /* Privileged: #GP at CPL > 0 comes before the exit ("Relative
     * Priority of Faults and VM Exits"). */
    if (in->mode.cpl > 0) return NOT_TAKEN;
    bool write = in->zi.mnemonic == ZYDIS_MNEMONIC_WRMSR;
    struct vmx_mem_ops mem = vmx_ext_mem(m);
    e->reason = write ? VMX_EXIT_WRMSR : VMX_EXIT_RDMSR;
    return vmx_msr_exits(v, &mem, (uint32_t)gpr(w, GPR_RCX), write) ? TAKEN_EXIT : NOT_TAKEN;
  }
  case ZYDIS_MNEMONIC_MOV: {
    /* MOV CR: #GP at CPL > 0 first; MOV DR: the exit first (asked
     * before the machine's MOV DR, so also before its #UD and its
     * general-detect #DB; vmx_fault_precedes_exit). */
    if (!is_cr_or_dr_mov(in)) return NOT_TAKEN;
    bool dr = ZydisRegisterGetClass(in->op[0].reg.value) == ZYDIS_REGCLASS_DEBUG ||
              ZydisRegisterGetClass(in->op[1].reg.value) == ZYDIS_REGCLASS_DEBUG;
    if (dr ? vmx_fault_precedes_exit(VMX_KIND_MOV_DR, in->mode.cpl, m->cpu.cr4) : in->mode.cpl > 0) return NOT_TAKEN;
    return cr_exit(w, in, v, e) ? TAKEN_EXIT : NOT_TAKEN;
  }
  case ZYDIS_MNEMONIC_CLTS: case ZYDIS_MNEMONIC_LMSW:
    if (in->mode.cpl > 0) return NOT_TAKEN;
    e->reason = VMX_EXIT_CR_ACCESS;
    return cr_exit(w, in, v, e) ? TAKEN_EXIT : NOT_TAKEN;
  case ZYDIS_MNEMONIC_PAUSE: {
    /* "PAUSE exiting" (below), else "PAUSE-loop exiting" with virtual time
     * (m->insns, the rate of the machine's TSC) as the counter; asked on
     * a copy here, recorded by vmx_ext_insn_exits for the PAUSE that
     * runs. */
    struct vmx_pause_loop ple = vmx_ext_of(m)->cpu.ple;
    if (vmx_pause_loop_exits(v, &ple, in->mode.cpl, m->insns)) {
      e->reason = VMX_EXIT_PAUSE;
      return TAKEN_EXIT;
    }
    kind = VMX_KIND_PAUSE;
    break;
  }
  case ZYDIS_MNEMONIC_JMP: case ZYDIS_MNEMONIC_CALL: {
    /* "Task Switches": a far JMP or CALL to a TSS or task gate exits
     * unconditionally, after the checks that fault first
     * (insn_far_task_switch); qualification source 2 JMP, 0 CALL. */
    uint16_t tss;
    if (!insn_far_task_switch(in, &tss)) return NOT_TAKEN;
    vmx_task_switch_exit(tss, in->zi.mnemonic == ZYDIS_MNEMONIC_JMP ? VMX_TS_JMP : VMX_TS_CALL, in->zi.length, e);
    return TAKEN_EXIT;
  }
  case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD: {
    /* The same for IRET with RFLAGS.NT = 1 (source 1): a return to the
     * task the back link names (insn_iret_task_switch). */
    uint16_t tss;
    if (!insn_iret_task_switch(in, &tss)) return NOT_TAKEN;
    vmx_task_switch_exit(tss, VMX_TS_IRET, in->zi.length, e);
    return TAKEN_EXIT;
  }
  case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR: case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR: {
    /* #UD in real-address and virtual-8086 mode comes before the exit
     * ("Relative Priority of Faults and VM Exits"). */
    uint64_t rflags = w->live ? uc_bridge_rflags(m->bridge) : m->cpu.rflags;
    if (!(m->cpu.cr0 & CR0_PE) || (rflags & RFLAGS_VM)) return NOT_TAKEN;
    desc_table(in, &kind, e);
    break;
  }
  default:
    if (!desc_table(in, &kind, e)) return NOT_TAKEN;
    break;
  }
  unsigned reason;
  if (vmx_insn_ud_in_guest(v, kind)) return TAKEN_UD;
  if (vmx_fault_precedes_exit(kind, in->mode.cpl, m->cpu.cr4)) return NOT_TAKEN;
  if (!vmx_insn_exits(v, kind, &reason)) return NOT_TAKEN;
  e->reason = reason;
  return TAKEN_EXIT;
}

/* True for an exit and also when the VMX controls make the instruction
 * raise #UD: exit_for_insn, the run-loop point for an instruction taken
 * from the machine, raises it there. */
bool vmx_ext_insn_exits(struct machine *m, struct insn *in)
{
  if (!vmx_in_guest(m)) return false;
  struct view w = { m, true };
  struct vmx_exit_info e;
  if (decide(&w, in, &e) != NOT_TAKEN) return true;
  /* A PAUSE that does not exit is the previous PAUSE for PAUSE-loop
   * exiting — the one state this hook changes, since it is the PAUSE
   * executing (the machine runs it as a NOP next). */
  if (in->zi.mnemonic == ZYDIS_MNEMONIC_PAUSE)
    vmx_pause_loop_exits(&vmx_ext_of(m)->cpu.current, &vmx_ext_of(m)->cpu.ple, in->mode.cpl, m->insns);
  return false;
}

bool vmx_ext_io_exits(struct machine *m, uint16_t port, unsigned size, bool is_in)
{
  (void)is_in;
  if (!vmx_in_guest(m)) return false;
  struct vmx_mem_ops mem = vmx_ext_mem(m);
  return vmx_io_exits(&vmx_ext_of(m)->cpu.current, &mem, port, size);
}

/* "Exit Qualification for I/O Instructions". */
static bool io_exit_info(struct machine *m, struct insn *in, struct vmx_exit_info *e)
{
  unsigned size;
  bool in_dir, string = true;
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_INSB: size = 1; in_dir = true; break;
  case ZYDIS_MNEMONIC_INSW: size = 2; in_dir = true; break;
  case ZYDIS_MNEMONIC_INSD: size = 4; in_dir = true; break;
  case ZYDIS_MNEMONIC_OUTSB: size = 1; in_dir = false; break;
  case ZYDIS_MNEMONIC_OUTSW: size = 2; in_dir = false; break;
  case ZYDIS_MNEMONIC_OUTSD: size = 4; in_dir = false; break;
  case ZYDIS_MNEMONIC_IN: in_dir = true; string = false; size = 0; break;
  case ZYDIS_MNEMONIC_OUT: in_dir = false; string = false; size = 0; break;
  default: return false;
  }
  bool imm = false;
  uint16_t port = (uint16_t)m->cpu.gpr[GPR_RDX];
  if (!string) {
    const ZydisDecodedOperand *acc = &in->op[in_dir ? 0 : 1], *p = &in->op[in_dir ? 1 : 0];
    size = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, acc->reg.value) / 8;
    if (p->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      imm = true;
      port = (uint16_t)p->imm.value.u;
    }
  }
  bool rep = (in->zi.attributes & ZYDIS_ATTRIB_HAS_REP) != 0;
  *e = (struct vmx_exit_info){ .reason = VMX_EXIT_IO_INSTRUCTION, .insn_len = in->zi.length,
                               .qualification = vmx_io_qualification(size, in_dir, string, rep, imm, port) };
  if (!string) return true;
  /* "Guest-linear address": for INS/OUTS, the linear address of the
   * memory operand (ES:rDI, or seg:rSI with OUTS's segment override);
   * "VM-Exit Instruction-Information Field as Used for INS and OUTS"
   * (IA32_VMX_BASIC bit 54): address size 9:7, segment 17:15. From the
   * model's registers: the exit is taken in the instruction's code hook,
   * which Unicorn calls before each iteration, so rSI/rDI/rCX are still
   * those of the iteration that exits (the svm_strio image checks the
   * same path on SVM). */
  unsigned seg = SEG_ES;
  for (unsigned i = 0; i < in->zi.operand_count; i++)
    if (in->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY) seg = ZydisRegisterGetId(in->op[i].mem.segment);
  uint64_t mask = in->zi.address_width == 64 ? ~0ull : in->zi.address_width == 32 ? 0xFFFFFFFFull : 0xFFFFull;
  uint64_t base = cpu_in_64bit_mode(&m->cpu) && seg < SEG_FS ? 0 : m->cpu.seg[seg].base;
  e->guest_linear = base + (m->cpu.gpr[in_dir ? GPR_RDI : GPR_RSI] & mask);
  e->linear_valid = true;
  unsigned asz = in->zi.address_width == 16 ? 0 : in->zi.address_width == 32 ? 1 : 2;
  e->insn_info = (asz << 7) | (seg << 15);
  return true;
}

void vmx_ext_exit_for_insn(struct machine *m, struct insn *in)
{
  struct vmx_exit_info e;
  struct view w = { m, false };
  if (!vmx_in_guest(m)) {
    machine_stop(m, STOP_INTERNAL, 125, "VM exit announced at 0x%llx outside VMX non-root operation",
                 (unsigned long long)in->rip);
    return;
  }
  if (io_exit_info(m, in, &e)) {
    vmx_ext_exit(m, &e);
    return;
  }
  switch (decide(&w, in, &e)) {
  case TAKEN_EXIT: vmx_ext_exit(m, &e); return;
  /* The #UD may itself exit through the exception bitmap. */
  case TAKEN_UD: vmx_ext_raise(m, VEC_UD, false, 0); return;
  case NOT_TAKEN: break;
  }
  machine_stop(m, STOP_INTERNAL, 125, "VM exit announced for %s at 0x%llx, which does not exit",
               ZydisMnemonicGetString(in->zi.mnemonic), (unsigned long long)in->rip);
}

/* "Exceptions" (chapter "VMX Non-Root Operation") and "Information for VM
 * Exits Due to Vectored Events": an exception whose exception-bitmap bit
 * says so exits instead of being delivered; INT3 and INTO are software
 * exceptions (type 6, with their instruction length, the saved RIP at the
 * instruction), INT1 a privileged software exception (type 5, the same
 * way), INT n is a software interrupt and never consults the
 * bitmap. A #PF's qualification is the faulting linear address (CR2 is
 * not written). */
/* The interruption type of an event the machine delivers: INT3/INTO are
 * software exceptions, INT1 a privileged software exception, INT n
 * software interrupts; the event VM entry
 * injected keeps the type it was injected with (external interrupt,
 * privileged software exception, ...). The machine's events carry no
 * type, so the injected one is recognised by vector and software-ness; an
 * interrupt acknowledged from the PIC is an external interrupt (type 0)
 * whatever its vector. */
static unsigned event_type(struct machine *m, const struct vmx_ext *x, const struct pending_event *ev)
{
  bool injected_software = x->injected_type == INTR_TYPE_SW_INTR || x->injected_type == INTR_TYPE_PRIV_SW_EXCEPTION ||
                           x->injected_type == INTR_TYPE_SW_EXCEPTION;
  if (x->injecting && ev->vector == x->injected_vector && ev->software == injected_software) return x->injected_type;
  /* The machine delivers an NMI as an external event (sim/irq.c). */
  if (ev->external) return ev->vector == VEC_NMI && irq_nmi_delivering(m) ? INTR_TYPE_NMI : INTR_TYPE_EXT_INTR;
  if (ev->software && ev->privileged) return INTR_TYPE_PRIV_SW_EXCEPTION;   /* INT1 */
  if (ev->software)
    return ev->insn_len == 1 && (ev->vector == VEC_BP || ev->vector == VEC_OF) ? INTR_TYPE_SW_EXCEPTION
                                                                                : INTR_TYPE_SW_INTR;
  return ev->vector == VEC_NMI ? INTR_TYPE_NMI : INTR_TYPE_HW_EXCEPTION;
}

/* An exit while the machine was delivering m->delivering records it. */
static void record_delivery(struct machine *m, struct vmx_exit_info *e)
{
  const struct pending_event *d = m->delivering;
  if (!d) return;
  bool pe = (m->cpu.cr0 & CR0_PE) != 0;
  vmx_record_delivery(e, d->vector, event_type(m, vmx_ext_of(m), d), d->has_error && pe, d->error, d->insn_len);
}

static bool step_progressed(struct machine *m);

/* A debug exception Unicorn raised after a guest instruction (a single
 * step: QEMU sets DR6 then raises #DB), as opposed to the machine's own
 * (ICEBP, the pending debug exceptions of a VM entry) and nested faults.
 * Unicorn 2.1 raises no data-breakpoint #DB here: the machine's MOV to DR7
 * goes through uc_reg_write, which arms none of QEMU's watchpoints, and
 * even a watchpoint armed by a native MOV to DR7 never fires (measured,
 * docs/vmx.md); the rules below still take B3-B0 of data and I/O
 * breakpoints as trap conditions, for any source that sets them. */
static bool unicorn_debug_trap(const struct vmx_ext *x, const struct machine *m, const struct pending_event *ev)
{
  return ev->vector == VEC_DB && !ev->software && !ev->external && !m->delivering && !x->injecting && !x->entry_dbg;
}

/* "Monitor Trap Flag": "MTF VM exits take priority over debug-trap
 * exceptions". After a stepped instruction that raised a debug trap — a
 * single step (BS) or a data or I/O breakpoint (B3-B0 of breakpoints DR7
 * makes trap-like; `conditions` holds no others) — the MTF exit comes
 * instead of the #DB; the trap stays pending in the
 * pending-debug-exceptions field ("Saving Non-Register State": BS, B3-B0,
 * bit 12 for an enabled data or I/O breakpoint) and DR6 is left as it was
 * (nothing was delivered). */
static bool mtf_before_debug_trap(struct machine *m, uint64_t conditions, uint64_t held)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->mtf || !x->step_armed || !conditions || !step_progressed(m)) return false;
  m->cpu.dr[6] = x->dr6_before;
  struct vmx_exit_info e;
  vmx_mtf_exit(&e);
  /* `held`: what a VM entry held for blocking by MOV SS, still pending. */
  e.pending_dbg = vmx_pending_dbg_of_trap(conditions, m->cpu.dr[7]) | held;
  vmx_ext_exit(m, &e);
  return true;
}

/* "Task Switches" (chapter "VMX Non-Root Operation"): an event delivered
 * through a task gate in the IDT is a task switch, exit 9 with source 3
 * and the gate's TSS selector, after the checks that fault first (the
 * gate's and the new TSS's: exception_task_gate; a failing one is left to
 * the delivery, which raises its fault). The exit happens while the event
 * is delivered: the IDT-vectoring information is that event ("Information
 * for VM Exits During Event Delivery"), with its instruction length for a
 * software interrupt or exception, and the guest RIP is the instruction
 * that raised it. */
static bool task_gate_exits(struct machine *m, struct vmx_ext *x, const struct pending_event *ev)
{
  uint16_t tss;
  if (!exception_task_gate(m, ev, &tss)) return false;
  struct vmx_exit_info e;
  vmx_task_switch_exit(tss, VMX_TS_IDT_GATE, 0, &e);
  bool pe = (m->cpu.cr0 & CR0_PE) != 0;
  vmx_record_delivery(&e, ev->vector, event_type(m, x, ev), ev->has_error && pe, ev->error, ev->insn_len);
  trace_event(&m->trace, m->insns, "task-switch", "vector=%u tss=0x%x intercepted", ev->vector, (unsigned)tss);
  if (ev->software) m->cpu.rip -= ev->insn_len;
  vmx_ext_exit(m, &e);
  return true;
}

bool vmx_ext_event_exits(struct machine *m, const struct pending_event *ev)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root) return false;
  /* An external interrupt or NMI is asked only when it goes through a
   * task gate (sim/exceptions.c). The injected event itself never
   * consults the exception bitmap (faults raised while delivering it do,
   * "Event Injection"), but its delivery may still be a task switch. */
  if (ev->external || (x->injecting && !m->delivering)) return task_gate_exits(m, x, ev);
  unsigned type = event_type(m, x, ev);
  /* INT n is not an exception: only its task gate can make it exit. */
  if (type == INTR_TYPE_SW_INTR) return task_gate_exits(m, x, ev);
  bool sw_exception = type == INTR_TYPE_SW_EXCEPTION, priv = type == INTR_TYPE_PRIV_SW_EXCEPTION;
  bool unicorn_trap = unicorn_debug_trap(x, m, ev);
  uint64_t conditions = 0;
  uint64_t held = 0;
  /* A breakpoint #DB the machine raised (sim/debug_bp.h) knows its
   * conditions: an instruction breakpoint's or general detect's fault
   * (B3-B0, BD), or a data or I/O breakpoint's trap, with BS when the
   * same instruction was single-stepped. */
  uint64_t bp_conditions = 0;
  bool bp_fault = false, bp = unicorn_trap && debug_bp_delivering(m, &bp_conditions, &bp_fault);
  if (unicorn_trap) {
    conditions = bp ? bp_conditions
                    : vmx_debug_trap_conditions(x->dr6_before, m->cpu.dr[6], (m->cpu.rflags & RFLAGS_TF) != 0,
                                                m->cpu.dr[7]);
    /* The first instruction after a VM entry that held pending debug
     * exceptions for blocking by MOV SS raised its own trap: one #DB
     * reports both (as a single step after a MOV SS that hit a data
     * breakpoint does); DR6 gets the held conditions too. */
    held = x->held_dbg;
    x->held_dbg = 0;
    conditions |= held & (VMX_DBG_B3_B0 | VMX_DBG_BS);
    m->cpu.dr[6] = vmx_dr6_after_delivery(m->cpu.dr[6], held);
  }
  else if (x->entry_dbg && ev->vector == VEC_DB && !m->delivering)
    conditions = x->entry_dbg_conditions;
  /* A fault comes before the instruction: no MTF exit takes priority. */
  if (unicorn_trap && !bp_fault && mtf_before_debug_trap(m, conditions, held)) return true;
  struct vmx_event e_in = { .vector = ev->vector, .has_error = ev->has_error, .error = ev->error,
                            .sw_exception = sw_exception, .priv_sw_exception = priv, .insn_len = ev->insn_len,
                            .protected_mode = (m->cpu.cr0 & CR0_PE) != 0, .fault_address = m->fault.cr2,
                            .debug_conditions = conditions };
  struct vmx_exit_info e;
  if (!vmx_exception_exit(&x->cpu.current, &e_in, &e)) return task_gate_exits(m, x, ev);
  /* "Exit Qualification for Debug Exceptions": a #DB that exits reports
   * its conditions in the qualification and does not update DR6. */
  if (unicorn_trap) m->cpu.dr[6] = x->dr6_before;
  /* "Architectural State Before a VM Exit": a debug exception that exits
   * "does not update DR6, DR7.GD": general detect leaves GD set. */
  if (bp && (bp_conditions & VMX_DBG_BD)) m->cpu.dr[7] |= DR7_GD;
  if ((sw_exception || priv) && !m->delivering) m->cpu.rip -= ev->insn_len;
  record_delivery(m, &e);
  if (!m->delivering) vmx_ext_note_iret(m, &e);
  vmx_ext_exit(m, &e);
  return true;
}

/* "Triple Fault": a VM exit in non-root operation. */
bool vmx_ext_shutdown(struct machine *m)
{
  struct vmx_exit_info e;
  if (!vmx_triple_fault_exit(&vmx_ext_of(m)->cpu, &e)) return false;
  vmx_ext_exit(m, &e);
  return true;
}

/* "EPT Violations" / "EPT Misconfigurations" (chapter "VMX Support for
 * Address Translation"): the MMU's fault becomes exit 48 with its
 * qualification, the guest-physical address and (qualification bit 7) the
 * guest-linear address, or exit 49 with the guest-physical address. */
void vmx_ext_slat_fault(struct machine *m, const struct mmu_fault *f, uint64_t la)
{
  if (!vmx_in_guest(m) || (f->kind != MMU_FAULT_EPT_VIOLATION && f->kind != MMU_FAULT_EPT_MISCONFIG)) {
    machine_stop(m, STOP_INTERNAL, 125, "second-level fault at linear 0x%llx outside VMX non-root operation",
                 (unsigned long long)la);
    return;
  }
  struct vmx_exit_info e;
  if (f->kind == MMU_FAULT_EPT_VIOLATION) vmx_ept_violation_exit(f->exit_qualification, f->guest_physical, f->guest_linear, &e);
  else vmx_ept_misconfig_exit(f->guest_physical, &e);
  record_delivery(m, &e);
  if (!m->delivering) vmx_ext_note_iret(m, &e);
  vmx_ext_exit(m, &e);
}

/* ---- external interrupts and the interrupt window -------------------------- */

/* "External Interrupts" (chapter "VMX Non-Root Operation"): under
 * "external-interrupt exiting" the interrupt the PIC asserts is a VM exit
 * whatever the guest's RFLAGS.IF; "acknowledge interrupt on exit" makes
 * the exit acknowledge the PIC and record the vector ("Information for VM
 * Exits Due to Vectored Events"), otherwise the request stays pending in
 * the PIC for the host. */
bool vmx_ext_interrupt_exits(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root || !vmx_external_interrupt_exits(&x->cpu.current)) return false;
  bool ack = vmx_exit_acknowledges_interrupt(&x->cpu.current);
  unsigned vector = ack ? pic_ack(&m->pic) : 0;
  struct vmx_exit_info e;
  vmx_external_interrupt_exit(ack, vector, &e);
  vmx_ext_exit(m, &e);
  return true;
}

bool vmx_ext_interrupt_would_exit(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  return x->cpu.non_root && vmx_external_interrupt_exits(&x->cpu.current);
}

/* "Interrupt-Window Exiting and Virtual-Interrupt Delivery". */
bool vmx_ext_window_wanted(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  return x->cpu.non_root && vmx_interrupt_window_open(&x->cpu.current, RFLAGS_IF, false);
}

bool vmx_ext_window_open(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root) return false;
  if (!vmx_interrupt_window_open(&x->cpu.current, m->cpu.rflags, m->cpu.sti_blocking || m->cpu.movss_blocking))
    return false;
  struct vmx_exit_info e;
  vmx_interrupt_window_exit(&e);
  vmx_ext_exit(m, &e);
  return true;
}

/* ---- the monitor trap flag and the VMX-preemption timer ---------------------- */

static void complete_rep_iterations(struct machine *m);

/* The MTF exit at the end of a step (vmx_ext_step, or its deadline from
 * the HLT state): a REP string instruction whose last iteration ran is
 * complete first. */
static void mtf_exit(struct machine *m)
{
  if (vmx_ext_of(m)->step_armed) complete_rep_iterations(m);
  struct vmx_exit_info e;
  vmx_mtf_exit(&e);
  vmx_ext_exit(m, &e);
}

/* The guest's instruction boundary moved since the step was armed: an
 * instruction retired (its block was counted), or an event was delivered
 * before any instruction (the delivery changed RIP and RSP). A run that
 * ended before anything happened (an interrupt held pending) does not
 * count. */
static bool step_progressed(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  return m->insns != x->step_insns || m->cpu.rip != x->step_rip || m->cpu.gpr[GPR_RSP] != x->step_rsp;
}

/* Debug exceptions a VM entry held for blocking by MOV SS ("Delivery of
 * Pending Debug Exceptions after VM Entry"): once the guest's first
 * instruction has run (or an event was delivered before it, which also
 * ends the blocking: "after the guest executes one instruction or incurs
 * an exception"), they are delivered as a #DB with the priority of a trap
 * on that instruction — after an MTF exit, which saves them pending
 * instead (vmx_ext_exit). */
bool vmx_ext_deliver_held_dbg(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  /* Progress is a new RIP or RSP: Unicorn counts a block as it starts,
   * also one whose first instruction (a VMX instruction) raises #UD. */
  if (!x->cpu.non_root || !x->held_dbg || (m->cpu.rip == x->held_rip && m->cpu.gpr[GPR_RSP] == x->held_rsp))
    return false;
  uint64_t conditions = x->held_dbg & (VMX_DBG_B3_B0 | VMX_DBG_BS);
  x->held_dbg = 0;
  trace_event(&m->trace, m->insns, "pending-dbg", "conditions=0x%llx", (unsigned long long)conditions);
  vmx_ext_deliver_pending_dbg(m, conditions);
  return true;
}

/* "Monitor Trap Flag": the MTF exit after an iteration of a REP-prefixed
 * string instruction is on the boundary after that iteration. Unicorn
 * run with an instruction count of 1 carries out one iteration per run
 * and leaves RIP at the instruction even after the last one (its loop
 * checks the count register before the next iteration; measured: REP
 * STOSB with RCX = 3 takes four runs, the fourth moving RIP on without
 * storing). A REP string instruction whose count is exhausted is
 * complete, so RIP moves past it here before the exit, as the processor's
 * does after the last iteration. (A REPE/REPNE that ends on ZF already
 * leaves RIP after it.) */
static void complete_rep_iterations(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (m->cpu.rip != x->step_rip) return;
  struct insn in;
  if (!insn_decode(m, m->cpu.rip, &in)) return;
  if (!(in.zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE))) return;
  if (!vmx_mtf_rep_complete(in.zi.address_width, m->cpu.gpr[GPR_RCX])) return;
  trace_event(&m->trace, m->insns, "mtf-rep-complete", "rip=0x%llx", (unsigned long long)m->cpu.rip);
  m->cpu.rip = in.next_rip;
  m->state_dirty = true;
}

/* "Monitor Trap Flag": with the control set the guest runs one
 * instruction per start of Unicorn; at the next boundary (after the
 * instruction, after the delivery of the fault or software event it
 * raised, or after an event delivered before any instruction) the MTF
 * exit is taken here, unless another VM exit came first (every exit ends
 * stepping). */
bool vmx_ext_step(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root) return false;
  x->dr6_before = m->cpu.dr[6];
  if (x->mtf && x->step_armed && step_progressed(m)) {
    mtf_exit(m);
    return false;
  }
  if (vmx_ext_deliver_held_dbg(m)) return false;
  if (!x->mtf) return x->held_dbg != 0;
  if (!x->step_armed) {
    x->step_armed = true;
    x->step_insns = m->insns;
    x->step_rip = m->cpu.rip;
    x->step_rsp = m->cpu.gpr[GPR_RSP];
    /* A halted guest retires nothing: only an event ends its step. */
    x->step_deadline = m->halted ? UINT64_MAX : m->insns + 1;
    irq_rearm(m);
  }
  return true;
}

bool vmx_ext_stepping(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  return x->cpu.non_root && (x->mtf || x->held_dbg);
}

/* "VMX-Preemption Timer" (chapter "VMX Non-Root Operation"): the virtual
 * time at which the running guest's timer reaches 0; while a step runs,
 * the time its instruction has retired by, so that a HLT it executes
 * stops for the MTF exit "from the HLT activity state". */
uint64_t vmx_ext_deadline(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  /* A pending NMI that is not held (sim/irq.h): irq_take takes it. */
  uint64_t nmi = irq_nmi_deadline(m);
  if (!x->cpu.non_root) return nmi;
  uint64_t t = x->timer_running ? x->timer_deadline : UINT64_MAX;
  if (nmi < t) t = nmi;
  if (x->step_armed && x->step_deadline < t) t = x->step_deadline;
  if (x->nmi_window_at < t) t = x->nmi_window_at;
  return t;
}

/* The MTF exit of a step that ended halted comes first ("MTF VM exits take
 * priority over ... VMX-preemption timer"). "When the timer counts down to
 * zero, it stops counting down and a VM exit occurs" (reason 52,
 * qualification 0); it also wakes a halted guest, whose exit saves the HLT
 * activity state ("These VM exits wake a logical processor from the same
 * inactive states as would a non-maskable interrupt"). */
bool vmx_ext_deadline_reached(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root) return false;
  if (x->step_armed && m->insns >= x->step_deadline) {
    mtf_exit(m);
    return true;
  }
  if (x->timer_running && m->insns >= x->timer_deadline) {
    vmx_ext_exit(m, &(struct vmx_exit_info){ .reason = VMX_EXIT_PREEMPTION_TIMER });
    return true;
  }
  /* "NMI-Window Exiting": below the timer, above NMIs and interrupts. */
  if (m->insns >= x->nmi_window_at && vmx_nmi_window_open(&x->cpu.current, m->cpu.nmi_blocking, false)) {
    struct vmx_exit_info e;
    vmx_nmi_window_exit(&e);
    vmx_ext_exit(m, &e);
    return true;
  }
  return false;
}

/* ---- NMIs ------------------------------------------------------------------- */

/* "NMI-Window Exiting": the window opens where there is no virtual-NMI
 * blocking (at VM entry, or once the guest's IRET removed it) and no
 * blocking by STI or MOV SS: the blocking a VM entry loads lasts one
 * instruction, so the exit then waits for the first one. */
void vmx_ext_nmi_window_rearm(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  x->nmi_window_at = UINT64_MAX;
  if (!x->cpu.non_root || !vmx_nmi_window_open(&x->cpu.current, m->cpu.nmi_blocking, false)) return;
  x->nmi_window_at = m->cpu.sti_blocking || m->cpu.movss_blocking ? m->insns + 1 : m->insns;
}

/* IRET has to be seen while it can end blocking by NMI: outside non-root
 * operation always ("NMI Handling", SDM Vol. 3A), in it as the NMI
 * controls say. Far JMP, CALL and IRET too while a guest is in protected
 * mode outside IA-32e mode, where they can start a task switch (an exit). */
unsigned vmx_ext_hook_classes(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  unsigned k = 0;
  if (m->cpu.nmi_blocking && (!x->cpu.non_root || vmx_iret_unblocks_nmis(&x->cpu.current))) k |= HOOK_CLASS_IRET;
  if (x->cpu.non_root && (m->cpu.cr0 & CR0_PE) && !(m->cpu.efer & EFER_LMA)) k |= HOOK_CLASS_FAR_BRANCH | HOOK_CLASS_IRET;
  return k;
}

/* "Changes to Instruction Behavior in VMX Non-Root Operation", IRET: it
 * removes blocking by NMI (virtual-NMI blocking with "virtual NMIs"),
 * even when it then faults; the NMI window may open behind it. */
void vmx_ext_iret(struct machine *m, struct insn *in)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!m->cpu.nmi_blocking) return;
  if (!x->cpu.non_root) {
    /* "NMI Handling": IRET ends blocking by NMI, even when it faults; a
     * pending NMI may be due right after it. */
    m->cpu.nmi_blocking = false;
    trace_event(&m->trace, m->insns, "iret", "nmi-unblocked rip=0x%llx", (unsigned long long)in->rip);
    irq_rearm(m);
    return;
  }
  if (!vmx_iret_unblocks_nmis(&x->cpu.current)) return;
  m->cpu.nmi_blocking = false;
  x->iret_unblocked = true;
  x->iret_rip = in->rip;
  x->iret_insns = m->insns;
  trace_event(&m->trace, m->insns, "vmx-iret", "nmi-unblocked rip=0x%llx", (unsigned long long)in->rip);
  vmx_ext_nmi_window_rearm(m);
  irq_rearm(m);
}

/* IRET ends its translation block: a fault at its RIP within the block it
 * began is a fault on that IRET. */
void vmx_ext_note_iret(struct machine *m, struct vmx_exit_info *e)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->iret_unblocked || m->cpu.rip != x->iret_rip || m->insns != x->iret_insns) return;
  vmx_note_nmi_unblocking_by_iret(&x->cpu.current, e);
}

/* ---- physical NMIs (sim/irq.h) ------------------------------------------------ */

/* Blocking by NMI holds a pending NMI, except in non-root operation with
 * "virtual NMIs", where the bit is virtual-NMI blocking. */
bool vmx_ext_nmi_held(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root) return m->cpu.nmi_blocking;
  return vmx_nmi_held(&x->cpu.current, m->cpu.nmi_blocking);
}

/* "NMI exiting": the NMI is consumed by the exit (reason 0, vector 2,
 * type 2), which leaves blocking by NMI (vmx_ext_exit); without the
 * control it goes through the guest IDT (sim/irq.c). */
bool vmx_ext_nmi_exits(struct machine *m)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.non_root || !vmx_nmi_exits(&x->cpu.current)) return false;
  irq_nmi_consume(m);
  struct vmx_exit_info e;
  vmx_nmi_exit(&e);
  vmx_ext_exit(m, &e);
  return true;
}

/* ---- INIT and SMI (sim/irq.h) ------------------------------------------------ */

/* SDM Vol. 3C, "VMX Non-Root Operation" ("INIT Signals": "INIT signals
 * cause VM exits") and "Entering and Exiting VMX Operation" / "VMX Root
 * Operation" ("INIT signals are blocked whenever a logical processor is in
 * VMX root operation. They are not blocked in VMX non-root operation"):
 * in root operation a pending INIT stays pending, and the first VM entry
 * that follows exits with it before the guest's first instruction (an
 * event the entry injects is delivered first). SMIs are never blocked by
 * VMX operation. */
bool vmx_ext_signal_held(struct machine *m, enum irq_signal s)
{
  struct vmx_ext *x = vmx_ext_of(m);
  return s == IRQ_SIGNAL_INIT && x->cpu.vmx_operation && !x->cpu.non_root;
}

/* The INIT exit: reason 3, qualification 0; the exit "does not modify
 * register state or clear pending events as [INIT] would outside of VMX
 * operation", and the INIT is consumed by it. An SMI takes the default
 * treatment ("Default Treatment of SMI Delivery": the processor enters
 * SMM; the dual-monitor treatment is not offered): not modelled, and
 * neither is the INIT reset outside VMX operation. */
bool vmx_ext_signal_exits(struct machine *m, enum irq_signal s, char *why, size_t n)
{
  struct vmx_ext *x = vmx_ext_of(m);
  if (s == IRQ_SIGNAL_INIT && x->cpu.non_root) {
    irq_signal_consume(m, s);
    vmx_ext_exit(m, &(struct vmx_exit_info){.reason = VMX_EXIT_INIT_SIGNAL});
    return true;
  }
  if (s == IRQ_SIGNAL_SMI && x->cpu.non_root)
    snprintf(why, n, "in VMX non-root operation, default treatment of SMIs");
  else if (s == IRQ_SIGNAL_SMI && x->cpu.vmx_operation)
    snprintf(why, n, "in VMX root operation, default treatment of SMIs");
  else
    snprintf(why, n, "outside VMX operation");
  return false;
}
