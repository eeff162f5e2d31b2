/* The SVM MSRs and their RDMSR/WRMSR rules: EFER.SVME, VM_CR (SVMDIS and
 * LOCK), VM_HSAVE_PA and TSC_RATIO (AMD APM Vol. 2, "SVM Related MSRs",
 * "Enabling SVM", "TSC Ratio MSR"). The simulator keeps one
 * struct svm_msrs per vCPU and routes these MSR numbers here. */
#ifndef HVSIM_MODELS_SVM_SVM_MSRS_H
#define HVSIM_MODELS_SVM_SVM_MSRS_H

#include <stdbool.h>
#include <stdint.h>

#include "models/svm/features.h"

#define MSR_EFER        0xC0000080u
#define MSR_TSC_RATIO   0xC0000104u
#define MSR_VM_CR       0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u

/* VM_CR bits (APM Vol. 2, "VM_CR MSR"). */
#define VM_CR_DPD      (1ull << 0)
#define VM_CR_R_INIT   (1ull << 1)
#define VM_CR_DIS_A20M (1ull << 2)
#define VM_CR_LOCK     (1ull << 3)
#define VM_CR_SVMDIS   (1ull << 4)
#define VM_CR_VALID    (VM_CR_DPD | VM_CR_R_INIT | VM_CR_DIS_A20M | VM_CR_LOCK | VM_CR_SVMDIS)

/* TSC_RATIO: 8.32 fixed point, bits 63:40 reserved; 1.0 after reset. */
#define TSC_RATIO_RESET    0x0000000100000000ull
#define TSC_RATIO_RESERVED 0xFFFFFF0000000000ull

struct svm_msrs {
  uint64_t vm_cr;
  uint64_t vm_hsave_pa;
  uint64_t tsc_ratio;
};

/* Outcome of an MSR access handled by the SVM model. */
enum svm_msr_result {
  SVM_MSR_OK,          /* done */
  SVM_MSR_GP,          /* #GP(0) */
  SVM_MSR_NOT_SVM,     /* not an SVM MSR: the caller handles it */
};

/* Power-on values. */
void svm_msrs_reset(struct svm_msrs *m);

/* RDMSR of VM_CR, VM_HSAVE_PA, TSC_RATIO. */
enum svm_msr_result svm_rdmsr(const struct svm_features *f, const struct svm_msrs *m,
                              uint32_t msr, uint64_t *value);

/* WRMSR of VM_CR, VM_HSAVE_PA, TSC_RATIO. *efer is the current EFER (VM_CR
 * rules depend on EFER.SVME). */
enum svm_msr_result svm_wrmsr(const struct svm_features *f, struct svm_msrs *m,
                              uint64_t efer, uint32_t msr, uint64_t value);

/* The SVM part of a WRMSR to EFER: #GP for bits the CPU does not implement
 * and for setting SVME while VM_CR.SVMDIS is 1. The caller applies the
 * long-mode rules of EFER writes. */
enum svm_msr_result svm_efer_write_check(const struct svm_features *f, const struct svm_msrs *m,
                                         uint64_t new_efer);

#endif
