/* The VMX backend: the VMLAUNCH/VMRESUME loop, the backend operations and
 * the VM-exit handlers, which decode Intel's exit information and call the
 * vendor-neutral core (set-up: vmx_setup.c). SDM Vol. 3C, "VM Exits",
 * "VM-Exit Information Fields". */
#include "hv/vmx/vmx_impl.h"

struct vmx_state hv_vmx;

/* ---- the exit table ---- */
typedef enum hv_next (*vmx_handler)(struct hv_vcpu *v);
static enum hv_next vmx_exit_exception(struct hv_vcpu *v);
static enum hv_next vmx_exit_cpuid(struct hv_vcpu *v);
static enum hv_next vmx_exit_hlt(struct hv_vcpu *v);
static enum hv_next vmx_exit_invlpg(struct hv_vcpu *v);
static enum hv_next vmx_exit_vmcall(struct hv_vcpu *v);
static enum hv_next vmx_exit_ud(struct hv_vcpu *v);
static enum hv_next vmx_exit_cr(struct hv_vcpu *v);
static enum hv_next vmx_exit_io(struct hv_vcpu *v);
static enum hv_next vmx_exit_rdmsr(struct hv_vcpu *v);
static enum hv_next vmx_exit_wrmsr(struct hv_vcpu *v);

/* Indexed by the basic exit reason masked to the table's size, a power of
 * two; reasons beyond the SDM's have no handler. */
#define VMX_EXIT_MAX 128
static const struct {
    const char *name;
    vmx_handler handler;
    bool delivery;
} vmx_exits[VMX_EXIT_MAX] = {
#define VMX_EXIT(reason, name, handler, delivery) [reason] = {#name, handler, delivery},
#include "hv/vmx/vmx_exits.def"
#undef VMX_EXIT
};
static uint64_t vmx_exit_counts[VMX_EXIT_MAX];

static const char *exit_name(uint64_t reason)
{
    reason &= 0xffff;
    return reason < VMX_EXIT_MAX && vmx_exits[reason].name ? vmx_exits[reason].name : "unknown";
}

void hv_vmx_reset_exit_counts(void)
{
    hv_memset(vmx_exit_counts, 0, sizeof(vmx_exit_counts));
}

/* ---- VMCS access: a failing VMREAD/VMWRITE is a bug in hv: stop. ---- */
struct hv_vcpu *hv_vmx_current;

uint64_t hv_vmx_read(uint64_t field)
{
    uint64_t value;
    if (plat_vmread(field, &value))
        hv_stop(hv_vmx_current, "VMREAD of field 0x%lx failed", field);
    return value;
}

void hv_vmx_write(uint64_t field, uint64_t value)
{
    if (plat_vmwrite(field, value)) {
        uint64_t err = 0;
        plat_vmread(VM_INSTRUCTION_ERROR, &err);
        hv_stop(hv_vmx_current, "VMWRITE of field 0x%lx = 0x%lx failed (VM-instruction error %lu)",
                field, value, err);
    }
}

/* ---- the backend operations ---- */
void hv_vmx_set_cr(struct hv_vcpu *v, int cr)
{
    switch (cr) {
    case 0:
        hv_vmx_write(CR0_READ_SHADOW, v->cr0);
        hv_vmx_write(GUEST_CR0, hv_vmx_real_cr0(v));
        return;
    case 3:
        hv_vmx_write(GUEST_CR3, v->mode == HV_MEM_SHADOW ? v->shadow_root : v->cr3);
        return;
    case 4:
        hv_vmx_write(CR4_READ_SHADOW, v->cr4);
        hv_vmx_write(GUEST_CR4, hv_vmx_real_cr4(v));
        return;
    case HV_REG_EFER:
        hv_vmx_write(GUEST_IA32_EFER, v->efer);
        return;
    }
    hv_stop(v, "hv_vmx_set_cr: no such register %d", cr);
}

static uint64_t vmx_guest_cr3(struct hv_vcpu *v)
{
    (void)v;
    return hv_vmx_read(GUEST_CR3);
}

static void load_rsp(struct hv_vcpu *v);

static void vmx_sync_guest(struct hv_vcpu *v)
{
    load_rsp(v);
    plat_vmread(GUEST_RFLAGS, &v->rflags);
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
    if (hv_vmx_read(ENTRY_INTR_INFO) & INTR_INFO_VALID)
        hv_stop(v, "exception %d while injecting another: double faults are not modelled", vector);
    hv_vmx_write(ENTRY_INTR_INFO, (uint32_t)vector | INTR_TYPE_HW_EXCEPTION | INTR_INFO_VALID |
                                 (has_error ? INTR_INFO_HAS_ERROR : 0));
    if (has_error)
        hv_vmx_write(ENTRY_EXCEPTION_ERROR, error);
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
              hv_vmx.eptp);
    for (unsigned i = 0; i < VMX_EXIT_MAX; i++)
        if (vmx_exit_counts[i])
            hv_printf("hv: vmx: exits %-16s %lu\n", exit_name(i), vmx_exit_counts[i]);
}

