/* VM-entry checks on the host-state area (SDM Vol. 3C, "Checks on Host
 * Control Registers, MSRs, and SSP", "Checks on Host Segment and
 * Descriptor-Table Registers", "Checks on Host Address-Space Size").
 * Failures give VMfailValid(8). */
#include "models/vmx/entry_checks_impl.h"

static void check_control_regs_msrs(struct ec *c)
{
  const struct vmx_caps *caps = c->caps;
  uint64_t cr0 = F(HOST_CR0), cr4 = F(HOST_CR4), cr3 = F(HOST_CR3);
  CHECK(HOST_CR0_FIXED, vmx_cr_fixed_ok(caps->cr0_fixed0, caps->cr0_fixed1, cr0),
        "HOST_CR0 = %#llx; FIXED0 %#llx must be set, bits outside FIXED1 %#llx must be clear", (ull)cr0,
        (ull)caps->cr0_fixed0, (ull)caps->cr0_fixed1);
  CHECK(HOST_CR4_FIXED, vmx_cr_fixed_ok(caps->cr4_fixed0, caps->cr4_fixed1, cr4),
        "HOST_CR4 = %#llx; FIXED0 %#llx must be set, bits outside FIXED1 %#llx must be clear", (ull)cr4,
        (ull)caps->cr4_fixed0, (ull)caps->cr4_fixed1);
  CHECK(HOST_CR3_RESERVED, ec_phys_ok(c, cr3), "HOST_CR3 = %#llx beyond the %u-bit physical-address width",
        (ull)cr3, caps->maxphyaddr);
  CHECK(HOST_SYSENTER_ESP_CANONICAL, ec_canonical(c, F(HOST_IA32_SYSENTER_ESP)),
        "HOST_IA32_SYSENTER_ESP = %#llx is not canonical", (ull)F(HOST_IA32_SYSENTER_ESP));
  CHECK(HOST_SYSENTER_EIP_CANONICAL, ec_canonical(c, F(HOST_IA32_SYSENTER_EIP)),
        "HOST_IA32_SYSENTER_EIP = %#llx is not canonical", (ull)F(HOST_IA32_SYSENTER_EIP));
  if (c->exit & EXIT_LOAD_PERF_GLOBAL)
    CHECK(HOST_PERF_GLOBAL_RESERVED, (F(HOST_IA32_PERF_GLOBAL_CTRL) & ~caps->perf_global_valid) == 0,
          "HOST_IA32_PERF_GLOBAL_CTRL = %#llx sets reserved bits %#llx", (ull)F(HOST_IA32_PERF_GLOBAL_CTRL),
          (ull)(F(HOST_IA32_PERF_GLOBAL_CTRL) & ~caps->perf_global_valid));
  if (c->exit & EXIT_LOAD_PAT)
    CHECK(HOST_PAT_INVALID, ec_pat_ok(F(HOST_IA32_PAT)), "HOST_IA32_PAT = %#llx has an invalid memory type",
          (ull)F(HOST_IA32_PAT));
  if (c->exit & EXIT_LOAD_EFER) {
    uint64_t efer = F(HOST_IA32_EFER);
    bool size = c->exit & EXIT_HOST_ADDR_SPACE;
    CHECK(HOST_EFER_RESERVED, (efer & ~caps->efer_valid) == 0, "HOST_IA32_EFER = %#llx sets reserved bits %#llx",
          (ull)efer, (ull)(efer & ~caps->efer_valid));
    CHECK(HOST_EFER_LMA, !!(efer & BIT64(10)) == size,
          "HOST_IA32_EFER = %#llx: LMA = %d but host address-space size = %d", (ull)efer, !!(efer & BIT64(10)), size);
    CHECK(HOST_EFER_LME, !!(efer & BIT64(8)) == size,
          "HOST_IA32_EFER = %#llx: LME = %d but host address-space size = %d", (ull)efer, !!(efer & BIT64(8)), size);
  }
}

