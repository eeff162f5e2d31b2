/* The remembered nested path of the specialised translation (walk_fast.c):
 * a nested walk resumes at the level-1 table of the previous one only for
 * an address in the same 2 MiB region, at its level-2 table only in the
 * same 1 GiB and only down to a table (not a large page), and a path kept
 * from an earlier translation is used only after each of its entries has
 * been read again unchanged. Every case changes what a stale or misapplied path would get
 * wrong and compares the cached MMU with the reference walker, which
 * remembers nothing.
 *
 * SDM Vol. 3C, "EPT Translation Mechanism", "EPT Violations"; "Invalidation
 * of TLBs and Paging-Structure Caches" (a changed EPT entry is used after
 * INVEPT; the path is not a cache the architecture knows: it must follow
 * memory even without one). */
#include "conformance/mmu/mmu_fixture.h"

#include "models/vmx/ept_format.h"

#define VA1 0x7f0000401000ull
#define VA2 0x7f0000402000ull
#define G (X_P | X_W | X_A | X_D)
#define EL (E_RWX | E_WB)

/* The cached translation of va must be the reference walker's. */
static void same_as_reference(struct fx *f, uint64_t va, enum mmu_access acc)
{
  struct mmu_translation t, r;
  struct mmu_fault ft, fr;
  bool ok = fx_tr(f, va, acc, &t, &ft);
  bool ok_ref = fx_ref(f, va, acc, &r, &fr);
  assert_int_equal(ok, ok_ref);
  if (ok) {
    assert_int_equal(t.pa, r.pa);
    assert_int_equal(t.gpa, r.gpa);
    assert_int_equal(t.perms, r.perms);
    assert_int_equal(t.refs, r.refs);
    return;
  }
  assert_int_equal(ft.kind, fr.kind);
  assert_int_equal(ft.exit_qualification, fr.exit_qualification);
  assert_int_equal(ft.guest_physical, fr.guest_physical);
}

/* EPT identity map (4 KiB pages, one level-1 table per 2 MiB), a 4-level
 * guest with VA1 and VA2 mapped to two pages of `data_region`, its tables
 * from `table_region`; returns the EPT root. */
static uint64_t setup(struct fx *f, uint64_t table_region, uint64_t data_region)
{
  uint64_t eptp = fx_ept_identity(f, false, false, E_RWX, EL);
  uint64_t next = f->next;
  f->next = table_region;
  uint64_t root = fx_page(f);
  const struct pt_format *x = fx_x86(f, MMU_X86_4LEVEL, true);
  fx_map(f, x, root, VA1, data_region, 1, X_TABLE, G);
  fx_map(f, x, root, VA2, data_region + 0x1000, 1, X_TABLE, G);
  if (f->next < next) f->next = next;
  fx_long_mode(f, root);
  f->ctx.slat = MMU_SLAT_EPT;
  f->ctx.eptp = eptp;
  f->ctx.tag = 1;
  return eptp & ~0xFFFull;
}

static void test_npath_level1_table_only_within_its_2m_region(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  /* The guest's tables in the 2 MiB region at 4 MiB, its data at 64 KiB:
   * the final nested walk must not take the tables' level-1 EPT table. */
  setup(&f, 0x400000, 0x10000);
  mmu_flush_all(&f.mmu);
  same_as_reference(&f, VA1, MMU_READ);
  /* The guest's root in one region and its lower tables in the next: the
   * walk of the PDPT's address must leave the root's level-1 table. */
  struct fx g;
  fx_init(&g, NULL);
  uint64_t eptp = fx_ept_identity(&g, false, false, E_RWX, EL);
  g.next = 0x5FF000;
  uint64_t root = fx_page(&g); /* the last page below 6 MiB */
  fx_map(&g, fx_x86(&g, MMU_X86_4LEVEL, true), root, VA1, 0x10000, 1, X_TABLE, G);
  fx_long_mode(&g, root);
  g.ctx.slat = MMU_SLAT_EPT;
  g.ctx.eptp = eptp;
  g.ctx.tag = 1;
  mmu_flush_all(&g.mmu);
  same_as_reference(&g, VA1, MMU_READ);
  struct mmu_translation t;
  struct mmu_fault ft;
  assert_true(fx_tr(&g, VA1 + 8, MMU_READ, &t, &ft));
  assert_int_equal(t.pa, 0x10008);
  fx_fini(&g);
  fx_fini(&f);
}

