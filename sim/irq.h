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
#include <stddef.h>
#include <stdint.h>

#include "sim/lapic.h"

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

/* [hook or loop] Sets m->cpu.sti_blocking / movss_blocking to the blocking
 * by STI or by MOV SS in effect at the current instruction, for a VM exit,
 * a #VMEXIT or VMLAUNCH/VMRESUME to save or check (irq.c). */
void irq_shadow_sync(struct machine *m);

/* [loop] After a stop requested by irq_should_stop or by HLT (m->halted):
 * the extension's deadline (virt_ops.deadline_reached) comes first, then,
 * with IF=1, the extension's interrupt window
 * (virt_ops.window_open); a halted vCPU then waits in virtual time for the
 * next PIT edge (or the run stops when nothing can wake it); a request the
 * extension holds stays pending; then the extension may take it as an exit
 * (virt_ops.interrupt_exits), else, with IF=1, the PIC is acknowledged and
 * the vector delivered through the IDT as an external interrupt. */
void irq_take(struct machine *m);

/* Can anything end a halt that starts now with RFLAGS = `rflags`: IF = 1,
 * an interrupt the extension takes as an exit whatever IF says, or the
 * extension's deadline? Else only an NMI, SMI or INIT could (HLT, and the
 * x87 freeze of sim/fpu_except.h, then end the run). */
bool irq_halt_can_end(struct machine *m, uint64_t rflags);

/* Re-arms m->irq_check_at after anything that changed the PIC or PIT, or
 * the extension's deadline (virt_ops.deadline). */
void irq_rearm(struct machine *m);

/* [hook][loop] Has virtual time reached the extension's deadline? */
bool irq_deadline_due(struct machine *m);

/* ---- NMIs and the local APIC ---------------------------------------------
 * The machine's one NMI source is the local APIC's ICR sending an NMI to
 * the processor itself (sim/lapic.h). The APIC's 4 KiB register page sits
 * at IA32_APIC_BASE while its global enable bit (11) is set: the TLB-fill
 * hook (sim/machine.c) sends accesses whose final physical address is on
 * that page (after EPT/NPT in a guest: an identity mapping of the page
 * reaches the APIC, as on hardware without APIC virtualization) to an MMIO
 * page of Unicorn's own, whose callbacks are lapic_read / lapic_write.
 * Instruction fetches from the page stop the run.
 *
 * An NMI sets the processor's NMI latch (one pending NMI; a second while
 * one is pending is lost, SDM Vol. 3A, "Nonmaskable Interrupt (NMI)").
 * The block hook stops at the next translation-block start where it is
 * not held (blocking by NMI, the extension's rules) and is outside the
 * STI / MOV SS / POP SS shadow (STI: "NMIs ... may be blocked for one
 * macroinstruction following an STI", SDM Vol. 2, "STI"); irq_take takes
 * it after the extension's deadline and before the interrupt window and
 * external interrupts ("Priority Among Concurrent Exceptions and
 * Interrupts": NMI above maskable hardware interrupts): the extension may
 * take it as an exit, else it is delivered through the current IDT as
 * vector 2 and blocks NMIs until the next IRET ("NMI Handling": the
 * extensions' virt_ops.iret ends the blocking, see sim/vmx_exits.c and
 * sim/svm_intercepts.c). */

/* ---- INIT and SMI -----------------------------------------------------------
 * The local APIC's ICR also sends this processor an SMI or an INIT
 * (sim/lapic.h). Each sets its own latch (one pending signal of each
 * kind). "Priority Among Concurrent Exceptions and Interrupts" (SDM Vol.
 * 3A) puts them with the external hardware interventions, SMI before
 * INIT, above traps, NMIs and maskable interrupts, and neither RFLAGS.IF
 * nor the STI / MOV SS shadows mask them: the block hook stops at the next
 * translation-block start where one is not held, and irq_take takes it
 * before anything else (the extension's deadline included). The machine
 * models neither system-management mode nor the INIT reset, so a signal
 * the extension neither holds nor takes as an exit (virt exits: SVM's
 * SMI/INIT intercepts, VMX's INIT exit) stops the run with a message
 * naming the signal and the situation (never a silent continue). */
