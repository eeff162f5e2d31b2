/* Property test: the cached MMU gives exactly the reference walker's answer
 * (translation, permissions, fault and every fault field, and the A/D flags
 * left in memory) on random page tables and random access sequences, when
 * every page-table change is followed by the invalidation the architecture
 * requires for it (SDM Vol. 3A, "Invalidation of TLBs and Paging-Structure
 * Caches"; SDM Vol. 3C, "Invalidating Cached Mappings"; APM Vol. 2 "TLB
 * Control"). Deterministic: a fixed seed, the same cases on every run.
 *
 * Layout per case: data pages in [0, 256 KiB), all tables in [256, 512 KiB);
 * both copies of RAM are compared over that region at the end of a case. */
#include "conformance/mmu/mmu_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/vmx/ept_format.h"

#define CASES 3000
#define OPS 32
#define REGION 0x80000ull
#define TABLES 0x40000ull
#define MAX_MAPS 12

static uint64_t rng_state;
static bool g_trace; /* MMU_PROPERTY_TRACE=<case> prints that case's operations */
static uint64_t rnd(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }
static bool chance(unsigned percent) { return pick(100) < percent; }

struct pcase {
  struct fx f;
  uint8_t *ram2;
  struct mmu *gen;  /* the second cached MMU (generic walker only), or NULL */
  struct mmu_phys ref;
  const struct pt_format *gf, *nf;
  enum mmu_x86_mode mode;
  bool nxe;
  uint64_t groot, nroot;
  unsigned nmaps;
  uint64_t va[MAX_MAPS];
  unsigned leaf_level[MAX_MAPS];
};

static void set_both(struct pcase *p, uint64_t pa, uint64_t v, unsigned size)
{
  fx_set(&p->f, pa, v, size);
  memcpy(p->ram2 + pa, &v, size);
}

static uint64_t guest_leaf_bits(struct pcase *p, unsigned level)
{
  uint64_t b = 0;
  if (!chance(5)) b |= X_P;
  if (chance(60)) b |= X_W;
  if (chance(70)) b |= X_U;
  if (chance(50)) b |= X_A;
  if (chance(50)) b |= X_D;
  if (chance(30)) b |= X_G;
  if (level > 1) b |= X_PS;
  if (p->gf->entry_size == 8) {
    if (p->nxe && chance(20)) b |= X_XD;
    if (p->gf->pkeys) b |= X_PK(pick(4));
    if (chance(3)) b |= 1ull << 51;
    if (!p->nxe && chance(2)) b |= X_XD;
  }
  if (level == 2 && chance(3)) b |= 1ull << 14; /* reserved in large pages */
  return b;
}

static uint64_t guest_table_bits(void)
{
  uint64_t b = X_P | X_W | X_U | X_A * chance(50);
  if (chance(8)) b &= ~X_W;
  if (chance(8)) b &= ~X_U;
  return b;
}

static uint64_t nested_leaf_bits(struct pcase *p)
{
  if (p->f.ctx.slat == MMU_SLAT_NPT) {
    uint64_t b = X_P | X_U | X_W;
    if (chance(5)) b &= ~X_W;
    if (chance(3)) b &= ~X_U;
    if (chance(3)) b &= ~X_P;
    if (chance(5)) b |= X_XD;
    return b | (chance(50) ? X_A : 0);
  }
  static const uint64_t perms[] = { E_RWX, E_RWX, E_RWX, E_RWX, E_RWX, E_R | E_W, E_R, E_R | E_X, E_X, E_W, 0 };
  uint64_t b = perms[pick(sizeof perms / sizeof perms[0])] | E_WB;
  if (chance(3)) b = (b & ~(7ull << 3)) | (2ull << 3); /* misconfigured memory type */
  if (p->f.ctx.ept_mbec && chance(60)) b |= E_XU;
  return b;
}

