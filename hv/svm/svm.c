/* The SVM backend: VMCB set-up, the VMRUN loop and the #VMEXIT handlers,
 * which decode AMD's exit information and call the vendor-neutral core.
 * APM Vol. 2, "Secure Virtual Machine". */
#include "hv/core/hv.h"
#include "hv/svm/vmcb.h"

#define MSR_EFER        0xc0000080u
#define MSR_VM_CR       0xc0010114u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define VM_CR_SVMDIS    (1ull << 4)

/* CPUID Fn8000_000A_EDX (APM Vol. 3): optional SVM features hv uses. */
#define SVM_FEAT_NRIPS          (1u << 3)
#define SVM_FEAT_DECODE_ASSISTS (1u << 7)

static struct {
    uint64_t vmcb_pa, hsave_pa, iopm_pa, msrpm_pa, ncr3;
    struct vmcb *vmcb;
    bool nrips, decode_assists, flush_pending, reinject;
    uint64_t reinject_event;
} svm;

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

static const struct {
    uint64_t code;
    const char *name;
    svm_handler handler;
} svm_exits[] = {
#define SVM_EXIT(code, name, handler) {code, #name, handler},
#include "hv/svm/svm_exits.def"
#undef SVM_EXIT
};
#define SVM_EXIT_COUNT (sizeof(svm_exits) / sizeof(svm_exits[0]))
static uint64_t svm_exit_counts[SVM_EXIT_COUNT];

static int exit_index(uint64_t code)
{
    for (unsigned i = 0; i < SVM_EXIT_COUNT; i++)
        if (svm_exits[i].code == code)
            return (int)i;
    return -1;
}

static const char *exit_name(uint64_t code)
{
    int i = exit_index(code);
    return i < 0 ? "unknown" : svm_exits[i].name;
}

/* ---- set-up ---- */
static bool svm_probe(void)
{
    uint32_t r[4];
    plat_cpuid(0x80000000u, 0, r);
    if (r[0] < 0x8000000au)
        return false;
    plat_cpuid(0x80000001u, 0, r);
    return r[2] & (1u << 2);
}

