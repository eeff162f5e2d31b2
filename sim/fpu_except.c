/* Floating-point errors Unicorn does not report: see fpu_except.h. */
#include "sim/fpu_except.h"

#include <string.h>
#include <unicorn/unicorn.h>

#include "sim/exceptions.h"
#include "sim/irq.h"
#include "sim/sysinsn.h"
#include "sim/trace.h"

#define PC_FERR_IRQ 13   /* FERR# on a PC: IRQ13 of the slave PIC */

/* MXCSR's flag bits (SDM Vol. 1, "MXCSR Control and Status Register"). */
enum { MXCSR_IE = 1u << 0, MXCSR_ZE = 1u << 2, MXCSR_OE = 1u << 3, MXCSR_UE = 1u << 4, MXCSR_PE = 1u << 5 };
#define MXCSR_MASK_SHIFT 7

/* Does the instruction report a pending x87 error ("Waiting vs.
 * Non-waiting Instructions")? An instruction that faults first with #NM
 * or #UD for CR0.EM / CR0.TS does not get that far: Unicorn raises those
 * (SDM Vol. 3A, "Priority Among Concurrent Exceptions and Interrupts"). */
static bool reports_x87_error(const struct insn *in, uint64_t cr0)
{
  const ZydisDecodedInstruction *zi = &in->zi;
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_FNINIT: case ZYDIS_MNEMONIC_FNCLEX: case ZYDIS_MNEMONIC_FNSTSW:
  case ZYDIS_MNEMONIC_FNSTCW: case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FNSAVE:
  case ZYDIS_MNEMONIC_FENI8087_NOP: case ZYDIS_MNEMONIC_FDISI8087_NOP: case ZYDIS_MNEMONIC_FSETPM287_NOP:
    return false;
  case ZYDIS_MNEMONIC_FWAIT:
    return (cr0 & (CR0_MP | CR0_TS)) != (CR0_MP | CR0_TS);
  default:
    break;
  }
  /* The x87 instructions are the escape opcodes D8-DF. */
  if (zi->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && zi->opcode >= 0xd8 && zi->opcode <= 0xdf)
    return !(cr0 & (CR0_EM | CR0_TS));
  bool mmx = zi->mnemonic == ZYDIS_MNEMONIC_EMMS;
  for (unsigned i = 0; i < zi->operand_count && !mmx; i++)
    mmx = in->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(in->op[i].reg.value) == ZYDIS_REGCLASS_MMX;
  return mmx && !(cr0 & (CR0_EM | CR0_TS));
}

/* SSE floating-point arithmetic has an XMM register among its operands
 * (a destination, or the source of CVTSS2SI / COMISS). */
static bool on_xmm_registers(const struct insn *in)
{
  for (unsigned i = 0; i < in->zi.operand_count; i++)
    if (in->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(in->op[i].reg.value) == ZYDIS_REGCLASS_XMM)
      return true;
  return false;
}

/* A pending x87 error met a waiting instruction. True when the instruction
 * does not run now. */
static bool x87_error(struct machine *m)
{
  struct fpu_errors *f = &m->fpu;
  if (m->cpu.cr0 & CR0_NE) {
    deliver_event(m, &(struct pending_event){.valid = true, .vector = VEC_MF});
    return true;
  }
  if (!f->ferr) {
    f->ferr = true;
    trace_event(&m->trace, m->insns, "ferr", "rip=0x%llx", (unsigned long long)m->cpu.rip);
    pic_raise(&m->pic, PC_FERR_IRQ);
  }
  if (f->ignne) return false;   /* the error is ignored: the instruction runs */
  if (m->virt && m->virt->ferr_freeze && m->virt->ferr_freeze(m)) return true;
  /* Frozen until an interrupt (IRQ13 from FERR#, if the PIC passes it): the
   * interrupt's saved RIP is the instruction, which then checks again. */
  if (!irq_halt_can_end(m, m->cpu.rflags)) {
    machine_stop(m, STOP_HALTED, 0, "guest frozen by FERR# before the x87 instruction at rip 0x%llx (CR0.NE = 0, "
                 "IGNNE# deasserted) with interrupts disabled (IF = 0): nothing can wake it",
                 (unsigned long long)m->cpu.rip);
    return true;
  }
  m->halted = f->frozen = true;
  return true;
}

bool fpu_except_before(struct machine *m)
{
  struct fpu_errors *f = &m->fpu;
  f->simd_check = f->frozen = false;
  uint16_t fsw = uc_bridge_fsw(m->bridge);
  /* FERR# follows FSW.ES, and IGNNE# goes with FERR#. */
  if (!(fsw & UC_BRIDGE_FSW_ES)) f->ferr = f->ignne = false;
  struct insn in;
  if (!insn_decode(m, m->cpu.rip, &in)) return false;   /* Unicorn raises the fetch's fault */
  if ((fsw & UC_BRIDGE_FSW_ES) && reports_x87_error(&in, m->cpu.cr0) && x87_error(m)) return true;
  if ((~uc_bridge_mxcsr(m->bridge) & UC_BRIDGE_MXCSR_DETECTED_MASKS) && on_xmm_registers(&in)) {
    if (!f->before && uc_context_alloc(m->uc, &f->before) != UC_ERR_OK) {
      f->before = NULL;
      return false;
    }
    uc_context_save(m->uc, f->before);
    m->bridge->env[m->bridge->sse_flags] = 0;
    f->simd_check = true;
  }
  return false;
}

