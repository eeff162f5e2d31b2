/* The SVM backend: the VMRUN loop, the backend operations and the #VMEXIT
 * handlers, which decode AMD's exit information and call the vendor-neutral
 * core (set-up: svm_setup.c). APM Vol. 2, "Secure Virtual Machine". */
#include "hv/svm/svm_impl.h"

struct svm_state hv_svm;

/* ---- the exit table ---- */
typedef enum hv_next (*svm_handler)(struct hv_vcpu *v);
static enum hv_next svm_exit_cr(struct hv_vcpu *v);
static enum hv_next svm_exit_pf(struct hv_vcpu *v);
static enum hv_next svm_exit_cpuid(struct hv_vcpu *v);
static enum hv_next svm_exit_hlt(struct hv_vcpu *v);
static enum hv_next svm_exit_invlpg(struct hv_vcpu *v);
static enum hv_next svm_exit_ud(struct hv_vcpu *v);
static enum hv_next svm_exit_ioio(struct hv_vcpu *v);
static enum hv_next svm_exit_msr(struct hv_vcpu *v);
static enum hv_next svm_exit_vmmcall(struct hv_vcpu *v);

/* Indexed by exit code, as the hardware hands it over: codes 0-8DH in
 * place, then #NPF (400H) and VMEXIT_INVALID (-1). A lookup per exit is
 * one load (a search through the table took ~40 basic blocks for CPUID). */
#define SVM_SLOT_NPF 0x8e
#define SVM_SLOT_INVALID 0x8f
#define SVM_EXIT_COUNT 0x90
#define SVM_SLOT(code) ((code) == 0x400 ? SVM_SLOT_NPF : (code) == 0xffffffffffffffff ? SVM_SLOT_INVALID : (code))
static const struct {
    uint64_t code;
    const char *name;
    svm_handler handler;
} svm_exits[SVM_EXIT_COUNT] = {
#define SVM_EXIT(code, name, handler) [SVM_SLOT(code)] = {code, #name, handler},
#include "hv/svm/svm_exits.def"
#undef SVM_EXIT
};
static uint64_t svm_exit_counts[SVM_EXIT_COUNT];

static int exit_index(uint64_t code)
{
    int slot = code < SVM_SLOT_NPF ? (int)code : code == 0x400 ? SVM_SLOT_NPF
             : code == ~0ull ? SVM_SLOT_INVALID : -1;
    return slot >= 0 && svm_exits[slot].name ? slot : -1;
}

static const char *exit_name(uint64_t code)
{
    int i = exit_index(code);
    return i < 0 ? "unknown" : svm_exits[i].name;
}

void hv_svm_reset_exit_counts(void)
{
    hv_memset(svm_exit_counts, 0, sizeof(svm_exit_counts));
}

/* ---- the backend operations ---- */
void hv_svm_set_cr(struct hv_vcpu *v, int cr)
{
    struct vmcb *c = hv_svm.vmcb;
    if (!c)
        return;
    switch (cr) {
    case 0:
        /* Shadow mode keeps CR0.WP set so that read-only shadow entries
         * catch supervisor writes (dirty tracking). */
        c->cr0 = v->cr0 | (v->mode == HV_MEM_SHADOW ? CR0_WP : 0);
        return;
    case 3:
        c->cr3 = v->mode == HV_MEM_SHADOW ? v->shadow_root : v->cr3;
        return;
    case 4:
        c->cr4 = v->cr4;
        return;
    case HV_REG_EFER:
        c->efer = v->efer | EFER_SVME;   /* "Consistency Checks": SVME must be 1 */
        return;
    }
    hv_stop(v, "svm_set_cr: no such register %d", cr);
}

static uint64_t svm_guest_cr3(struct hv_vcpu *v)
{
    (void)v;
    return hv_svm.vmcb->cr3;
}

static void svm_sync_guest(struct hv_vcpu *v)
{
    v->rflags = hv_svm.vmcb->rflags;
}

static void svm_flush_tlb(struct hv_vcpu *v)
{
    (void)v;
    hv_svm.flush_pending = true;
}

static void svm_inject(struct hv_vcpu *v, int vector, bool has_error, uint32_t error)
{
    if (hv_svm.vmcb->eventinj & SVM_EVT_VALID)
        hv_stop(v, "exception %d while injecting event 0x%lx: double faults are not modelled",
                vector, hv_svm.vmcb->eventinj);
    if (vector == VEC_PF)
        hv_svm.vmcb->cr2 = v->pending_cr2;
    hv_svm.vmcb->eventinj = (uint64_t)vector | SVM_EVT_TYPE_EXCEPTION | SVM_EVT_VALID |
                         (has_error ? SVM_EVT_HAS_ERROR | (uint64_t)error << 32 : 0);
}

