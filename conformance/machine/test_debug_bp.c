/* The breakpoint rules of the debug registers (sim/debug_bp_rules.c)
 * against SDM Vol. 3A, "Debug Registers" ("Debug Control Register (DR7)",
 * "Breakpoint Field Recognition") and "Debug Exceptions" ("Instruction-
 * Breakpoint Exception Condition", "Data Memory and I/O Breakpoint
 * Exception Conditions"). Each rule has a case where it applies and one
 * where it does not. The machine's use of them (hooks, exits, delivery)
 * is checked by the dbgbp image against Bochs and QEMU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/debug_bp.h"

#define L(n) (1ull << (2 * (n)))
#define G(n) (2ull << (2 * (n)))
#define RW(n, v) ((uint64_t)(v) << (16 + 4 * (n)))
#define LEN(n, v) ((uint64_t)(v) << (18 + 4 * (n)))
#define LEN_1 0
#define LEN_2 1
#define LEN_8 2
#define LEN_4 3
#define BASE 0x7000ull

static struct dbg_regs one(uint64_t dr0, uint64_t dr7, bool de)
{
  return (struct dbg_regs){.dr = {dr0, 0, 0, 0}, .dr7 = 0x400 | dr7, .de = de};
}

static void dbg_len_field_decodes_1_2_8_4(void **state)
{
  (void)state;
  assert_int_equal(dbg_bp_len(LEN(0, LEN_1), 0), 1);
  assert_int_equal(dbg_bp_len(LEN(1, LEN_2), 1), 2);
  assert_int_equal(dbg_bp_len(LEN(2, LEN_8), 2), 8);
  assert_int_equal(dbg_bp_len(LEN(3, LEN_4), 3), 4);
  /* Each breakpoint reads its own field. */
  assert_int_equal(dbg_bp_len(LEN(1, LEN_8), 0), 1);
}

static void dbg_enable_local_or_global_enables(void **state)
{
  (void)state;
  assert_true(dbg_bp_enabled(L(2), 2));
  assert_true(dbg_bp_enabled(G(3), 3));
  assert_false(dbg_bp_enabled(L(1) | G(1), 0));
  assert_false(dbg_bp_enabled(0x400 | (1ull << 8) | (1ull << 9), 0));   /* LE, GE enable nothing */
}

static void dbg_write_bp_matches_writes_not_reads(void **state)
{
  (void)state;
  struct dbg_regs r = one(BASE, L(0) | RW(0, DBG_RW_WRITE) | LEN(0, LEN_4), false);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE, 4), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_READ, BASE, 4), 0);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_EXEC, BASE, 1), 0);
}

static void dbg_read_write_bp_matches_reads_and_writes(void **state)
{
  (void)state;
  struct dbg_regs r = one(BASE, L(0) | RW(0, DBG_RW_READ_WRITE) | LEN(0, LEN_4), false);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_READ, BASE + 2, 1), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 3, 1), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_IO, BASE & 0xffff, 1), 0);
}

static void dbg_len_masks_low_address_bits(void **state)
{
  (void)state;
  /* DR0 = BASE + 1 with LEN 4 covers BASE .. BASE + 3, not BASE + 4. */
  struct dbg_regs r = one(BASE + 1, L(0) | RW(0, DBG_RW_WRITE) | LEN(0, LEN_4), false);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE, 1), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 4, 1), 0);
  /* LEN 8 from BASE + 5 covers BASE .. BASE + 7. */
  r = one(BASE + 5, L(0) | RW(0, DBG_RW_WRITE) | LEN(0, LEN_8), false);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 7, 1), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 8, 1), 0);
}

static void dbg_overlapping_access_matches(void **state)
{
  (void)state;
  struct dbg_regs r = one(BASE, L(0) | RW(0, DBG_RW_WRITE) | LEN(0, LEN_2), false);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE - 4, 8), 1);   /* BASE-4 .. BASE+3 */
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 1, 4), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE - 4, 4), 0);   /* ends at BASE - 1 */
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 2, 2), 0);   /* starts past the range */
}

