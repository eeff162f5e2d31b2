/* The IDT and the exception path of the test images: every vector goes to
 * rt_exception, which records what the CPU reported (vector, error code,
 * CR2, saved RIP) and resumes after an instruction listed in the exception
 * table (RT_PROBE). An exception nobody expected ends the run as FAIL with
 * everything needed to debug it. */
#include "rt/layout.h"
#include "rt/rt.h"

volatile struct rt_fault rt_fault;
volatile uintptr_t rt_exec_target; /* probe_exec's callee while it runs */

struct extable_entry { uintptr_t insn, next; };
extern const struct extable_entry __extable_start[], __extable_end[];
extern const char rt_isr_stubs[];
extern const char rt_exec_return[];

#ifdef __x86_64__
/* SDM Vol. 3A, "IDT Descriptors" (64-bit mode): 16-byte gates. */
struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type_attr;
    uint16_t off1;
    uint32_t off2, reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");
#else
struct idt_gate {
    uint16_t off0, sel;
    uint8_t zero, type_attr;
    uint16_t off1;
};
_Static_assert(sizeof(struct idt_gate) == 8, "32-bit IDT gate is 8 bytes");
#endif

#define GATE_P        0x80
#define GATE_DPL3     0x60
#define GATE_INTR     0x0E  /* 32- or 64-bit interrupt gate: IF cleared on entry */

static struct idt_gate idt[256] __attribute__((aligned(16)));
static rt_vector_hook hooks[256];

static void set_gate(unsigned v, uintptr_t handler, uint8_t attr)
{
    struct idt_gate *g = &idt[v];
    g->off0 = (uint16_t)handler;
    g->off1 = (uint16_t)(handler >> 16);
#ifdef __x86_64__
    g->sel = RT_SEL_CODE64;
    g->ist = 0;
    g->off2 = (uint32_t)((uint64_t)handler >> 32);
    g->reserved = 0;
#else
    g->sel = RT_SEL_CODE32;
    g->zero = 0;
#endif
    g->type_attr = attr;
}

void rt_idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, (uintptr_t)(rt_isr_stubs + 16 * v), GATE_P | GATE_INTR);
#ifdef __x86_64__
    extern const char rt_user_return_entry[];
    set_gate(RT_VEC_USER_RETURN, (uintptr_t)rt_user_return_entry, GATE_P | GATE_DPL3 | GATE_INTR);
#endif
    struct __attribute__((packed)) { uint16_t limit; uintptr_t base; } d = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

void rt_set_vector_hook(unsigned vector, rt_vector_hook hook) { hooks[vector & 255] = hook; }
void rt_idt_set_present(unsigned vector, bool present)
{
    if (present)
        idt[vector & 255].type_attr |= GATE_P;
    else
        idt[vector & 255].type_attr &= (uint8_t)~GATE_P;
}
void rt_idt_set_dpl3(unsigned vector) { idt[vector & 255].type_attr |= GATE_DPL3; }

void rt_fault_clear(void)
{
    rt_fault.count = 0;
    rt_fault.vector = 0;
    rt_fault.error_code = 0;
    rt_fault.cr2 = 0;
    rt_fault.rip = 0;
    rt_fault.site = 0;
    rt_fault.site_end = 0;
    rt_fault.cpl = 0;
}

int rt_fault_vector(void) { return rt_fault.count ? (int)rt_fault.vector : -1; }

/* Traps save the address of the next instruction, faults the address of the
 * faulting one (SDM Vol. 3A, "Exception Classifications"). The traps a probe
 * provokes are INT3 (#BP), INTO (#OF) and INT n (vectors 32-255). */
static bool is_trap(unsigned vector) { return vector == 3 || vector == 4 || vector >= 32; }

/* Finds where to resume: at the instruction after the probed one. */
static bool resume_point(unsigned vector, uintptr_t rip, uintptr_t *site, uintptr_t *next)
{
    for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
        if ((is_trap(vector) ? e->next : e->insn) == rip) {
            *site = e->insn;
            *next = e->next;
            return true;
        }
    }
    if (rt_exec_target && rip == rt_exec_target) {
        *site = rip;
        *next = (uintptr_t)rt_exec_return;
        return true;
    }
    return false;
}

void rt_exception(struct rt_frame *f);
void rt_exception(struct rt_frame *f)
{
    if (hooks[f->vector & 255]) {
        hooks[f->vector & 255](f);
        return;
    }
    uintptr_t site = 0, next = 0;
    bool known = resume_point((unsigned)f->vector, f->rip, &site, &next);
    rt_fault.count++;
    rt_fault.vector = (unsigned)f->vector;
    rt_fault.error_code = f->error_code;
    rt_fault.cr2 = read_cr2();
    rt_fault.rip = f->rip;
    rt_fault.cpl = (unsigned)(f->cs & 3);
    if (!known) {
        rt_printf("not ok - unexpected exception: vector %u error 0x%llx rip 0x%llx cr2 0x%llx\n",
                  (unsigned)f->vector, (unsigned long long)f->error_code,
                  (unsigned long long)f->rip, (unsigned long long)rt_fault.cr2);
        rt_printf("FAIL\n");
        rt_exit(1);
    }
    rt_fault.site = site;
    rt_fault.site_end = next;
    f->rip = next;
}

/* ---- probes: one instruction each, listed in the exception table ---- */

int probe_read8(const volatile void *p, uint8_t *out)
{
    uint8_t v = 0;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movb (%1), %0") : "+q"(v) : "r"(p) : "memory");
    *out = v;
    return rt_fault_vector();
}

int probe_write8(volatile void *p, uint8_t v)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("movb %0, (%1)") : : "q"(v), "r"(p) : "memory");
    return rt_fault_vector();
}

int probe_exec(uintptr_t addr)
{
    rt_fault_clear();
    rt_exec_target = addr;
    ((void (*)(void))addr)();
    rt_exec_target = 0;
    return rt_fault_vector();
}

int probe_rdmsr(uint32_t msr, uint64_t *out)
{
    uint32_t lo = 0, hi = 0;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *out = ((uint64_t)hi << 32) | lo;
    return rt_fault_vector();
}

int probe_wrmsr(uint32_t msr, uint64_t v)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("wrmsr") : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
    return rt_fault_vector();
}

#define DEFINE_PROBE_CR(n)                                                                 \
    int probe_write_cr##n(unsigned long v)                                                 \
    {                                                                                      \
        rt_fault_clear();                                                                  \
        __asm__ volatile(RT_PROBE("mov %0, %%cr" #n) : : "r"(v) : "memory");               \
        return rt_fault_vector();                                                          \
    }
DEFINE_PROBE_CR(0)
DEFINE_PROBE_CR(3)
DEFINE_PROBE_CR(4)
#undef DEFINE_PROBE_CR
