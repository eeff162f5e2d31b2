/* VM exits (SDM Vol. 3C, chapters "VMX Non-Root Operation" and "VM
 * Exits"): the exit-reason catalogue (exit_reasons.def), the rules that
 * decide whether an instruction, an I/O access, an MSR access, a control
 * register access or an exception exits, the exit qualifications and
 * instruction information they record, and the world switch itself over
 * cpu_state and the current VMCS: saving guest state, loading host state,
 * the MSR-store and MSR-load lists, and VM entry's loading of guest state.
 *
 * Division of labour, as for the VMX instructions (vmx_insn.h): the
 * simulator decodes instructions and reads operands; the model decides and
 * transforms state. Nothing here touches the simulator. */
#ifndef HVSIM_MODELS_VMX_VMX_EXIT_H
#define HVSIM_MODELS_VMX_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vmx/vmcs.h"
#include "models/vmx/vmx_insn.h"
#include "sim/cpu_state.h"

/* ---- the catalogue -------------------------------------------------------- */

enum vmx_exit_reason {
#define VMX_EXIT(num, name, modelled, section) VMX_EXIT_##name = num,
#include "models/vmx/exit_reasons.def"
#undef VMX_EXIT
};
struct vmx_exit_reason_info { unsigned number; const char *name; bool modelled; const char *section; };
extern const struct vmx_exit_reason_info vmx_exit_reasons[];
extern const unsigned vmx_exit_reason_count;
/* The catalogue entry of a basic exit reason, or NULL. */
const struct vmx_exit_reason_info *vmx_exit_reason_find(unsigned basic);
/* Its name ("CPUID"), or "UNKNOWN". */
const char *vmx_exit_reason_name(unsigned basic);

/* ---- what an exit records (SDM "Recording VM-Exit Information and
 * Updating VM-Entry Control Fields") --------------------------------------- */

struct vmx_exit_info {
  uint32_t reason;            /* exit-reason field: basic reason in 15:0, bit 31 entry failure */
  uint64_t qualification;
  uint32_t insn_len;          /* VM-exit instruction length (0: not recorded) */
  uint32_t insn_info;         /* VM-exit instruction information */
  uint32_t intr_info;         /* VM-exit interruption information */
  uint32_t intr_error;        /* VM-exit interruption error code */
  uint32_t idt_info;          /* IDT-vectoring information */
  uint32_t idt_error;         /* IDT-vectoring error code */
  uint64_t guest_linear;
  uint64_t guest_physical;
  bool linear_valid, physical_valid;
  uint64_t pending_dbg;       /* saved as the guest's pending debug exceptions (0 unless a
                                 trap-like exit took priority over a debug trap) */
};

/* Interruption-information layout (exit and IDT-vectoring): vector 7:0,
 * type 10:8, error code valid 11, NMI unblocking due to IRET 12, valid 31. */
static inline uint32_t vmx_intr_info(unsigned vector, unsigned type, bool has_error)
{
  return (vector & 0xFFu) | ((type & 7u) << 8) | (has_error ? 1u << 11 : 0) | (1u << 31);
}

/* ---- instructions that exit (SDM "Instructions That Cause VM Exits
 * Unconditionally" and "... Conditionally") ------------------------------- */

/* X(KIND, EXIT_REASON, CONTROL, BIT): the descriptor-table kinds are
 * LGDT/LIDT (GDTR_IDTR_LOAD), SGDT/SIDT (..._STORE), LLDT/LTR and
 * SLDT/STR; loads and stores differ in which faults come first. CONTROL is PROC (primary
 * processor-based), PROC2 (secondary, counted only when "activate
 * secondary controls" is 1) or ALWAYS (unconditional; BIT unused). */
