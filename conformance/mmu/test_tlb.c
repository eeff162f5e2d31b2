/* Tagged TLB and paging-structure caches: each invalidation rule is shown
 * from both sides - a translation that the rule does not cover stays stale
 * (it still gives the old page after the page tables changed), and one the
 * rule covers is gone (the new page appears).
 *
 * SDM Vol. 3A, Paging, "Caching Translation Information" ("Invalidation of
 * TLBs and Paging-Structure Caches", "Operations that Invalidate TLBs and
 * Paging-Structure Caches"); SDM Vol. 3C, "VMX Support for Address
 * Translation" ("Invalidating Cached Mappings"); APM Vol. 2, "TLB Control",
 * INVLPGA. Pages: A at 0x400000, B at 0x401000, G (global) at 0x402000; each
 * maps OLD+offset and is retargeted to NEW+offset by the tests. */
#include "conformance/mmu/mmu_fixture.h"

#include "models/vmx/ept_format.h"

#define A 0x400000ull
#define B 0x401000ull
#define GL 0x402000ull
#define OLD 0x10000ull
#define NEW 0x20000ull
#define LEAF (X_P | X_W | X_A | X_D)

struct tl {
  struct fx f;
  uint64_t root;
};

static void tl_init(struct tl *t, const struct mmu_geometry *g)
{
  fx_init(&t->f, g);
  t->root = fx_page(&t->f);
  const struct pt_format *fmt = fx_x86(&t->f, MMU_X86_4LEVEL, true);
  fx_map(&t->f, fmt, t->root, A, OLD + 0x0000, 1, X_TABLE, LEAF);
  fx_map(&t->f, fmt, t->root, B, OLD + 0x1000, 1, X_TABLE, LEAF);
  fx_map(&t->f, fmt, t->root, GL, OLD + 0x2000, 1, X_TABLE, LEAF | X_G);
  fx_long_mode(&t->f, t->root);
  t->f.ctx.cr4 |= CR4_PGE;
}

/* The page `va` translates to now, through the cached MMU. */
static uint64_t pa(struct tl *t, uint64_t va)
{
  struct mmu_translation tr;
  struct mmu_fault fault;
  assert_true(fx_tr(&t->f, va, MMU_READ, &tr, &fault));
  return tr.pa & ~0xFFFull;
}

static uint64_t pa_in(struct tl *t, uint16_t tag, uint16_t pcid, uint64_t va)
{
  uint16_t save_tag = t->f.ctx.tag;
  uint64_t save_cr3 = t->f.ctx.cr3;
  t->f.ctx.tag = tag;
  t->f.ctx.cr3 = (t->f.ctx.cr3 & ~0xFFFull) | pcid;
  uint64_t p = pa(t, va);
  t->f.ctx.tag = save_tag;
  t->f.ctx.cr3 = save_cr3;
  return p;
}

/* Rewrites every page's PTE to point to NEW (memory only, no invalidation). */
static void retarget(struct tl *t)
{
  const struct pt_format *fmt = fx_x86(&t->f, MMU_X86_4LEVEL, true);
  uint64_t vas[] = { A, B, GL };
  for (int i = 0; i < 3; i++) {
    uint64_t ea = fx_entry(&t->f, fmt, t->root, vas[i], 1);
    uint64_t e = fx_get(&t->f, ea, 8);
    fx_set(&t->f, ea, (e & ~0xFFFFF000ull) | (NEW + (uint64_t)i * 0x1000), 8);
  }
}

static uint64_t old(uint64_t va) { return OLD + (va - A); }
static uint64_t new(uint64_t va) { return NEW + (va - A); }

static void test_tlb_stale_entry_survives_until_invlpg(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  assert_int_equal(pa(&t, A), old(A));
  retarget(&t);
  assert_int_equal(pa(&t, A), old(A));   /* no invalidation: stale */
  mmu_invlpg(&t.f.mmu, &t.f.ctx, A);
  assert_int_equal(pa(&t, A), new(A));
  fx_fini(&t.f);
}

