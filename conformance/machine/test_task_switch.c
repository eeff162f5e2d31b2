/* The task-switch rules of sim/task_switch.c (SDM Vol. 3A, chapter "Task
 * Management": "Task Switching", "Task Linking", table "Exception
 * Conditions Checked During a Task Switch"): every check with a passing
 * and a failing case, its fault and error code (EXT included), whether it
 * comes before the commit point (state untouched) or after it (in the new
 * task), and the effects on busy bits, NT, the back link, CR0.TS, DR7,
 * CR3, the segment registers and the error code pushed on the new stack.
 * Memory is a flat array addressed linearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/task_switch.h"

/* ---- a small machine: GDT, two 32-bit TSSs, a 16-bit TSS, an LDT ---- */

#define MEM_SIZE 0x20000u
#define GDT      0x1000u
#define TSS_A    0x3000u   /* the current task */
#define TSS_B    0x4000u   /* the target */
#define TSS_C    0x6000u   /* a 16-bit TSS */
#define LDT_BASE 0x5000u
#define STACK_B  0x9000u

enum {
  SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS_A = 0x18, SEL_TSS_B = 0x20, SEL_LDT = 0x28, SEL_CODE3 = 0x30,
  SEL_DATA3 = 0x38, SEL_TSS_C = 0x40, SEL_TSS_NP = 0x48, SEL_TSS_SHORT = 0x50, SEL_CODE_NP = 0x58,
  SEL_DATA_NP = 0x60, SEL_DATA_RO = 0x68, SEL_CODE_XO = 0x70, SEL_CODE_CONF = 0x78, SEL_CODE_SMALL = 0x80,
  SEL_DATA16 = 0x88, GDT_LIMIT = 0x8F, SEL_BEYOND = 0x90,
};

struct fx {
  uint8_t mem[MEM_SIZE];
  uint64_t fault_lo, fault_hi;     /* accesses touching [lo, hi) fail */
  bool cr3_ok;
  unsigned cr3_loads;
  struct cpu_state s;
  struct ts_mem io;
};

static bool touches(const struct fx *x, uint64_t la, unsigned len) { return la < x->fault_hi && la + len > x->fault_lo; }

static bool rd(void *ctx, uint64_t la, void *buf, unsigned len)
{
  struct fx *x = ctx;
  if (la + len > MEM_SIZE || touches(x, la, len)) return false;
  memcpy(buf, x->mem + la, len);
  return true;
}

static bool wr(void *ctx, uint64_t la, const void *buf, unsigned len)
{
  struct fx *x = ctx;
  if (la + len > MEM_SIZE || touches(x, la, len)) return false;
  memcpy(x->mem + la, buf, len);
  return true;
}

static bool cr3(void *ctx, struct cpu_state *s, uint64_t v)
{
  struct fx *x = ctx;
  x->cr3_loads++;
  if (!x->cr3_ok) return false;
  s->cr3 = v;
  return true;
}

static void put16(struct fx *x, uint32_t a, uint16_t v) { memcpy(x->mem + a, &v, 2); }
static void put32(struct fx *x, uint32_t a, uint32_t v) { memcpy(x->mem + a, &v, 4); }
static void put64(struct fx *x, uint32_t a, uint64_t v) { memcpy(x->mem + a, &v, 8); }
static uint16_t get16(const struct fx *x, uint32_t a) { uint16_t v; memcpy(&v, x->mem + a, 2); return v; }
static uint32_t get32(const struct fx *x, uint32_t a) { uint32_t v; memcpy(&v, x->mem + a, 4); return v; }