#define VMX_INSN_EXIT_RULES(X)                              \
  X(CPUID,   CPUID,     ALWAYS, 0)                          \
  X(GETSEC,  GETSEC,    ALWAYS, 0)                          \
  X(INVD,    INVD,      ALWAYS, 0)                          \
  X(XSETBV,  XSETBV,    ALWAYS, 0)                          \
  X(HLT,     HLT,       PROC,   PROC_HLT_EXITING)           \
  X(INVLPG,  INVLPG,    PROC,   PROC_INVLPG_EXITING)        \
  X(RDPMC,   RDPMC,     PROC,   PROC_RDPMC_EXITING)         \
  X(RDTSC,   RDTSC,     PROC,   PROC_RDTSC_EXITING)         \
  X(MWAIT,   MWAIT,     PROC,   PROC_MWAIT_EXITING)         \
  X(MONITOR, MONITOR,   PROC,   PROC_MONITOR_EXITING)       \
  X(PAUSE,   PAUSE,     PROC,   PROC_PAUSE_EXITING)         \
  X(MOV_DR,  DR_ACCESS, PROC,   PROC_MOV_DR_EXITING)        \
  X(WBINVD,  WBINVD,    PROC2,  PROC2_WBINVD_EXITING)       \
  X(RDRAND,  RDRAND,    PROC2,  PROC2_RDRAND_EXITING)       \
  X(RDSEED,  RDSEED,    PROC2,  PROC2_RDSEED_EXITING)       \
  X(RDTSCP,  RDTSCP,    PROC,   PROC_RDTSC_EXITING)         \
  X(INVPCID, INVPCID,   PROC,   PROC_INVLPG_EXITING)        \
  X(GDTR_IDTR_LOAD,  GDTR_IDTR_ACCESS, PROC2, PROC2_DESC_TABLE_EXITING) \
  X(GDTR_IDTR_STORE, GDTR_IDTR_ACCESS, PROC2, PROC2_DESC_TABLE_EXITING) \
  X(LDTR_TR_LOAD,    LDTR_TR_ACCESS,   PROC2, PROC2_DESC_TABLE_EXITING) \
  X(LDTR_TR_STORE,   LDTR_TR_ACCESS,   PROC2, PROC2_DESC_TABLE_EXITING)

enum vmx_insn_kind {
#define X(kind, reason, ctl, bit) VMX_KIND_##kind,
  VMX_INSN_EXIT_RULES(X)
#undef X
  VMX_KIND_COUNT
};

/* The secondary processor-based controls in effect: 0 unless "activate
 * secondary controls" is 1. */
uint32_t vmx_proc2(const struct vmcs *v);

/* Does the instruction exit in VMX non-root operation? Sets *reason. */
bool vmx_insn_exits(const struct vmcs *v, enum vmx_insn_kind k, unsigned *reason);

/* "Changes to Instruction Behavior in VMX Non-Root Operation": RDTSCP
 * raises #UD when "enable RDTSCP" is 0, INVPCID when "enable INVPCID" is
 * 0 (whatever the exit controls say). */
bool vmx_insn_ud_in_guest(const struct vmcs *v, enum vmx_insn_kind k);

/* "Relative Priority of Faults and VM Exits": invalid-opcode exceptions
 * and faults based on privilege level take priority over the VM exit. True
 * when the instruction faults at `cpl` with `cr4` instead of exiting:
 * #GP at CPL > 0 for the privileged ones (RDPMC unless CR4.PCE, RDTSC and
 * RDTSCP only with CR4.TSD), #UD for MONITOR/MWAIT at CPL > 0, XSETBV
 * without CR4.OSXSAVE and GETSEC without CR4.SMXE; #GP at CPL > 0 for
 * LGDT, LIDT, LLDT and LTR, and with CR4.UMIP for SGDT, SIDT, SLDT and
 * STR. (MOV CR, CLTS, LMSW, RDMSR and WRMSR are privileged the same way:
 * #GP at CPL > 0. The #UD of LLDT, LTR, SLDT and STR outside protected
 * mode also comes first; the caller knows the mode.) Never for MOV DR,
 * whose exit comes before its #GP at CPL > 0, its #UD for DR4/DR5 and
 * the general-detect #DB ("MOV DR is an exception to this rule"). */
bool vmx_fault_precedes_exit(enum vmx_insn_kind k, unsigned cpl, uint64_t cr4);

