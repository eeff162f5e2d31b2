/* Private to the VMX extension of the machine (sim/vmx_ext.c, vmx_exec.c,
 * vmx_exits.c): its state and the world-switch glue between models/vmx and
 * the machine. */
#ifndef HVSIM_SIM_VMX_INTERNAL_H
#define HVSIM_SIM_VMX_INTERNAL_H

#include "models/vmx/vmx_exit.h"
#include "models/vmx/vmx_insn.h"
#include "sim/irq.h"
#include "sim/machine.h"
#include "sim/sysinsn.h"

#define VMX_EXIT_REASON_SLOTS 80

struct vmx_ext {
  const struct vmx_caps *caps;
  struct vmx_cpu cpu;              /* VMX operation, the current VMCS */
  bool injecting;                  /* delivering a VM-entry injected event */
  unsigned injected_type;          /* its interruption type and vector (IDT-vectoring information) */
  uint8_t injected_vector;
  uint64_t tsc_offset;             /* the guest's TSC offset, added to m->tsc_offset */
  /* The VMX-preemption timer of the guest running now: started at host
   * TSC `timer_start` with `timer_value`; it reaches 0 at virtual time
   * `timer_deadline` (m->insns). */
  bool timer_running;
  uint32_t timer_value;
  uint64_t timer_start, timer_deadline;
  /* The monitor trap flag of the running guest: it runs one instruction
   * at a time (virt_ops.step). A step is armed at virtual time
   * `step_insns` with RIP/RSP `step_rip`/`step_rsp`; `step_deadline` is
   * the time by which an executed instruction has retired (UINT64_MAX
   * while the guest is halted, when only an event can end the step). */
  bool mtf, step_armed;
  uint64_t step_insns, step_rip, step_rsp, step_deadline;
  /* NMIs: the virtual time from which the NMI-window exit is due
   * (UINT64_MAX: the window is closed or not wanted); the IRET at
   * `iret_rip`, in the block that started at `iret_insns`, that removed
   * blocking by NMI (for "NMI unblocking due to IRET"). */
  uint64_t nmi_window_at;
  /* Debug exceptions. Unicorn sets DR6 itself when it raises a debug trap
   * (single step), before the extension sees the #DB: `dr6_before` is DR6
   * as the guest last had it (at each start of Unicorn and each VM entry),
   * restored when the #DB exits or an MTF exit takes priority over it. A
   * guest MOV to DR6 followed by a trap in the same run of Unicorn is not
   * seen (the restored value is the older one). `entry_dbg` is the #DB of
   * pending debug exceptions VM entry is delivering, with its conditions. */
  uint64_t dr6_before;
  bool entry_dbg;
  uint64_t entry_dbg_conditions;
  /* Pending debug exceptions a VM entry held because of blocking by MOV
   * SS (the field's B3-B0, bit 12, BS; 0: none). The guest's first
   * instruction runs as a step from RIP/RSP `held_rip`/`held_rsp` (an
   * instruction that changes neither, a jump to itself, is not seen to
   * retire); after it they are delivered (merged
   * into the #DB of that instruction's own single step), and an exit
   * before that saves them pending. */
  uint64_t held_dbg, held_rip, held_rsp;
  bool iret_unblocked;
  uint64_t iret_rip, iret_insns;
  uint64_t entries, entry_failures;
  uint64_t exits[VMX_EXIT_REASON_SLOTS];
};

static inline struct vmx_ext *vmx_ext_of(struct machine *m) { return m->virt_state; }
static inline bool vmx_in_guest(struct machine *m) { return vmx_ext_of(m)->cpu.non_root; }

/* Host-physical memory and MSRs for the model. */
struct vmx_mem_ops vmx_ext_mem(struct machine *m);
struct vmx_msr_ops vmx_ext_msrs(struct machine *m);

/* The world switch on m->cpu ([loop] only). */
void vmx_ext_exit(struct machine *m, const struct vmx_exit_info *e);
/* After VMX_INSN_ENTERED: loads the guest, injects its event. */
void vmx_ext_enter(struct machine *m, bool launch);
/* After VMX_INSN_ENTRY_FAILED: back to the host. */
void vmx_ext_entry_failed(struct machine *m);

