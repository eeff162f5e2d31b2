/* hooks: system instructions that go cold and run again. A simulator that
 * carries out system instructions itself and drops what it stopped using
 * (hvsim removes code hooks that did not fire for a while) must still carry
 * them out when they run again: CPUID, MOV from CR4 and RDMSR run once at
 * start, then 300000 RDTSCs, then the same routine again at the same
 * addresses, and each result must be the same. Before that, blocks that
 * lead to hooked blocks run exactly once per pass (units, below). */
#include "rt/rt.h"
#include "rt/arch.h"

#define MSR_IA32_APIC_BASE 0x1b

struct observed { struct cpuid_regs leaf0, leaf1; unsigned long cr4; uint64_t apic_base; };

static void __attribute__((noinline)) observe(struct observed *o)
{
    o->leaf0 = cpuid(0, 0);
    o->leaf1 = cpuid(1, 0);
    o->cr4 = read_cr4();
    o->apic_base = rdmsr(MSR_IA32_APIC_BASE);
}

/* units(): 64 units, each a block that counts its runs and jumps to a
 * block whose first instruction is hooked (MOV from CR4). After two
 * passes (the second runs the blocks linked to one another), fillers()
 * runs 20000 one-jump blocks, more than hvsim remembers: on the third pass
 * the hooked blocks are no longer known as decoded, and hvsim stops
 * Unicorn before each to have it translated again. Unicorn's RIP at such a
 * stop can still be an earlier block's start (the jump between the two
 * blocks is chained), so the run must go on from the stopped block itself,
 * or a counting block runs twice. */
static volatile uint64_t counted;
void units(void);
void fillers(void);
__asm__(".pushsection .text\n"
        "units:\n"
        ".rept 64\n"
        "  incq counted(%rip)\n"
        "  jmp 1f\n"
        "1: mov %cr4, %rax\n"
        ".endr\n"
        "  ret\n"
        "fillers:\n"
        ".rept 20000\n"
        "  jmp 1f\n"
        "1:\n"
        ".endr\n"
        "  ret\n"
        ".popsection\n");

void test_main(void)
{
    units();
    units();   /* the second pass runs the blocks linked to one another */
    fillers();
    units();
    tap_eq(3 * 64, counted, "64 counting blocks chained to hooked blocks, forgotten before the last pass: each runs once per pass");

    struct observed before, after;
    observe(&before);
    uint64_t last = rdtsc(), backwards = 0;
    for (unsigned i = 0; i < 300000; i++) {
        uint64_t t = rdtsc();
        backwards += t < last;
        last = t;
    }
    observe(&after);
    tap_eq(0, backwards, "300000 RDTSCs: the TSC never goes backwards");
    tap_check(!memcmp(&before.leaf0, &after.leaf0, sizeof before.leaf0), "CPUID leaf 0 the same after them");
    /* Leaf 1 EBX bits 31:24 are the initial APIC ID, the same on one
     * processor; the rest is fixed by the model. */
    tap_check(!memcmp(&before.leaf1, &after.leaf1, sizeof before.leaf1), "CPUID leaf 1 the same after them");
    tap_check(before.cr4 == after.cr4, "MOV from CR4 the same after them");
    tap_check(before.apic_base == after.apic_base, "RDMSR IA32_APIC_BASE the same after them");
}
