/* SVM backend set-up: EFER.SVME and the host save area, the intercepts,
 * I/O and MSR permission maps, nested paging and the guest's initial state
 * in the VMCB. APM Vol. 2, "Enabling SVM", "VMRUN", "Nested Paging". */
#include "hv/svm/svm_impl.h"

bool hv_svm_probe(void)
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

bool hv_svm_setup(struct hv_vcpu *v)
{
    hv_memset(&hv_svm, 0, sizeof(hv_svm));
    hv_svm_reset_exit_counts();
    /* VM_CR may be unimplemented (Bochs): then nothing disables SVM. */
    uint64_t vm_cr = 0;
    if (plat_rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS)) {
        hv_printf("hv: SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
        return false;
    }
    uint32_t r[4];
    plat_cpuid(0x8000000au, 0, r);
    hv_svm.nrips = r[3] & SVM_FEAT_NRIPS;
    hv_svm.decode_assists = r[3] & SVM_FEAT_DECODE_ASSISTS;
    /* APM Vol. 2, "Enabling SVM": EFER.SVME, then the host save area. */
    plat_wrmsr(MSR_EFER, plat_rdmsr(MSR_EFER) | EFER_SVME);
    hv_svm.hsave_pa = plat_alloc_page();
    hv_svm.vmcb_pa = plat_alloc_page();
    hv_svm.iopm_pa = plat_alloc_pages(3);
    hv_svm.msrpm_pa = plat_alloc_pages(2);
    if (!hv_svm.hsave_pa || !hv_svm.vmcb_pa || !hv_svm.iopm_pa || !hv_svm.msrpm_pa)
        return false;
    plat_wrmsr(MSR_VM_HSAVE_PA, hv_svm.hsave_pa);
    hv_memset(plat_phys(hv_svm.iopm_pa), 0xff, 3 * 4096);   /* intercept every port */
    hv_memset(plat_phys(hv_svm.msrpm_pa), 0xff, 2 * 4096);  /* and every MSR... */
    hv_msr_for_each_passthrough(clear_msrpm_bits, plat_phys(hv_svm.msrpm_pa)); /* ...but these */

    struct vmcb *c = hv_svm.vmcb = plat_phys(hv_svm.vmcb_pa);
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
    c->iopm_base_pa = hv_svm.iopm_pa;
    c->msrpm_base_pa = hv_svm.msrpm_pa;
    c->guest_asid = 1;          /* ASID 0 is the host's: "Consistency Checks" */
    hv_svm.flush_pending = true;
    if (!shadow) {
        /* APM Vol. 2, "Nested Paging": nested tables use the long-mode
         * format; nested walks are user accesses, so U/S is set. */
        hv_svm.ncr3 = hv_slat_build(v, 0x7, 0x7);
        if (!hv_svm.ncr3)
            return false;
        c->np_enable = 1;
        c->n_cr3 = hv_svm.ncr3;
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
    hv_svm_set_cr(v, 0);
    hv_svm_set_cr(v, 3);
    hv_svm_set_cr(v, 4);
    hv_svm_set_cr(v, HV_REG_EFER);
    return true;
}