/* A system descriptor (TSS, LDT) of `type` at `base` with `limit`. */
static uint64_t sysdesc(uint32_t base, uint32_t limit, unsigned type, bool present)
{
  return (limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 | (uint64_t)((present ? 0x80 : 0) | type) << 40 |
         (uint64_t)(limit >> 16 & 0xF) << 48 | (uint64_t)(base >> 24) << 56;
}

static void set_gdt(struct fx *x, uint16_t sel, uint64_t d) { put64(x, GDT + (sel & ~7u), d); }
static uint8_t gdt_type(const struct fx *x, uint16_t sel) { return x->mem[GDT + (sel & ~7u) + 5]; }

static struct fx *fixture(void)
{
  struct fx *x = test_calloc(1, sizeof *x);
  x->fault_lo = x->fault_hi = 0;
  x->cr3_ok = true;
  x->io = (struct ts_mem){.read = rd, .write = wr, .load_cr3 = cr3, .ctx = x};
  set_gdt(x, SEL_CODE, 0x00CF9A000000FFFFull);
  set_gdt(x, SEL_DATA, 0x00CF92000000FFFFull);
  set_gdt(x, SEL_TSS_A, sysdesc(TSS_A, 0x67, TS_TYPE_TSS32_BUSY, true));
  set_gdt(x, SEL_TSS_B, sysdesc(TSS_B, 0x67, TS_TYPE_TSS32_AVAILABLE, true));
  set_gdt(x, SEL_LDT, sysdesc(LDT_BASE, 0x17, TS_TYPE_LDT, true));
  set_gdt(x, SEL_CODE3, 0x00CFFA000000FFFFull);
  set_gdt(x, SEL_DATA3, 0x00CFF2000000FFFFull);
  set_gdt(x, SEL_TSS_C, sysdesc(TSS_C, 0x2B, TS_TYPE_TSS16_AVAILABLE, true));
  set_gdt(x, SEL_TSS_NP, sysdesc(TSS_B, 0x67, TS_TYPE_TSS32_AVAILABLE, false));
  set_gdt(x, SEL_TSS_SHORT, sysdesc(TSS_B, 0x66, TS_TYPE_TSS32_AVAILABLE, true));
  set_gdt(x, SEL_CODE_NP, 0x00CF1A000000FFFFull);
  set_gdt(x, SEL_DATA_NP, 0x00CF12000000FFFFull);
  set_gdt(x, SEL_DATA_RO, 0x00CF90000000FFFFull);
  set_gdt(x, SEL_CODE_XO, 0x00CF98000000FFFFull);
  set_gdt(x, SEL_CODE_CONF, 0x00CF9E000000FFFFull);
  set_gdt(x, SEL_CODE_SMALL, 0x00409A0000000FFFull);   /* limit 0FFFH, byte granular */
  set_gdt(x, SEL_DATA16, 0x000092000000FFFFull);       /* a 16-bit stack */
  /* An LDT with one data segment (selector 0x0C | RPL). */
  put64(x, LDT_BASE + 8, 0x00CF92000000FFFFull);

  /* TSS B: the new task. */
  put32(x, TSS_B + TSS32_EIP, 0x5555);
  put32(x, TSS_B + TSS32_EFLAGS, 0x2 | 0x1 | 0x40);  /* CF, ZF */
  for (int i = 0; i < 8; i++) put32(x, TSS_B + TSS32_EAX + 4 * i, 0xB0000000u + i);
  put32(x, TSS_B + TSS32_EAX + 4 * GPR_RSP, STACK_B);
  put16(x, TSS_B + TSS32_ES, SEL_DATA);
  put16(x, TSS_B + TSS32_CS, SEL_CODE);
  put16(x, TSS_B + TSS32_SS, SEL_DATA);
  put16(x, TSS_B + TSS32_DS, SEL_DATA);
  put16(x, TSS_B + TSS32_FS, SEL_DATA);
  put16(x, TSS_B + TSS32_GS, SEL_DATA);
  put32(x, TSS_B + TSS32_CR3, 0x7000);
  /* A reserved upper half of a selector slot in the old TSS. */
  put16(x, TSS_A + TSS32_CS + 2, 0xBEEF);

  /* The current task: flat ring 0, TR = TSS A. */
  struct cpu_state *s = &x->s;
  s->cr0 = CR0_PE | CR0_ET;
  s->rip = 0x1234;
  s->rflags = RFLAGS_FIXED1 | RFLAGS_IF;
  for (int i = 0; i < 8; i++) s->gpr[i] = 0xA0000000u + i;
  s->gdtr = (struct dtable){GDT, GDT_LIMIT};
  struct segment code = {SEL_CODE, 0, 0xFFFFFFFF, 0xC09B}, data = {SEL_DATA, 0, 0xFFFFFFFF, 0xC093};
  s->seg[SEG_CS] = code;
  s->seg[SEG_SS] = s->seg[SEG_DS] = s->seg[SEG_ES] = s->seg[SEG_FS] = s->seg[SEG_GS] = data;
  s->seg[SEG_LDTR] = (struct segment){.ar = SEG_AR_UNUSABLE};
  s->seg[SEG_TR] = (struct segment){SEL_TSS_A, TSS_A, 0x67, 0x8B};
  s->dr[7] = 0x400 | 0x155 | 0xAA;   /* local and global enables */
  return x;
}

static int setup(void **state) { *state = fixture(); return 0; }
static int teardown(void **state) { test_free(*state); return 0; }

/* The switch of an event through a task gate to `sel`, both steps. */
static enum ts_outcome via_gate(struct fx *x, uint16_t sel, bool ext, bool push, uint32_t err, struct ts_fault *f,
                                bool *trap)
{
  struct ts_target t;
  enum ts_outcome o = task_switch_check_target(&x->s, &x->io, sel, TS_FROM_INT, ext, &t, f);
  if (o != TS_DONE) return o;
  struct ts_event ev = {.ext = ext, .push_error = push, .error = err};
  return task_switch(&x->s, &x->io, &t, TS_FROM_INT, &ev, f, trap);
}

static void expect_fault(enum ts_outcome got, enum ts_outcome want, const struct ts_fault *f, uint8_t vector,
                         uint32_t error)
{
  assert_int_equal(got, want);
  assert_false(f->memory);
  assert_int_equal(f->vector, vector);
  assert_int_equal(f->error, error);
}

/* ---- the target checks (before anything changes) ---- */

static void task_switch_target_available_tss_passes(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_INT, false, &t, &f), TS_DONE);
  assert_int_equal(t.selector, SEL_TSS_B);
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_C, TS_FROM_INT, false, &t, &f), TS_DONE);
}

