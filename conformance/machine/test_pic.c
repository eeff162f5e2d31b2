/* The 8259A pair (sim/pic.c) against Intel's "8259A Programmable Interrupt
 * Controller (8259A/8259A-2)" datasheet: the ICW sequence, masking,
 * priority resolution, EOI and rotation, OCW3 reads and polling, the
 * cascade. Each rule has a case where it applies and one where it does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/pic.h"

#define ICW1_CASCADE_ICW4 0x11
#define ICW4_8086 0x01
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define EOI 0x20
#define SPECIFIC_EOI(l) (0x60 | (l))
#define ROTATE_EOI 0xa0
#define SET_PRIORITY(l) (0xc0 | (l))
#define READ_IRR 0x0a
#define READ_ISR 0x0b
#define POLL 0x0c

/* The PC's remap: vectors 0x20 and 0x28, slave on IR2, everything unmasked. */
static void setup(struct pic *p, uint8_t master_icw4, uint8_t slave_icw4)
{
  pic_init(p);
  pic_write(p, PIC_MASTER_CMD, ICW1_CASCADE_ICW4);
  pic_write(p, PIC_MASTER_DATA, 0x20);
  pic_write(p, PIC_MASTER_DATA, 0x04);
  pic_write(p, PIC_MASTER_DATA, master_icw4);
  pic_write(p, PIC_SLAVE_CMD, ICW1_CASCADE_ICW4);
  pic_write(p, PIC_SLAVE_DATA, 0x28);
  pic_write(p, PIC_SLAVE_DATA, 0x02);
  pic_write(p, PIC_SLAVE_DATA, slave_icw4);
  pic_write(p, PIC_MASTER_DATA, 0x00);
  pic_write(p, PIC_SLAVE_DATA, 0x00);
}

static uint8_t read_reg(struct pic *p, uint16_t cmd, uint8_t ocw3)
{
  pic_write(p, cmd, ocw3);
  return pic_read(p, cmd);
}

static void pic_power_on_stays_silent_until_initialized(void **state)
{
  struct pic p;
  pic_init(&p);
  pic_raise(&p, 0);
  assert_false(pic_intr(&p));
  assert_int_equal(pic_read(&p, PIC_MASTER_DATA), 0xff);
}

static void pic_initialized_delivers_at_icw2_base(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 5);
  assert_true(pic_intr(&p));
  assert_int_equal(pic_ack(&p), 0x25);
}

static void pic_icw1_clears_mask_and_requests(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_write(&p, PIC_MASTER_DATA, 0xff);
  pic_raise(&p, 3);
  pic_write(&p, PIC_MASTER_CMD, ICW1_CASCADE_ICW4);
  assert_int_equal(pic_read(&p, PIC_MASTER_DATA), 0x00);
  assert_int_equal(p.chip[0].irr, 0);
}

static void pic_mid_sequence_raises_no_int(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_write(&p, PIC_MASTER_CMD, ICW1_CASCADE_ICW4);
  pic_write(&p, PIC_MASTER_DATA, 0x30);
  pic_raise(&p, 1);
  assert_false(pic_intr(&p));                 /* ICW3 and ICW4 still expected */
  pic_write(&p, PIC_MASTER_DATA, 0x04);
  pic_write(&p, PIC_MASTER_DATA, ICW4_8086);
  pic_raise(&p, 1);
  assert_true(pic_intr(&p));
  assert_int_equal(pic_ack(&p), 0x31);
}

static void pic_single_mode_skips_icw3(void **state)
{
  struct pic p;
  pic_init(&p);
  pic_write(&p, PIC_MASTER_CMD, 0x13);          /* single, ICW4 needed */
  pic_write(&p, PIC_MASTER_DATA, 0x40);
  pic_write(&p, PIC_MASTER_DATA, ICW4_8086 | ICW4_AEOI);   /* taken as ICW4 */
  pic_write(&p, PIC_MASTER_DATA, 0x00);                    /* OCW1 */
  pic_raise(&p, 2);
  assert_int_equal(pic_ack(&p), 0x42);          /* IR2 is an ordinary line */
  assert_int_equal(p.chip[0].isr, 0);           /* automatic EOI from ICW4 */
}

static void pic_cascade_mode_expects_icw3(void **state)
{
  struct pic p;
  pic_init(&p);
  pic_write(&p, PIC_MASTER_CMD, ICW1_CASCADE_ICW4);
  pic_write(&p, PIC_MASTER_DATA, 0x40);
  pic_write(&p, PIC_MASTER_DATA, ICW4_8086 | ICW4_AEOI);   /* taken as ICW3 */
  pic_write(&p, PIC_MASTER_DATA, ICW4_8086);               /* ICW4: no AEOI */
  pic_write(&p, PIC_MASTER_DATA, 0x00);
  pic_raise(&p, 1);
  assert_int_equal(pic_ack(&p), 0x41);
  assert_int_equal(p.chip[0].isr, 0x02);
}

