/* External interrupts of the machine: the PIC pair and the PIT wired to it
 * (counter 0's OUT on IRQ0), run on virtual time, and the delivery of the
 * PIC's requests at instruction boundaries.
 *
 * Virtual time: m->insns at MACHINE_INSNS_PER_SECOND (sim/machine.h), so
 * the PIT input clock at virtual time t is t * PIT_HZ / that rate.
 *
 * Delivery granularity: Unicorn runs translation blocks without stopping
 * between instructions, and its block hook runs before a block's first
 * instruction. So a request is taken at the start of the first translation
 * block that begins at or after the moment it became deliverable: PIT edges
 * become visible at block starts, and Unicorn is stopped before the block
 * runs. Block boundaries depend only on the code and the run's history, so
 * the same run delivers at the same instruction every time. The SDM only
 * promises that interrupts are recognized at instruction boundaries (SDM
 * Vol. 3A, "Interrupt and Exception Handling", "Priority Among Concurrent
 * Exceptions and Interrupts"), not at which one after the request. */
#ifndef HVSIM_SIM_IRQ_H
#define HVSIM_SIM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

void irq_init(struct machine *m);

/* PIT input clocks elapsed at virtual time `insns`, and the earliest
 * virtual time at which `clock` input clocks have elapsed. */
uint64_t irq_pit_clock(uint64_t insns);
uint64_t irq_insns_at_clock(uint64_t clock);

/* [hook] Port I/O to the PIC (0x20-0x21, 0xA0-0xA1, ELCR 0x4D0-0x4D1) or
 * the PIT (0x40-0x43): false when the port is not theirs. Bytes of a wider
 * access go to consecutive ports. */
bool irq_port_in(struct machine *m, uint16_t port, unsigned size, uint32_t *value);
bool irq_port_out(struct machine *m, uint16_t port, unsigned size, uint32_t value);

/* [hook] Called by the block hook once m->insns reached m->irq_check_at,
 * before the block at its start runs. `prev`/`prev_size` is the block that
 * ran last in this uc_emu_start (size 0: none). True when Unicorn should
 * stop before this block so the run loop takes the interrupt: the PIC
 * asserts INT and the extension does not hold it (virt_ops.interrupts_held)
 * or the extension wants the interrupt window (window_wanted); RFLAGS.IF
 * is 1 (or the extension would take the interrupt as an exit:
 * interrupt_would_exit); and no instruction just executed blocks
 * interrupts for one boundary (STI, MOV SS, POP SS; before the first
 * block, the blocking VM entry / VMRUN loaded into m->cpu). Also true,
 * whatever IF and the shadows say, once the extension's deadline has
 * come (virt_ops.deadline). */
bool irq_should_stop(struct machine *m, uint64_t prev, uint32_t prev_size);

/* [loop] After a stop requested by irq_should_stop or by HLT (m->halted):
 * the extension's deadline (virt_ops.deadline_reached) comes first, then,
 * with IF=1, the extension's interrupt window
 * (virt_ops.window_open); a halted vCPU then waits in virtual time for the
 * next PIT edge (or the run stops when nothing can wake it); a request the
 * extension holds stays pending; then the extension may take it as an exit
 * (virt_ops.interrupt_exits), else, with IF=1, the PIC is acknowledged and
 * the vector delivered through the IDT as an external interrupt. */
void irq_take(struct machine *m);

/* Re-arms m->irq_check_at after anything that changed the PIC or PIT, or
 * the extension's deadline (virt_ops.deadline). */
void irq_rearm(struct machine *m);

/* [hook][loop] Has virtual time reached the extension's deadline? */
bool irq_deadline_due(struct machine *m);

#endif
