/* The guest's paging checks: its own 4-level tables in two address spaces,
 * CR3 switches, accessed and dirty flags, INVLPG, and page faults it handles
 * itself. Under SLAT the processor walks these tables; under shadow paging
 * hv does, and the guest must not be able to tell. SDM Vol. 3A, "4-Level
 * Paging and 5-Level Paging", "Accessed and Dirty Flags", "Invalidation of
 * TLBs and Paging-Structure Caches", "Page-Fault Error Code". */
#include "hv/guest/guest.h"

#define P   (1ul << 0)
#define RW  (1ul << 1)
#define A   (1ul << 5)
#define D   (1ul << 6)
#define PS  (1ul << 7)
#define NX  (1ul << 63)
#define VA(page) (0x40000000ull + (page) * 4096ull)
#define MARK_A 0xaaaa0000aaaa0001ull
#define MARK_B 0xbbbb0000bbbb0002ull
#define MARK_C 0xcccc0000cccc0003ull
#define MARK_D 0xdddd0000dddd0004ull

typedef unsigned long table[512] __attribute__((aligned(4096)));
static table pml4[2], pdpt[2], pd_identity, pd_hi[2], pt_hi[2];
static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));
static uint64_t page_c[512] __attribute__((aligned(4096)));
static uint64_t page_d[512] __attribute__((aligned(4096)));

static inline uint64_t pa(const void *p) { return (uint64_t)p; }   /* identity-mapped */
/* Accesses through test addresses are ordered with the page-table stores
 * around them (the compiler must not cache or sink those). */
static inline uint64_t peek(uint64_t va)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(va) : "memory");
    return v;
}
static inline void poke(uint64_t va, uint64_t v)
{
    __asm__ volatile("movq %1, (%0)" ::"r"(va), "r"(v) : "memory");
}
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

static void build_address_spaces(void)
{
    pd_identity[0] = 0 | P | RW | PS;           /* guest RAM, 2 MiB pages */
    pd_identity[1] = (2ull << 20) | P | RW | PS;
    for (int s = 0; s < 2; s++) {
        pml4[s][0] = pa(pdpt[s]) | P | RW;
        pdpt[s][0] = pa(pd_identity) | P | RW;
        pdpt[s][1] = pa(pd_hi[s]) | P | RW;      /* VA 0x40000000 */
        pd_hi[s][0] = pa(pt_hi[s]) | P | RW;
    }
    pt_hi[0][0] = pa(page_a) | P | RW;
    pt_hi[1][0] = pa(page_b) | P | RW;
    page_a[0] = MARK_A;
    page_b[0] = MARK_B;
    page_c[0] = MARK_C;
    page_d[0] = MARK_D;
}

static void test_cr3_switch(void)
{
    WRITE_CR(3, pa(pml4[0]));
    check(READ_CR(3) == pa(pml4[0]), "CR3 reads back the guest's own PML4 (address space 1)");
    check(peek(VA(0)) == MARK_A, "address space 1 maps 0x40000000 to page A");
    WRITE_CR(3, pa(pml4[1]));
    check(peek(VA(0)) == MARK_B, "after MOV CR3, address space 2 maps 0x40000000 to page B");
    WRITE_CR(3, pa(pml4[0]));
    check(peek(VA(0)) == MARK_A, "back in address space 1: page A again");
}

static void test_accessed_dirty(void)
{
    pt_hi[0][1] = pa(page_c) | P | RW;
    check((pt_hi[0][1] & (A | D)) == 0, "fresh PTE: accessed and dirty clear");
    uint64_t v = peek(VA(1));
    check(v == MARK_C && (pt_hi[0][1] & (A | D)) == A, "a read sets accessed only (PTE flags 0x%lx)",
          pt_hi[0][1] & (A | D));
    check((pd_hi[0][0] & A) && (pdpt[0][1] & A) && (pml4[0][0] & A),
          "the read set accessed in the PDE, PDPTE and PML4E");
    poke(VA(1), MARK_C + 1);
    check((pt_hi[0][1] & (A | D)) == (A | D), "a write sets dirty (PTE flags 0x%lx)",
          pt_hi[0][1] & (A | D));
    check(page_c[0] == MARK_C + 1, "the write reached page C");
}

static void test_invlpg(void)
{
    pt_hi[0][2] = pa(page_a) | P | RW;
    check(peek(VA(2)) == MARK_A, "0x40002000 maps page A");
    pt_hi[0][2] = pa(page_b) | P | RW;
    invlpg(VA(2));
    check(peek(VA(2)) == MARK_B, "after remapping and INVLPG, 0x40002000 maps page B");
}

static uint64_t fixed_cr2, fixed_error;

/* The guest's own #PF handler: map the page the test left absent, or make
 * the read-only one writable, then let the instruction run again. */
static bool fix_fault(uint64_t cr2, uint64_t error)
{
    fixed_cr2 = cr2;
    fixed_error = error;
    if (cr2 == VA(3) && !(pt_hi[0][3] & P)) {
        pt_hi[0][3] = pa(page_d) | P | RW;
        return true;
    }
    if (cr2 == VA(4) && !(pt_hi[0][4] & RW)) {
        pt_hi[0][4] |= RW;
        invlpg(cr2);   /* a permission upgrade: drop the stale translation */
        return true;
    }
    return false;
}

static void test_page_faults(void)
{
    pf_fixer = fix_fault;
    uint64_t v = peek(VA(3));
    check(v == MARK_D && fixed_cr2 == VA(3) && fixed_error == 0,
          "read of a not-present page: #PF cr2 0x%lx error 0x%lx, handled, retried", fixed_cr2,
          fixed_error);
    pt_hi[0][4] = pa(page_d) | P;
    check(peek(VA(4)) == MARK_D, "read of a read-only page succeeds");
    poke(VA(4), MARK_D + 1);
    check(page_d[0] == MARK_D + 1 && fixed_cr2 == VA(4) && fixed_error == (P | RW),
          "write to a read-only page: #PF cr2 0x%lx error 0x%lx, handled, retried", fixed_cr2,
          fixed_error);
    pf_fixer = 0;

    /* Execute-disable (EFER.NXE was set by the MSR checks): a fetch faults
     * with P and I/D set. */
    ((uint8_t *)page_c)[8] = 0xc3;   /* RET, never reached */
    pt_hi[0][5] = pa(page_c) | P | RW | NX;
    int vec = PROBE("jmp *%0", ::"r"(VA(5) + 8) : "r11", "memory");
    check(vec == 14 && last_fault.cr2 == VA(5) + 8 && last_fault.error == 0x11,
          "fetch from an execute-disable page: #PF cr2 0x%lx error 0x%lx", last_fault.cr2,
          last_fault.error);
    vec = PROBE("movq (%0), %%rax", ::"r"(VA(6)) : "rax", "r11", "memory");
    check(vec == 14 && last_fault.error == 0, "read of an unmapped page without a fixer: #PF error 0x%lx",
          last_fault.error);
}

void test_paging(void)
{
    build_address_spaces();
    test_cr3_switch();
    test_accessed_dirty();
    test_invlpg();
    test_page_faults();
}
