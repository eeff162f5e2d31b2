/* The tables the specialised translation (sim/mmu/walk_fast.c) checks
 * entries with, against the rules they are built from: for every format it
 * handles and random entries, "usable" (no fault, no accessed-flag write) must
 * be exactly: present, no reserved bit for the level and page size, accessed
 * flag set where the format has one, and for EPT no misconfiguration
 * (ept_entry_misconfig(), SDM Vol. 3C, "EPT Misconfigurations"); and the
 * rights must be pt_entry_rights() (SDM Vol. 3A, "Access Rights"; SDM Vol.
 * 3C, "EPT Translation Mechanism"). If a rule starts reading an entry bit
 * the tables do not index, this fails. */
#include "conformance/mmu/mmu_fixture.h"

#include "models/vmx/ept_format.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1Dull;
}

/* A random entry with a bias to the low bits the rules look at. */
static uint64_t entry(void)
{
  uint64_t e = rnd();
  if (rnd() & 1) e &= 0x00000000FFFFF7FFull | (rnd() & (1ull << 63)) | (rnd() & (1ull << 10));
  if (rnd() & 1) e &= ~0x000FFFFFFFFFF000ull | (rnd() & 0x0000000FFFFFF000ull);
  return e;
}

static void check_format(const struct pt_format *f)
{
  assert_true(f->fast_walk);
  unsigned usable = 0;
  for (unsigned i = 0; i < 40000; i++) {
    uint64_t e = entry();
    unsigned level = 1 + (unsigned)(rnd() % f->levels);
    const struct pt_level *lv = &f->lv[level];
    bool leaf = level == 1 || (lv->large_ok && (e & f->ps_bit));
    assert_int_equal(leaf, level == 1 || (e & f->fast.ps[level]) != 0);
    bool want = (e & f->present) && !(e & (leaf ? lv->rsvd_leaf : lv->rsvd_table)) && (e & f->a_bit) == f->a_bit;
    if (f->kind == PT_KIND_EPT && want) want = ept_entry_misconfig(f, e, leaf) == NULL;
    unsigned v = f->fast.lut[leaf][pt_fast_index(e)];
    bool got = !((e & f->fast.rsvd[level][leaf]) | (~e & f->fast.need1) | (v & PT_FAST_UNUSABLE));
    if (want != got) print_error("%s level %u entry %#llx: usable %d, tables say %d\n", f->name, level,
                                 (unsigned long long)e, want, got);
    assert_int_equal(want, got);
    assert_int_equal(v & ~PT_FAST_UNUSABLE, pt_entry_rights(f, e));
    usable += want;
  }
  /* walk_fast.c reads a guest (x86) entry's rights with bit 10 (rights
   * index bit 3) left out: no x86 right may read it. */
  if (f->kind == PT_KIND_X86)
    for (unsigned i = 0; i < 32; i++) assert_int_equal(f->rights_lut[i], f->rights_lut[i & ~8u]);
  /* walk_fast.c indexes EPT's table with bit 63 (index bit 7) dropped: no
   * EPT rule or right may read it. */
  if (f->kind == PT_KIND_EPT)
    for (unsigned leaf = 0; leaf < 2; leaf++)
      for (unsigned i = 0; i < 256; i++) assert_int_equal(f->fast.lut[leaf][i], f->fast.lut[leaf][i & 0x7F]);
  /* Both answers occurred. */
  assert_true(usable > 100);
  assert_true(usable < 39900);
}

static void test_fast_tables_match_rules(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  for (unsigned five = 0; five < 2; five++)
    for (unsigned mbec = 0; mbec < 2; mbec++)
      for (unsigned ad = 0; ad < 2; ad++) check_format(&f.mmu.phys.ept[five][mbec][ad]);
  for (unsigned nxe = 0; nxe < 2; nxe++) {
    check_format(&f.mmu.phys.x86[MMU_X86_4LEVEL][nxe]);
    check_format(&f.mmu.phys.x86[MMU_X86_5LEVEL][nxe]);
    /* Formats the fast path does not take. */
    assert_false(f.mmu.phys.x86[MMU_X86_PAE][nxe].fast_walk);
    assert_false(f.mmu.phys.x86[MMU_X86_32][nxe].fast_walk);
    assert_false(f.mmu.phys.x86[MMU_X86_32_PSE][nxe].fast_walk);
  }
  /* Without execute-only support an execute-only EPT entry is unusable. */
  struct mmu_phys p;
  assert_true(mmu_phys_init(&p, f.ram, f.size, 46, MMU_FEAT_1G_PAGES));
  check_format(&p.ept[0][0][0]);
  unsigned xo = pt_fast_index(E_X | E_WB);
  assert_true(p.ept[0][0][0].fast.lut[1][xo] & PT_FAST_UNUSABLE);
  assert_false(f.mmu.phys.ept[0][0][0].fast.lut[1][xo] & PT_FAST_UNUSABLE);
  fx_fini(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fast_tables_match_rules),
  };
  return cmocka_run_group_tests_name("mmu_fast", tests, NULL, NULL);
}