/* Control-register accesses (exit qualification bits 5:4). */
enum vmx_cr_access { VMX_CR_MOV_TO = 0, VMX_CR_MOV_FROM = 1, VMX_CR_CLTS = 2, VMX_CR_LMSW = 3 };
/* `value`: the source of MOV to CR / LMSW; ignored otherwise. */
bool vmx_cr_access_exits(const struct vmcs *v, unsigned cr, enum vmx_cr_access a, uint64_t value);
/* Qualification of a control-register access: CR number 3:0, access type
 * 5:4, LMSW operand type 6 (1 = memory), general-purpose register 11:8,
 * LMSW source data 31:16. */
uint64_t vmx_cr_qualification(unsigned cr, enum vmx_cr_access a, unsigned gpr, bool lmsw_mem, uint16_t lmsw_src);
/* MOV DR: DR number 2:0, direction 4 (1 = MOV from DR), register 11:8. */
uint64_t vmx_dr_qualification(unsigned dr, bool from_dr, unsigned gpr);

/* "Task Switches" (chapter "VMX Non-Root Operation"): any attempt at a
 * task switch in non-root operation is a VM exit (reason 9), whatever the
 * controls. "Exit Qualification for Task Switches": bits 15:0 the
 * selector of the TSS switched to, bits 31:30 the source. The VM-exit
 * instruction length is recorded for a switch an instruction started
 * (`insn_len`, 0 for an event through a task gate in the IDT that no
 * instruction raised); the guest RIP stays at the instruction. */
enum vmx_task_switch_source { VMX_TS_CALL = 0, VMX_TS_IRET = 1, VMX_TS_JMP = 2, VMX_TS_IDT_GATE = 3 };
void vmx_task_switch_exit(uint16_t tss_selector, enum vmx_task_switch_source source, unsigned insn_len,
                          struct vmx_exit_info *e);

/* The value MOV from CR0/CR4 reads in non-root operation: bits the
 * guest/host mask owns come from the read shadow. */
uint64_t vmx_cr_read_shadowed(const struct vmcs *v, unsigned cr, uint64_t actual);
/* The value CR0/CR4 takes after a MOV to CR in non-root operation that did
 * not exit: owned bits keep their value, the others come from the source. */
uint64_t vmx_cr_write_masked(const struct vmcs *v, unsigned cr, uint64_t old, uint64_t value);

/* I/O: the bitmaps are read through `m` (an unreadable bitmap exits). */
bool vmx_io_exits(const struct vmcs *v, const struct vmx_mem_ops *m, uint16_t port, unsigned size);
/* Qualification: size-1 2:0, direction 3 (1 = IN), string 4, REP 5,
 * operand encoding 6 (1 = immediate), port 31:16. */
uint64_t vmx_io_qualification(unsigned size, bool in, bool string, bool rep, bool imm, uint16_t port);

bool vmx_msr_exits(const struct vmcs *v, const struct vmx_mem_ops *m, uint32_t msr, bool write);

/* The exception bitmap, with the #PF error-code mask and match. */
bool vmx_exception_exits(const struct vmcs *v, unsigned vector, uint32_t error);

/* An exception about to be delivered in non-root operation. */
struct vmx_event {
  unsigned vector;
  bool has_error;
  uint32_t error;
  bool sw_exception;         /* INT3 / INTO (software exception, type 6) */
  bool priv_sw_exception;    /* INT1 (privileged software exception, type 5) */
  unsigned insn_len;         /* of INT3 / INTO / INT1 */
  bool protected_mode;       /* CR0.PE: error codes are delivered only then */
  uint64_t fault_address;    /* #PF: the linear address (CR2 is not written) */
  uint64_t debug_conditions; /* hardware #DB: B3-B0, BD, BS as DR6 lays them out */
};
/* "Exceptions" and "Information for VM Exits Due to Vectored Events": when
 * the exception bitmap makes the exception exit, fills *e (reason 0,
 * interruption information and error code, #PF address in the
 * qualification, instruction length of a software exception or privileged
 * software exception). */
