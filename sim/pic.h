/* The cascaded pair of 8259A programmable interrupt controllers of the PC:
 * the master at ports 0x20/0x21, the slave at 0xA0/0xA1 on the master's
 * IR2. Behaviour follows Intel's "8259A Programmable Interrupt Controller
 * (8259A/8259A-2)" datasheet: the ICW1-ICW4 initialization sequence, OCW1
 * (interrupt mask), OCW2 (EOI, rotation, priority), OCW3 (read IRR/ISR,
 * poll, special mask mode), priority resolution, the cascade, and the
 * INTA cycle.
 *
 * Limits, stated rather than approximated: inputs are edge-triggered only
 * (ICW1.LTIM is recorded but a level input is not modelled, and the ELCR
 * ports read 0: every line edge-triggered); the INTA cycle always yields
 * the 8086 vector (ICW4.uPM = 0, the 8080 CALL sequence, is recorded
 * only); buffered mode is irrelevant without a bus.
 *
 * Pure logic: no machine, no time, so the unit tests drive it directly. */
#ifndef HVSIM_SIM_PIC_H
#define HVSIM_SIM_PIC_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_CMD   0x20
#define PIC_MASTER_DATA  0x21
#define PIC_SLAVE_CMD    0xa0
#define PIC_SLAVE_DATA   0xa1
#define PIC_ELCR1        0x4d0
#define PIC_ELCR2        0x4d1
#define PIC_CASCADE_IRQ  2       /* the slave's INT drives the master's IR2 */

struct pic_chip {
  uint8_t irr, isr, imr;
  uint8_t vector_base;         /* ICW2 bits 7:3 */
  uint8_t icw3;                /* master: lines with a slave; slave: its ID */
  uint8_t lowest;              /* the line with the lowest priority (rotation) */
  uint8_t init_step;           /* 0: operating; 2, 3, 4: the ICW expected next */
  bool initialized;            /* a full ICW sequence has completed */
  bool need_icw4, single, level_mode, mode_8086;
  bool auto_eoi, rotate_on_aeoi, sfnm, special_mask;
  bool read_isr;               /* OCW3 RIS: a command-port read returns ISR */
  bool poll;                   /* OCW3 P: the next command-port read polls */
};

struct pic {
  struct pic_chip chip[2];     /* [0] master, [1] slave */
};

/* Power-on state. The datasheet leaves the chip undefined until ICW1; hvsim
 * keeps both chips silent (every line masked, no INT) until the guest
 * initializes them, as a firmware that masked the PIC would leave them. */
void pic_init(struct pic *p);

/* A rising edge on line `irq` (0-15): sets its IRR bit. */
void pic_raise(struct pic *p, unsigned irq);

/* Port access, one byte. Ports other than the four chip ports and the
 * two ELCRs are not the PIC's: pic_read returns 0xff, pic_write ignores. */
bool pic_claims(uint16_t port);
uint8_t pic_read(struct pic *p, uint16_t port);
void pic_write(struct pic *p, uint16_t port, uint8_t value);

/* The master's INT output: a request the CPU should acknowledge. */
bool pic_intr(const struct pic *p);

/* The INTA cycle: moves the winning request from IRR to ISR (unless
 * automatic EOI) on the master and, for the cascade line, on the slave, and
 * returns the vector. With nothing to acknowledge it returns the spurious
 * IR7 vector of the chip that was asked and sets no ISR bit. */
uint8_t pic_ack(struct pic *p);

#endif
