/* The 8259A pair (see pic.h). Section names below are those of Intel's
 * "8259A Programmable Interrupt Controller (8259A/8259A-2)" datasheet. */
#include "sim/pic.h"

#include <string.h>

/* "Fully Nested Mode" and "Automatic Rotation": priorities run from the
 * line after `lowest` (highest priority) round to `lowest` itself. Returns
 * the highest-priority line set in `bits`, or -1. */
static int highest(uint8_t bits, uint8_t lowest)
{
  for (unsigned k = 1; k <= 8; k++) {
    unsigned line = (lowest + k) & 7;
    if (bits & (1u << line)) return (int)line;
  }
  return -1;
}

/* 0 is the highest priority, 7 the lowest. */
static unsigned rank(unsigned line, uint8_t lowest) { return (line - lowest - 1) & 7; }

static bool operating(const struct pic_chip *c) { return c->initialized && c->init_step == 0; }

/* "Priority Resolver": the request to pass to the CPU, or -1. An in-service
 * line of equal or higher priority blocks it; in "Special Mask Mode" only
 * unmasked in-service lines block; in "Special Fully Nested Mode" the
 * master lets a slave's further requests through while the cascade line is
 * in service. */
static int resolve(const struct pic_chip *c, uint8_t irr, bool master)
{
  if (!operating(c)) return -1;
  int req = highest(irr & (uint8_t)~c->imr, c->lowest);
  if (req < 0) return -1;
  uint8_t isr = c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;
  if (master && c->sfnm && (c->icw3 & (1u << req))) isr &= (uint8_t)~(1u << req);
  int busy = highest(isr, c->lowest);
  if (busy >= 0 && rank((unsigned)busy, c->lowest) <= rank((unsigned)req, c->lowest)) return -1;
  return req;
}

/* "Cascading": the slave's INT output is the master's IR2 request, when the
 * master was told (ICW3) that a slave sits there. */
static bool cascade_wired(const struct pic *p)
{
  const struct pic_chip *m = &p->chip[0];
  return !m->single && (m->icw3 & (1u << PIC_CASCADE_IRQ));
}

static uint8_t master_irr(const struct pic *p)
{
  uint8_t irr = p->chip[0].irr;
  if (cascade_wired(p) && resolve(&p->chip[1], p->chip[1].irr, false) >= 0) irr |= 1u << PIC_CASCADE_IRQ;
  return irr;
}

void pic_init(struct pic *p)
{
  memset(p, 0, sizeof *p);
  for (int i = 0; i < 2; i++) {
    p->chip[i].imr = 0xff;
    p->chip[i].lowest = 7;
  }
}

void pic_raise(struct pic *p, unsigned irq)
{
  if (irq > 15) return;
  p->chip[irq >> 3].irr |= (uint8_t)(1u << (irq & 7));
}

bool pic_claims(uint16_t port)
{
  return port == PIC_MASTER_CMD || port == PIC_MASTER_DATA || port == PIC_SLAVE_CMD || port == PIC_SLAVE_DATA ||
         port == PIC_ELCR1 || port == PIC_ELCR2;
}

bool pic_intr(const struct pic *p) { return resolve(&p->chip[0], master_irr(p), true) >= 0; }

/* One chip's part of the INTA cycle ("Interrupt Sequence"): IRR to ISR,
 * or straight through with automatic EOI (and its rotation). */
static void acknowledge(struct pic_chip *c, unsigned line)
{
  c->irr &= (uint8_t)~(1u << line);
  if (!c->auto_eoi) {
    c->isr |= (uint8_t)(1u << line);
    return;
  }
  if (c->rotate_on_aeoi) c->lowest = (uint8_t)line;
}

uint8_t pic_ack(struct pic *p)
{
  struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
  int line = resolve(m, master_irr(p), true);
  if (line < 0) return (uint8_t)(m->vector_base + 7);   /* spurious IR7 */
  acknowledge(m, (unsigned)line);
  if (line != PIC_CASCADE_IRQ || !cascade_wired(p)) return (uint8_t)(m->vector_base + line);
  int sline = resolve(s, s->irr, false);
  if (sline < 0) return (uint8_t)(s->vector_base + 7);  /* spurious IR15 */
  acknowledge(s, (unsigned)sline);
  return (uint8_t)(s->vector_base + sline);
}

/* "Poll Command": the read acknowledges like INTA and returns 0x80 | level,
 * or 0 with nothing pending. Each chip answers for itself. */