/* NPT maps the 2 MiB region at 6 MiB with one 2 MiB page, the rest of RAM
 * with 4 KiB pages; the guest's tables lie at 4 MiB, its data at 6 MiB +
 * 8 KiB: the final nested walk, in the same 1 GiB as the tables, must stop
 * at the 2 MiB page, not read it as a table. */
static void test_npath_resume_at_level2_stops_at_large_page(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  const struct pt_format *n = fx_x86(&f, MMU_X86_4LEVEL, true);
  uint64_t ncr3 = fx_page(&f);
  for (uint64_t pa = 0; pa < f.size; pa += 4096) {
    if (pa >> 21 == 3) continue;
    fx_map(&f, n, ncr3, pa, pa, 1, X_TABLE, X_TABLE | X_A | X_D);
  }
  fx_map(&f, n, ncr3, 0x600000, 0x600000, 2, X_TABLE, X_TABLE | X_A | X_D | X_PS);
  /* What the large page's first bytes would say if it were read as a
   * level-1 table: the data page's entry elsewhere. */
  fx_set(&f, 0x600000 + 8 * 2, 0x700000 | X_TABLE | X_A | X_D, 8);
  uint64_t next = f.next;
  f.next = 0x400000;
  uint64_t root = fx_page(&f);
  fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, true), root, VA1, 0x602000, 1, X_TABLE, G);
  if (f.next < next) f.next = next;
  fx_long_mode(&f, root);
  f.ctx.slat = MMU_SLAT_NPT;
  f.ctx.ncr3 = ncr3;
  f.ctx.host_cr4 = CR4_PAE;
  f.ctx.host_efer = EFER_LMA | EFER_NXE;
  f.ctx.tag = 1;
  mmu_flush_all(&f.mmu);
  same_as_reference(&f, VA1, MMU_READ);
  struct mmu_translation t;
  struct mmu_fault ft;
  mmu_flush_all(&f.mmu);
  assert_true(fx_tr(&f, VA1 + 8, MMU_READ, &t, &ft));
  assert_int_equal(t.pa, 0x602008);
  fx_fini(&f);
}

/* Translates VA1 (the path is kept), changes the EPT entry of `level` for
 * the guest tables' region with `change`, invalidates as a hypervisor
 * would, and translates VA2, whose walks go through the changed entry. */
static void kept_path_after_change(unsigned level, uint64_t (*change)(struct fx *, uint64_t))
{
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptroot = setup(&f, 0x300000, 0x380000);
  mmu_flush_all(&f.mmu);
  same_as_reference(&f, VA1, MMU_READ);
  uint64_t ea = fx_entry(&f, fx_ept(&f, false, false), eptroot, 0x300000, level);
  assert_true(ea != 0);
  fx_set(&f, ea, change(&f, fx_get(&f, ea, 8)), 8);
  assert_true(mmu_invept(&f.mmu, MMU_INVEPT_ALL, 0));
  same_as_reference(&f, VA2, MMU_READ);
  fx_fini(&f);
}

/* No read right at level 2: reading a guest table is an EPT violation. */
static uint64_t exec_only(struct fx *f, uint64_t e)
{
  (void)f;
  return (e & ~E_RWX) | E_X;
}

/* Not present. */
static uint64_t not_present(struct fx *f, uint64_t e)
{
  (void)f;
  return e & ~E_RWX;
}

/* A copy of the level-2 table whose region-1.5 MiB entry points to a copy
 * of the level-1 table mapping every page one page higher. */