/* INVLPG removes the global entry of the page whatever its PCID, and only
 * that page's TLB entries. */
static void test_tlb_invlpg_removes_global_page_of_any_pcid(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  t.f.ctx.cr4 |= CR4_PCIDE;
  assert_int_equal(pa_in(&t, 0, 1, GL), old(GL));
  assert_int_equal(pa_in(&t, 0, 1, B), old(B));
  retarget(&t);
  assert_int_equal(pa_in(&t, 0, 2, GL), old(GL)); /* global: visible from PCID 2 */
  t.f.ctx.cr3 = t.root | 2;
  mmu_invlpg(&t.f.mmu, &t.f.ctx, GL);
  assert_int_equal(pa_in(&t, 0, 1, GL), new(GL));
  assert_int_equal(pa_in(&t, 0, 1, B), old(B));   /* other page, other PCID: kept */
  fx_fini(&t.f);
}

/* INVLPG also empties every paging-structure cache of the current PCID,
 * whatever address it names: a changed PDE is picked up afterwards. */
static void test_tlb_invlpg_empties_paging_structure_caches(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  const struct pt_format *fmt = fx_x86(&t.f, MMU_X86_4LEVEL, true);
  assert_int_equal(pa(&t, A), old(A)); /* fills the PDE cache for 0x400000-0x5fffff */
  /* A new page table for the region, mapping B elsewhere. */
  uint64_t pt = fx_page(&t.f);
  fx_set(&t.f, pt + ((B >> 12) & 511) * 8, 0x30000 | LEAF, 8);
  uint64_t pde = fx_entry(&t.f, fmt, t.root, A, 2);
  fx_set(&t.f, pde, pt | X_TABLE | X_A, 8);
  struct mmu_translation tr;
  struct mmu_fault fault;
  assert_true(fx_tr(&t.f, B, MMU_READ, &tr, &fault));
  assert_int_equal(tr.pa, old(B));     /* stale PDE cache entry used */
  assert_int_equal(tr.refs, 1);        /* only the PTE was read */
  mmu_invlpg(&t.f.mmu, &t.f.ctx, 0x7000000000ull); /* an unrelated address */
  assert_true(fx_tr(&t.f, B + 0x1000 * 0, MMU_READ, &tr, &fault));
  /* B's own TLB entry survives an INVLPG of another page... */
  assert_int_equal(tr.pa, old(B));
  mmu_invlpg(&t.f.mmu, &t.f.ctx, B);
  assert_true(fx_tr(&t.f, B, MMU_READ, &tr, &fault));
  assert_int_equal(tr.pa, 0x30000);    /* ...but the PSCs were emptied: new PDE */
  assert_int_equal(tr.refs, 4);
  fx_fini(&t.f);
}

/* A large guest page combined with smaller EPT pages is cached as several
 * smaller entries; INVLPG of any address in the guest page removes them all
 * (SDM Vol. 3A, "Details of TLB Use" / "Recommended Invalidation"). */
static void test_tlb_invlpg_removes_all_splinters_of_a_large_page(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, E_RWX | E_WB);
  uint64_t root = fx_page(&f);
  uint64_t pde = fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, true), root, 0x40000000, 0x200000, 2, X_TABLE, LEAF | X_PS);
  fx_long_mode(&f, root);
  f.ctx.slat = MMU_SLAT_EPT;
  f.ctx.eptp = eptp;
  f.ctx.tag = 1;
  struct mmu_translation tr;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x40001000, MMU_READ, &tr, &fault));
  assert_int_equal(tr.page_shift, 12);
  assert_true(fx_tr(&f, 0x40005000, MMU_READ, &tr, &fault));
  fx_set(&f, pde, 0x400000 | LEAF | X_PS, 8);
  assert_true(fx_tr(&f, 0x40005000, MMU_READ, &tr, &fault));
  assert_int_equal(tr.pa, 0x205000); /* stale splinter */
  mmu_invlpg(&f.mmu, &f.ctx, 0x40001000);
  assert_true(fx_tr(&f, 0x40005000, MMU_READ, &tr, &fault));
  assert_int_equal(tr.pa, 0x405000);
  fx_fini(&f);
}

