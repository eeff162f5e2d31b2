/* taskgate: events delivered through task gates in the IDT, in 32-bit
 * protected mode (this image is a 32-bit ELF, ring 0, paging off). The
 * image builds its own GDT (the runtime's flat code and data selectors,
 * then TSSs) and runs as task A (LTR).
 *   - INT 0x40 through a task gate: the new task's TR, registers, stack,
 *     EFLAGS.NT, CR0.TS, the back link, both busy bits; the old task's
 *     state saved in its TSS; IRET (NT = 1) returns to it.
 *   - #NP (an INT n through a not-present interrupt gate) through a task
 *     gate: the error code on the new task's stack, the saved EIP at the
 *     INT (a fault).
 *   - #DF through a task gate (#NP while delivering #NP): error code 0.
 *   - the checks before the switch: a busy TSS, a TSS selector with TI =
 *     1 or beyond the GDT (#GP), a TSS not present (#NP), a TSS limit
 *     below 67H (#TS), each with its error code, in task A.
 *   - a fault after the commit point: the new task's DS not present is
 *     #NP(DS) raised in the new task (TR and saved EIP are the new task's,
 *     its back link written). Its handler is an assembly stub that
 *     reloads DS first: Bochs leaves the failed register unusable.
 *   - the new TSS's T flag: a #DB (DR6.BT) before the new task's first
 *     instruction, taken in the new task ("Debug Exceptions",
 *     "Task-Switch Exception Condition").
 *   - an external interrupt (IRQ0 from the 8254 through the 8259A) through
 *     a task gate: the old task's saved EIP after HLT and IF = 1, IR0 in
 *     service in the new task, no error code pushed.
 * SDM Vol. 3A, chapter "Task Management": "Task Switching", "Task
 * Linking", table "Exception Conditions Checked During a Task Switch";
 * "Interrupt Tasks"; "Interrupt 8—Double Fault Exception (#DF)". */
#include "rt/layout.h"
#include "rt/pic_pit.h"
#include "rt/rt.h"

#define SEL_TSS_A     0x30   /* this task */
#define SEL_TSS_B     0x38   /* INT 0x40's task */
#define SEL_TSS_C     0x40   /* the #NP / #DF task */
#define SEL_TSS_NP    0x48   /* not present */
#define SEL_TSS_SHORT 0x50   /* limit 66H */
#define SEL_TSS_E     0x58   /* a task whose DS is not present */
#define SEL_DATA_NP   0x60   /* a data segment not present */
#define SEL_TSS_F     0x68   /* a task whose TSS has the T flag */
#define SEL_TSS_G     0x70   /* IRQ0's task */
#define GDT_ENTRIES   15     /* selectors up to 70H */
#define SEL_BEYOND    0x78

#define VEC_INT_TASK  0x40   /* task gate to B */
#define VEC_ABSENT    0x41   /* not-present interrupt gate */
#define VEC_BUSY      0x42   /* task gate to A (busy) */
#define VEC_LDT_SEL   0x43   /* task gate with TI = 1 */
#define VEC_BEYOND    0x44   /* task gate beyond the GDT */
#define VEC_TSS_NP    0x45   /* task gate to a TSS not present */
#define VEC_SHORT     0x46   /* task gate to a TSS with limit 66H */
#define VEC_DS_NP     0x47   /* task gate to E */
#define VEC_TRAP      0x48   /* task gate to F */

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt, trap;
};
_Static_assert(sizeof(struct tss32) == 0x68, "32-bit TSS is 104 bytes");

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
/* Not static: the tasks' assembly names tss_a. */
struct tss32 tss_a __attribute__((aligned(128)));
static struct tss32 tss_b, tss_c, tss_e, tss_f, tss_g __attribute__((aligned(128)));
static uint8_t stack_b[1024] __attribute__((aligned(16)));
static uint8_t stack_c[1024] __attribute__((aligned(16)));
static uint8_t stack_e[1024] __attribute__((aligned(16)));
static uint8_t stack_f[1024] __attribute__((aligned(16)));
static uint8_t stack_g[1024] __attribute__((aligned(16)));
static uint64_t *idt;

/* What the tasks saw, written by their code. */
volatile uint32_t b_tr, b_eflags, b_cr0, b_ebx, b_esp;
volatile uint32_t c_tr, c_error, c_esp;

