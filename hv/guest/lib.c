/* The guest's runtime: COM1 console, check reporting, hypercalls, and the
 * trap handler behind PROBE and the #PF fixer. */
#include <stdarg.h>

#include "hv/guest/guest.h"
#include "hv/hypercall.h"
#include "hv/lib/fmt.h"

#define COM1 0x3f8

static void uart_putc(char c, void *ctx)
{
    (void)ctx;
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (uint8_t)c);
}

void gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(uart_putc, 0, fmt, ap);
    va_end(ap);
}

static unsigned checks, failures;

void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    checks++;
    if (!ok)
        failures++;
    gprintf("%sok %u - ", ok ? "" : "not ", checks);
    va_start(ap, fmt);
    fmt_vformat(uart_putc, 0, fmt, ap);
    va_end(ap);
    gprintf("\n");
}

unsigned check_failures(void)
{
    return failures;
}

/* ---- hypercalls: VMCALL or VMMCALL, as hv's CPUID leaf says ---- */
static bool use_vmmcall;
unsigned hypercalls_made;

void hypercall_select(void)
{
    uint32_t r[4];
    cpuid(HV_CPUID_FEATURES, 0, r);
    use_vmmcall = r[0] & HV_FEAT_VMMCALL;
}

uint64_t hypercall(uint64_t nr, uint64_t a0, uint64_t a1)
{
    uint64_t ret;
    hypercalls_made++;
    if (use_vmmcall)
        __asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "memory");
    else
        __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "memory");
    return ret;
}

/* ---- traps ---- */
volatile struct fault last_fault;
volatile uint64_t probe_resume;
bool (*volatile pf_fixer)(uint64_t cr2, uint64_t error);
extern const uint64_t guest_isr_table[20];
static uint64_t idt[40] __attribute__((aligned(16)));

void guest_trap(struct trap_frame *f);
void guest_trap(struct trap_frame *f)
{
    uint64_t cr2 = f->vector == 14 ? READ_CR(2) : 0;
    if (f->vector == 14 && pf_fixer && pf_fixer(cr2, f->error))
        return;   /* fixed: the instruction runs again */
    last_fault.vector = (int)f->vector;
    last_fault.error = f->error;
    last_fault.cr2 = cr2;
    if (probe_resume) {
        f->rip = probe_resume;
        return;
    }
    gprintf("unexpected exception %lu error 0x%lx at rip 0x%lx cr2 0x%lx\n", f->vector,
            f->error, f->rip, cr2);
    hypercall(HC_EXIT, 100 + f->vector, 0);
    for (;;)
        __asm__ volatile("hlt");
}

void traps_init(void)
{
    for (int v = 0; v < 20; v++) {
        uint64_t h = guest_isr_table[v];
        idt[2 * v] = (h & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | ((h >> 16) & 0xffff) << 48;
        idt[2 * v + 1] = h >> 32;
    }
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {
        sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}

void guest_main(void);
void guest_main(void)
{
    /* COM1 8N1 as on a PC; hv emulates the registers. */
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    traps_init();
    hypercall_select();
    static char cmdline[HC_CMDLINE_MAX];
    if (hypercall(HC_CMDLINE, (uint64_t)cmdline, sizeof(cmdline)) < HC_CMDLINE_MAX &&
        bench_requested(cmdline))
        hypercall(HC_EXIT, 0, 0);
    gprintf("hello from the guest: 64-bit mode, CPL 0\n");
    test_cpu();
    test_paging();
    gprintf("%u checks failed\n", check_failures());
    hypercall(HC_EXIT, check_failures() ? 1 : 0, 0);
    for (;;)
        __asm__ volatile("hlt");
}
