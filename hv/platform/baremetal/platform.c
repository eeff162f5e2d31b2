/* The bare-metal implementation of hv/platform.h: COM1 console, the exit
 * through isa-debug-exit / the Bochs iodebug port, a page allocator over
 * the identity-mapped first 1 GiB, and the processor and VMX instructions
 * as inline assembly. */
#include "hv/platform.h"

#include <stddef.h>

#define COM1 0x3f8
#define ISA_DEBUG_EXIT_PORT 0xf4
#define BOCHS_IODEBUG_PORT  0x8a00
#define BOCHS_SHUTDOWN_PORT 0x8900
/* Where a loader without a command line (the Bochs floppy boot sector) can
 * leave one: "HVCMDLN:" then a NUL-terminated string (docs/hv.md). */
#define BOOTARGS_PA   0x9000
#define IDENTITY_TOP  (1ull << 30)
#define SEL_CODE64 0x18
#define SEL_DATA   0x10
#define SEL_TSS    0x20

extern uint32_t plat_mb_magic, plat_mb_info;
extern uint64_t plat_gdt[];
extern const uint64_t plat_isr_table[];
extern char __bss_end[];
void plat_start(void);
void plat_host_fault(const uint64_t *frame);
void hv_main(void);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- console: COM1 at 115200 8N1 (Bochs needs LCR=3 for 8-bit data) ---- */
static void uart_init(void)
{
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0x00);
    outb(COM1 + 4, 0x03);
}

void plat_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))   /* LSR.THRE */
        ;
    outb(COM1, (uint8_t)c);
}

