/* VM-entry checks on guest non-register state, PDPTEs and the VM-entry
 * MSR-load list (SDM Vol. 3C, "Checks on Guest Non-Register State",
 * "Checks on Guest Page-Directory-Pointer-Table Entries", "Loading MSRs").
 * Failures give exit reason 33 (qualification 0, 2 or 4) or 34. */
#include "models/vmx/entry_checks_impl.h"

#include <string.h>

#define PENDING_DBG_VALID (0xFull | BIT64(12) | BIT64(14))
#define PENDING_DBG_BS    BIT64(14)
#define RFLAGS_TF_BIT     BIT64(8)
#define RFLAGS_IF_BIT     BIT64(9)
#define DEBUGCTL_BTF      BIT64(1)

/* May an event of this type/vector be injected into this activity state?
 * (SDM: HLT blocks all but external interrupts, NMIs, #DB, #MC and the
 * pending MTF exit; shutdown all but NMIs and #MC; wait-for-SIPI all.) */
static bool event_allowed(unsigned activity, unsigned type, unsigned vector)
{
  switch (activity) {
  case ACTIVITY_ACTIVE: return true;
  case ACTIVITY_HLT:
    if (type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI || type == INTR_TYPE_OTHER_EVENT) return true;
    return type == INTR_TYPE_HW_EXCEPTION && (vector == 1 || vector == 18);
  case ACTIVITY_SHUTDOWN:
    return type == INTR_TYPE_NMI || (type == INTR_TYPE_HW_EXCEPTION && vector == 18);
  case ACTIVITY_WAIT_SIPI: return false;
  }
  return false; /* reserved states fail GUEST_ACTIVITY_RESERVED already */
}

static void check_activity(struct ec *c, uint32_t info, uint32_t intr)
{
  uint64_t act = F(GUEST_ACTIVITY_STATE);
  uint64_t misc = c->caps->misc;
  bool supported = act == ACTIVITY_ACTIVE || (act == ACTIVITY_HLT && (misc & MISC_ACTIVITY_HLT)) ||
                   (act == ACTIVITY_SHUTDOWN && (misc & MISC_ACTIVITY_SHUTDOWN)) ||
                   (act == ACTIVITY_WAIT_SIPI && (misc & MISC_ACTIVITY_SIPI));
  CHECK(GUEST_ACTIVITY_RESERVED, supported, "GUEST_ACTIVITY_STATE = %llu not supported (IA32_VMX_MISC = %#llx)",
        (ull)act, (ull)misc);
  if (act == ACTIVITY_HLT)
    CHECK(GUEST_ACTIVITY_HLT_SS_DPL, ((F(GUEST_SS_AR_BYTES) >> 5) & 3) == 0,
          "GUEST_ACTIVITY_STATE = HLT with GUEST_SS_AR_BYTES = %#llx (DPL %llu)", (ull)F(GUEST_SS_AR_BYTES),
          (ull)((F(GUEST_SS_AR_BYTES) >> 5) & 3));
  if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
    CHECK(GUEST_ACTIVITY_BLOCKING, act == ACTIVITY_ACTIVE,
          "GUEST_ACTIVITY_STATE = %llu with GUEST_INTERRUPTIBILITY_INFO = %#x (STI/MOV SS blocking)", (ull)act, intr);
  if ((info & INTR_INFO_VALID) && supported)
    CHECK(GUEST_ACTIVITY_EVENT_BLOCKED, event_allowed((unsigned)act, INTR_INFO_TYPE(info), INTR_INFO_VECTOR(info)),
          "VM_ENTRY_INTR_INFO = %#x (type %u vector %u) is blocked in GUEST_ACTIVITY_STATE = %llu", info,
          INTR_INFO_TYPE(info), INTR_INFO_VECTOR(info), (ull)act);
}

static void check_interruptibility(struct ec *c, uint32_t info, uint32_t intr)
{
  bool valid = info & INTR_INFO_VALID;
  unsigned type = INTR_INFO_TYPE(info);
  CHECK(GUEST_INTR_RESERVED, (intr & ~0xFu) == 0, "GUEST_INTERRUPTIBILITY_INFO = %#x sets reserved bits 31:4", intr);
  CHECK(GUEST_INTR_STI_AND_MOV_SS,
        (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) != (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS),
        "GUEST_INTERRUPTIBILITY_INFO = %#x sets both STI and MOV SS blocking", intr);
  CHECK(GUEST_INTR_STI_IF, !(intr & INTERRUPTIBILITY_STI) || (F(GUEST_RFLAGS) & RFLAGS_IF_BIT),
        "GUEST_INTERRUPTIBILITY_INFO = %#x: STI blocking with GUEST_RFLAGS = %#llx (IF = 0)", intr,
        (ull)F(GUEST_RFLAGS));
  if (valid && type == INTR_TYPE_EXT_INTR)
    CHECK(GUEST_INTR_EXTINT_BLOCKING, !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)),
          "GUEST_INTERRUPTIBILITY_INFO = %#x blocks the injected external interrupt", intr);
  if (valid && type == INTR_TYPE_NMI)
    CHECK(GUEST_INTR_NMI_MOV_SS, !(intr & INTERRUPTIBILITY_MOV_SS),
          "GUEST_INTERRUPTIBILITY_INFO = %#x: MOV SS blocking while injecting an NMI", intr);
  /* The model never runs in SMM. */
  CHECK(GUEST_INTR_SMI_OUTSIDE_SMM, !(intr & INTERRUPTIBILITY_SMI),
        "GUEST_INTERRUPTIBILITY_INFO = %#x: SMI blocking outside SMM", intr);
  if (valid && type == INTR_TYPE_NMI && (c->pin & PIN_VIRTUAL_NMIS))
    CHECK(GUEST_INTR_VNMI_NMI_BLOCKING, !(intr & INTERRUPTIBILITY_NMI),
          "GUEST_INTERRUPTIBILITY_INFO = %#x: NMI blocking while injecting an NMI with virtual NMIs", intr);
}

