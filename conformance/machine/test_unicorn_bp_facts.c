/* Facts about Unicorn 2.1 that the machine's hardware breakpoints rely on
 * (sim/debug_bp.h, docs/vmx.md "Data breakpoints in Unicorn 2.1.1"),
 * measured on plain Unicorn in 64-bit mode with a virtual-TLB fill hook.
 * If an update changes one, this test fails and sim/debug_bp.c must be
 * revisited:
 * - memory hooks receive the physical address the fill gave, not the
 *   linear one (so watched linear pages go through alias windows);
 * - uc_emu_stop inside a memory hook leaves the translation block right
 *   after the access, with the rest of the instruction undone (so the stop
 *   waits for the next instruction's code hook);
 * - a code hook that stops Unicorn does so before its instruction runs,
 *   after the hooks added before it at that address ran (so an
 *   intercepted instruction is held by its own hook);
 * - an exit address stops Unicorn before the instruction there and before
 *   its code hooks, also when the run starts at it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <unicorn/unicorn.h>

#define CODE 0x1000ull
#define WATCH_LA 0x7000ull   /* linear page the fill maps to ... */
#define WATCH_PA 0x3000ull   /* ... this physical page */

static uint8_t ram[0x10000];

struct run {
  uc_engine *uc;
  unsigned mem_hits, code_hooks, insn_hooks;
  uint64_t mem_addr, stop_at;
  bool stop_in_mem_at_3003, stop_in_code;
};

static bool fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *user)
{
  (void)uc; (void)type; (void)user;
  e->paddr = (va & ~0xfffull) == WATCH_LA ? WATCH_PA : va & ~0xfffull;
  e->perms = UC_PROT_ALL;
  return true;
}

static void on_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
  (void)type; (void)size; (void)value;
  struct run *r = user;
  r->mem_hits++;
  r->mem_addr = addr;
  if (r->stop_in_mem_at_3003 && addr == WATCH_PA + 3) uc_emu_stop(uc);
}

static void on_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)size;
  struct run *r = user;
  r->code_hooks++;
  if (r->stop_in_code && r->mem_hits && !r->stop_at) {
    r->stop_at = address;
    uc_emu_stop(uc);
  }
}

static void on_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
  (void)uc; (void)address; (void)size;
  ((struct run *)user)->insn_hooks++;
}

static struct run *start(const uint8_t *code, size_t len)
{
  static struct run r;
  r = (struct run){0};
  memset(ram, 0, sizeof ram);
  memcpy(ram + CODE, code, len);
  assert_int_equal(uc_open(UC_ARCH_X86, UC_MODE_64, &r.uc), UC_ERR_OK);
  assert_int_equal(uc_mem_map_ptr(r.uc, 0, sizeof ram, UC_PROT_ALL, ram), UC_ERR_OK);
  uc_ctl_tlb_mode(r.uc, UC_TLB_VIRTUAL);
  uc_hook h;
  assert_int_equal(uc_hook_add(r.uc, &h, UC_HOOK_TLB_FILL, (void *)fill, &r, 1, 0), UC_ERR_OK);
  uint64_t rsp = 0x9000;
  uc_reg_write(r.uc, UC_X86_REG_RSP, &rsp);
  return &r;
}

static uint64_t reg(struct run *r, int id)
{
  uint64_t v = 0;
  uc_reg_read(r->uc, id, &v);
  return v;
}

/* mov dword [WATCH_LA + 2], 0x55 ; cpuid ; nop */
static const uint8_t store_cpuid[] = {0xc7, 0x04, 0x25, 0x02, 0x70, 0x00, 0x00, 0x55, 0, 0, 0, 0x0f, 0xa2, 0x90};
#define CPUID_AT (CODE + 11)

static void unicorn_memory_hook_gets_the_physical_address(void **state)
{
  (void)state;
  struct run *r = start(store_cpuid, sizeof store_cpuid);
  uc_hook h;
  uc_hook_add(r->uc, &h, UC_HOOK_MEM_WRITE, (void *)on_mem, r, 1, 0);
  assert_int_equal(uc_emu_start(r->uc, CODE, CPUID_AT, 0, 0), UC_ERR_OK);
  assert_int_equal(r->mem_hits, 1);
  assert_int_equal(r->mem_addr, WATCH_PA + 2);
  uc_close(r->uc);
}