static void svm_dump(struct hv_vcpu *v)
{
    struct vmcb *c = hv_svm.vmcb;
    (void)v;
    if (!c)
        return;
    hv_printf("hv: svm: exitcode 0x%lx (%s) exitinfo1 0x%lx exitinfo2 0x%lx exitintinfo 0x%lx\n",
              c->exitcode, exit_name(c->exitcode), c->exitinfo1, c->exitinfo2, c->exitintinfo);
    hv_printf("hv: svm: vmcb cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx cs 0x%x/0x%x asid %u "
              "np %lu ncr3 0x%lx eventinj 0x%lx\n",
              c->cr0, c->cr3, c->cr4, c->efer, c->cs.selector, c->cs.attrib, c->guest_asid,
              c->np_enable, c->n_cr3, c->eventinj);
    for (unsigned i = 0; i < SVM_EXIT_COUNT; i++)
        if (svm_exit_counts[i])
            hv_printf("hv: svm: exits %-12s %lu\n", svm_exits[i].name, svm_exit_counts[i]);
}

/* The length of the exiting instruction: NRIP when the processor saves it
 * (APM Vol. 2, "Next sRIP"), otherwise decoded from guest memory. */
static uint64_t next_rip(struct hv_vcpu *v)
{
    if (hv_svm.nrips && hv_svm.vmcb->nrip)
        return hv_svm.vmcb->nrip;
    struct hv_insn in;
    if (!hv_decode(v, &in))
        hv_stop(v, "cannot decode the instruction at 0x%lx", v->rip);
    return v->rip + in.len;
}

static void svm_run(struct hv_vcpu *v)
{
    struct vmcb *c = hv_svm.vmcb;
    c->tlb_control = hv_svm.flush_pending ? SVM_TLB_FLUSH_ALL : SVM_TLB_NOTHING;
    hv_svm.flush_pending = false;
    c->vmcb_clean = 0;   /* hv rewrites the VMCB freely: nothing is cached */
    c->rax = v->g.r[0];
    /* VMRUN loads the guest's CR2 from the VMCB (APM Vol. 2, "VMRUN
     * Instruction"). Bochs 2.7 does not, and its guest inherits the
     * processor's CR2; loading the same value first is harmless where
     * VMRUN does load it. #VMEXIT saves the guest's CR2 and restores no
     * host CR2, so the processor still holds the VMCB's value unless hv
     * changed it (an injected #PF). */
    if (!hv_svm.cr2_held_valid || hv_svm.cr2_held != c->cr2)
        plat_write_cr(2, c->cr2);
    /* The guest's VMLOAD state (FS, GS, TR, LDTR, the SYSCALL/SYSENTER
     * MSRs) is loaded once from the VMCB hv set up; #VMEXIT leaves it in
     * the processor and hv's host code never changes it, so later runs
     * find it there (Xen's SVM code likewise runs VMLOAD/VMSAVE lazily). */
    plat_svm_run(hv_svm.vmcb_pa, &v->g, !hv_svm.vmload_state_live);
    hv_svm.vmload_state_live = true;
    hv_svm.cr2_held = c->cr2;
    hv_svm.cr2_held_valid = true;
    v->exits++;
    v->g.r[0] = c->rax;
    v->g.r[4] = c->rsp;
    v->rip = c->rip;
    c->eventinj = 0;

    uint64_t code = c->exitcode;
    int i = exit_index(code);
    if (i >= 0)
        svm_exit_counts[i]++;
    if (i < 0 || !svm_exits[i].handler)
        hv_stop(v, "unexpected #VMEXIT 0x%lx (%s)", code, exit_name(code));
    /* An exit during event delivery (APM Vol. 2, "Event Injection",
     * EXITINTINFO): deliver the event again once the exit is handled. */
    uint64_t pending = c->exitintinfo;
    enum hv_next next = svm_exits[i].handler(v);
    if (pending & SVM_EVT_VALID) {
        if (c->eventinj & SVM_EVT_VALID)
            hv_stop(v, "a new exception while delivering event 0x%lx", pending);
        c->eventinj = pending;
    }
    if (next == HV_ADVANCE)
        v->rip = next_rip(v);
    c->rip = v->rip;
    c->rsp = v->g.r[4];
    c->rax = v->g.r[0];
}

/* ---- exit handlers ---- */
static enum hv_next svm_exit_cpuid(struct hv_vcpu *v)
{
    hv_handle_cpuid(v);
    return HV_ADVANCE;
}

