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

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(sysinsn_far_jmp_call_hooked_only_with_their_class),
    cmocka_unit_test(sysinsn_near_jmp_call_never_hooked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
