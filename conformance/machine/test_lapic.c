/* The local APIC register model (sim/lapic.c): the registers it has, the
 * NMI, SMI and INIT the ICR sends to this processor, and a stated outcome (a message
 * naming the register or mode) for every access it does not model. SDM
 * Vol. 3A, "Advanced Programmable Interrupt Controller (APIC)": "Local APIC
 * Register Address Map", "Local APIC Version Register", "Local APIC State
 * After Power-Up or Reset", "Interrupt Command Register (ICR)" and "Valid
 * Combinations for the Pentium 4 and Intel Xeon Processors' Local xAPIC
 * Interrupt Command Register". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/lapic.h"

static char msg[256];

static uint32_t rd(struct lapic *a, uint32_t off)
{
  uint32_t v = 0xDEADBEEF;
  assert_int_equal(lapic_read(a, off, 4, &v, msg, sizeof msg), LAPIC_OK);
  return v;
}

static enum lapic_result wr(struct lapic *a, uint32_t off, uint32_t v)
{
  msg[0] = 0;
  return lapic_write(a, off, 4, v, msg, sizeof msg);
}

static void lapic_reset_state_matches_sdm(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(rd(&a, LAPIC_ID), 0);
  assert_int_equal(rd(&a, LAPIC_VERSION), 0x00050014);
  assert_int_equal(rd(&a, LAPIC_SVR), 0xFF);      /* "initialized to 000000FFH" */
  assert_int_equal(rd(&a, LAPIC_ICR_LOW), 0);
  assert_int_equal(rd(&a, LAPIC_ICR_HIGH), 0);
  lapic_reset(&a, 5);
  assert_int_equal(rd(&a, LAPIC_ID), 5u << 24);   /* the ID in bits 31:24 */
}

static void lapic_svr_reads_back_modelled_bits_and_rejects_others(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_SVR, 0x1FF), LAPIC_OK);
  assert_int_equal(rd(&a, LAPIC_SVR), 0x1FF);
  assert_int_equal(wr(&a, LAPIC_SVR, 0x0F0), LAPIC_OK);
  assert_int_equal(rd(&a, LAPIC_SVR), 0x0F0);
  /* Focus processor checking (bit 9) is not modelled: a stated stop. */
  assert_int_equal(wr(&a, LAPIC_SVR, 0x3FF), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "Spurious Interrupt Vector"));
  assert_int_equal(rd(&a, LAPIC_SVR), 0x0F0);
}

static void lapic_icr_nmi_to_own_id_sends_nmi(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 3);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 3u << 24), LAPIC_OK);
  assert_int_equal(rd(&a, LAPIC_ICR_HIGH), 3u << 24);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400), LAPIC_SEND_NMI);
  assert_int_equal(rd(&a, LAPIC_ICR_LOW), 0x400);
  /* "The vector information is ignored" for NMI, and so are level and
   * trigger mode; delivery status is read-only and reads idle. */
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | 0x42 | LAPIC_ICR_LEVEL | LAPIC_ICR_TRIGGER | LAPIC_ICR_DELIVERY_STATUS),
                   LAPIC_SEND_NMI);
  assert_int_equal(rd(&a, LAPIC_ICR_LOW), 0x400 | 0x42 | LAPIC_ICR_LEVEL | LAPIC_ICR_TRIGGER);
}

static void lapic_icr_nmi_broadcasts_reach_this_processor(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 0xFFu << 24), LAPIC_OK);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400), LAPIC_SEND_NMI);             /* physical FFH: broadcast */
}

/* "Valid Combinations for the Pentium 4 and Intel Xeon Processors' Local
 * xAPIC Interrupt Command Register": NMI with "self" or "all including
 * self" is invalid, with no outcome given (the P6 table: "The behavior of
 * the APIC is undefined"): the run stops, naming the combination; "all
 * excluding self" is valid but reaches no other processor. */
