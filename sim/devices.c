/* COM1 16550 UART, isa-debug-exit and iodebug. Only what drivers use: the
 * divisor latch, LCR/MCR/IER/FCR/SCR as plain registers, and a transmitter
 * that is always empty (LSR.THRE and LSR.TEMT set) since output is
 * synchronous. No receive path: LSR.DR stays clear. */
#include "sim/devices.h"

#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LCR_DLAB 0x80

void devices_init(struct devices *d, FILE *serial_out)
{
  *d = (struct devices){0};
  d->com1.out = serial_out;
  d->com1.lcr = 0x03;
}

static uint8_t uart_in(struct uart16550 *u, unsigned reg)
{
  bool dlab = u->lcr & UART_LCR_DLAB;
  switch (reg) {
  case 0: return dlab ? u->dll : 0;              /* RBR: nothing received */
  case 1: return dlab ? u->dlm : u->ier;
  case 2: return (u->fcr & 1) ? 0xc1 : 0x01;     /* IIR: no interrupt pending */
  case 3: return u->lcr;
  case 4: return u->mcr;
  case 5: return UART_LSR_THRE | UART_LSR_TEMT;  /* LSR */
  case 6: return 0xb0;                           /* MSR: DCD, DSR, CTS */
  case 7: return u->scr;
  }
  return 0xff;
}

static void uart_out(struct uart16550 *u, unsigned reg, uint8_t v)
{
  bool dlab = u->lcr & UART_LCR_DLAB;
  switch (reg) {
  case 0:
    if (dlab) { u->dll = v; return; }
    if (u->out) fputc(v, u->out);
    return;
  case 1: if (dlab) u->dlm = v; else u->ier = v & 0x0f; return;
  case 2: u->fcr = v; return;
  case 3: u->lcr = v; return;
  case 4: u->mcr = v & 0x1f; return;
  case 5: case 6: return;                        /* read-only in practice */
  case 7: u->scr = v; return;
  }
}

uint32_t devices_in(struct devices *d, uint16_t port, unsigned size)
{
  if (port >= COM1_BASE && port < COM1_BASE + 8) return uart_in(&d->com1, port - COM1_BASE);
  return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
}

enum device_action devices_out(struct devices *d, uint16_t port, unsigned size, uint32_t value)
{
  if (port >= COM1_BASE && port < COM1_BASE + 8) {
    uart_out(&d->com1, port - COM1_BASE, (uint8_t)value);
    return DEV_CONTINUE;
  }
  if (port == DEBUG_EXIT_PORT) {
    d->exit_value = value;
    return DEV_EXIT_DEBUG;
  }
  if (port == IODEBUG_PORT && size == 2) {
    /* Bochs leaves the simulation on 0x8AE0 after 0x8A00 enabled iodebug. */
    bool exit = d->iodebug_last == 0x8a00 && value == 0x8ae0;
    d->iodebug_last = (uint16_t)value;
    return exit ? DEV_EXIT_IODEBUG : DEV_CONTINUE;
  }
  return DEV_CONTINUE;
}
