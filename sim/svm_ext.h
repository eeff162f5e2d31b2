/* Private to the SVM extension of the machine (sim/svm_*.c): its state and
 * the functions its files share. The machine sees only sim/virt.h. */
#ifndef HVSIM_SIM_SVM_EXT_H
#define HVSIM_SIM_SVM_EXT_H

#include "models/svm/svm_catalog.h"
#include "models/svm/svm_exits.h"
#include "models/svm/svm_insn.h"
#include "sim/irq.h"
#include "sim/machine.h"
#include "sim/sysinsn.h"

struct svm_ext {
  const struct svm_features *features;
  /* The model's vCPU: MSRs (VM_CR, VM_HSAVE_PA, TSC_RATIO), GIF, guest
   * mode, the running guest's VMCB and control area. cpu = &m->cpu. */
  struct svm_vcpu vcpu;
  struct svm_machine mem;        /* the machine's RAM as physical memory */
  /* Nested paging walks in the host's paging mode as VMRUN found it. */
  uint64_t host_cr4, host_efer;
  uint16_t asid;                 /* the TLB tag in use: the guest's ASID, 0 in the host */
  bool injecting;                /* delivering EVENTINJ: not subject to intercepts */
  bool host_if;                  /* the host's RFLAGS.IF at VMRUN (masks physical
                                    interrupts under V_INTR_MASKING) */
  /* The PAUSE filter VMRUN loaded; its threshold measures cycles as
   * m->insns (the TSC ticks once per instruction). */
  struct svm_pause_filter pause_filter;
  uint64_t vmruns, invalid_vmruns;
  uint64_t exits[SVM_EXIT_COUNT];
};

static inline struct svm_ext *svm_ext_of(struct machine *m) { return m->virt_state; }

/* [loop] Carries out VMRUN, VMLOAD, VMSAVE, STGI, CLGI, VMMCALL, INVLPGA,
 * SKINIT (sim/svm_world.c). */
bool svm_ext_execute(struct machine *m, struct insn *in);
/* [loop] #VMEXIT with everything `e` says, and the machine's side of it. */
void svm_ext_vmexit(struct machine *m, const struct svm_exit *e);
/* [hook][loop] The guest's translation context: ASID tag, NPT root. */
void svm_ext_paging_context(struct machine *m, struct mmu_context *ctx);

/* Intercepts (sim/svm_intercepts.c). */
bool svm_ext_insn_exits(struct machine *m, struct insn *in);
bool svm_ext_io_exits(struct machine *m, uint16_t port, unsigned size, bool is_in);
void svm_ext_exit_for_insn(struct machine *m, struct insn *in);
bool svm_ext_event_exits(struct machine *m, const struct pending_event *ev);
void svm_ext_slat_fault(struct machine *m, const struct mmu_fault *f, uint64_t la);
bool svm_ext_shutdown(struct machine *m);
bool svm_ext_ferr_freeze(struct machine *m);
unsigned svm_ext_hook_classes(struct machine *m);

/* Interrupts: physical ones (sim/svm_intercepts.c) and the virtual one,
 * V_IRQ (sim/svm_world.c); the virt_ops of the same names. */
bool svm_ext_interrupts_held(struct machine *m);
bool svm_ext_breakpoints_discarded(struct machine *m);
bool svm_ext_interrupt_would_exit(struct machine *m);
bool svm_ext_interrupt_exits(struct machine *m);
bool svm_ext_window_wanted(struct machine *m);
bool svm_ext_window_open(struct machine *m);

/* Physical NMIs (sim/svm_intercepts.c; struct irq_nmi_ops, sim/irq.h) and
 * the IRET that ends blocking by NMI (virt_ops.iret); the extension's
 * deadline is a pending NMI's (irq_nmi_deadline). */
bool svm_ext_nmi_held(struct machine *m);
bool svm_ext_nmi_exits(struct machine *m);
void svm_ext_iret(struct machine *m, struct insn *in);
uint64_t svm_ext_deadline(struct machine *m);
/* SMI and INIT (sim/svm_intercepts.c; struct irq_nmi_ops). */
bool svm_ext_signal_held(struct machine *m, enum irq_signal s);
bool svm_ext_signal_exits(struct machine *m, enum irq_signal s, char *why, size_t n);

#endif
