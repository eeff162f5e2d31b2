/* Task switches (SDM Vol. 3A, chapter "Task Management"): the checks on
 * the new TSS, the old task's state saved, the busy bits, NT and the back
 * link, and the new task's state loaded, with the faults of each step and
 * their error codes. Pure rules over a struct cpu_state and a memory
 * interface, so they are tested without Unicorn (conformance/machine/
 * test_task_switch.c); sim/exceptions.c drives them for events delivered
 * through a task gate in the IDT.
 *
 * Only protected mode outside IA-32e mode has task switches (in IA-32e
 * mode a task gate in the IDT is #GP: SDM Vol. 3A, "64-Bit Mode IDT").
 * 32-bit and 16-bit TSSs ("32-Bit Task-State Segment (TSS)", "16-Bit
 * Task-State Segment (TSS)"). */
#ifndef HVSIM_SIM_TASK_SWITCH_H
#define HVSIM_SIM_TASK_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/cpu_state.h"

/* System descriptor types (SDM Vol. 3A, "System Descriptor Types"). */
enum {
  TS_TYPE_TSS16_AVAILABLE = 1, TS_TYPE_LDT = 2, TS_TYPE_TSS16_BUSY = 3, TS_TYPE_TASK_GATE = 5,
  TS_TYPE_TSS32_AVAILABLE = 9, TS_TYPE_TSS32_BUSY = 11,
};

/* 32-bit TSS field offsets ("32-Bit Task-State Segment (TSS)"). */
enum {
  TSS32_LINK = 0x00, TSS32_CR3 = 0x1C, TSS32_EIP = 0x20, TSS32_EFLAGS = 0x24, TSS32_EAX = 0x28,
  TSS32_ES = 0x48, TSS32_CS = 0x4C, TSS32_SS = 0x50, TSS32_DS = 0x54, TSS32_FS = 0x58, TSS32_GS = 0x5C,
  TSS32_LDT = 0x60, TSS32_TRAP = 0x64, TSS32_MIN_LIMIT = 0x67,
};
/* 16-bit TSS field offsets ("16-Bit Task-State Segment (TSS)"). */
enum {
  TSS16_LINK = 0x00, TSS16_IP = 0x0E, TSS16_FLAGS = 0x10, TSS16_AX = 0x12, TSS16_ES = 0x22, TSS16_CS = 0x24,
  TSS16_SS = 0x26, TSS16_DS = 0x28, TSS16_LDT = 0x2A, TSS16_MIN_LIMIT = 0x2B,
};

/* What started the switch ("Task Switching"): it decides the busy bits,
 * NT and the back link ("Task Linking", table "Effect of a Task Switch on
 * Busy Flag, NT Flag, Previous Task Link Field, and TS Flag"). */
enum ts_source { TS_FROM_CALL, TS_FROM_IRET, TS_FROM_JMP, TS_FROM_INT };

/* Memory as the task switch sees it: implicit supervisor accesses at
 * linear addresses through the current paging (CR3 changes during the
 * switch). A false return means the access faulted and the caller has
 * recorded that fault (#PF, EPT violation, #NPF); the switch reports it as
 * `memory`. load_cr3 loads CR3 from the new TSS into `s` (with paging on;
 * PAE paging also loads the PDPTEs): false when that fails. */
struct ts_mem {
  bool (*read)(void *ctx, uint64_t la, void *buf, unsigned len);
  bool (*write)(void *ctx, uint64_t la, const void *buf, unsigned len);
  bool (*load_cr3)(void *ctx, struct cpu_state *s, uint64_t cr3);
  void *ctx;
};

/* A fault the switch raised: vector and error code (EXT included), or a
 * memory fault the ts_mem callbacks recorded. */
struct ts_fault {
  bool memory;
  uint8_t vector;
  uint32_t error;
};

enum ts_outcome {
  TS_DONE,               /* switched: `s` is the new task's state */
  TS_FAULT,              /* faulted before the commit point: `s` unchanged */
  TS_FAULT_IN_NEW_TASK,  /* faulted after it ("in the context of the new task"):
                            `s` is the new task's, partly loaded */
};

/* The new task's TSS, as the checks found it. */
struct ts_target {
  uint16_t selector;
  uint32_t desc[2];      /* its descriptor in the GDT */
};

/* The checks on the TSS selector and descriptor before anything changes
 * (SDM Vol. 3A, "Task Switching" steps 1-4 and table "Exception Conditions
 * Checked During a Task Switch"), in Bochs's order (the SDM: "the exact
 * order is model specific"): the selector in the GDT (TI = 0) and within
 * its limit (#GP, #TS for IRET), a TSS descriptor available for CALL, JMP
 * and events, busy for IRET (#GP, #TS for IRET), present (#NP), a limit of
 * at least 67H (32-bit) or 2BH (16-bit) (#TS). Error codes name the
 * selector with EXT (`ext`: the event is external to the program). These
 * are also the checks that come before a task-switch VM exit (SDM Vol.
 * 3C, "Task Switches"). */
enum ts_outcome task_switch_check_target(const struct cpu_state *s, const struct ts_mem *mem, uint16_t selector,
                                         enum ts_source source, bool ext, struct ts_target *t, struct ts_fault *f);

/* The task switch proper, to a target task_switch_check_target accepted
 * ("Task Switching" steps 5-13): the old TSS's limit (#TS), the old state
 * saved, busy bits and the back link, then, past the commit point, TR,
 * CR0.TS, DR7's local enables, EFLAGS (NT for CALL and events), EIP, the
 * general registers, CR3 (32-bit TSS, paging on), LDTR, SS, DS, ES, FS,
 * GS, CS with their checks (#TS, #NP, #SS: faults in the new task), the
 * event's error code pushed on the new stack (`push_error`), and EIP
 * within CS's limit (#GP(0)). `fault`: the event is a fault-class
 * exception, whose EFLAGS image (here the one saved in the old TSS) has
 * RF = 1 (SDM Vol. 3B, "Instruction-Breakpoint Exception Condition").
 * `debug_trap` says the new TSS's T flag was set (a #DB is due before the
 * new task's first instruction). */
struct ts_event {
  bool ext;              /* external to the program: EXT in error codes */
  bool fault;            /* a fault-class exception */
  bool push_error;       /* an error code to push on the new stack */
  uint32_t error;
};
enum ts_outcome task_switch(struct cpu_state *s, const struct ts_mem *mem, const struct ts_target *t,
                            enum ts_source source, const struct ts_event *ev, struct ts_fault *f, bool *debug_trap);

#endif
