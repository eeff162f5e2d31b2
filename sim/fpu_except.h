/* Floating-point errors Unicorn does not report.
 *
 * Unicorn 2.1 (QEMU 5.0's TCG) raises #MF only at FWAIT, never #XF, and
 * does nothing with an x87 error when CR0.NE = 0. The architecture says:
 *
 * - A pending x87 error (FSW.ES = 1) is reported "immediately before the
 *   next waiting x87 FPU instruction or WAIT/FWAIT", which is every x87
 *   instruction but FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV and FNSAVE, and
 *   every MMX instruction (SDM Vol. 1, "x87 FPU Exception Synchronization"
 *   and "Waiting vs. Non-waiting Instructions"; Vol. 3A, "Interrupt 16—x87
 *   FPU Floating-Point Error (#MF)"). With CR0.NE = 1 that is #MF, a fault.
 * - With CR0.NE = 0 it is the PC-style mechanism (SDM Vol. 3A, CR0.NE in
 *   "Control Registers"; Vol. 1, "MS-DOS Compatibility Sub-mode in the P6
 *   Family and Pentium 4 Processors"): the processor asserts FERR# and,
 *   unless IGNNE# is asserted, freezes before the instruction until an
 *   interrupt comes. On a PC, FERR# drives IRQ13 and a write to port F0h
 *   asserts IGNNE# until FERR# goes away (FSW.ES cleared). An SVM guest's
 *   freeze is the FERR_FREEZE intercept's (AMD APM Vol. 2, "VMCB Layout,
 *   Control Area": "Intercept processor 'freezing' during legacy FERR
 *   handling").
 * - An SSE instruction that raises an unmasked SIMD floating-point
 *   exception updates no destination; the flags go into MXCSR and the
 *   processor raises #XF, or #UD when CR4.OSXMMEXCPT = 0. An unmasked
 *   invalid-operation or zero-divide exception (pre-computation) is
 *   reported without the post-computation ones (SDM Vol. 1, "SIMD
 *   Floating-Point Exceptions", "Exception Conditions Checked by SSE/SSE2";
 *   Vol. 3A, "Interrupt 19—SIMD Floating-Point Exception (#XF)"; AMD APM
 *   Vol. 2, "#XF—SIMD Floating-Point Exception").
 *
 * So while an x87 error may be pending or a SIMD exception is unmasked
 * (uc_bridge_fp_exceptions_live), or FERR# is asserted, the run loop runs
 * one instruction at a time (sim/machine.c): fpu_except_before checks a
 * waiting instruction against FSW.ES; for an instruction on XMM registers
 * it saves Unicorn's state and clears softfloat's SSE flags, and
 * fpu_except_after reads them back. Only a load of the control words or
 * of the x87 environment can start that (FSW.ES needs an unmasked
 * exception first): those loads are hooked (insn_fp_control), and the run
 * loop asks before each run, so while every exception is masked nothing
 * is paid per block.
 *
 * What Unicorn's arithmetic cannot tell is not modelled: x87 exceptions
 * other than FDIV's zero-divide, denormal operands (DE), underflow of an
 * exact tiny SSE result with UM clear, and MXCSR's flags while every SIMD
 * exception is masked (softfloat keeps them to itself). */
#ifndef HVSIM_SIM_FPU_EXCEPT_H
#define HVSIM_SIM_FPU_EXCEPT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/machine.h"
#include "sim/uc_bridge.h"

/* Must the next instructions run one at a time (asked by the block hook
 * and the run loop)? */
static inline bool fpu_except_active(const struct machine *m)
{
  return m->fpu.ferr || uc_bridge_fp_exceptions_live(m->bridge);
}

/* [loop] Before the instruction at RIP runs alone. True when it did not
 * get to run: #MF raised, the processor frozen, or the freeze became a VM
 * exit. Otherwise it may arm the SIMD check (m->fpu.simd_check). */
bool fpu_except_before(struct machine *m);

/* [loop] After that instruction ran: its SIMD exception flags go into
 * MXCSR. An unmasked one undoes the instruction (Unicorn's state and
 * m->cpu are as before it) and leaves #XF (or #UD) in m->event: returns
 * true then. */
bool fpu_except_after(struct machine *m);

/* A write to port F0h: asserts IGNNE# while FERR# is asserted. */
#define FPU_ERROR_PORT 0xf0
void fpu_except_port_f0(struct machine *m);

void fpu_except_fini(struct machine *m);

#endif
