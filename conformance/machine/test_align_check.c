/* The alignment each operand needs under alignment checking
 * (sim/align_check.c, align_required): SDM Vol. 3A, "Interrupt 17—Alignment
 * Check Exception (#AC)", table "Alignment Requirements by Data Type". The
 * whole-machine behaviour is the `acheck` image's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/align_check.h"

/* The largest alignment any memory operand of the instruction needs (1:
 * none), the bytes decoded in `bits`-bit mode. */
static unsigned need(int bits, const uint8_t *bytes, size_t len)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, bits == 64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LEGACY_32,
                   bits == 64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32);
  struct insn in;
  memset(&in, 0, sizeof in);
  assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, len, &in.zi, in.op)));
  unsigned most = 1;
  for (unsigned i = 0; i < in.zi.operand_count; i++) {
    unsigned a = align_required(&in, &in.op[i]);
    if (a > most) most = a;
  }
  return most;
}
#define NEED(bits, ...) need(bits, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void align_check_scalar_data_needs_its_size(void **state)
{
  (void)state;
  assert_int_equal(NEED(64, 0x8a, 0x03), 1);              /* mov al, [rbx]: a byte */
  assert_int_equal(NEED(64, 0x66, 0x8b, 0x03), 2);        /* mov ax, [rbx] */
  assert_int_equal(NEED(64, 0x8b, 0x03), 4);              /* mov eax, [rbx] */
  assert_int_equal(NEED(64, 0x48, 0x8b, 0x03), 8);        /* mov rax, [rbx] */
  assert_int_equal(NEED(64, 0xdb, 0x2b), 8);              /* fld tword [rbx]: double extended, 8 */
  assert_int_equal(NEED(64, 0x66, 0xa5), 2);              /* movsw: both string operands */
  assert_int_equal(NEED(64, 0x50), 8);                    /* push rax: the stack */
}

static void align_check_unchecked_operands_need_nothing(void **state)
{
  (void)state;
  assert_int_equal(NEED(64, 0x48, 0x8d, 0x03), 1);        /* lea rax, [rbx]: no access */
  assert_int_equal(NEED(64, 0x0f, 0x10, 0x03), 1);        /* movups xmm0, [rbx]: 128 bits */
  assert_int_equal(NEED(64, 0xcc), 1);                    /* int3: its frame is a CPL-0 access */
}

static void align_check_table_special_types(void **state)
{
  (void)state;
  assert_int_equal(NEED(64, 0x0f, 0x01, 0x03), 4);        /* sgdt [rbx]: GDTR contents, 4 */
  assert_int_equal(NEED(32, 0xd9, 0x33), 4);              /* fnstenv [ebx], 32-bit operand size */
  assert_int_equal(NEED(32, 0x66, 0xd9, 0x33), 2);        /* ... 16-bit operand size */
  assert_int_equal(NEED(32, 0xc5, 0x03), 4);              /* lds eax, [ebx]: 48-bit far pointer */
  assert_int_equal(NEED(32, 0x66, 0xc5, 0x03), 2);        /* lds ax, [ebx]: 32-bit far pointer */
  assert_int_equal(NEED(64, 0x48, 0xff, 0x2b), 8);        /* jmp far [rbx], m16:64 */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(align_check_scalar_data_needs_its_size),
    cmocka_unit_test(align_check_unchecked_operands_need_nothing),
    cmocka_unit_test(align_check_table_special_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