bool vmx_exception_exit(const struct vmcs *v, const struct vmx_event *ev, struct vmx_exit_info *e);

/* "Information for VM Exits That Occur During Event Delivery": the event
 * whose delivery the exit interrupted (vector, interruption type, error
 * code when one was being delivered) becomes the IDT-vectoring
 * information; for a software interrupt or exception (types 4, 5, 6) the
 * VM-exit instruction length is that instruction's. */
void vmx_record_delivery(struct vmx_exit_info *e, unsigned vector, unsigned type, bool has_error, uint32_t error,
                         unsigned insn_len);

/* "Triple Fault": in VMX non-root operation a triple fault is a VM exit
 * (reason 2, qualification 0) instead of shutdown; it is not an exit
 * during event delivery (no IDT-vectoring information). False in root
 * operation: the processor shuts down. */
bool vmx_triple_fault_exit(const struct vmx_cpu *x, struct vmx_exit_info *e);

/* "EPT Violations" / "EPT Misconfigurations": exit 48 with the MMU's
 * qualification, the guest-physical address and, when qualification bit 7
 * says it is valid, the guest-linear address; exit 49 with the
 * guest-physical address. */
void vmx_ept_violation_exit(uint64_t qualification, uint64_t gpa, uint64_t gla, struct vmx_exit_info *e);
void vmx_ept_misconfig_exit(uint64_t gpa, struct vmx_exit_info *e);

/* VMX-instruction information (VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * VMXON, INVEPT, INVVPID): scaling 1:0, reg1 6:3, address size 9:7,
 * register form 10, segment 17:15, index 21:18 (invalid 22), base 26:23
 * (invalid 27), reg2 31:28. Registers are numbered RAX=0 ... R15=15,
 * segments ES=0 ... GS=5; address size 0=16, 1=32, 2=64 bits. */
struct vmx_insn_operands {
  unsigned scale;            /* index scaling: 1, 2, 4, 8 */
  unsigned reg1;             /* the register form's register */
  unsigned addr_size;
  bool reg_form;
  unsigned segment;
  int index, base;           /* -1: none */
  unsigned reg2;
};
uint32_t vmx_insn_info_encode(const struct vmx_insn_operands *o);

/* PAUSE at CPL 0 with "PAUSE exiting" 0 and "PAUSE-loop exiting" 1 (SDM
 * Vol. 3C, "Instructions That Cause VM Exits Conditionally", PAUSE): a
 * PAUSE more than PLE_Gap after the previous PAUSE at CPL 0 (or the first
 * at CPL 0 since VM entry) is the first in a loop; otherwise a VM exit
 * (reason 40, qualification 0) occurs when more than PLE_Window has passed
 * since the first in the loop. `now` is a counter at the TSC's rate.
 * Returns whether this PAUSE exits and records it in *p (the caller asks
 * on a copy when it only wants the answer). False, *p untouched, when the
 * rule does not apply: CPL > 0 (PAUSE-loop exiting is ignored), "PAUSE
 * exiting" 1 (it wins: vmx_insn_exits), or "PAUSE-loop exiting" not in
 * effect (secondary controls not activated). */
bool vmx_pause_loop_exits(const struct vmcs *v, struct vmx_pause_loop *p, unsigned cpl, uint64_t now);

/* "VMX-Preemption Timer" (chapter "VMX Non-Root Operation") and "VMX-
 * Preemption Timer" (chapter "VM Entries"): with "activate VMX-preemption
 * timer", VM entry starts the timer with the VMX-preemption timer-value
 * field; it counts down by 1 every time bit X of the TSC changes due to a
 * TSC increment, X = IA32_VMX_MISC[4:0]; when it reaches 0 a VM exit
 * (reason 52) occurs. A value of 0 at VM entry exits before the guest
 * executes any instruction (after event injection). */
bool vmx_preemption_timer_active(const struct vmcs *v);
bool vmx_preemption_timer_fires_at_entry(const struct vmcs *v);
/* The first TSC value at which a timer started with `value` at TSC
 * `start` reads 0: ((start >> X) + value) << X, saturated at UINT64_MAX;
 * at or before `start` when `value` is 0. */
