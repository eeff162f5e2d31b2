/* syscall: the fast system-call instructions, which a simulator on Unicorn
 * must carry out itself (Unicorn runs hooks in place of SYSCALL's
 * transition). SYSCALL/SYSRET in 64-bit mode, their #UD and #GP rules, and
 * SYSENTER/SYSEXIT in 64-bit mode, where the vendors differ (Intel: the
 * transition; AMD: #UD) — the image prints the same line on both.
 * SDM Vol. 2B "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT"; AMD APM Vol. 3,
 * the same pages, and APM Vol. 2, "Fast System Call and Return". */
#include "rt/layout.h"
#include "rt/rt.h"

#define MSR_STAR   0xC0000081u
#define MSR_LSTAR  0xC0000082u
#define MSR_FMASK  0xC0000084u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define EFER_SCE   (1ull << 0)
#define RFLAGS_DF  (1ull << 10)
#define RFLAGS_AC  (1ull << 18)
#define FMASK      (RFLAGS_DF | RFLAGS_AC | (1ull << 8) | (1ull << 9))  /* DF AC TF IF */

/* What the ring-0 entry points saw (globals: the assembly names them). */
volatile uint64_t sc_rcx, sc_r11, sc_rflags, sc_bad_hit, se_rsp;
volatile uint16_t sc_cs, sc_ss, se_cs, se_ss;
static uint64_t se_stack[64];

/* SYSCALL entry: record the state, return with SYSRETQ (RCX, R11 intact). */
__asm__(".text\n"
        "sc_entry:\n"
        "  movq %rcx, sc_rcx(%rip)\n"
        "  movq %r11, sc_r11(%rip)\n"
        "  pushfq\n"
        "  popq sc_rflags(%rip)\n"
        "  movw %cs, sc_cs(%rip)\n"
        "  movw %ss, sc_ss(%rip)\n"
        "  sysretq\n"
        /* Entered only if SYSCALL wrongly runs with EFER.SCE clear (ring 0). */
        "sc_bad:\n"
        "  movq $1, sc_bad_hit(%rip)\n"
        "  jmp *%rcx\n"
        /* SYSENTER entry: record, return to ring 3 with SYSEXITQ (RDX, RCX). */
        "se_entry:\n"
        "  movq %rsp, se_rsp(%rip)\n"
        "  movw %cs, se_cs(%rip)\n"
        "  movw %ss, se_ss(%rip)\n"
        "  sysexitq\n");
extern const char sc_entry[], sc_bad[], se_entry[];

static volatile uint64_t user_rcx_expected;
static volatile uint16_t user_cs_after, user_ss_after;
static volatile uint64_t user_rflags_after;
static volatile int user_sysret_vector, user_sysenter_vector;
static volatile uint16_t user_cs_after_sysexit, user_ss_after_sysexit;

static void user_syscall(void)
{
    uint64_t expect;
    uint16_t cs, ss;
    uint64_t flags;
    __asm__ volatile("pushfq\n"
                     "orq %[df], (%%rsp)\n"
                     "popfq\n"
                     "leaq 1f(%%rip), %[exp]\n"
                     "syscall\n"
                     "1:\n"
                     "pushfq\n"
                     "popq %[fl]\n"
                     "cld\n"
                     "movw %%cs, %[cs]\n"
                     "movw %%ss, %[ss]\n"
                     /* SYSRET's SS (0x1b) names the runtime's kernel code
                      * descriptor: an IRET back to ring 3 would refuse it. */
                     "movw %[uds], %%ss\n"
                     : [exp] "=&r"(expect), [cs] "=&r"(cs), [ss] "=&r"(ss), [fl] "=&r"(flags)
                     : [df] "i"(RFLAGS_DF), [uds] "r"((uint16_t)(RT_SEL_UDATA | 3))
                     : "rcx", "r11", "memory", "cc");
    user_rcx_expected = expect;
    user_cs_after = cs;
    user_ss_after = ss;
    user_rflags_after = flags;
    /* SYSRET at CPL 3: #GP(0). */
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("sysretq") ::: "memory");
    user_sysret_vector = rt_fault_vector();
}

