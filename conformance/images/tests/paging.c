/* paging: 4-level paging rules as the SDM states them, checked through
 * their architectural effects: accessed/dirty bits, #PF error codes and
 * CR2, NX with EFER.NXE, CR0.WP, reserved bits, 2 MiB pages, and INVLPG /
 * CR3 loads making a changed entry visible.
 * SDM Vol. 3A, "4-Level Paging and 5-Level Paging", "Accessed and Dirty
 * Flags", "Page-Fault Exceptions", "Access Rights", "Invalidation of TLBs
 * and Paging-Structure Caches". */
#include "rt/rt.h"

#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define A   (1ull << 5)
#define D   (1ull << 6)
#define PS  (1ull << 7)
#define XD  (1ull << 63)
#define AD  (A | D)

/* #PF error code bits (SDM Vol. 3A, "Page-Fault Error Code"). */
#define PF_P    0x1
#define PF_W    0x2
#define PF_U    0x4
#define PF_RSVD 0x8
#define PF_I    0x10

#define VEC_PF 14

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));  /* identity 0-1 GiB, 2 MiB pages */
static uint64_t pd_test[512] __attribute__((aligned(4096))); /* VA 1 GiB - 2 GiB */
static uint64_t pt_test[512] __attribute__((aligned(4096))); /* VA 1 GiB - 1 GiB + 2 MiB */
static uint64_t pdpt_bad[512] __attribute__((aligned(4096)));

#define TEST_VA     0x40000000ull
#define VA(i)       (TEST_VA + (uint64_t)(i) * 4096)
#define FRAME(i)    (0x1000000ull + (uint64_t)(i) * 4096)   /* 16 MiB + i pages */
#define LARGE_VA(i) (TEST_VA + (uint64_t)(i) * 0x200000)
#define LARGE_PA(i) (0x2000000ull + (uint64_t)(i) * 0x200000) /* 32 MiB + i * 2 MiB */
#define BAD_PML4_VA 0x10000000000ull                         /* PML4 slot 2 */

static volatile uint8_t *va(unsigned i) { return (volatile uint8_t *)(uintptr_t)VA(i); }

static void set_pte(unsigned i, uint64_t v)
{
    pt_test[i] = v;
    invlpg(va(i));
}

static void build_tables(void)
{
    for (unsigned i = 0; i < 512; i++)
        pd_low[i] = (uint64_t)i * 0x200000 | P | RW | US | PS;
    pml4[0] = (uintptr_t)pdpt | P | RW | US;
    pdpt[0] = (uintptr_t)pd_low | P | RW | US;
    pdpt[1] = (uintptr_t)pd_test | P | RW | US;
    pd_test[0] = (uintptr_t)pt_test | P | RW | US;
    write_cr3((uintptr_t)pml4);
}

/* Checks one caught #PF: vector, error code, CR2 and the saved RIP. */
static void expect_pf(int vector, uint64_t err, uint64_t addr, const char *what)
{
    tap_eq(VEC_PF, (uint64_t)vector, "%s: #PF", what);
    tap_eq(err, rt_fault.error_code, "%s: error code", what);
    tap_eq(addr, rt_fault.cr2, "%s: CR2", what);
    tap_check(rt_fault.count && rt_fault.rip == rt_fault.site, "%s: saved RIP is the faulting instruction", what);
}

static void accessed_dirty_4k(void)
{
    uint8_t v;
    set_pte(0, FRAME(0) | P | RW);
    pd_test[0] &= ~AD;
    pdpt[1] &= ~A;
    write_cr3(read_cr3());
    tap_no_fault(probe_read8(va(0), &v), "4K read");
    tap_eq(A, pt_test[0] & AD, "4K read: PTE A set, D clear");
    tap_eq(A, pd_test[0] & AD, "4K read: PDE (non-leaf) A set, D untouched");
    tap_eq(A, pdpt[1] & A, "4K read: PDPTE A set");
    tap_no_fault(probe_write8(va(0), 0x5a), "4K write");
    tap_eq(AD, pt_test[0] & AD, "4K write: PTE A and D set");
    tap_eq(0x5a, *(volatile uint8_t *)(uintptr_t)FRAME(0), "4K write reached the mapped frame");
}

