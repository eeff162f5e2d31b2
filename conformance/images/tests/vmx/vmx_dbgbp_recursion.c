/* vmx_dbgbp_recursion: a #DB whose own stack frame hits a data breakpoint,
 * on an IST stack that does not move: every delivery of the #DB pushes the
 * same frame, meets the breakpoint again and raises another #DB before
 * the handler's first instruction — endless, on hardware as in the model
 * ("Data Memory and I/O Breakpoint Exception Conditions": the processor's
 * own accesses match data breakpoints). hvsim must stop the run with a
 * message saying so instead of hanging. hvsim only (no outcome to compare:
 * a real processor never leaves the loop); run by
 * conformance/vmx/test_vmx_machine.c. SDM Vol. 3A, "Debug Exceptions";
 * "64-Bit Mode Exception and Interrupt Handling" (IST). */
#include "tests/vmx/vmx.h"

static uint8_t ist_stack[4096] __attribute__((aligned(4096)));

void test_main(void)
{
    struct dtr idt;
    __asm__ volatile("sidt %0" : "=m"(idt));
    uintptr_t top = (uintptr_t)(ist_stack + sizeof ist_stack);
    *(volatile uint64_t *)(tr_base() + 0x24) = top;              /* TSS IST1 */
    *(volatile uint8_t *)(uintptr_t)(idt.base + 16 * 1 + 4) = 1; /* #DB gate: IST 1 */
    uint64_t dr7 = 0x400 | 0x1 | 1ull << 16 | 2ull << 18;        /* L0, write, 8 bytes */
    __asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr7" : : "r"(top - 40), "r"(dr7));
    tap_note("ICEBP with a write breakpoint on the #DB frame's RIP slot of IST1");
    __asm__ volatile(".byte 0xf1");
    tap_check(0, "the #DB recursion ended");
}