uint64_t vmx_preemption_timer_expiry(uint64_t start, uint32_t value, unsigned rate);
/* The timer's value at TSC `now` (>= start): `value` less the changes of
 * bit X since `start`, never below 0. */
uint32_t vmx_preemption_timer_value_at(uint64_t start, uint32_t value, unsigned rate, uint64_t now);
/* "Saving Non-Register State" (chapter "VM Exits"): with "save
 * VMX-preemption timer value" the exit stores the timer's current value
 * (0 for an exit due to its expiry) in the timer-value field; without it
 * the field keeps what VM entry loaded. */
void vmx_save_preemption_timer(struct vmcs *v, uint32_t value);

/* "Monitor Trap Flag" (chapter "VMX Non-Root Operation"): with the
 * "monitor trap flag" control, an MTF VM exit (reason 37, qualification 0)
 * is pending at the instruction boundary after the guest executes one
 * instruction (after one iteration of a REP string instruction; after the
 * delivery of a fault it raises, of the software event INT1/INT3/INTO/INT n
 * delivers, or of an event delivered before any instruction; from the HLT
 * state after HLT), unless a VM exit comes first. It takes priority over
 * the VMX-preemption timer, NMI-window and interrupt-window exits and
 * external interrupts ("Event Priority"). */
bool vmx_mtf_active(const struct vmcs *v);
/* "Event Injection" / "Monitor Trap Flag": an MTF VM exit is pending
 * before the first guest instruction when VM entry injects a vectored
 * event with "monitor trap flag" 1, or injects a pending MTF VM exit
 * (interruption type 7, "other event", vector 0) whatever the control. */
bool vmx_mtf_pending_after_entry(const struct vmcs *v);
void vmx_mtf_exit(struct vmx_exit_info *e);
/* "Monitor Trap Flag": a REP-prefixed string instruction that does not
 * fault has its MTF VM exit "on the instruction boundary after that
 * iteration" — RIP still at the instruction while iterations remain. Once
 * the count register (CX, ECX or RCX for an `address_width` of 16, 32 or
 * 64) is 0 the instruction is complete and the boundary is after it: true
 * then. */
bool vmx_mtf_rep_complete(unsigned address_width, uint64_t rcx);

/* ---- debug exceptions ------------------------------------------------------
 * The pending-debug-exceptions field ("Guest Non-Register State"), the #DB
 * exit qualification ("Exit Qualification for Debug Exceptions") and DR6
 * share one layout for the conditions: B3-B0 in 3:0, BD 13, BS 14; the
 * field has "enabled breakpoint" in bit 12. */
#define VMX_DBG_B3_B0 0xFull
#define VMX_DBG_ENABLED_BP (1ull << 12)
#define VMX_DBG_BD (1ull << 13)
#define VMX_DBG_BS (1ull << 14)

/* The breakpoints DR7 makes trap-like, as a B3-B0 mask: those whose R/Wn
 * field (bits 17:16 + 4n) is 01 (data writes), 10 (I/O) or 11 (data reads
 * and writes). R/Wn = 00 is an instruction breakpoint, a fault (SDM Vol.
 * 3A, "Debug Control Register (DR7)", "Instruction-Breakpoint Exception
 * Condition", "Data Memory and I/O Breakpoint Exception Conditions"). */
uint64_t vmx_dr7_trap_breakpoints(uint64_t dr7);
/* The conditions of a debug trap the processor raised after an
 * instruction, given DR6 before and after it set them and DR7: B3-B0 of
 * the data and I/O breakpoints DR6 now reports (an instruction
 * breakpoint's Bn is a fault on the next instruction, not part of this
 * trap: QEMU's single step sets Bn for a breakpoint of type "instruction"
 * whose address is the next RIP, armed or not), BS when the trap is a
 * single step — BS newly set, or set with RFLAGS.TF = 1 (`tf`; BS is
 * sticky in DR6, so a single step after an undelivered one shows no
 * change). */
