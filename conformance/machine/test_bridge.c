/* The state bridge's ways into Unicorn (sim/uc_bridge.c) on the Unicorn
 * this tree builds with: every one it looks for at start-up is found, a
 * redirect from a code hook goes on at the new RIP inside the same run
 * without running what it skips, and a uc_emu_stop from a hook that
 * redirected still stops the run (a RIP write through the API cancels
 * it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <unicorn/unicorn.h>

#include "sim/uc_bridge.h"

#define RAM (2u << 20)
#define CODE 0x1000u

struct rig { uc_engine *uc; uint8_t *ram; struct uc_bridge b; int ran[8]; bool stop_after_redirect; };

static int rig_setup(void **state)
{
  struct rig *r = calloc(1, sizeof *r);
  r->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_int_equal(uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc), UC_ERR_OK);
  assert_int_equal(uc_mem_map_ptr(r->uc, 0, RAM, UC_PROT_ALL, r->ram), UC_ERR_OK);
  char err[256] = "";
  assert_true(uc_bridge_init(&r->b, r->uc, r->ram, 0, err, sizeof err));
  *state = r;
  return 0;
}

static int rig_teardown(void **state)
{
  struct rig *r = *state;
  uc_close(r->uc);
  munmap(r->ram, RAM);
  free(r);
  return 0;
}

static void count(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)uc; (void)size;
  struct rig *r = user;
  r->ran[address - CODE]++;
}

/* At CODE: skip the next instruction (one-byte NOPs). */
static void redirect_past_next(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)size;
  struct rig *r = user;
  r->ran[address - CODE]++;
  uc_bridge_redirect(&r->b, address + 2);
  if (r->stop_after_redirect) uc_emu_stop(uc);
}

static void run_nops(struct rig *r)
{
  memset(r->ram + CODE, 0x90, 8);
  uc_hook h[3];
  uc_hook_add(r->uc, &h[0], UC_HOOK_CODE, (void *)redirect_past_next, r, CODE, CODE);
  uc_hook_add(r->uc, &h[1], UC_HOOK_CODE, (void *)count, r, CODE + 1, CODE + 1);
  uc_hook_add(r->uc, &h[2], UC_HOOK_CODE, (void *)count, r, CODE + 2, CODE + 2);
  uc_emu_start(r->uc, CODE, CODE + 4, 0, 0);
  for (int i = 0; i < 3; i++) uc_hook_del(r->uc, h[i]);
}

static void bridge_finds_exit_word(void **state)
{
  struct rig *r = *state;
  assert_true(r->b.exit_word < 0);   /* below the CPU state */
}

static void bridge_redirect_skips_and_goes_on(void **state)
{
  struct rig *r = *state;
  run_nops(r);
  assert_int_equal(r->ran[0], 1);
  assert_int_equal(r->ran[1], 0);   /* skipped */
  assert_int_equal(r->ran[2], 1);   /* and the run went on from there */
  assert_int_equal(uc_bridge_rip(&r->b), CODE + 4);
}

static void bridge_redirect_keeps_a_stop(void **state)
{
  struct rig *r = *state;
  r->stop_after_redirect = true;
  run_nops(r);
  assert_int_equal(r->ran[0], 1);
  assert_int_equal(r->ran[1], 0);
  assert_int_equal(r->ran[2], 0);   /* stopped before it */
  assert_int_equal(uc_bridge_rip(&r->b), CODE + 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(bridge_finds_exit_word, rig_setup, rig_teardown),
    cmocka_unit_test_setup_teardown(bridge_redirect_skips_and_goes_on, rig_setup, rig_teardown),
    cmocka_unit_test_setup_teardown(bridge_redirect_keeps_a_stop, rig_setup, rig_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