static uint64_t tss_desc(const void *base, uint32_t limit, unsigned type)
{
    uint64_t b = (uintptr_t)base;
    return (limit & 0xFFFF) | (b & 0xFFFFFF) << 16 | (uint64_t)type << 40 | (uint64_t)(limit >> 16 & 0xF) << 48 |
           (b >> 24) << 56;
}

static uint64_t task_gate(uint16_t tss) { return (uint64_t)tss << 16 | 0x8500ull << 32; }
static uint8_t gdt_type(uint16_t sel) { return (uint8_t)(gdt[sel >> 3] >> 40); }

/* Task B: records what it sees, returns with IRET (NT = 1), and starts
 * again at the top when the gate switches to it next time. Task C: takes
 * the error code off its stack, moves task A's saved EIP past the INT
 * that faulted (2 bytes), returns. */
void task_b_entry(void);
void task_c_entry(void);
extern char task_e_entry[];
__asm__(".text\n"
        "task_b_entry:\n"
        " str %ax\n movzwl %ax, %eax\n movl %eax, b_tr\n"
        " pushfl\n popl b_eflags\n"
        " movl %cr0, %eax\n movl %eax, b_cr0\n"
        " movl %ebx, b_ebx\n movl %esp, b_esp\n"
        " iretl\n"
        " jmp task_b_entry\n"
        "task_c_entry:\n"
        " popl c_error\n movl %esp, c_esp\n"
        " str %ax\n movzwl %ax, %eax\n movl %eax, c_tr\n"
        " addl $2, tss_a + 0x20\n"
        " iretl\n"
        " jmp task_c_entry\n"
        "task_e_entry: hlt\n");

/* The #NP a fault in task E raises, taken in task E through an interrupt
 * gate: the stub reloads DS and ES, records the frame and TR, and returns
 * to an IRET that, with the new task's NT = 1, goes back to task A. */
volatile uint32_t e_error, e_eip, e_cs, e_tr;
extern char np_in_task_e[], iret_to_back_link[];
__asm__(".text\n"
        "np_in_task_e:\n"
        " movw $0x10, %ax\n movw %ax, %ds\n movw %ax, %es\n"
        " popl e_error\n"
        " movl (%esp), %eax\n movl %eax, e_eip\n"
        " movl 4(%esp), %eax\n movl %eax, e_cs\n"
        " str %ax\n movzwl %ax, %eax\n movl %eax, e_tr\n"
        " movl $iret_to_back_link, (%esp)\n"
        " iretl\n"
        "iret_to_back_link: iretl\n");

/* Task F returns at once; the #DB its T flag raises is taken by a stub
 * that records DR6, the saved EIP and TR. */
volatile uint32_t f_dr6, f_db_eip, f_db_tr, f_db_count;
extern char task_f_entry[], db_in_task_f[];
__asm__(".text\n"
        "task_f_entry: iretl\n jmp task_f_entry\n"
        "db_in_task_f:\n"
        " movl %dr6, %eax\n movl %eax, f_dr6\n"
        " movl (%esp), %eax\n movl %eax, f_db_eip\n"
        " str %ax\n movzwl %ax, %eax\n movl %eax, f_db_tr\n"
        " incl f_db_count\n"
        " iretl\n");

/* IRQ0's task: records TR, ESP and the master PIC's ISR, acknowledges the
 * interrupt (non-specific EOI), masks every line and returns. */
volatile uint32_t g_tr, g_esp, g_isr;
extern char task_g_entry[];
__asm__(".text\n"
        "task_g_entry:\n"
        " str %ax\n movzwl %ax, %eax\n movl %eax, g_tr\n"
        " movl %esp, g_esp\n"
        " movb $0x0b, %al\n outb %al, $0x20\n inb $0x20, %al\n movzbl %al, %eax\n movl %eax, g_isr\n"
        " movb $0x20, %al\n outb %al, $0x20\n"
        " movb $0xff, %al\n outb %al, $0x21\n"
        " iretl\n jmp task_g_entry\n");

static void init_task(struct tss32 *t, void (*entry)(void), uint8_t *stack, size_t size)
{
    memset(t, 0, sizeof *t);
    t->eip = (uintptr_t)entry;
    t->eflags = 0x2;
    t->esp = (uintptr_t)(stack + size);
    t->cs = RT_SEL_CODE32;
    t->es = t->ss = t->ds = t->fs = t->gs = RT_SEL_DATA;
}