static void task_switch_target_ldt_selector_gp(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_B | 4, TS_FROM_INT, false, &t, &f), TS_FAULT, &f,
               13, SEL_TSS_B | 4);
  /* EXT in bit 0 for an event external to the program. */
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_B | 4, TS_FROM_INT, true, &t, &f), TS_FAULT, &f,
               13, SEL_TSS_B | 4 | 1);
}

static void task_switch_target_beyond_gdt_limit_gp(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_BEYOND, TS_FROM_INT, false, &t, &f), TS_FAULT, &f, 13, SEL_BEYOND);
  /* IRET reports it as #TS. */
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_BEYOND, TS_FROM_IRET, false, &t, &f), TS_FAULT, &f, 10, SEL_BEYOND);
}

static void task_switch_target_busy_or_not_tss_gp(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  /* The current (busy) task, a code segment, an LDT: #GP(selector). */
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_A, TS_FROM_INT, false, &t, &f), TS_FAULT, &f, 13,
               SEL_TSS_A);
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_CODE, TS_FROM_CALL, false, &t, &f), TS_FAULT, &f, 13,
               SEL_CODE);
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_LDT, TS_FROM_JMP, true, &t, &f), TS_FAULT, &f, 13,
               SEL_LDT | 1);
}

static void task_switch_target_iret_needs_busy_ts(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_IRET, false, &t, &f), TS_FAULT, &f, 10,
               SEL_TSS_B);
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_A, TS_FROM_IRET, false, &t, &f), TS_DONE);
}

static void task_switch_target_not_present_np(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_NP, TS_FROM_INT, true, &t, &f), TS_FAULT, &f, 11,
               SEL_TSS_NP | 1);
}

static void task_switch_target_limit_below_minimum_ts(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_SHORT, TS_FROM_INT, false, &t, &f), TS_FAULT, &f,
               10, SEL_TSS_SHORT);
  /* A 16-bit TSS needs 2BH: 2AH is #TS, 2BH passed above. */
  set_gdt(x, SEL_TSS_C, sysdesc(TSS_C, 0x2A, TS_TYPE_TSS16_AVAILABLE, true));
  expect_fault(task_switch_check_target(&x->s, &x->io, SEL_TSS_C, TS_FROM_INT, false, &t, &f), TS_FAULT, &f, 10,
               SEL_TSS_C);
}

