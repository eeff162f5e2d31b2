/* The second-level tables of SLAT mode, shared by both formats: EPT (SDM
 * Vol. 3C, "EPT Translation Mechanism") and NPT, which uses the long-mode
 * page-table format (APM Vol. 2, "Nested Paging"). Both are 4-level tables
 * with the same index bits; only the permission and memory-type bits of an
 * entry differ, so the backend passes them. Guest-physical [0, ram_size)
 * maps to host-physical ram_hpa + gpa with 4 KiB pages; everything else
 * is absent, so a stray guest access stops hv with an EPT violation / #NPF. */
#include "hv/core/hv.h"

#define ADDR_MASK 0x000ffffffffff000ull

static uint64_t *child(uint64_t *table, unsigned index, uint64_t nonleaf_bits)
{
    if (!(table[index] & nonleaf_bits)) {
        uint64_t page = plat_alloc_page();
        if (!page)
            return NULL;
        table[index] = page | nonleaf_bits;
    }
    return plat_phys(table[index] & ADDR_MASK);
}

uint64_t hv_slat_build(struct hv_vcpu *v, uint64_t nonleaf_bits, uint64_t leaf_bits)
{
    uint64_t root = plat_alloc_page();
    if (!root)
        return 0;
    uint64_t *pml4 = plat_phys(root);
    for (uint64_t gpa = 0; gpa < v->ram_size; gpa += 4096) {
        uint64_t *pdpt = child(pml4, (gpa >> 39) & 511, nonleaf_bits);
        uint64_t *pd = pdpt ? child(pdpt, (gpa >> 30) & 511, nonleaf_bits) : NULL;
        uint64_t *pt = pd ? child(pd, (gpa >> 21) & 511, nonleaf_bits) : NULL;
        if (!pt)
            return 0;
        pt[(gpa >> 12) & 511] = (v->ram_hpa + gpa) | leaf_bits;
    }
    return root;
}