static uint64_t other_tables(struct fx *f, uint64_t e)
{
  uint64_t l2 = e & 0x000FFFFFFFFFF000ull, l2c = fx_page(f), l1c = fx_page(f);
  for (unsigned i = 0; i < 512; i++) fx_set(f, l2c + 8 * i, fx_get(f, l2 + 8 * i, 8), 8);
  uint64_t l1 = fx_get(f, l2 + 8 * 1, 8) & 0x000FFFFFFFFFF000ull; /* 2..4 MiB */
  for (unsigned i = 0; i < 512; i++) fx_set(f, l1c + 8 * i, fx_get(f, l1 + 8 * i, 8) + 0x1000, 8);
  fx_set(f, l2c + 8 * 1, l1c | E_RWX, 8);
  return l2c | (e & 0xFFF);
}

static void test_npath_kept_path_rechecks_level2_rights(void **s)
{
  (void)s;
  kept_path_after_change(2, exec_only);
}

static void test_npath_kept_path_rechecks_top_entry(void **s)
{
  (void)s;
  kept_path_after_change(4, not_present);
}

static void test_npath_kept_path_rechecks_table_address(void **s)
{
  (void)s;
  kept_path_after_change(3, other_tables);
}

/* A guest whose page table is the EPT level-2 table (guest-physical =
 * host-physical): the guest PTE for VA0 is the EPT PDE of the first 2 MiB
 * and maps VA0 to that PDE's level-1 table. Translating VA0 sets the
 * guest accessed flag in it, bit 5, reserved in an EPT PDE that references
 * a table: the final nested walk, through that PDE, must see the write
 * (EPT misconfiguration), not the path remembered before it. */
#define VA0 0x7f0000400000ull
static void aliased(struct fx *f)
{
  uint64_t eptroot = fx_ept_identity(f, false, false, E_RWX, EL) & ~0xFFFull;
  const struct pt_format *ept = fx_ept(f, false, false);
  uint64_t l2 = fx_get(f, fx_entry(f, ept, eptroot, 0, 3), 8) & 0x000FFFFFFFFFF000ull;
  uint64_t root = fx_page(f);
  const struct pt_format *x = fx_x86(f, MMU_X86_4LEVEL, true);
  fx_map(f, x, root, VA0, 0, 2, X_TABLE, X_TABLE); /* the PDE, to be pointed at l2 */
  fx_set(f, fx_entry(f, x, root, VA0, 2), l2 | X_TABLE, 8);
  fx_long_mode(f, root);
  f->ctx.slat = MMU_SLAT_EPT;
  f->ctx.eptp = eptroot | 6 | (3ull << 3);
  f->ctx.tag = 1;
}

static void test_npath_guest_flag_write_on_path_is_seen(void **s)
{
  (void)s;
  struct fx f, r;
  fx_init(&f, NULL);
  fx_init(&r, NULL);
  aliased(&f);
  aliased(&r);
  struct mmu_translation t;
  struct mmu_fault ft, fr;
  mmu_flush_all(&f.mmu);
  assert_false(fx_tr(&f, VA0, MMU_READ, &t, &ft));
  assert_false(fx_ref(&r, VA0, MMU_READ, &t, &fr));
  assert_int_equal(fr.kind, MMU_FAULT_EPT_MISCONFIG);
  assert_int_equal(ft.kind, fr.kind);
  assert_int_equal(ft.guest_physical, fr.guest_physical);
  fx_fini(&r);
  fx_fini(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_npath_level1_table_only_within_its_2m_region),
    cmocka_unit_test(test_npath_resume_at_level2_stops_at_large_page),
    cmocka_unit_test(test_npath_kept_path_rechecks_level2_rights),
    cmocka_unit_test(test_npath_kept_path_rechecks_top_entry),
    cmocka_unit_test(test_npath_kept_path_rechecks_table_address),
    cmocka_unit_test(test_npath_guest_flag_write_on_path_is_seen),
  };
  return cmocka_run_group_tests_name("mmu_npath", tests, NULL, NULL);
}
