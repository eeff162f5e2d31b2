/* First C code of every image (called by boot.S on the boot stack): brings
 * up the console, the IDT and (64-bit) the TSS, runs the test, reports. */
#include "rt/layout.h"
#include "rt/rt.h"

void rt_idt_init(void);
void rt_start(void);

#ifdef __x86_64__
/* SDM Vol. 3A, "Task Management in 64-bit Mode": the 64-bit TSS supplies
 * RSP0, the stack for exceptions taken in ring 3. */
struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

static struct tss64 tss __attribute__((aligned(16)));

static void tss_init(void)
{
    extern uint64_t rt_gdt[];
    extern char rt_kstack_top[];
    tss.rsp[0] = (uintptr_t)rt_kstack_top;
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
    uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
    /* Available 64-bit TSS (type 9), present, DPL 0. */
    rt_gdt[RT_GDT_TSS_INDEX] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
                               ((limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
    rt_gdt[RT_GDT_TSS_INDEX + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(RT_SEL_TSS));
}
#endif

void rt_start(void)
{
    uart_init();
    rt_idt_init();
#ifdef __x86_64__
    tss_init();
#endif
    test_main();
    tap_done();
}
