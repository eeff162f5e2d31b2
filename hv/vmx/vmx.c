/* The VMX backend: VMXON, VMCS set-up, the VMLAUNCH/VMRESUME loop and the
 * VM-exit handlers, which decode Intel's exit information and call the
 * vendor-neutral core. SDM Vol. 3C, "Introduction to Virtual Machine
 * Extensions" through "VMX Instruction Reference". */
#include "hv/core/hv.h"

enum vmcs_field {
#define VMCS_FIELD(name, enc) name = enc,
#include "hv/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Capability MSRs (SDM Vol. 3C, "VMX Capability Reporting Facility"). */
#define MSR_FEATURE_CONTROL  0x3au
#define MSR_VMX_BASIC        0x480u
#define MSR_VMX_PINBASED     0x481u
#define MSR_VMX_PROCBASED    0x482u
#define MSR_VMX_EXIT         0x483u
#define MSR_VMX_ENTRY        0x484u
#define MSR_VMX_CR0_FIXED0   0x486u
#define MSR_VMX_CR0_FIXED1   0x487u
#define MSR_VMX_CR4_FIXED0   0x488u
#define MSR_VMX_CR4_FIXED1   0x489u
#define MSR_VMX_PROCBASED2   0x48bu
#define MSR_VMX_EPT_VPID_CAP 0x48cu
#define MSR_VMX_TRUE_PINBASED  0x48du
#define MSR_VMX_TRUE_PROCBASED 0x48eu
#define MSR_VMX_TRUE_EXIT      0x48fu
#define MSR_VMX_TRUE_ENTRY     0x490u
#define MSR_EFER             0xc0000080u
#define MSR_SYSENTER_CS      0x174u
#define MSR_SYSENTER_ESP     0x175u
#define MSR_SYSENTER_EIP     0x176u

/* Control bits (SDM Vol. 3C, "VM-Execution Control Fields", "VM-Exit
 * Control Fields", "VM-Entry Control Fields"). */
#define PROC_HLT_EXITING       (1u << 7)
#define PROC_INVLPG_EXITING    (1u << 9)
#define PROC_CR3_LOAD_EXITING  (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_USE_MSR_BITMAPS   (1u << 28)
#define PROC_SECONDARY         (1u << 31)
#define PROC2_ENABLE_EPT       (1u << 1)
#define PROC2_ENABLE_VPID      (1u << 5)
#define EXIT_HOST_64BIT        (1u << 9)
#define EXIT_SAVE_EFER         (1u << 20)
#define EXIT_LOAD_EFER         (1u << 21)
#define ENTRY_IA32E_GUEST      (1u << 9)
#define ENTRY_LOAD_EFER        (1u << 15)

/* Event injection and IDT-vectoring information (SDM Vol. 3C, "VM-Entry
 * Controls for Event Injection", "Information for VM Exits During Event
 * Delivery"). */
#define INTR_INFO_VALID        (1u << 31)
#define INTR_INFO_HAS_ERROR    (1u << 11)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)

/* EPT_VPID_CAP bits (SDM Vol. 3C, "VPID and EPT Capabilities"). */
#define EPT_CAP_WALK4          (1ull << 6)
#define EPT_CAP_WB             (1ull << 14)
#define EPT_CAP_INVEPT_SINGLE  (1ull << 25)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)

static struct {
    uint64_t vmxon_pa, vmcs_pa, msr_bitmap_pa, eptp, ept_vpid_cap;
    bool launched;
} vmx;

/* ---- the exit table ---- */
typedef enum hv_next (*vmx_handler)(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_exception(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_cpuid(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_hlt(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_invlpg(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_vmcall(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_ud(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_cr(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_io(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_rdmsr(struct hv_vcpu *v, uint64_t qual);
static enum hv_next vmx_exit_wrmsr(struct hv_vcpu *v, uint64_t qual);

#define VMX_EXIT_MAX 65
static const struct {
    const char *name;
    vmx_handler handler;
} vmx_exits[VMX_EXIT_MAX] = {
#define VMX_EXIT(reason, name, handler) [reason] = {#name, handler},
#include "hv/vmx/vmx_exits.def"
#undef VMX_EXIT
};
static uint64_t vmx_exit_counts[VMX_EXIT_MAX];

static const char *exit_name(uint64_t reason)
{
    reason &= 0xffff;
    return reason < VMX_EXIT_MAX && vmx_exits[reason].name ? vmx_exits[reason].name : "unknown";
}

/* ---- VMCS access: a failing VMREAD/VMWRITE is a bug in hv: stop. ---- */
static struct hv_vcpu *current;

static uint64_t vmread(uint64_t field)
{
    uint64_t value;
    if (plat_vmread(field, &value))
        hv_stop(current, "VMREAD of field 0x%lx failed", field);
    return value;
}

static void vmwrite(uint64_t field, uint64_t value)
{
    if (plat_vmwrite(field, value)) {
        uint64_t err = 0;
        plat_vmread(VM_INSTRUCTION_ERROR, &err);
        hv_stop(current, "VMWRITE of field 0x%lx = 0x%lx failed (VM-instruction error %lu)",
                field, value, err);
    }
}

/* ---- set-up ---- */
static bool vmx_probe(void)
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

static uint64_t real_cr0(struct hv_vcpu *v)
{
    uint64_t cr0 = v->cr0 | (v->mode == HV_MEM_SHADOW ? CR0_WP : 0);
    return (cr0 | plat_rdmsr(MSR_VMX_CR0_FIXED0)) & plat_rdmsr(MSR_VMX_CR0_FIXED1);
}

static uint64_t real_cr4(struct hv_vcpu *v)
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
    vmx.vmxon_pa = plat_alloc_page();
    vmx.vmcs_pa = plat_alloc_page();
    vmx.msr_bitmap_pa = plat_alloc_page();
    if (!vmx.vmxon_pa || !vmx.vmcs_pa || !vmx.msr_bitmap_pa)
        return false;
    *(uint32_t *)plat_phys(vmx.vmxon_pa) = revision;
    *(uint32_t *)plat_phys(vmx.vmcs_pa) = revision;
    if (plat_vmxon(vmx.vmxon_pa)) {
        hv_printf("hv: vmx: VMXON failed\n");
        return false;
    }
    if (plat_vmclear(vmx.vmcs_pa) || plat_vmptrld(vmx.vmcs_pa)) {
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
        vmx.ept_vpid_cap = plat_rdmsr(MSR_VMX_EPT_VPID_CAP);
        if (!(vmx.ept_vpid_cap & EPT_CAP_WALK4) || !(vmx.ept_vpid_cap & EPT_CAP_WB)) {
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
        vmx.eptp = root | 6 | (3ull << 3);
        vmwrite(EPT_POINTER, vmx.eptp);
        vmwrite(VPID, 1);
        vmwrite(SECONDARY_CONTROLS, proc2);
    }
    vmwrite(PIN_BASED_CONTROLS, pin);
    vmwrite(PROC_BASED_CONTROLS, proc);
    vmwrite(EXIT_CONTROLS, exit);
    vmwrite(ENTRY_CONTROLS, entry);
    vmwrite(EXCEPTION_BITMAP, shadow ? 1u << VEC_PF : 0);
    vmwrite(PF_ERROR_CODE_MASK, 0);
    vmwrite(PF_ERROR_CODE_MATCH, 0);
    vmwrite(CR3_TARGET_COUNT, 0);
    vmwrite(EXIT_MSR_STORE_COUNT, 0);
    vmwrite(EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(ENTRY_INTR_INFO, 0);
    uint8_t *bm = plat_phys(vmx.msr_bitmap_pa);
    hv_memset(bm, 0xff, 4096);
    hv_msr_for_each_passthrough(clear_bitmap_bits, bm);
    vmwrite(MSR_BITMAP, vmx.msr_bitmap_pa);
    /* hv owns every CR0 and CR4 bit: the guest reads the shadows, and any
     * write that changes a bit exits ("Guest/Host Masks and Read Shadows
     * for CR0 and CR4"). */
    vmwrite(CR0_GUEST_HOST_MASK, ~0ull);
    vmwrite(CR4_GUEST_HOST_MASK, ~0ull);
    return true;
}

static void setup_host_state(void)
{
    struct plat_host_state hs;
    plat_host_state(&hs);
    vmwrite(HOST_CR0, plat_read_cr(0));
    vmwrite(HOST_CR3, plat_read_cr(3));
    vmwrite(HOST_CR4, plat_read_cr(4));
    vmwrite(HOST_CS_SEL, hs.cs);
    vmwrite(HOST_SS_SEL, hs.ss);
    vmwrite(HOST_DS_SEL, hs.ds);
    vmwrite(HOST_ES_SEL, hs.es);
    vmwrite(HOST_FS_SEL, hs.fs);
    vmwrite(HOST_GS_SEL, hs.gs);
    vmwrite(HOST_TR_SEL, hs.tr);
    vmwrite(HOST_FS_BASE, hs.fs_base);
    vmwrite(HOST_GS_BASE, hs.gs_base);
    vmwrite(HOST_TR_BASE, hs.tr_base);
    vmwrite(HOST_GDTR_BASE, hs.gdtr_base);
    vmwrite(HOST_IDTR_BASE, hs.idtr_base);
    vmwrite(HOST_IA32_EFER, plat_rdmsr(MSR_EFER));
    vmwrite(HOST_SYSENTER_CS, plat_rdmsr(MSR_SYSENTER_CS));
    vmwrite(HOST_SYSENTER_ESP, plat_rdmsr(MSR_SYSENTER_ESP));
    vmwrite(HOST_SYSENTER_EIP, plat_rdmsr(MSR_SYSENTER_EIP));
}

static void guest_segment(uint64_t sel_field, uint16_t sel, uint32_t limit, uint32_t ar)
{
    /* Selector, base, limit and access rights are at fixed offsets from
     * the selector's encoding ("Field Encoding in VMCS", Appendix B). */
    uint64_t index = sel_field - GUEST_ES_SEL;
    vmwrite(sel_field, sel);
    vmwrite(GUEST_ES_LIMIT + index, limit);
    vmwrite(GUEST_ES_AR + index, ar);
    vmwrite(GUEST_ES_BASE + index, 0);
}

static void vmx_set_cr(struct hv_vcpu *v, int cr);

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
    vmwrite(GUEST_GDTR_BASE, 0);
    vmwrite(GUEST_GDTR_LIMIT, 0xffff);
    vmwrite(GUEST_IDTR_BASE, 0);
    vmwrite(GUEST_IDTR_LIMIT, 0xffff);
    vmwrite(GUEST_DR7, 0x400);
    vmwrite(GUEST_IA32_DEBUGCTL, 0);
    vmwrite(GUEST_SYSENTER_CS, 0);
    vmwrite(GUEST_SYSENTER_ESP, 0);
    vmwrite(GUEST_SYSENTER_EIP, 0);
    vmwrite(GUEST_RSP, v->g.r[4]);
    vmwrite(GUEST_RIP, v->rip);
    vmwrite(GUEST_RFLAGS, v->rflags);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    vmwrite(GUEST_ACTIVITY_STATE, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_LINK_POINTER, ~0ull);   /* "Checks on Guest Non-Register State" */
    vmx_set_cr(v, 0);
    vmx_set_cr(v, 3);
    vmx_set_cr(v, 4);
    vmx_set_cr(v, HV_REG_EFER);
}

static bool vmx_setup(struct hv_vcpu *v)
{
    hv_memset(&vmx, 0, sizeof(vmx));
    hv_memset(vmx_exit_counts, 0, sizeof(vmx_exit_counts));
    current = v;
    if (!enter_vmx_operation() || !setup_controls(v))
        return false;
    setup_host_state();
    setup_guest_state(v);
    if (v->mode == HV_MEM_SLAT) {
        /* Fresh tables under a fresh VPID: drop anything cached for them
         * ("Invalidation of TLBs and Paging-Structure Caches"). */
        if (vmx.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
            plat_invept(1, vmx.eptp);
        if (vmx.ept_vpid_cap & VPID_CAP_INVVPID_SINGLE)
            plat_invvpid(1, 1, 0);
    }
    return true;
}

/* ---- the backend operations ---- */
static void vmx_set_cr(struct hv_vcpu *v, int cr)
{
    switch (cr) {
    case 0:
        vmwrite(CR0_READ_SHADOW, v->cr0);
        vmwrite(GUEST_CR0, real_cr0(v));
        return;
    case 3:
        vmwrite(GUEST_CR3, v->mode == HV_MEM_SHADOW ? v->shadow_root : v->cr3);
        return;
    case 4:
        vmwrite(CR4_READ_SHADOW, v->cr4);
        vmwrite(GUEST_CR4, real_cr4(v));
        return;
    case HV_REG_EFER:
        vmwrite(GUEST_IA32_EFER, v->efer);
        return;
    }
    hv_stop(v, "vmx_set_cr: no such register %d", cr);
}

static uint64_t vmx_guest_cr3(struct hv_vcpu *v)
{
    (void)v;
    return vmread(GUEST_CR3);
}

/* Shadow mode runs without VPID: every VM entry and exit then invalidates
 * the guest's linear mappings ("Operations that Invalidate Cached
 * Mappings"), so shadow changes need nothing more. */
static void vmx_flush_tlb(struct hv_vcpu *v)
{
    (void)v;
}

static void vmx_inject(struct hv_vcpu *v, int vector, bool has_error, uint32_t error)
{
    if (vmread(ENTRY_INTR_INFO) & INTR_INFO_VALID)
        hv_stop(v, "exception %d while injecting another: double faults are not modelled", vector);
    vmwrite(ENTRY_INTR_INFO, (uint32_t)vector | INTR_TYPE_HW_EXCEPTION | INTR_INFO_VALID |
                                 (has_error ? INTR_INFO_HAS_ERROR : 0));
    if (has_error)
        vmwrite(ENTRY_EXCEPTION_ERROR, error);
    if (vector == VEC_PF)
        v->cr2_dirty = true;
}

static void vmx_dump(struct hv_vcpu *v)
{
    (void)v;
    uint64_t reason = 0, qual = 0, err = 0, info = 0, idt = 0, gpa = 0, cr0 = 0, cr3 = 0, cr4 = 0;
    plat_vmread(EXIT_REASON, &reason);
    plat_vmread(EXIT_QUALIFICATION, &qual);
    plat_vmread(VM_INSTRUCTION_ERROR, &err);
    plat_vmread(EXIT_INTR_INFO, &info);
    plat_vmread(IDT_VECTORING_INFO, &idt);
    plat_vmread(GUEST_PHYSICAL_ADDRESS, &gpa);
    plat_vmread(GUEST_CR0, &cr0);
    plat_vmread(GUEST_CR3, &cr3);
    plat_vmread(GUEST_CR4, &cr4);
    hv_printf("hv: vmx: exit reason %lu (%s%s) qualification 0x%lx intr-info 0x%lx "
              "idt-vectoring 0x%lx guest-physical 0x%lx vm-instruction-error %lu\n",
              reason & 0xffff, exit_name(reason), reason >> 31 ? ", VM-entry failure" : "", qual,
              info, idt, gpa, err);
    hv_printf("hv: vmx: vmcs guest cr0 0x%lx cr3 0x%lx cr4 0x%lx eptp 0x%lx\n", cr0, cr3, cr4,
              vmx.eptp);
    for (unsigned i = 0; i < VMX_EXIT_MAX; i++)
        if (vmx_exit_counts[i])
            hv_printf("hv: vmx: exits %-16s %lu\n", vmx_exits[i].name, vmx_exit_counts[i]);
}

static void vmx_run(struct hv_vcpu *v)
{
    current = v;
    if (v->cr2_dirty) {
        /* VMX does not switch CR2: the guest's CR2 is the processor's. A
         * #PF exit leaves it unchanged ("Exception Bitmap"), so an injected
         * #PF needs it written here. */
        plat_write_cr(2, v->pending_cr2);
        v->cr2_dirty = false;
    }
    int rc = plat_vmx_run(&v->g, vmx.launched);
    if (rc) {
        uint64_t err = 0;
        plat_vmread(VM_INSTRUCTION_ERROR, &err);
        hv_stop(v, "%s failed: %s (VM-instruction error %lu)", vmx.launched ? "VMRESUME" : "VMLAUNCH",
                rc == 1 ? "VMfailInvalid" : "VMfailValid", err);
    }
    vmx.launched = true;
    v->exits++;
    v->rip = vmread(GUEST_RIP);
    v->g.r[4] = vmread(GUEST_RSP);
    v->rflags = vmread(GUEST_RFLAGS);
    vmwrite(ENTRY_INTR_INFO, 0);
    uint64_t reason = vmread(EXIT_REASON);
    uint64_t basic = reason & 0xffff;
    if (basic < VMX_EXIT_MAX)
        vmx_exit_counts[basic]++;
    if (reason >> 31)
        hv_stop(v, "VM entry failed: exit reason %lu (%s)", basic, exit_name(reason));
    if (basic >= VMX_EXIT_MAX || !vmx_exits[basic].handler)
        hv_stop(v, "unexpected VM exit %lu (%s)", basic, exit_name(reason));
    uint64_t idt = vmread(IDT_VECTORING_INFO);
    enum hv_next next = vmx_exits[basic].handler(v, vmread(EXIT_QUALIFICATION));
    /* An exit during event delivery: deliver the event again ("Information
     * for VM Exits During Event Delivery"; "Reflecting Exceptions to Guest
     * Software"). */
    if (idt & INTR_INFO_VALID) {
        if (vmread(ENTRY_INTR_INFO) & INTR_INFO_VALID)
            hv_stop(v, "a new exception while delivering event 0x%lx", idt);
        vmwrite(ENTRY_INTR_INFO, idt & ~(1ull << 12) & 0x80000fffull);
        if (idt & INTR_INFO_HAS_ERROR)
            vmwrite(ENTRY_EXCEPTION_ERROR, vmread(IDT_VECTORING_ERROR));
    }
    if (next == HV_ADVANCE)
        v->rip += vmread(EXIT_INSTRUCTION_LEN);
    vmwrite(GUEST_RIP, v->rip);
    vmwrite(GUEST_RSP, v->g.r[4]);
}

/* ---- exit handlers ---- */
static enum hv_next vmx_exit_exception(struct hv_vcpu *v, uint64_t qual)
{
    uint64_t info = vmread(EXIT_INTR_INFO);
    if ((info & 0xff) != VEC_PF)
        hv_stop(v, "unexpected exception exit, vector %lu", info & 0xff);
    /* #PF exits: the qualification is the linear address ("Exit
     * Qualification for Exceptions"). */
    hv_handle_page_fault(v, qual, (uint32_t)vmread(EXIT_INTR_ERROR));
    return HV_STAY;
}

static enum hv_next vmx_exit_cpuid(struct hv_vcpu *v, uint64_t qual)
{
    (void)qual;
    hv_handle_cpuid(v);
    return HV_ADVANCE;
}

static enum hv_next vmx_exit_hlt(struct hv_vcpu *v, uint64_t qual)
{
    (void)qual;
    hv_handle_hlt(v);
    return HV_ADVANCE;
}

static enum hv_next vmx_exit_invlpg(struct hv_vcpu *v, uint64_t qual)
{
    hv_handle_invlpg(v, qual);   /* qualification: the linear address */
    return HV_ADVANCE;
}

static enum hv_next vmx_exit_vmcall(struct hv_vcpu *v, uint64_t qual)
{
    (void)qual;
    hv_handle_hypercall(v);
    return HV_ADVANCE;
}

/* VMX instructions in the guest: it sees no VMX (CPUID, CR4.VMXE), so each
 * raises #UD as outside VMX operation (SDM Vol. 3C, "VMX Instruction
 * Reference"). */
static enum hv_next vmx_exit_ud(struct hv_vcpu *v, uint64_t qual)
{
    (void)qual;
    v->be->inject(v, VEC_UD, false, 0);
    return HV_STAY;
}

/* "Exit Qualification for Control-Register Accesses": bits 3:0 CR, 5:4
 * access type (MOV to, MOV from, CLTS, LMSW), 11:8 GPR, 31:16 LMSW data. */
static enum hv_next vmx_exit_cr(struct hv_vcpu *v, uint64_t qual)
{
    int cr = qual & 15, gpr = (qual >> 8) & 15;
    switch ((qual >> 4) & 3) {
    case 0:
        return hv_handle_mov_to_cr(v, cr, gpr);
    case 1:
        hv_handle_mov_from_cr(v, cr, gpr);
        return HV_ADVANCE;
    case 2:
        hv_handle_clts(v);
        return HV_ADVANCE;
    case 3:
        return hv_handle_lmsw(v, (uint16_t)(qual >> 16));
    }
    return HV_STAY;   /* unreachable: two bits */
}

/* "Exit Qualification for I/O Instructions": bits 2:0 size - 1, bit 3
 * direction (1 = IN), bit 4 string, 31:16 port. */
static enum hv_next vmx_exit_io(struct hv_vcpu *v, uint64_t qual)
{
    if (qual & (1u << 4))
        hv_stop(v, "string port I/O (INS/OUTS) is not emulated");
    return hv_handle_io(v, (uint16_t)(qual >> 16), (qual & 7) + 1, qual & 8);
}

static enum hv_next vmx_exit_rdmsr(struct hv_vcpu *v, uint64_t qual)
{
    (void)qual;
    return hv_handle_rdmsr(v);
}

static enum hv_next vmx_exit_wrmsr(struct hv_vcpu *v, uint64_t qual)
{
    (void)qual;
    return hv_handle_wrmsr(v);
}

const struct hv_backend hv_vmx_backend = {
    .name = "vmx (Intel VT-x)",
    .slat_name = "slat (EPT with VPID)",
    .hypercall_insn = "vmcall",
    .hypercall_feature = 1u << 0,
    .probe = vmx_probe,
    .setup = vmx_setup,
    .run = vmx_run,
    .inject = vmx_inject,
    .set_cr = vmx_set_cr,
    .guest_cr3 = vmx_guest_cr3,
    .flush_tlb = vmx_flush_tlb,
    .dump = vmx_dump,
};
