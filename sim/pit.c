/* The 8254 counters (see pit.h). Section names are those of Intel's "8254
 * Programmable Interval Timer" datasheet. A counter's state is a function
 * of the clock at which its initial count was loaded, so reading it at any
 * later clock needs no per-tick work. */
#include "sim/pit.h"

#include <string.h>

/* "Mode 2" and "Mode 3" are selected by 010/011 and also by 110/111. */
static unsigned mode_of(const struct pit_counter *c) { return c->mode > 5 ? c->mode - 4u : c->mode; }

/* The counting element wraps at 2^16 in binary and 10^4 in BCD; an initial
 * count of 0 is the maximum ("Counter Operation"). */
static uint32_t modulus(const struct pit_counter *c) { return c->bcd ? 10000u : 65536u; }

static uint32_t from_bcd(uint16_t v)
{
  return (v & 0xf) + ((v >> 4) & 0xf) * 10u + ((v >> 8) & 0xf) * 100u + ((v >> 12) & 0xf) * 1000u;
}

static uint16_t encode(const struct pit_counter *c, uint32_t v)
{
  v %= modulus(c);
  if (!c->bcd) return (uint16_t)v;
  return (uint16_t)((v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) | ((v / 1000) << 12));
}

void pit_init(struct pit *p) { memset(p, 0, sizeof *p); }

bool pit_claims(uint16_t port) { return port >= PIT_PORT_COUNTER0 && port <= PIT_PORT_CONTROL; }

uint32_t pit_count(const struct pit_counter *c, uint64_t now)
{
  if (!c->counting) return c->initial;
  uint64_t d = now - c->load;
  uint32_t n = c->initial, mod = modulus(c);
  switch (mode_of(c)) {
  case 0: case 4:   /* counts down through zero and wraps */
    return (uint32_t)(((n % mod) + mod - d % mod) % mod);
  case 2:           /* n, n-1, ..., 1, reload */
    return n - (uint32_t)(d % n);
  case 3:           /* by two per clock, twice per period (exact for even n) */
    return n - (uint32_t)((2 * (d % n)) % n);
  case 1: case 5:   /* gate-triggered: never started (pit.h) */
    return n;
  }
  return n;
}

bool pit_out(const struct pit_counter *c, uint64_t now)
{
  if (!c->programmed) return false;
  unsigned mode = mode_of(c);
  if (!c->counting) return mode != 0;   /* mode 0: low from the control word on */
  uint64_t d = now - c->load, n = c->initial;
  switch (mode) {
  case 0: return d >= n;                /* high at terminal count, stays high */
  case 4: return d != n;                /* one clock low at terminal count */
  case 2: return d % n != n - 1;        /* one clock low while the count is 1 */
  case 3: return d % n < (n + 1) / 2;   /* high for the first half */
  case 1: case 5: return true;
  }
  return true;
}

/* Rising edges of OUT happen at load + k*n (k >= 1) in modes 2 and 3, once
 * at load + n in mode 0 and once at load + n + 1 in mode 4. */
static bool periodic(const struct pit_counter *c) { return mode_of(c) == 2 || mode_of(c) == 3; }

static uint64_t one_shot_edge(const struct pit_counter *c)
{
  if (mode_of(c) == 0) return c->load + c->initial;
  if (mode_of(c) == 4) return c->load + c->initial + 1;
  return UINT64_MAX;
}

uint64_t pit_take_edges(struct pit *p, unsigned n, uint64_t now)
{
  struct pit_counter *c = &p->ctr[n];
  if (!c->counting || now <= c->edges_seen) return 0;
  uint64_t from = c->edges_seen, edges;
  c->edges_seen = now;
  if (periodic(c)) {
    edges = (now - c->load) / c->initial - (from - c->load) / c->initial;
  } else {
    uint64_t at = one_shot_edge(c);
    edges = at != UINT64_MAX && from < at && at <= now;
  }
  return edges;
}

uint64_t pit_next_edge(const struct pit *p, unsigned n)
{
  const struct pit_counter *c = &p->ctr[n];
  if (!c->counting) return UINT64_MAX;
  if (periodic(c)) return c->load + ((c->edges_seen - c->load) / c->initial + 1) * c->initial;
  uint64_t at = one_shot_edge(c);
  return at > c->edges_seen ? at : UINT64_MAX;
}

