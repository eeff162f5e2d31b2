/* hooks: system instructions that go cold and run again. A simulator that
 * carries out system instructions itself and drops what it stopped using
 * (hvsim removes code hooks that did not fire for a while) must still carry
 * them out when they run again: CPUID, MOV from CR4 and RDMSR run once at
 * start, then 300000 RDTSCs, then the same routine again at the same
 * addresses, and each result must be the same. */
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

void test_main(void)
{
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