static void task_switch_target_unreadable_descriptor_is_memory_fault(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  x->fault_lo = GDT + SEL_TSS_B;
  x->fault_hi = x->fault_lo + 8;
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_INT, false, &t, &f), TS_FAULT);
  assert_true(f.memory);
}

/* ---- the switch: effects ---- */

static void task_switch_int_saves_old_and_loads_new(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  const struct cpu_state *s = &x->s;
  /* The old task's dynamic fields, the reserved upper half kept. */
  assert_int_equal(get32(x, TSS_A + TSS32_EIP), 0x1234);
  assert_int_equal(get32(x, TSS_A + TSS32_EFLAGS), RFLAGS_FIXED1 | RFLAGS_IF);
  for (int i = 0; i < 8; i++) assert_int_equal(get32(x, TSS_A + TSS32_EAX + 4 * i), 0xA0000000u + i);
  assert_int_equal(get16(x, TSS_A + TSS32_CS), SEL_CODE);
  assert_int_equal(get16(x, TSS_A + TSS32_CS + 2), 0xBEEF);
  assert_int_equal(get16(x, TSS_A + TSS32_GS), SEL_DATA);
  /* The new task's registers; EIP, GPRs, EFLAGS with NT (nesting). */
  assert_int_equal(s->rip, 0x5555);
  assert_int_equal(s->rflags, 0x2 | 0x1 | 0x40 | RFLAGS_NT);
  assert_int_equal(s->gpr[GPR_RAX], 0xB0000000u);
  assert_int_equal(s->gpr[GPR_RSP], STACK_B);
  assert_int_equal(s->gpr[GPR_RDI], 0xB0000007u);
  assert_int_equal(s->seg[SEG_CS].selector, SEL_CODE);
  assert_int_equal(s->seg[SEG_CS].ar, 0xC09B);   /* accessed */
  assert_int_equal(s->seg[SEG_SS].limit, 0xFFFFFFFF);
  assert_true(s->seg[SEG_LDTR].ar & SEG_AR_UNUSABLE);
  assert_int_equal(cpu_cpl(s), 0);
  /* TR: the new TSS, busy. */
  assert_int_equal(s->seg[SEG_TR].selector, SEL_TSS_B);
  assert_int_equal(s->seg[SEG_TR].base, TSS_B);
  assert_int_equal(SEG_AR_TYPE(s->seg[SEG_TR].ar), TS_TYPE_TSS32_BUSY);
  assert_false(trap);
}

static void task_switch_int_busy_bits_link_and_nt(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  /* "Task Linking": the new task's link names the old one; both busy. */
  assert_int_equal(get16(x, TSS_B + TSS32_LINK), SEL_TSS_A);
  assert_int_equal(gdt_type(x, SEL_TSS_B), 0x80 | TS_TYPE_TSS32_BUSY);
  assert_int_equal(gdt_type(x, SEL_TSS_A), 0x80 | TS_TYPE_TSS32_BUSY);
  assert_true(x->s.rflags & RFLAGS_NT);
}

static void task_switch_jmp_frees_old_and_links_nothing(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  bool trap;
  put16(x, TSS_B + TSS32_LINK, 0x1111);
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_JMP, false, &t, &f), TS_DONE);
  assert_int_equal(task_switch(&x->s, &x->io, &t, TS_FROM_JMP, &(struct ts_event){0}, &f, &trap), TS_DONE);
  assert_int_equal(gdt_type(x, SEL_TSS_A), 0x80 | TS_TYPE_TSS32_AVAILABLE);
  assert_int_equal(gdt_type(x, SEL_TSS_B), 0x80 | TS_TYPE_TSS32_BUSY);
  assert_int_equal(get16(x, TSS_B + TSS32_LINK), 0x1111);
  assert_false(x->s.rflags & RFLAGS_NT);   /* from the new TSS's EFLAGS */
}