static uint64_t va_base(struct pcase *p, unsigned i)
{
  static const uint64_t small[] = { 0x00400000, 0x80000000, 0xC0200000, 0x00000000 };
  static const uint64_t wide[] = { 0x0000000000400000ull, 0x00007f0000000000ull,
                                   0xffff800000000000ull, 0x0000000040000000ull };
  static const uint64_t five[] = { 0x00ff000000000000ull, 0x0000000000400000ull,
                                   0xff00000000000000ull, 0x0001000040000000ull };
  if (p->mode == MMU_X86_5LEVEL) return five[i];
  if (p->mode == MMU_X86_4LEVEL) return wide[i];
  return small[i];
}

/* Builds the case's nested identity map of REGION and its guest tables. */
static void build_case(struct pcase *p, unsigned n)
{
  struct fx *f = &p->f;
  memset(f->ram, 0, REGION);
  f->next = TABLES;
  mmu_flush_all(&f->mmu);
  if (p->gen) mmu_flush_all(p->gen);
  unsigned slat = pick(3);
  static const enum mmu_x86_mode modes[] = { MMU_X86_32, MMU_X86_32_PSE, MMU_X86_PAE, MMU_X86_4LEVEL, MMU_X86_5LEVEL };
  p->mode = modes[pick(5)];
  p->nxe = p->mode >= MMU_X86_PAE && chance(70);
  f->ctx = (struct mmu_context){ .cr0 = CR0_PE | CR0_PG | (chance(85) ? CR0_WP : 0),
                                 .efer = p->nxe ? EFER_NXE : 0, .tag = (uint16_t)(n & 7) };
  if (p->mode == MMU_X86_32_PSE) f->ctx.cr4 |= CR4_PSE;
  if (p->mode >= MMU_X86_PAE) f->ctx.cr4 |= CR4_PAE;
  if (p->mode >= MMU_X86_4LEVEL) {
    f->ctx.efer |= EFER_LME | EFER_LMA;
    if (chance(50)) f->ctx.cr4 |= CR4_PCIDE;
    if (chance(50)) f->ctx.cr4 |= CR4_PKE;
  }
  if (p->mode == MMU_X86_5LEVEL) f->ctx.cr4 |= CR4_LA57;
  if (chance(50)) f->ctx.cr4 |= CR4_PGE;
  p->gf = fx_x86(f, p->mode, p->nxe);
  p->nf = 0;
  /* Nested identity map of the region: 4 KiB, 2 MiB or 1 GiB leaves. */
  if (slat) {
    bool ept = slat == 1;
    f->ctx.slat = ept ? MMU_SLAT_EPT : MMU_SLAT_NPT;
    bool ad = ept && chance(50);
    f->ctx.ept_mbec = ept && chance(20);
    bool five = chance(25); /* 5-level EPT, or an NPT host with LA57 */
    p->nf = ept ? &f->mmu.phys.ept[five][f->ctx.ept_mbec][ad]
                : fx_x86(f, five ? MMU_X86_5LEVEL : MMU_X86_4LEVEL, true);
    uint64_t tb = ept ? (E_RWX | (f->ctx.ept_mbec ? E_XU : 0)) : X_TABLE;
    uint64_t lb = ept ? (E_RWX | E_WB | (f->ctx.ept_mbec ? E_XU : 0)) : (X_P | X_W | X_U);
    p->nroot = fx_page(f);
    unsigned lvl = pick(3) + 1;
    if (lvl == 1) {
      for (uint64_t pa = 0; pa < REGION; pa += 0x1000) fx_map(f, p->nf, p->nroot, pa, pa, 1, tb, lb);
    } else {
      fx_map(f, p->nf, p->nroot, 0, 0, lvl, tb, lb | (ept ? E_PS : X_PS));
    }
    if (ept) f->ctx.eptp = p->nroot | 6 | ((five ? 4u : 3u) << 3) | (ad ? EPTP_AD : 0);
    else {
      f->ctx.ncr3 = p->nroot;
      f->ctx.host_cr4 = CR4_PAE | (five ? CR4_LA57 : 0);
      f->ctx.host_efer = EFER_LMA | EFER_NXE;
    }
  }
  /* Guest tables. */
  p->groot = fx_page(f);
  uint64_t pcid = (f->ctx.cr4 & CR4_PCIDE) ? pick(4) : 0;
  f->ctx.cr3 = p->groot | pcid;
  p->nmaps = 4 + pick(MAX_MAPS - 3);
  for (unsigned i = 0; i < p->nmaps; i++) {
    unsigned leaf = 1;
    bool large_ok = p->mode != MMU_X86_32;
    if (large_ok && chance(25)) leaf = 2;
    if (p->mode >= MMU_X86_4LEVEL && chance(8)) leaf = 3;
    uint64_t size = 1ull << pt_level_shift(p->gf, leaf);
    uint64_t va = va_base(p, pick(4)) + (leaf == 1 ? (uint64_t)pick(8) << 12 : (uint64_t)pick(2) * size);
    uint64_t pa = leaf == 1 ? (uint64_t)pick(64) << 12 : (uint64_t)pick(4) * size;
    if (p->gf->entry_size == 4) pa &= 0xFFFFFFFFu;
    if (!fx_map(f, p->gf, p->groot, va, pa, leaf, guest_table_bits(), guest_leaf_bits(p, leaf)))
      leaf = 1; /* inside an existing larger page: still a useful address */
    p->va[i] = va;
    p->leaf_level[i] = leaf;
  }
  assert_true(f->next <= REGION);
  if (p->mode == MMU_X86_PAE && (slat != 2)) assert_true(mmu_load_pdptes(&f->mmu.phys, p->groot, f->ctx.pdpte));
  memcpy(p->ram2, f->ram, REGION);
}

