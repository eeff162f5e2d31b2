/* The trace digest's SHA-256 (sim/sha256.c) against FIPS 180-4's examples
 * ("SHA-256 Examples", NIST), and the SHA-extension compression against
 * the portable one on every length around the block boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/sha256.h"

static void hex_digest(const void *data, size_t len, char out[65])
{
  struct sha256 s;
  uint8_t d[32];
  sha256_init(&s);
  sha256_update(&s, data, len);
  sha256_final(&s, d);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void fips_examples(void)
{
  char h[65];
  hex_digest("abc", 3, h);
  assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  hex_digest(two, strlen(two), h);
  assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  hex_digest("", 0, h);
  assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_fips_examples_portable(void **state)
{
  (void)state;
  sha256_force_portable(true);
  fips_examples();
  sha256_force_portable(false);
}

static void sha256_fips_examples_fast_path(void **state)
{
  (void)state;
  fips_examples();
}

/* Whatever compression the machine uses gives the portable result, fed in
 * one piece or in odd-sized pieces. */
static void sha256_fast_path_matches_portable(void **state)
{
  (void)state;
  uint8_t data[700];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 131 + 7);
  for (size_t len = 0; len <= sizeof data; len++) {
    char fast[65], portable[65];
    hex_digest(data, len, fast);
    sha256_force_portable(true);
    hex_digest(data, len, portable);
    sha256_force_portable(false);
    assert_string_equal(fast, portable);
  }
  struct sha256 a;
  uint8_t da[32], db[32];
  sha256_init(&a);
  for (size_t at = 0; at < sizeof data; at += 37) sha256_update(&a, data + at, at + 37 <= sizeof data ? 37 : sizeof data - at);
  sha256_final(&a, da);
  sha256_init(&a);
  sha256_update(&a, data, sizeof data);
  sha256_final(&a, db);
  assert_memory_equal(da, db, 32);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sha256_fips_examples_portable),
    cmocka_unit_test(sha256_fips_examples_fast_path),
    cmocka_unit_test(sha256_fast_path_matches_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