static void user_sysenter(void)
{
    uint16_t cs = 0, ss = 0;
    rt_fault_clear();
    /* SYSEXIT returns to RDX with RSP = RCX: the probe's end, this stack. */
    __asm__ volatile("movq %%rsp, %%rcx\n"
                     "leaq 2f(%%rip), %%rdx\n"
                     RT_PROBE("sysenter")
                     "movw %%cs, %[cs]\n"
                     "movw %%ss, %[ss]\n"
                     "movw %[uds], %%ss\n"
                     : [cs] "=&r"(cs), [ss] "=&r"(ss)
                     : [uds] "r"((uint16_t)(RT_SEL_UDATA | 3))
                     : "rcx", "rdx", "memory");
    user_sysenter_vector = rt_fault_vector();
    user_cs_after_sysexit = cs;
    user_ss_after_sysexit = ss;
}

static bool vendor_intel(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    return r.ebx == 0x756e6547u && r.edx == 0x49656e69u && r.ecx == 0x6c65746eu;   /* GenuineIntel */
}

void test_main(void)
{
    uint64_t efer = rdmsr(MSR_IA32_EFER);

    /* SCE clear: SYSCALL is #UD (both vendors). */
    wrmsr(MSR_IA32_EFER, efer & ~EFER_SCE);
    wrmsr(MSR_LSTAR, (uintptr_t)sc_bad);
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("syscall") ::: "rcx", "r11", "memory");
    tap_eq(6, (uint64_t)rt_fault_vector(), "SYSCALL with IA32_EFER.SCE = 0 raises #UD");
    tap_eq(0, sc_bad_hit, "... and does not reach IA32_LSTAR");

    /* STAR: SYSCALL CS 0x18 (SS 0x20); SYSRET base 0x10 (CS 0x23, SS 0x1b). */
    wrmsr(MSR_IA32_EFER, efer | EFER_SCE);
    wrmsr(MSR_STAR, (0x10ull << 48) | (0x18ull << 32));
    wrmsr(MSR_LSTAR, (uintptr_t)sc_entry);
    wrmsr(MSR_FMASK, FMASK);
    rt_user_call(user_syscall);
    tap_eq(user_rcx_expected, sc_rcx, "SYSCALL: RCX = address of the next instruction");
    tap_eq(RFLAGS_DF, sc_r11 & RFLAGS_DF, "SYSCALL: R11 holds the caller's RFLAGS (DF set)");
    tap_eq(0, sc_rflags & FMASK, "SYSCALL: RFLAGS bits in IA32_FMASK cleared");
    tap_eq(0x18, sc_cs, "SYSCALL: CS = IA32_STAR[47:32]");
    tap_eq(0x20, sc_ss, "SYSCALL: SS = IA32_STAR[47:32] + 8");
    tap_eq(0x23, user_cs_after, "SYSRET: CS = (IA32_STAR[63:48] + 16) | 3");
    tap_eq(0x1b, user_ss_after, "SYSRET: SS = (IA32_STAR[63:48] + 8) | 3");
    tap_eq(RFLAGS_DF, user_rflags_after & RFLAGS_DF, "SYSRET: RFLAGS restored from R11");
    tap_eq(13, (uint64_t)user_sysret_vector, "SYSRET at CPL 3 raises #GP");

    /* SYSENTER/SYSEXIT in 64-bit mode: Intel transitions, AMD raises #UD. */
    wrmsr(MSR_IA32_SYSENTER_CS, 0x18);
    wrmsr(MSR_SYSENTER_ESP, (uintptr_t)&se_stack[64]);
    wrmsr(MSR_SYSENTER_EIP, (uintptr_t)se_entry);
    rt_user_call(user_sysenter);
    bool as_specified;
    if (vendor_intel())
        as_specified = user_sysenter_vector == -1 && se_cs == 0x18 && se_ss == 0x20 &&
                       se_rsp == (uintptr_t)&se_stack[64] && user_cs_after_sysexit == 0x3b &&
                       user_ss_after_sysexit == 0x43;
    else
        as_specified = user_sysenter_vector == 6;
    /* Bochs 2.7's ryzen model runs SYSENTER in long mode instead of #UD. */
    tap_eq_or_departure(1, as_specified, 0, "bochs-amd-sysenter-in-long-mode",
                        "SYSENTER/SYSEXIT in 64-bit mode behave as the vendor specifies");
    wrmsr(MSR_IA32_EFER, efer);
}
