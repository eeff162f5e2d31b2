/* The VMX instructions' architectural rules (SDM Vol. 3C, "VMX Instruction
 * Reference"): VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * VMLAUNCH, VMRESUME, INVEPT, INVVPID, VMCALL and VMFUNC in VMX root
 * operation, over the vCPU state (sim/cpu_state.h) and a physical-memory
 * interface defined here.
 *
 * Division of labour: the simulator decodes the instruction (Zydis),
 * fetches memory operands through paging (raising #GP/#SS/#PF for bad
 * effective addresses itself) and passes their values; the model decides
 * #UD / #GP(0) / VM exit / VMsucceed / VMfailInvalid / VMfailValid(n),
 * updates the VMX state and the current VMCS, and the simulator applies
 * the result (vmx_insn_apply_rflags, stores VMPTRST/VMREAD destinations,
 * performs the VM entry). In VMX non-root operation every instruction here
 * reports VMX_INSN_VMEXIT; the exit itself belongs to the VM-exit model. */
#ifndef HVSIM_MODELS_VMX_VMX_INSN_H
#define HVSIM_MODELS_VMX_VMX_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vmx/caps.h"
#include "models/vmx/entry_checks.h"
#include "models/vmx/vmcs.h"
#include "sim/cpu_state.h"

/* Guest-physical (for L1: host-physical) memory, provided by the machine. */
struct vmx_mem_ops {
  bool (*read)(void *ctx, uint64_t pa, void *buf, size_t len);
  bool (*write)(void *ctx, uint64_t pa, const void *buf, size_t len);
  /* Would WRMSR(index, value) succeed (VM-entry MSR loading)? NULL: yes. */
  bool (*wrmsr_ok)(void *ctx, uint32_t index, uint64_t value);
  /* INVEPT / INVVPID effects on the machine's TLB; NULL: nothing cached. */
  void (*invalidate)(void *ctx, int instruction, uint64_t type, uint64_t tag, uint64_t addr);
  void *ctx;
};

/* "PAUSE-loop exiting" (SDM Vol. 3C, "Instructions That Cause VM Exits
 * Conditionally", PAUSE): the times of the previous PAUSE at CPL 0 and of
 * the PAUSE last considered the first in a loop, measured with a counter
 * that runs at the TSC's rate. `seen` is false until the first such
 * PAUSE after VM entry (which is always the first in a loop). */
struct vmx_pause_loop {
  bool seen;
  uint64_t last, first;
};

/* The VMX state of one logical processor. */
struct vmx_cpu {
  const struct vmx_caps *caps;
  uint64_t feature_control;  /* IA32_FEATURE_CONTROL */
  bool in_smx;               /* SMX operation (GETSEC[SENTER]) */
  bool vmx_operation;        /* after VMXON, before VMXOFF */
  bool non_root;             /* VMX non-root operation (a guest runs) */
  uint64_t vmxon_ptr;
  uint64_t current_vmcs_ptr; /* VMX_INVALID_PTR when none */
  struct vmcs current;       /* cache of the current VMCS */
  struct vmx_pause_loop ple; /* PAUSE-loop exiting, reset by VM entry */
  struct vmx_entry_result last_entry; /* of the last VMLAUNCH/VMRESUME's checks */
};
#define VMX_INVALID_PTR (~0ull)

enum vmx_insn_outcome {
  VMX_INSN_SUCCEED,       /* VMsucceed: CF, PF, AF, ZF, SF, OF cleared */
  VMX_INSN_FAIL_INVALID,  /* VMfailInvalid: CF set */
  VMX_INSN_FAIL_VALID,    /* VMfailValid(error): ZF set, error in the current VMCS */
  VMX_INSN_UD,            /* #UD */
  VMX_INSN_GP,            /* #GP(0) */
  VMX_INSN_VMEXIT,        /* VMX non-root operation: VM exit */
  VMX_INSN_ENTERED,       /* VMLAUNCH/VMRESUME: checks passed, the VM entry proceeds */
  VMX_INSN_ENTRY_FAILED,  /* VM-entry failure (exit reason 33/34): continue at host RIP */
  VMX_INSN_DONE,          /* completed without VMX status flags (VMFUNC) */
};

struct vmx_insn_result {
  enum vmx_insn_outcome outcome;
  unsigned error;              /* VM-instruction error of VMX_INSN_FAIL_VALID */
  uint64_t value;              /* VMREAD / VMPTRST result */
  /* VMLAUNCH/VMRESUME past their own checks: the VM-entry checks' result
   * (in the vCPU: it carries a message), else NULL. */
  const struct vmx_entry_result *entry;
};

enum vmx_insn {
  VMX_INSN_VMXON, VMX_INSN_VMXOFF, VMX_INSN_VMCLEAR, VMX_INSN_VMPTRLD, VMX_INSN_VMPTRST,
  VMX_INSN_VMREAD, VMX_INSN_VMWRITE, VMX_INSN_VMLAUNCH, VMX_INSN_VMRESUME, VMX_INSN_INVEPT,
  VMX_INSN_INVVPID, VMX_INSN_VMCALL, VMX_INSN_VMFUNC,
};

