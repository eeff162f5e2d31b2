/* triplefault: an exception that cannot be delivered at all shuts the
 * machine down. With an IDT limit of 0, #UD cannot be delivered (#GP),
 * nor can the #GP, nor the resulting #DF: a triple fault.
 * SDM Vol. 3A, "Interrupt 8—Double Fault Exception (#DF)" ("If another
 * exception occurs while attempting to call the double-fault handler, the
 * processor enters shutdown mode"). The runner expects the shutdown:
 * QEMU -no-reboot exits, Bochs reports the unresolved third exception,
 * hvsim prints a shutdown report. */
#include "rt/rt.h"

void test_main(void)
{
    rt_printf("# expect: shutdown\n");
    tap_check(true, "about to load an empty IDT and execute UD2");
    uart_drain();
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty = { 0, 0 };
    __asm__ volatile("lidt %0; ud2" : : "m"(empty) : "memory");
    tap_check(false, "UD2 with an empty IDT returned");
}
