/* Choosing the virtualization extension of a CPU model (sim/virt.h). */
#include "sim/virt.h"

#include "sim/machine.h"

bool virt_attach(struct machine *m, char *err, size_t err_size)
{
  const struct cpu_model *c = m->opt.cpu;
  if (!c->virt_model) return true;
  if (c->vendor == VENDOR_INTEL && cpu_model_has(c, 1, CPUID_ECX, CPUID1_ECX_VMX))
    return vmx_ext_attach(m, c->virt_model, err, err_size);
  if (c->vendor == VENDOR_AMD && cpu_model_has(c, 0x80000001, CPUID_ECX, CPUIDX1_ECX_SVM))
    return svm_ext_attach(m, c->virt_model, err, err_size);
  return true;
}
