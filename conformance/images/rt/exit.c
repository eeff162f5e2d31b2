/* Ends a run the same way on every machine: QEMU's isa-debug-exit (port
 * 0xf4; QEMU exits with status (v << 1) | 1, hvsim does the same), then
 * Bochs's iodebug port (0x8A00 then 0x8AE0 to port 0x8A00 returns to its
 * debugger, whose `quit` ends Bochs), then a halt loop for anything else. */
#include "rt/rt.h"

#define ISA_DEBUG_EXIT_PORT 0xf4
#define BOCHS_IODEBUG_PORT  0x8A00

void rt_exit(unsigned status)
{
    uart_drain();
    outb(ISA_DEBUG_EXIT_PORT, (uint8_t)status);
    outw(BOCHS_IODEBUG_PORT, 0x8A00);
    outw(BOCHS_IODEBUG_PORT, 0x8AE0);
    for (;;)
        __asm__ volatile("cli; hlt");
}
