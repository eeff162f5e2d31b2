/* paging32: the two paging modes of protected mode, without long mode.
 * 32-bit paging with 4 KiB pages and 4 MiB pages (CR4.PSE), then PAE
 * paging with 4 KiB and 2 MiB pages, NX, reserved bits and the PDPTE
 * checks of MOV to CR3. This image is a 32-bit ELF and never leaves
 * 32-bit protected mode.
 * SDM Vol. 3A, "32-Bit Paging", "PAE Paging", "PDPTE Registers",
 * "Accessed and Dirty Flags", "Page-Fault Error Code". */
#include "rt/rt.h"

#define P   0x1u
#define RW  0x2u
#define PS  0x80u
#define A   0x20u
#define D   0x40u
#define AD  (A | D)

#define PF_P    0x1
#define PF_W    0x2
#define PF_RSVD 0x8
#define PF_I    0x10
#define VEC_PF  14
#define VEC_GP  13

#define IDENTITY_MB 16
#define FRAME(i)    (0x800000u + (uint32_t)(i) * 4096)  /* 8 MiB + i pages */

/* ---- 32-bit paging ---- */
static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint32_t ident32[IDENTITY_MB / 4][1024] __attribute__((aligned(4096))); /* 4 KiB identity map */
static uint32_t pt32[1024] __attribute__((aligned(4096)));    /* VA 1 GiB: 4 KiB test pages */
/* Behind the PS=1 PDE: a page table when PSE=0, a 4 MiB page when PSE=1.
 * 4 MiB-aligned, because a 4 MiB PDE takes bits 20:12 as PAT and
 * physical-address bits 39:32 (PSE-36), not as address bits. */
#define PS_TABLE    0xC00000u
#define PS_MARKER   (PS_TABLE + 0x1000)

#define VA32(i)   (0x40000000u + (uint32_t)(i) * 4096)
#define VA_4M     0x40400000u   /* PDE 257: 4 MiB page at 16 MiB */
#define VA_4M_ALIAS 0x40c00000u /* PDE 259: the same 4 MiB page */
#define VA_PSBIT  0x40800000u   /* PDE 258: PS=1, address = PS_TABLE */

static volatile uint8_t *p8(uint32_t va) { return (volatile uint8_t *)(uintptr_t)va; }

static void expect_pf(int vector, uint32_t err, uint32_t addr, const char *what)
{
    tap_eq(VEC_PF, (uint64_t)vector, "%s: #PF", what);
    tap_eq(err, rt_fault.error_code, "%s: error code", what);
    tap_eq(addr, rt_fault.cr2, "%s: CR2", what);
}

static void paging32(void)
{
    uint8_t v = 0;
    for (unsigned t = 0; t < IDENTITY_MB / 4; t++) {
        for (unsigned i = 0; i < 1024; i++)
            ident32[t][i] = (t * 1024 + i) * 4096 | P | RW;
        pd32[t] = (uintptr_t)ident32[t] | P | RW;
    }
    pd32[256] = (uintptr_t)pt32 | P | RW;
    pd32[257] = 0x1000000u | P | RW | PS;
    pd32[258] = PS_TABLE | P | RW | PS;
    pd32[259] = 0x1000000u | P | RW | PS;
    pt32[0] = FRAME(0) | P | RW;
    pt32[1] = FRAME(1) | P;
    uint32_t *ps_table = (uint32_t *)(uintptr_t)PS_TABLE; /* identity-mapped */
    for (unsigned i = 0; i < 1024; i++)
        ps_table[i] = 0;
    ps_table[0] = FRAME(2) | P | RW;
    *p8(FRAME(2)) = 0x77;
    *p8(PS_MARKER) = 0x3c;

    write_cr3((uintptr_t)pd32);
    write_cr4(read_cr4() & ~CR4_PSE);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    tap_eq(CR0_PG, read_cr0() & CR0_PG, "32-bit paging on (CR4.PSE=0)");

    /* With CR4.PSE=0 the PS bit of a PDE is ignored: it still points to a table. */
    tap_no_fault(probe_read8(p8(VA_PSBIT), &v), "CR4.PSE=0, PDE with PS=1: read");
    tap_eq(0x77, v, "CR4.PSE=0, PDE with PS=1 maps through its page table");

    tap_no_fault(probe_read8(p8(VA32(0)), &v), "4K read");
    tap_eq(A, pt32[0] & AD, "4K read: PTE A set, D clear");
    tap_eq(A, pd32[256] & AD, "4K read: PDE A set, D untouched");
    tap_no_fault(probe_write8(p8(VA32(0)), 0x11), "4K write");
    tap_eq(AD, pt32[0] & AD, "4K write: PTE A and D set");
    expect_pf(probe_write8(p8(VA32(1)), 1), PF_P | PF_W, VA32(1), "write to read-only 4K page");
    expect_pf(probe_read8(p8(VA32(2)), &v), 0, VA32(2), "read of not-present 4K page");

    write_cr4(read_cr4() | CR4_PSE);
    tap_no_fault(probe_read8(p8(VA_PSBIT + (PS_MARKER - PS_TABLE)), &v), "CR4.PSE=1, PDE with PS=1: read");
    tap_eq(0x3c, v, "CR4.PSE=1, PDE with PS=1 maps a 4 MiB page at its address");
    tap_no_fault(probe_read8(p8(VA_4M + 0x1234), &v), "4M page read");
    tap_eq(A, pd32[257] & AD, "4M page read: PDE A set, D clear");
    tap_no_fault(probe_write8(p8(VA_4M + 0x1234), 0x99), "4M page write");
    tap_eq(AD, pd32[257] & AD, "4M page write: PDE A and D set");
    probe_read8(p8(VA_4M_ALIAS + 0x1234), &v);
    tap_eq(0x99, v, "4M page write visible through an alias of the same page");

    write_cr0(read_cr0() & ~CR0_PG);
}

