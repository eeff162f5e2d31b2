/* Thin inline wrappers for the privileged x86 instructions the test images
 * use (port I/O, MSRs, control registers, CPUID, TSC, TLB). They do not
 * catch exceptions; the probe_* functions in rt.h do. */
#ifndef HVSIM_IMAGES_RT_ARCH_H
#define HVSIM_IMAGES_RT_ARCH_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

#define DEFINE_CR(n)                                                                      \
    static inline unsigned long read_cr##n(void)                                          \
    {                                                                                     \
        unsigned long v;                                                                  \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                 \
        return v;                                                                         \
    }                                                                                     \
    static inline void write_cr##n(unsigned long v)                                       \
    {                                                                                     \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                        \
    }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(const volatile void *p) { __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory"); }

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

#define CR0_PE  (1ul << 0)
#define CR0_WP  (1ul << 16)
#define CR0_PG  (1ul << 31)
#define CR4_PSE (1ul << 4)
#define CR4_PAE (1ul << 5)
#define CR4_PGE (1ul << 7)

#define MSR_IA32_SYSENTER_CS   0x174
#define MSR_IA32_EFER          0xC0000080
#define MSR_IA32_KERNEL_GS_BASE 0xC0000102
#define EFER_LME (1ull << 8)
#define EFER_NXE (1ull << 11)

#endif