static void pic_imr_masks_but_irr_latches(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_write(&p, PIC_MASTER_DATA, 0x01);
  pic_raise(&p, 0);
  assert_false(pic_intr(&p));
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_IRR) & 1, 1);
  pic_write(&p, PIC_MASTER_DATA, 0x00);
  assert_true(pic_intr(&p));
}

static void pic_lower_line_has_higher_priority(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 3);
  pic_raise(&p, 1);
  assert_int_equal(pic_ack(&p), 0x21);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_IRR), 0x08);
}

static void pic_in_service_blocks_equal_and_lower(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 1);
  assert_int_equal(pic_ack(&p), 0x21);
  pic_raise(&p, 1);
  pic_raise(&p, 4);
  assert_false(pic_intr(&p));                 /* IR1 in service */
  pic_raise(&p, 0);
  assert_true(pic_intr(&p));                  /* higher priority nests */
  assert_int_equal(pic_ack(&p), 0x20);
}

static void pic_nonspecific_eoi_clears_highest_in_service(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 1);
  pic_ack(&p);
  pic_raise(&p, 0);
  pic_ack(&p);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0x03);
  pic_write(&p, PIC_MASTER_CMD, EOI);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0x02);
}

static void pic_specific_eoi_clears_named_level(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 1);
  pic_ack(&p);
  pic_raise(&p, 0);
  pic_ack(&p);
  pic_write(&p, PIC_MASTER_CMD, SPECIFIC_EOI(1));
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0x01);
  pic_write(&p, PIC_MASTER_CMD, SPECIFIC_EOI(5));   /* not in service: no change */
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0x01);
}

static void pic_ocw3_selects_irr_or_isr(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 6);
  pic_ack(&p);
  pic_raise(&p, 7);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0x40);
  assert_int_equal(pic_read(&p, PIC_MASTER_CMD), 0x40);   /* the selection persists */
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_IRR), 0x80);
}

static void pic_slave_request_arrives_through_ir2(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 9);
  assert_true(pic_intr(&p));
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_IRR), 0x04);
  assert_int_equal(pic_ack(&p), 0x29);
  assert_int_equal(p.chip[0].isr, 0x04);
  assert_int_equal(p.chip[1].isr, 0x02);
}

static void pic_slave_masked_at_either_chip_is_silent(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_write(&p, PIC_MASTER_DATA, 0x04);
  pic_raise(&p, 9);
  assert_false(pic_intr(&p));
  pic_write(&p, PIC_MASTER_DATA, 0x00);
  pic_write(&p, PIC_SLAVE_DATA, 0x02);
  assert_false(pic_intr(&p));
  pic_write(&p, PIC_SLAVE_DATA, 0x00);
  assert_true(pic_intr(&p));
}

static void pic_cascade_ranks_slave_at_ir2(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 3);
  pic_raise(&p, 8);
  assert_int_equal(pic_ack(&p), 0x28);        /* IR2 outranks IR3 */
  pic_write(&p, PIC_SLAVE_CMD, EOI);
  pic_write(&p, PIC_MASTER_CMD, EOI);
  pic_raise(&p, 1);
  pic_raise(&p, 8);
  assert_int_equal(pic_ack(&p), 0x21);        /* IR1 outranks IR2 */
}

static void pic_fully_nested_blocks_slave_until_master_eoi(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 10);
  assert_int_equal(pic_ack(&p), 0x2a);
  pic_write(&p, PIC_SLAVE_CMD, EOI);
  pic_raise(&p, 9);
  assert_false(pic_intr(&p));                 /* master's IR2 still in service */
  pic_write(&p, PIC_MASTER_CMD, EOI);
  assert_true(pic_intr(&p));
}

static void pic_special_fully_nested_lets_slave_nest(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086 | ICW4_SFNM, ICW4_8086);
  pic_raise(&p, 10);
  assert_int_equal(pic_ack(&p), 0x2a);
  pic_raise(&p, 9);                           /* higher than IR10 on the slave */
  assert_true(pic_intr(&p));
  assert_int_equal(pic_ack(&p), 0x29);
}

static void pic_auto_eoi_leaves_nothing_in_service(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086 | ICW4_AEOI, ICW4_8086);
  pic_raise(&p, 4);
  assert_int_equal(pic_ack(&p), 0x24);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0);
  pic_raise(&p, 4);
  assert_true(pic_intr(&p));
}

