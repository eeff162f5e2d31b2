/* System instructions carried out by the model. One table lists every
 * instruction the machine intercepts and its handler. */
#ifndef HVSIM_SIM_SYSINSN_H
#define HVSIM_SIM_SYSINSN_H

#include <Zydis/Zydis.h>
#include <stdbool.h>

#include "sim/uc_bridge.h"

struct machine;

struct insn {
  struct machine *m;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];   /* past zi.operand_count: undefined */
  uint64_t rip, next_rip;
  struct cpu_mode mode;
};

enum insn_result {
  INSN_NEXT,      /* done: continue at next_rip */
  INSN_FAULTED,   /* an exception was raised; RIP stays at the instruction */
  INSN_STOPPED,   /* the run stops here (HLT with nothing to wake it, ...) */
  INSN_DEFERRED,  /* carried out with the whole state in hand (machine_take_up_in_hook) */
  INSN_EXIT,      /* the hypervisor intercepts it: a VM exit, the same way */
  INSN_NATIVE,    /* checked; Unicorn carries it out (string port I/O,
                   * descriptor-table loads and stores, RSM) */
};

/* The virtualization extensions' instructions: deferred, then carried out
 * by the extension on the whole state (virt_ops.execute) or #UD. Hooking
 * them keeps Unicorn from raising its own #UD first. */
#define VIRT_INSTRUCTIONS(X)                                                               \
  X(VMXON, insn_defer) X(VMXOFF, insn_defer) X(VMCLEAR, insn_defer) X(VMPTRLD, insn_defer) \
  X(VMPTRST, insn_defer) X(VMREAD, insn_defer) X(VMWRITE, insn_defer)                      \
  X(VMLAUNCH, insn_defer) X(VMRESUME, insn_defer) X(INVEPT, insn_defer)                    \
  X(INVVPID, insn_defer) X(VMCALL, insn_defer) X(VMFUNC, insn_defer)                       \
  X(VMRUN, insn_defer) X(VMLOAD, insn_defer) X(VMSAVE, insn_defer) X(STGI, insn_defer)     \
  X(CLGI, insn_defer) X(VMMCALL, insn_defer) X(INVLPGA, insn_defer) X(SKINIT, insn_skinit)

/* X(mnemonic, handler) — the instructions the model owns. */
#define SYSINSN_TABLE(X)          \
  X(CPUID, insn_cpuid)            \
  X(MOV, insn_mov_cr_dr)          \
  X(RDMSR, insn_rdmsr)            \
  X(WRMSR, insn_wrmsr)            \
  X(HLT, insn_hlt)                \
  X(INVLPG, insn_invlpg)          \
  X(INVPCID, insn_invpcid)        \
  X(RDTSC, insn_rdtsc)            \
  X(RDTSCP, insn_rdtscp)          \
  X(RDPMC, insn_rdpmc)            \
  X(WBINVD, insn_cache_flush)     \
  X(INVD, insn_cache_flush)       \
  X(CLTS, insn_clts)              \
  X(LMSW, insn_lmsw)              \
  X(SMSW, insn_smsw)              \
  X(XSETBV, insn_xsetbv)          \
  X(MONITOR, insn_monitor)        \
  X(MWAIT, insn_mwait)            \
  X(RDRAND, insn_rdrand)          \
  X(RDSEED, insn_rdrand)          \
  X(SYSCALL, insn_defer)          \
  X(SYSRET, insn_defer)           \
  X(SYSENTER, insn_defer)         \
  X(SYSEXIT, insn_defer)          \
  VIRT_INSTRUCTIONS(X)            \
  X(IN, insn_port_io)           \
  X(OUT, insn_port_io)          \
  X(INSB, insn_port_io)         \
  X(INSW, insn_port_io)         \
  X(INSD, insn_port_io)         \
  X(OUTSB, insn_port_io)        \
  X(OUTSW, insn_port_io)        \
  X(OUTSD, insn_port_io)         \
  X(PAUSE, insn_pause)           \
  X(LGDT, insn_desc_table)       \
  X(LIDT, insn_desc_table)       \
  X(SGDT, insn_desc_table)       \
  X(SIDT, insn_desc_table)       \
  X(LLDT, insn_desc_table)       \
  X(LTR, insn_desc_table)        \
  X(SLDT, insn_desc_table)       \
  X(STR, insn_desc_table)        \
  X(INT1, insn_icebp)            \
  X(RSM, insn_native)            \
  X(RDPRU, insn_rdpru)           \
  FP_CONTROL_LOADS(X)