/* MOV to CR3 (PCIDE=0): non-global entries go, global ones stay; a change
 * of CR4.PGE removes the global ones too. */
static void test_tlb_mov_cr3_keeps_globals_cr4_pge_removes_them(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa(&t, A);
  pa(&t, GL);
  retarget(&t);
  mmu_mov_cr3(&t.f.mmu, &t.f.ctx, t.root);
  assert_int_equal(pa(&t, A), new(A));
  assert_int_equal(pa(&t, GL), old(GL));
  mmu_mov_cr4(&t.f.mmu, &t.f.ctx, t.f.ctx.cr4, t.f.ctx.cr4 & ~CR4_PGE);
  assert_int_equal(pa(&t, GL), new(GL));
  fx_fini(&t.f);
}

/* PCIDs: MOV to CR3 invalidates only the new PCID's non-global entries, and
 * nothing with the no-flush bit (bit 63). */
static void test_tlb_mov_cr3_pcid_and_no_flush(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  t.f.ctx.cr4 |= CR4_PCIDE;
  assert_int_equal(pa_in(&t, 0, 1, A), old(A));
  assert_int_equal(pa_in(&t, 0, 2, A), old(A));
  retarget(&t);
  mmu_mov_cr3(&t.f.mmu, &t.f.ctx, t.root | 2);              /* flushes PCID 2 */
  assert_int_equal(pa_in(&t, 0, 2, A), new(A));
  assert_int_equal(pa_in(&t, 0, 1, A), old(A));             /* PCID 1 kept */
  mmu_mov_cr3(&t.f.mmu, &t.f.ctx, t.root | 1 | (1ull << 63)); /* no flush */
  assert_int_equal(pa_in(&t, 0, 1, A), old(A));
  mmu_mov_cr3(&t.f.mmu, &t.f.ctx, t.root | 1);
  assert_int_equal(pa_in(&t, 0, 1, A), new(A));
  fx_fini(&t.f);
}

/* MOV to CR4 clearing PCIDE removes every PCID's entries, globals too. */
static void test_tlb_cr4_pcide_clear_removes_all(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  t.f.ctx.cr4 |= CR4_PCIDE;
  pa_in(&t, 0, 3, A);
  pa_in(&t, 0, 3, GL);
  retarget(&t);
  mmu_mov_cr4(&t.f.mmu, &t.f.ctx, t.f.ctx.cr4, t.f.ctx.cr4 | CR4_SMAP); /* no flush */
  assert_int_equal(pa_in(&t, 0, 3, A), old(A));
  mmu_mov_cr4(&t.f.mmu, &t.f.ctx, t.f.ctx.cr4, t.f.ctx.cr4 & ~CR4_PCIDE);
  t.f.ctx.cr4 &= ~CR4_PCIDE;
  assert_int_equal(pa(&t, A), new(A));
  assert_int_equal(pa(&t, GL), new(GL));
  fx_fini(&t.f);
}

/* CR4.SMEP 0 -> 1 flushes the current PCID; 1 -> 0 does not. */
static void test_tlb_cr4_smep_set_flushes_clear_does_not(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  t.f.ctx.cr4 |= CR4_SMEP;
  pa(&t, A);
  retarget(&t);
  mmu_mov_cr4(&t.f.mmu, &t.f.ctx, t.f.ctx.cr4, t.f.ctx.cr4 & ~CR4_SMEP);
  t.f.ctx.cr4 &= ~CR4_SMEP;
  assert_int_equal(pa(&t, A), old(A));
  mmu_mov_cr4(&t.f.mmu, &t.f.ctx, t.f.ctx.cr4, t.f.ctx.cr4 | CR4_SMEP);
  t.f.ctx.cr4 |= CR4_SMEP;
  assert_int_equal(pa(&t, A), new(A));
  fx_fini(&t.f);
}