enum irq_signal { IRQ_SIGNAL_SMI, IRQ_SIGNAL_INIT, IRQ_SIGNAL_COUNT };

/* The extension's NMI, SMI and INIT rules. sim/virt.h has no operations
 * for them, so the extension registers these at attach time
 * (irq_set_nmi_ops). */
struct irq_nmi_ops {
  /* [hook][loop] Is a pending NMI held now (not delivered, no exit)? VMX:
   * blocking by NMI, which in non-root operation with "virtual NMIs" does
   * not block NMIs; SVM: GIF = 0 or blocking by NMI. Without ops:
   * m->cpu.nmi_blocking. */
  bool (*held)(struct machine *m);
  /* [loop] An NMI that is not held arrives: true when the extension took
   * it as an exit (VMX "NMI exiting": exit 0; SVM's NMI intercept:
   * #VMEXIT 61H). The extension says whether the NMI is consumed
   * (irq_nmi_consume) or stays pending. */
  bool (*exits)(struct machine *m);
  /* [hook][loop] Is a pending SMI or INIT held now? SVM: GIF = 0; VMX:
   * INIT in VMX root operation. Without ops: never. */
  bool (*signal_held)(struct machine *m, enum irq_signal s);
  /* [loop] A signal that is not held arrives: true when the extension took
   * it as an exit (it says whether the signal is consumed:
   * irq_signal_consume); false when the processor would act on it (SMM,
   * the INIT reset), with `why` (n bytes) saying where it is (for the stop
   * message). */
  bool (*signal_exits)(struct machine *m, enum irq_signal s, char *why, size_t n);
};

/* The NMI latch and the local APIC, which sim/machine.c keeps for the
 * machine (machine_irq_nmi). */
struct irq_nmi {
  struct lapic apic;
  bool pending;
  bool signal_pending[IRQ_SIGNAL_COUNT];
  /* deliver_event is delivering this NMI through the IDT now: an exit
   * during that delivery records it as an NMI (IDT-vectoring type 2), not
   * as an external interrupt. */
  bool delivering;
  const struct irq_nmi_ops *ops;
};
struct irq_nmi *machine_irq_nmi(struct machine *m);

/* The extension's registration (kept across irq_init). */
void irq_set_nmi_ops(struct machine *m, const struct irq_nmi_ops *ops);

/* Unicorn's physical page that holds the APIC's MMIO registers: past the
 * end of RAM, where no translation of the model's ever points. */
uint64_t irq_apic_mmio_page(const struct machine *m);
/* [hook] Is host-physical page `page_base` the APIC's register page now? */
bool irq_is_apic_page(const struct machine *m, uint64_t page_base);

/* [hook][loop] Sets the NMI latch and re-arms the block hook. */
void irq_raise_nmi(struct machine *m);
bool irq_nmi_pending(struct machine *m);
/* The NMI was taken (delivered, or consumed by an exit). */
void irq_nmi_consume(struct machine *m);
/* [hook][loop] The virtual time from which a pending NMI that is not held
 * is due (one instruction later under VM-entry-loaded STI / MOV SS
 * blocking; an SMI or INIT that is not held: now), UINT64_MAX for none. The extensions fold it into their
 * virt_ops.deadline, so that the machine stops for it whatever RFLAGS.IF
 * says and a HLT with IF = 0 right after the ICR write waits for it
 * (sim/sysinsn.c wakes a HLT only for the extension's deadline); their
 * deadline_reached leaves it to irq_take, which takes it. */
uint64_t irq_nmi_deadline(struct machine *m);
/* Is the event being delivered now the NMI (IDT-vectoring information)? */
bool irq_nmi_delivering(struct machine *m);

/* "SMI" or "INIT", for messages. */
const char *irq_signal_name(enum irq_signal s);
/* [hook][loop] Sets the signal's latch and re-arms the block hook. */
void irq_raise_signal(struct machine *m, enum irq_signal s);
bool irq_signal_pending(struct machine *m, enum irq_signal s);
/* The signal was taken (an exit that consumes it). */
void irq_signal_consume(struct machine *m, enum irq_signal s);

#endif