static void write_protect(void)
{
    uint8_t v;
    write_cr0(read_cr0() | CR0_WP);
    set_pte(1, FRAME(1) | P);
    tap_no_fault(probe_read8(va(1), &v), "read-only page: read allowed");
    expect_pf(probe_write8(va(1), 1), PF_P | PF_W, VA(1), "CR0.WP=1, supervisor write to read-only page");
    tap_eq(A, pt_test[1] & AD, "faulting write left D clear");
    write_cr0(read_cr0() & ~CR0_WP);
    tap_no_fault(probe_write8(va(1), 0x77), "CR0.WP=0, supervisor write to read-only page: allowed");
    write_cr0(read_cr0() | CR0_WP);
    tap_eq(AD, pt_test[1] & AD, "CR0.WP=0 write set D");
    tap_eq(0x77, *(volatile uint8_t *)(uintptr_t)FRAME(1), "CR0.WP=0 write reached the frame");
}

static void not_present(void)
{
    uint8_t v;
    set_pte(2, FRAME(2) | RW); /* P clear */
    expect_pf(probe_read8(va(2), &v), 0, VA(2), "read of not-present page");
    expect_pf(probe_write8(va(2), 1), PF_W, VA(2), "write to not-present page");
    tap_eq(0, pt_test[2] & AD, "not-present entry untouched");
}

/* Results of the ring-3 probes, checked back in ring 0. */
static struct user_result { int vector; uint64_t err, cr2; unsigned cpl; uint8_t value; } ures[4];

static void record(struct user_result *r, int vector)
{
    r->vector = vector;
    r->err = rt_fault.error_code;
    r->cr2 = rt_fault.cr2;
    r->cpl = rt_fault.cpl;
}

static void user_probes(void)
{
    uint8_t v = 0;
    record(&ures[0], probe_read8(va(3), &v));   /* supervisor page */
    record(&ures[1], probe_write8(va(4), 1));   /* read-only user page */
    record(&ures[2], probe_read8(va(5), &v));   /* user page */
    ures[2].value = v;
    record(&ures[3], probe_read8(va(2), &v));   /* not present */
}

static void user_accesses(void)
{
    set_pte(3, FRAME(3) | P | RW);
    set_pte(4, FRAME(4) | P | US);
    *(volatile uint8_t *)(uintptr_t)FRAME(5) = 0x3c;
    set_pte(5, FRAME(5) | P | RW | US);
    rt_user_call(user_probes);
    tap_eq(VEC_PF, (uint64_t)ures[0].vector, "user read of supervisor page: #PF");
    tap_eq(PF_P | PF_U, ures[0].err, "user read of supervisor page: error code");
    tap_eq(VA(3), ures[0].cr2, "user read of supervisor page: CR2");
    tap_eq(3, ures[0].cpl, "user read of supervisor page: fault came from CPL 3");
    tap_eq(VEC_PF, (uint64_t)ures[1].vector, "user write to read-only user page: #PF");
    tap_eq(PF_P | PF_W | PF_U, ures[1].err, "user write to read-only user page: error code");
    tap_eq(VA(4), ures[1].cr2, "user write to read-only user page: CR2");
    tap_no_fault(ures[2].vector, "user read of user page");
    tap_eq(0x3c, ures[2].value, "user read of user page: value");
    tap_eq(VEC_PF, (uint64_t)ures[3].vector, "user read of not-present page: #PF");
    tap_eq(PF_U, ures[3].err, "user read of not-present page: error code");
}

static void no_execute(void)
{
    *(volatile uint8_t *)(uintptr_t)FRAME(6) = 0xc3; /* RET */
    *(volatile uint8_t *)(uintptr_t)FRAME(7) = 0xc3;
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
    set_pte(6, FRAME(6) | P | RW | XD);
    set_pte(7, FRAME(7) | P | RW);
    expect_pf(probe_exec(VA(6)), PF_P | PF_I, VA(6), "EFER.NXE=1, fetch from XD page");
    tap_no_fault(probe_exec(VA(7)), "EFER.NXE=1, fetch from executable page");
    uint8_t v;
    tap_no_fault(probe_read8(va(6), &v), "EFER.NXE=1, read of XD page: allowed");
    expect_pf(probe_exec(VA(2)), PF_I, VA(2), "EFER.NXE=1, fetch from not-present page");

    /* With NXE clear, bit 63 of a present entry is reserved. */
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) & ~EFER_NXE);
    invlpg(va(6));
    int vec = probe_read8(va(6), &v);
    tap_eq(VEC_PF, (uint64_t)vec, "EFER.NXE=0, read of page with bit 63 set: #PF");
    tap_eq_or_departure(PF_P | PF_RSVD, rt_fault.error_code, PF_RSVD, "qemu-tcg-rsvd-pf-lacks-p",
                        "EFER.NXE=0, read of page with bit 63 set: error code (P | RSVD)");
    tap_eq(VA(6), rt_fault.cr2, "EFER.NXE=0, read of page with bit 63 set: CR2");
    expect_pf(probe_exec(VA(2)), 0, VA(2), "EFER.NXE=0, fetch from not-present page (no I bit)");
}