static void check_segments(struct ec *c)
{
  static const struct { enum vmcs_field f; const char *name; } sel[] = {
    { VMCSI_HOST_ES_SELECTOR, "HOST_ES_SELECTOR" }, { VMCSI_HOST_CS_SELECTOR, "HOST_CS_SELECTOR" },
    { VMCSI_HOST_SS_SELECTOR, "HOST_SS_SELECTOR" }, { VMCSI_HOST_DS_SELECTOR, "HOST_DS_SELECTOR" },
    { VMCSI_HOST_FS_SELECTOR, "HOST_FS_SELECTOR" }, { VMCSI_HOST_GS_SELECTOR, "HOST_GS_SELECTOR" },
    { VMCSI_HOST_TR_SELECTOR, "HOST_TR_SELECTOR" },
  };
  for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++) {
    uint64_t s = ec_get(c, sel[i].f);
    CHECK(HOST_SEL_RPL_TI, (s & 7) == 0, "%s = %#llx: RPL/TI bits must be 0", sel[i].name, (ull)s);
  }
  CHECK(HOST_CS_NULL, F(HOST_CS_SELECTOR) != 0, "HOST_CS_SELECTOR = 0");
  CHECK(HOST_TR_NULL, F(HOST_TR_SELECTOR) != 0, "HOST_TR_SELECTOR = 0");
  CHECK(HOST_SS_NULL, F(HOST_SS_SELECTOR) != 0 || (c->exit & EXIT_HOST_ADDR_SPACE),
        "HOST_SS_SELECTOR = 0 with host address-space size 0");
  static const struct { enum vmcs_field f; const char *name; } base[] = {
    { VMCSI_HOST_FS_BASE, "HOST_FS_BASE" }, { VMCSI_HOST_GS_BASE, "HOST_GS_BASE" },
    { VMCSI_HOST_GDTR_BASE, "HOST_GDTR_BASE" }, { VMCSI_HOST_IDTR_BASE, "HOST_IDTR_BASE" },
    { VMCSI_HOST_TR_BASE, "HOST_TR_BASE" },
  };
  for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
    uint64_t b = ec_get(c, base[i].f);
    CHECK(HOST_BASE_CANONICAL, ec_canonical(c, b), "%s = %#llx is not canonical", base[i].name, (ull)b);
  }
}

static void check_address_space(struct ec *c)
{
  bool size = c->exit & EXIT_HOST_ADDR_SPACE;
  uint64_t rip = F(HOST_RIP), cr4 = F(HOST_CR4);
  if (!c->env->host_ia32e)
    CHECK(HOST_ADDR_SPACE_OUTSIDE_IA32E, !c->ia32e_guest && !size,
          "outside IA-32e mode: IA-32e mode guest = %d, host address-space size = %d (both must be 0)",
          c->ia32e_guest, size);
  else
    CHECK(HOST_ADDR_SPACE_IN_IA32E, size, "in IA-32e mode: VM_EXIT_CONTROLS = %#x lacks host address-space size (bit 9)",
          c->exit);
  if (!size) {
    CHECK(HOST_IA32E_GUEST_32BIT_HOST, !c->ia32e_guest, "IA-32e mode guest with host address-space size 0");
    CHECK(HOST_CR4_PCIDE_32BIT, !(cr4 & BIT64(17)), "HOST_CR4 = %#llx sets PCIDE with host address-space size 0",
          (ull)cr4);
    CHECK(HOST_RIP_HIGH_32BIT, (rip >> 32) == 0, "HOST_RIP = %#llx: bits 63:32 must be 0 for a 32-bit host",
          (ull)rip);
    return;
  }
  CHECK(HOST_CR4_PAE_64BIT, cr4 & BIT64(5), "HOST_CR4 = %#llx lacks PAE with host address-space size 1", (ull)cr4);
  CHECK(HOST_RIP_CANONICAL, ec_canonical(c, rip), "HOST_RIP = %#llx is not canonical", (ull)rip);
}

void ec_check_host(struct ec *c)
{
  check_control_regs_msrs(c);
  check_segments(c);
  check_address_space(c);
}
