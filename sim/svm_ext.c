/* The SVM extension of the machine (sim/virt.h) over models/svm: AMD
 * models' SVM MSRs (VM_CR, VM_HSAVE_PA, TSC_RATIO), EFER.SVME and CPUID
 * Fn8000_000A so far. SVM instructions, VMRUN and #VMEXIT are wired here
 * next. */
#include <stdlib.h>

#include "models/svm/features.h"
#include "models/svm/svm_msrs.h"
#include "sim/machine.h"
#include "sim/virt.h"

struct svm_ext {
  const struct svm_features *features;
  struct svm_msrs msrs;
};

static struct svm_ext *ext(struct machine *m) { return m->virt_state; }

static enum virt_msr_result from_svm(enum svm_msr_result r)
{
  switch (r) {
  case SVM_MSR_OK: return VIRT_MSR_OK;
  case SVM_MSR_GP: return VIRT_MSR_GP;
  case SVM_MSR_NOT_SVM: return VIRT_MSR_NOT_MINE;
  }
  return VIRT_MSR_GP;
}

static enum virt_msr_result svm_ext_rdmsr(struct machine *m, uint32_t index, uint64_t *value)
{
  if (index == MSR_EFER) return VIRT_MSR_NOT_MINE;
  return from_svm(svm_rdmsr(ext(m)->features, &ext(m)->msrs, index, value));
}

/* EFER keeps its long-mode rules in the machine (sim/msr.c); the SVM model
 * adds "Enabling SVM": SVME cannot be set while VM_CR.SVMDIS is 1. */
static enum virt_msr_result svm_ext_wrmsr(struct machine *m, uint32_t index, uint64_t value)
{
  struct svm_ext *x = ext(m);
  if (index == MSR_EFER)
    return svm_efer_write_check(x->features, &x->msrs, value) == SVM_MSR_GP ? VIRT_MSR_GP : VIRT_MSR_NOT_MINE;
  return from_svm(svm_wrmsr(x->features, &x->msrs, m->cpu.efer, index, value));
}

/* CPUID Fn8000_000A from the SVM model (APM Vol. 3, "CPUID Fn8000_000A"). */
static void svm_ext_cpuid(struct machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
  (void)subleaf;
  if (leaf != 0x8000000a) return;
  const struct svm_features *f = ext(m)->features;
  out[0] = f->svm_revision;
  out[1] = f->nasid;
  out[2] = 0;
  out[3] = f->feature_edx;
}

static void svm_ext_destroy(struct machine *m)
{
  free(m->virt_state);
  m->virt_state = NULL;
}

static const struct virt_ops svm_ops = {
  .name = "svm",
  .rdmsr = svm_ext_rdmsr,
  .wrmsr = svm_ext_wrmsr,
  .cpuid = svm_ext_cpuid,
  .destroy = svm_ext_destroy,
};

bool svm_ext_attach(struct machine *m, const char *model, char *err, size_t err_size)
{
  const struct svm_features *f = svm_features_by_name(model);
  if (!f) { snprintf(err, err_size, "CPU model %s: no SVM feature model \"%s\"", m->opt.cpu->name, model); return false; }
  struct svm_ext *x = calloc(1, sizeof *x);
  if (!x) { snprintf(err, err_size, "out of memory"); return false; }
  x->features = f;
  svm_msrs_reset(&x->msrs);
  m->virt = &svm_ops;
  m->virt_state = x;
  return true;
}
