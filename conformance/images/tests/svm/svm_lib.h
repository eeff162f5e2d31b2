/* A small L1 hypervisor library for the SVM test images: enabling SVM, a
 * VMCB built from the running host's own state, the permission maps, and
 * VMRUN. VMCB offsets are written here from AMD APM Vol. 2, appendix
 * "Layout of VMCB" on their own (not taken from hvsim's model), so the
 * images test the model rather than repeat it.
 *
 * The images run identity-mapped (rt/boot.S maps the first GiB), so a
 * pointer is its physical address. */
#ifndef HVSIM_IMAGES_TESTS_SVM_SVM_LIB_H
#define HVSIM_IMAGES_TESTS_SVM_SVM_LIB_H

#include "rt/layout.h"
#include "rt/rt.h"

#define MSR_VM_CR       0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define EFER_SVME       (1ull << 12)

/* Control area ("VMCB Layout, Control Area"). */
#define VMCB_INTERCEPT_CR     0x000
#define VMCB_INTERCEPT_DR     0x004
#define VMCB_INTERCEPT_EXC    0x008
#define VMCB_INTERCEPT_VEC1   0x00C
#define VMCB_INTERCEPT_VEC2   0x010
#define VMCB_IOPM_BASE        0x040
#define VMCB_MSRPM_BASE       0x048
#define VMCB_TSC_OFFSET       0x050
#define VMCB_ASID             0x058
#define VMCB_TLB_CONTROL      0x05C
#define VMCB_VINTR            0x060
#define VMCB_INT_SHADOW       0x068
#define VMCB_EXITCODE         0x070
#define VMCB_EXITINFO1        0x078
#define VMCB_EXITINFO2        0x080
#define VMCB_EXITINTINFO      0x088
#define VMCB_NP_ENABLE        0x090
#define VMCB_EVENTINJ         0x0A8
#define VMCB_NCR3             0x0B0
#define VMCB_NRIP             0x0C8
/* State-save area ("VMCB Layout, State Save Area"). */
#define VMCB_ES   0x400
#define VMCB_CS   0x410
#define VMCB_SS   0x420
#define VMCB_DS   0x430
#define VMCB_FS   0x440
#define VMCB_GS   0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR   0x490
#define VMCB_CPL  0x4CB
#define VMCB_EFER 0x4D0
#define VMCB_CR4  0x548
#define VMCB_CR3  0x550
#define VMCB_CR0  0x558
#define VMCB_DR7  0x560
#define VMCB_DR6  0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP  0x578
#define VMCB_RSP  0x5D8
#define VMCB_RAX  0x5F8
#define VMCB_KERNEL_GS_BASE 0x620
#define VMCB_SYSENTER_CS 0x628
#define VMCB_CR2  0x640
#define VMCB_G_PAT 0x668

/* Intercept bits: vector 1 (0x00C) and vector 2 (0x010). */
#define ICPT1_INTR     0
#define ICPT1_RDTSC    14
#define ICPT1_CPUID    18
#define ICPT1_INTN     21
#define ICPT1_HLT      24
#define ICPT1_INVLPG   25
#define ICPT1_IOIO     27
#define ICPT1_MSR      28
#define ICPT1_SHUTDOWN 31
#define ICPT2_VMRUN    0
#define ICPT2_VMMCALL  1
#define ICPT2_VMLOAD   2
#define ICPT2_VMSAVE   3
#define ICPT2_STGI     4
#define ICPT2_CLGI     5

/* Exit codes ("SVM Intercept Exit Codes"). */
#define EXIT_READ_CR0  0x000
#define EXIT_WRITE_CR0 0x010
#define EXIT_EXCP_BASE 0x040
#define EXIT_RDTSC     0x06E
#define EXIT_CPUID     0x072
#define EXIT_SWINT     0x075
#define EXIT_HLT       0x078
#define EXIT_INVLPG    0x079
#define EXIT_IOIO      0x07B
#define EXIT_MSR       0x07C
#define EXIT_SHUTDOWN  0x07F
#define EXIT_VMRUN     0x080
#define EXIT_VMMCALL   0x081
#define EXIT_VMLOAD    0x082
#define EXIT_VMSAVE    0x083
#define EXIT_NPF       0x400
#define EXIT_INVALID   0xFFFFFFFFFFFFFFFFull

static inline uint64_t vmcb_rd64(const uint8_t *v, unsigned off) { return *(const volatile uint64_t *)(v + off); }
static inline uint32_t vmcb_rd32(const uint8_t *v, unsigned off) { return *(const volatile uint32_t *)(v + off); }
static inline void vmcb_wr64(uint8_t *v, unsigned off, uint64_t x) { *(volatile uint64_t *)(v + off) = x; }
static inline void vmcb_wr32(uint8_t *v, unsigned off, uint32_t x) { *(volatile uint32_t *)(v + off) = x; }
static inline void vmcb_wr16(uint8_t *v, unsigned off, uint16_t x) { *(volatile uint16_t *)(v + off) = x; }
static inline void vmcb_wr8(uint8_t *v, unsigned off, uint8_t x) { *(volatile uint8_t *)(v + off) = x; }

