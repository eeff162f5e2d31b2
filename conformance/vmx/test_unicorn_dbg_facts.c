/* Facts about Unicorn 2.1 that the VMX extension's debug-exception and
 * monitor-trap-flag code relies on (docs/vmx.md, "Debug traps and MTF" and
 * the REP-string paragraph), measured on plain Unicorn in 64-bit mode. If
 * a Unicorn update changes one of them, this test fails and the
 * compensation in sim/vmx_exits.c must be revisited:
 * - no data-breakpoint #DB: a DR7 written through uc_reg_write arms
 *   nothing, and a watchpoint armed by a native MOV to DR7 never fires
 *   (so the machine raises breakpoint #DBs itself: sim/debug_bp.c);
 * - QEMU's single step sets Bn in DR6 for a breakpoint of type
 *   "instruction" (R/Wn = 00) whose address is the next RIP, even when it
 *   is not enabled (vmx_debug_trap_conditions drops it);
 * - with an instruction count of 1, REP STOSB runs one iteration per
 *   start and leaves RIP at the instruction after the last one, until an
 *   extra start that stores nothing (complete_rep_iterations).
 * (An instruction breakpoint armed by a native MOV to DR7 crashes Unicorn:
 * not run here; the machine never arms one, its MOV to DR7 goes through
 * the API.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unicorn/unicorn.h>

#define CODE 0x1000ull
#define DATA 0x3000ull
#define DR6_INIT 0xFFFF0FF0ull
#define DR6_BS 0x4000ull
#define RFLAGS_TF 0x100ull
/* L0, R/W0 = 01 (data writes), LEN0 = 11 (4 bytes). */
#define DR7_WRITE_BP0 (0x400ull | 0x1 | 1ull << 16 | 3ull << 18)

struct run {
  uc_engine *uc;
  unsigned debug_traps;
};

static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
  struct run *r = user;
  if (intno == 1) r->debug_traps++;
  uc_emu_stop(uc);
}

static struct run *start(const uint8_t *code, size_t len)
{
  static struct run r;
  r = (struct run){ 0 };
  assert_int_equal(uc_open(UC_ARCH_X86, UC_MODE_64, &r.uc), UC_ERR_OK);
  assert_int_equal(uc_mem_map(r.uc, CODE, 0x4000, UC_PROT_ALL), UC_ERR_OK);
  assert_int_equal(uc_mem_write(r.uc, CODE, code, len), UC_ERR_OK);
  uc_hook h;
  assert_int_equal(uc_hook_add(r.uc, &h, UC_HOOK_INTR, (void *)on_intr, &r, 1, 0), UC_ERR_OK);
  uint64_t rsp = CODE + 0x3800, dr6 = DR6_INIT, dr0 = DATA, rflags = 2;
  uc_reg_write(r.uc, UC_X86_REG_RSP, &rsp);
  uc_reg_write(r.uc, UC_X86_REG_DR6, &dr6);
  uc_reg_write(r.uc, UC_X86_REG_DR0, &dr0);
  uc_reg_write(r.uc, UC_X86_REG_EFLAGS, &rflags);
  return &r;
}

static uint64_t reg(struct run *r, int id)
{
  uint64_t v = 0;
  uc_reg_read(r->uc, id, &v);
  return v;
}

/* mov dword [DATA], 0x55 ; nop */
static const uint8_t store[] = { 0xc7, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, 0x55, 0x00, 0x00, 0x00, 0x90 };

static void unicorn_data_breakpoint_through_api_raises_nothing(void **state)
{
  (void)state;
  struct run *r = start(store, sizeof store);
  uint64_t dr7 = DR7_WRITE_BP0;
  uc_reg_write(r->uc, UC_X86_REG_DR7, &dr7);
  assert_int_equal(uc_emu_start(r->uc, CODE, CODE + sizeof store, 0, 0), UC_ERR_OK);
  assert_int_equal(r->debug_traps, 0);
  assert_int_equal(reg(r, UC_X86_REG_DR6), DR6_INIT);
  uc_close(r->uc);
}

