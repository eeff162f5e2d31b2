/* Capability MSR lookup, feature predicates and IA32_FEATURE_CONTROL rules
 * shared by every CPU model (SDM Vol. 3C, appendix "VMX Capability
 * Reporting Facility"; "Enabling and Entering VMX Operation"). */
#include "models/vmx/caps.h"

#include <string.h>

#include "models/vmx/vmcs.h"
#include "models/vmx/vmx_bits.h"

const struct vmx_caps *const vmx_cpu_models[] = {
  &vmx_caps_skylake_x,
  &vmx_caps_nehalem,
  NULL,
};

const struct vmx_caps *vmx_caps_by_name(const char *name)
{
  for (int i = 0; vmx_cpu_models[i]; i++)
    if (strcmp(vmx_cpu_models[i]->name, name) == 0) return vmx_cpu_models[i];
  return NULL;
}

static uint32_t allowed1(uint64_t msr) { return (uint32_t)(msr >> 32); }

enum feature_source { SRC_NONE, SRC_PIN, SRC_PROC, SRC_PROC2, SRC_PROC3, SRC_EXIT, SRC_ENTRY, SRC_VMFUNC };

static const struct { const char *name; enum feature_source src; unsigned bit; } features[] = {
#define VMX_FEATURE(n, s, b) [VMX_FEAT_##n] = { #n, SRC_##s, b },
#include "models/vmx/vmx_features.def"
#undef VMX_FEATURE
};

const char *vmx_feature_name(enum vmx_feature f) { return features[f].name; }

bool vmx_has_feature(const struct vmx_caps *caps, enum vmx_feature f)
{
  unsigned bit = features[f].bit;
  bool secondary = allowed1(caps->procbased) & PROC_SECONDARY_CTLS;
  switch (features[f].src) {
  case SRC_NONE:   return true;
  case SRC_PIN:    return allowed1(caps->pinbased) >> bit & 1;
  case SRC_PROC:   return allowed1(caps->procbased) >> bit & 1;
  case SRC_PROC2:  return secondary && (allowed1(caps->procbased2) >> bit & 1);
  case SRC_PROC3:  return (allowed1(caps->procbased) & PROC_TERTIARY_CTLS) && (caps->procbased3 >> bit & 1);
  case SRC_EXIT:   return allowed1(caps->exit) >> bit & 1;
  case SRC_ENTRY:  return allowed1(caps->entry) >> bit & 1;
  case SRC_VMFUNC: return vmx_has_feature(caps, VMX_FEAT_VMFUNC) && (caps->vmfunc >> bit & 1);
  }
  return false; /* unreachable: every source is listed */
}

uint64_t vmx_caps_vmcs_enum(const struct vmx_caps *caps)
{
  return caps->vmcs_enum ? caps->vmcs_enum : vmx_caps_vmcs_enum_derived(caps);
}

uint64_t vmx_caps_vmcs_enum_derived(const struct vmx_caps *caps)
{
  unsigned highest = 0;
  for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
    if (!vmcs_field_supported(caps, i)) continue;
    unsigned idx = VMCS_ENC_INDEX(vmcs_fields[i].encoding);
    if (idx > highest) highest = idx;
  }
  return (uint64_t)highest << 1;
}

static bool true_ctls(const struct vmx_caps *c) { return (c->basic & BASIC_TRUE_CTLS) != 0; }
uint64_t vmx_caps_pin_ctls(const struct vmx_caps *c)   { return true_ctls(c) ? c->true_pinbased : c->pinbased; }
uint64_t vmx_caps_proc_ctls(const struct vmx_caps *c)  { return true_ctls(c) ? c->true_procbased : c->procbased; }
uint64_t vmx_caps_exit_ctls(const struct vmx_caps *c)  { return true_ctls(c) ? c->true_exit : c->exit; }
uint64_t vmx_caps_entry_ctls(const struct vmx_caps *c) { return true_ctls(c) ? c->true_entry : c->entry; }

bool vmx_caps_read_msr(const struct vmx_caps *c, uint32_t index, uint64_t *value)
{
  switch (index) {
  case MSR_IA32_FEATURE_CONTROL:     *value = c->feature_control_reset; return true;
  case MSR_IA32_VMX_BASIC:           *value = c->basic; return true;
  case MSR_IA32_VMX_PINBASED_CTLS:   *value = c->pinbased; return true;
  case MSR_IA32_VMX_PROCBASED_CTLS:  *value = c->procbased; return true;
  case MSR_IA32_VMX_EXIT_CTLS:       *value = c->exit; return true;
  case MSR_IA32_VMX_ENTRY_CTLS:      *value = c->entry; return true;
  case MSR_IA32_VMX_MISC:            *value = c->misc; return true;
  case MSR_IA32_VMX_CR0_FIXED0:      *value = c->cr0_fixed0; return true;
  case MSR_IA32_VMX_CR0_FIXED1:      *value = c->cr0_fixed1; return true;
  case MSR_IA32_VMX_CR4_FIXED0:      *value = c->cr4_fixed0; return true;
  case MSR_IA32_VMX_CR4_FIXED1:      *value = c->cr4_fixed1; return true;
  case MSR_IA32_VMX_VMCS_ENUM:       *value = vmx_caps_vmcs_enum(c); return true;
  case MSR_IA32_VMX_PROCBASED_CTLS2:
    if (!vmx_has_feature(c, VMX_FEAT_SECONDARY_CTLS)) return false;
    *value = c->procbased2; return true;
  case MSR_IA32_VMX_EPT_VPID_CAP:
    if (!vmx_has_feature(c, VMX_FEAT_EPT) && !vmx_has_feature(c, VMX_FEAT_VPID)) return false;
    *value = c->ept_vpid_cap; return true;
  case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
    if (!true_ctls(c)) return false;
    *value = c->true_pinbased; return true;
  case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
    if (!true_ctls(c)) return false;
    *value = c->true_procbased; return true;
  case MSR_IA32_VMX_TRUE_EXIT_CTLS:
    if (!true_ctls(c)) return false;
    *value = c->true_exit; return true;
  case MSR_IA32_VMX_TRUE_ENTRY_CTLS:
    if (!true_ctls(c)) return false;
    *value = c->true_entry; return true;
  case MSR_IA32_VMX_VMFUNC:
    if (!vmx_has_feature(c, VMX_FEAT_VMFUNC)) return false;
    *value = c->vmfunc; return true;
  case MSR_IA32_VMX_PROCBASED_CTLS3:
    if (!vmx_has_feature(c, VMX_FEAT_TERTIARY_CTLS)) return false;
    *value = c->procbased3; return true;
  }
  return false; /* not a VMX capability MSR */
}

bool vmx_feature_control_write(uint64_t *msr, uint64_t value)
{
  if (*msr & FEATCTL_LOCK) return false;
  if (value & ~(FEATCTL_LOCK | FEATCTL_VMX_IN_SMX | FEATCTL_VMX_OUTSIDE_SMX)) return false;
  *msr = value;
  return true;
}

bool vmx_feature_control_allows_vmxon(uint64_t msr, bool in_smx)
{
  if (!(msr & FEATCTL_LOCK)) return false;
  return (msr & (in_smx ? FEATCTL_VMX_IN_SMX : FEATCTL_VMX_OUTSIDE_SMX)) != 0;
}
