/* CPU models: what a processor reports (CPUID, MSRs, address widths) and
 * which virtualization extension it has. Features are run-time properties of
 * a model, never compile-time switches, so one binary tests every model. */
#ifndef HVSIM_SIM_CPU_MODEL_H
#define HVSIM_SIM_CPU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cpu_vendor { VENDOR_INTEL, VENDOR_AMD };

struct cpuid_entry {
  uint32_t leaf, subleaf;
  bool has_subleaves;          /* false: ECX is ignored for this leaf */
  uint32_t eax, ebx, ecx, edx;
};

struct cpu_model {
  const char *name;
  enum cpu_vendor vendor;
  const char *description;
  const struct cpuid_entry *cpuid;
  size_t cpuid_count;
  uint8_t maxphyaddr;          /* CPUID.80000008H:EAX[7:0] */
  uint8_t linear_bits;         /* CPUID.80000008H:EAX[15:8] */
  /* The virtualization extension's model: VMX capabilities
   * (models/vmx/caps.h) on Intel, SVM features (models/svm/features.h) on
   * AMD; NULL for none. */
  const char *virt_model;
  /* Machine-check architecture (sim/mca.h): the error-reporting banks
   * (IA32_MCG_CAP.Count) and whether IA32_MCG_CTL exists (MCG_CTL_P).
   * Banks > 0 exactly when CPUID.1:EDX reports MCE and MCA. */
  uint8_t mca_banks;
  bool mcg_ctl_p;
};

/* All models, Intel first; the first model of each vendor is its default. */
extern const struct cpu_model *const cpu_models[];
extern const size_t cpu_model_count;

const struct cpu_model *cpu_model_find(const char *name);
const struct cpu_model *cpu_model_default(enum cpu_vendor v);
const char *cpu_vendor_name(enum cpu_vendor v);

/* The raw entry for (leaf, subleaf), or NULL. Leaves above the model's
 * maximum are answered by the caller as the vendor specifies. */
const struct cpuid_entry *cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf,
                                          uint32_t subleaf);

/* CPUID feature bits the simulator itself consults. */
#define CPUID1_ECX_VMX      (1u << 5)
#define CPUID1_ECX_PCID     (1u << 17)
#define CPUID1_ECX_XSAVE    (1u << 26)
#define CPUID1_ECX_OSXSAVE  (1u << 27)
#define CPUID1_EDX_MCE      (1u << 7)
#define CPUID1_EDX_APIC     (1u << 9)
#define CPUID1_EDX_MCA      (1u << 14)
#define CPUID7_EBX_FSGSBASE (1u << 0)
#define CPUID7_EBX_SMEP     (1u << 7)
#define CPUID7_EBX_INVPCID  (1u << 10)
#define CPUID7_EBX_SMAP     (1u << 20)
#define CPUID7_ECX_UMIP     (1u << 2)
#define CPUID7_ECX_PKU      (1u << 3)
#define CPUID7_ECX_OSPKE    (1u << 4)
#define CPUID7_ECX_LA57     (1u << 16)
#define CPUIDX1_ECX_SVM     (1u << 2)
#define CPUIDX1_EDX_NX      (1u << 20)
#define CPUIDX1_EDX_PDPE1GB (1u << 26)
#define CPUIDX1_EDX_RDTSCP  (1u << 27)
#define CPUIDX1_EDX_LM      (1u << 29)

/* Whether the model reports a feature bit: leaf/subleaf register & bit. */
bool cpu_model_has(const struct cpu_model *m, uint32_t leaf, int reg, uint32_t bit);
enum { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

#endif
