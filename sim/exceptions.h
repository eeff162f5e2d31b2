/* Exception and interrupt delivery through the guest's IDT, by the model
 * (Unicorn reports exceptions but never delivers them). */
#ifndef HVSIM_SIM_EXCEPTIONS_H
#define HVSIM_SIM_EXCEPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

enum {
  VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6,
  VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14,
  VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
  VEC_SX = 30,   /* AMD's security exception (APM Vol. 2, "Security Exception (#SX)") */
};

/* An event waiting to be delivered when Unicorn returns. */
struct pending_event {
  bool valid;
  uint8_t vector;
  bool has_error;
  uint32_t error;
  bool software;               /* INT n / INT3 / INTO: gate DPL is checked, RIP is after */
  bool privileged;             /* with software: INT1 (ICEBP), a privileged software
                                  exception: RIP is after, but no gate DPL check and
                                  EXT = 1 in error codes, as for a hardware event */
  bool external;               /* an external interrupt acknowledged from the PIC: the
                                  extension was already asked (interrupt_exits) */
  uint8_t insn_len;            /* software: the instruction's length */
  bool at_rip;                 /* raised inside an instruction hook: RIP and RAX */
  uint64_t rip, rax;           /* as they were before the instruction */
};

/* Raise an exception from an instruction handler (inside a hook): records it
 * and stops Unicorn with RIP at the faulting instruction. */
void raise_exception(struct machine *m, uint8_t vector, bool has_error, uint32_t error);

/* Delivers `ev` to the state in m->cpu (synchronised from Unicorn): a double
 * fault or shutdown when delivery itself faults, as the SDM's "Conditions
 * for Generating a Double Fault" table says. */
void deliver_event(struct machine *m, const struct pending_event *ev);

bool exception_has_error_code(uint8_t vector);
/* Is `ev` a fault-class exception (saved with RF = 1)? */
bool exception_is_fault(const struct pending_event *ev);

/* Would delivering `ev` now, in protected mode outside IA-32e mode, reach
 * a task switch through a task gate in the IDT? That is: the IDT entry is
 * a present task gate (a software interrupt's CPL within the gate's DPL)
 * and its TSS passes the checks that come before a task switch and before
 * its VM exit or #VMEXIT (task_switch_check_target; SDM Vol. 3C, "Task
 * Switches"). True with the TSS selector. A question only: reads leave no
 * fault, nothing changes; a check that fails is left to the delivery,
 * which raises its fault. The extensions ask it in event_exits (VMX exit
 * 9 with source 3, SVM's task-switch intercept). */
bool exception_task_gate(struct machine *m, const struct pending_event *ev, uint16_t *tss);

#endif