static void reserved_bits(void)
{
    uint8_t v;
    set_pte(8, FRAME(8) | P | RW | (1ull << 51));
    int vec = probe_read8(va(8), &v);
    tap_eq(VEC_PF, (uint64_t)vec, "PTE bit 51 set: #PF");
    tap_eq_or_departure(PF_P | PF_RSVD, rt_fault.error_code, PF_RSVD, "qemu-tcg-rsvd-pf-lacks-p",
                        "PTE bit 51 set: error code (P | RSVD)");
    tap_eq(VA(8), rt_fault.cr2, "PTE bit 51 set: CR2");

    /* PS is reserved in a PML4 entry. */
    pml4[2] = (uintptr_t)pdpt_bad | P | RW | PS;
    write_cr3(read_cr3());
    vec = probe_read8((volatile uint8_t *)(uintptr_t)BAD_PML4_VA, &v);
    tap_eq(VEC_PF, (uint64_t)vec, "PML4E with PS set: #PF");
    tap_eq_or_departure(PF_P | PF_RSVD, rt_fault.error_code, PF_RSVD, "qemu-tcg-rsvd-pf-lacks-p",
                        "PML4E with PS set: error code (P | RSVD)");
    tap_eq(BAD_PML4_VA, rt_fault.cr2, "PML4E with PS set: CR2");
    pml4[2] = 0;
    write_cr3(read_cr3());
}

static void large_pages(void)
{
    uint8_t v;
    volatile uint8_t *big = (volatile uint8_t *)(uintptr_t)(LARGE_VA(1) + 0x12345);
    pd_test[1] = LARGE_PA(1) | P | RW | PS;
    pd_test[2] = LARGE_PA(2) | P | PS;
    pd_test[3] = LARGE_PA(3) | P | RW | PS | (1ull << 13); /* bits 20:13 of a 2 MiB PDE are reserved */
    write_cr3(read_cr3());
    tap_no_fault(probe_read8(big, &v), "2M page read");
    tap_eq(A, pd_test[1] & AD, "2M page read: PDE A set, D clear");
    tap_no_fault(probe_write8(big, 0x99), "2M page write");
    tap_eq(AD, pd_test[1] & AD, "2M page write: PDE A and D set");
    tap_eq(0x99, *(volatile uint8_t *)(uintptr_t)(LARGE_PA(1) + 0x12345), "2M page write reached the frame");
    expect_pf(probe_write8((volatile uint8_t *)(uintptr_t)(LARGE_VA(2) + 8), 1), PF_P | PF_W, LARGE_VA(2) + 8,
              "supervisor write to read-only 2M page");
    int vec = probe_read8((volatile uint8_t *)(uintptr_t)LARGE_VA(3), &v);
    tap_eq(VEC_PF, (uint64_t)vec, "2M PDE with bit 13 set: #PF");
    tap_eq_or_departure(PF_P | PF_RSVD, rt_fault.error_code, PF_RSVD, "qemu-tcg-rsvd-pf-lacks-p",
                        "2M PDE with bit 13 set: error code (P | RSVD)");
}

static void invalidation(void)
{
    uint8_t v = 0;
    *(volatile uint8_t *)(uintptr_t)FRAME(9) = 0x11;
    *(volatile uint8_t *)(uintptr_t)FRAME(10) = 0x22;
    set_pte(9, FRAME(9) | P | RW);
    probe_read8(va(9), &v);
    tap_eq(0x11, v, "page 9 maps frame 9");
    pt_test[9] = FRAME(10) | P | RW;
    invlpg(va(9));
    probe_read8(va(9), &v);
    tap_eq(0x22, v, "after INVLPG the changed PTE (frame 10) is used");
    pt_test[9] = FRAME(9) | P | RW;
    write_cr3(read_cr3());
    probe_read8(va(9), &v);
    tap_eq(0x11, v, "after a CR3 load the changed PTE (frame 9) is used");
    pt_test[9] = 0;
    invlpg(va(9));
    int vec = probe_read8(va(9), &v);
    tap_eq(VEC_PF, (uint64_t)vec, "after INVLPG a cleared PTE faults");
}

void test_main(void)
{
    build_tables();
    tap_eq((uintptr_t)pml4, read_cr3(), "CR3 holds the test's PML4");
    accessed_dirty_4k();
    write_protect();
    not_present();
    user_accesses();
    no_execute();
    reserved_bits();
    large_pages();
    invalidation();
}
