/* VMX backend set-up: VMXON, the VMCS's controls (adjusted to the
 * capability MSRs), host state and the guest's initial state. SDM Vol. 3C,
 * "Enabling and Entering VMX Operation", "VM-Execution Control Fields",
 * "Checks on VMX Controls and Host-State Area", "Checks on the Guest State
 * Area". */
#include "hv/vmx/vmx_impl.h"

bool hv_vmx_probe(void)
{
    uint32_t r[4];
    plat_cpuid(1, 0, r);
    return r[2] & (1u << 5);
}

/* SDM Vol. 3C, "Algorithms for Determining VMX Capabilities": bits 31:0 of
 * a capability MSR are the allowed 0-settings (1 = must be 1), bits 63:32
 * the allowed 1-settings. Use the TRUE_ MSRs when IA32_VMX_BASIC bit 55
 * says they exist, so default-1 controls hv does not need (CR3 exiting
 * under EPT) can be cleared. */
static bool adjust(const char *what, uint32_t msr, uint32_t true_msr, uint32_t want, uint32_t *out)
{
    uint64_t cap = plat_rdmsr((plat_rdmsr(MSR_VMX_BASIC) >> 55) & 1 ? true_msr : msr);
    uint32_t ctl = (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
    if ((ctl & want) != want) {
        hv_printf("hv: vmx: %s controls 0x%x not supported (allowed 0x%x)\n", what, want,
                  (uint32_t)(cap >> 32));
        return false;
    }
    *out = ctl;
    return true;
}

static void clear_bitmap_bits(uint32_t msr, void *ctx)
{
    uint8_t *bm = ctx;
    /* SDM Vol. 3C, "MSR-Bitmap Address": read bitmaps for MSRs 0-1FFFh at
     * 0, C0000000h-C0001FFFh at 1024; the write bitmaps follow at 2048. */
    unsigned base;
    if (msr <= 0x1fffu)
        base = 0;
    else if (msr - 0xc0000000u <= 0x1fffu)
        base = 1024;
    else
        return;
    unsigned bit = msr & 0x1fffu;
    bm[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
    bm[base + 2048 + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

uint64_t hv_vmx_real_cr0(struct hv_vcpu *v)
{
    uint64_t cr0 = v->cr0 | (v->mode == HV_MEM_SHADOW ? CR0_WP : 0);
    return (cr0 | plat_rdmsr(MSR_VMX_CR0_FIXED0)) & plat_rdmsr(MSR_VMX_CR0_FIXED1);
}

uint64_t hv_vmx_real_cr4(struct hv_vcpu *v)
{
    return (v->cr4 | plat_rdmsr(MSR_VMX_CR4_FIXED0)) & plat_rdmsr(MSR_VMX_CR4_FIXED1);
}

/* VMXON (SDM Vol. 3C, "Enabling and Entering VMX Operation"): the feature
 * control MSR must allow VMX outside SMX; CR0 and CR4 must respect the
 * fixed bits, CR4.VMXE among them. */
static bool enter_vmx_operation(void)
{
    uint64_t fc = plat_rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & 1)) {
        fc |= 1 | (1u << 2);
        plat_wrmsr(MSR_FEATURE_CONTROL, fc);
    }
    if (!(fc & (1u << 2))) {
        hv_printf("hv: vmx: VMX outside SMX is disabled by the firmware (IA32_FEATURE_CONTROL)\n");
        return false;
    }
    plat_write_cr(0, (plat_read_cr(0) | plat_rdmsr(MSR_VMX_CR0_FIXED0)) & plat_rdmsr(MSR_VMX_CR0_FIXED1));
    plat_write_cr(4, (plat_read_cr(4) | CR4_VMXE | plat_rdmsr(MSR_VMX_CR4_FIXED0)) &
                         plat_rdmsr(MSR_VMX_CR4_FIXED1));
    uint32_t revision = (uint32_t)plat_rdmsr(MSR_VMX_BASIC) & 0x7fffffffu;
    hv_vmx.vmxon_pa = plat_alloc_page();
    hv_vmx.vmcs_pa = plat_alloc_page();
    hv_vmx.msr_bitmap_pa = plat_alloc_page();
    if (!hv_vmx.vmxon_pa || !hv_vmx.vmcs_pa || !hv_vmx.msr_bitmap_pa)
        return false;
    *(uint32_t *)plat_phys(hv_vmx.vmxon_pa) = revision;
    *(uint32_t *)plat_phys(hv_vmx.vmcs_pa) = revision;
    if (plat_vmxon(hv_vmx.vmxon_pa)) {
        hv_printf("hv: vmx: VMXON failed\n");
        return false;
    }
    if (plat_vmclear(hv_vmx.vmcs_pa) || plat_vmptrld(hv_vmx.vmcs_pa)) {
        hv_printf("hv: vmx: VMCLEAR/VMPTRLD failed\n");
        return false;
    }
    return true;
}

static bool setup_controls(struct hv_vcpu *v)
{
    bool shadow = v->mode == HV_MEM_SHADOW;
    uint32_t pin, proc, proc2 = 0, exit, entry;
    uint32_t want_proc = PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_MSR_BITMAPS |
                         (shadow ? PROC_INVLPG_EXITING | PROC_CR3_LOAD_EXITING |
                                       PROC_CR3_STORE_EXITING
                                 : PROC_SECONDARY);
    if (!adjust("pin-based", MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, 0, &pin) ||
        !adjust("processor-based", MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED, want_proc, &proc) ||
        !adjust("VM-exit", MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT,
                EXIT_HOST_64BIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER, &exit) ||
        !adjust("VM-entry", MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY, ENTRY_IA32E_GUEST | ENTRY_LOAD_EFER,
                &entry))
        return false;
    if (!shadow) {
        /* SLAT: EPT with VPID (SDM Vol. 3C, "EPT Translation Mechanism",
         * "Virtual-Processor Identifiers (VPIDs)"). */
        if (!adjust("secondary", MSR_VMX_PROCBASED2, MSR_VMX_PROCBASED2,
                    PROC2_ENABLE_EPT | PROC2_ENABLE_VPID, &proc2))
            return false;
        hv_vmx.ept_vpid_cap = plat_rdmsr(MSR_VMX_EPT_VPID_CAP);
        if (!(hv_vmx.ept_vpid_cap & EPT_CAP_WALK4) || !(hv_vmx.ept_vpid_cap & EPT_CAP_WB)) {
            hv_printf("hv: vmx: EPT needs 4-level walks and write-back tables\n");
            return false;
        }
        /* EPT entries: read, write, execute (bits 2:0); leaves also carry
         * the memory type (bits 5:3, 6 = write-back): "EPT Translation
         * Mechanism", "EPT and Memory Typing". */
        uint64_t root = hv_slat_build(v, 0x7, 0x7 | (6ull << 3));
        if (!root)
            return false;
        /* EPTP: memory type WB (6), walk length 4 - 1 in bits 5:3
         * ("Extended-Page-Table Pointer (EPTP)"). */
        hv_vmx.eptp = root | 6 | (3ull << 3);
        hv_vmx_write(EPT_POINTER, hv_vmx.eptp);
        hv_vmx_write(VPID, 1);
        hv_vmx_write(SECONDARY_CONTROLS, proc2);
    }
    hv_vmx_write(PIN_BASED_CONTROLS, pin);
    hv_vmx_write(PROC_BASED_CONTROLS, proc);
    hv_vmx_write(EXIT_CONTROLS, exit);
    hv_vmx_write(ENTRY_CONTROLS, entry);
    hv_vmx_write(EXCEPTION_BITMAP, shadow ? 1u << VEC_PF : 0);
    hv_vmx_write(PF_ERROR_CODE_MASK, 0);
    hv_vmx_write(PF_ERROR_CODE_MATCH, 0);
    hv_vmx_write(CR3_TARGET_COUNT, 0);
    hv_vmx_write(EXIT_MSR_STORE_COUNT, 0);
    hv_vmx_write(EXIT_MSR_LOAD_COUNT, 0);
    hv_vmx_write(ENTRY_MSR_LOAD_COUNT, 0);
    hv_vmx_write(ENTRY_INTR_INFO, 0);
    uint8_t *bm = plat_phys(hv_vmx.msr_bitmap_pa);
    hv_memset(bm, 0xff, 4096);
    hv_msr_for_each_passthrough(clear_bitmap_bits, bm);
    hv_vmx_write(MSR_BITMAP, hv_vmx.msr_bitmap_pa);
    /* hv owns every CR0 and CR4 bit: the guest reads the shadows, and any
     * write that changes a bit exits ("Guest/Host Masks and Read Shadows
     * for CR0 and CR4"). */
    hv_vmx_write(CR0_GUEST_HOST_MASK, ~0ull);
    hv_vmx_write(CR4_GUEST_HOST_MASK, ~0ull);
    return true;
}

static void setup_host_state(void)
{
    struct plat_host_state hs;
    plat_host_state(&hs);
    hv_vmx_write(HOST_CR0, plat_read_cr(0));
    hv_vmx_write(HOST_CR3, plat_read_cr(3));
    hv_vmx_write(HOST_CR4, plat_read_cr(4));
    hv_vmx_write(HOST_CS_SEL, hs.cs);
    hv_vmx_write(HOST_SS_SEL, hs.ss);
    hv_vmx_write(HOST_DS_SEL, hs.ds);
    hv_vmx_write(HOST_ES_SEL, hs.es);
    hv_vmx_write(HOST_FS_SEL, hs.fs);
    hv_vmx_write(HOST_GS_SEL, hs.gs);
    hv_vmx_write(HOST_TR_SEL, hs.tr);
    hv_vmx_write(HOST_FS_BASE, hs.fs_base);
    hv_vmx_write(HOST_GS_BASE, hs.gs_base);
    hv_vmx_write(HOST_TR_BASE, hs.tr_base);
    hv_vmx_write(HOST_GDTR_BASE, hs.gdtr_base);
    hv_vmx_write(HOST_IDTR_BASE, hs.idtr_base);
    hv_vmx_write(HOST_IA32_EFER, plat_rdmsr(MSR_EFER));
    hv_vmx_write(HOST_SYSENTER_CS, plat_rdmsr(MSR_SYSENTER_CS));
    hv_vmx_write(HOST_SYSENTER_ESP, plat_rdmsr(MSR_SYSENTER_ESP));
    hv_vmx_write(HOST_SYSENTER_EIP, plat_rdmsr(MSR_SYSENTER_EIP));
}

static void guest_segment(uint64_t sel_field, uint16_t sel, uint32_t limit, uint32_t ar)
{
    /* Selector, base, limit and access rights are at fixed offsets from
     * the selector's encoding ("Field Encoding in VMCS", Appendix B). */
    uint64_t index = sel_field - GUEST_ES_SEL;
    hv_vmx_write(sel_field, sel);
    hv_vmx_write(GUEST_ES_LIMIT + index, limit);
    hv_vmx_write(GUEST_ES_AR + index, ar);
    hv_vmx_write(GUEST_ES_BASE + index, 0);
}

/* Guest state: 64-bit code (L=1), flat data, a busy 64-bit TSS, LDTR
 * unusable (SDM Vol. 3C, "Checks on Guest Segment Registers"). */
static void setup_guest_state(struct hv_vcpu *v)
{
    guest_segment(GUEST_CS_SEL, 0x08, 0xffffffff, 0xa09b);
    guest_segment(GUEST_SS_SEL, 0x10, 0xffffffff, 0xc093);
    guest_segment(GUEST_DS_SEL, 0x10, 0xffffffff, 0xc093);
    guest_segment(GUEST_ES_SEL, 0x10, 0xffffffff, 0xc093);
    guest_segment(GUEST_FS_SEL, 0x10, 0xffffffff, 0xc093);
    guest_segment(GUEST_GS_SEL, 0x10, 0xffffffff, 0xc093);
    guest_segment(GUEST_TR_SEL, 0x18, 0x67, 0x008b);
    guest_segment(GUEST_LDTR_SEL, 0, 0, 0x10000);
    hv_vmx_write(GUEST_GDTR_BASE, 0);
    hv_vmx_write(GUEST_GDTR_LIMIT, 0xffff);
    hv_vmx_write(GUEST_IDTR_BASE, 0);
    hv_vmx_write(GUEST_IDTR_LIMIT, 0xffff);
    hv_vmx_write(GUEST_DR7, 0x400);
    hv_vmx_write(GUEST_IA32_DEBUGCTL, 0);
    hv_vmx_write(GUEST_SYSENTER_CS, 0);
    hv_vmx_write(GUEST_SYSENTER_ESP, 0);
    hv_vmx_write(GUEST_SYSENTER_EIP, 0);
    hv_vmx_write(GUEST_RSP, v->g.r[4]);
    hv_vmx_write(GUEST_RIP, v->rip);
    hv_vmx_write(GUEST_RFLAGS, v->rflags);
    hv_vmx_write(GUEST_INTERRUPTIBILITY, 0);
    hv_vmx_write(GUEST_ACTIVITY_STATE, 0);
    hv_vmx_write(GUEST_PENDING_DBG, 0);
    hv_vmx_write(VMCS_LINK_POINTER, ~0ull);   /* "Checks on Guest Non-Register State" */
    hv_vmx_set_cr(v, 0);
    hv_vmx_set_cr(v, 3);
    hv_vmx_set_cr(v, 4);
    hv_vmx_set_cr(v, HV_REG_EFER);
}

bool hv_vmx_setup(struct hv_vcpu *v)
{
    hv_memset(&hv_vmx, 0, sizeof(hv_vmx));
    hv_vmx_reset_exit_counts();
    hv_vmx_current = v;
    if (!enter_vmx_operation() || !setup_controls(v))
        return false;
    setup_host_state();
    setup_guest_state(v);
    if (v->mode == HV_MEM_SLAT) {
        /* Fresh tables under a fresh VPID: drop anything cached for them
         * ("Invalidation of TLBs and Paging-Structure Caches"). */
        if (hv_vmx.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
            plat_invept(1, hv_vmx.eptp);
        if (hv_vmx.ept_vpid_cap & VPID_CAP_INVVPID_SINGLE)
            plat_invvpid(1, 1, 0);
    }
    return true;
}
