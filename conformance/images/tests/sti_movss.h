/* The guest sequences vmx_sti_movss and svm_sti_movss enter, each ending
 * in an instruction the hypervisor intercepts right after (or one
 * instruction after) STI, MOV SS or a loaded shadow, and the SYSCALL set-up
 * their "ends with a SYSCALL" case needs. */
#ifndef HVSIM_IMAGES_TESTS_STI_MOVSS_H
#define HVSIM_IMAGES_TESTS_STI_MOVSS_H

#include "rt/rt.h"

extern char g_sti_cpuid[], g_sti_hlt[], g_sti_ud2[], g_sti_sti_cpuid[], g_cli_sti_cpuid[], g_movss_cpuid[],
    g_sti_nop_cpuid[], g_cpuid[], g_nop_cpuid[], g_syscall[];
__asm__(".text\n"
        "g_sti_cpuid: sti\n  cpuid\n  ud2\n"
        "g_sti_hlt: sti\n  hlt\n  ud2\n"
        "g_sti_ud2: sti\n  ud2\n"
        "g_sti_sti_cpuid: sti\n  sti\n  cpuid\n  ud2\n"
        "g_cli_sti_cpuid: cli\n  sti\n  cpuid\n  ud2\n"
        "g_movss_cpuid: mov %ss, %eax\n  mov %eax, %ss\n  cpuid\n  ud2\n"
        "g_sti_nop_cpuid: sti\n  nop\n  cpuid\n  ud2\n"
        "g_cpuid: cpuid\n  ud2\n"
        "g_nop_cpuid: nop\n  cpuid\n  ud2\n"
        "g_syscall: syscall\n  ud2\n");

#define STI_MOVSS_MSR_STAR 0xC0000081u
#define STI_MOVSS_MSR_LSTAR 0xC0000082u
#define STI_MOVSS_MSR_SFMASK 0xC0000084u

/* A guest's SYSCALL (EFER.SCE is the host's, which the guest starts with;
 * STAR and LSTAR are shared) goes to the CPUID at g_cpuid. */
static inline void sti_movss_syscall_to_cpuid(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | 1u);   /* SCE */
    wrmsr(STI_MOVSS_MSR_STAR, (uint64_t)cs << 32);
    wrmsr(STI_MOVSS_MSR_LSTAR, (uintptr_t)g_cpuid);
    wrmsr(STI_MOVSS_MSR_SFMASK, 0);
}

#endif