static void dbg_instruction_bp_matches_first_byte_only(void **state)
{
  (void)state;
  struct dbg_regs r = one(BASE + 3, L(0) | RW(0, DBG_RW_EXEC) | LEN(0, LEN_1), false);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_EXEC, BASE + 3, 1), 1);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_EXEC, BASE + 2, 1), 0);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_READ, BASE + 3, 1), 0);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE + 3, 1), 0);
}

static void dbg_io_bp_needs_cr4_de(void **state)
{
  (void)state;
  struct dbg_regs r = one(0x81, L(0) | RW(0, DBG_RW_IO) | LEN(0, LEN_2), true);
  assert_true(dbg_bp_is_io(&r, 0));
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_IO, 0x80, 1), 1);   /* LEN 2 masks: 80H-81H */
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_IO, 0x82, 1), 0);
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_WRITE, 0x80, 1), 0); /* memory is not I/O space */
  r.de = false;   /* "undefined" without CR4.DE: no breakpoint in hvsim */
  assert_false(dbg_bp_is_io(&r, 0));
  assert_int_equal(dbg_bp_match(&r, DBG_ACCESS_IO, 0x80, 1), 0);
  assert_int_equal(dbg_bp_armed(&r, DBG_ACCESS_IO), 0);
}

static void dbg_match_reports_disabled_bps_but_only_enabled_trigger(void **state)
{
  (void)state;
  /* DR0 and DR1 both watch BASE for writes; only DR1 is enabled. */
  struct dbg_regs r = {.dr = {BASE, BASE, 0, 0},
                       .dr7 = 0x400 | L(1) | RW(0, DBG_RW_WRITE) | RW(1, DBG_RW_WRITE) | LEN(0, LEN_4) | LEN(1, LEN_4)};
  unsigned m = dbg_bp_match(&r, DBG_ACCESS_WRITE, BASE, 4);
  assert_int_equal(m, 3);
  assert_true(dbg_bp_triggers(r.dr7, m));
  assert_false(dbg_bp_triggers(r.dr7, m & 1));   /* DR0's alone: not enabled */
}

static void dbg_armed_lists_enabled_bps_by_kind(void **state)
{
  (void)state;
  struct dbg_regs r = {.dr = {BASE, BASE + 8, 0x80, BASE + 16},
                       .dr7 = 0x400 | L(0) | G(1) | L(2) | RW(1, DBG_RW_WRITE) | RW(2, DBG_RW_IO) |
                              RW(3, DBG_RW_READ_WRITE),
                       .de = true};
  assert_int_equal(dbg_bp_armed(&r, DBG_ACCESS_EXEC), 1);
  assert_int_equal(dbg_bp_armed(&r, DBG_ACCESS_WRITE), 2);   /* DR3 (R/W 11) is not enabled */
  assert_int_equal(dbg_bp_armed(&r, DBG_ACCESS_READ), 0);
  assert_int_equal(dbg_bp_armed(&r, DBG_ACCESS_IO), 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(dbg_len_field_decodes_1_2_8_4),
    cmocka_unit_test(dbg_enable_local_or_global_enables),
    cmocka_unit_test(dbg_write_bp_matches_writes_not_reads),
    cmocka_unit_test(dbg_read_write_bp_matches_reads_and_writes),
    cmocka_unit_test(dbg_len_masks_low_address_bits),
    cmocka_unit_test(dbg_overlapping_access_matches),
    cmocka_unit_test(dbg_instruction_bp_matches_first_byte_only),
    cmocka_unit_test(dbg_io_bp_needs_cr4_de),
    cmocka_unit_test(dbg_match_reports_disabled_bps_but_only_enabled_trigger),
    cmocka_unit_test(dbg_armed_lists_enabled_bps_by_kind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
