/* VM-entry checks on the VMX controls (SDM Vol. 3C, "Checks on VM-Execution
 * Control Fields", "Checks on VM-Exit Control Fields", "Checks on VM-Entry
 * Control Fields"). Failures give VMfailValid(7). */
#include "models/vmx/entry_checks_impl.h"

static void check_addr(struct ec *c, bool ok, enum vmx_check_id id, const char *field, uint64_t a)
{
  if (!ok) ec_fail(c, id, 0, "%s = %#llx: not 4-KByte aligned or beyond the %u-bit physical-address width",
                   field, (ull)a, c->caps->maxphyaddr);
}

static void check_msr_list(struct ec *c, enum vmx_check_id id, const char *name,
                           uint64_t count, uint64_t addr)
{
  if (count == 0) return;
  uint64_t last = addr + count * 16 - 1;
  if ((addr & 0xF) == 0 && ec_phys_ok(c, addr) && ec_phys_ok(c, last)) return;
  ec_fail(c, id, 0, "%s_ADDR = %#llx with count %llu: not 16-byte aligned or list end %#llx beyond the %u-bit physical-address width",
          name, (ull)addr, (ull)count, (ull)last, c->caps->maxphyaddr);
}

static void check_execution(struct ec *c)
{
  const struct vmx_caps *caps = c->caps;
  uint64_t pin_msr = vmx_caps_pin_ctls(caps), proc_msr = vmx_caps_proc_ctls(caps);

  CHECK(CTLS_PIN_RESERVED, vmx_ctl_valid(pin_msr, c->pin),
        "PIN_BASED_VM_EXEC_CONTROL = %#x; must-be-1 %#x, may-be-1 %#x",
        c->pin, (uint32_t)pin_msr, (uint32_t)(pin_msr >> 32));
  CHECK(CTLS_PROC_RESERVED, vmx_ctl_valid(proc_msr, c->proc),
        "CPU_BASED_VM_EXEC_CONTROL = %#x; must-be-1 %#x, may-be-1 %#x",
        c->proc, (uint32_t)proc_msr, (uint32_t)(proc_msr >> 32));
  CHECK(CTLS_PROC2_RESERVED, vmx_ctl_valid(caps->procbased2, c->proc2),
        "SECONDARY_VM_EXEC_CONTROL = %#x; may-be-1 %#x (IA32_VMX_PROCBASED_CTLS2)",
        c->proc2, (uint32_t)(caps->procbased2 >> 32));
  CHECK(CTLS_CR3_TARGET_COUNT, F(CR3_TARGET_COUNT) <= MISC_CR3_TARGETS(caps->misc),
        "CR3_TARGET_COUNT = %llu > %u (IA32_VMX_MISC[24:16])", (ull)F(CR3_TARGET_COUNT),
        MISC_CR3_TARGETS(caps->misc));

  if (c->proc & PROC_USE_IO_BITMAPS) {
    if (!ec_page_ok(c, F(IO_BITMAP_A))) check_addr(c, false, VMX_ENTRY_CTLS_IO_BITMAP_ADDR, "IO_BITMAP_A", F(IO_BITMAP_A));
    if (!ec_page_ok(c, F(IO_BITMAP_B))) check_addr(c, false, VMX_ENTRY_CTLS_IO_BITMAP_ADDR, "IO_BITMAP_B", F(IO_BITMAP_B));
  }
  if (c->proc & PROC_USE_MSR_BITMAPS)
    check_addr(c, ec_page_ok(c, F(MSR_BITMAP)), VMX_ENTRY_CTLS_MSR_BITMAP_ADDR, "MSR_BITMAP", F(MSR_BITMAP));

  bool tpr_shadow = c->proc & PROC_USE_TPR_SHADOW;
  bool vid = c->proc2 & PROC2_VIRT_INTR_DELIVERY;
  bool apic_access = c->proc2 & PROC2_VIRT_APIC_ACCESS;
  if (tpr_shadow) {
    uint64_t vapic = F(VIRTUAL_APIC_PAGE_ADDR), thr = F(TPR_THRESHOLD);
    check_addr(c, ec_page_ok(c, vapic), VMX_ENTRY_CTLS_VIRT_APIC_ADDR, "VIRTUAL_APIC_PAGE_ADDR", vapic);
    if (!vid)
      CHECK(CTLS_TPR_THRESHOLD_RESERVED, (thr & ~0xFull) == 0, "TPR_THRESHOLD = %#llx: bits 31:4 must be 0", (ull)thr);
    if (!vid && !apic_access && ec_page_ok(c, vapic)) {
      uint8_t vtpr;
      if (!c->env->read_phys) ec_skip(c, VMX_ENTRY_CTLS_TPR_THRESHOLD_VTPR);
      else if (!ec_read(c, vapic + 0x80, &vtpr, 1))
        ec_fail(c, VMX_ENTRY_CTLS_TPR_THRESHOLD_VTPR, 0, "VTPR at %#llx unreadable", (ull)(vapic + 0x80));
      else
        CHECK(CTLS_TPR_THRESHOLD_VTPR, (thr & 0xF) <= (vtpr >> 4u),
              "TPR_THRESHOLD[3:0] = %llu > VTPR[7:4] = %u (VTPR byte %#x at %#llx)",
              (ull)(thr & 0xF), vtpr >> 4u, vtpr, (ull)(vapic + 0x80));
    }
  }
  CHECK(CTLS_VNMI_WITHOUT_NMI_EXITING, !(c->pin & PIN_VIRTUAL_NMIS) || (c->pin & PIN_NMI_EXITING),
        "PIN_BASED_VM_EXEC_CONTROL = %#x: virtual NMIs (bit 5) without NMI exiting (bit 3)", c->pin);
  CHECK(CTLS_NMI_WINDOW_WITHOUT_VNMI, !(c->proc & PROC_NMI_WINDOW_EXITING) || (c->pin & PIN_VIRTUAL_NMIS),
        "CPU_BASED_VM_EXEC_CONTROL = %#x: NMI-window exiting (bit 22) with PIN_BASED_VM_EXEC_CONTROL = %#x lacking virtual NMIs",
        c->proc, c->pin);
  if (apic_access)
    check_addr(c, ec_page_ok(c, F(APIC_ACCESS_ADDR)), VMX_ENTRY_CTLS_APIC_ACCESS_ADDR, "APIC_ACCESS_ADDR", F(APIC_ACCESS_ADDR));
  CHECK(CTLS_APIC_VIRT_WITHOUT_TPR_SHADOW,
        tpr_shadow || !(c->proc2 & (PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)),
        "SECONDARY_VM_EXEC_CONTROL = %#x sets x2APIC/APIC-register/interrupt-delivery virtualization without \"use TPR shadow\"",
        c->proc2);
  CHECK(CTLS_X2APIC_AND_APIC_ACCESS, !(c->proc2 & PROC2_VIRT_X2APIC) || !apic_access,
        "SECONDARY_VM_EXEC_CONTROL = %#x sets both virtualize x2APIC mode (bit 4) and virtualize APIC accesses (bit 0)",
        c->proc2);
  CHECK(CTLS_VID_WITHOUT_EXT_INT_EXITING, !vid || (c->pin & PIN_EXT_INTR_EXITING),
        "virtual-interrupt delivery with PIN_BASED_VM_EXEC_CONTROL = %#x lacking external-interrupt exiting", c->pin);
  if (c->proc2 & PROC2_ENABLE_VPID)
    CHECK(CTLS_VPID_ZERO, F(VIRTUAL_PROCESSOR_ID) != 0, "VIRTUAL_PROCESSOR_ID = 0 with \"enable VPID\"");

  bool ept = c->proc2 & PROC2_ENABLE_EPT;
  if (ept) {
    uint64_t eptp = F(EPT_POINTER), cap = caps->ept_vpid_cap;
    unsigned mt = eptp & 7, walk = (eptp >> 3) & 7;
    CHECK(CTLS_EPTP_MEMTYPE, (mt == 0 && (cap & EPTCAP_MEMTYPE_UC)) || (mt == 6 && (cap & EPTCAP_MEMTYPE_WB)),
          "EPT_POINTER = %#llx: memory type %u not supported (IA32_VMX_EPT_VPID_CAP = %#llx)", (ull)eptp, mt, (ull)cap);
    CHECK(CTLS_EPTP_WALK_LENGTH, (walk == 3 && (cap & EPTCAP_WALK_4)) || (walk == 4 && (cap & EPTCAP_WALK_5)),
          "EPT_POINTER = %#llx: page-walk length %u not supported", (ull)eptp, walk + 1);
    CHECK(CTLS_EPTP_AD, !(eptp & BIT64(6)) || (cap & EPTCAP_AD),
          "EPT_POINTER = %#llx enables accessed/dirty flags; IA32_VMX_EPT_VPID_CAP bit 21 is 0", (ull)eptp);
    uint64_t rsvd = (0x1Full << 7) | ~((1ull << caps->maxphyaddr) - 1);
    if (cap & EPTCAP_SSS) rsvd &= ~BIT64(7);
    CHECK(CTLS_EPTP_RESERVED, (eptp & rsvd) == 0, "EPT_POINTER = %#llx sets reserved bits %#llx", (ull)eptp,
          (ull)(eptp & rsvd));
  }
  if (c->proc2 & PROC2_ENABLE_PML) {
    CHECK(CTLS_PML_WITHOUT_EPT, ept, "SECONDARY_VM_EXEC_CONTROL = %#x: enable PML without enable EPT", c->proc2);
    check_addr(c, ec_page_ok(c, F(PML_ADDRESS)), VMX_ENTRY_CTLS_PML_ADDR, "PML_ADDRESS", F(PML_ADDRESS));
  }
  CHECK(CTLS_UG_WITHOUT_EPT, !c->ug || ept,
        "SECONDARY_VM_EXEC_CONTROL = %#x: unrestricted guest without enable EPT", c->proc2);
  if (c->proc2 & PROC2_ENABLE_VMFUNC) {
    uint64_t fn = F(VM_FUNCTION_CONTROL);
    CHECK(CTLS_VMFUNC_RESERVED, (fn & ~caps->vmfunc) == 0,
          "VM_FUNCTION_CONTROL = %#llx; IA32_VMX_VMFUNC allows %#llx", (ull)fn, (ull)caps->vmfunc);
    if (fn & VMFUNC_EPTP_SWITCHING) {
      CHECK(CTLS_EPTP_SWITCHING_WITHOUT_EPT, ept,
            "VM_FUNCTION_CONTROL = %#llx: EPTP switching without enable EPT", (ull)fn);
      check_addr(c, ec_page_ok(c, F(EPTP_LIST_ADDRESS)), VMX_ENTRY_CTLS_EPTP_LIST_ADDR, "EPTP_LIST_ADDRESS",
                 F(EPTP_LIST_ADDRESS));
    }
  }
  if (c->proc2 & PROC2_VMCS_SHADOWING) {
    if (!ec_page_ok(c, F(VMREAD_BITMAP)))
      check_addr(c, false, VMX_ENTRY_CTLS_VMCS_SHADOW_BITMAP_ADDR, "VMREAD_BITMAP", F(VMREAD_BITMAP));
    if (!ec_page_ok(c, F(VMWRITE_BITMAP)))
      check_addr(c, false, VMX_ENTRY_CTLS_VMCS_SHADOW_BITMAP_ADDR, "VMWRITE_BITMAP", F(VMWRITE_BITMAP));
  }
  if (c->proc2 & PROC2_EPT_VIOLATION_VE)
    check_addr(c, ec_page_ok(c, F(VE_INFO_ADDRESS)), VMX_ENTRY_CTLS_VE_INFO_ADDR, "VE_INFO_ADDRESS", F(VE_INFO_ADDRESS));
}

