/* The 8254 programmable interval timer at ports 0x40-0x43 (counters 0-2 and
 * the control word), following Intel's "8254 Programmable Interval Timer"
 * datasheet: the control word (counter, read/write mode LSB / MSB / LSB
 * then MSB, mode, BCD), the counter latch command, the read-back command,
 * and modes 0 (interrupt on terminal count), 2 (rate generator) and 3
 * (square wave generator); 6 and 7 are 2 and 3 as the datasheet says.
 *
 * Time is a count of PIT input clocks (PIT_HZ) handed in by the caller;
 * the machine derives it from virtual time (sim/irq.c), so nothing here
 * reads host time. Counter 0's OUT is the PC's IRQ0: the machine asks for
 * its rising edges and feeds them to the PIC.
 *
 * Limits, stated: GATE is high on every counter (on the PC, counter 0's
 * gate is tied high; counter 2's gate at port 0x61 is not modelled), so
 * modes 1 and 5, which count only after a rising edge on GATE, never start
 * (OUT stays high, the count reads as written); mode 4 (software-triggered
 * strobe) counts and strobes OUT once. A new count written in modes 2 and 3
 * takes effect at once, not at the end of the current period. */
#ifndef HVSIM_SIM_PIT_H
#define HVSIM_SIM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ           1193182u   /* the PC's 14.31818 MHz / 12 */
#define PIT_PORT_COUNTER0 0x40
#define PIT_PORT_CONTROL  0x43

enum pit_rw { PIT_RW_LATCH = 0, PIT_RW_LSB = 1, PIT_RW_MSB = 2, PIT_RW_LSB_MSB = 3 };

struct pit_counter {
  uint8_t mode;                /* 0-5 (6 and 7 folded into 2 and 3) */
  uint8_t rw;                  /* enum pit_rw, never LATCH */
  bool bcd;
  bool programmed;             /* a control word was written */
  bool counting;               /* a full initial count was written */
  bool write_msb_next;         /* LSB-then-MSB: the next write is the MSB */
  bool read_msb_next;          /* LSB-then-MSB: the next read is the MSB */
  uint8_t write_lsb;
  uint32_t initial;            /* 1..65536 (binary) or 1..10000 (BCD) */
  uint64_t load;               /* clock at which the count was loaded */
  bool count_latched, status_latched;
  bool latch_msb_next;         /* reading a latched LSB-then-MSB count */
  uint16_t latched_count;
  uint8_t latched_status;
  uint64_t edges_seen;         /* clock up to which OUT's edges were taken */
};

struct pit {
  struct pit_counter ctr[3];
};

void pit_init(struct pit *p);

bool pit_claims(uint16_t port);
/* One byte at `port` at clock `now` (now never goes backwards). */
uint8_t pit_read(struct pit *p, uint16_t port, uint64_t now);
void pit_write(struct pit *p, uint16_t port, uint8_t value, uint64_t now);

/* The counting element's value at `now`, as a latch would capture it
 * (binary, before BCD encoding), and OUT's level. */
uint32_t pit_count(const struct pit_counter *c, uint64_t now);
bool pit_out(const struct pit_counter *c, uint64_t now);

/* Rising edges of counter `n`'s OUT in (edges_seen, now]; marks them seen. */
uint64_t pit_take_edges(struct pit *p, unsigned n, uint64_t now);
/* The clock of counter `n`'s next rising OUT edge after edges_seen, or
 * UINT64_MAX when OUT will not rise again without a new programming. */
uint64_t pit_next_edge(const struct pit *p, unsigned n);

#endif
