/* The legacy interrupt hardware every PC engine has: the cascaded 8259A
 * PICs and counter 0 of the 8254 PIT (Intel's "8259A Programmable
 * Interrupt Controller" and "8254 Programmable Interval Timer" data
 * sheets). For the images that take external interrupts. */
#ifndef RT_PIC_PIT_H
#define RT_PIC_PIT_H

#include "rt/rt.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0   0x40
#define PIT_CTRL  0x43
#define VEC_IRQ0  0x20            /* where pic_remap puts IRQ0 */
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define OCW2_EOI      0x20
#define PIT_PERIOD_1MS 1193       /* PIT clocks (1.193182 MHz) */

static inline uint8_t pic_read_irr(void) { outb(PIC1_CMD, OCW3_READ_IRR); return inb(PIC1_CMD); }
static inline uint8_t pic_read_isr(void) { outb(PIC1_CMD, OCW3_READ_ISR); return inb(PIC1_CMD); }

/* Vectors 0x20-0x2F, every line masked. */
static inline void pic_remap(void)
{
    outb(PIC1_CMD, 0x11);  outb(PIC2_CMD, 0x11);   /* ICW1: edge, cascade, ICW4 */
    outb(PIC1_DATA, 0x20); outb(PIC2_DATA, 0x28);  /* ICW2: vector bases */
    outb(PIC1_DATA, 0x04); outb(PIC2_DATA, 0x02);  /* ICW3: slave on IR2, slave ID 2 */
    outb(PIC1_DATA, 0x01); outb(PIC2_DATA, 0x01);  /* ICW4: 8086 mode */
    outb(PIC1_DATA, 0xff); outb(PIC2_DATA, 0xff);  /* OCW1: all masked */
}

/* Counter 0 in `mode`, loaded with `count` (LSB then MSB). */
static inline void pit_program(unsigned mode, unsigned count)
{
    outb(PIT_CTRL, (uint8_t)(0x30 | (mode << 1)));
    outb(PIT_CH0, (uint8_t)count);
    outb(PIT_CH0, (uint8_t)(count >> 8));
}

#endif