/* MOV to CR0 clearing PG removes everything; other CR0 writes keep it. */
static void test_tlb_cr0_pg_clear_flushes(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa(&t, GL);
  retarget(&t);
  mmu_mov_cr0(&t.f.mmu, &t.f.ctx, t.f.ctx.cr0, t.f.ctx.cr0 & ~CR0_WP);
  assert_int_equal(pa(&t, GL), old(GL));
  mmu_mov_cr0(&t.f.mmu, &t.f.ctx, t.f.ctx.cr0, t.f.ctx.cr0 & ~CR0_PG);
  assert_int_equal(pa(&t, GL), new(GL));
  fx_fini(&t.f);
}

/* INVPCID, the four types. */
static void test_tlb_invpcid_types(void **s)
{
  (void)s;
  for (unsigned type = 0; type < 4; type++) {
    struct tl t;
    tl_init(&t, NULL);
    t.f.ctx.cr4 |= CR4_PCIDE;
    uint64_t vas[] = { A, B, GL };
    for (int i = 0; i < 3; i++) { pa_in(&t, 0, 1, vas[i]); pa_in(&t, 0, 2, vas[i]); }
    retarget(&t);
    assert_true(mmu_invpcid(&t.f.mmu, &t.f.ctx, type, 1, A));
    bool a1 = pa_in(&t, 0, 1, A) == new(A), b1 = pa_in(&t, 0, 1, B) == new(B);
    bool a2 = pa_in(&t, 0, 2, A) == new(A), g = pa_in(&t, 0, 1, GL) == new(GL);
    switch (type) {
    case 0: assert_true(a1); assert_false(b1); assert_false(a2); assert_false(g); break;
    case 1: assert_true(a1); assert_true(b1); assert_false(a2); assert_false(g); break;
    case 2: assert_true(a1); assert_true(b1); assert_true(a2); assert_true(g); break;
    case 3: assert_true(a1); assert_true(b1); assert_true(a2); assert_false(g); break;
    }
    assert_false(mmu_invpcid(&t.f.mmu, &t.f.ctx, 4, 1, A));
    fx_fini(&t.f);
  }
}

/* INVVPID, the four types, with VPID 0 (the host) never touched except by
 * nothing; VPID 0 is rejected for the single-VPID types. */
static void test_tlb_invvpid_types(void **s)
{
  (void)s;
  for (unsigned type = 0; type < 4; type++) {
    struct tl t;
    tl_init(&t, NULL);
    uint64_t vas[] = { A, B, GL };
    for (uint16_t v = 0; v < 3; v++)
      for (int i = 0; i < 3; i++) pa_in(&t, v, 0, vas[i]);
    retarget(&t);
    assert_true(mmu_invvpid(&t.f.mmu, type, 1, A));
    bool a1 = pa_in(&t, 1, 0, A) == new(A), b1 = pa_in(&t, 1, 0, B) == new(B);
    bool g1 = pa_in(&t, 1, 0, GL) == new(GL), a2 = pa_in(&t, 2, 0, A) == new(A);
    bool a0 = pa_in(&t, 0, 0, A) == new(A);
    assert_false(a0);
    switch (type) {
    case 0: assert_true(a1); assert_false(b1); assert_false(g1); assert_false(a2); break;
    case 1: assert_true(a1); assert_true(b1); assert_true(g1); assert_false(a2); break;
    case 2: assert_true(a1); assert_true(b1); assert_true(g1); assert_true(a2); break;
    case 3: assert_true(a1); assert_true(b1); assert_false(g1); assert_false(a2); break;
    }
    if (type != 2) assert_false(mmu_invvpid(&t.f.mmu, type, 0, A));
    assert_false(mmu_invvpid(&t.f.mmu, 4, 1, A));
    fx_fini(&t.f);
  }
}