static void lapic_icr_nmi_invalid_shorthands_are_unmodelled(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 0), LAPIC_OK);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400), LAPIC_SEND_NMI);   /* no shorthand, own APIC ID */
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (2u << 18)), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "NMI with destination shorthand \"all including self\""));
  assert_non_null(strstr(msg, "not a valid combination"));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (1u << 18)), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "NMI with destination shorthand \"self\""));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (3u << 18)), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "no other processor"));
}

static void lapic_icr_nmi_to_another_id_is_unmodelled(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 1u << 24), LAPIC_OK);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "APIC ID 1"));
}

static void lapic_icr_other_delivery_modes_are_unmodelled(void **state)
{
  (void)state;
  static const struct { unsigned mode; const char *name; } modes[] = {
    {0, "fixed"}, {1, "lowest priority"}, {3, "reserved"}, {6, "start-up"}, {7, "reserved"}};
  struct lapic a;
  lapic_reset(&a, 0);
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    assert_int_equal(wr(&a, LAPIC_ICR_LOW, modes[i].mode << 8 | 0x30), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, modes[i].name));
  }
}

/* SMI and INIT to this processor: its own APIC ID or the FFH broadcast,
 * physical, no shorthand; the vector is ignored, and so are level and
 * trigger mode (the xAPIC issues IPIs edge triggered). */
static void lapic_icr_smi_and_init_to_own_id_send_signals(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 2);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 2u << 24), LAPIC_OK);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x200), LAPIC_SEND_SMI);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x500 | LAPIC_ICR_LEVEL), LAPIC_SEND_INIT);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x500), LAPIC_SEND_INIT);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x200 | 0x33 | LAPIC_ICR_LEVEL | LAPIC_ICR_TRIGGER), LAPIC_SEND_SMI);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 0xFFu << 24), LAPIC_OK);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x500 | LAPIC_ICR_LEVEL), LAPIC_SEND_INIT);   /* broadcast */
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x200), LAPIC_SEND_SMI);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 1u << 24), LAPIC_OK);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x500 | LAPIC_ICR_LEVEL), LAPIC_UNMODELLED);  /* another APIC ID */
  assert_non_null(strstr(msg, "INIT to APIC ID 1"));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x200), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "SMI to APIC ID 1"));
}

/* Level 0 with trigger mode level is the P6's INIT level de-assert: the
 * xAPIC does not support it and the oracles drop it: a stop. */
static void lapic_icr_init_level_deassert_is_unmodelled(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x500 | LAPIC_ICR_TRIGGER), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "de-assert"));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x500 | LAPIC_ICR_TRIGGER | LAPIC_ICR_LEVEL), LAPIC_SEND_INIT);
}

/* "Valid Combinations for the Pentium 4 and Intel Xeon Processors' Local
 * xAPIC Interrupt Command Register": SMI and INIT with "self" or "all
 * including self" are invalid; "all excluding self" reaches nobody. */
static void lapic_icr_smi_and_init_shorthands_are_unmodelled(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  for (unsigned mode = 2; mode <= 5; mode += 3) {
    assert_int_equal(wr(&a, LAPIC_ICR_LOW, mode << 8 | LAPIC_ICR_LEVEL | (1u << 18)), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, "not a valid combination"));
    assert_int_equal(wr(&a, LAPIC_ICR_LOW, mode << 8 | LAPIC_ICR_LEVEL | (2u << 18)), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, "not a valid combination"));
    assert_int_equal(wr(&a, LAPIC_ICR_LOW, mode << 8 | LAPIC_ICR_LEVEL | (3u << 18)), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, "no other processor"));
    assert_int_equal(wr(&a, LAPIC_ICR_LOW, mode << 8 | LAPIC_ICR_LEVEL | LAPIC_ICR_DEST_LOGICAL), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, "logical"));
  }
}

static void lapic_icr_invalid_or_empty_destinations_are_unmodelled(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (1u << 18)), LAPIC_UNMODELLED);   /* self: not valid with NMI */
  assert_non_null(strstr(msg, "\"self\""));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (3u << 18)), LAPIC_UNMODELLED);   /* all excluding self: nobody */
  assert_non_null(strstr(msg, "all excluding self"));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | LAPIC_ICR_DEST_LOGICAL), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "logical"));
}

