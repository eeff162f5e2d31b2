/* RDMSR/WRMSR rules of the SVM MSRs. */
#include "models/svm/svm_msrs.h"

#include "sim/cpu_state.h"

void svm_msrs_reset(struct svm_msrs *m)
{
  m->vm_cr = 0;
  m->vm_hsave_pa = 0;
  m->tsc_ratio = TSC_RATIO_RESET;
}

enum svm_msr_result svm_rdmsr(const struct svm_features *f, const struct svm_msrs *m,
                              uint32_t msr, uint64_t *value)
{
  switch (msr) {
  case MSR_VM_CR: *value = m->vm_cr; return SVM_MSR_OK;
  case MSR_VM_HSAVE_PA: *value = m->vm_hsave_pa; return SVM_MSR_OK;
  case MSR_TSC_RATIO:
    /* The MSR exists only when CPUID Fn8000_000A_EDX[TscRateMsr] is 1. */
    if (!svm_has(f, SVM_FEAT_TSC_RATE)) return SVM_MSR_GP;
    *value = m->tsc_ratio;
    return SVM_MSR_OK;
  }
  return SVM_MSR_NOT_SVM;
}

/* APM Vol. 2, "VM_CR MSR": reserved bits are MBZ; setting SVMDIS while
 * EFER.SVME is 1 is #GP whatever LOCK says; with LOCK set, writes to LOCK
 * and SVMDIS are ignored (only the SVM_KEY MSR unlocks). */
static enum svm_msr_result write_vm_cr(struct svm_msrs *m, uint64_t efer, uint64_t value)
{
  if (value & ~VM_CR_VALID) return SVM_MSR_GP;
  if ((value & VM_CR_SVMDIS) && (efer & EFER_SVME)) return SVM_MSR_GP;
  if (m->vm_cr & VM_CR_LOCK) {
    const uint64_t locked = VM_CR_LOCK | VM_CR_SVMDIS;
    value = (value & ~locked) | (m->vm_cr & locked);
  }
  m->vm_cr = value;
  return SVM_MSR_OK;
}

/* APM Vol. 2, "VM_HSAVE_PA MSR": a 4 KiB-aligned physical address; bits
 * 11:0 and bits at or above MAXPHYADDR are MBZ (#GP, as KVM also enforces). */
static enum svm_msr_result write_hsave(const struct svm_features *f, struct svm_msrs *m,
                                       uint64_t value)
{
  if (value & 0xFFFu) return SVM_MSR_GP;
  if (value & svm_pa_mbz_mask(f)) return SVM_MSR_GP;
  m->vm_hsave_pa = value;
  return SVM_MSR_OK;
}

/* APM Vol. 2, "TSC Ratio MSR (C000_0104h)": bits 63:40 reserved, #GP when
 * set; the MSR does not exist without the TscRateMsr feature. */
static enum svm_msr_result write_tsc_ratio(const struct svm_features *f, struct svm_msrs *m,
                                           uint64_t value)
{
  if (!svm_has(f, SVM_FEAT_TSC_RATE)) return SVM_MSR_GP;
  if (value & TSC_RATIO_RESERVED) return SVM_MSR_GP;
  m->tsc_ratio = value;
  return SVM_MSR_OK;
}

enum svm_msr_result svm_wrmsr(const struct svm_features *f, struct svm_msrs *m,
                              uint64_t efer, uint32_t msr, uint64_t value)
{
  switch (msr) {
  case MSR_VM_CR: return write_vm_cr(m, efer, value);
  case MSR_VM_HSAVE_PA: return write_hsave(f, m, value);
  case MSR_TSC_RATIO: return write_tsc_ratio(f, m, value);
  }
  return SVM_MSR_NOT_SVM;
}

/* APM Vol. 2, "Enabling SVM": with VM_CR.SVMDIS set, EFER.SVME is MBZ. */
enum svm_msr_result svm_efer_write_check(const struct svm_features *f, const struct svm_msrs *m,
                                         uint64_t new_efer)
{
  if (new_efer & ~f->efer_valid) return SVM_MSR_GP;
  if ((new_efer & EFER_SVME) && (m->vm_cr & VM_CR_SVMDIS)) return SVM_MSR_GP;
  return SVM_MSR_OK;
}
