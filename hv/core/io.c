/* Port I/O exits: the guest's COM1, a 16550 UART seen through its registers
 * (transmit always ready, no interrupts), whose output hv forwards to its
 * own console one line at a time with the prefix "guest: ". Any other port
 * is unexpected: hv stops with the full exit information. */
#include "hv/core/hv.h"

#define COM1_BASE 0x3f8
enum { UART_DATA, UART_IER, UART_IIR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_SCR };
#define LCR_DLAB      0x80
#define LSR_THRE_TEMT 0x60   /* transmit holding register and transmitter empty */
#define IIR_NO_INT    0x01

static void com1_put(struct hv_com1 *c, char ch)
{
    if (ch == '\r')
        return;
    if (ch == '\n' || c->len == sizeof(c->line)) {
        hv_guest_line(c->line, c->len);
        c->len = 0;
        if (ch == '\n')
            return;
    }
    c->line[c->len++] = ch;
}

static uint8_t com1_read(struct hv_com1 *c, unsigned reg)
{
    bool dlab = c->lcr & LCR_DLAB;
    switch (reg) {
    case UART_DATA: return dlab ? c->dll : 0;        /* nothing is ever received */
    case UART_IER:  return dlab ? c->dlm : c->ier;
    case UART_IIR:  return IIR_NO_INT;
    case UART_LCR:  return c->lcr;
    case UART_MCR:  return c->mcr;
    case UART_LSR:  return LSR_THRE_TEMT;
    case UART_MSR:  return 0;
    case UART_SCR:  return c->scr;
    }
    return 0xff;
}

static void com1_write(struct hv_com1 *c, unsigned reg, uint8_t val)
{
    bool dlab = c->lcr & LCR_DLAB;
    switch (reg) {
    case UART_DATA: if (dlab) c->dll = val; else com1_put(c, (char)val); return;
    case UART_IER:  if (dlab) c->dlm = val; else c->ier = val & 0x0f; return;
    case UART_IIR:  return;                          /* FCR: FIFOs are not modelled */
    case UART_LCR:  c->lcr = val; return;
    case UART_MCR:  c->mcr = val & 0x1f; return;
    case UART_LSR:  return;                          /* read-only */
    case UART_MSR:  return;                          /* read-only */
    case UART_SCR:  c->scr = val; return;
    }
}

enum hv_next hv_handle_io(struct hv_vcpu *v, uint16_t port, unsigned size, bool in)
{
    if (port < COM1_BASE || port > COM1_BASE + 7 || size != 1)
        hv_stop(v, "unexpected port I/O: %s port 0x%x size %u", in ? "IN" : "OUT", port, size);
    unsigned reg = port - COM1_BASE;
    if (in) {
        uint64_t rax = hv_gpr(v, 0);
        hv_set_gpr(v, 0, (rax & ~0xffull) | com1_read(&v->com1, reg));
    } else {
        com1_write(&v->com1, reg, (uint8_t)hv_gpr(v, 0));
    }
    return HV_ADVANCE;
}