static void check_pending_debug(struct ec *c, uint32_t intr)
{
  uint64_t pd = F(GUEST_PENDING_DBG_EXCEPTIONS);
  CHECK(GUEST_PENDING_DBG_RESERVED, (pd & ~PENDING_DBG_VALID) == 0,
        "GUEST_PENDING_DBG_EXCEPTIONS = %#llx sets reserved bits %#llx", (ull)pd, (ull)(pd & ~PENDING_DBG_VALID));
  bool blocking = (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) || F(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT;
  if (!blocking) return;
  bool tf = F(GUEST_RFLAGS) & RFLAGS_TF_BIT, btf = F(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF;
  bool bs = pd & PENDING_DBG_BS;
  if (tf && !btf)
    CHECK(GUEST_PENDING_DBG_BS_SET, bs,
          "GUEST_PENDING_DBG_EXCEPTIONS = %#llx lacks BS with RFLAGS.TF = 1, DEBUGCTL.BTF = 0 and blocking", (ull)pd);
  else
    CHECK(GUEST_PENDING_DBG_BS_CLEAR, !bs,
          "GUEST_PENDING_DBG_EXCEPTIONS = %#llx sets BS with RFLAGS.TF = %d, DEBUGCTL.BTF = %d and blocking", (ull)pd,
          tf, btf);
}

static void check_link_pointer(struct ec *c)
{
  uint64_t link = F(VMCS_LINK_POINTER);
  if (link == ~0ull) return;
  if (!ec_page_ok(c, link)) {
    CHECK(GUEST_LINK_PTR_ADDR, false, "VMCS_LINK_POINTER = %#llx: not 4-KByte aligned or beyond %u bits", (ull)link,
          c->caps->maxphyaddr);
    return;
  }
  uint8_t b[4];
  if (!c->env->read_phys) {
    ec_skip(c, VMX_ENTRY_GUEST_LINK_PTR_REVISION);
    ec_skip(c, VMX_ENTRY_GUEST_LINK_PTR_SHADOW);
    return;
  }
  if (!ec_read(c, link, b, 4)) {
    CHECK(GUEST_LINK_PTR_REVISION, false, "VMCS_LINK_POINTER = %#llx is unreadable", (ull)link);
    return;
  }
  uint32_t rev = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
  bool shadowing = c->proc2 & PROC2_VMCS_SHADOWING;
  CHECK(GUEST_LINK_PTR_REVISION, (rev & 0x7FFFFFFFu) == BASIC_REVISION(c->caps->basic),
        "VMCS_LINK_POINTER = %#llx references revision %#x, the CPU's is %#x", (ull)link, rev & 0x7FFFFFFFu,
        BASIC_REVISION(c->caps->basic));
  CHECK(GUEST_LINK_PTR_SHADOW, !!(rev >> 31) == shadowing,
        "VMCS_LINK_POINTER = %#llx references shadow-VMCS indicator %u with VMCS shadowing = %d", (ull)link, rev >> 31,
        shadowing);
}

/* A PAE PDPTE with P = 1 must not set bits 2:1, 8:5 or bits beyond the
 * physical-address width. */
static bool pdpte_ok(const struct ec *c, uint64_t e)
{
  if (!(e & 1)) return true;
  return (e & 0x1E6ull) == 0 && ec_phys_ok(c, e & ~BIT64(63)) && !(e & BIT64(63));
}

static void check_pdptes(struct ec *c)
{
  bool pae_paging = (F(GUEST_CR0) & CR0_BIT_PG) && (F(GUEST_CR4) & BIT64(5)) && !c->ia32e_guest;
  if (!pae_paging) return;
  static const enum vmcs_field fields[4] = { VMCSI_GUEST_PDPTE0, VMCSI_GUEST_PDPTE1, VMCSI_GUEST_PDPTE2,
                                             VMCSI_GUEST_PDPTE3 };
  if (c->proc2 & PROC2_ENABLE_EPT) {
    for (int i = 0; i < 4; i++) {
      uint64_t e = ec_get(c, fields[i]);
      CHECK(GUEST_PDPTE_RESERVED_EPT, pdpte_ok(c, e), "GUEST_PDPTE%d = %#llx sets reserved bits", i, (ull)e);
    }
    return;
  }
  if (!c->env->read_phys) {
    ec_skip(c, VMX_ENTRY_GUEST_PDPTE_RESERVED_MEM);
    return;
  }
  uint64_t base = F(GUEST_CR3) & 0xFFFFFFE0ull;
  uint8_t raw[32];
  if (!ec_read(c, base, raw, sizeof raw)) {
    CHECK(GUEST_PDPTE_RESERVED_MEM, false, "PDPTEs at GUEST_CR3 = %#llx are unreadable", (ull)F(GUEST_CR3));
    return;
  }
  for (int i = 0; i < 4; i++) {
    uint64_t e = 0;
    for (int k = 7; k >= 0; k--) e = (e << 8) | raw[8 * i + k];
    CHECK(GUEST_PDPTE_RESERVED_MEM, pdpte_ok(c, e), "PDPTE%d at %#llx = %#llx sets reserved bits", i,
          (ull)(base + 8 * i), (ull)e);
  }
}

void ec_check_guest_nonreg(struct ec *c)
{
  uint32_t info = (uint32_t)F(VM_ENTRY_INTR_INFO), intr = (uint32_t)F(GUEST_INTERRUPTIBILITY_INFO);
  check_activity(c, info, intr);
  check_interruptibility(c, info, intr);
  check_pending_debug(c, intr);
  check_link_pointer(c);
  check_pdptes(c);
}

/* The VM-entry MSR-load list, entry by entry (16 bytes: index 31:0,
 * reserved 63:32, value). The first bad entry ends MSR loading; its
 * 1-based number is the exit qualification. */
void ec_check_msr_load(struct ec *c)
{
  uint64_t count = F(VM_ENTRY_MSR_LOAD_COUNT), addr = F(VM_ENTRY_MSR_LOAD_ADDR);
  if (count == 0 || ec_failed(c, VMX_ENTRY_CTLS_ENTRY_MSR_LOAD_ADDR)) return;
  if (!c->env->read_phys) {
    for (int id = VMX_ENTRY_MSRLOAD_FS_GS_BASE; id <= VMX_ENTRY_MSRLOAD_WRMSR_FAULT; id++) ec_skip(c, id);
    return;
  }
  for (uint64_t i = 0; i < count; i++) {
    uint8_t raw[16];
    uint64_t pa = addr + 16 * i;
    if (!ec_read(c, pa, raw, sizeof raw)) {
      ec_fail(c, VMX_ENTRY_MSRLOAD_WRMSR_FAULT, i + 1, "VM-entry MSR-load entry %llu at %#llx is unreadable",
              (ull)(i + 1), (ull)pa);
      return;
    }
    uint64_t head = 0, value = 0;
    for (int k = 7; k >= 0; k--) head = (head << 8) | raw[k], value = (value << 8) | raw[8 + k];
    uint32_t index = (uint32_t)head;
    const char *why = NULL;
    enum vmx_check_id id = VMX_ENTRY_OK;
    if (index == MSR_IA32_FS_BASE || index == MSR_IA32_GS_BASE)
      id = VMX_ENTRY_MSRLOAD_FS_GS_BASE, why = "IA32_FS_BASE/IA32_GS_BASE cannot be loaded";
    else if ((index >> 8) == 0x8) id = VMX_ENTRY_MSRLOAD_X2APIC, why = "x2APIC MSRs cannot be loaded";
    else if (index == MSR_IA32_SMM_MONITOR_CTL)
      id = VMX_ENTRY_MSRLOAD_SMM_ONLY, why = "IA32_SMM_MONITOR_CTL is writable only in SMM";
    else if (index == MSR_IA32_BIOS_UPDT_TRIG || index == MSR_IA32_BIOS_SIGN_ID)
      id = VMX_ENTRY_MSRLOAD_MODEL_SPECIFIC, why = "microcode-update MSRs cannot be loaded on VM entry";
    else if (head >> 32) id = VMX_ENTRY_MSRLOAD_RESERVED, why = "reserved bits 63:32 set";
    else if (!ec_wrmsr_ok(c, index, value))
      id = VMX_ENTRY_MSRLOAD_WRMSR_FAULT, why = "WRMSR would raise #GP";
    if (id == VMX_ENTRY_OK) continue;
    ec_fail(c, id, i + 1, "VM-entry MSR-load entry %llu at %#llx: MSR %#x value %#llx (first quadword %#llx): %s",
            (ull)(i + 1), (ull)pa, index, (ull)value, (ull)head, why);
    return;
  }
}
