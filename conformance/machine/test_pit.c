/* The 8254 (sim/pit.c) against Intel's "8254 Programmable Interval Timer"
 * datasheet, and the machine's virtual-time clock for it (sim/irq.c):
 * modes 0, 2 and 3, access modes, the counter latch and read-back
 * commands, BCD counting. Each rule has a case where it applies and one
 * where it does not. Times are PIT input clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/irq.h"
#include "sim/machine.h"
#include "sim/pit.h"

#define CW(ctr, rw, mode, bcd) ((uint8_t)(((ctr) << 6) | ((rw) << 4) | ((mode) << 1) | (bcd)))
#define LATCH0 0x00

/* Counter 0 in `mode`, LSB then MSB, loaded with `count` at clock `at`. */
static void program(struct pit *p, unsigned mode, uint16_t count, uint64_t at)
{
  pit_write(p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB_MSB, mode, 0), at);
  pit_write(p, PIT_PORT_COUNTER0, (uint8_t)count, at);
  pit_write(p, PIT_PORT_COUNTER0, (uint8_t)(count >> 8), at);
}

static unsigned read16(struct pit *p, uint64_t at)
{
  unsigned lo = pit_read(p, PIT_PORT_COUNTER0, at);
  return lo | (unsigned)pit_read(p, PIT_PORT_COUNTER0, at) << 8;
}

static void pit_mode2_rises_once_per_period(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 2, 100, 1000);
  assert_int_equal(pit_next_edge(&p, 0), 1100);
  assert_int_equal(pit_take_edges(&p, 0, 1099), 0);
  assert_int_equal(pit_take_edges(&p, 0, 1100), 1);
  assert_int_equal(pit_next_edge(&p, 0), 1200);
  assert_int_equal(pit_take_edges(&p, 0, 1350), 2);
  assert_int_equal(pit_take_edges(&p, 0, 1350), 0);   /* edges are taken once */
}

static void pit_mode2_counts_down_and_reloads(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 2, 100, 0);
  assert_int_equal(pit_count(&p.ctr[0], 0), 100);
  assert_int_equal(pit_count(&p.ctr[0], 1), 99);
  assert_int_equal(pit_count(&p.ctr[0], 99), 1);
  assert_false(pit_out(&p.ctr[0], 99));                /* low while the count is 1 */
  assert_int_equal(pit_count(&p.ctr[0], 100), 100);
  assert_true(pit_out(&p.ctr[0], 100));
}

static void pit_mode3_square_wave_halves(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 3, 100, 0);
  assert_true(pit_out(&p.ctr[0], 49));
  assert_false(pit_out(&p.ctr[0], 50));
  assert_false(pit_out(&p.ctr[0], 99));
  assert_true(pit_out(&p.ctr[0], 100));
  assert_int_equal(pit_count(&p.ctr[0], 10), 80);      /* two per clock */
  assert_int_equal(pit_take_edges(&p, 0, 250), 2);
}

static void pit_modes_6_and_7_are_2_and_3(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 6, 100, 0);
  assert_int_equal(pit_count(&p.ctr[0], 1), 99);
  assert_int_equal(pit_take_edges(&p, 0, 200), 2);
  program(&p, 7, 100, 0);
  assert_int_equal(pit_count(&p.ctr[0], 1), 98);
}

static void pit_mode0_interrupts_once_at_terminal_count(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 0, 100, 0);
  assert_false(pit_out(&p.ctr[0], 99));
  assert_true(pit_out(&p.ctr[0], 100));
  assert_int_equal(pit_take_edges(&p, 0, 100), 1);
  assert_int_equal(pit_next_edge(&p, 0), UINT64_MAX);
  assert_int_equal(pit_take_edges(&p, 0, 100000), 0);
  assert_int_equal(pit_count(&p.ctr[0], 101), 0xffff);   /* wraps and keeps counting */
  program(&p, 0, 10, 200000);                             /* a new count re-arms */
  assert_int_equal(pit_next_edge(&p, 0), 200010);
}

static void pit_mode0_control_word_and_first_byte_stop_it(void **state)
{
  struct pit p;
  pit_init(&p);
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB_MSB, 0, 0), 0);
  assert_false(pit_out(&p.ctr[0], 0));                 /* OUT low after the control word */
  assert_int_equal(pit_next_edge(&p, 0), UINT64_MAX);  /* no count yet */
  pit_write(&p, PIT_PORT_COUNTER0, 50, 0);
  assert_int_equal(pit_next_edge(&p, 0), UINT64_MAX);  /* LSB alone loads nothing */
  pit_write(&p, PIT_PORT_COUNTER0, 0, 0);
  assert_int_equal(pit_next_edge(&p, 0), 50);
  pit_write(&p, PIT_PORT_COUNTER0, 70, 10);            /* first byte: counting stops */
  assert_int_equal(pit_next_edge(&p, 0), UINT64_MAX);
}

static void pit_mode2_control_word_keeps_out_high(void **state)
{
  struct pit p;
  pit_init(&p);
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB_MSB, 2, 0), 0);
  assert_true(pit_out(&p.ctr[0], 0));
}

static void pit_lsb_only_and_msb_only_access(void **state)
{
  struct pit p;
  pit_init(&p);
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB, 2, 0), 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0x40, 0);            /* one write loads 0x0040 */
  assert_int_equal(pit_next_edge(&p, 0), 0x40);
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 1), 0x3f);
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 1), 0x3f);   /* LSB every time */
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_MSB, 2, 0), 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0x02, 0);            /* loads 0x0200 */
  assert_int_equal(pit_next_edge(&p, 0), 0x200);
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 0x100), 0x01);
}

