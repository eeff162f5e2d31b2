/* exceptions: delivery of faults, traps and software interrupts through
 * the IDT in long mode: the vector, the error code and the saved RIP
 * (the faulting instruction for faults, the next one for traps).
 * SDM Vol. 3A, "Exception and Interrupt Reference", "Exception
 * Classifications", "Error Code", "Interrupt and Exception Handling in
 * 64-bit Mode"; "64-Bit Mode IDT": a task gate in IA-32e mode is #GP. */
#include "rt/rt.h"

#define NONCANONICAL 0x8000000000000000ull
#define UNMAPPED     0x80000000ull  /* the boot tables map only the first 1 GiB */

/* A fault: the CPU saved the address of the faulting instruction. */
static void expect_fault(int vector, unsigned want, uint64_t err, const char *what)
{
    tap_eq(want, (uint64_t)vector, "%s: vector", what);
    tap_eq(err, rt_fault.error_code, "%s: error code", what);
    tap_check(rt_fault.count && rt_fault.rip == rt_fault.site, "%s: saved RIP is the faulting instruction", what);
}

/* A trap: the CPU saved the address of the next instruction. */
static void expect_trap(int vector, unsigned want, const char *what)
{
    tap_eq(want, (uint64_t)vector, "%s: vector", what);
    tap_check(rt_fault.count && rt_fault.rip == rt_fault.site_end, "%s: saved RIP is the next instruction", what);
}

static int divide(uint64_t hi, uint64_t lo, uint64_t divisor)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("divq %2") : "+a"(lo), "+d"(hi) : "r"(divisor) : "memory");
    return rt_fault_vector();
}

static int idivide(int64_t hi, int64_t lo, int64_t divisor)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("idivq %2") : "+a"(lo), "+d"(hi) : "r"(divisor) : "memory");
    return rt_fault_vector();
}

static int ud2(void)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("ud2") ::: "memory");
    return rt_fault_vector();
}

static int into64(void)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE(".byte 0xce") ::: "memory"); /* INTO: invalid in 64-bit mode */
    return rt_fault_vector();
}

static int int3(void)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("int3") ::: "memory");
    return rt_fault_vector();
}

static int int_0x40(void)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("int $0x40") ::: "memory");
    return rt_fault_vector();
}

/* MOV to DS with a selector past the GDT's limit: #GP with the selector
 * (its RPL and TI bits cleared) as error code (SDM Vol. 2, "MOV—Move":
 * "#GP(selector) If segment selector index is outside descriptor table
 * limits"). The runtime GDT is small; selector 0xfff8 lies far past it. */
static int load_ds_beyond_gdt(void)
{
    rt_fault_clear();
    __asm__ volatile("mov %%ds, %%r8d\n" RT_PROBE("mov %0, %%ds") "\nmov %%r8d, %%ds" :: "r"(0xfffbu) : "r8", "memory");
    return rt_fault_vector();
}

/* Delivery loads CS from the gate's selector; a descriptor whose accessed
 * bit is clear gets it set, in memory too (SDM Vol. 3A, "Segment
 * Descriptors": the processor sets the accessed bit when it loads the
 * segment selector into a segment register). */
static void delivery_sets_cs_accessed(void)
{
    extern uint64_t rt_gdt[];
    const uint64_t accessed = 1ull << 40;
    rt_gdt[3] &= ~accessed;        /* 0x18, the 64-bit code segment the IDT gates name */
    int vec = ud2();
    tap_eq(6, (uint64_t)vec, "UD2 with CS's descriptor not accessed: #UD");
    tap_eq_or_departure(1, (rt_gdt[3] & accessed) != 0, 0, "qemu-tcg-delivery-cs-not-accessed",
                        "delivery set the accessed bit of the CS descriptor it loaded");
    rt_gdt[3] |= accessed;
}

static int read_via_stack(uint64_t offset)
{
    uint64_t v;
    rt_fault_clear();
    /* RSP as the base register makes SS the segment of the access. */
    __asm__ volatile(RT_PROBE("movq (%%rsp,%1,1), %0") : "=r"(v) : "r"(offset) : "memory");
    return rt_fault_vector();
}