/* sim/vmx_exec.c: the VMX instructions (virt_ops.execute). */
bool vmx_ext_execute(struct machine *m, struct insn *in);
bool vmx_ext_execute_in_hook(struct machine *m, const struct insn *in);

/* sim/vmx_exits.c: the exit decisions and exits of virt_ops. */
bool vmx_ext_insn_exits(struct machine *m, struct insn *in);
bool vmx_ext_io_exits(struct machine *m, uint16_t port, unsigned size, bool is_in);
void vmx_ext_exit_for_insn(struct machine *m, struct insn *in);
bool vmx_ext_event_exits(struct machine *m, const struct pending_event *ev);
void vmx_ext_slat_fault(struct machine *m, const struct mmu_fault *f, uint64_t la);
bool vmx_ext_shutdown(struct machine *m);
bool vmx_ext_interrupt_exits(struct machine *m);
bool vmx_ext_interrupt_would_exit(struct machine *m);
bool vmx_ext_window_wanted(struct machine *m);
bool vmx_ext_window_open(struct machine *m);
uint64_t vmx_ext_deadline(struct machine *m);
bool vmx_ext_step(struct machine *m);
bool vmx_ext_stepping(struct machine *m);
unsigned vmx_ext_hook_classes(struct machine *m);
void vmx_ext_iret(struct machine *m, struct insn *in);
/* Recomputes nmi_window_at from the current state ([hook][loop]). */
void vmx_ext_nmi_window_rearm(struct machine *m);
/* Sets "NMI unblocking due to IRET" in `e` when the exit is due to a fault
 * on the IRET that removed blocking by NMI. */
void vmx_ext_note_iret(struct machine *m, struct vmx_exit_info *e);
bool vmx_ext_deadline_reached(struct machine *m);
/* Physical NMIs (struct irq_nmi_ops, sim/irq.h). */
bool vmx_ext_nmi_held(struct machine *m);
bool vmx_ext_nmi_exits(struct machine *m);
/* INIT and SMI (struct irq_nmi_ops, sim/irq.h; sim/vmx_exits.c). */
bool vmx_ext_signal_held(struct machine *m, enum irq_signal s);
bool vmx_ext_signal_exits(struct machine *m, enum irq_signal s, char *why, size_t n);

/* VMX-instruction information and displacement qualification of a
 * memory-or-register operand `rm` with register operand `reg2` (-1: none). */
uint32_t vmx_ext_insn_info(struct insn *in, const ZydisDecodedOperand *rm, int reg2, uint64_t *qualification);
/* The addressing form of the r/m operand `rm` for an instruction-information
 * field; `qualification` receives its displacement (0 without one). */
struct vmx_insn_operands vmx_ext_operands(struct insn *in, const ZydisDecodedOperand *rm, uint64_t *qualification);

/* A Zydis register's number in the VMX layouts (RAX=0 ... R15=15), or -1. */
int vmx_ext_gpr_number(ZydisRegister r);

/* Delivers a #DB with `conditions` (B3-B0, BS) that no instruction
 * raised — pending debug exceptions of a VM entry ([loop]): exit 0 under
 * the exception bitmap (qualification: the conditions, DR6 untouched),
 * else through the guest IDT with DR6 updated, which wakes a guest in the
 * HLT state. True when it ended in a VM exit. */
bool vmx_ext_deliver_pending_dbg(struct machine *m, uint64_t conditions);

/* Delivers the #DB a VM entry held for blocking by MOV SS once the
 * guest's first instruction has run ([loop]); true when it did (through
 * the guest IDT or as a VM exit), false when nothing is due. */
bool vmx_ext_deliver_held_dbg(struct machine *m);

/* Delivers an exception at m->cpu.rip ([loop]). */
void vmx_ext_raise(struct machine *m, uint8_t vector, bool has_error, uint32_t error);

#endif