static void pit_zero_count_is_the_maximum(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 2, 0, 0);
  assert_int_equal(pit_next_edge(&p, 0), 65536);
  assert_int_equal(read16(&p, 1), 0xffff);
  program(&p, 2, 1, 0);
  assert_int_equal(pit_next_edge(&p, 0), 1);
}

static void pit_latch_freezes_the_count_until_read(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 2, 1000, 0);
  pit_write(&p, PIT_PORT_CONTROL, LATCH0, 10);
  pit_write(&p, PIT_PORT_CONTROL, LATCH0, 20);         /* ignored: not read yet */
  assert_int_equal(read16(&p, 500), 990);
  assert_int_equal(read16(&p, 500), 500);              /* read out: live again */
}

static void pit_lsb_msb_reads_alternate(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 2, 0x1234, 0);
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 0), 0x34);
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 0), 0x12);
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 0), 0x34);
}

static void pit_bcd_counts_in_decimal(void **state)
{
  struct pit p;
  pit_init(&p);
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB_MSB, 2, 1), 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0x00, 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0x10, 0);           /* BCD 1000 */
  assert_int_equal(pit_next_edge(&p, 0), 1000);
  assert_int_equal(read16(&p, 1), 0x0999);
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB_MSB, 2, 1), 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0, 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0, 0);              /* 0 is 10000 in BCD */
  assert_int_equal(pit_next_edge(&p, 0), 10000);
}

static void pit_read_back_latches_status_then_count(void **state)
{
  struct pit p;
  pit_init(&p);
  pit_write(&p, PIT_PORT_CONTROL, CW(0, PIT_RW_LSB_MSB, 2, 0), 0);
  pit_write(&p, PIT_PORT_CONTROL, 0xe2, 0);            /* read-back: status of counter 0 */
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 0), 0xc0 | 0x30 | (2 << 1));   /* OUT, NULL COUNT */
  program(&p, 0, 100, 0);
  pit_write(&p, PIT_PORT_CONTROL, 0xc2, 5);            /* status and count of counter 0 */
  assert_int_equal(pit_read(&p, PIT_PORT_COUNTER0, 50), 0x30);   /* status first: OUT low, count loaded */
  assert_int_equal(read16(&p, 50), 95);
  pit_write(&p, PIT_PORT_CONTROL, 0xd4, 5);            /* count of counter 1 only */
  assert_int_equal(read16(&p, 50), 50);                /* counter 0 not latched */
}

static void pit_gate_triggered_modes_never_start(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 1, 100, 0);
  assert_int_equal(pit_next_edge(&p, 0), UINT64_MAX);
  assert_true(pit_out(&p.ctr[0], 1000));
  assert_int_equal(read16(&p, 1000), 100);
}

static void pit_mode4_strobes_once_after_terminal_count(void **state)
{
  struct pit p;
  pit_init(&p);
  program(&p, 4, 100, 0);
  assert_false(pit_out(&p.ctr[0], 100));
  assert_true(pit_out(&p.ctr[0], 101));
  assert_int_equal(pit_take_edges(&p, 0, 101), 1);
  assert_int_equal(pit_take_edges(&p, 0, 1000000), 0);
}

static void pit_writes_before_a_control_word_are_ignored(void **state)
{
  struct pit p;
  pit_init(&p);
  pit_write(&p, PIT_PORT_COUNTER0, 10, 0);
  pit_write(&p, PIT_PORT_COUNTER0, 0, 0);
  assert_int_equal(pit_next_edge(&p, 0), UINT64_MAX);
  assert_int_equal(pit_read(&p, PIT_PORT_CONTROL, 0), 0xff);   /* write-only */
}

static void pit_clock_follows_virtual_time(void **state)
{
  assert_int_equal(irq_pit_clock(MACHINE_INSNS_PER_SECOND), PIT_HZ);
  assert_int_equal(irq_pit_clock(0), 0);
  assert_int_equal(irq_pit_clock(838), 0);             /* one clock is ~838.1 ns */
  assert_int_equal(irq_pit_clock(839), 1);
  for (uint64_t clk = 1; clk < 5000; clk += 7) {
    uint64_t t = irq_insns_at_clock(clk);
    assert_true(irq_pit_clock(t) >= clk);
    assert_true(irq_pit_clock(t - 1) < clk);           /* the earliest such time */
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(pit_mode2_rises_once_per_period),
    cmocka_unit_test(pit_mode2_counts_down_and_reloads),
    cmocka_unit_test(pit_mode3_square_wave_halves),
    cmocka_unit_test(pit_modes_6_and_7_are_2_and_3),
    cmocka_unit_test(pit_mode0_interrupts_once_at_terminal_count),
    cmocka_unit_test(pit_mode0_control_word_and_first_byte_stop_it),
    cmocka_unit_test(pit_mode2_control_word_keeps_out_high),
    cmocka_unit_test(pit_lsb_only_and_msb_only_access),
    cmocka_unit_test(pit_zero_count_is_the_maximum),
    cmocka_unit_test(pit_latch_freezes_the_count_until_read),
    cmocka_unit_test(pit_lsb_msb_reads_alternate),
    cmocka_unit_test(pit_bcd_counts_in_decimal),
    cmocka_unit_test(pit_read_back_latches_status_then_count),
    cmocka_unit_test(pit_gate_triggered_modes_never_start),
    cmocka_unit_test(pit_mode4_strobes_once_after_terminal_count),
    cmocka_unit_test(pit_writes_before_a_control_word_are_ignored),
    cmocka_unit_test(pit_clock_follows_virtual_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
