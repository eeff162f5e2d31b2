/* doublefault: a #GP whose IDT gate is not present. Delivering it raises
 * #NP (a not-present gate), and a contributory exception while delivering a
 * contributory one is a double fault: #DF with error code 0.
 * SDM Vol. 3A, "Interrupt 8—Double Fault Exception (#DF)" (Table
 * "Conditions for Generating a Double Fault"), "Interrupt 11—Segment Not
 * Present (#NP)", "Error Code". */
#include "rt/rt.h"

#define NONCANONICAL 0x8000000000000000ull

/* The #DF handler ends the run: the SDM leaves the saved RIP of a double
 * fault undefined, so there is nothing to resume. */
static void on_double_fault(struct rt_frame *f)
{
    tap_eq(8, f->vector, "#GP through a not-present gate: vector (#DF)");
    tap_eq(0, f->error_code, "#DF: error code");
    tap_done();
}

static int int_0x41(void)
{
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("int $0x41") ::: "memory");
    return rt_fault_vector();
}

void test_main(void)
{
    /* First the #NP alone: INT n through a not-present gate. */
    rt_idt_set_present(0x41, false);
    int vec = int_0x41();
    tap_eq(11, (uint64_t)vec, "INT 0x41 through a not-present gate: vector (#NP)");
    /* The gate's index with the IDT bit; EXT clear for a software interrupt.
     * QEMU puts the gate's byte offset (vector * 16) there. */
    tap_eq_or_departure(0x41 * 8 + 2, rt_fault.error_code, 0x41 * 16 + 2, "qemu-tcg-idt-error-code-x16",
                        "#NP: error code names the IDT gate");

    rt_set_vector_hook(8, on_double_fault);
    rt_idt_set_present(13, false);
    uint8_t v;
    probe_read8((volatile uint8_t *)(uintptr_t)NONCANONICAL, &v);
    tap_check(false, "non-canonical read with the #GP gate not present raised no #DF (vector %d)",
              rt_fault_vector());
}