static void check_exit(struct ec *c)
{
  uint64_t msr = vmx_caps_exit_ctls(c->caps);
  CHECK(CTLS_EXIT_RESERVED, vmx_ctl_valid(msr, c->exit),
        "VM_EXIT_CONTROLS = %#x; must-be-1 %#x, may-be-1 %#x", c->exit, (uint32_t)msr, (uint32_t)(msr >> 32));
  CHECK(CTLS_EXIT_SAVE_PREEMPT_WITHOUT_TIMER,
        !(c->exit & EXIT_SAVE_PREEMPT_TIMER) || (c->pin & PIN_PREEMPTION_TIMER),
        "VM_EXIT_CONTROLS = %#x saves the preemption timer; PIN_BASED_VM_EXEC_CONTROL = %#x does not activate it",
        c->exit, c->pin);
  check_msr_list(c, VMX_ENTRY_CTLS_EXIT_MSR_STORE_ADDR, "VM_EXIT_MSR_STORE", F(VM_EXIT_MSR_STORE_COUNT),
                 F(VM_EXIT_MSR_STORE_ADDR));
  check_msr_list(c, VMX_ENTRY_CTLS_EXIT_MSR_LOAD_ADDR, "VM_EXIT_MSR_LOAD", F(VM_EXIT_MSR_LOAD_COUNT),
                 F(VM_EXIT_MSR_LOAD_ADDR));
}

