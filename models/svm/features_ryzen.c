/* "ryzen": the Zen-class model matching Bochs 2.7's `cpu: model=ryzen`
 * (bochs/cpu/cpudb/amd/ryzen.cc, an AMD Ryzen 7 1700): SVM revision 1,
 * 0x8000 ASIDs, nested paging, LBR virtualization, SVM lock, NRIP save,
 * flush by ASID and the PAUSE filter. Bochs leaves out TSC rate, VMCB clean
 * bits, decode assists and the filter threshold, and so does this model,
 * so guest-level tests observe the same CPUID on both. Physical addresses
 * are 40 bits wide as in Bochs's default build (BX_PHY_ADDRESS_WIDTH). */
#include "models/svm/features.h"
#include "sim/cpu_state.h"

const struct svm_features svm_features_ryzen = {
  .name = "ryzen",
  .description = "AMD Ryzen 7 1700 as modelled by Bochs 2.7 (cpu: model=ryzen)",
  .svm_revision = 1,
  .nasid = 0x8000,
  .feature_edx = SVM_FEAT_NP | SVM_FEAT_LBR_VIRT | SVM_FEAT_SVM_LOCK | SVM_FEAT_NRIP_SAVE |
                 SVM_FEAT_FLUSH_BY_ASID | SVM_FEAT_PAUSE_FILTER,
  .maxphyaddr = 40,
  .maxlinaddr = 48,
  .long_mode = true,
  /* Bochs enables FSGSBASE, SMEP, SMAP and XSAVE for ryzen; no PCID, UMIP,
   * LA57, PKE, CET (and no VMXE/SMXE on an AMD CPU). */
  .cr4_valid = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |
               CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE | CR4_SMEP |
               CR4_SMAP,
  .efer_valid = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSR,
};