static void task_switch_iret_frees_old_and_clears_saved_nt(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  bool trap;
  set_gdt(x, SEL_TSS_B, sysdesc(TSS_B, 0x67, TS_TYPE_TSS32_BUSY, true));
  x->s.rflags |= RFLAGS_NT;
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_IRET, false, &t, &f), TS_DONE);
  assert_int_equal(task_switch(&x->s, &x->io, &t, TS_FROM_IRET, &(struct ts_event){0}, &f, &trap), TS_DONE);
  assert_int_equal(get32(x, TSS_A + TSS32_EFLAGS), RFLAGS_FIXED1 | RFLAGS_IF);   /* NT cleared in the image */
  assert_int_equal(gdt_type(x, SEL_TSS_A), 0x80 | TS_TYPE_TSS32_AVAILABLE);
  assert_int_equal(gdt_type(x, SEL_TSS_B), 0x80 | TS_TYPE_TSS32_BUSY);
  assert_int_equal(get16(x, TSS_B + TSS32_LINK), 0);
}

static void task_switch_call_keeps_old_busy_and_links(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  bool trap;
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_CALL, false, &t, &f), TS_DONE);
  assert_int_equal(task_switch(&x->s, &x->io, &t, TS_FROM_CALL, &(struct ts_event){0}, &f, &trap), TS_DONE);
  assert_int_equal(gdt_type(x, SEL_TSS_A), 0x80 | TS_TYPE_TSS32_BUSY);
  assert_int_equal(get16(x, TSS_B + TSS32_LINK), SEL_TSS_A);
  assert_true(x->s.rflags & RFLAGS_NT);
}

static void task_switch_fault_saves_rf_in_old_eflags(void **state)
{
  struct fx *x = *state;
  struct ts_target t;
  struct ts_fault f;
  bool trap;
  struct ts_event fault = {.ext = true, .fault = true, .push_error = true, .error = 0x20A};
  assert_int_equal(task_switch_check_target(&x->s, &x->io, SEL_TSS_B, TS_FROM_INT, true, &t, &f), TS_DONE);
  assert_int_equal(task_switch(&x->s, &x->io, &t, TS_FROM_INT, &fault, &f, &trap), TS_DONE);
  assert_int_equal(get32(x, TSS_A + TSS32_EFLAGS), RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_RF);
  /* An interrupt or a trap saves RF as it was (0). */
  struct fx *y = fixture();
  assert_int_equal(via_gate(y, SEL_TSS_B, true, false, 0, &f, &trap), TS_DONE);
  assert_int_equal(get32(y, TSS_A + TSS32_EFLAGS), RFLAGS_FIXED1 | RFLAGS_IF);
  test_free(y);
}

static void task_switch_sets_cr0_ts_and_clears_dr7_local_enables(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  assert_false(x->s.cr0 & CR0_TS);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_true(x->s.cr0 & CR0_TS);
  assert_int_equal(x->s.dr[7], 0x400 | 0xAA);   /* G0-G3 stay */
}