static void clear_msrpm_bits(uint32_t msr, void *ctx)
{
    uint8_t *pm = ctx;
    /* APM Vol. 2, "MSR Intercepts": three 2 KiB vectors, two bits per MSR
     * (read, then write), for MSRs 0-1FFFh, C0000000h-C0001FFFh and
     * C0010000h-C0011FFFh. */
    uint32_t base;
    if (msr <= 0x1fffu)
        base = 0;
    else if (msr - 0xc0000000u <= 0x1fffu)
        base = 0x800 * 8;
    else if (msr - 0xc0010000u <= 0x1fffu)
        base = 0x1000 * 8;
    else
        return;
    uint32_t bit = base + (msr & 0x1fffu) * 2;
    pm[bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

static void seg(struct vmcb_seg *s, uint16_t sel, uint16_t attrib, uint32_t limit)
{
    s->selector = sel;
    s->attrib = attrib;
    s->limit = limit;
    s->base = 0;
}

static void svm_set_cr(struct hv_vcpu *v, int cr);

static bool svm_setup(struct hv_vcpu *v)
{
    hv_memset(&svm, 0, sizeof(svm));
    hv_memset(svm_exit_counts, 0, sizeof(svm_exit_counts));
    /* VM_CR may be unimplemented (Bochs): then nothing disables SVM. */
    uint64_t vm_cr = 0;
    if (plat_rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS)) {
        hv_printf("hv: SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
        return false;
    }
    uint32_t r[4];
    plat_cpuid(0x8000000au, 0, r);
    svm.nrips = r[3] & SVM_FEAT_NRIPS;
    svm.decode_assists = r[3] & SVM_FEAT_DECODE_ASSISTS;
    /* APM Vol. 2, "Enabling SVM": EFER.SVME, then the host save area. */
    plat_wrmsr(MSR_EFER, plat_rdmsr(MSR_EFER) | EFER_SVME);
    svm.hsave_pa = plat_alloc_page();
    svm.vmcb_pa = plat_alloc_page();
    svm.iopm_pa = plat_alloc_pages(3);
    svm.msrpm_pa = plat_alloc_pages(2);
    if (!svm.hsave_pa || !svm.vmcb_pa || !svm.iopm_pa || !svm.msrpm_pa)
        return false;
    plat_wrmsr(MSR_VM_HSAVE_PA, svm.hsave_pa);
    hv_memset(plat_phys(svm.iopm_pa), 0xff, 3 * 4096);   /* intercept every port */
    hv_memset(plat_phys(svm.msrpm_pa), 0xff, 2 * 4096);  /* and every MSR... */
    hv_msr_for_each_passthrough(clear_msrpm_bits, plat_phys(svm.msrpm_pa)); /* ...but these */

    struct vmcb *c = svm.vmcb = plat_phys(svm.vmcb_pa);
    bool shadow = v->mode == HV_MEM_SHADOW;
    c->intercept_cr_write = (1u << 0) | (1u << 4) | (shadow ? 1u << 3 : 0);
    c->intercept_cr_read = shadow ? 1u << 3 : 0;
    c->intercept_exceptions = shadow ? 1u << VEC_PF : 0;
    c->intercept_misc1 = SVM_MISC1_CPUID | SVM_MISC1_HLT | SVM_MISC1_IOIO | SVM_MISC1_MSR |
                         SVM_MISC1_SHUTDOWN | SVM_MISC1_INVLPGA | (shadow ? SVM_MISC1_INVLPG : 0);
    /* APM Vol. 2, "VMRUN": the VMRUN intercept must be set, or VMRUN fails
     * its consistency checks. The other SVM instructions #UD in the guest,
     * which sees EFER.SVME = 0. */
    c->intercept_misc2 = SVM_MISC2_VMRUN | SVM_MISC2_VMMCALL | SVM_MISC2_VMLOAD |
                         SVM_MISC2_VMSAVE | SVM_MISC2_STGI | SVM_MISC2_CLGI | SVM_MISC2_SKINIT;
    c->iopm_base_pa = svm.iopm_pa;
    c->msrpm_base_pa = svm.msrpm_pa;
    c->guest_asid = 1;          /* ASID 0 is the host's: "Consistency Checks" */
    svm.flush_pending = true;
    if (!shadow) {
        /* APM Vol. 2, "Nested Paging": nested tables use the long-mode
         * format; nested walks are user accesses, so U/S is set. */
        svm.ncr3 = hv_slat_build(v, 0x7, 0x7);
        if (!svm.ncr3)
            return false;
        c->np_enable = 1;
        c->n_cr3 = svm.ncr3;
    }
    /* Guest state: 64-bit code (L=1, D=0), flat data, a busy 64-bit TSS. */
    seg(&c->cs, 0x08, 0x0a9b, 0xffffffff);
    seg(&c->ss, 0x10, 0x0c93, 0xffffffff);
    seg(&c->ds, 0x10, 0x0c93, 0xffffffff);
    seg(&c->es, 0x10, 0x0c93, 0xffffffff);
    seg(&c->fs, 0x10, 0x0c93, 0xffffffff);
    seg(&c->gs, 0x10, 0x0c93, 0xffffffff);
    seg(&c->tr, 0x18, 0x008b, 0x67);
    seg(&c->ldtr, 0, 0, 0);
    seg(&c->gdtr, 0, 0, 0xffff);
    seg(&c->idtr, 0, 0, 0xffff);
    c->cpl = 0;
    c->dr7 = 0x400;
    c->dr6 = 0xffff0ff0;
    c->rflags = v->rflags;
    c->rip = v->rip;
    c->rsp = v->g.r[4];
    c->g_pat = v->pat;
    svm_set_cr(v, 0);
    svm_set_cr(v, 3);
    svm_set_cr(v, 4);
    svm_set_cr(v, HV_REG_EFER);
    return true;
}

/* ---- the backend operations ---- */
static void svm_set_cr(struct hv_vcpu *v, int cr)
{
    struct vmcb *c = svm.vmcb;
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
    return svm.vmcb->cr3;
}

static void svm_flush_tlb(struct hv_vcpu *v)
{
    (void)v;
    svm.flush_pending = true;
}

static void svm_inject(struct hv_vcpu *v, int vector, bool has_error, uint32_t error)
{
    if (svm.vmcb->eventinj & SVM_EVT_VALID)
        hv_stop(v, "exception %d while injecting event 0x%lx: double faults are not modelled",
                vector, svm.vmcb->eventinj);
    if (vector == VEC_PF)
        svm.vmcb->cr2 = v->pending_cr2;
    svm.vmcb->eventinj = (uint64_t)vector | SVM_EVT_TYPE_EXCEPTION | SVM_EVT_VALID |
                         (has_error ? SVM_EVT_HAS_ERROR | (uint64_t)error << 32 : 0);
}

static void svm_dump(struct hv_vcpu *v)
{
    struct vmcb *c = svm.vmcb;
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
    if (svm.nrips && svm.vmcb->nrip)
        return svm.vmcb->nrip;
    struct hv_insn in;
    if (!hv_decode(v, &in))
        hv_stop(v, "cannot decode the instruction at 0x%lx", v->rip);
    return v->rip + in.len;
}

static void svm_run(struct hv_vcpu *v)
{
    struct vmcb *c = svm.vmcb;
    c->tlb_control = svm.flush_pending ? SVM_TLB_FLUSH_ALL : SVM_TLB_NOTHING;
    svm.flush_pending = false;
    c->vmcb_clean = 0;   /* hv rewrites the VMCB freely: nothing is cached */
    c->rax = v->g.r[0];
    /* VMRUN loads the guest's CR2 from the VMCB (APM Vol. 2, "VMRUN
     * Instruction"). Bochs 2.7 does not, and its guest inherits the
     * processor's CR2; loading the same value first is harmless where
     * VMRUN does load it. */
    plat_write_cr(2, c->cr2);
    plat_svm_run(svm.vmcb_pa, &v->g);
    v->exits++;
    v->g.r[0] = c->rax;
    v->g.r[4] = c->rsp;
    v->rip = c->rip;
    v->rflags = c->rflags;
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
    uint64_t info = svm.vmcb->exitinfo1;
    if (info & (1u << 2))
        hv_stop(v, "string port I/O (INS/OUTS) is not emulated");
    unsigned size = info & (1u << 4) ? 1 : info & (1u << 5) ? 2 : 4;
    enum hv_next next = hv_handle_io(v, (uint16_t)(info >> 16), size, info & 1);
    if (next == HV_ADVANCE)
        v->rip = svm.vmcb->exitinfo2;
    return HV_STAY;
}

/* MSR: EXITINFO1 is 0 for RDMSR, 1 for WRMSR (APM Vol. 2, "MSR Intercepts"). */
static enum hv_next svm_exit_msr(struct hv_vcpu *v)
{
    return svm.vmcb->exitinfo1 ? hv_handle_wrmsr(v) : hv_handle_rdmsr(v);
}

static enum hv_next svm_exit_cr(struct hv_vcpu *v)
{
    uint64_t code = svm.vmcb->exitcode;
    int cr = code & 15;
    bool write = code >= 0x10;
    int gpr;
    struct hv_insn in;
    /* APM Vol. 2, "Decode Assists": EXITINFO1 bit 63 says bits 3:0 name the
     * GPR of a MOV CR. Otherwise decode. */
    if (svm.decode_assists && (svm.vmcb->exitinfo1 >> 63)) {
        gpr = svm.vmcb->exitinfo1 & 15;
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
    hv_handle_page_fault(v, svm.vmcb->exitinfo2, (uint32_t)svm.vmcb->exitinfo1);
    return HV_STAY;
}

static enum hv_next svm_exit_invlpg(struct hv_vcpu *v)
{
    if (svm.decode_assists) {
        hv_handle_invlpg(v, svm.vmcb->exitinfo1);   /* "Decode Assists": the linear address */
        return HV_ADVANCE;
    }
    struct hv_insn in;
    if (!hv_decode(v, &in) || in.kind != INSN_INVLPG)
        hv_stop(v, "cannot decode the INVLPG at 0x%lx", v->rip);
    if (in.addr_known)
        hv_handle_invlpg(v, in.addr);
    else
        hv_shadow_flush(v);
    return HV_ADVANCE;
}

const struct hv_backend hv_svm_backend = {
    .name = "svm (AMD-V)",
    .slat_name = "slat (NPT with ASID)",
    .hypercall_insn = "vmmcall",
    .hypercall_feature = 1u << 1,
    .probe = svm_probe,
    .setup = svm_setup,
    .run = svm_run,
    .inject = svm_inject,
    .set_cr = svm_set_cr,
    .guest_cr3 = svm_guest_cr3,
    .flush_tlb = svm_flush_tlb,
    .dump = svm_dump,
};
