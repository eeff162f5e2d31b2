/* Internals shared by the SVM backend's files (svm.c: exits and
 * operations; svm_setup.c: enabling SVM and the VMCB set-up). */
#ifndef HV_SVM_SVM_IMPL_H
#define HV_SVM_SVM_IMPL_H

#include "hv/core/hv.h"
#include "hv/svm/vmcb.h"

#define MSR_EFER        0xc0000080u
#define MSR_VM_CR       0xc0010114u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define VM_CR_SVMDIS    (1ull << 4)

/* CPUID Fn8000_000A_EDX (APM Vol. 3): optional SVM features hv uses. */
#define SVM_FEAT_NRIPS          (1u << 3)
#define SVM_FEAT_DECODE_ASSISTS (1u << 7)

struct svm_state {
    uint64_t vmcb_pa, hsave_pa, iopm_pa, msrpm_pa, ncr3;
    struct vmcb *vmcb;
    bool nrips, decode_assists, flush_pending;
    uint64_t cr2_held;       /* the processor's CR2 after the last #VMEXIT */
    bool cr2_held_valid;
    bool vmload_state_live;  /* the processor holds the guest's VMLOAD state (svm_run) */
};
extern struct svm_state hv_svm;

bool hv_svm_probe(void);
bool hv_svm_setup(struct hv_vcpu *v);   /* svm_setup.c */
void hv_svm_set_cr(struct hv_vcpu *v, int cr);
void hv_svm_reset_exit_counts(void);

#endif
