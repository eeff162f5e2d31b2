/* "epyc-qemu": the model matching QEMU 7.2 TCG with `-cpu EPYC,+svm,+npt`.
 * QEMU's EPYC model asks for NPT and NRIP save, but TCG only implements a
 * few SVM features and filters NRIP save out: what the guest sees is SVM
 * revision 1, 16 ASIDs and nested paging alone (measured, ORACLES.md). No
 * flush by ASID, so TLB_CONTROL encodings 3 and 7 are reserved here — the
 * feature-dependent rules of the tests run against this model. TCG's
 * default physical-address width is 40 bits. */
#include "models/svm/features.h"
#include "sim/cpu_state.h"

const struct svm_features svm_features_epyc_qemu = {
  .name = "epyc-qemu",
  .description = "AMD EPYC as offered by QEMU 7.2 TCG (-cpu EPYC,+svm,+npt)",
  .svm_revision = 1,
  .nasid = 16,
  .feature_edx = SVM_FEAT_NP,
  .maxphyaddr = 40,
  .maxlinaddr = 48,
  .long_mode = true,
  .cr4_valid = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |
               CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE | CR4_SMEP |
               CR4_SMAP,
  .efer_valid = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSR,
};
