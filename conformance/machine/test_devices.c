/* Devices and digests: what drivers poll on the 16550, the exit ports, and
 * SHA-256 against FIPS 180-4's published examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/devices.h"
#include "sim/sha256.h"

static void uart_lsr_reports_transmitter_empty(void **state)
{
  struct devices d;
  devices_init(&d, NULL);
  assert_int_equal(devices_in(&d, COM1_BASE + 5, 1) & 0x60, 0x60);   /* THRE and TEMT */
  assert_int_equal(devices_in(&d, COM1_BASE + 5, 1) & 0x01, 0);      /* no data ready */
}

static void uart_scratch_register_round_trips(void **state)
{
  struct devices d;
  devices_init(&d, NULL);
  assert_int_equal(devices_out(&d, COM1_BASE + 7, 1, 0xa5), DEV_CONTINUE);
  assert_int_equal(devices_in(&d, COM1_BASE + 7, 1), 0xa5);
}

static void uart_divisor_latch_hides_data_register(void **state)
{
  struct devices d;
  devices_init(&d, NULL);
  devices_out(&d, COM1_BASE + 3, 1, 0x80);   /* DLAB */
  devices_out(&d, COM1_BASE + 0, 1, 0x01);
  devices_out(&d, COM1_BASE + 3, 1, 0x03);
  assert_int_equal(d.com1.dll, 1);
}

static void uart_transmits_to_its_stream(void **state)
{
  char buf[8] = "";
  FILE *f = fmemopen(buf, sizeof buf, "w");
  struct devices d;
  devices_init(&d, f);
  devices_out(&d, COM1_BASE, 1, 'h');
  devices_out(&d, COM1_BASE, 1, 'v');
  fclose(f);
  assert_string_equal(buf, "hv");
}

static void debug_exit_port_requests_exit(void **state)
{
  struct devices d;
  devices_init(&d, NULL);
  assert_int_equal(devices_out(&d, DEBUG_EXIT_PORT, 4, 7), DEV_EXIT_DEBUG);
  assert_int_equal(d.exit_value, 7);
}

static void iodebug_exits_only_after_enable_word(void **state)
{
  struct devices d;
  devices_init(&d, NULL);
  assert_int_equal(devices_out(&d, IODEBUG_PORT, 2, 0x8ae0), DEV_CONTINUE);
  assert_int_equal(devices_out(&d, IODEBUG_PORT, 2, 0x8a00), DEV_CONTINUE);
  assert_int_equal(devices_out(&d, IODEBUG_PORT, 2, 0x8ae0), DEV_EXIT_IODEBUG);
}

static void unclaimed_port_reads_all_ones(void **state)
{
  struct devices d;
  devices_init(&d, NULL);
  assert_int_equal(devices_in(&d, 0x80, 1), 0xff);
  assert_int_equal(devices_in(&d, 0x80, 2), 0xffff);
}

static void hex(const uint8_t d[32], char out[65])
{
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sha256_matches_fips_180_examples(void **state)
{
  struct sha256 s;
  uint8_t d[32];
  char h[65];
  sha256_init(&s);
  sha256_update(&s, "abc", 3);
  sha256_final(&s, d);
  hex(d, h);
  assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sha256_init(&s);
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256_update(&s, two, strlen(two));
  sha256_final(&s, d);
  hex(d, h);
  assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(uart_lsr_reports_transmitter_empty),
    cmocka_unit_test(uart_scratch_register_round_trips),
    cmocka_unit_test(uart_divisor_latch_hides_data_register),
    cmocka_unit_test(uart_transmits_to_its_stream),
    cmocka_unit_test(debug_exit_port_requests_exit),
    cmocka_unit_test(iodebug_exits_only_after_enable_word),
    cmocka_unit_test(unclaimed_port_reads_all_ones),
    cmocka_unit_test(sha256_matches_fips_180_examples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
