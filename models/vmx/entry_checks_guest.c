/* VM-entry checks on guest registers (SDM Vol. 3C, "Checks on Guest
 * Control Registers, Debug Registers, and MSRs", "Checks on Guest
 * Descriptor-Table Registers", "Checks on Guest RIP, RFLAGS, and SSP").
 * Failures give a VM-entry failure with exit reason 33. */
#include "models/vmx/entry_checks_impl.h"

#define RFLAGS_RESERVED (~0x3FFFFFull | BIT64(15) | BIT64(5) | BIT64(3))

static void check_control_regs(struct ec *c)
{
  const struct vmx_caps *caps = c->caps;
  uint64_t cr0 = F(GUEST_CR0), cr4 = F(GUEST_CR4), cr3 = F(GUEST_CR3);
  /* Unrestricted guest lifts the PE and PG requirements of FIXED0. */
  uint64_t fixed0 = caps->cr0_fixed0 & (c->ug ? ~(uint64_t)(CR0_BIT_PE | CR0_BIT_PG) : ~0ull);
  CHECK(GUEST_CR0_FIXED, vmx_cr_fixed_ok(fixed0, caps->cr0_fixed1, cr0),
        "GUEST_CR0 = %#llx; bits %#llx must be set, bits outside %#llx must be clear", (ull)cr0, (ull)fixed0,
        (ull)caps->cr0_fixed1);
  CHECK(GUEST_CR0_PG_WITHOUT_PE, !(cr0 & CR0_BIT_PG) || (cr0 & CR0_BIT_PE), "GUEST_CR0 = %#llx: PG without PE",
        (ull)cr0);
  CHECK(GUEST_CR4_FIXED, vmx_cr_fixed_ok(caps->cr4_fixed0, caps->cr4_fixed1, cr4),
        "GUEST_CR4 = %#llx; FIXED0 %#llx must be set, bits outside FIXED1 %#llx must be clear", (ull)cr4,
        (ull)caps->cr4_fixed0, (ull)caps->cr4_fixed1);
  bool load_debug = c->entry & ENTRY_LOAD_DEBUG_CTLS;
  if (load_debug)
    CHECK(GUEST_DEBUGCTL_RESERVED, (F(GUEST_IA32_DEBUGCTL) & ~caps->debugctl_valid) == 0,
          "GUEST_IA32_DEBUGCTL = %#llx sets reserved bits %#llx", (ull)F(GUEST_IA32_DEBUGCTL),
          (ull)(F(GUEST_IA32_DEBUGCTL) & ~caps->debugctl_valid));
  if (c->ia32e_guest) {
    CHECK(GUEST_IA32E_PG, cr0 & CR0_BIT_PG, "GUEST_CR0 = %#llx lacks PG for an IA-32e mode guest", (ull)cr0);
    CHECK(GUEST_IA32E_PAE, cr4 & BIT64(5), "GUEST_CR4 = %#llx lacks PAE for an IA-32e mode guest", (ull)cr4);
  } else {
    CHECK(GUEST_PCIDE_WITHOUT_IA32E, !(cr4 & BIT64(17)), "GUEST_CR4 = %#llx sets PCIDE without IA-32e mode guest",
          (ull)cr4);
  }
  CHECK(GUEST_CR3_RESERVED, ec_phys_ok(c, cr3), "GUEST_CR3 = %#llx beyond the %u-bit physical-address width",
        (ull)cr3, caps->maxphyaddr);
  if (load_debug)
    CHECK(GUEST_DR7_HIGH, (F(GUEST_DR7) >> 32) == 0, "GUEST_DR7 = %#llx sets bits 63:32", (ull)F(GUEST_DR7));
  CHECK(GUEST_SYSENTER_ESP_CANONICAL, ec_canonical(c, F(GUEST_SYSENTER_ESP)),
        "GUEST_SYSENTER_ESP = %#llx is not canonical", (ull)F(GUEST_SYSENTER_ESP));
  CHECK(GUEST_SYSENTER_EIP_CANONICAL, ec_canonical(c, F(GUEST_SYSENTER_EIP)),
        "GUEST_SYSENTER_EIP = %#llx is not canonical", (ull)F(GUEST_SYSENTER_EIP));
  if (c->entry & ENTRY_LOAD_PERF_GLOBAL)
    CHECK(GUEST_PERF_GLOBAL_RESERVED, (F(GUEST_IA32_PERF_GLOBAL_CTRL) & ~caps->perf_global_valid) == 0,
          "GUEST_IA32_PERF_GLOBAL_CTRL = %#llx sets reserved bits %#llx", (ull)F(GUEST_IA32_PERF_GLOBAL_CTRL),
          (ull)(F(GUEST_IA32_PERF_GLOBAL_CTRL) & ~caps->perf_global_valid));
  if (c->entry & ENTRY_LOAD_PAT)
    CHECK(GUEST_PAT_INVALID, ec_pat_ok(F(GUEST_IA32_PAT)), "GUEST_IA32_PAT = %#llx has an invalid memory type",
          (ull)F(GUEST_IA32_PAT));
  if (c->entry & ENTRY_LOAD_EFER) {
    uint64_t efer = F(GUEST_IA32_EFER);
    bool lma = efer & BIT64(10), lme = efer & BIT64(8);
    CHECK(GUEST_EFER_RESERVED, (efer & ~caps->efer_valid) == 0, "GUEST_IA32_EFER = %#llx sets reserved bits %#llx",
          (ull)efer, (ull)(efer & ~caps->efer_valid));
    CHECK(GUEST_EFER_LMA, lma == c->ia32e_guest, "GUEST_IA32_EFER = %#llx: LMA = %d but IA-32e mode guest = %d",
          (ull)efer, lma, c->ia32e_guest);
    if (cr0 & CR0_BIT_PG)
      CHECK(GUEST_EFER_LME, lme == c->ia32e_guest, "GUEST_IA32_EFER = %#llx: LME = %d but IA-32e mode guest = %d",
            (ull)efer, lme, c->ia32e_guest);
  }
}

