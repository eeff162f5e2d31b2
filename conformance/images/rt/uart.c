/* COM1 16550 driver of the test images: 8N1 at 115200 baud, polled.
 * Each byte waits for LSR.THRE (transmit holding register empty);
 * uart_drain waits for LSR.TEMT (transmitter empty) so nothing is lost when
 * the machine stops right after. Bochs needs LCR=3, or it sends 5-bit
 * characters. */
#include "rt/rt.h"

void uart_init(void)
{
    outb(COM1 + UART_IER, 0x00);    /* no interrupts */
    outb(COM1 + UART_LCR, 0x80);    /* DLAB: divisor latch */
    outb(COM1 + 0, 0x01);           /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + UART_LCR, 0x03);    /* 8 data bits, no parity, 1 stop bit */
    outb(COM1 + UART_IIR, 0x00);    /* FCR: FIFOs off */
    outb(COM1 + UART_MCR, 0x03);    /* DTR | RTS */
}

void uart_putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1 + UART_DATA, (uint8_t)c);
}

void uart_drain(void)
{
    while (!(inb(COM1 + UART_LSR) & UART_LSR_TEMT))
        ;
}