static enum hv_next svm_exit_vmmcall(struct hv_vcpu *v)
{
    hv_handle_hypercall(v);
    return HV_ADVANCE;
}

static enum hv_next svm_exit_hlt(struct hv_vcpu *v)
{
    hv_handle_hlt(v);
    return HV_ADVANCE;
}

static enum hv_next svm_exit_ud(struct hv_vcpu *v)
{
    v->be->inject(v, VEC_UD, false, 0);
    return HV_STAY;
}

/* IOIO: EXITINFO1 holds the port and access (APM Vol. 2, "IOIO
 * Intercepts"); EXITINFO2 the next RIP. */
static enum hv_next svm_exit_ioio(struct hv_vcpu *v)
{
    uint64_t info = hv_svm.vmcb->exitinfo1;
    if (info & (1u << 2))
        hv_stop(v, "string port I/O (INS/OUTS) is not emulated");
    unsigned size = info & (1u << 4) ? 1 : info & (1u << 5) ? 2 : 4;
    enum hv_next next = hv_handle_io(v, (uint16_t)(info >> 16), size, info & 1);
    if (next == HV_ADVANCE)
        v->rip = hv_svm.vmcb->exitinfo2;
    return HV_STAY;
}

/* MSR: EXITINFO1 is 0 for RDMSR, 1 for WRMSR (APM Vol. 2, "MSR Intercepts"). */
static enum hv_next svm_exit_msr(struct hv_vcpu *v)
{
    return hv_svm.vmcb->exitinfo1 ? hv_handle_wrmsr(v) : hv_handle_rdmsr(v);
}

static enum hv_next svm_exit_cr(struct hv_vcpu *v)
{
    uint64_t code = hv_svm.vmcb->exitcode;
    int cr = code & 15;
    bool write = code >= 0x10;
    int gpr;
    struct hv_insn in;
    /* APM Vol. 2, "Decode Assists": EXITINFO1 bit 63 says bits 3:0 name the
     * GPR of a MOV CR. Otherwise decode. */
    if (hv_svm.decode_assists && (hv_svm.vmcb->exitinfo1 >> 63)) {
        gpr = hv_svm.vmcb->exitinfo1 & 15;
    } else {
        if (!hv_decode(v, &in))
            hv_stop(v, "cannot decode the CR access at 0x%lx", v->rip);
        if (in.kind == INSN_CLTS) {
            hv_handle_clts(v);
            return HV_ADVANCE;
        }
        if (in.kind != (write ? INSN_MOV_TO_CR : INSN_MOV_FROM_CR) || in.cr != cr)
            hv_stop(v, "CR%d %s exit on an instruction hv does not emulate", cr,
                    write ? "write" : "read");
        gpr = in.gpr;
    }
    if (!write) {
        hv_handle_mov_from_cr(v, cr, gpr);
        return HV_ADVANCE;
    }
    return hv_handle_mov_to_cr(v, cr, gpr);
}

/* #PF intercept (shadow mode): EXITINFO1 is the error code, EXITINFO2 the
 * faulting address (APM Vol. 2, "Exception Intercepts"). */
static enum hv_next svm_exit_pf(struct hv_vcpu *v)
{
    hv_handle_page_fault(v, hv_svm.vmcb->exitinfo2, (uint32_t)hv_svm.vmcb->exitinfo1);
    return HV_STAY;
}

static enum hv_next svm_exit_invlpg(struct hv_vcpu *v)
{
    if (hv_svm.decode_assists) {
        hv_handle_invlpg(v, hv_svm.vmcb->exitinfo1);   /* "Decode Assists": the linear address */
        return HV_ADVANCE;
    }
    struct hv_insn in;
    if (!hv_decode(v, &in) || in.kind != INSN_INVLPG)
        hv_stop(v, "cannot decode the INVLPG at 0x%lx", v->rip);
    if (in.addr_known)
        hv_handle_invlpg(v, in.addr);
    else if (v->mode == HV_MEM_SHADOW)   /* as hv_handle_invlpg: SLAT has no shadow */
        hv_shadow_flush(v);
    return HV_ADVANCE;
}

const struct hv_backend hv_svm_backend = {
    .name = "svm (AMD-V)",
    .slat_name = "slat (NPT with ASID)",
    .hypercall_insn = "vmmcall",
    .hypercall_feature = 1u << 1,
    .probe = hv_svm_probe,
    .setup = hv_svm_setup,
    .run = svm_run,
    .inject = svm_inject,
    .set_cr = hv_svm_set_cr,
    .guest_cr3 = svm_guest_cr3,
    .sync_guest = svm_sync_guest,
    .flush_tlb = svm_flush_tlb,
    .dump = svm_dump,
};
