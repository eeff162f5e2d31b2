/* CPUID as the guest sees it: the processor's answer, filtered so the guest
 * sees a virtual machine: no VMX, no SVM (hv does not offer nesting), the
 * hypervisor-present bit, hv's own leaves 40000000H-40000001H, and none of
 * the features hv's paging and CR emulation do not support (PCID, SMEP,
 * SMAP, PKU, LA57), so that CR4 writes enabling them consistently #GP.
 * SDM Vol. 2A, CPUID, "Information Returned by CPUID Instruction";
 * APM Vol. 3, "CPUID Fn8000_0001_ECX" and "CPUID Fn8000_000A". */
#include "hv/core/hv.h"
#include "hv/hypercall.h"

#define BIT(n) (1u << (n))

/* CLEAR(leaf, register index 0-3 = EAX..EDX, bits): one table of hidden bits. */
#define HV_CPUID_HIDDEN(CLEAR)                                                 \
    CLEAR(0x00000001u, 2, BIT(5))    /* ECX.VMX */                              \
    CLEAR(0x00000001u, 2, BIT(17))   /* ECX.PCID */                             \
    CLEAR(0x00000001u, 2, BIT(3))    /* ECX.MONITOR: MONITOR/MWAIT not emulated */ \
    CLEAR(0x00000007u, 1, BIT(7))    /* EBX.SMEP */                             \
    CLEAR(0x00000007u, 1, BIT(20))   /* EBX.SMAP */                             \
    CLEAR(0x00000007u, 2, BIT(3))    /* ECX.PKU */                              \
    CLEAR(0x00000007u, 2, BIT(16))   /* ECX.LA57 */                             \
    CLEAR(0x80000001u, 2, BIT(2))    /* ECX.SVM */

static void guest_cpuid(const struct hv_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    if (leaf == HV_CPUID_VENDOR) {
        r[0] = HV_CPUID_MAX;
        r[1] = 'H' | 'v' << 8 | 's' << 16 | (uint32_t)'i' << 24;
        r[2] = 'm' | 'H' << 8 | 'v' << 16 | (uint32_t)'s' << 24;
        r[3] = 'i' | 'm' << 8 | 'H' << 16 | (uint32_t)'v' << 24;
    } else if (leaf == HV_CPUID_FEATURES) {
        r[0] = v->be->hypercall_feature;
        r[1] = r[2] = r[3] = 0;
    } else if (leaf > HV_CPUID_MAX && leaf < 0x80000000u && leaf >= 0x40000000u) {
        r[0] = r[1] = r[2] = r[3] = 0;
    } else if (leaf == 0x8000000au) {
        /* SVM revision and features: SVM is hidden, so nothing. */
        r[0] = r[1] = r[2] = r[3] = 0;
    } else {
        plat_cpuid(leaf, sub, r);
#define CLEAR_BITS(l, reg, bits) if (leaf == (l)) r[reg] &= ~(uint32_t)(bits);
        HV_CPUID_HIDDEN(CLEAR_BITS)
#undef CLEAR_BITS
        if (leaf == 1)
            r[2] |= BIT(31);   /* ECX bit 31: running under a hypervisor */
    }
}

/* Each answer is computed once per vCPU and (leaf, subleaf) and kept, as
 * KVM and Xen build a guest's CPUID table once: it depends only on the
 * processor the vCPU runs on and on hv, and the host state the processor's
 * answer reflects (CR4.OSXSAVE, CR4.PKE, XCR0) is set before the guest's
 * first instruction and never changes. A CPUID in VMX root operation or on
 * the SVM host costs a hundred cycles or more; a miss in this
 * direct-mapped table just asks again. */
/* A slot's new answer: off the exit path, so that path stays small
 * enough to inline into the backends' handlers. */
static __attribute__((noinline)) void fill_answer(struct hv_vcpu *v, struct hv_cpuid_answer *a, uint32_t leaf,
                                                  uint32_t sub)
{
    guest_cpuid(v, leaf, sub, a->r);
    a->leaf = leaf;
    a->sub = sub;
    a->valid = true;
}

void hv_handle_cpuid(struct hv_vcpu *v)
{
    uint32_t leaf = (uint32_t)hv_gpr(v, 0), sub = (uint32_t)hv_gpr(v, 1);
    struct hv_cpuid_answer *a = &v->cpuid_answers[(leaf ^ leaf >> 27 ^ sub) % HV_CPUID_ANSWERS];
    /* One branch on the exit path (each is a block on hvsim): the
     * differences are OR-ed, which compilers keep as arithmetic. */
    uint32_t miss = (a->leaf ^ leaf) | (a->sub ^ sub) | (uint32_t)!a->valid;
    if (miss)
        fill_answer(v, a, leaf, sub);
    const uint32_t *r = a->r;
    hv_set_gpr(v, 0, r[0]);
    hv_set_gpr(v, 3, r[1]);
    hv_set_gpr(v, 1, r[2]);
    hv_set_gpr(v, 2, r[3]);
}