static uint8_t poll_chip(struct pic *p, int idx)
{
  struct pic_chip *c = &p->chip[idx];
  c->poll = false;
  int line = resolve(c, idx == 0 ? master_irr(p) : c->irr, idx == 0);
  if (line < 0) return 0;
  acknowledge(c, (unsigned)line);
  return (uint8_t)(0x80 | line);
}

/* ICW1 ("Initialization Command Words"): the edge-sense circuit resets (no
 * request survives), the mask clears, IR7 gets the lowest priority,
 * special mask mode clears, status read selects IRR, and the ICW4 functions
 * reset. ISR is cleared too (an in-service bit would otherwise block every
 * request after a re-initialization; Bochs and QEMU agree). */
static void icw1(struct pic_chip *c, uint8_t v)
{
  *c = (struct pic_chip){
    .lowest = 7,
    .init_step = 2,
    .need_icw4 = v & 0x01,
    .single = v & 0x02,
    .level_mode = v & 0x08,
  };
}

/* OCW2 ("Operation Command Words"): R, SL and EOI in bits 7:5, the level
 * in bits 2:0. Every one of the eight codes is listed. */
static void ocw2(struct pic_chip *c, uint8_t v)
{
  unsigned level = v & 7;
  int top = highest(c->isr, c->lowest);
  switch ((v >> 5) & 7) {
  case 0: c->rotate_on_aeoi = false; return;            /* rotate in AEOI mode (clear) */
  case 4: c->rotate_on_aeoi = true; return;             /* rotate in AEOI mode (set) */
  case 2: return;                                       /* no operation */
  case 1:                                               /* non-specific EOI */
    if (top >= 0) c->isr &= (uint8_t)~(1u << top);
    return;
  case 5:                                               /* rotate on non-specific EOI */
    if (top < 0) return;
    c->isr &= (uint8_t)~(1u << top);
    c->lowest = (uint8_t)top;
    return;
  case 3: c->isr &= (uint8_t)~(1u << level); return;    /* specific EOI */
  case 7:                                               /* rotate on specific EOI */
    c->isr &= (uint8_t)~(1u << level);
    c->lowest = (uint8_t)level;
    return;
  case 6: c->lowest = (uint8_t)level; return;           /* set priority */
  }
}

/* OCW3: ESMM/SMM in bits 6:5, P in bit 2, RR/RIS in bits 1:0. */
static void ocw3(struct pic_chip *c, uint8_t v)
{
  if ((v & 0x60) == 0x60) c->special_mask = true;
  else if ((v & 0x60) == 0x40) c->special_mask = false;
  if (v & 0x04) c->poll = true;
  if (v & 0x02) c->read_isr = v & 0x01;
}

static void write_data(struct pic_chip *c, uint8_t v)
{
  switch (c->init_step) {
  case 0: c->imr = v; return;                           /* OCW1 */
  case 2:                                               /* ICW2: vector T7-T3 */
    c->vector_base = v & 0xf8;
    c->init_step = !c->single ? 3 : c->need_icw4 ? 4 : 0;
    break;
  case 3:                                               /* ICW3: cascade */
    c->icw3 = v;
    c->init_step = c->need_icw4 ? 4 : 0;
    break;
  case 4:                                               /* ICW4 */
    c->mode_8086 = v & 0x01;
    c->auto_eoi = v & 0x02;
    c->sfnm = v & 0x10;
    c->init_step = 0;
    break;
  }
  if (c->init_step == 0) c->initialized = true;
}

uint8_t pic_read(struct pic *p, uint16_t port)
{
  if (port == PIC_ELCR1 || port == PIC_ELCR2) return 0;   /* every line edge-triggered */
  if (port != PIC_MASTER_CMD && port != PIC_MASTER_DATA && port != PIC_SLAVE_CMD && port != PIC_SLAVE_DATA)
    return 0xff;
  int idx = (port & 0x80) ? 1 : 0;
  struct pic_chip *c = &p->chip[idx];
  if (port & 1) return c->imr;
  if (c->poll) return poll_chip(p, idx);
  if (c->read_isr) return c->isr;
  return idx == 0 ? master_irr(p) : c->irr;
}

void pic_write(struct pic *p, uint16_t port, uint8_t v)
{
  if (port != PIC_MASTER_CMD && port != PIC_MASTER_DATA && port != PIC_SLAVE_CMD && port != PIC_SLAVE_DATA)
    return;   /* the ELCRs: level triggering is not modelled */
  struct pic_chip *c = &p->chip[(port & 0x80) ? 1 : 0];
  if (port & 1) { write_data(c, v); return; }
  if (v & 0x10) { icw1(c, v); return; }
  if (v & 0x08) { ocw3(c, v); return; }
  ocw2(c, v);
}
