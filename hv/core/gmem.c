/* Guest memory: guest-physical to host pointers, and the software walk of
 * the guest's own page tables that shadow paging and hypercall arguments
 * need. SDM Vol. 3A, "4-Level Paging and 5-Level Paging", "Access Rights",
 * "Accessed and Dirty Flags", "Page-Fault Error Code". */
#include "hv/core/hv.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

void *hv_gpa_ptr(struct hv_vcpu *v, uint64_t gpa, uint64_t len)
{
    if (gpa >= v->ram_size || len > v->ram_size - gpa)
        return NULL;
    return plat_phys(v->ram_hpa + gpa);
}

uint64_t hv_current_cr3(struct hv_vcpu *v)
{
    return v->mode == HV_MEM_SHADOW ? v->cr3 : v->be->guest_cr3(v);
}

int hv_guest_walk(struct hv_vcpu *v, uint64_t cr3, uint64_t gva, unsigned access, bool set_ad,
                  struct hv_walk *w)
{
    bool write = access & HV_ACC_W, user = access & HV_ACC_U, fetch = access & HV_ACC_F;
    bool nxe = v->efer & EFER_NXE;
    uint32_t err = (write ? PFEC_W : 0) | (user ? PFEC_U : 0) | (fetch && nxe ? PFEC_I : 0);
    uint64_t *entries[4];
    int levels = 0;
    bool rw = true, us = true, nx = false;
    uint64_t table = cr3 & PTE_ADDR, page_size = 0, e = 0;

    for (int level = 4; level >= 1; level--) {
        unsigned index = (gva >> (12 + 9 * (level - 1))) & 511;
        uint64_t *pe = hv_gpa_ptr(v, table + index * 8, 8);
        if (!pe)
            return -1;
        e = *pe;
        if (!(e & PTE_P)) {
            w->pf_error = err;
            return 1;
        }
        entries[levels++] = pe;
        rw = rw && (e & PTE_RW);
        us = us && (e & PTE_US);
        nx = nx || (nxe && (e & PTE_NX));
        if (level <= 3 && (e & PTE_PS)) {
            page_size = 1ull << (12 + 9 * (level - 1));
            break;
        }
        if (level == 1)
            page_size = 4096;
        table = e & PTE_ADDR;
    }
    /* Access rights: user accesses need U/S everywhere; writes need R/W
     * everywhere unless a supervisor write with CR0.WP clear; fetches fail
     * on XD with EFER.NXE. */
    bool denied = (user && !us) || (write && !rw && (user || (v->cr0 & CR0_WP))) ||
                  (fetch && nx);
    if (denied) {
        w->pf_error = err | PFEC_P;
        return 1;
    }
    if (set_ad) {
        for (int i = 0; i < levels; i++)
            *entries[i] |= PTE_A;
        if (write)
            *entries[levels - 1] |= PTE_D;
    }
    uint64_t leaf = *entries[levels - 1];
    w->gpa = (leaf & PTE_ADDR & ~(page_size - 1)) | (gva & (page_size - 1));
    w->leaf_pa = 0;
    w->writable = rw;
    w->user = us;
    w->nx = nx;
    w->dirty = leaf & PTE_D;
    return 0;
}

/* Copies between hv and guest-virtual memory, page by page, as the guest's
 * tables allow (a write needs a writable translation). */
static bool copy_gva(struct hv_vcpu *v, uint64_t gva, unsigned char *buf, size_t len, bool write)
{
    uint64_t cr3 = hv_current_cr3(v);
    while (len) {
        struct hv_walk w;
        if (hv_guest_walk(v, cr3, gva, write ? HV_ACC_W : 0, false, &w) != 0)
            return false;
        size_t chunk = 4096 - (gva & 4095);
        if (chunk > len)
            chunk = len;
        unsigned char *p = hv_gpa_ptr(v, w.gpa, chunk);
        if (!p)
            return false;
        if (write)
            hv_memcpy(p, buf, chunk);
        else
            hv_memcpy(buf, p, chunk);
        buf += chunk;
        gva += chunk;
        len -= chunk;
    }
    return true;
}

bool hv_read_gva(struct hv_vcpu *v, uint64_t gva, void *buf, size_t len)
{
    return copy_gva(v, gva, buf, len, false);
}

bool hv_write_gva(struct hv_vcpu *v, uint64_t gva, const void *buf, size_t len)
{
    return copy_gva(v, gva, (unsigned char *)(uintptr_t)buf, len, true);
}
