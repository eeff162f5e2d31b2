/* AMD CPU models as seen by the SVM model: CPUID Fn8000_000A (SVM revision,
 * number of ASIDs, SVM feature bits), the address widths and the CR4/EFER
 * bits the CPU implements, which the VMRUN checks and the MSR rules depend
 * on. Features are run-time data of a model, never #if blocks, so one binary
 * tests every model. One .c file per model defines svm_features_<model>. */
#ifndef HVSIM_MODELS_SVM_FEATURES_H
#define HVSIM_MODELS_SVM_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID Fn8000_000A EDX feature bits (AMD APM Vol. 3, "CPUID Fn8000_000A_EDX
 * SVM Feature Identification"). Columns: name, bit, description. */
#define SVM_FEATURE_BITS(X)                                   \
  X(NP,                     0, "nested paging")               \
  X(LBR_VIRT,               1, "LBR virtualization")          \
  X(SVM_LOCK,               2, "SVM lock (SVM_KEY MSR)")      \
  X(NRIP_SAVE,              3, "next RIP saved on #VMEXIT")   \
  X(TSC_RATE,               4, "TSC_RATIO MSR")               \
  X(VMCB_CLEAN,             5, "VMCB clean bits")             \
  X(FLUSH_BY_ASID,          6, "TLB_CONTROL flush by ASID")   \
  X(DECODE_ASSISTS,         7, "decode assists")              \
  X(PAUSE_FILTER,          10, "PAUSE intercept filter")      \
  X(PAUSE_FILTER_THRESHOLD, 12, "PAUSE filter threshold")     \
  X(AVIC,                  13, "advanced virtual interrupt controller") \
  X(VMSAVE_VIRT,           15, "virtualized VMSAVE/VMLOAD")   \
  X(VGIF,                  16, "virtualized GIF")

enum svm_feature_bit {
#define SVM_FEATURE_ENUM(name, bit, desc) SVM_FEAT_##name = 1u << (bit),
  SVM_FEATURE_BITS(SVM_FEATURE_ENUM)
#undef SVM_FEATURE_ENUM
};

struct svm_features {
  const char *name;          /* the --cpu name, e.g. "ryzen" */
  const char *description;   /* what the model reproduces and from where */
  uint32_t svm_revision;     /* Fn8000_000A EAX[7:0] */
  uint32_t nasid;            /* Fn8000_000A EBX: number of ASIDs */
  uint32_t feature_edx;      /* Fn8000_000A EDX: SVM_FEAT_* */
  unsigned maxphyaddr;       /* Fn8000_0008 EAX[7:0] */
  unsigned maxlinaddr;       /* Fn8000_0008 EAX[15:8] */
  bool long_mode;            /* Fn8000_0001 EDX[LM] */
  uint64_t cr4_valid;        /* CR4 bits the CPU implements; others are MBZ */
  uint64_t efer_valid;       /* EFER bits the CPU implements; others are MBZ */
};

static inline bool svm_has(const struct svm_features *f, enum svm_feature_bit b)
{
  return (f->feature_edx & (uint32_t)b) != 0;
}

/* The models. */
extern const struct svm_features svm_features_ryzen;
extern const struct svm_features svm_features_epyc_qemu;
extern const struct svm_features svm_features_zen2;

/* All models, NULL-terminated, and lookup by name (NULL when unknown). */
extern const struct svm_features *const svm_cpu_models[];
const struct svm_features *svm_features_by_name(const char *name);

/* CPUID Fn8000_000A: out[0..3] = EAX, EBX, ECX, EDX. */
void svm_cpuid_8000000a(const struct svm_features *f, uint32_t out[4]);

/* Mask of physical-address bits at or above MAXPHYADDR (bits that must be
 * zero in any physical address). */
static inline uint64_t svm_pa_mbz_mask(const struct svm_features *f)
{
  return f->maxphyaddr >= 64 ? 0 : ~0ull << f->maxphyaddr;
}

#endif
