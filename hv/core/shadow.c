/* Shadow paging: hv translates the guest's own page tables (guest-virtual
 * to guest-physical) and its guest RAM mapping (guest-physical to
 * host-physical) into shadow tables (guest-virtual to host-physical) that
 * the processor walks while the guest runs.
 *
 * - Shadow tables are filled lazily on #PF exits; a fault the guest's own
 *   tables would raise is injected into the guest with the error code and
 *   CR2 the processor would give (SDM Vol. 3A, "Page-Fault Error Code").
 * - Accessed and dirty flags stay exact: a shadow entry is created only
 *   when the guest's walk succeeds (setting A on every level), and is
 *   read-only until the guest's leaf is dirty, so the first write exits and
 *   sets D (SDM Vol. 3A, "Accessed and Dirty Flags").
 * - MOV to CR3, CR4.PGE/PSE and CR0.WP changes drop every shadow entry;
 *   INVLPG drops one (SDM Vol. 3A, "Invalidation of TLBs and
 *   Paging-Structure Caches"): the shadow is a software TLB and obeys the
 *   same invalidation rules.
 * Shadow tables are 4-level with 4 KiB leaves; guest large pages are
 * split into 4 KiB shadow entries. */
#include "hv/core/hv.h"

#define SPTE_P   (1ull << 0)
#define SPTE_RW  (1ull << 1)
#define SPTE_US  (1ull << 2)
#define SPTE_NX  (1ull << 63)
#define SPTE_ADDR 0x000ffffffffff000ull

static uint64_t shadow_page(struct hv_vcpu *v)
{
    if (v->shadow_used == HV_SHADOW_POOL_PAGES)
        return 0;
    uint64_t pa = v->shadow_pool[v->shadow_used++];
    hv_memset(plat_phys(pa), 0, 4096);
    return pa;
}

bool hv_shadow_init(struct hv_vcpu *v)
{
    for (unsigned i = 0; i < HV_SHADOW_POOL_PAGES; i++) {
        v->shadow_pool[i] = plat_alloc_page();
        if (!v->shadow_pool[i])
            return false;
    }
    /* The first root; the backend is not set up yet and takes it from
     * the vCPU in its setup. */
    v->shadow_used = 0;
    v->shadow_root = shadow_page(v);
    return true;
}

void hv_shadow_flush(struct hv_vcpu *v)
{
    v->shadow_used = 0;
    v->shadow_root = shadow_page(v);
    v->shadow_flushes++;
    v->be->set_cr(v, 3);
    v->be->flush_tlb(v);
}

/* The shadow leaf entry of gva, creating tables on the way (create) or
 * NULL when there is none. */
static uint64_t *shadow_leaf(struct hv_vcpu *v, uint64_t gva, bool create)
{
    uint64_t table = v->shadow_root;
    for (int level = 4; level > 1; level--) {
        uint64_t *e = (uint64_t *)plat_phys(table) + ((gva >> (12 + 9 * (level - 1))) & 511);
        if (!(*e & SPTE_P)) {
            if (!create)
                return NULL;
            uint64_t page = shadow_page(v);
            if (!page)
                return NULL;
            /* Non-leaf entries allow everything: the leaf holds the
             * combined rights of the guest's whole walk. */
            *e = page | SPTE_P | SPTE_RW | SPTE_US;
        }
        table = *e & SPTE_ADDR;
    }
    return (uint64_t *)plat_phys(table) + ((gva >> 12) & 511);
}

void hv_shadow_invlpg(struct hv_vcpu *v, uint64_t gva)
{
    uint64_t *leaf = shadow_leaf(v, gva, false);
    if (leaf)
        *leaf = 0;
    v->be->flush_tlb(v);
}

void hv_handle_page_fault(struct hv_vcpu *v, uint64_t gva, uint32_t error)
{
    /* hv intercepts #PF only for shadow paging (exception bitmap, exception
     * intercepts): in SLAT mode there are no shadow tables to fill, and the
     * root would be host-physical page 0. */
    if (v->mode != HV_MEM_SHADOW)
        hv_stop(v, "#PF exit at 0x%lx (error code 0x%x) in SLAT mode, where hv does not intercept #PF",
                gva, error);
    unsigned access = (error & PFEC_W ? HV_ACC_W : 0) | (error & PFEC_U ? HV_ACC_U : 0) |
                      (error & PFEC_I ? HV_ACC_F : 0);
    struct hv_walk w;
    int r = hv_guest_walk(v, v->cr3, gva, access, true, &w);
    if (r < 0)
        hv_stop(v, "guest page tables outside guest RAM (CR3 0x%lx, address 0x%lx)", v->cr3, gva);
    if (r > 0) {
        hv_inject_pf(v, gva, w.pf_error);
        return;
    }
    if ((access & HV_ACC_W) && !w.writable)
        hv_stop(v, "supervisor write to a read-only page with CR0.WP=0: not supported in shadow mode");
    uint64_t page = w.gpa & ~0xfffull;
    if (!hv_gpa_ptr(v, page, 4096))
        hv_stop(v, "guest maps 0x%lx to guest-physical 0x%lx, outside its RAM", gva, w.gpa);
    uint64_t *leaf = shadow_leaf(v, gva, true);
    if (!leaf) {
        /* Pool exhausted: start over; the access faults again and refills. */
        hv_shadow_flush(v);
        return;
    }
    uint64_t e = (v->ram_hpa + page) | SPTE_P;
    if (w.user)
        e |= SPTE_US;
    if (w.writable && (w.dirty || (access & HV_ACC_W)))
        e |= SPTE_RW;
    if (w.nx)
        e |= SPTE_NX;
    *leaf = e;
    v->shadow_fills++;
    v->be->flush_tlb(v);
}

/* INVLPG exits happen only in shadow mode (SLAT leaves INVLPG to the
 * guest); an unknown address (FS/GS override) drops everything. */
void hv_handle_invlpg(struct hv_vcpu *v, uint64_t gva)
{
    if (v->mode != HV_MEM_SHADOW)
        return;
    hv_shadow_invlpg(v, gva);
}