/* Hardware exceptions that push an error code (#DF, #TS, #NP, #SS, #GP,
 * #PF, #AC). */
static bool has_error_code(unsigned vector)
{
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static void check_event_injection(struct ec *c)
{
  uint32_t info = (uint32_t)F(VM_ENTRY_INTR_INFO);
  if (!(info & INTR_INFO_VALID)) return;
  unsigned type = INTR_INFO_TYPE(info), vector = INTR_INFO_VECTOR(info);
  bool mtf = (c->caps->procbased >> 32) & PROC_MONITOR_TRAP_FLAG;
  CHECK(CTLS_ENTRY_INTR_TYPE, type != INTR_TYPE_RESERVED && (type != INTR_TYPE_OTHER_EVENT || mtf),
        "VM_ENTRY_INTR_INFO = %#x: type %u %s", info, type,
        type == INTR_TYPE_RESERVED ? "is reserved" : "(other event) needs monitor trap flag support");
  if (type == INTR_TYPE_NMI)
    CHECK(CTLS_ENTRY_INTR_NMI_VECTOR, vector == 2, "VM_ENTRY_INTR_INFO = %#x: NMI with vector %u", info, vector);
  if (type == INTR_TYPE_HW_EXCEPTION)
    CHECK(CTLS_ENTRY_INTR_HW_EXC_VECTOR, vector <= 31,
          "VM_ENTRY_INTR_INFO = %#x: hardware exception vector %u > 31", info, vector);
  if (type == INTR_TYPE_OTHER_EVENT)
    CHECK(CTLS_ENTRY_INTR_OTHER_VECTOR, vector == 0, "VM_ENTRY_INTR_INFO = %#x: other event with vector %u", info, vector);

  bool pe = F(GUEST_CR0) & 1;
  bool deliver = info & INTR_INFO_DELIVER_CODE;
  bool relaxed = (c->caps->basic & BASIC_NO_ERRCODE_CHECK) && type == INTR_TYPE_HW_EXCEPTION;
  bool needs = (!c->ug || pe) && type == INTR_TYPE_HW_EXCEPTION && has_error_code(vector);
  if (!relaxed) {
    CHECK(CTLS_ENTRY_INTR_ERRCODE_REQUIRED, deliver || !needs,
          "VM_ENTRY_INTR_INFO = %#x: exception %u in protected mode must deliver an error code", info, vector);
    CHECK(CTLS_ENTRY_INTR_ERRCODE_FORBIDDEN, !deliver || needs,
          "VM_ENTRY_INTR_INFO = %#x delivers an error code for type %u vector %u (guest CR0.PE = %d, unrestricted guest = %d)",
          info, type, vector, pe, c->ug);
  }
  CHECK(CTLS_ENTRY_INTR_RESERVED, (info & INTR_INFO_RESERVED) == 0,
        "VM_ENTRY_INTR_INFO = %#x sets reserved bits 30:12", info);
  if (deliver)
    CHECK(CTLS_ENTRY_EXC_ERRCODE_RESERVED, (F(VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF0000u) == 0,
          "VM_ENTRY_EXCEPTION_ERROR_CODE = %#llx sets bits 31:16", (ull)F(VM_ENTRY_EXCEPTION_ERROR_CODE));
  if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION) {
    uint64_t len = F(VM_ENTRY_INSTRUCTION_LEN);
    bool zero_ok = c->caps->misc & MISC_INJECT_ILEN_ZERO;
    CHECK(CTLS_ENTRY_INTR_INSTR_LEN, (len >= 1 && len <= 15) || (len == 0 && zero_ok),
          "VM_ENTRY_INSTRUCTION_LEN = %llu for event type %u (allowed 1-15%s)", (ull)len, type,
          zero_ok ? " or 0" : "");
  }
}

static void check_entry(struct ec *c)
{
  uint64_t msr = vmx_caps_entry_ctls(c->caps);
  CHECK(CTLS_ENTRY_RESERVED, vmx_ctl_valid(msr, c->entry),
        "VM_ENTRY_CONTROLS = %#x; must-be-1 %#x, may-be-1 %#x", c->entry, (uint32_t)msr, (uint32_t)(msr >> 32));
  check_event_injection(c);
  check_msr_list(c, VMX_ENTRY_CTLS_ENTRY_MSR_LOAD_ADDR, "VM_ENTRY_MSR_LOAD", F(VM_ENTRY_MSR_LOAD_COUNT),
                 F(VM_ENTRY_MSR_LOAD_ADDR));
  /* The model never runs in SMM. */
  CHECK(CTLS_ENTRY_SMM_OUTSIDE_SMM, !(c->entry & ENTRY_TO_SMM),
        "VM_ENTRY_CONTROLS = %#x sets entry to SMM (bit 10) outside SMM", c->entry);
  CHECK(CTLS_ENTRY_DUAL_MONITOR_OUTSIDE_SMM, !(c->entry & ENTRY_DEACT_DUAL_MONITOR),
        "VM_ENTRY_CONTROLS = %#x sets deactivate dual-monitor treatment (bit 11) outside SMM", c->entry);
}

void ec_check_controls(struct ec *c)
{
  check_execution(c);
  check_exit(c);
  check_entry(c);
}
