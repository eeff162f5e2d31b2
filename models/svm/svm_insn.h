/* The SVM instructions as functions over the vCPU state (sim/cpu_state.h):
 * VMRUN, #VMEXIT, VMLOAD, VMSAVE, STGI, CLGI, VMMCALL, INVLPGA, SKINIT,
 * with the faults of AMD APM Vol. 3 (instruction reference) and the rules
 * of AMD APM Vol. 2, "Secure Virtual Machine". The simulator calls them
 * when Unicorn reports the instruction (#UD hook), with the address of the
 * next instruction, and delivers the returned fault or world switch. */
#ifndef HVSIM_MODELS_SVM_SVM_INSN_H
#define HVSIM_MODELS_SVM_SVM_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/svm/features.h"
#include "models/svm/svm_msrs.h"
#include "models/svm/vmrun_checks.h"
#include "sim/cpu_state.h"

/* What the model needs from the machine: physical memory and the TLB.
 * read/write return false when the address is not backed by memory. */
struct svm_machine {
  void *ctx;
  bool (*read)(void *ctx, uint64_t pa, void *buf, size_t len);
  bool (*write)(void *ctx, uint64_t pa, const void *buf, size_t len);
  /* INVLPGA: drop the translation of va tagged with asid. */
  void (*invlpga)(void *ctx, uint64_t va, uint32_t asid);
};

/* SVM state of one vCPU beside its architectural registers. */
struct svm_vcpu {
  struct cpu_state *cpu;
  const struct svm_features *features;
  struct svm_msrs msrs;
  bool gif;              /* global interrupt flag; 1 after reset */
  bool in_guest;         /* between a successful VMRUN and #VMEXIT */
  uint64_t vmcb_pa;      /* the running guest's VMCB */
  struct svm_vmcb_control ctl; /* the guest's control area, read at VMRUN */
  uint64_t host_pat;     /* the host's PAT while a nested-paging guest runs
                            with G_PAT ("Nested Paging and VMRUN/#VMEXIT") */
};

/* An exit as the #VMEXIT writes it. has_nrip: the exit is one for which
 * NRIP is saved (instruction, MSR and IOIO intercepts, and exceptions
 * raised by INT3, INTO and BOUND); otherwise NRIP is written as zero (AMD
 * APM Vol. 2, "Next RIP"). */
struct svm_exit {
  uint64_t code, info1, info2;
  uint64_t intinfo;       /* EXITINTINFO: the event being delivered, if any */
  uint64_t nrip;
  bool has_nrip;
  /* The guest instruction bytes of a data #NPF or #PF on a CPU with decode
   * assists (svm_exit_has_insn_bytes); insn_len 0 for every other exit. */
  uint8_t insn_len;
  uint8_t insn_bytes[15];
};

void svm_vcpu_reset(struct svm_vcpu *v, struct cpu_state *cpu, const struct svm_features *f);

enum svm_outcome {
  SVM_DONE,        /* completed; RIP is at the next instruction (or the guest's) */
  SVM_FAULT,       /* deliver exception `vector` (error code 0 for #GP) */
  SVM_VMEXITED,    /* a #VMEXIT happened: host state loaded, EXITCODE in the VMCB */
  SVM_MEMORY_ERROR, /* a VMCB/HSAVE access hit unbacked memory (machine error) */
  SVM_NOT_IN_GUEST  /* svm_vmexit called in host mode: a caller bug, nothing done */
};

struct svm_result {
  enum svm_outcome outcome;
  uint8_t vector;             /* SVM_FAULT: 6 (#UD) or 13 (#GP) */
  uint64_t exitcode;          /* SVM_VMEXITED */
  enum svm_check_id check;    /* the failed VMRUN check when exitcode = -1 */
};

#define SVM_VEC_UD 6
#define SVM_VEC_GP 13

/* Each takes the address of the next instruction (for the saved host RIP
 * and NRIP). In guest mode an intercepted instruction ends in #VMEXIT. */
struct svm_result svm_vmrun(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_vmload(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_vmsave(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_stgi(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_clgi(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_vmmcall(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_invlpga(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);
struct svm_result svm_skinit(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip);

/* #VMEXIT from guest mode: guest state to the VMCB, host state back from
 * the HSAVE area, GIF cleared. next_rip is stored in NRIP when the model
 * has NRIP save. On a model with decode assists the number of instruction
 * bytes (VMCB 0D0h) is written on every #VMEXIT: e->insn_len and its bytes
 * for a data #NPF / #PF, zero for the others. */
struct svm_result svm_vmexit(struct svm_vcpu *v, const struct svm_machine *m, uint64_t exitcode,
                             uint64_t exitinfo1, uint64_t exitinfo2, uint64_t next_rip);

/* The general #VMEXIT: every field of `e`; svm_vmexit is this with
 * has_nrip set and no EXITINTINFO. */
struct svm_result svm_vmexit_ex(struct svm_vcpu *v, const struct svm_machine *m, const struct svm_exit *e);

/* Events that GIF = 0 holds pending (AMD APM Vol. 2, "Global Interrupt
 * Flag, STGI and CLGI Instructions"). */
enum svm_event { SVM_EV_INTR, SVM_EV_NMI, SVM_EV_SMI, SVM_EV_INIT, SVM_EV_VINTR };
bool svm_event_allowed_by_gif(const struct svm_vcpu *v, enum svm_event e);

#endif