/* An exit hv cannot handle: its information unreadable, a failed VM
 * entry (bit 31), a reason beyond the table or without a handler. */
static __attribute__((noreturn, cold)) void vmx_stop_at_exit(struct hv_vcpu *v, int unreadable, uint64_t reason)
{
    uint64_t basic = reason & 0xffff;
    if (unreadable)
        hv_stop(v, "VMREAD of guest RIP or the exit reason failed");
    if (basic < VMX_EXIT_MAX)
        vmx_exit_counts[basic]++;
    if (reason >> 31)
        hv_stop(v, "VM entry failed: exit reason %lu (%s)", basic, exit_name(reason));
    hv_stop(v, "unexpected VM exit %lu (%s)", basic, exit_name(reason));
}

static void vmx_run(struct hv_vcpu *v)
{
    hv_vmx_current = v;
    if (v->cr2_dirty) {
        /* VMX does not switch CR2: the guest's CR2 is the processor's. A
         * #PF exit leaves it unchanged ("Exception Bitmap"), so an injected
         * #PF needs it written here. */
        plat_write_cr(2, v->pending_cr2);
        v->cr2_dirty = false;
    }
    int rc = plat_vmx_run(&v->g, hv_vmx.launched);
    if (rc) {
        uint64_t err = 0;
        plat_vmread(VM_INSTRUCTION_ERROR, &err);
        hv_stop(v, "%s failed: %s (VM-instruction error %lu)", hv_vmx.launched ? "VMRESUME" : "VMLAUNCH",
                rc == 1 ? "VMfailInvalid" : "VMfailValid", err);
    }
    hv_vmx.launched = true;
    v->exits++;
    /* Only what every exit needs is read, and only what changed is written
     * back: each VMREAD/VMWRITE costs a round of microcode on hardware.
     * The exit itself cleared the valid bit of the VM-entry
     * interruption-information field ("Updating VM-Entry Control Fields").
     * The two reads' status joins the tests of the reason: one branch on
     * the way (every branch is a block on hvsim). */
    uint64_t rip = 0, reason = 0;
    int unreadable = plat_vmread(GUEST_RIP, &rip) | plat_vmread(EXIT_REASON, &reason);
    v->rip = rip;
    hv_vmx.rsp_loaded = false;
    uint64_t basic = reason & 0xffff;
    unsigned entry = basic % VMX_EXIT_MAX;
    vmx_handler handler = vmx_exits[entry].handler;
    if (unreadable | (basic / VMX_EXIT_MAX) | (reason >> 31) | !handler)
        vmx_stop_at_exit(v, unreadable, reason);
    vmx_exit_counts[entry]++;
    uint64_t idt = vmx_exits[entry].delivery ? hv_vmx_read(IDT_VECTORING_INFO) : 0;
    enum hv_next next = handler(v);
    /* An exit during event delivery: deliver the event again ("Information
     * for VM Exits During Event Delivery"; "Reflecting Exceptions to Guest
     * Software"). */
    if (idt & INTR_INFO_VALID) {
        if (hv_vmx_read(ENTRY_INTR_INFO) & INTR_INFO_VALID)
            hv_stop(v, "a new exception while delivering event 0x%lx", idt);
        hv_vmx_write(ENTRY_INTR_INFO, idt & ~(1ull << 12) & 0x80000fffull);
        if (idt & INTR_INFO_HAS_ERROR)
            hv_vmx_write(ENTRY_EXCEPTION_ERROR, hv_vmx_read(IDT_VECTORING_ERROR));
        /* A software interrupt or exception (types 4-6) pushes RIP plus the
         * VM-entry instruction length as its return address; the exit
         * recorded the instruction's length ("VM-Entry Controls for Event
         * Injection"; "Information for VM Exits During Event Delivery"). */
        unsigned type = (idt >> 8) & 7;
        if (type >= 4 && type <= 6)
            hv_vmx_write(ENTRY_INSTRUCTION_LEN, hv_vmx_read(EXIT_INSTRUCTION_LEN));
    }
    /* The instruction length and the new RIP: their status is tested once. */
    int failed = 0;
    if (next == HV_ADVANCE) {
        uint64_t len = 0;
        failed = plat_vmread(EXIT_INSTRUCTION_LEN, &len);
        v->rip += len;
    }
    if (v->rip != rip)
        failed |= plat_vmwrite(GUEST_RIP, v->rip);
    if (failed)
        hv_stop(v, "VMREAD of the instruction length or VMWRITE of guest RIP 0x%lx failed", v->rip);
    if (hv_vmx.rsp_loaded && v->g.r[4] != hv_vmx.rsp_at_exit)
        hv_vmx_write(GUEST_RSP, v->g.r[4]);
}