/* ---- PAE paging ---- */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pdpt_bad[4] __attribute__((aligned(32)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));  /* identity 0-1 GiB, 2 MiB pages */
static uint64_t pd_test[512] __attribute__((aligned(4096))); /* VA 1-2 GiB */
static uint64_t pt_test[512] __attribute__((aligned(4096)));

#define XD (1ull << 63)
#define VAP(i)  (0x40000000u + (uint32_t)(i) * 4096)
#define VA_2M   0x40200000u /* PDE 1: 2 MiB page at 32 MiB */

static void pae(void)
{
    uint8_t v = 0;
    for (unsigned i = 0; i < 512; i++)
        pd_low[i] = (uint64_t)i * 0x200000 | P | RW | PS;
    pdpt[0] = (uintptr_t)pd_low | P;   /* PDPTEs have no RW/US bits: they are reserved */
    pdpt[1] = (uintptr_t)pd_test | P;
    pd_test[0] = (uintptr_t)pt_test | P | RW;
    pd_test[1] = 0x2000000u | P | RW | PS;
    pt_test[0] = FRAME(10) | P | RW;
    pt_test[1] = FRAME(11) | P | RW | XD;
    pt_test[2] = FRAME(12) | P | RW;
    pt_test[3] = FRAME(13) | P | RW | (1ull << 62); /* reserved (above MAXPHYADDR) */
    *p8(FRAME(11)) = 0xc3; /* RET */
    *p8(FRAME(12)) = 0xc3;

    write_cr4(read_cr4() | CR4_PAE);
    write_cr3((uintptr_t)pdpt);
    write_cr0(read_cr0() | CR0_PG);
    tap_eq(CR0_PG, read_cr0() & CR0_PG, "PAE paging on");

    tap_no_fault(probe_read8(p8(VAP(0)), &v), "PAE 4K read");
    tap_eq(A, pt_test[0] & AD, "PAE 4K read: PTE A set, D clear");
    tap_no_fault(probe_write8(p8(VAP(0)), 1), "PAE 4K write");
    tap_eq(AD, pt_test[0] & AD, "PAE 4K write: PTE A and D set");
    tap_no_fault(probe_write8(p8(VA_2M + 0x40), 2), "PAE 2M page write");
    tap_eq(AD, pd_test[1] & AD, "PAE 2M page write: PDE A and D set");

    /* Without EFER.NXE, bit 63 is reserved. */
    int vec = probe_read8(p8(VAP(1)), &v);
    tap_eq(VEC_PF, (uint64_t)vec, "PAE, EFER.NXE=0, PTE bit 63 set: #PF");
    tap_eq_or_departure(PF_P | PF_RSVD, rt_fault.error_code, PF_RSVD, "qemu-tcg-rsvd-pf-lacks-p",
                        "PAE, EFER.NXE=0, PTE bit 63 set: error code (P | RSVD)");
    if (cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & (1u << 20))) {
        wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
        invlpg(p8(VAP(1)));
        expect_pf(probe_exec(VAP(1)), PF_P | PF_I, VAP(1), "PAE, EFER.NXE=1, fetch from XD page");
        tap_no_fault(probe_exec(VAP(2)), "PAE, EFER.NXE=1, fetch from executable page");
        wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) & ~EFER_NXE);
    } else {
        tap_check(false, "CPUID reports NX (needed for the PAE NX checks)");
    }
    vec = probe_read8(p8(VAP(3)), &v);
    tap_eq(VEC_PF, (uint64_t)vec, "PAE PTE bit 62 set: #PF");
    tap_eq_or_departure(PF_P | PF_RSVD, rt_fault.error_code, PF_RSVD, "qemu-tcg-rsvd-pf-lacks-p",
                        "PAE PTE bit 62 set: error code (P | RSVD)");
    tap_eq(VAP(3), rt_fault.cr2, "PAE PTE bit 62 set: CR2");

    /* MOV to CR3 in PAE mode loads the four PDPTEs; a present one with a
     * reserved bit set (here bit 1) makes it #GP(0) and CR3 stays. */
    for (unsigned i = 0; i < 4; i++)
        pdpt_bad[i] = pdpt[i];
    pdpt_bad[2] = (uintptr_t)pd_test | P | RW;
    vec = probe_write_cr3((uintptr_t)pdpt_bad);
    tap_eq_or_departure(VEC_GP, (uint64_t)vec, (uint64_t)-1, "qemu-tcg-pae-pdpte-unchecked",
                        "PAE MOV CR3 with a reserved PDPTE bit raises #GP");
    write_cr3((uintptr_t)pdpt);
    tap_eq((uintptr_t)pdpt, read_cr3(), "CR3 holds the valid PDPT");

    write_cr0(read_cr0() & ~CR0_PG);
    write_cr4(read_cr4() & ~CR4_PAE);
}

void test_main(void)
{
    tap_eq(0, read_cr0() & CR0_PG, "entered in protected mode with paging off");
    paging32();
    pae();
    tap_eq(0, read_cr0() & CR0_PG, "back in protected mode with paging off");
}