/* Loads of the x87 control word, its environment and MXCSR: they can
 * unmask an exception or load a pending x87 error in the middle of a
 * translation block, after the block hook looked (sim/fpu_except.h). */
#define FP_CONTROL_LOADS(X)                                                                   \
  X(FLDCW, insn_fp_control) X(FLDENV, insn_fp_control) X(FRSTOR, insn_fp_control)             \
  X(LDMXCSR, insn_fp_control) X(FXRSTOR, insn_fp_control) X(FXRSTOR64, insn_fp_control)       \
  X(XRSTOR, insn_fp_control) X(XRSTOR64, insn_fp_control)

/* Instructions too common to hook everywhere: hooked only in code that
 * runs while the extension wants their class (virt_ops.hook_classes; SVM's
 * IRET, PUSHF and POPF intercepts; far JMP and CALL, which can start a
 * task switch, under SVM's task-switch intercept and in VMX non-root
 * operation — of JMP and CALL only the far forms, EA, 9A, FF /3 and
 * FF /5, are hooked: sysinsn_hooked). X(mnemonic, handler, class) */
enum hook_class { HOOK_CLASS_IRET = 1u << 0, HOOK_CLASS_PUSHF_POPF = 1u << 1, HOOK_CLASS_FAR_BRANCH = 1u << 2 };
#define CONDITIONAL_SYSINSN_TABLE(X)                                                          \
  X(IRET, insn_iret, HOOK_CLASS_IRET) X(IRETD, insn_iret, HOOK_CLASS_IRET)                  \
  X(IRETQ, insn_iret, HOOK_CLASS_IRET) X(PUSHF, insn_native, HOOK_CLASS_PUSHF_POPF)         \
  X(PUSHFD, insn_native, HOOK_CLASS_PUSHF_POPF) X(PUSHFQ, insn_native, HOOK_CLASS_PUSHF_POPF) \
  X(POPF, insn_native, HOOK_CLASS_PUSHF_POPF) X(POPFD, insn_native, HOOK_CLASS_PUSHF_POPF)    \
  X(POPFQ, insn_native, HOOK_CLASS_PUSHF_POPF) X(JMP, insn_native, HOOK_CLASS_FAR_BRANCH)     \
  X(CALL, insn_native, HOOK_CLASS_FAR_BRANCH)

#define X(mn, fn) enum insn_result fn(struct insn *in);
SYSINSN_TABLE(X)
#undef X
/* IRET: the extension sees it (virt_ops.iret), then Unicorn carries it out. */
enum insn_result insn_iret(struct insn *in);

/* The handler for a decoded instruction, or NULL when the model does not
 * own it (an instruction a stale hook found where code was rewritten). */
typedef enum insn_result (*insn_handler)(struct insn *in);
insn_handler sysinsn_handler(const struct insn *in);

/* Should the instruction decoded as `zi` (operands not needed) be hooked,
 * with the conditional `classes` wanted? */
bool sysinsn_hooked(const ZydisDecodedInstruction *zi, unsigned classes);

/* A Zydis decoder for code of `mode`'s size. */
void insn_decoder_init(ZydisDecoder *dec, const struct cpu_mode *mode);
/* Decodes the instruction at `rip` in the current mode. */
bool insn_decode(struct machine *m, uint64_t rip, struct insn *in);
uint64_t insn_operand_linear(struct insn *in, const ZydisDecodedOperand *op);
/* The base of segment register `seg` as the instruction sees it. */
uint64_t insn_segment_base(struct insn *in, ZydisRegister seg);
/* Raise #UD / #GP(0) for the instruction: INSN_FAULTED. */
enum insn_result insn_ud(struct insn *in);
enum insn_result insn_gp0(struct insn *in);