static uint8_t status_byte(const struct pit_counter *c, uint64_t now)
{
  /* "Read-Back Command" status: OUT, NULL COUNT, RW1 RW0, M2 M1 M0, BCD. A
   * count is loaded as soon as it is written, so NULL COUNT is set only
   * between a control word and its count. */
  return (uint8_t)((pit_out(c, now) ? 0x80 : 0) | (c->programmed && !c->counting ? 0x40 : 0) | (c->rw << 4) |
                   (c->mode << 1) | (c->bcd ? 1 : 0));
}

static void latch_count(struct pit_counter *c, uint64_t now)
{
  /* "Counter Latch Command": a second latch before the first is read is
   * ignored. */
  if (c->count_latched) return;
  c->count_latched = true;
  c->latch_msb_next = false;
  c->latched_count = encode(c, pit_count(c, now));
}

static void control_word(struct pit *p, uint8_t v, uint64_t now)
{
  unsigned sel = v >> 6, rw = (v >> 4) & 3;
  if (sel == 3) {
    /* "Read-Back Command": bit 5 clear latches counts, bit 4 clear latches
     * status, bits 3:1 select counters 2..0. */
    for (unsigned n = 0; n < 3; n++) {
      if (!(v & (2u << n))) continue;
      struct pit_counter *c = &p->ctr[n];
      if (!(v & 0x20)) latch_count(c, now);
      if (!(v & 0x10) && !c->status_latched) {
        c->status_latched = true;
        c->latched_status = status_byte(c, now);
      }
    }
    return;
  }
  struct pit_counter *c = &p->ctr[sel];
  if (rw == PIT_RW_LATCH) { latch_count(c, now); return; }
  /* "Write Operations": a control word resets the counter's sequence and
   * waits for a new count (mode 0 drives OUT low). */
  *c = (struct pit_counter){.mode = (v >> 1) & 7, .rw = (uint8_t)rw, .bcd = v & 1, .programmed = true,
                            .edges_seen = now};
}

static void load_count(struct pit_counter *c, uint16_t v, uint64_t now)
{
  uint32_t n = c->bcd ? from_bcd(v) : v;
  c->initial = n ? n : modulus(c);
  c->load = now;
  c->edges_seen = now;
  c->counting = mode_of(c) != 1 && mode_of(c) != 5;
}

void pit_write(struct pit *p, uint16_t port, uint8_t v, uint64_t now)
{
  if (port == PIT_PORT_CONTROL) { control_word(p, v, now); return; }
  if (!pit_claims(port)) return;
  struct pit_counter *c = &p->ctr[port - PIT_PORT_COUNTER0];
  if (!c->programmed) return;   /* no access mode yet: the write has no meaning */
  switch ((enum pit_rw)c->rw) {
  case PIT_RW_LSB: load_count(c, v, now); return;
  case PIT_RW_MSB: load_count(c, (uint16_t)(v << 8), now); return;
  case PIT_RW_LSB_MSB:
    if (!c->write_msb_next) {
      c->write_lsb = v;
      c->write_msb_next = true;
      /* Mode 0: "writing the first byte disables counting". */
      if (mode_of(c) == 0) c->counting = false;
      return;
    }
    c->write_msb_next = false;
    load_count(c, (uint16_t)(c->write_lsb | (v << 8)), now);
    return;
  case PIT_RW_LATCH: return;    /* never stored: a latch command is not a mode */
  }
}

/* Reads follow the access mode; LSB-then-MSB alternates bytes. */
static uint8_t next_byte(struct pit_counter *c, uint16_t value, bool *msb_next, bool *done)
{
  *done = true;
  switch ((enum pit_rw)c->rw) {
  case PIT_RW_LSB: return (uint8_t)value;
  case PIT_RW_MSB: return (uint8_t)(value >> 8);
  case PIT_RW_LSB_MSB:
    if (!*msb_next) { *msb_next = true; *done = false; return (uint8_t)value; }
    *msb_next = false;
    return (uint8_t)(value >> 8);
  case PIT_RW_LATCH: return 0;
  }
  return 0;
}

uint8_t pit_read(struct pit *p, uint16_t port, uint64_t now)
{
  if (!pit_claims(port) || port == PIT_PORT_CONTROL) return 0xff;   /* the control word is write-only */
  struct pit_counter *c = &p->ctr[port - PIT_PORT_COUNTER0];
  if (c->status_latched) { c->status_latched = false; return c->latched_status; }
  if (!c->programmed) return 0;
  bool done;
  if (c->count_latched) {
    uint8_t b = next_byte(c, c->latched_count, &c->latch_msb_next, &done);
    if (done) c->count_latched = false;
    return b;
  }
  return next_byte(c, encode(c, pit_count(c, now)), &c->read_msb_next, &done);
}