uint64_t vmx_debug_trap_conditions(uint64_t dr6_before, uint64_t dr6_after, bool tf, uint64_t dr7);
/* "Saving Non-Register State" (pending debug exceptions) for a trap-like
 * VM exit that took priority over the debug trap with `conditions`
 * ("Monitor Trap Flag": "MTF VM exits take priority over debug-trap
 * exceptions"): BS and B3-B0 of the data and I/O breakpoints as the trap
 * reported them, bit 12 ("enabled breakpoint", "Guest Non-Register
 * State": "at least one data or I/O breakpoint was met and was enabled
 * in DR7") when one of those is enabled in DR7 (Ln or Gn). */
uint64_t vmx_pending_dbg_of_trap(uint64_t conditions, uint64_t dr7);
/* "Delivery of Pending Debug Exceptions after VM Entry": the conditions
 * (B3-B0, BS) of the #DB a VM entry delivers before the first guest
 * instruction, 0 when there is none: the field holds valid pending debug
 * exceptions (BS or bit 12), the entry is not vectoring, and there is no
 * blocking by MOV SS (which holds them). */
uint64_t vmx_pending_dbg_at_entry(const struct vmcs *v, bool vectoring, bool movss_blocking);
/* "Delivery of Pending Debug Exceptions after VM Entry": with blocking by
 * MOV SS the valid pending debug exceptions of a non-vectoring entry "are
 * held pending or lost as would normally be the case" — held, as after a
 * MOV SS that hit a debug trap, until the guest's first instruction has
 * run. The field's B3-B0, bit 12 and BS held this way, 0 when nothing is
 * held (no blocking by MOV SS, a vectoring entry, nothing valid). */
uint64_t vmx_pending_dbg_held_at_entry(const struct vmcs *v, bool vectoring, bool movss_blocking);
/* DR6 once a #DB with `conditions` is delivered ("it updates DR6
 * normally", SDM Vol. 3A "Debug Status Register (DR6)"): the condition
 * bits set, the others kept. */
uint64_t vmx_dr6_after_delivery(uint64_t dr6, uint64_t conditions);

/* NMIs in VMX non-root operation. "Changes to Instruction Behavior in VMX
 * Non-Root Operation", IRET: with "NMI exiting" 0 IRET unblocks NMIs as
 * usual; with "NMI exiting" 1 it does not affect blocking of NMIs, but
 * with "virtual NMIs" 1 it removes virtual-NMI blocking. True when IRET
 * ends the blocking the interruptibility state's "blocking by NMI" bit
 * tracks. */
bool vmx_iret_unblocks_nmis(const struct vmcs *v);
/* "NMI-Window Exiting": with "virtual NMIs" and "NMI-window exiting" 1, a
 * VM exit (reason 8, qualification 0) occurs before any instruction at
 * which there is no virtual-NMI blocking and no blocking by MOV SS (the
 * model, like Bochs, also waits out blocking by STI, which the SDM
 * permits); immediately after VM entry when that holds. */
bool vmx_nmi_window_open(const struct vmcs *v, bool nmi_blocking, bool sti_or_movss_blocking);
void vmx_nmi_window_exit(struct vmx_exit_info *e);
/* "Event Injection": injecting an NMI (type 2) leaves blocking by NMI in
 * effect (virtual-NMI blocking when "virtual NMIs" is 1). */
bool vmx_injection_blocks_nmis(const struct vmcs *v);
/* "Information for VM Exits Due to Vectored Events" (exit interruption
 * information bit 12) and "Exit Qualification for EPT Violations" (bit
 * 12), "NMI unblocking due to IRET": for an exit caused by a fault on an
 * IRET that began with (virtual-)NMI blocking, which IRET had removed, the
 * bit is set: in the interruption information of an exception exit, in
 * the qualification of an EPT violation. Undefined (left 0) with "NMI
 * exiting" 1 and "virtual NMIs" 0, when IDT-vectoring information is
 * valid, and for a #DF. */