/* VM entry/exit without VPIDs invalidate VPID 0's mappings; with VPIDs, none. */
static void test_tlb_vmx_transition_without_vpid_flushes_vpid0(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa_in(&t, 0, 0, A);
  pa_in(&t, 5, 0, A);
  retarget(&t);
  mmu_vmx_transition(&t.f.mmu, true);
  assert_int_equal(pa_in(&t, 0, 0, A), old(A));
  mmu_vmx_transition(&t.f.mmu, false);
  assert_int_equal(pa_in(&t, 0, 0, A), new(A));
  assert_int_equal(pa_in(&t, 5, 0, A), old(A));
  fx_fini(&t.f);
}

/* INVEPT: combined and guest-physical mappings of one EP4TA or of all; linear
 * mappings made without EPT survive both. */
static void test_tlb_invept_single_and_all(void **s)
{
  (void)s;
  for (unsigned type = 1; type <= 2; type++) {
    struct tl t;
    tl_init(&t, NULL);
    uint64_t e1 = fx_ept_identity(&t.f, false, false, E_RWX, E_RWX | E_WB);
    uint64_t e2 = fx_ept_identity(&t.f, false, false, E_RWX, E_RWX | E_WB);
    struct mmu_context native = t.f.ctx;
    t.f.ctx.slat = MMU_SLAT_EPT;
    t.f.ctx.eptp = e1;
    pa_in(&t, 1, 0, A);
    t.f.ctx.eptp = e2;
    pa_in(&t, 1, 0, A);
    struct mmu_context ept = t.f.ctx;
    t.f.ctx = native;
    pa(&t, A);
    retarget(&t);
    assert_true(mmu_invept(&t.f.mmu, type, e1));
    assert_int_equal(pa(&t, A), old(A));               /* native: untouched */
    t.f.ctx = ept;
    t.f.ctx.eptp = e1;
    assert_int_equal(pa_in(&t, 1, 0, A), new(A));
    t.f.ctx.eptp = e2;
    assert_int_equal(pa_in(&t, 1, 0, A), type == 1 ? old(A) : new(A));
    assert_false(mmu_invept(&t.f.mmu, 3, e1));
    fx_fini(&t.f);
  }
}

/* INVEPT also drops guest-physical mappings: a changed EPT leaf is seen. */
static void test_tlb_invept_drops_guest_physical_mappings(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  uint64_t e1 = fx_ept_identity(&t.f, false, false, E_RWX, E_RWX | E_WB);
  t.f.ctx.slat = MMU_SLAT_EPT;
  t.f.ctx.eptp = e1;
  t.f.ctx.cr0 &= ~CR0_PG; /* only guest-physical mappings are made */
  assert_int_equal(pa(&t, 0x5000), 0x5000);
  uint64_t leaf = fx_entry(&t.f, fx_ept(&t.f, false, false), e1 & ~0xFFFull, 0x5000, 1);
  fx_set(&t.f, leaf, 0x6000 | E_RWX | E_WB, 8);
  assert_int_equal(pa(&t, 0x5000), 0x5000);
  assert_true(mmu_invept(&t.f.mmu, MMU_INVEPT_SINGLE, e1));
  assert_int_equal(pa(&t, 0x5000), 0x6000);
  fx_fini(&t.f);
}

/* SVM TLB_CONTROL at VMRUN: 0 nothing, 1 all ASIDs, 3 the ASID, 7 the
 * ASID's non-global entries; other values are reserved. */
