/* crchecks: MOV to CR0 and CR4 raise #GP(0) for values the SDM forbids,
 * and leave the register unchanged.
 * SDM Vol. 3A, "Control Registers" (reserved bits), "Initializing IA-32e
 * Mode" (paging cannot be disabled and PAE cannot be cleared in IA-32e
 * mode); SDM Vol. 2, "MOV—Move to/from Control Registers" (exceptions).
 *
 * Not run on QEMU 7.2 TCG, which does not implement these checks: a
 * reserved CR4 bit hangs it at the MOV, and CR0 with bit 32 or with PG=1
 * PE=0 is accepted (the run then loses control). Bochs follows the SDM. */
#include "rt/rt.h"

#define VEC_GP 13

static void expect_gp(int vector, const char *what)
{
    tap_eq(VEC_GP, (uint64_t)vector, "%s raises #GP", what);
    tap_eq(0, rt_fault.error_code, "%s: error code", what);
}

void test_main(void)
{
    unsigned long cr0 = read_cr0(), cr4 = read_cr4();

    expect_gp(probe_write_cr4(cr4 | (1ul << 15)), "MOV CR4 with bit 15 (reserved)");
    expect_gp(probe_write_cr4(cr4 | (1ul << 32)), "MOV CR4 with bit 32 (reserved)");
    expect_gp(probe_write_cr4(cr4 & ~CR4_PAE), "MOV CR4 clearing PAE in IA-32e mode");
    tap_check(read_cr4() == cr4, "CR4 unchanged after the faulting writes");
    tap_no_fault(probe_write_cr4(cr4 | CR4_PGE), "MOV CR4 setting PGE (defined bit)");
    tap_eq(CR4_PGE, read_cr4() & CR4_PGE, "CR4.PGE reads back");
    write_cr4(cr4);

    expect_gp(probe_write_cr0(cr0 | (1ul << 32)), "MOV CR0 with bit 32 (reserved)");
    expect_gp(probe_write_cr0(cr0 & ~CR0_PE), "MOV CR0 with PG=1 PE=0");
    expect_gp(probe_write_cr0(cr0 & ~CR0_PG), "MOV CR0 clearing PG in 64-bit mode");
    /* CD=0 NW=1 is invalid (SDM Vol. 3A, "Cache Control Registers"). */
    expect_gp(probe_write_cr0((cr0 & ~(1ul << 30)) | (1ul << 29)), "MOV CR0 with NW=1 CD=0");
    tap_check(read_cr0() == cr0, "CR0 unchanged after the faulting writes");
    tap_no_fault(probe_write_cr0(cr0 ^ CR0_WP), "MOV CR0 toggling WP (defined bit)");
    write_cr0(cr0);
}