static void setup(void)
{
    extern uint64_t rt_gdt[];
    for (unsigned i = 0; i < 6; i++) gdt[i] = rt_gdt[i];   /* null, 08H code, 10H data, ... */
    memset(&tss_a, 0, sizeof tss_a);
    init_task(&tss_b, task_b_entry, stack_b, sizeof stack_b);
    tss_b.ebx = 0xB0B0B0B0;
    init_task(&tss_c, task_c_entry, stack_c, sizeof stack_c);
    init_task(&tss_e, (void (*)(void))task_e_entry, stack_e, sizeof stack_e);
    tss_e.ds = SEL_DATA_NP;
    init_task(&tss_f, (void (*)(void))task_f_entry, stack_f, sizeof stack_f);
    tss_f.trap = 1;
    init_task(&tss_g, (void (*)(void))task_g_entry, stack_g, sizeof stack_g);
    gdt[SEL_TSS_A >> 3] = tss_desc(&tss_a, 0x67, 0x89);
    gdt[SEL_TSS_B >> 3] = tss_desc(&tss_b, 0x67, 0x89);
    gdt[SEL_TSS_C >> 3] = tss_desc(&tss_c, 0x67, 0x89);
    gdt[SEL_TSS_NP >> 3] = tss_desc(&tss_c, 0x67, 0x09);
    gdt[SEL_TSS_SHORT >> 3] = tss_desc(&tss_c, 0x66, 0x89);
    gdt[SEL_TSS_E >> 3] = tss_desc(&tss_e, 0x67, 0x89);
    gdt[SEL_DATA_NP >> 3] = 0x00CF12000000FFFFull;
    gdt[SEL_TSS_F >> 3] = tss_desc(&tss_f, 0x67, 0x89);
    gdt[SEL_TSS_G >> 3] = tss_desc(&tss_g, 0x67, 0x89);
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } d = {sizeof gdt - 1, (uintptr_t)gdt};
    __asm__ volatile("lgdt %0" : : "m"(d));
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS_A));
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } i;
    __asm__ volatile("sidt %0" : "=m"(i));
    idt = (uint64_t *)(uintptr_t)i.base;
    idt[VEC_INT_TASK] = task_gate(SEL_TSS_B);
    idt[VEC_BUSY] = task_gate(SEL_TSS_A);
    idt[VEC_LDT_SEL] = task_gate(SEL_TSS_B | 4);
    idt[VEC_BEYOND] = task_gate(SEL_BEYOND);
    idt[VEC_TSS_NP] = task_gate(SEL_TSS_NP);
    idt[VEC_SHORT] = task_gate(SEL_TSS_SHORT);
    idt[VEC_DS_NP] = task_gate(SEL_TSS_E);
    idt[VEC_TRAP] = task_gate(SEL_TSS_F);
    rt_idt_set_present(VEC_ABSENT, false);
}

#define INT_PROBE(vec) ({ rt_fault_clear(); __asm__ volatile(RT_PROBE("int $" #vec) ::: "memory"); rt_fault_vector(); })

