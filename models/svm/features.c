/* The list of AMD CPU models and CPUID Fn8000_000A. */
#include "models/svm/features.h"

#include <string.h>

const struct svm_features *const svm_cpu_models[] = {
  &svm_features_ryzen,
  &svm_features_epyc_qemu,
  &svm_features_zen2,
  NULL,
};

const struct svm_features *svm_features_by_name(const char *name)
{
  for (unsigned i = 0; svm_cpu_models[i]; i++)
    if (strcmp(svm_cpu_models[i]->name, name) == 0) return svm_cpu_models[i];
  return NULL;
}

/* AMD APM Vol. 3, "CPUID Fn8000_000A_EAX/EBX/EDX": EAX[7:0] revision,
 * EBX number of ASIDs, ECX reserved, EDX feature bits. */
void svm_cpuid_8000000a(const struct svm_features *f, uint32_t out[4])
{
  out[0] = f->svm_revision & 0xFFu;
  out[1] = f->nasid;
  out[2] = 0;
  out[3] = f->feature_edx;
}