static void test_tlb_svm_tlb_control(void **s)
{
  (void)s;
  unsigned values[] = { 0, 1, 3, 7 };
  for (size_t i = 0; i < 4; i++) {
    struct tl t;
    tl_init(&t, NULL);
    pa_in(&t, 1, 0, A); pa_in(&t, 1, 0, GL); pa_in(&t, 2, 0, A);
    retarget(&t);
    assert_true(mmu_svm_tlb_control(&t.f.mmu, values[i], 1));
    bool a1 = pa_in(&t, 1, 0, A) == new(A), g1 = pa_in(&t, 1, 0, GL) == new(GL);
    bool a2 = pa_in(&t, 2, 0, A) == new(A);
    switch (values[i]) {
    case 0: assert_false(a1); assert_false(g1); assert_false(a2); break;
    case 1: assert_true(a1); assert_true(g1); assert_true(a2); break;
    case 3: assert_true(a1); assert_true(g1); assert_false(a2); break;
    case 7: assert_true(a1); assert_false(g1); assert_false(a2); break;
    }
    assert_false(mmu_svm_tlb_control(&t.f.mmu, 2, 1));
    fx_fini(&t.f);
  }
}

/* INVLPGA: one page of one ASID, global or not. */
static void test_tlb_invlpga_one_page_one_asid(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa_in(&t, 1, 0, A); pa_in(&t, 1, 0, B); pa_in(&t, 2, 0, A); pa_in(&t, 1, 0, GL);
  retarget(&t);
  mmu_invlpga(&t.f.mmu, A, 1);
  mmu_invlpga(&t.f.mmu, GL, 1);
  assert_int_equal(pa_in(&t, 1, 0, A), new(A));
  assert_int_equal(pa_in(&t, 1, 0, GL), new(GL));
  assert_int_equal(pa_in(&t, 1, 0, B), old(B));
  assert_int_equal(pa_in(&t, 2, 0, A), old(A));
  fx_fini(&t.f);
}

/* ASID / VPID switches invalidate nothing: entries are tagged. */
static void test_tlb_tag_switch_keeps_entries(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa_in(&t, 1, 0, A);
  retarget(&t);
  assert_true(mmu_switch_tag(&t.f.mmu, 1, 2));
  assert_int_equal(pa_in(&t, 2, 0, A), new(A));
  assert_false(mmu_switch_tag(&t.f.mmu, 2, 2));
  assert_int_equal(pa_in(&t, 1, 0, A), old(A));
  fx_fini(&t.f);
}

/* A cached entry is checked against the current mode on every hit: an
 * entry filled at CPL 0 does not let CPL 3 touch a supervisor page. */