void vmx_note_nmi_unblocking_by_iret(const struct vmcs *v, struct vmx_exit_info *e);

/* Physical NMIs in VMX non-root operation ("Pin-Based VM-Execution
 * Controls", "NMIs" in chapter "VMX Non-Root Operation", "Interruptibility
 * State" in chapter "VM Entries"). `blocking` is the guest's blocking-by-
 * NMI bit as VM entry loaded it and IRET/delivery changed it: with
 * "virtual NMIs" 0 it is blocking by NMI, which holds a physical NMI
 * pending ("NMIs are blocked if bit 3 ... is 1"; with "NMI exiting" 1
 * "such blocking remains in effect as long as the logical processor is in
 * VMX non-root operation"); with "virtual NMIs" 1 it is virtual-NMI
 * blocking and "NMIs are not blocked in VMX non-root operation". True
 * when a pending NMI is held. */
bool vmx_nmi_held(const struct vmcs *v, bool blocking);
/* "NMI exiting": an NMI that is not held causes a VM exit instead of
 * being delivered through the guest IDT (descriptor 2). */
bool vmx_nmi_exits(const struct vmcs *v);
/* "Information for VM Exits Due to Vectored Events": exit reason 0, the
 * exit interruption information = vector 2, type 2 (NMI), valid (bit 12,
 * "NMI unblocking due to IRET", only for faults on IRET: 0), no error
 * code, qualification 0. */
void vmx_nmi_exit(struct vmx_exit_info *e);
/* "Updating Non-Register State" (chapter "VM Exits"): "VM exits caused
 * directly by non-maskable interrupts (NMIs) cause blocking by NMI ...
 * Other VM exits do not affect blocking by NMI." Blocking by NMI after the
 * exit, given the guest's `blocking` bit at the exit: set after an exit
 * for an NMI (exit reason 0, type 2); else the guest's blocking by NMI
 * with "virtual NMIs" 0, and none with "virtual NMIs" 1 (the bit was
 * virtual-NMI blocking, and NMIs were not blocked in non-root operation). */
bool vmx_nmi_blocking_after_exit(const struct vmcs *v, bool blocking, const struct vmx_exit_info *e);

/* "External Interrupts" (chapter "VMX Non-Root Operation"): with the
 * "external-interrupt exiting" pin-based control, an external interrupt
 * causes a VM exit (reason 1) whatever RFLAGS.IF is; without it the
 * interrupt is delivered through the guest IDT when the guest takes
 * interrupts. */
bool vmx_external_interrupt_exits(const struct vmcs *v);
/* "Information for VM Exits Due to Vectored Events": with the
 * "acknowledge interrupt on exit" VM-exit control the processor
 * acknowledges the interrupt controller on exit and the VM-exit
 * interruption information holds the vector (type 0, external interrupt,
 * valid); without it the interrupt stays pending and the field is
 * invalid. True when the exit acknowledges. */
bool vmx_exit_acknowledges_interrupt(const struct vmcs *v);
/* The exit of an external interrupt: `vector` only when `acknowledged`. */
void vmx_external_interrupt_exit(bool acknowledged, unsigned vector, struct vmx_exit_info *e);

/* "Interrupt-Window Exiting and Virtual-Interrupt Delivery": with
 * "interrupt-window exiting", a VM exit (reason 7) occurs before any
 * instruction at which RFLAGS.IF = 1 and there is no blocking by STI or
 * MOV SS (at VM entry after any injected event, or later when the guest
 * opens the window). These exits take priority over external
 * interrupts. */
bool vmx_interrupt_window_open(const struct vmcs *v, uint64_t rflags, bool sti_or_movss_blocking);

/* "Architectural State Before a VM Exit": whether the blocking by STI or
 * MOV SS in effect at the instruction boundary survives into the saved
 * interruptibility state. An event that causes the exit directly leaves it
 * (a CPUID in STI's shadow saves blocking by STI), except an x87 #MF; an
 * exit during event delivery (IDT-vectoring information valid) finds
 * none. */