static void pic_rotate_on_eoi_makes_serviced_line_lowest(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 0);
  pic_ack(&p);
  pic_write(&p, PIC_MASTER_CMD, ROTATE_EOI);
  pic_raise(&p, 0);
  pic_raise(&p, 1);
  assert_int_equal(pic_ack(&p), 0x21);        /* IR0 is now the lowest */

  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 0);
  pic_ack(&p);
  pic_write(&p, PIC_MASTER_CMD, EOI);         /* plain EOI: no rotation */
  pic_raise(&p, 0);
  pic_raise(&p, 1);
  assert_int_equal(pic_ack(&p), 0x20);
}

static void pic_set_priority_names_the_lowest_line(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_write(&p, PIC_MASTER_CMD, SET_PRIORITY(4));   /* IR5 highest ... IR4 lowest */
  pic_raise(&p, 3);
  pic_raise(&p, 6);
  assert_int_equal(pic_ack(&p), 0x26);
  pic_write(&p, PIC_MASTER_CMD, SPECIFIC_EOI(6));
  pic_write(&p, PIC_MASTER_CMD, SET_PRIORITY(7));   /* back to IR0 highest */
  pic_raise(&p, 6);
  assert_int_equal(pic_ack(&p), 0x23);
}

static void pic_poll_acknowledges_and_reports_level(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, POLL), 0x00);   /* nothing pending */
  pic_raise(&p, 5);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, POLL), 0x85);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0x20);
  assert_false(pic_intr(&p));
}

static void pic_ack_without_request_is_spurious_ir7(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  assert_int_equal(pic_ack(&p), 0x27);
  assert_int_equal(read_reg(&p, PIC_MASTER_CMD, READ_ISR), 0);
}

static void pic_special_mask_mode_unblocks_lower_lines(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  pic_raise(&p, 1);
  pic_ack(&p);
  pic_write(&p, PIC_MASTER_DATA, 0x02);       /* mask the in-service IR1 */
  pic_raise(&p, 4);
  assert_false(pic_intr(&p));                 /* normal mode: IR1 still blocks */
  pic_write(&p, PIC_MASTER_CMD, 0x68);        /* OCW3: set special mask mode */
  assert_true(pic_intr(&p));
  assert_int_equal(pic_ack(&p), 0x24);
  pic_write(&p, PIC_MASTER_CMD, 0x48);        /* reset special mask mode */
  pic_raise(&p, 5);
  assert_false(pic_intr(&p));
}

static void pic_elcr_reads_all_edge_triggered(void **state)
{
  struct pic p;
  setup(&p, ICW4_8086, ICW4_8086);
  assert_true(pic_claims(PIC_ELCR1));
  assert_int_equal(pic_read(&p, PIC_ELCR1), 0);
  assert_int_equal(pic_read(&p, PIC_ELCR2), 0);
  assert_false(pic_claims(0x22));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(pic_power_on_stays_silent_until_initialized),
    cmocka_unit_test(pic_initialized_delivers_at_icw2_base),
    cmocka_unit_test(pic_icw1_clears_mask_and_requests),
    cmocka_unit_test(pic_mid_sequence_raises_no_int),
    cmocka_unit_test(pic_single_mode_skips_icw3),
    cmocka_unit_test(pic_cascade_mode_expects_icw3),
    cmocka_unit_test(pic_imr_masks_but_irr_latches),
    cmocka_unit_test(pic_lower_line_has_higher_priority),
    cmocka_unit_test(pic_in_service_blocks_equal_and_lower),
    cmocka_unit_test(pic_nonspecific_eoi_clears_highest_in_service),
    cmocka_unit_test(pic_specific_eoi_clears_named_level),
    cmocka_unit_test(pic_ocw3_selects_irr_or_isr),
    cmocka_unit_test(pic_slave_request_arrives_through_ir2),
    cmocka_unit_test(pic_slave_masked_at_either_chip_is_silent),
    cmocka_unit_test(pic_cascade_ranks_slave_at_ir2),
    cmocka_unit_test(pic_fully_nested_blocks_slave_until_master_eoi),
    cmocka_unit_test(pic_special_fully_nested_lets_slave_nest),
    cmocka_unit_test(pic_auto_eoi_leaves_nothing_in_service),
    cmocka_unit_test(pic_rotate_on_eoi_makes_serviced_line_lowest),
    cmocka_unit_test(pic_set_priority_names_the_lowest_line),
    cmocka_unit_test(pic_poll_acknowledges_and_reports_level),
    cmocka_unit_test(pic_ack_without_request_is_spurious_ir7),
    cmocka_unit_test(pic_special_mask_mode_unblocks_lower_lines),
    cmocka_unit_test(pic_elcr_reads_all_edge_triggered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