static void unicorn_data_breakpoint_armed_natively_raises_nothing(void **state)
{
  (void)state;
  /* mov rax, DR7_WRITE_BP0 ; mov dr7, rax ; then the store */
  uint8_t code[13 + sizeof store] = { 0x48, 0xb8 };
  for (int i = 0; i < 8; i++) code[2 + i] = (uint8_t)(DR7_WRITE_BP0 >> (8 * i));
  code[10] = 0x0f, code[11] = 0x23, code[12] = 0xf8;
  for (size_t i = 0; i < sizeof store; i++) code[13 + i] = store[i];
  struct run *r = start(code, sizeof code);
  assert_int_equal(uc_emu_start(r->uc, CODE, CODE + sizeof code, 0, 0), UC_ERR_OK);
  assert_int_equal(reg(r, UC_X86_REG_DR7) & 0xFFFFF, DR7_WRITE_BP0 & 0xFFFFF);   /* armed */
  assert_int_equal(r->debug_traps, 0);
  assert_int_equal(reg(r, UC_X86_REG_DR6), DR6_INIT);
  uc_close(r->uc);
}

static void unicorn_single_step_reports_instruction_breakpoint_at_next_rip(void **state)
{
  (void)state;
  static const uint8_t nops[] = { 0x90, 0x90 };
  struct run *r = start(nops, sizeof nops);
  uint64_t dr0 = CODE + 1, dr7 = 0x400, rflags = 2 | RFLAGS_TF;
  uc_reg_write(r->uc, UC_X86_REG_DR0, &dr0);
  uc_reg_write(r->uc, UC_X86_REG_DR7, &dr7);
  uc_reg_write(r->uc, UC_X86_REG_EFLAGS, &rflags);
  uc_emu_start(r->uc, CODE, CODE + sizeof nops, 0, 0);
  assert_int_equal(r->debug_traps, 1);
  assert_int_equal(reg(r, UC_X86_REG_RIP), CODE + 1);
  assert_int_equal(reg(r, UC_X86_REG_DR6), DR6_INIT | DR6_BS | 0x1);
  uc_close(r->uc);
}

static void unicorn_rep_stosb_one_iteration_per_count_of_one(void **state)
{
  (void)state;
  static const uint8_t rep_stosb[] = { 0xf3, 0xaa, 0x90 };
  struct run *r = start(rep_stosb, sizeof rep_stosb);
  uint64_t rcx = 2, rdi = DATA, rip = CODE;
  uc_reg_write(r->uc, UC_X86_REG_RCX, &rcx);
  uc_reg_write(r->uc, UC_X86_REG_RDI, &rdi);
  uint64_t expect_rcx[] = { 1, 0, 0 }, expect_rdi[] = { DATA + 1, DATA + 2, DATA + 2 };
  uint64_t expect_rip[] = { CODE, CODE, CODE + 2 };
  for (int i = 0; i < 3; i++) {
    assert_int_equal(uc_emu_start(r->uc, rip, CODE + sizeof rep_stosb, 0, 1), UC_ERR_OK);
    rip = reg(r, UC_X86_REG_RIP);
    assert_int_equal(rip, expect_rip[i]);
    assert_int_equal(reg(r, UC_X86_REG_RCX), expect_rcx[i]);
    assert_int_equal(reg(r, UC_X86_REG_RDI), expect_rdi[i]);
  }
  uc_close(r->uc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(unicorn_data_breakpoint_through_api_raises_nothing),
    cmocka_unit_test(unicorn_data_breakpoint_armed_natively_raises_nothing),
    cmocka_unit_test(unicorn_single_step_reports_instruction_breakpoint_at_next_rip),
    cmocka_unit_test(unicorn_rep_stosb_one_iteration_per_count_of_one),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