void vmx_cpu_init(struct vmx_cpu *x, const struct vmx_caps *caps);

/* `operand` is the 64-bit value of the memory operand (a physical address)
 * for VMXON, VMCLEAR, VMPTRLD. `reg_operand` is true when the ModR/M form
 * names a register where the instruction needs memory (#UD). */
struct vmx_insn_result vmx_vmxon(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                 bool reg_operand, uint64_t operand);
struct vmx_insn_result vmx_vmxoff(struct vmx_cpu *x, const struct cpu_state *s);
struct vmx_insn_result vmx_vmclear(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                   bool reg_operand, uint64_t operand);
struct vmx_insn_result vmx_vmptrld(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                   bool reg_operand, uint64_t operand);
struct vmx_insn_result vmx_vmptrst(struct vmx_cpu *x, const struct cpu_state *s, bool reg_operand);
/* `encoding` is the register operand; the operand size is 64 bits in
 * 64-bit mode and 32 bits otherwise. */
struct vmx_insn_result vmx_vmread(struct vmx_cpu *x, const struct cpu_state *s, uint64_t encoding);
struct vmx_insn_result vmx_vmwrite(struct vmx_cpu *x, const struct cpu_state *s, uint64_t encoding, uint64_t value);
/* VMLAUNCH (resume = false) and VMRESUME: instruction rules, then every
 * VM-entry check (entry_checks.h). On VMX_INSN_ENTERED the current VMCS is
 * marked launched; on VMX_INSN_ENTRY_FAILED the exit reason and
 * qualification are stored in it. */
struct vmx_insn_result vmx_vmlaunch(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                    bool resume);
/* `type` is the register operand, `desc` the 128-bit memory descriptor
 * (desc[0] bits 63:0, desc[1] bits 127:64). */
struct vmx_insn_result vmx_invept(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                  bool reg_operand, uint64_t type, const uint64_t desc[2]);
struct vmx_insn_result vmx_invvpid(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                   bool reg_operand, uint64_t type, const uint64_t desc[2]);
struct vmx_insn_result vmx_vmcall(struct vmx_cpu *x, const struct cpu_state *s);
struct vmx_insn_result vmx_vmfunc(struct vmx_cpu *x, const struct cpu_state *s);
/* VMFUNC with its operands (EAX = function, ECX = EPTP-list index): #UD
 * outside non-root operation or without "enable VM functions"; a VM exit
 * (reason 59) for a function not enabled in the VM-function controls or
 * an EPTP switch that cannot be done; VMX_INSN_DONE when EPTP switching
 * loaded EPT_POINTER from the EPTP list. SDM Vol. 3C, "VM Functions",
 * "EPTP Switching". */
struct vmx_insn_result vmx_vmfunc_execute(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                          uint32_t eax, uint32_t ecx);
/* VMREAD / VMWRITE in VMX non-root operation with "VMCS shadowing" (SDM
 * Vol. 3C, "VMCS Shadowing"; "VMREAD", "VMWRITE"): true when the
 * instruction accesses the shadow VMCS (the one the VMCS link pointer
 * references) instead of exiting — the encoding's bits 63:15 are 0 and its
 * bit in the VMREAD (VMWRITE) bitmap is 0. */
bool vmx_shadow_access(const struct vmx_cpu *x, const struct vmx_mem_ops *m, uint64_t encoding, bool write);
/* The shadow accesses themselves, after vmx_shadow_access said so: #GP(0)
 * at CPL > 0, VMfailInvalid for a link pointer of FFFFFFFF_FFFFFFFFH,
 * VMfailValid(12/13) (recorded in the current VMCS), else the field of the
 * shadow VMCS in memory. */
struct vmx_insn_result vmx_vmread_shadow(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                         uint64_t encoding);
struct vmx_insn_result vmx_vmwrite_shadow(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                          uint64_t encoding, uint64_t value);

/* An EPTP a VM entry, INVEPT or EPTP switching accepts on this model:
 * supported memory type and walk length, A/D only when supported, no
 * reserved bits ("Checks on VMX Controls", EPT-pointer rules). */
bool vmx_eptp_valid(const struct vmx_caps *caps, uint64_t eptp);

/* The checks an instruction makes before it touches its operands (#UD,
 * VM exit in non-root operation, #GP(0)), in the order of its "Operation"
 * section. VMX_INSN_SUCCEED: the instruction goes on to read its operands
 * and the full function decides; any other outcome is final. Lets the
 * simulator read a memory operand only when the instruction would (a
 * #PF must not win over an earlier #UD or #GP). */
struct vmx_insn_result vmx_insn_precheck(const struct vmx_cpu *x, const struct cpu_state *s, enum vmx_insn insn);

/* Applies VMsucceed / VMfailInvalid / VMfailValid to RFLAGS; other
 * outcomes leave RFLAGS alone. */
void vmx_insn_apply_rflags(struct cpu_state *s, const struct vmx_insn_result *r);

#endif
