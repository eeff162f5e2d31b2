/* interrupts: external interrupts from the 8259A PIC pair and the 8254 PIT
 * through the IDT in long mode. The PICs are remapped to vectors
 * 0x20/0x28 and PIT counter 0 drives IRQ0. Checked: HLT woken by IRQ0 with
 * the right vector and the saved RIP after HLT; the ISR bit inside the
 * handler (OCW3) and its clearing by EOI; a masked IRQ0 latched in IRR but
 * not delivered; RFLAGS.IF=0 blocking; the STI interrupt shadow; PIT mode 0
 * interrupting exactly once; the counter latch command.
 *
 * Every wait is on a state the image observes (IRR, a latched count), never
 * on a number of loop iterations, so the output is the same on engines that
 * run on real time (QEMU, Bochs) and on virtual time (hvsim).
 * Intel's "8259A Programmable Interrupt Controller" and "8254 Programmable
 * Interval Timer" datasheets; SDM Vol. 3A, "Interrupt and Exception
 * Handling" ("Masking Maskable Hardware Interrupts"); SDM Vol. 2, "HLT". */
#include "rt/pic_pit.h"

#define PERIOD    PIT_PERIOD_1MS
#define SPIN_LIMIT 200000000u

static volatile unsigned irq_count, irq_vector, shadow_counter, shadow_seen, spurious;
static volatile uint8_t isr_in_handler;
static volatile uint64_t irq_rip;

static void irq0_handler(struct rt_frame *f)
{
    irq_count++;
    irq_vector = (unsigned)f->vector;
    irq_rip = f->rip;
    shadow_seen = shadow_counter;
    outb(PIC1_CMD, OCW3_READ_ISR);
    isr_in_handler = inb(PIC1_CMD);
    outb(PIC1_CMD, OCW2_EOI);
}

/* IR7 without a request (a request withdrawn before INTA): no ISR bit is
 * set, so no EOI. Counted, never printed: whether it happens is timing. */
static void spurious_handler(struct rt_frame *f) { (void)f; spurious++; }

static unsigned pit_latched_count(void)
{
    outb(PIT_CTRL, 0x00);                           /* counter latch, counter 0 */
    unsigned lo = inb(PIT_CH0);
    return lo | (unsigned)inb(PIT_CH0) << 8;
}

/* Waits (IF unchanged) until IRQ0 is latched in IRR. */
static bool wait_irr0(void)
{
    for (unsigned i = 0; i < SPIN_LIMIT; i++)
        if (pic_read_irr() & 1) return true;
    return false;
}

static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++) {}
}

void test_main(void)
{
    rt_set_vector_hook(VEC_IRQ0, irq0_handler);
    rt_set_vector_hook(VEC_IRQ0 + 7, spurious_handler);
    __asm__ volatile("cli");
    pic_remap();

    tap_eq(0xff, inb(PIC1_DATA), "OCW1: the master's IMR reads back as written");
    outb(PIC2_DATA, 0xa5);
    tap_eq(0xa5, inb(PIC2_DATA), "OCW1: the slave's IMR reads back as written");
    outb(PIC2_DATA, 0xff);
    tap_eq(0, pic_read_isr(), "nothing in service after initialization");

    /* HLT with IF=1 sleeps until IRQ0. */
    pit_program(2, PERIOD);
    irq_count = 0;
    outb(PIC1_DATA, 0xfe);
    uint64_t after_hlt;
    __asm__ volatile("lea 1f(%%rip), %0\n\tsti\n\thlt\n1:\tcli" : "=r"(after_hlt) : : "memory");
    tap_check(irq_count >= 1, "sti; hlt: IRQ0 wakes the processor");
    tap_eq(VEC_IRQ0, irq_vector, "IRQ0 arrives at ICW2's vector base");
    tap_check(irq_rip == after_hlt, "the saved RIP is the instruction after HLT");
    tap_eq(1, isr_in_handler & 1, "OCW3: IR0 is in service inside the handler");
    tap_eq(0, pic_read_isr() & 1, "non-specific EOI clears IR0's ISR bit");

    /* Masked: the request is latched in IRR but never reaches the CPU. */
    outb(PIC1_DATA, 0xff);
    irq_count = 0;
    tap_check(wait_irr0(), "a masked IRQ0 is latched in IRR");
    __asm__ volatile("sti" ::: "memory");
    spin(100000);
    __asm__ volatile("cli" ::: "memory");
    tap_eq(0, irq_count, "IMR: a masked IRQ0 is not delivered with IF=1");
    __asm__ volatile("sti" ::: "memory");
    outb(PIC1_DATA, 0xfe);
    for (unsigned i = 0; i < SPIN_LIMIT && !irq_count; i++) {}
    __asm__ volatile("cli" ::: "memory");
    tap_check(irq_count >= 1, "unmasking delivers the latched request");

    /* IF=0: pending and unmasked, but not delivered. */
    irq_count = 0;
    tap_check(wait_irr0(), "IRQ0 pending with IF=0");
    spin(100000);
    tap_eq(0, irq_count, "RFLAGS.IF=0 blocks the pending IRQ0");
    tap_eq(1, pic_read_irr() & 1, "the blocked request stays in IRR");

    /* STI shadow: with IRQ0 pending, the instruction after STI runs first. */
    shadow_counter = 0;
    shadow_seen = 0xdead;
    __asm__ volatile("sti\n\tincl %0\n\tincl %0\n\tnop\n\tnop\n\tnop\n\tnop\n\tcli"
                     : "+m"(shadow_counter) : : "memory");
    tap_eq(1, irq_count, "the pending IRQ0 is delivered after STI");
    tap_check(shadow_seen >= 1 && shadow_seen <= 2,
              "STI: the instruction after STI executes before the interrupt");

    /* Mode 0: one interrupt at terminal count, none after. The control word
     * drives OUT low; a request latched before it is drained first. */
    outb(PIT_CTRL, 0x30);
    __asm__ volatile("sti" ::: "memory");
    for (unsigned i = 0; i < SPIN_LIMIT && ((pic_read_irr() | pic_read_isr()) & 1); i++) {}
    __asm__ volatile("cli" ::: "memory");
    irq_count = 0;
    outb(PIT_CH0, (uint8_t)(2 * PERIOD));
    outb(PIT_CH0, (uint8_t)((2 * PERIOD) >> 8));
    __asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
    tap_eq(1, irq_count, "PIT mode 0: terminal count interrupts and wakes HLT");
    /* The counter wraps past zero and keeps counting; wait a quarter of its
     * range (16384 clocks, about 14 ms) with IRQ0 unmasked and IF=1. */
    __asm__ volatile("sti" ::: "memory");
    bool wrapped = false;
    for (unsigned i = 0; i < SPIN_LIMIT / 1000 && !wrapped; i++) {
        unsigned c = pit_latched_count();
        wrapped = c < 0xc000 && c > 0x8000;
        spin(200);
    }
    __asm__ volatile("cli" ::: "memory");
    tap_check(wrapped, "PIT mode 0: the count wraps past zero and keeps counting");
    tap_eq(1, irq_count, "PIT mode 0: exactly one interrupt per count written");

    /* Counter latch: two latched reads a few clocks apart decrease. */
    unsigned first = pit_latched_count();
    spin(20000);
    unsigned second = pit_latched_count();
    tap_check(second < first, "counter latch: a later latch reads a smaller count");

    outb(PIC1_DATA, 0xff);
    pit_program(0, 0);
}
