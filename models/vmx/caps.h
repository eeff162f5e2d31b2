/* VMX capabilities of an Intel CPU model: the values its VMX capability
 * MSRs report (SDM Vol. 3C, appendix "VMX Capability Reporting Facility"),
 * plus the few non-MSR facts the VMX rules need (physical-address width,
 * valid MSR bits). Features are run-time properties of a model, never #if
 * blocks, so one binary tests every model. One .c file per model defines
 * `const struct vmx_caps vmx_caps_<model>`. */
#ifndef HVSIM_MODELS_VMX_CAPS_H
#define HVSIM_MODELS_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

struct vmx_caps {
  const char *name;          /* model name as `--cpu` spells it */
  unsigned maxphyaddr;       /* CPUID.80000008H:EAX[7:0] */
  unsigned linear_bits;      /* CPUID.80000008H:EAX[15:8]: 48 or 57 */
  /* Capability MSRs 480H-492H, in MSR order. */
  uint64_t basic;
  uint64_t pinbased, procbased, exit, entry;
  uint64_t misc;
  uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
  /* IA32_VMX_VMCS_ENUM as the model reports it; 0: derived from the field
   * catalogue (the highest index among fields the model has). A model may
   * report a higher index than its fields use (Bochs reports 34H on every
   * CPU model), never a lower one. */
  uint64_t vmcs_enum;
  uint64_t procbased2;
  uint64_t ept_vpid_cap;
  uint64_t true_pinbased, true_procbased, true_exit, true_entry;
  uint64_t vmfunc;
  uint64_t procbased3;       /* allowed-1 bits only (the MSR is 64 allowed-1 bits) */
  /* Bits that may be 1 in MSRs checked on VM entry (others are reserved). */
  uint64_t efer_valid;       /* IA32_EFER */
  uint64_t debugctl_valid;   /* IA32_DEBUGCTL */
  uint64_t perf_global_valid;/* IA32_PERF_GLOBAL_CTRL: PMC and fixed-counter enables */
  uint64_t feature_control_reset; /* IA32_FEATURE_CONTROL as firmware leaves it */
};

/* The capability MSRs, by index: VMX_CAP_MSR(NAME, INDEX) */
#define VMX_CAP_MSRS(X)                     \
  X(IA32_VMX_BASIC,               0x480)    \
  X(IA32_VMX_PINBASED_CTLS,       0x481)    \
  X(IA32_VMX_PROCBASED_CTLS,      0x482)    \
  X(IA32_VMX_EXIT_CTLS,           0x483)    \
  X(IA32_VMX_ENTRY_CTLS,          0x484)    \
  X(IA32_VMX_MISC,                0x485)    \
  X(IA32_VMX_CR0_FIXED0,          0x486)    \
  X(IA32_VMX_CR0_FIXED1,          0x487)    \
  X(IA32_VMX_CR4_FIXED0,          0x488)    \
  X(IA32_VMX_CR4_FIXED1,          0x489)    \
  X(IA32_VMX_VMCS_ENUM,           0x48A)    \
  X(IA32_VMX_PROCBASED_CTLS2,     0x48B)    \
  X(IA32_VMX_EPT_VPID_CAP,        0x48C)    \
  X(IA32_VMX_TRUE_PINBASED_CTLS,  0x48D)    \
  X(IA32_VMX_TRUE_PROCBASED_CTLS, 0x48E)    \
  X(IA32_VMX_TRUE_EXIT_CTLS,      0x48F)    \
  X(IA32_VMX_TRUE_ENTRY_CTLS,     0x490)    \
  X(IA32_VMX_VMFUNC,              0x491)    \
  X(IA32_VMX_PROCBASED_CTLS3,     0x492)

enum vmx_cap_msr {
#define X(name, index) MSR_##name = index,
  VMX_CAP_MSRS(X)
#undef X
};

enum vmx_feature {
#define VMX_FEATURE(name, source, bit) VMX_FEAT_##name,
#include "models/vmx/vmx_features.def"
#undef VMX_FEATURE
  VMX_FEATURE_COUNT
};

/* The CPU models. */
extern const struct vmx_caps vmx_caps_skylake_x;
extern const struct vmx_caps vmx_caps_nehalem;
extern const struct vmx_caps *const vmx_cpu_models[];   /* NULL-terminated */

/* The model called `name`, or NULL. */
const struct vmx_caps *vmx_caps_by_name(const char *name);

/* RDMSR of a VMX capability MSR or IA32_FEATURE_CONTROL's reset value.
 * Returns false when the MSR does not exist on this model (RDMSR raises
 * #GP(0)): PROCBASED_CTLS2 without "activate secondary controls",
 * EPT_VPID_CAP without EPT or VPID, the TRUE_ MSRs without BASIC bit 55,
 * VMFUNC without "enable VM functions", PROCBASED_CTLS3 without "activate
 * tertiary controls". */
bool vmx_caps_read_msr(const struct vmx_caps *caps, uint32_t index, uint64_t *value);

/* IA32_VMX_VMCS_ENUM: bits 9:1 hold the highest index value used for any
 * VMCS encoding: the model's stated value, else derived from the catalogue. */
uint64_t vmx_caps_vmcs_enum(const struct vmx_caps *caps);
/* The highest field index among the fields that exist on the model, in
 * IA32_VMX_VMCS_ENUM form (bits 9:1). */
uint64_t vmx_caps_vmcs_enum_derived(const struct vmx_caps *caps);

bool vmx_has_feature(const struct vmx_caps *caps, enum vmx_feature f);
const char *vmx_feature_name(enum vmx_feature f);

/* The control MSRs VM entry checks a control field against: the TRUE_
 * variant when BASIC bit 55 is set (SDM "Checks on VMX Controls": "...
 * reserved bits ... as reported by IA32_VMX_TRUE_..._CTLS if bit 55 ..."). */
uint64_t vmx_caps_pin_ctls(const struct vmx_caps *caps);
uint64_t vmx_caps_proc_ctls(const struct vmx_caps *caps);
uint64_t vmx_caps_exit_ctls(const struct vmx_caps *caps);
uint64_t vmx_caps_entry_ctls(const struct vmx_caps *caps);

/* A 32-bit control value respects a control MSR: every allowed-0 bit
 * (bits 31:0: must be 1) set and no bit outside allowed-1 (63:32). */
static inline bool vmx_ctl_valid(uint64_t msr, uint32_t value)
{
  uint32_t must1 = (uint32_t)msr, may1 = (uint32_t)(msr >> 32);
  return (value & must1) == must1 && (value & ~may1) == 0;
}

/* A control register value respects FIXED0 (bits that must be 1) and
 * FIXED1 (bits that may be 1) (SDM "VMX-Fixed Bits in CR0" / "in CR4"). */
static inline bool vmx_cr_fixed_ok(uint64_t fixed0, uint64_t fixed1, uint64_t value)
{
  return (value & fixed0) == fixed0 && (value & ~fixed1) == 0;
}

/* IA32_FEATURE_CONTROL semantics (SDM Vol. 3C, "Enabling and Entering VMX
 * Operation"): once bit 0 (lock) is set, WRMSR raises #GP until reset;
 * bits other than lock / VMX-in-SMX / VMX-outside-SMX are treated as
 * reserved by this model. Returns false when the WRMSR must #GP. */
bool vmx_feature_control_write(uint64_t *msr, uint64_t value);
/* VMXON raises #GP(0) unless the lock bit and the enable bit for the
 * current mode (inside or outside SMX operation) are both set. */
bool vmx_feature_control_allows_vmxon(uint64_t msr, bool in_smx);

#endif