static void randomize_mode_bits(struct pcase *p)
{
  struct mmu_context *c = &p->f.ctx;
  c->cpl = chance(30) ? 3 : 0;
  c->ac = chance(50);
  if (chance(10)) c->cr4 ^= CR4_SMEP;
  if (chance(10)) c->cr4 ^= CR4_SMAP;
  if (chance(10)) c->cr0 ^= CR0_WP;
  c->pkru = chance(30) ? (uint32_t)rnd() & 0xFF : 0;
}

static void compare(unsigned n, unsigned op, bool ok1, const struct mmu_translation *t1, const struct mmu_fault *f1,
                    bool ok2, const struct mmu_translation *t2, const struct mmu_fault *f2)
{
  bool same = ok1 == ok2;
  /* Write permission for Unicorn is a hint that may lag: a TLB entry filled
   * while a dirty flag was clear keeps withholding it even after another
   * mapping of the same page set that flag; the next write simply walks. */
  unsigned p1 = t1->perms, p2 = t2->perms;
  if (t1->tlb_hit && (p2 & MMU_PERM_WRITE) && !(p1 & MMU_PERM_WRITE)) p2 &= ~MMU_PERM_WRITE;
  if (same && ok1)
    same = t1->pa == t2->pa && t1->gpa == t2->gpa && p1 == p2 && t1->page_shift == t2->page_shift;
  if (same && !ok1)
    same = f1->kind == f2->kind && f1->error_code == f2->error_code && f1->cr2 == f2->cr2 &&
           f1->exit_qualification == f2->exit_qualification && f1->guest_physical == f2->guest_physical &&
           f1->guest_linear == f2->guest_linear && f1->exitinfo1 == f2->exitinfo1 && f1->exitinfo2 == f2->exitinfo2;
  if (!same)
    print_error("case %u op %u: cached ok=%d pa=%#llx perms=%u kind=%d ec=%#x q=%#llx i1=%#llx / "
                "reference ok=%d pa=%#llx perms=%u kind=%d ec=%#x q=%#llx i1=%#llx\n", n, op,
                ok1, (unsigned long long)t1->pa, t1->perms, f1->kind, f1->error_code,
                (unsigned long long)f1->exit_qualification, (unsigned long long)f1->exitinfo1,
                ok2, (unsigned long long)t2->pa, t2->perms, f2->kind, f2->error_code,
                (unsigned long long)f2->exit_qualification, (unsigned long long)f2->exitinfo1);
  if (!same)
    print_error("  cached: %s gpa=%#llx / reference: %s gpa=%#llx\n", f1->reason ? f1->reason : "-",
                (unsigned long long)f1->guest_physical, f2->reason ? f2->reason : "-",
                (unsigned long long)f2->guest_physical);
  assert_true(same);
}