static void lapic_icr_reserved_bits_are_unmodelled(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (1u << 13)), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "Interrupt Command"));
  assert_int_equal(wr(&a, LAPIC_ICR_LOW, 0x400 | (1u << 20)), LAPIC_UNMODELLED);
  assert_int_equal(wr(&a, LAPIC_ICR_HIGH, 1), LAPIC_UNMODELLED);
  assert_int_equal(rd(&a, LAPIC_ICR_HIGH), 0);
}

static void lapic_unmodelled_registers_stop_with_their_name(void **state)
{
  (void)state;
  static const struct { uint32_t off; const char *name; } regs[] = {
    {LAPIC_TPR, "Task Priority"}, {LAPIC_EOI, "EOI"}, {LAPIC_ESR, "Error Status"}, {LAPIC_IRR + 0x30, "IRR"},
    {LAPIC_LVT_LINT1, "LINT1"}, {LAPIC_TIMER_ICR, "Initial Count"}, {0x040, "reserved"}};
  struct lapic a;
  lapic_reset(&a, 0);
  for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
    uint32_t v = 1;
    assert_int_equal(lapic_read(&a, regs[i].off, 4, &v, msg, sizeof msg), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, regs[i].name));
    assert_non_null(strstr(msg, "read"));
    assert_int_equal(v, 0);
    assert_int_equal(wr(&a, regs[i].off, 0), LAPIC_UNMODELLED);
    assert_non_null(strstr(msg, regs[i].name));
  }
  /* The identification registers are not writable in the model. */
  assert_int_equal(wr(&a, LAPIC_ID, 0), LAPIC_UNMODELLED);
  assert_int_equal(wr(&a, LAPIC_VERSION, 0), LAPIC_UNMODELLED);
}

static void lapic_only_aligned_dword_accesses_are_defined(void **state)
{
  (void)state;
  struct lapic a;
  lapic_reset(&a, 0);
  uint32_t v;
  assert_int_equal(lapic_read(&a, LAPIC_VERSION, 1, &v, msg, sizeof msg), LAPIC_UNMODELLED);
  assert_non_null(strstr(msg, "aligned 32-bit"));
  assert_int_equal(lapic_read(&a, LAPIC_VERSION + 4, 4, &v, msg, sizeof msg), LAPIC_UNMODELLED);
  assert_int_equal(lapic_read(&a, LAPIC_VERSION, 8, &v, msg, sizeof msg), LAPIC_UNMODELLED);
  assert_int_equal(lapic_write(&a, LAPIC_ICR_LOW, 2, 0x400, msg, sizeof msg), LAPIC_UNMODELLED);
  assert_int_equal(rd(&a, LAPIC_ICR_LOW), 0);   /* nothing sent, nothing stored */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(lapic_reset_state_matches_sdm),
    cmocka_unit_test(lapic_svr_reads_back_modelled_bits_and_rejects_others),
    cmocka_unit_test(lapic_icr_nmi_to_own_id_sends_nmi),
    cmocka_unit_test(lapic_icr_nmi_broadcasts_reach_this_processor),
    cmocka_unit_test(lapic_icr_nmi_to_another_id_is_unmodelled),
    cmocka_unit_test(lapic_icr_other_delivery_modes_are_unmodelled),
    cmocka_unit_test(lapic_icr_smi_and_init_to_own_id_send_signals),
    cmocka_unit_test(lapic_icr_init_level_deassert_is_unmodelled),
    cmocka_unit_test(lapic_icr_smi_and_init_shorthands_are_unmodelled),
    cmocka_unit_test(lapic_icr_nmi_invalid_shorthands_are_unmodelled),
    cmocka_unit_test(lapic_icr_invalid_or_empty_destinations_are_unmodelled),
    cmocka_unit_test(lapic_icr_reserved_bits_are_unmodelled),
    cmocka_unit_test(lapic_unmodelled_registers_stop_with_their_name),
    cmocka_unit_test(lapic_only_aligned_dword_accesses_are_defined),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