static void check_descriptor_tables(struct ec *c)
{
  CHECK(GUEST_DTR_BASE_CANONICAL, ec_canonical(c, F(GUEST_GDTR_BASE)), "GUEST_GDTR_BASE = %#llx is not canonical",
        (ull)F(GUEST_GDTR_BASE));
  CHECK(GUEST_DTR_BASE_CANONICAL, ec_canonical(c, F(GUEST_IDTR_BASE)), "GUEST_IDTR_BASE = %#llx is not canonical",
        (ull)F(GUEST_IDTR_BASE));
  CHECK(GUEST_DTR_LIMIT_HIGH, (F(GUEST_GDTR_LIMIT) >> 16) == 0, "GUEST_GDTR_LIMIT = %#llx sets bits 31:16",
        (ull)F(GUEST_GDTR_LIMIT));
  CHECK(GUEST_DTR_LIMIT_HIGH, (F(GUEST_IDTR_LIMIT) >> 16) == 0, "GUEST_IDTR_LIMIT = %#llx sets bits 31:16",
        (ull)F(GUEST_IDTR_LIMIT));
}

static void check_rip_rflags(struct ec *c)
{
  uint64_t rip = F(GUEST_RIP), rflags = F(GUEST_RFLAGS);
  bool cs_l = F(GUEST_CS_AR_BYTES) & BIT64(13);
  if (!c->ia32e_guest || !cs_l)
    CHECK(GUEST_RIP_HIGH, (rip >> 32) == 0, "GUEST_RIP = %#llx: bits 63:32 must be 0 outside 64-bit mode", (ull)rip);
  else
    CHECK(GUEST_RIP_CANONICAL, ec_canonical(c, rip), "GUEST_RIP = %#llx is not canonical", (ull)rip);
  CHECK(GUEST_RFLAGS_RESERVED, (rflags & RFLAGS_RESERVED) == 0 && (rflags & 2),
        "GUEST_RFLAGS = %#llx: reserved bits must be 0 and bit 1 must be 1", (ull)rflags);
  CHECK(GUEST_RFLAGS_VM, !c->v86 || (!c->ia32e_guest && (F(GUEST_CR0) & CR0_BIT_PE)),
        "GUEST_RFLAGS = %#llx sets VM with IA-32e mode guest = %d, GUEST_CR0.PE = %d", (ull)rflags, c->ia32e_guest,
        (int)(F(GUEST_CR0) & 1));
  uint32_t info = (uint32_t)F(VM_ENTRY_INTR_INFO);
  if ((info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == INTR_TYPE_EXT_INTR)
    CHECK(GUEST_RFLAGS_IF_EXTINT, rflags & BIT64(9), "GUEST_RFLAGS = %#llx has IF = 0 while injecting an external interrupt",
          (ull)rflags);
}

void ec_check_guest_regs(struct ec *c)
{
  check_control_regs(c);
  check_descriptor_tables(c);
  check_rip_rflags(c);
}