static void task_switch_cr3_loaded_only_with_paging(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_int_equal(x->cr3_loads, 0);   /* paging off: read, not loaded */
  assert_int_equal(x->s.cr3, 0);

  struct fx *y = fixture();
  y->s.cr0 |= CR0_PG;
  assert_int_equal(via_gate(y, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_int_equal(y->cr3_loads, 1);
  assert_int_equal(y->s.cr3, 0x7000);
  test_free(y);
}

static void task_switch_cr3_load_failure_ts0_in_new_task(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  x->s.cr0 |= CR0_PG;
  x->cr3_ok = false;
  expect_fault(via_gate(x, SEL_TSS_B, true, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, 10, 1);
  assert_int_equal(x->s.seg[SEG_TR].selector, SEL_TSS_B);
}

static void task_switch_old_tss_too_short_ts_before_commit(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  x->s.seg[SEG_TR].limit = 0x5E;
  struct cpu_state before = x->s;
  expect_fault(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT, &f, 10, SEL_TSS_A);
  assert_memory_equal(&x->s, &before, sizeof before);
  assert_int_equal(gdt_type(x, SEL_TSS_B), 0x80 | TS_TYPE_TSS32_AVAILABLE);
  /* 5FH holds the dynamic fields. */
  x->s.seg[SEG_TR].limit = 0x5F;
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
}

static void task_switch_unwritable_old_tss_changes_nothing(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  x->fault_lo = TSS_A + TSS32_EIP;
  x->fault_hi = TSS_A + TSS32_EIP + 1;
  struct cpu_state before = x->s;
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT);
  assert_true(f.memory);
  assert_memory_equal(&x->s, &before, sizeof before);
  assert_int_equal(gdt_type(x, SEL_TSS_B), 0x80 | TS_TYPE_TSS32_AVAILABLE);
  assert_int_equal(get16(x, TSS_B + TSS32_LINK), 0);
}

static void task_switch_error_code_pushed_on_new_stack(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  assert_int_equal(via_gate(x, SEL_TSS_B, true, true, 0x20A, &f, &trap), TS_DONE);
  assert_int_equal(x->s.gpr[GPR_RSP], STACK_B - 4);
  assert_int_equal(get32(x, STACK_B - 4), 0x20A);

  /* Without an error code nothing is pushed. */
  struct fx *y = fixture();
  assert_int_equal(via_gate(y, SEL_TSS_B, true, false, 0x20A, &f, &trap), TS_DONE);
  assert_int_equal(y->s.gpr[GPR_RSP], STACK_B);
  test_free(y);
}

static void task_switch_16bit_tss_loads_words_and_pushes_word(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  put16(x, TSS_C + TSS16_IP, 0x777);
  put16(x, TSS_C + TSS16_FLAGS, 0x2);
  put16(x, TSS_C + TSS16_AX, 0x1234);
  put16(x, TSS_C + TSS16_AX + 2 * GPR_RSP, 0x8000);
  put16(x, TSS_C + TSS16_ES, SEL_DATA);
  put16(x, TSS_C + TSS16_CS, SEL_CODE);
  put16(x, TSS_C + TSS16_SS, SEL_DATA16);
  put16(x, TSS_C + TSS16_DS, SEL_DATA);
  put32(x, 0x8000 - 4, 0xFFFFFFFF);
  assert_int_equal(via_gate(x, SEL_TSS_C, false, true, 0x1234, &f, &trap), TS_DONE);
  assert_int_equal(x->s.rip, 0x777);
  assert_int_equal(x->s.gpr[GPR_RAX], 0xFFFF1234u);
  assert_true(x->s.seg[SEG_FS].ar & SEG_AR_UNUSABLE);
  assert_int_equal(get16(x, TSS_C + TSS16_LINK), SEL_TSS_A);
  assert_int_equal(gdt_type(x, SEL_TSS_C), 0x80 | TS_TYPE_TSS16_BUSY);
  /* Two bytes pushed through SS:SP (a 16-bit stack). */
  assert_int_equal(x->s.gpr[GPR_RSP], 0xFFFF8000u - 2);
  assert_int_equal(get32(x, 0x8000 - 4), 0x1234FFFFu);
}

static void task_switch_t_flag_raises_debug_trap(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  put16(x, TSS_B + TSS32_TRAP, 1);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_true(trap);
}

static void task_switch_v86_task_loads_paragraph_segments(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  put32(x, TSS_B + TSS32_EFLAGS, 0x2 | RFLAGS_VM);
  put16(x, TSS_B + TSS32_CS, 0x1234);
  put16(x, TSS_B + TSS32_SS, 0x2000);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_int_equal(x->s.seg[SEG_CS].base, 0x12340);
  assert_int_equal(x->s.seg[SEG_SS].base, 0x20000);
  assert_int_equal(x->s.seg[SEG_CS].limit, 0xFFFF);
  assert_int_equal(cpu_cpl(&x->s), 3);
}

/* ---- faults in the new task: LDT ---- */

static void task_switch_ldt_checks(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  /* A valid LDT loads, and DS may come from it. */
  put16(x, TSS_B + TSS32_LDT, SEL_LDT);
  put16(x, TSS_B + TSS32_DS, 0x0C);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_int_equal(x->s.seg[SEG_LDTR].base, LDT_BASE);
  assert_int_equal(x->s.seg[SEG_DS].selector, 0x0C);

  static const struct { uint16_t ldt; } bad[] = {{SEL_LDT | 4}, {SEL_BEYOND}, {SEL_DATA}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct fx *y = fixture();
    put16(y, TSS_B + TSS32_LDT, bad[i].ldt);
    expect_fault(via_gate(y, SEL_TSS_B, true, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, 10,
                 (bad[i].ldt & 0xFFFC) | 1);
    /* Already the new task: TR, EIP, selectors. */
    assert_int_equal(y->s.seg[SEG_TR].selector, SEL_TSS_B);
    assert_int_equal(y->s.rip, 0x5555);
    assert_int_equal(y->s.seg[SEG_CS].selector, SEL_CODE);
    test_free(y);
  }
  /* An LDT descriptor that is not present is #TS too. */
  struct fx *y = fixture();
  set_gdt(y, SEL_LDT, sysdesc(LDT_BASE, 0x17, TS_TYPE_LDT, false));
  put16(y, TSS_B + TSS32_LDT, SEL_LDT);
  expect_fault(via_gate(y, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, 10, SEL_LDT);
  test_free(y);
}

/* ---- SS ---- */

static void task_switch_ss_checks(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  static const struct { uint16_t ss, cs; uint8_t vector; } bad[] = {
    {0, SEL_CODE, 10},                      /* null */
    {SEL_BEYOND, SEL_CODE, 10},                   /* beyond the GDT */
    {SEL_DATA_RO, SEL_CODE, 10},            /* not writable */
    {SEL_CODE, SEL_CODE, 10},               /* code */
    {SEL_DATA_NP, SEL_CODE, 12},            /* not present: #SS */
    {SEL_DATA3 | 3, SEL_CODE, 10},          /* DPL 3, CS.RPL 0 */
    {SEL_DATA | 3, SEL_CODE | 3, 10},       /* RPL 3, DPL 0 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct fx *y = fixture();
    put16(y, TSS_B + TSS32_SS, bad[i].ss);
    put16(y, TSS_B + TSS32_CS, bad[i].cs);
    expect_fault(via_gate(y, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, bad[i].vector,
                 bad[i].ss & 0xFFFC);
    /* Until SS is loaded the CPL is 3 (a fault's handler switches to a
     * stack from the new TSS). */
    assert_int_equal(cpu_cpl(&y->s), 3);
    test_free(y);
  }
  /* Ring 3: SS DPL 3 with CS RPL 3. */
  put16(x, TSS_B + TSS32_SS, SEL_DATA3 | 3);
  put16(x, TSS_B + TSS32_CS, SEL_CODE3 | 3);
  put16(x, TSS_B + TSS32_DS, SEL_DATA3 | 3);
  put16(x, TSS_B + TSS32_ES, SEL_DATA3 | 3);
  put16(x, TSS_B + TSS32_FS, 0);
  put16(x, TSS_B + TSS32_GS, 0);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_int_equal(cpu_cpl(&x->s), 3);
  assert_true(x->s.seg[SEG_GS].ar & SEG_AR_UNUSABLE);
}

/* ---- DS, ES, FS, GS ---- */

static void task_switch_data_segment_checks(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  static const struct { uint16_t ds; uint8_t vector; } bad[] = {
    {SEL_BEYOND, 10},              /* beyond the GDT */
    {SEL_CODE_XO, 10},       /* execute-only code */
    {SEL_TSS_B, 10},         /* a system segment */
    {SEL_DATA | 3, 10},      /* RPL above DPL */
    {SEL_DATA_NP, 11},       /* not present: #NP */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct fx *y = fixture();
    put16(y, TSS_B + TSS32_DS, bad[i].ds);
    expect_fault(via_gate(y, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, bad[i].vector,
                 bad[i].ds & 0xFFFC);
    assert_int_equal(cpu_cpl(&y->s), 0);   /* SS loaded: the CPL is CS.RPL */
    test_free(y);
  }
  /* Readable code and a conforming code segment pass; CPL above DPL
   * fails for data. */
  put16(x, TSS_B + TSS32_DS, SEL_CODE);
  put16(x, TSS_B + TSS32_ES, SEL_CODE_CONF | 3);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  struct fx *y = fixture();
  put16(y, TSS_B + TSS32_SS, SEL_DATA3 | 3);
  put16(y, TSS_B + TSS32_CS, SEL_CODE3 | 3);
  put16(y, TSS_B + TSS32_ES, SEL_DATA);   /* DPL 0 < CPL 3 */
  expect_fault(via_gate(y, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, 10, SEL_DATA);
  test_free(y);
}

/* ---- CS ---- */

static void task_switch_code_segment_checks(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  static const struct { uint16_t cs; uint8_t vector; } bad[] = {
    {0, 10},                 /* null */
    {SEL_DATA, 10},          /* not code */
    {SEL_CODE3, 10},         /* non-conforming, DPL 3 != RPL 0 */
    {SEL_CODE_NP, 11},       /* not present: #NP */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct fx *y = fixture();
    put16(y, TSS_B + TSS32_CS, bad[i].cs);
    expect_fault(via_gate(y, SEL_TSS_B, true, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, bad[i].vector,
                 (bad[i].cs & 0xFFFC) | 1);
    test_free(y);
  }
  /* A conforming segment: DPL at most the RPL. */
  struct fx *y = fixture();
  put16(y, TSS_B + TSS32_CS, SEL_CODE_CONF);
  assert_int_equal(via_gate(y, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  test_free(y);
  set_gdt(x, SEL_CODE_CONF, 0x00CFFE000000FFFFull);   /* conforming, DPL 3 */
  put16(x, TSS_B + TSS32_CS, SEL_CODE_CONF);
  expect_fault(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, 10, SEL_CODE_CONF);
}

static void task_switch_eip_beyond_cs_limit_gp0(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  put16(x, TSS_B + TSS32_CS, SEL_CODE_SMALL);
  put32(x, TSS_B + TSS32_EIP, 0xFFF);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  struct fx *y = fixture();
  put16(y, TSS_B + TSS32_CS, SEL_CODE_SMALL);
  put32(y, TSS_B + TSS32_EIP, 0x1000);
  expect_fault(via_gate(y, SEL_TSS_B, true, false, 0, &f, &trap), TS_FAULT_IN_NEW_TASK, &f, 13, 1);
  test_free(y);
}

static void task_switch_sets_accessed_bits_of_loaded_segments(void **state)
{
  struct fx *x = *state;
  struct ts_fault f;
  bool trap;
  /* The fixture's descriptors are not accessed yet. */
  assert_false(gdt_type(x, SEL_DATA) & 1);
  assert_int_equal(via_gate(x, SEL_TSS_B, false, false, 0, &f, &trap), TS_DONE);
  assert_true(gdt_type(x, SEL_DATA) & 1);
  assert_true(gdt_type(x, SEL_CODE) & 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    T(task_switch_target_available_tss_passes),
    T(task_switch_target_ldt_selector_gp),
    T(task_switch_target_beyond_gdt_limit_gp),
    T(task_switch_target_busy_or_not_tss_gp),
    T(task_switch_target_iret_needs_busy_ts),
    T(task_switch_target_not_present_np),
    T(task_switch_target_limit_below_minimum_ts),
    T(task_switch_target_unreadable_descriptor_is_memory_fault),
    T(task_switch_int_saves_old_and_loads_new),
    T(task_switch_int_busy_bits_link_and_nt),
    T(task_switch_jmp_frees_old_and_links_nothing),
    T(task_switch_iret_frees_old_and_clears_saved_nt),
    T(task_switch_call_keeps_old_busy_and_links),
    T(task_switch_fault_saves_rf_in_old_eflags),
    T(task_switch_sets_cr0_ts_and_clears_dr7_local_enables),
    T(task_switch_cr3_loaded_only_with_paging),
    T(task_switch_cr3_load_failure_ts0_in_new_task),
    T(task_switch_old_tss_too_short_ts_before_commit),
    T(task_switch_unwritable_old_tss_changes_nothing),
    T(task_switch_error_code_pushed_on_new_stack),
    T(task_switch_16bit_tss_loads_words_and_pushes_word),
    T(task_switch_t_flag_raises_debug_trap),
    T(task_switch_v86_task_loads_paragraph_segments),
    T(task_switch_ldt_checks),
    T(task_switch_ss_checks),
    T(task_switch_data_segment_checks),
    T(task_switch_code_segment_checks),
    T(task_switch_eip_beyond_cs_limit_gp0),
    T(task_switch_sets_accessed_bits_of_loaded_segments),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
