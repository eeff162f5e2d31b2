/* Alignment checking (SDM Vol. 3A, "Interrupt 17—Alignment Check
 * Exception (#AC)"; AMD APM Vol. 2, "#AC—Alignment-Check Exception").
 *
 * With CR0.AM = 1, RFLAGS.AC = 1 and CPL 3, a data or stack access whose
 * address is not a multiple of what its data type needs (the SDM's table
 * "Alignment Requirements by Data Type") faults with #AC(0) before the
 * instruction has any effect. Unicorn checks no alignment, so while the
 * three conditions hold the run loop carries out one instruction at a
 * time and checks each first (sim/machine.c); the block hook notices when
 * they start to hold (a POPF or IRET that sets AC, a return to CPL 3: each
 * ends a translation block). Costs one test of CR0.AM per block when AM is
 * clear, two flag tests when it is set.
 *
 * Choices where the SDM leaves room: 128-bit and larger operands are not
 * checked (those that need alignment raise #GP, which Unicorn does; the
 * SDM's #AC note names word, doubleword and quadword data), nor are
 * FXSAVE/XSAVE areas ("either #AC or #GP"). The check comes before the
 * access's translation, so a misaligned access that would also page-fault
 * raises #AC, where the SDM's priority puts #PF first. */
#ifndef HVSIM_SIM_ALIGN_CHECK_H
#define HVSIM_SIM_ALIGN_CHECK_H

#include <stdbool.h>

#include "sim/machine.h"
#include "sim/sysinsn.h"

/* CR0.AM, and RFLAGS.AC at CPL 3 in Unicorn's current state (the block
 * hook asks at every block). */
static inline bool align_check_active(struct machine *m)
{
  return (m->cpu.cr0 & CR0_AM) && uc_bridge_cpl3_with_ac(m->bridge);
}

/* The alignment in bytes operand `op` of `in` needs; 1 when it is not
 * checked (a byte, an address computation, a CPL-0 access, ...). */
unsigned align_required(const struct insn *in, const ZydisDecodedOperand *op);

/* [loop] Checks the instruction at RIP. True when it raised #AC (delivered
 * through deliver_event, so the extension may take it). */
bool align_check_insn(struct machine *m);

#endif