/* Changes one guest leaf and invalidates its page (INVLPG also empties the
 * paging-structure caches of the PCID). */
static void change_guest_leaf(struct pcase *p)
{
  unsigned i = pick(p->nmaps);
  uint64_t ea = fx_entry(&p->f, p->gf, p->groot, p->va[i], p->leaf_level[i]);
  if (!ea) return;
  uint64_t e = fx_get(&p->f, ea, p->gf->entry_size);
  /* Only a page mapping: turning a table into a page would need the whole
   * range invalidated, which INVLPG of one address does not do. */
  if (p->leaf_level[i] > 1 && !(e & X_PS)) return;
  uint64_t addr = e & (p->leaf_level[i] == 1 ? 0xFFFFF000ull : ~0ull << pt_level_shift(p->gf, p->leaf_level[i]));
  addr &= p->gf->entry_size == 4 ? 0xFFFFFFFFull : 0x000FFFFFFFFFF000ull;
  set_both(p, ea, addr | guest_leaf_bits(p, p->leaf_level[i]), p->gf->entry_size);
  if (g_trace)
    print_message("  leaf of %#llx (level %u) at %#llx: %#llx -> %#llx\n", (unsigned long long)p->va[i],
                  p->leaf_level[i], (unsigned long long)ea, (unsigned long long)e,
                  (unsigned long long)fx_get(&p->f, ea, p->gf->entry_size));
  mmu_invlpg(&p->f.mmu, &p->f.ctx, p->va[i]);
  if (p->gen) mmu_invlpg(p->gen, &p->f.ctx, p->va[i]);
}

/* Changes a table entry anywhere in the guest tables, then invalidates all of
 * the context (INVPCID all-context including globals). */
static void change_guest_table(struct pcase *p)
{
  unsigned i = pick(p->nmaps);
  unsigned top = p->mode == MMU_X86_PAE ? 2 : p->gf->levels; /* PDPTEs are registers */
  if (p->leaf_level[i] + 1 > top) return;
  unsigned level = p->leaf_level[i] + 1 + pick(top - p->leaf_level[i]);
  uint64_t ea = fx_entry(&p->f, p->gf, p->groot, p->va[i], level);
  if (!ea) return;
  uint64_t e = fx_get(&p->f, ea, p->gf->entry_size);
  uint64_t keep = e & p->gf->lv[level].table_addr;
  /* Sometimes point at a fresh, empty table. Never at an existing one: the
   * aliasing would let the walker's own A/D writes change entries that the
   * paging-structure caches may keep stale. */
  if (chance(20) && p->f.next + 4096 <= REGION) keep = fx_page(&p->f);
  set_both(p, ea, keep | guest_table_bits() | (chance(3) ? X_PS : 0), p->gf->entry_size);
  assert_true(mmu_invpcid(&p->f.mmu, &p->f.ctx, MMU_INVPCID_ALL_GLOBAL, 0, 0));
  if (p->gen) assert_true(mmu_invpcid(p->gen, &p->f.ctx, MMU_INVPCID_ALL_GLOBAL, 0, 0));
}

/* Changes one nested leaf, then INVEPT single-context or TLB_CONTROL 3. */
static void change_nested_leaf(struct pcase *p)
{
  if (!p->nf) return;
  uint64_t gpa = (uint64_t)pick(REGION >> 12) << 12;
  for (unsigned l = 1; l <= 3; l++) {
    uint64_t ea = fx_entry(&p->f, p->nf, p->nroot, gpa, l);
    if (!ea) continue;
    uint64_t e = fx_get(&p->f, ea, 8);
    if (!(e & p->nf->present) || (l > 1 && !(e & (1u << 7)))) continue; /* not a leaf */
    uint64_t addr = e & p->nf->lv[l].leaf_addr;
    set_both(p, ea, addr | nested_leaf_bits(p) | (l > 1 ? (1u << 7) : 0), 8);
    break;
  }
  struct mmu *both[2] = { &p->f.mmu, p->gen };
  for (unsigned k = 0; k < 2 && both[k]; k++) {
    if (p->f.ctx.slat == MMU_SLAT_EPT) assert_true(mmu_invept(both[k], MMU_INVEPT_SINGLE, p->f.ctx.eptp));
    else assert_true(mmu_svm_tlb_control(both[k], 3, p->f.ctx.tag));
  }
}

