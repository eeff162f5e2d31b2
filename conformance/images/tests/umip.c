/* umip: User-Mode Instruction Prevention. Ring 3 runs SGDT, SIDT, SLDT,
 * STR and SMSW with CR4.UMIP set (each raises #GP(0)) and SGDT with it
 * clear (no exception). On a CPU without UMIP (CPUID.(EAX=7,ECX=0):ECX
 * bit 2 clear, Bochs 2.7's corei7_skylake_x) CR4.UMIP is reserved and the
 * checks hold vacuously, so every machine prints the same lines.
 * SDM Vol. 3A, "User-Mode Instruction Prevention"; SDM Vol. 2, "SGDT",
 * "SIDT", "SLDT", "STR", "SMSW" (protected-mode exceptions). */
#include "rt/rt.h"
#include "rt/arch.h"

#define CR4_UMIP (1ull << 11)

struct dtr { uint16_t limit; uint64_t base; } __attribute__((packed));

static struct { int sgdt, sidt, sldt, str, smsw, smsw_reg, sgdt_clear; } user;

static int user_sgdt(void)
{
    struct dtr d;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("sgdt %0") : "=m"(d) : : "memory");
    return rt_fault_vector();
}

static void user_umip_set(void)
{
    uint16_t sel;
    uint64_t msw;
    struct dtr d;
    user.sgdt = user_sgdt();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("sidt %0") : "=m"(d) : : "memory");
    user.sidt = rt_fault_vector();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("sldt %0") : "=m"(sel) : : "memory");
    user.sldt = rt_fault_vector();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("str %0") : "=m"(sel) : : "memory");
    user.str = rt_fault_vector();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("smsw %0") : "=m"(sel) : : "memory");
    user.smsw = rt_fault_vector();
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("smsw %0") : "=r"(msw) : : "memory");
    user.smsw_reg = rt_fault_vector();
}

static void user_umip_clear(void) { user.sgdt_clear = user_sgdt(); }

void test_main(void)
{
    bool has = (cpuid(7, 0).ecx & (1u << 2)) != 0;
    if (has) write_cr4(read_cr4() | CR4_UMIP);
    rt_user_call(user_umip_set);
    if (has) write_cr4(read_cr4() & ~CR4_UMIP);
    rt_user_call(user_umip_clear);
    tap_check(!has || user.sgdt == 13, "SGDT at CPL 3 with CR4.UMIP raises #GP");
    tap_check(!has || user.sidt == 13, "SIDT at CPL 3 with CR4.UMIP raises #GP");
    tap_check(!has || user.sldt == 13, "SLDT at CPL 3 with CR4.UMIP raises #GP");
    tap_check(!has || user.str == 13, "STR at CPL 3 with CR4.UMIP raises #GP");
    tap_check(!has || user.smsw == 13, "SMSW to memory at CPL 3 with CR4.UMIP raises #GP");
    tap_check(!has || user.smsw_reg == 13, "SMSW to a register at CPL 3 with CR4.UMIP raises #GP");
    tap_no_fault(user.sgdt_clear, "SGDT at CPL 3 without CR4.UMIP");
}