void plat_exit(unsigned status)
{
    while (!(inb(COM1 + 5) & 0x40))   /* LSR.TEMT: the last byte is out */
        ;
    outb(ISA_DEBUG_EXIT_PORT, (uint8_t)status);
    if (status == 0) {
        /* Bochs: back to its debugger, whose `quit` ends with status 0. */
        outw(BOCHS_IODEBUG_PORT, 0x8a00);
        outw(BOCHS_IODEBUG_PORT, 0x8ae0);
    } else {
        /* Bochs: "Shutdown" on its shutdown port is a panic (status 1). */
        for (const char *p = "Shutdown"; *p; p++)
            outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- multiboot information (Multiboot Specification 0.6.96, "Boot
 * information format") ---- */
struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)

static const char *cmdline = "";
static uint64_t mem_top, next_free;

const char *plat_cmdline(void)
{
    return cmdline;
}

static void read_boot_info(void)
{
    mem_top = 32ull << 20;   /* a conservative default without memory information */
    if (plat_mb_magic != MB_BOOT_MAGIC)
        return;
    const struct mb_info *mb = (const struct mb_info *)(uintptr_t)plat_mb_info;
    if (mb->flags & MB_INFO_MEM)
        mem_top = (1ull << 20) + ((uint64_t)mb->mem_upper << 10);
    if (mem_top > IDENTITY_TOP)
        mem_top = IDENTITY_TOP;
    if (mb->flags & MB_INFO_CMDLINE) {
        cmdline = (const char *)(uintptr_t)mb->cmdline;
        return;
    }
    const char *box = (const char *)(uintptr_t)BOOTARGS_PA;
    const char magic[] = "HVCMDLN:";
    for (int i = 0; i < 8; i++)
        if (box[i] != magic[i])
            return;
    for (int i = 8; i < 128; i++)
        if (box[i] == 0) {
            cmdline = box + 8;
            return;
        }
}

/* ---- memory: a bump allocator above the image; hv never frees ---- */
void *plat_phys(uint64_t pa)
{
    return (void *)(uintptr_t)pa;
}

static uint64_t bump(uint64_t bytes, uint64_t align)
{
    uint64_t pa = (next_free + align - 1) & ~(align - 1);
    if (pa + bytes > mem_top || pa + bytes < pa)
        return 0;
    next_free = pa + bytes;
    uint64_t *p = plat_phys(pa);
    for (uint64_t i = 0; i < bytes / 8; i++)
        p[i] = 0;
    return pa;
}

uint64_t plat_alloc_pages(unsigned n)
{
    return bump((uint64_t)n * 4096, 4096);
}

uint64_t plat_guest_ram(uint64_t bytes)
{
    return bump(bytes, 2ull << 20);
}

uint64_t plat_time(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* ---- processor ---- */
void plat_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    __asm__ volatile("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(subleaf));
}

uint64_t plat_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

void plat_wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

uint64_t plat_read_cr(int n)
{
    uint64_t v = 0;
    switch (n) {
    case 0: __asm__ volatile("mov %%cr0, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%cr2, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%cr3, %0" : "=r"(v)); break;
    case 4: __asm__ volatile("mov %%cr4, %0" : "=r"(v)); break;
    }
    return v;
}

void plat_write_cr(int n, uint64_t v)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%cr0" ::"r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%cr2" ::"r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%cr3" ::"r"(v)); break;
    case 4: __asm__ volatile("mov %0, %%cr4" ::"r"(v)); break;
    }
}

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

static uint8_t tss[104] __attribute__((aligned(16)));
static uint64_t idt[2 * 22] __attribute__((aligned(16)));

void plat_host_state(struct plat_host_state *hs)
{
    struct dtr g, i;
    __asm__ volatile("sgdt %0" : "=m"(g));
    __asm__ volatile("sidt %0" : "=m"(i));
    hs->cs = SEL_CODE64;
    hs->ss = hs->ds = hs->es = SEL_DATA;
    hs->fs = hs->gs = 0;
    hs->tr = SEL_TSS;
    hs->fs_base = plat_rdmsr(0xc0000100u);
    hs->gs_base = plat_rdmsr(0xc0000101u);
    hs->tr_base = (uint64_t)(uintptr_t)tss;
    hs->gdtr_base = g.base;
    hs->idtr_base = i.base;
}

/* A 64-bit TSS (VMX needs a usable host TR: SDM Vol. 3C, "Checks on Host
 * Segment and Descriptor-Table Registers") and an IDT whose gates report
 * any exception in hv itself (SDM Vol. 3A, "IDT Descriptors"). */
static void cpu_tables(void)
{
    uint64_t base = (uint64_t)(uintptr_t)tss, limit = sizeof(tss) - 1;
    plat_gdt[4] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
                  ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    plat_gdt[5] = base >> 32;
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
    for (int v = 0; v < 22; v++) {
        uint64_t h = plat_isr_table[v];
        idt[2 * v] = (h & 0xffff) | (uint64_t)SEL_CODE64 << 16 | 0x8eull << 40 |
                     ((h >> 16) & 0xffff) << 48;
        idt[2 * v + 1] = h >> 32;
    }
    struct dtr d = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}

static void put_str(const char *s)
{
    while (*s)
        plat_putc(*s++);
}

static void put_hex(uint64_t v)
{
    put_str("0x");
    for (int i = 60; i >= 0; i -= 4)
        plat_putc("0123456789abcdef"[(v >> i) & 15]);
}

/* frame: vector, error code, RIP, CS, RFLAGS, RSP, SS */
void plat_host_fault(const uint64_t *frame)
{
    put_str("hv: STOP: exception in hv itself: vector ");
    put_hex(frame[0]);
    put_str(" error ");
    put_hex(frame[1]);
    put_str(" rip ");
    put_hex(frame[2]);
    put_str(" cr2 ");
    put_hex(plat_read_cr(2));
    put_str("\nFAIL\n");
    plat_exit(4);
}

void plat_start(void)
{
    uart_init();
    cpu_tables();
    read_boot_info();
    next_free = ((uint64_t)(uintptr_t)__bss_end + 0xfff) & ~0xfffull;
    hv_main();
    plat_exit(5);
}

/* ---- VMX instructions (SDM Vol. 3C, "VMX Instruction Reference";
 * "Conventions": CF=1 is VMfailInvalid, ZF=1 VMfailValid, never both, so
 * CF | ZF << 1 is 0, 1 or 2 without a branch: on hvsim every branch ends a
 * translation block, and VMREAD/VMWRITE sit on every exit's path) ---- */
#define VMX_STATUS(insn, ...)                                                      \
    do {                                                                          \
        uint8_t cf, zf;                                                           \
        __asm__ volatile(insn "; setc %0; setz %1"                                \
                         : "=qm"(cf), "=qm"(zf) : __VA_ARGS__ : "cc", "memory");   \
        return cf | zf << 1;                                                      \
    } while (0)

int plat_vmxon(uint64_t pa) { VMX_STATUS("vmxon %2", "m"(pa)); }
int plat_vmclear(uint64_t pa) { VMX_STATUS("vmclear %2", "m"(pa)); }
int plat_vmptrld(uint64_t pa) { VMX_STATUS("vmptrld %2", "m"(pa)); }
int plat_vmwrite(uint64_t field, uint64_t value) { VMX_STATUS("vmwrite %3, %2", "r"(field), "rm"(value)); }

int plat_vmread(uint64_t field, uint64_t *value)
{
    uint8_t cf, zf;
    uint64_t v = 0;
    __asm__ volatile("vmread %3, %0; setc %1; setz %2"
                     : "=rm"(v), "=qm"(cf), "=qm"(zf) : "r"(field) : "cc");
    *value = v;
    return cf | zf << 1;
}

int plat_invept(uint64_t type, uint64_t eptp)
{
    struct { uint64_t eptp, zero; } d = {eptp, 0};
    VMX_STATUS("invept %2, %3", "m"(d), "r"(type));
}

int plat_invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
    struct { uint64_t vpid, linear; } d = {vpid, linear};
    VMX_STATUS("invvpid %2, %3", "m"(d), "r"(type));
}