__attribute__((noinline)) static void int_through_task_gate(void)
{
    extern char int40_next[];
    uint32_t eax = 0x12345678, ecx = 0xCAFE;
    __asm__ volatile("int $0x40\nint40_next:" : "+a"(eax), "+c"(ecx) : : "memory", "ebx", "edx", "esi", "edi");
    tap_eq(SEL_TSS_B, b_tr, "INT through a task gate: TR in the new task");
    tap_eq(0xB0B0B0B0, b_ebx, "new task: EBX from its TSS");
    tap_eq((uintptr_t)(stack_b + sizeof stack_b), b_esp, "new task: ESP from its TSS (no error code)");
    tap_eq(0x4000, b_eflags & 0x4000, "new task: EFLAGS.NT set (nested)");
    tap_eq(0x8, b_cr0 & 0x8, "new task: CR0.TS set");
    tap_eq(SEL_TSS_A, tss_b.link, "new TSS: previous task link = old TSS");
    tap_eq((uintptr_t)int40_next, tss_a.eip, "old TSS: EIP after the INT");
    tap_eq(0x12345678, tss_a.eax, "old TSS: EAX");
    tap_eq(0xCAFE, tss_a.ecx, "old TSS: ECX");
    tap_eq(RT_SEL_CODE32, tss_a.cs, "old TSS: CS");
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    tap_eq(SEL_TSS_A, tr, "after IRET: TR back to the old task");
    tap_eq(0x12345678, eax, "after IRET: EAX restored from the old TSS");
    tap_eq(0x89, gdt_type(SEL_TSS_B), "after IRET: the new task's TSS available again");
    tap_eq(0x8B, gdt_type(SEL_TSS_A), "after IRET: the old task's TSS busy");
    uint32_t eflags;
    __asm__ volatile("pushfl\npopl %0" : "=r"(eflags));
    tap_eq(0, eflags & 0x4000, "after IRET: EFLAGS.NT clear");
    __asm__ volatile("clts");
    /* The gate again: task B starts where its IRET left it. */
    b_tr = 0;
    __asm__ volatile("int $0x40" : : : "memory", "eax", "ebx", "ecx", "edx", "esi", "edi");
    tap_eq(SEL_TSS_B, b_tr, "second INT through the gate: the task runs again");
    __asm__ volatile("clts");
}

__attribute__((noinline)) static void exception_through_task_gate(void)
{
    extern char int41_site[];
    uint64_t np_gate = idt[11], df_gate = idt[8];
    idt[11] = task_gate(SEL_TSS_C);
    __asm__ volatile("int41_site: int $0x41" : : : "memory", "eax", "ebx", "ecx", "edx", "esi", "edi");
    tap_eq(SEL_TSS_C, c_tr, "#NP through a task gate: TR in the new task");
    tap_eq(VEC_ABSENT * 8 + 2, c_error, "#NP through a task gate: error code on the new task's stack");
    tap_eq((uintptr_t)(stack_c + sizeof stack_c), c_esp, "#NP through a task gate: ESP after taking it off");
    tap_eq((uintptr_t)int41_site + 2, tss_a.eip, "#NP through a task gate: saved EIP at the INT (+2 by the task)");
    __asm__ volatile("clts");

    /* #NP while delivering #NP (gate 11 not present): #DF through a task
     * gate, error code 0. */
    idt[11] = task_gate(SEL_TSS_C) & ~(0x80ull << 40);
    idt[8] = task_gate(SEL_TSS_C);
    c_error = 0xFFFF;
    c_tr = 0;
    __asm__ volatile("int $0x41" : : : "memory", "eax", "ebx", "ecx", "edx", "esi", "edi");
    tap_eq(SEL_TSS_C, c_tr, "#DF through a task gate: TR in the new task");
    tap_eq(0, c_error, "#DF through a task gate: error code 0");
    __asm__ volatile("clts");
    idt[11] = np_gate;
    idt[8] = df_gate;
}

static void checks_before_the_switch(void)
{
    int v = INT_PROBE(0x42);
    tap_eq(13, (uint64_t)v, "task gate to a busy TSS: #GP");
    tap_eq(SEL_TSS_A, rt_fault.error_code, "task gate to a busy TSS: error code");
    v = INT_PROBE(0x43);
    tap_eq_or_departure(13, (uint64_t)v, 10, "qemu-tcg-task-gate-ldt-selector-ts", "TSS selector with TI = 1: #GP");
    tap_eq(SEL_TSS_B | 4, rt_fault.error_code, "TSS selector with TI = 1: error code");
    v = INT_PROBE(0x44);
    tap_eq(13, (uint64_t)v, "TSS selector beyond the GDT: #GP");
    tap_eq(SEL_BEYOND, rt_fault.error_code, "TSS selector beyond the GDT: error code");
    v = INT_PROBE(0x45);
    tap_eq(11, (uint64_t)v, "TSS not present: #NP");
    tap_eq(SEL_TSS_NP, rt_fault.error_code, "TSS not present: error code");
    v = INT_PROBE(0x46);
    tap_eq(10, (uint64_t)v, "TSS limit 66H: #TS");
    tap_eq(SEL_TSS_SHORT, rt_fault.error_code, "TSS limit 66H: error code");
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    tap_eq(SEL_TSS_A, tr, "faults before the switch: still task A");
    tap_eq(0x89, gdt_type(SEL_TSS_C), "faults before the switch: target TSS left available");
}