static void test_tlb_hit_rechecks_access_rights(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa(&t, A);
  t.f.ctx.cpl = 3;
  struct mmu_translation tr;
  struct mmu_fault fault;
  assert_false(fx_tr(&t.f, A, MMU_READ, &tr, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_U);
  fx_fini(&t.f);
}

/* Deterministic replacement in a 1-set, 2-way 4 KiB TLB: LRU evicts the
 * least recently used page, FIFO the oldest fill. */
/* The configurable geometry is bounded by the cache layout (16 ways, each
 * set's LRU order packed as 4-bit way numbers): the largest is accepted,
 * one more way is refused rather than silently truncated. */
static void test_tlb_geometry_ways_bounded(void **s)
{
  (void)s;
  static uint8_t ram[1 << 16];
  struct mmu m;
  struct mmu_geometry g = mmu_default_geometry;
  g.tlb[MMU_PAGE_4K] = (struct mmu_cache_geometry){ 4, 16 };
  assert_true(mmu_init(&m, &g, ram, sizeof ram));
  mmu_fini(&m);
  g.tlb[MMU_PAGE_4K] = (struct mmu_cache_geometry){ 4, 17 };
  assert_false(mmu_init(&m, &g, ram, sizeof ram));
}

static void test_tlb_replacement_lru_and_fifo(void **s)
{
  (void)s;
  for (int fifo = 0; fifo < 2; fifo++) {
    struct mmu_geometry g = mmu_default_geometry;
    g.tlb[MMU_PAGE_4K] = (struct mmu_cache_geometry){ 1, 2 };
    g.replacement = fifo ? MMU_REPL_FIFO : MMU_REPL_LRU;
    struct tl t;
    tl_init(&t, &g);
    struct mmu_translation tr;
    struct mmu_fault fault;
    fx_tr(&t.f, A, MMU_READ, &tr, &fault);
    fx_tr(&t.f, B, MMU_READ, &tr, &fault);
    fx_tr(&t.f, A, MMU_READ, &tr, &fault);
    assert_true(tr.tlb_hit);
    fx_tr(&t.f, GL, MMU_READ, &tr, &fault); /* evicts B (LRU) or A (FIFO) */
    fx_tr(&t.f, fifo ? B : A, MMU_READ, &tr, &fault);
    assert_true(tr.tlb_hit);
    fx_tr(&t.f, fifo ? A : B, MMU_READ, &tr, &fault);
    assert_false(tr.tlb_hit);
    fx_fini(&t.f);
  }
}

static void test_tlb_stats_count_per_tag_and_level(void **s)
{
  (void)s;
  struct tl t;
  tl_init(&t, NULL);
  pa_in(&t, 7, 0, A);
  pa_in(&t, 7, 0, A);
  pa_in(&t, 7, 0, B);
  pa_in(&t, 9, 0, A);
  const struct mmu_stats *st = mmu_stats(&t.f.mmu);
  assert_int_equal(st->translations, 4);
  assert_int_equal(st->tlb_hits[MMU_PAGE_4K], 1);
  assert_int_equal(st->tlb_misses, 3);
  assert_int_equal(st->psc_hits[2], 1);   /* B found A's PDE */
  assert_int_equal(st->refs, 4 + 1 + 4);
  assert_true(st->per_tag[0].used);
  assert_int_equal(st->per_tag[0].tag, 7);
  assert_int_equal(st->per_tag[0].hits, 1);
  assert_int_equal(st->per_tag[0].misses, 2);
  assert_int_equal(st->per_tag[1].tag, 9);
  assert_int_equal(st->per_tag[1].misses, 1);
  mmu_stats_reset(&t.f.mmu);
  assert_int_equal(mmu_stats(&t.f.mmu)->translations, 0);
  fx_fini(&t.f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tlb_stale_entry_survives_until_invlpg),
    cmocka_unit_test(test_tlb_invlpg_removes_global_page_of_any_pcid),
    cmocka_unit_test(test_tlb_invlpg_empties_paging_structure_caches),
    cmocka_unit_test(test_tlb_invlpg_removes_all_splinters_of_a_large_page),
    cmocka_unit_test(test_tlb_mov_cr3_keeps_globals_cr4_pge_removes_them),
    cmocka_unit_test(test_tlb_mov_cr3_pcid_and_no_flush),
    cmocka_unit_test(test_tlb_cr4_pcide_clear_removes_all),
    cmocka_unit_test(test_tlb_cr4_smep_set_flushes_clear_does_not),
    cmocka_unit_test(test_tlb_cr0_pg_clear_flushes),
    cmocka_unit_test(test_tlb_invpcid_types),
    cmocka_unit_test(test_tlb_invvpid_types),
    cmocka_unit_test(test_tlb_vmx_transition_without_vpid_flushes_vpid0),
    cmocka_unit_test(test_tlb_invept_single_and_all),
    cmocka_unit_test(test_tlb_invept_drops_guest_physical_mappings),
    cmocka_unit_test(test_tlb_svm_tlb_control),
    cmocka_unit_test(test_tlb_invlpga_one_page_one_asid),
    cmocka_unit_test(test_tlb_tag_switch_keeps_entries),
    cmocka_unit_test(test_tlb_hit_rechecks_access_rights),
    cmocka_unit_test(test_tlb_geometry_ways_bounded),
    cmocka_unit_test(test_tlb_replacement_lru_and_fifo),
    cmocka_unit_test(test_tlb_stats_count_per_tag_and_level),
  };
  return cmocka_run_group_tests_name("mmu_tlb", tests, NULL, NULL);
}
