/* The VMX extension of the machine (sim/virt.h) over models/vmx: Intel
 * models' VMX capability MSRs so far. VMX instructions, VM entry and VM
 * exits are wired here next. */
#include <stdlib.h>

#include "models/vmx/caps.h"
#include "sim/machine.h"
#include "sim/virt.h"

struct vmx_ext {
  const struct vmx_caps *caps;
};

static struct vmx_ext *ext(struct machine *m) { return m->virt_state; }

/* The capability MSRs 480H-492H (SDM Vol. 3C, appendix "VMX Capability
 * Reporting Facility") are read-only: WRMSR to them raises #GP(0). */
static bool is_cap_msr(uint32_t index) { return index >= 0x480 && index <= 0x492; }

static enum virt_msr_result vmx_rdmsr(struct machine *m, uint32_t index, uint64_t *value)
{
  if (!is_cap_msr(index)) return VIRT_MSR_NOT_MINE;
  return vmx_caps_read_msr(ext(m)->caps, index, value) ? VIRT_MSR_OK : VIRT_MSR_GP;
}

static enum virt_msr_result vmx_wrmsr(struct machine *m, uint32_t index, uint64_t value)
{
  (void)m, (void)value;
  return is_cap_msr(index) ? VIRT_MSR_GP : VIRT_MSR_NOT_MINE;
}

static void vmx_destroy(struct machine *m)
{
  free(m->virt_state);
  m->virt_state = NULL;
}

static const struct virt_ops vmx_ops = {
  .name = "vmx",
  .rdmsr = vmx_rdmsr,
  .wrmsr = vmx_wrmsr,
  .destroy = vmx_destroy,
};

bool vmx_ext_attach(struct machine *m, const char *model, char *err, size_t err_size)
{
  const struct vmx_caps *caps = vmx_caps_by_name(model);
  if (!caps) { snprintf(err, err_size, "CPU model %s: no VMX capability model \"%s\"", m->opt.cpu->name, model); return false; }
  struct vmx_ext *x = calloc(1, sizeof *x);
  if (!x) { snprintf(err, err_size, "out of memory"); return false; }
  x->caps = caps;
  m->virt = &vmx_ops;
  m->virt_state = x;
  return true;
}