/* Unicorn reports a faulting access by page only, and a non-canonical one
 * not at all; the architecture wants the exact linear address (CR2) and
 * #SS rather than #GP for stack-segment references. Finds the memory
 * operand of the instruction at `rip` that touches `page` (UINT64_MAX: the
 * first memory operand). */
bool insn_fault_address(struct machine *m, uint64_t rip, uint64_t page, uint64_t *la, bool *stack);

/* A far JMP or CALL (EA, 9A, FF /3, FF /5) in protected mode outside
 * IA-32e mode whose target is an available TSS or a task gate, past the
 * checks that fault before a task switch could become a VM exit (SDM Vol.
 * 3C, "Task Switches"): true with the selector of the TSS switched to (a
 * task gate's TSS selector). false: no task switch (an ordinary far
 * transfer, a fault, another mode). Reads the live state: usable inside a
 * hook and in the run loop. */
bool insn_far_task_switch(struct insn *in, uint16_t *tss_selector);
/* An IRET (IRETD) with RFLAGS.NT = 1 in protected mode outside IA-32e
 * mode whose back link (the current TSS's first word) names a busy TSS
 * that passes the same checks: true with that selector. */
bool insn_iret_task_switch(struct insn *in, uint16_t *tss_selector);

/* RDPRU exists when CPUID Fn8000_0008 EBX bit 4 is set (AMD APM Vol. 3,
 * "RDPRU"); register IDs: 0 MPERF, 1 APERF. */
#define CPUIDX8_EBX_RDPRU (1u << 4)
enum { RDPRU_ID_MPERF = 0, RDPRU_ID_APERF = 1 };

/* ---- the address-range monitor (MONITOR / MWAIT) -------------------------
 * SDM Vol. 2B, "MONITOR—Set Up Monitor Address", "MWAIT—Monitor Wait"; SDM
 * Vol. 3A, "Monitor/Mwait Address Range Determination" and the MONITOR/
 * MWAIT section of "Multiple-Processor Management"; AMD APM Vol. 3,
 * "MONITOR", "MWAIT". MONITOR arms the monitor on the physical line of
 * DS:rAX; a store to that line, the completion of an MWAIT, or a write of
 * CR0, CR3 or CR4 (an architectural TLB invalidation) disarms it. MWAIT
 * on this single-CPU machine never waits: a store by another agent cannot
 * come, and "implementation-dependent events" may end the wait at once
 * (the architecture allows a wake-up without cause), so it completes and
 * disarms. The extensions ask whether the monitor is armed for SVM's
 * MWAIT_COND intercept and VMX's MWAIT exit qualification. */
#define CPUID1_ECX_MONITOR (1u << 3)
/* The monitored line: CPUID.05H:EBX[15:0] ("largest monitor-line size"),
 * or, on models without leaf 05H, the cache line (CLFLUSH size). */
#define MONITOR_LINE_DEFAULT 64u

bool sysinsn_monitor_armed(const struct machine *m);
/* Disarms the monitor (no-op when it is not armed). */
void sysinsn_monitor_disarm(struct machine *m);

/* SKINIT's simple exceptions (AMD APM Vol. 3, "SKINIT"): VEC_UD outside
 * protected mode, or with EFER.SVME = 0 on a processor with neither
 * SVM-Lock (CPUID Fn8000_000A EDX[2]) nor SKINIT/DEV (Fn8000_0001
 * ECX[12]); VEC_GP at CPL > 0; else 0. They come before the SKINIT
 * intercept (AMD APM Vol. 2, "Instruction Intercepts"), which
 * sim/svm_intercepts.c asks only when this is 0. */
#define CPUIDX1_ECX_SKINIT (1u << 12)
#define CPUIDXA_EDX_SVML (1u << 2)
uint8_t sysinsn_skinit_fault(struct machine *m, const struct insn *in);

/* CPUID as the CPU model answers it (also used by UC_HOOK_INSN). */
void sysinsn_cpuid(struct machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
