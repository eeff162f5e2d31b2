/* Which decoded instructions the machine hooks (sim/sysinsn.h,
 * sysinsn_hooked): the conditional class of far JMP and CALL takes only
 * their far forms (EA, 9A, FF /3, FF /5), which can start a task switch
 * (SDM Vol. 3A, "Task Switching"; AMD APM Vol. 2, "Miscellaneous
 * Intercepts": task switch), and only while the class is wanted; near
 * JMP and CALL, which run everywhere, are never hooked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/sysinsn.h"

static ZydisDecodedInstruction decode32(const uint8_t *bytes, size_t len)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
  ZydisDecodedInstruction zi;
  assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, bytes, len, &zi)));
  return zi;
}

static void sysinsn_far_jmp_call_hooked_only_with_their_class(void **state)
{
  (void)state;
  static const uint8_t far_forms[][7] = {
    {0xEA, 0, 0, 0, 0, 0x20, 0},         /* JMP ptr16:32 */
    {0x9A, 0, 0, 0, 0, 0x28, 0},         /* CALL ptr16:32 */
    {0xFF, 0x2D, 0, 0x10, 0, 0},         /* JMP m16:32 (FF /5) */
    {0xFF, 0x1D, 0, 0x10, 0, 0},         /* CALL m16:32 (FF /3) */
  };
  for (size_t i = 0; i < sizeof far_forms / sizeof far_forms[0]; i++) {
    ZydisDecodedInstruction zi = decode32(far_forms[i], sizeof far_forms[i]);
    assert_true(sysinsn_hooked(&zi, HOOK_CLASS_FAR_BRANCH));
    assert_false(sysinsn_hooked(&zi, 0));
    assert_false(sysinsn_hooked(&zi, HOOK_CLASS_IRET | HOOK_CLASS_PUSHF_POPF));
  }
}

static void sysinsn_near_jmp_call_never_hooked(void **state)
{
  (void)state;
  static const uint8_t near_forms[][6] = {
    {0xE9, 0, 0, 0, 0},                  /* JMP rel32 */
    {0xEB, 0},                           /* JMP rel8 */
    {0xE8, 0, 0, 0, 0},                  /* CALL rel32 */
    {0xFF, 0xE0},                        /* JMP EAX (FF /4) */
    {0xFF, 0xD0},                        /* CALL EAX (FF /2) */
    {0xFF, 0x25, 0, 0x10, 0, 0},         /* JMP m32 (FF /4) */
  };
  for (size_t i = 0; i < sizeof near_forms / sizeof near_forms[0]; i++) {
    ZydisDecodedInstruction zi = decode32(near_forms[i], sizeof near_forms[i]);
    assert_false(sysinsn_hooked(&zi, ~0u));
  }
}

/* ICEBP (F1) is the model's in every mode: Unicorn would decode it as
 * invalid (#UD), where the processor raises a #DB trap (SDM Vol. 2,
 * "INT n/INTO/INT3/INT1"); INT 1 (CD 01) and INT3 stay Unicorn's. */
static void sysinsn_icebp_always_hooked_with_its_handler(void **state)
{
  (void)state;
  static const uint8_t icebp[] = {0xF1}, int_1[] = {0xCD, 0x01}, int3[] = {0xCC};
  ZydisDecodedInstruction zi = decode32(icebp, sizeof icebp);
  assert_true(sysinsn_hooked(&zi, 0));
  struct insn in = {.zi = zi};
  assert_ptr_equal(sysinsn_handler(&in), insn_icebp);
  zi = decode32(int_1, sizeof int_1);
  assert_false(sysinsn_hooked(&zi, ~0u));
  zi = decode32(int3, sizeof int3);
  assert_false(sysinsn_hooked(&zi, ~0u));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sysinsn_far_jmp_call_hooked_only_with_their_class),
    cmocka_unit_test(sysinsn_near_jmp_call_never_hooked),
    cmocka_unit_test(sysinsn_icebp_always_hooked_with_its_handler),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
