/* The guest's initial state: hv loads the guest image into guest RAM and
 * enters it in 64-bit mode at CPL 0 with paging on, through identity-mapped
 * boot page tables (2 MiB pages over all of guest RAM) that the guest is free
 * to replace. SDM Vol. 3A, "Initializing IA-32e Mode". */
#include "hv/core/hv.h"

#define PDE_P_RW_PS 0x83ull
#define PTE_P_RW    0x03ull

bool hv_vcpu_init(struct hv_vcpu *v, const struct hv_backend *be, enum hv_mem_mode mode,
                  const void *image, size_t image_len)
{
    v->be = be;
    v->mode = mode;
    v->ram_size = HV_GUEST_RAM_SIZE;
    v->ram_hpa = plat_guest_ram(v->ram_size);
    if (!v->ram_hpa) {
        hv_printf("hv: not enough memory for %lu MiB of guest RAM\n", v->ram_size >> 20);
        return false;
    }
    if (image_len > v->ram_size - HV_GUEST_LOAD) {
        hv_printf("hv: guest image (%lu bytes) does not fit in guest RAM\n", (uint64_t)image_len);
        return false;
    }
    hv_memcpy(hv_gpa_ptr(v, HV_GUEST_LOAD, image_len), image, image_len);

    uint64_t *pml4 = hv_gpa_ptr(v, HV_GUEST_PML4, 4096);
    uint64_t *pdpt = hv_gpa_ptr(v, HV_GUEST_PDPT, 4096);
    uint64_t *pd = hv_gpa_ptr(v, HV_GUEST_PD, 4096);
    pml4[0] = HV_GUEST_PDPT | PTE_P_RW;
    pdpt[0] = HV_GUEST_PD | PTE_P_RW;
    for (uint64_t gpa = 0; gpa < v->ram_size; gpa += 2ull << 20)
        pd[gpa >> 21] = gpa | PDE_P_RW_PS;

    v->rip = HV_GUEST_LOAD;
    v->g.r[4] = HV_GUEST_LOAD;   /* the guest sets up its own stack first */
    v->rflags = RFLAGS_FIXED;
    v->cr0 = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    v->cr3 = HV_GUEST_PML4;
    v->cr4 = CR4_PAE;
    v->efer = EFER_LME | EFER_LMA;
    v->pat = PAT_POWER_ON;
    /* MAXPHYADDR, which bounds CR3 (cr.c): CPUID.80000008H:EAX[7:0], or
     * 36 without that leaf (SDM Vol. 3A, "Physical Address Extension";
     * SDM Vol. 2A, CPUID, "Information Returned by CPUID Instruction").
     * The guest sees the processor's leaf, so it is the guest's too. */
    uint32_t r[4];
    plat_cpuid(0x80000000u, 0, r);
    v->maxphyaddr = 36;
    if (r[0] >= 0x80000008u) {
        plat_cpuid(0x80000008u, 0, r);
        if ((r[0] & 0xff) >= 32 && (r[0] & 0xff) <= 52)
            v->maxphyaddr = r[0] & 0xff;
    }
    if (mode == HV_MEM_SHADOW && !hv_shadow_init(v)) {
        hv_printf("hv: not enough memory for the shadow page tables\n");
        return false;
    }
    return be->setup(v);
}
