/* hv's test guest: a small 64-bit kernel that exercises what hv
 * virtualizes and prints what it observes, one deterministic line per check
 * ("ok N - what" / "not ok N - what: detail"), then reports its verdict
 * through the EXIT hypercall. */
#ifndef HV_GUEST_GUEST_H
#define HV_GUEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

/* ---- console (lib.c): COM1 by port I/O, as on a PC ---- */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned check_failures(void);

/* ---- hypercalls (lib.c) ---- */
uint64_t hypercall(uint64_t nr, uint64_t a0, uint64_t a1);
void hypercall_select(void);
extern unsigned hypercalls_made;

/* ---- exceptions (lib.c) ----
 * A probe runs one instruction that may fault: the trap handler records the
 * fault and resumes after it. PROBE(insn, constraints...) gives the vector
 * (-1 for none). A fixer, when set, handles #PF itself and lets the
 * faulting instruction run again. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};
struct fault {
    int vector;
    uint64_t error, cr2;
};
extern volatile struct fault last_fault;
extern volatile uint64_t probe_resume;
extern bool (*volatile pf_fixer)(uint64_t cr2, uint64_t error);
void traps_init(void);

#define PROBE(insn, ...)                                                   \
    ({                                                                     \
        last_fault.vector = -1;                                            \
        __asm__ volatile("leaq 1f(%%rip), %%r11\n\t"                       \
                         "movq %%r11, probe_resume(%%rip)\n\t"             \
                         insn "\n1:\n\t"                                    \
                         "movq $0, probe_resume(%%rip)"                     \
                         __VA_ARGS__);                                     \
        last_fault.vector;                                                 \
    })

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
#define READ_CR(n) ({ uint64_t v_; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v_)); v_; })
#define WRITE_CR(n, v) __asm__ volatile("mov %0, %%cr" #n ::"r"((uint64_t)(v)) : "memory")

/* ---- the checks ---- */
void test_cpu(void);      /* cpu.c: CPUID, MSRs, port I/O, HLT, CRs, hypercalls */
void test_paging(void);   /* paging.c: own tables, #PF, A/D, INVLPG, CR3 switches */
bool bench_requested(const char *cmdline);   /* bench.c: runs it when asked */

#endif