/* The guest's RSP lives in the VMCS; v->g.r[4] holds it only once loaded
 * here (an exit handler that names RSP, a dump). */
static void load_rsp(struct hv_vcpu *v)
{
    if (hv_vmx.rsp_loaded)
        return;
    uint64_t rsp = 0;
    plat_vmread(GUEST_RSP, &rsp);   /* not hv_vmx_read: also used by a stop's dump */
    v->g.r[4] = hv_vmx.rsp_at_exit = rsp;
    hv_vmx.rsp_loaded = true;
}

/* ---- exit handlers ---- */
static enum hv_next vmx_exit_exception(struct hv_vcpu *v)
{
    uint64_t qual = hv_vmx_read(EXIT_QUALIFICATION);
    uint64_t info = hv_vmx_read(EXIT_INTR_INFO);
    if ((info & 0xff) != VEC_PF)
        hv_stop(v, "unexpected exception exit, vector %lu", info & 0xff);
    /* #PF exits: the qualification is the linear address ("Exit
     * Qualification for Exceptions"). */
    hv_handle_page_fault(v, qual, (uint32_t)hv_vmx_read(EXIT_INTR_ERROR));
    return HV_STAY;
}

static enum hv_next vmx_exit_cpuid(struct hv_vcpu *v)
{
    hv_handle_cpuid(v);
    return HV_ADVANCE;
}

static enum hv_next vmx_exit_hlt(struct hv_vcpu *v)
{
    hv_handle_hlt(v);
    return HV_ADVANCE;
}

static enum hv_next vmx_exit_invlpg(struct hv_vcpu *v)
{
    uint64_t qual = hv_vmx_read(EXIT_QUALIFICATION);
    hv_handle_invlpg(v, qual);   /* qualification: the linear address */
    return HV_ADVANCE;
}

static enum hv_next vmx_exit_vmcall(struct hv_vcpu *v)
{
    hv_handle_hypercall(v);
    return HV_ADVANCE;
}

/* VMX instructions in the guest: it sees no VMX (CPUID, CR4.VMXE), so each
 * raises #UD as outside VMX operation (SDM Vol. 3C, "VMX Instruction
 * Reference"). */
static enum hv_next vmx_exit_ud(struct hv_vcpu *v)
{
    v->be->inject(v, VEC_UD, false, 0);
    return HV_STAY;
}

/* "Exit Qualification for Control-Register Accesses": bits 3:0 CR, 5:4
 * access type (MOV to, MOV from, CLTS, LMSW), 11:8 GPR, 31:16 LMSW data. */
static enum hv_next vmx_exit_cr(struct hv_vcpu *v)
{
    uint64_t qual = hv_vmx_read(EXIT_QUALIFICATION);
    int cr = qual & 15, gpr = (qual >> 8) & 15;
    if (gpr == 4)
        load_rsp(v);
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
static enum hv_next vmx_exit_io(struct hv_vcpu *v)
{
    uint64_t qual = hv_vmx_read(EXIT_QUALIFICATION);
    if (qual & (1u << 4))
        hv_stop(v, "string port I/O (INS/OUTS) is not emulated");
    return hv_handle_io(v, (uint16_t)(qual >> 16), (qual & 7) + 1, qual & 8);
}

static enum hv_next vmx_exit_rdmsr(struct hv_vcpu *v)
{
    return hv_handle_rdmsr(v);
}

static enum hv_next vmx_exit_wrmsr(struct hv_vcpu *v)
{
    return hv_handle_wrmsr(v);
}

const struct hv_backend hv_vmx_backend = {
    .name = "vmx (Intel VT-x)",
    .slat_name = "slat (EPT with VPID)",
    .hypercall_insn = "vmcall",
    .hypercall_feature = 1u << 0,
    .probe = hv_vmx_probe,
    .setup = hv_vmx_setup,
    .run = vmx_run,
    .inject = vmx_inject,
    .set_cr = hv_vmx_set_cr,
    .guest_cr3 = vmx_guest_cr3,
    .sync_guest = vmx_sync_guest,
    .flush_tlb = vmx_flush_tlb,
    .dump = vmx_dump,
};
