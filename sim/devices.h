/* Port-I/O devices: a COM1 16550 UART, QEMU's isa-debug-exit and Bochs's
 * iodebug port, so one test image ends cleanly on hvsim, QEMU and Bochs. */
#ifndef HVSIM_SIM_DEVICES_H
#define HVSIM_SIM_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define COM1_BASE        0x3f8
#define DEBUG_EXIT_PORT  0xf4     /* QEMU isa-debug-exit, iobase=0xf4 */
#define IODEBUG_PORT     0x8a00   /* Bochs iodebug */

struct uart16550 {
  uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
  FILE *out;
};

/* What a port write asked the machine to do. */
enum device_action { DEV_CONTINUE, DEV_EXIT_DEBUG, DEV_EXIT_IODEBUG };

struct devices {
  struct uart16550 com1;
  uint16_t iodebug_last;       /* previous word written to the iodebug port */
  uint32_t exit_value;         /* value written to isa-debug-exit */
};

void devices_init(struct devices *d, FILE *serial_out);

/* Port reads of unclaimed ports return all ones, as on an ISA bus with
 * nothing decoding the address. */
uint32_t devices_in(struct devices *d, uint16_t port, unsigned size);
enum device_action devices_out(struct devices *d, uint16_t port, unsigned size, uint32_t value);

#endif