static uint32_t mxcsr_flags(uint8_t raised)
{
  uint32_t mx = 0;
  if (raised & UC_BRIDGE_SSE_INVALID) mx |= MXCSR_IE;
  if (raised & UC_BRIDGE_SSE_ZERO_DIVIDE) mx |= MXCSR_ZE;
  if (raised & UC_BRIDGE_SSE_OVERFLOW) mx |= MXCSR_OE;
  if (raised & UC_BRIDGE_SSE_UNDERFLOW) mx |= MXCSR_UE;
  if (raised & UC_BRIDGE_SSE_INEXACT) mx |= MXCSR_PE;
  /* Flush-to-zero of a tiny result: "sets the precision and underflow
   * exception flags" (SDM Vol. 1, "Flush-To-Zero"). */
  if (raised & UC_BRIDGE_SSE_OUTPUT_DENORMAL) mx |= MXCSR_UE | MXCSR_PE;
  return mx;
}

bool fpu_except_after(struct machine *m)
{
  struct fpu_errors *f = &m->fpu;
  if (!f->simd_check) return false;
  f->simd_check = false;
  struct uc_bridge *b = m->bridge;
  uint8_t raised = b->env[b->sse_flags];
  b->env[b->sse_flags] = 0;
  /* Nothing raised, or the instruction faulted before computing. */
  if (!raised || m->event.valid || m->fault_pending || m->stop != STOP_NONE) return false;
  uint32_t mxcsr = uc_bridge_mxcsr(b);
  uint32_t flags = mxcsr_flags(raised);
  uint32_t unmasked = flags & ~(mxcsr >> MXCSR_MASK_SHIFT);
  if (unmasked & (MXCSR_IE | MXCSR_ZE)) {
    /* Pre-computation exceptions: no result, so no post-computation ones. */
    flags &= MXCSR_IE | MXCSR_ZE;
    unmasked &= MXCSR_IE | MXCSR_ZE;
  }
  if (unmasked) {
    /* A fault: the instruction's results undone, RIP at it. */
    uc_context_restore(m->uc, f->before);
    uc_bridge_fetch(b, &m->cpu);
    m->event = (struct pending_event){.valid = true, .vector = (m->cpu.cr4 & CR4_OSXMMEXCPT) ? VEC_XM : VEC_UD};
    trace_event(&m->trace, m->insns, "simd-exception", "rip=0x%llx flags=0x%x", (unsigned long long)m->cpu.rip, flags);
  }
  mxcsr |= flags;
  memcpy(b->env + b->mxcsr, &mxcsr, 4);
  return unmasked != 0;
}

/* Would these control and status values start what the run loop checks? */
static bool starts_checks(uint16_t fcw, uint16_t fsw, uint32_t mxcsr)
{
  return !(fcw & UC_BRIDGE_FCW_ZM) || (fsw & UC_BRIDGE_FSW_ES) || (~mxcsr & UC_BRIDGE_MXCSR_DETECTED_MASKS);
}

/* The loads Unicorn carries out; one that may start what the run loop
 * checks (an unmasked exception, FSW.ES) runs alone, so that the checks
 * apply from the next instruction on. The values are peeked first, so
 * that the common loads that keep every exception the checks see masked
 * run on: FLDCW, LDMXCSR, and FXRSTOR / XRSTOR (a context switch), whose
 * legacy area has FCW at 0, FSW at 2 and MXCSR at 24 ("FXSAVE"; XRSTOR
 * may take the x87 or SSE state from its initial configuration instead,
 * which masks everything: peeking then costs at most one run alone).
 * FLDENV and FRSTOR always run alone. */
enum insn_result insn_fp_control(struct insn *in)
{
  struct machine *m = in->m;
  const ZydisDecodedOperand *mem = NULL;
  for (unsigned i = 0; i < in->zi.operand_count && !mem; i++)
    if (in->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY) mem = &in->op[i];
  uint8_t area[28] = {0};
  uint16_t fcw = 0x37f, fsw = 0;
  uint32_t mxcsr = uc_bridge_mxcsr(m->bridge);
  unsigned len = 0;
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_FLDCW: len = 2; break;
  case ZYDIS_MNEMONIC_LDMXCSR: len = 4; break;
  case ZYDIS_MNEMONIC_FXRSTOR: case ZYDIS_MNEMONIC_FXRSTOR64:
  case ZYDIS_MNEMONIC_XRSTOR: case ZYDIS_MNEMONIC_XRSTOR64: len = sizeof area; break;
  default: break;   /* FLDENV, FRSTOR */
  }
  if (len && mem && machine_peek_linear(m, insn_operand_linear(in, mem), area, len, in->mode.cpl < 3)) {
    if (len == 2) memcpy(&fcw, area, 2);
    if (len == 4) memcpy(&mxcsr, area, 4);
    if (len == sizeof area) {
      memcpy(&fcw, area, 2);
      memcpy(&fsw, area + 2, 2);
      memcpy(&mxcsr, area + 24, 4);
    }
    if (len == 4) fcw = UC_BRIDGE_FCW_ZM;   /* LDMXCSR leaves the x87 alone: already unchecked */
    if (!starts_checks(fcw, fsw, mxcsr)) return INSN_NATIVE;
  }
  return machine_step_from(m, in->rip) ? INSN_STOPPED : INSN_NATIVE;
}

void fpu_except_port_f0(struct machine *m)
{
  struct fpu_errors *f = &m->fpu;
  if (!(uc_bridge_fsw(m->bridge) & UC_BRIDGE_FSW_ES)) f->ferr = false;
  f->ignne = f->ferr;
}

void fpu_except_fini(struct machine *m)
{
  if (m->fpu.before) uc_context_free(m->fpu.before);
  m->fpu.before = NULL;
}