static void unicorn_stop_in_memory_hook_leaves_rep_iteration_undone(void **state)
{
  (void)state;
  static const uint8_t rep_stosb[] = {0xf3, 0xaa, 0x90};
  struct run *r = start(rep_stosb, sizeof rep_stosb);
  uc_hook h;
  uc_hook_add(r->uc, &h, UC_HOOK_MEM_WRITE, (void *)on_mem, r, 1, 0);
  r->stop_in_mem_at_3003 = true;
  uint64_t rcx = 8, rdi = WATCH_PA;
  uc_reg_write(r->uc, UC_X86_REG_RCX, &rcx);
  uc_reg_write(r->uc, UC_X86_REG_RDI, &rdi);
  assert_int_equal(uc_emu_start(r->uc, CODE, CODE + sizeof rep_stosb, 0, 0), UC_ERR_OK);
  assert_int_equal(r->mem_hits, 4);                            /* the fourth store ran ... */
  assert_int_equal(reg(r, UC_X86_REG_RCX), 5);                 /* ... RCX and RDI of the third */
  assert_int_equal(reg(r, UC_X86_REG_RDI), WATCH_PA + 3);
  uc_close(r->uc);
}

static void unicorn_code_hook_stop_comes_after_earlier_hooks(void **state)
{
  (void)state;
  struct run *r = start(store_cpuid, sizeof store_cpuid);
  uc_hook h;
  uc_hook_add(r->uc, &h, UC_HOOK_CODE, (void *)on_insn, r, CPUID_AT, CPUID_AT);   /* added first */
  uc_hook_add(r->uc, &h, UC_HOOK_MEM_WRITE, (void *)on_mem, r, 1, 0);
  uc_hook_add(r->uc, &h, UC_HOOK_CODE, (void *)on_code, r, 1, 0);
  r->stop_in_code = true;
  uint64_t rax = 0x12345;
  uc_reg_write(r->uc, UC_X86_REG_RAX, &rax);
  assert_int_equal(uc_emu_start(r->uc, CODE, CODE + sizeof store_cpuid, 0, 0), UC_ERR_OK);
  assert_int_equal(r->stop_at, CPUID_AT);
  assert_int_equal(reg(r, UC_X86_REG_RIP), CPUID_AT);
  assert_int_equal(reg(r, UC_X86_REG_RAX), 0x12345);           /* CPUID did not run */
  assert_int_equal(r->insn_hooks, 1);                           /* the earlier hook did */
  uc_close(r->uc);
}

static void unicorn_exit_stops_before_instruction_and_its_hooks(void **state)
{
  (void)state;
  struct run *r = start(store_cpuid, sizeof store_cpuid);
  uc_hook h;
  uc_hook_add(r->uc, &h, UC_HOOK_CODE, (void *)on_insn, r, CPUID_AT, CPUID_AT);
  uc_ctl_exits_enable(r->uc);
  uint64_t exits[2] = {0x8000000000000000ull, CPUID_AT};
  assert_int_equal(uc_ctl_set_exits(r->uc, exits, 2), UC_ERR_OK);
  assert_int_equal(uc_emu_start(r->uc, CODE, 0, 0, 0), UC_ERR_OK);
  assert_int_equal(reg(r, UC_X86_REG_RIP), CPUID_AT);
  assert_int_equal(r->insn_hooks, 0);
  assert_int_equal(uc_emu_start(r->uc, CPUID_AT, 0, 0, 0), UC_ERR_OK);
  assert_int_equal(reg(r, UC_X86_REG_RIP), CPUID_AT);
  assert_int_equal(r->insn_hooks, 0);
  uc_close(r->uc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(unicorn_memory_hook_gets_the_physical_address),
    cmocka_unit_test(unicorn_stop_in_memory_hook_leaves_rep_iteration_undone),
    cmocka_unit_test(unicorn_code_hook_stop_comes_after_earlier_hooks),
    cmocka_unit_test(unicorn_exit_stops_before_instruction_and_its_hooks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