static void noncanonical(void)
{
    uint8_t v;
    expect_fault(probe_read8((volatile uint8_t *)(uintptr_t)NONCANONICAL, &v), 13, 0,
                 "non-canonical read (#GP)");
    /* SDM Vol. 3A, "Interrupt 12—Stack Fault Exception (#SS)": a
     * non-canonical address through RSP or RBP raises #SS(0). */
    int vec = read_via_stack(NONCANONICAL);
    tap_eq_or_departure(12, (uint64_t)vec, 13, "qemu-tcg-noncanonical-stack-gp",
                        "non-canonical read through RSP (#SS): vector");
    tap_eq(0, rt_fault.error_code, "non-canonical read through RSP: error code");
}

/* Ring-3 results, checked in ring 0. */
static struct { int vector; uint64_t err; unsigned cpl; } user_cli, user_int;

static void user_code(void)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("cli") ::: "memory"); /* IOPL 0 < CPL 3 */
    user_cli.vector = rt_fault_vector();
    user_cli.err = rt_fault.error_code;
    user_cli.cpl = rt_fault.cpl;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("int $0x40") ::: "memory"); /* gate DPL 0 < CPL 3 */
    user_int.vector = rt_fault_vector();
    user_int.err = rt_fault.error_code;
    user_int.cpl = rt_fault.cpl;
}

static void from_user_mode(void)
{
    rt_user_call(user_code);
    tap_eq(13, (uint64_t)user_cli.vector, "CLI at CPL 3 with IOPL 0: #GP");
    tap_eq(0, user_cli.err, "CLI at CPL 3: error code");
    tap_eq(3, user_cli.cpl, "CLI at CPL 3: fault taken from CPL 3");
    tap_eq(13, (uint64_t)user_int.vector, "INT 0x40 at CPL 3 through a DPL 0 gate: #GP");
    /* Error code: the gate's index (the vector) in bits 15:3, IDT bit (bit
     * 1) set, EXT clear. QEMU puts the gate's byte offset (vector * 16) there. */
    tap_eq_or_departure(0x40 * 8 + 2, user_int.err, 0x40 * 16 + 2, "qemu-tcg-idt-error-code-x16",
                        "INT 0x40 at CPL 3: error code names the IDT gate");
}

/* "64-Bit Mode IDT": IA-32e mode has no task gates; an event whose IDT
 * entry is one raises #GP with the gate's index (IDT bit set, EXT clear
 * for INT n). */
static void task_gate_in_long_mode(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d;
    __asm__ volatile("sidt %0" : "=m"(d));
    volatile uint8_t *type_attr = (volatile uint8_t *)(uintptr_t)(d.base + 0x42 * 16 + 5);
    uint8_t saved = *type_attr;
    *type_attr = 0x85;   /* present, DPL 0, task gate */
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("int $0x42") ::: "memory");
    int vector = rt_fault_vector();
    *type_attr = saved;
    tap_eq(13, (uint64_t)vector, "INT 0x42 through a task gate in IA-32e mode: #GP");
    tap_eq_or_departure(0x42 * 8 + 2, rt_fault.error_code, 0x42 * 16 + 2, "qemu-tcg-idt-error-code-x16",
                        "task gate in IA-32e mode: error code names the IDT gate");
}

void test_main(void)
{
    expect_fault(divide(0, 1, 0), 0, 0, "DIV by zero (#DE)");
    expect_fault(idivide(-1, (int64_t)0x8000000000000000ull, -1), 0, 0, "IDIV overflow (#DE)");
    tap_no_fault(divide(0, 10, 3), "DIV 10 / 3");
    expect_fault(ud2(), 6, 0, "UD2 (#UD)");
    expect_fault(into64(), 6, 0, "INTO in 64-bit mode (#UD)");
    expect_trap(int3(), 3, "INT3 (#BP)");
    tap_eq(0, rt_fault.error_code, "INT3: no error code");
    expect_trap(int_0x40(), 0x40, "INT 0x40");
    expect_fault(load_ds_beyond_gdt(), 13, 0xfff8, "MOV DS, selector past the GDT limit (#GP(selector))");
    noncanonical();
    expect_fault(probe_write8((volatile uint8_t *)(uintptr_t)UNMAPPED, 1), 14, 0x2, "write to unmapped page (#PF)");
    tap_eq(UNMAPPED, rt_fault.cr2, "write to unmapped page: CR2");
    from_user_mode();
    delivery_sets_cs_accessed();
    task_gate_in_long_mode();
}