/* Two cached MMUs on the same RAM contents and operations must agree in
 * everything, the TLB-hit flag and reference count of each translation and
 * every statistic included. */
static void compare_cached(unsigned n, unsigned op, bool ok1, const struct mmu_translation *t1,
                           const struct mmu_fault *f1, bool ok2, const struct mmu_translation *t2,
                           const struct mmu_fault *f2)
{
  bool same = ok1 == ok2;
  if (same && ok1)
    same = t1->pa == t2->pa && t1->page_base == t2->page_base && t1->gpa == t2->gpa && t1->perms == t2->perms &&
           t1->refs == t2->refs && t1->page_shift == t2->page_shift && t1->tlb_hit == t2->tlb_hit;
  if (same && !ok1)
    same = f1->kind == f2->kind && f1->error_code == f2->error_code && f1->cr2 == f2->cr2 &&
           f1->exit_qualification == f2->exit_qualification && f1->guest_physical == f2->guest_physical &&
           f1->guest_linear == f2->guest_linear && f1->exitinfo1 == f2->exitinfo1 &&
           f1->exitinfo2 == f2->exitinfo2 && !strcmp(f1->reason ? f1->reason : "", f2->reason ? f2->reason : "");
  if (!same)
    print_error("case %u op %u: fast ok=%d pa=%#llx perms=%u refs=%u hit=%d kind=%d / generic ok=%d pa=%#llx "
                "perms=%u refs=%u hit=%d kind=%d\n", n, op, ok1, (unsigned long long)t1->pa, t1->perms, t1->refs,
                t1->tlb_hit, f1->kind, ok2, (unsigned long long)t2->pa, t2->perms, t2->refs, t2->tlb_hit, f2->kind);
  assert_true(same);
}

/* Runs CASES random cases; each access goes through the cached MMU and
 * either the reference walker (p->gen NULL) or the generic-only MMU. */
static void run_cases(struct pcase *p)
{
  rng_state = 0x9E3779B97F4A7C15ull;
  unsigned accesses = 0, hits = 0, faults = 0;
  uint8_t *other = p->gen ? p->gen->phys.ram : p->ram2;
  for (unsigned n = 0; n < CASES; n++) {
    build_case(p, n);
    if (p->gen) memcpy(other, p->f.ram, REGION);
    for (unsigned op = 0; op < OPS; op++) {
      unsigned what = pick(100);
      bool trace = g_trace = getenv("MMU_PROPERTY_TRACE") && (unsigned)atoi(getenv("MMU_PROPERTY_TRACE")) == n;
      if (what < 8) { if (trace) print_message("op %u: change leaf\n", op); change_guest_leaf(p); continue; }
      if (what < 11) { if (trace) print_message("op %u: change table\n", op); change_guest_table(p); continue; }
      if (what < 14) { if (trace) print_message("op %u: change nested\n", op); change_nested_leaf(p); continue; }
      randomize_mode_bits(p);
      uint64_t va = p->va[pick(p->nmaps)] + (chance(70) ? pick(0x1000) : chance(70) ? pick(0x2000) : (rnd() & 0x3FFFFF));
      enum mmu_access acc = (enum mmu_access)pick(3);
      unsigned flags = chance(10) ? MMU_IMPLICIT_SUPERVISOR : 0;
      struct mmu_translation t1 = { 0 }, t2 = { 0 };
      struct mmu_fault f1 = { 0 }, f2 = { 0 };
      bool ok1 = mmu_translate(&p->f.mmu, &p->f.ctx, va, acc, flags, &t1, &f1);
      bool ok2 = p->gen ? mmu_translate(p->gen, &p->f.ctx, va, acc, flags, &t2, &f2)
                        : mmu_reference_translate(&p->ref, &p->f.ctx, va, acc, flags, &t2, &f2);
      if (trace)
        print_message("op %u: %s slat=%d va=%#llx acc=%d cpl=%u ok=%d/%d hit=%d\n", op, p->gf->name,
                      p->f.ctx.slat, (unsigned long long)va, acc, p->f.ctx.cpl, ok1, ok2, t1.tlb_hit);
      if (p->gen) compare_cached(n, op, ok1, &t1, &f1, ok2, &t2, &f2);
      else compare(n, op, ok1, &t1, &f1, ok2, &t2, &f2);
      accesses++;
      hits += t1.tlb_hit;
      faults += !ok1;
    }
    if (memcmp(p->f.ram, other, REGION) != 0) {
      print_error("case %u: memory (A/D flags) differs between the two\n", n);
      fail();
    }
    if (p->gen && memcmp(mmu_stats(&p->f.mmu), mmu_stats(p->gen), sizeof(struct mmu_stats)) != 0) {
      print_error("case %u: statistics differ between the fast and the generic walker\n", n);
      fail();
    }
  }
  /* The run must have exercised all outcomes. */
  print_message("property: %u cases, %u accesses, %u TLB hits, %u faults\n", CASES, accesses, hits, faults);
  assert_true(hits > accesses / 10);
  assert_true(faults > accesses / 10);
  assert_true(faults < accesses - accesses / 10);
}