bool vmx_exit_keeps_sti_movss_blocking(const struct vmx_exit_info *e);
void vmx_interrupt_window_exit(struct vmx_exit_info *e);

/* "Format of the VM-Exit Instruction-Information Field as Used for LIDT,
 * LGDT, SIDT, or SGDT" and "... for LLDT, LTR, SLDT, and STR": the
 * addressing form as for the VMX instructions (vmx_insn_info_encode, with
 * reg2 unused), operand size in bit 11 (GDTR/IDTR only: 0 = 16-bit,
 * 1 = 32-bit), instruction identity in 29:28 (SGDT/SLDT 0, SIDT/STR 1,
 * LGDT/LLDT 2, LIDT/LTR 3). */
uint32_t vmx_desc_table_insn_info(const struct vmx_insn_operands *o, bool gdtr_idtr, bool opsize32,
                                  unsigned identity);

/* ---- the world switch ----------------------------------------------------- */

struct vmx_msr_ops {
  bool (*rdmsr)(void *ctx, uint32_t index, uint64_t *value);
  bool (*wrmsr)(void *ctx, uint32_t index, uint64_t value);
  void *ctx;
};

/* SDM Vol. 3C, chapter "VM Entries", "Loading Guest State": control,
 * debug and MSR registers per the VM-entry controls, segments with their
 * hidden parts, GDTR/IDTR, RIP/RSP/RFLAGS, PDPTEs (from the VMCS with EPT,
 * else read from guest CR3 through `m`), interruptibility state. */
void vmx_load_guest_state(const struct vmcs *v, struct cpu_state *s, const struct vmx_mem_ops *m);
/* SDM Vol. 3C, chapter "VM Exits", "Saving Guest State". */
void vmx_save_guest_state(struct vmcs *v, const struct cpu_state *s);
/* SDM Vol. 3C, chapter "VM Exits", "Loading Host State" (the MSR-load list
 * is separate). `m` reads the host PDPTEs for a PAE host. */
void vmx_load_host_state(const struct vmcs *v, struct cpu_state *s, const struct vmx_mem_ops *m);
/* Writes the exit-information fields and clears the valid bit of the
 * VM-entry interruption-information field. */
void vmx_record_exit(struct vmcs *v, const struct vmx_exit_info *e);

/* MSR lists (16-byte entries: index 31:0, reserved 63:32, data 127:64).
 * Load returns 0 when every entry loaded, else the 1-based number of the
 * entry that failed; store returns false when an entry could not be
 * stored. SDM "Loading MSRs" (VM entry), "Saving MSRs" and "Loading MSRs"
 * (VM exit). */
unsigned vmx_msr_list_load(const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr, uint64_t pa, uint32_t count);
bool vmx_msr_list_store(const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr, uint64_t pa, uint32_t count);

/* A whole VM exit from non-root operation: records `e`, saves guest
 * state, stores the exit MSR-store list, loads host state and the exit
 * MSR-load list, and leaves non-root operation. Returns false on a VMX
 * abort (an MSR list could not be processed): the processor then shuts
 * down, and the abort indicator is written into the VMCS. */
bool vmx_vm_exit(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_exit_info *e,
                 const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr);
/* A VM entry whose checks passed (VMX_INSN_ENTERED): loads guest state and
 * the entry MSR-load list and enters non-root operation. If an MSR cannot
 * be loaded the entry fails (exit reason 34 with bit 31, qualification =
 * the entry's number), the launch state of a VMLAUNCH (`launch`) stays
 * clear, and the host state is back in *s: returns false. */
bool vmx_vm_enter(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_mem_ops *m, const struct vmx_msr_ops *msr,
                  bool launch);
/* After VMX_INSN_ENTRY_FAILED (reason and qualification already in the
 * VMCS): loads host state and the exit MSR-load list, as "VM-Entry
 * Failures During or After Loading Guest State" requires. */
bool vmx_entry_failed(struct vmx_cpu *x, struct cpu_state *s, const struct vmx_mem_ops *m,
                      const struct vmx_msr_ops *msr);

#endif