static void fault_in_the_new_task(void)
{
    uint64_t np_gate = idt[11];
    uintptr_t stub = (uintptr_t)np_in_task_e;
    idt[11] = (stub & 0xFFFF) | (uint64_t)RT_SEL_CODE32 << 16 | 0x8E00ull << 32 | (uint64_t)(stub >> 16) << 48;
    __asm__ volatile("int $0x47" : : : "memory", "eax", "ebx", "ecx", "edx", "esi", "edi");
    idt[11] = np_gate;
    tap_eq(SEL_DATA_NP, e_error, "new task's DS not present: #NP error code");
    tap_eq(SEL_TSS_E, e_tr, "new task's DS not present: raised in the new task (TR)");
    tap_eq((uintptr_t)task_e_entry, e_eip, "new task's DS not present: saved EIP is the new task's");
    tap_eq(RT_SEL_CODE32, e_cs, "new task's DS not present: saved CS is the new task's");
    tap_eq(SEL_TSS_A, tss_e.link, "new task's DS not present: the back link was written");
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    tap_eq(SEL_TSS_A, tr, "after the handler's IRET: back in task A");
    __asm__ volatile("clts");
}

static uint64_t interrupt_gate(const void *stub)
{
    uintptr_t a = (uintptr_t)stub;
    return (a & 0xFFFF) | (uint64_t)RT_SEL_CODE32 << 16 | 0x8E00ull << 32 | (uint64_t)(a >> 16) << 48;
}

static void t_flag(void)
{
    uint64_t db_gate = idt[1];
    idt[1] = interrupt_gate(db_in_task_f);
    __asm__ volatile("movl %0, %%dr6" : : "r"(0xFFFF0FF0u));
    __asm__ volatile("int $0x48" : : : "memory", "eax", "ebx", "ecx", "edx", "esi", "edi");
    idt[1] = db_gate;
    tap_eq_or_departure(1, f_db_count, 0, "qemu-tcg-tss-t-flag-ignored", "T flag in the new TSS: one #DB");
    tap_eq_or_departure(0x8000, f_dr6 & 0xE00F, 0, "qemu-tcg-tss-t-flag-ignored", "T flag: DR6.BT");
    tap_eq_or_departure((uintptr_t)task_f_entry, f_db_eip, 0, "qemu-tcg-tss-t-flag-ignored",
                        "T flag: #DB before the new task's first instruction");
    tap_eq_or_departure(SEL_TSS_F, f_db_tr, 0, "qemu-tcg-tss-t-flag-ignored", "T flag: #DB taken in the new task");
    __asm__ volatile("clts");
}

static void external_interrupt(void)
{
    extern char after_hlt[];
    pic_remap();
    uint64_t irq0_gate = idt[VEC_IRQ0];
    idt[VEC_IRQ0] = task_gate(SEL_TSS_G);
    pit_program(0, 100);           /* one rising edge of OUT, ~84 us from now */
    outb(PIC1_DATA, 0xfe);
    __asm__ volatile("sti\nhlt\nafter_hlt: cli" : : : "memory", "eax", "ebx", "ecx", "edx", "esi", "edi");
    idt[VEC_IRQ0] = irq0_gate;
    tap_eq(SEL_TSS_G, g_tr, "IRQ0 through a task gate: TR in the new task");
    tap_eq((uintptr_t)(stack_g + sizeof stack_g), g_esp, "IRQ0 through a task gate: no error code pushed");
    tap_eq(1, g_isr & 1, "IRQ0 through a task gate: IR0 in service in the new task");
    tap_eq((uintptr_t)after_hlt, tss_a.eip, "IRQ0 through a task gate: saved EIP after HLT");
    tap_eq(0x200, tss_a.eflags & 0x200, "IRQ0 through a task gate: saved EFLAGS.IF set");
    tap_eq(0, pic_read_isr() & 1, "IRQ0 through a task gate: EOI from the new task ended it");
    __asm__ volatile("clts");
}

void test_main(void)
{
    setup();
    int_through_task_gate();
    exception_through_task_gate();
    checks_before_the_switch();
    fault_in_the_new_task();
    t_flag();
    external_interrupt();
}