static inline void vmcb_intercept(uint8_t *v, unsigned word_off, unsigned bit, bool on)
{
    uint32_t w = vmcb_rd32(v, word_off);
    vmcb_wr32(v, word_off, on ? (w | (1u << bit)) : (w & ~(1u << bit)));
}

/* A segment in the VMCB from a selector of the runtime's GDT: attributes
 * are descriptor bits 47:40 and 55:52 ("Segment State in the VMCB"). */
static inline void vmcb_seg_from_gdt(uint8_t *v, unsigned off, uint16_t sel)
{
    extern uint64_t rt_gdt[];
    uint64_t d = rt_gdt[sel >> 3];
    uint32_t limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
    if (d & (1ull << 55))
        limit = (limit << 12) | 0xFFF;
    vmcb_wr16(v, off, sel);
    vmcb_wr16(v, off + 2, (uint16_t)(((d >> 40) & 0xFF) | (((d >> 52) & 0xF) << 8)));
    vmcb_wr32(v, off + 4, limit);
    vmcb_wr64(v, off + 8, (uint32_t)(((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000)));
}

struct __attribute__((packed)) svm_dtr { uint16_t limit; uint64_t base; };

/* EXITCODE is 64 bits and VMEXIT_INVALID is -1 ("#VMEXIT"); QEMU 7.2 TCG
 * writes only its low 32 bits. */
#define tap_invalid(code, ...) \
    tap_eq_or_departure(EXIT_INVALID, (code), 0xFFFFFFFFull, "qemu-tcg-vmexit-invalid-32bit", __VA_ARGS__)

static inline bool svm_supported(void)
{
    return (cpuid(0x80000001, 0).ecx >> 2) & 1;
}

/* "Enabling SVM": EFER.SVME, then VM_HSAVE_PA. */
static inline void svm_enable(void *hsave)
{
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, (uintptr_t)hsave);
}

/* A guest that is a copy of the host at CPL 0 (same paging, GDT, IDT,
 * 64-bit code), starting at `rip` on `rsp`, with ASID 1 and only the
 * VMRUN intercept the consistency checks require. */
static inline void vmcb_init(uint8_t *v, void (*rip)(void), void *rsp)
{
    memset(v, 0, 4096);
    vmcb_intercept(v, VMCB_INTERCEPT_VEC2, ICPT2_VMRUN, true);
    vmcb_wr32(v, VMCB_ASID, 1);
    vmcb_seg_from_gdt(v, VMCB_CS, RT_SEL_CODE64);
    vmcb_seg_from_gdt(v, VMCB_SS, RT_SEL_DATA);
    vmcb_seg_from_gdt(v, VMCB_DS, RT_SEL_DATA);
    vmcb_seg_from_gdt(v, VMCB_ES, RT_SEL_DATA);
    struct svm_dtr gdtr, idtr;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    vmcb_wr32(v, VMCB_GDTR + 4, gdtr.limit);
    vmcb_wr64(v, VMCB_GDTR + 8, gdtr.base);
    vmcb_wr32(v, VMCB_IDTR + 4, idtr.limit);
    vmcb_wr64(v, VMCB_IDTR + 8, idtr.base);
    vmcb_wr64(v, VMCB_EFER, rdmsr(MSR_IA32_EFER));
    vmcb_wr64(v, VMCB_CR0, read_cr0());
    vmcb_wr64(v, VMCB_CR3, read_cr3());
    vmcb_wr64(v, VMCB_CR4, read_cr4());
    vmcb_wr64(v, VMCB_DR6, 0xFFFF0FF0);
    vmcb_wr64(v, VMCB_DR7, 0x400);
    vmcb_wr64(v, VMCB_RFLAGS, 0x2);
    vmcb_wr64(v, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(v, VMCB_RSP, (uintptr_t)rsp);
    vmcb_wr64(v, VMCB_G_PAT, rdmsr(0x277));
}

/* VMRUN: the guest may change every general register but RSP and RAX,
 * which VMRUN/#VMEXIT save and restore, so they are all clobbered here
 * (RBP is saved on the stack, as the compiler may be using it). */
static inline void svm_vmrun(void *vmcb)
{
    uintptr_t pa = (uintptr_t)vmcb;
    __asm__ volatile("push %%rbp\n\tvmrun\n\tpop %%rbp"
                     : "+a"(pa)
                     :
                     : "memory", "cc", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
                       "r13", "r14", "r15");
}

static inline void svm_stgi(void) { __asm__ volatile("stgi" ::: "memory"); }

#endif
