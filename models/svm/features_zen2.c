/* "zen2": a Zen 2 class model (AMD EPYC 7002 / Ryzen 3000) with the SVM
 * features hvsim implements and neither oracle offers: decode assists
 * (AMD APM Vol. 2, "Decode Assists") and VMCB clean bits ("VMCB State
 * Caching": the model reloads every field at VMRUN, which the APM allows),
 * beside what ryzen has (nested paging, LBR virtualization, SVM lock, NRIP
 * save, flush by ASID, the PAUSE filter) and the PAUSE filter threshold
 * ("Pause Intercept Filtering"). Real Zen 2 parts also report TSC rate,
 * AVIC, virtual VMSAVE/VMLOAD and vGIF; hvsim does not model them, so this
 * model does not claim them. The
 * machine's `--cpu zen2` (sim/cpu_models.c) adds RDPRU. No oracle reproduces
 * this model: Bochs 2.7 lists decode assists as "not implemented yet" in
 * every AMD model and QEMU 7.2 TCG filters them out, so the oracle-matching
 * models (ryzen, epyc-qemu) lack them. */
#include "models/svm/features.h"
#include "sim/cpu_state.h"

const struct svm_features svm_features_zen2 = {
  .name = "zen2",
  .description = "AMD Zen 2 class with decode assists, VMCB clean bits and the PAUSE filter threshold (no oracle)",
  .svm_revision = 1,
  .nasid = 0x8000,
  .feature_edx = SVM_FEAT_NP | SVM_FEAT_LBR_VIRT | SVM_FEAT_SVM_LOCK | SVM_FEAT_NRIP_SAVE |
                 SVM_FEAT_VMCB_CLEAN | SVM_FEAT_FLUSH_BY_ASID | SVM_FEAT_DECODE_ASSISTS |
                 SVM_FEAT_PAUSE_FILTER | SVM_FEAT_PAUSE_FILTER_THRESHOLD,
  .maxphyaddr = 40,
  .maxlinaddr = 48,
  .long_mode = true,
  .cr4_valid = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |
               CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE | CR4_SMEP |
               CR4_SMAP,
  .efer_valid = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSR,
};