static void test_property_cached_matches_reference(void **s)
{
  (void)s;
  struct pcase p = { 0 };
  fx_init(&p.f, NULL);
  p.ram2 = calloc(1, p.f.size);
  assert_non_null(p.ram2);
  assert_true(mmu_phys_init(&p.ref, p.ram2, p.f.size, p.f.mmu.phys.maxphyaddr, p.f.mmu.phys.features));
  run_cases(&p);
  free(p.ram2);
  fx_fini(&p.f);
}

/* Runs the cases through two cached MMUs of geometry `geo`: the default one
 * (specialised translation where it applies) and a generic-only one. */
static void run_fast_against_generic(const struct mmu_geometry *geo)
{
  struct pcase p = { 0 };
  fx_init(&p.f, geo);
  struct mmu gen;
  uint8_t *ram3 = calloc(1, p.f.size);
  assert_non_null(ram3);
  assert_true(mmu_init(&gen, geo, ram3, p.f.size));
  gen.generic_only = true;
  p.gen = &gen;
  p.ram2 = ram3; /* set_both() keeps the generic MMU's RAM in step */
  run_cases(&p);
  mmu_fini(&gen);
  free(ram3);
  fx_fini(&p.f);
}

/* The specialised translation (sim/mmu/walk_fast.c) against the generic
 * walker with the same caches: not only the same architectural answers but
 * the same cache contents, seen through TLB hits, reference counts and the
 * statistics (hits and misses of every cache). The run covers the fast
 * path's configurations (4/5-level guests, EPT and NPT) and its hand-overs
 * (faults, flag updates); the other modes take the generic path in both.
 * Besides the default geometry, tiny caches with LRU and with FIFO
 * replacement, so that every cache evicts and the victim choice shows. */
static void test_property_fast_walker_matches_generic_walker(void **s)
{
  (void)s;
  run_fast_against_generic(&mmu_default_geometry);
  struct mmu_geometry tiny = mmu_default_geometry;
  tiny.tlb[MMU_PAGE_4K] = (struct mmu_cache_geometry){ 2, 3 };
  tiny.tlb[MMU_PAGE_LARGE] = (struct mmu_cache_geometry){ 1, 2 };
  tiny.tlb[MMU_PAGE_1G] = (struct mmu_cache_geometry){ 1, 1 };
  for (unsigned l = 2; l < MMU_PSC_LEVELS; l++) tiny.psc[l] = (struct mmu_cache_geometry){ 1, 2 };
  tiny.gpa_tlb = (struct mmu_cache_geometry){ 2, 3 };
  run_fast_against_generic(&tiny);
  tiny.replacement = MMU_REPL_FIFO;
  run_fast_against_generic(&tiny);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_property_cached_matches_reference),
    cmocka_unit_test(test_property_fast_walker_matches_generic_walker),
  };
  return cmocka_run_group_tests_name("mmu_property", tests, NULL, NULL);
}
