/* fuzz_mmu_walk: the cached MMU (mmu_translate: TLB, paging-structure
 * caches, guest-physical TLB) against the uncached reference walker
 * (mmu_reference_translate) on page-table memory and contexts from the
 * input: every paging mode, paging off, EPT (4/5 levels, A/D, MBEC) and NPT,
 * two CPU shapes (every feature, big caches / no optional feature, one-entry
 * FIFO caches) and four MAXPHYADDRs. The two walkers run on two copies of
 * RAM. After every translation: the same result, the same fault with every
 * fault field, and the same memory (accessed/dirty flags).
 *
 * Input: a context header, then operations (see the op_* functions): write a
 * page-table qword, translate, run an invalidation, switch VPID/ASID or PCID,
 * load the PAE PDPTE registers.
 *
 * Why the comparison is exact. Hardware may use cached translations that no
 * longer match memory until software invalidates them (SDM Vol. 3A,
 * "Invalidation of TLBs and Paging-Structure Caches"; APM Vol. 2, "TLB
 * Flush"), so the two walkers may only be compared while every cached
 * entry still matches memory. The harness keeps that true: after any change
 * to RAM - a write by the input, or accessed/dirty flags a walk set (which
 * can change what an aliased entry means, e.g. a guest A bit landing in an
 * EPT memory-type field) - it flushes the cached MMU completely. Everything
 * the input may do between flushes leaves cached entries valid: switching
 * tags or PCIDs (entries are tagged), changing CPL, RFLAGS.AC, CR0.WP,
 * CR4.SMEP/SMAP or PKRU (part of every entry's permission key), and any
 * invalidation (it only removes entries). The stale-entry behaviour itself
 * is the property test's subject (conformance/mmu/test_property.c).
 *
 * One case cannot be kept apart by flushing: a single translation whose
 * guest accessed/dirty writes (bits 5 and 6) land in an EPT paging
 * structure it then uses again (a guest table aliasing an EPT table). There
 * bits 5:3 are the memory type or reserved, so the entry's meaning changes
 * in the middle of the translation; the cached walker reuses the
 * guest-physical mapping it made a moment earlier, the reference walker
 * re-reads memory, and both are architectural (the processor may use
 * cached guest-physical mappings, SDM Vol. 3C, "Caching Translation
 * Information"). The same holds under NPT for the PAE PDPTEs, read from
 * memory, where bits 5 and 6 are reserved. Only when the harness proves
 * such a write happened may the results differ (aliased_write()). */
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "models/vmx/ept_format.h"
#include "sim/mmu/mmu.h"

#define RAM_SIZE 0x10000u /* 16 pages: room for every level of both walks */

static uint8_t ram_cached[RAM_SIZE], ram_ref[RAM_SIZE], ram_before[RAM_SIZE];
static unsigned long aliased_divergences; /* reported by FUZZ_MMU_STATS */

static const uint8_t maxphys[4] = { 36, 39, 46, 52 };

/* Two CPU shapes: the default geometry, and one-entry FIFO caches on a CPU
 * with no optional paging feature (so every eviction path runs). */
static const struct mmu_geometry tiny_geometry = {
  .tlb = { { 1, 1 }, { 1, 1 }, { 1, 1 } },
  .psc = { [2] = { 1, 1 }, [3] = { 1, 1 }, [4] = { 1, 1 }, [5] = { 1, 1 } },
  .gpa_tlb = { 1, 1 },
  .replacement = MMU_REPL_FIFO,
  .features = 0,
};

struct shape {
  bool ready;
  struct mmu mmu;
  struct mmu_phys ref;
};
static struct shape shapes[2][4];

static struct shape *get_shape(unsigned tiny, unsigned phys)
{
  struct shape *s = &shapes[tiny][phys];
  if (!s->ready) {
    struct mmu_geometry g = tiny ? tiny_geometry : mmu_default_geometry;
    g.maxphyaddr = maxphys[phys];
    FUZZ_CHECK(mmu_init(&s->mmu, &g, ram_cached, RAM_SIZE), "mmu_init");
    FUZZ_CHECK(mmu_phys_init(&s->ref, ram_ref, RAM_SIZE, g.maxphyaddr, g.features), "mmu_phys_init");
    s->ready = true;
  }
  mmu_flush_all(&s->mmu);
  mmu_stats_reset(&s->mmu);
  return s;
}

struct run {
  struct shape *s;
  struct mmu_context ctx;
  unsigned linear_bits; /* 32, 48 or 57: addresses are made canonical for the mode */
};

/* Header: mode, SLAT, features of the context, its roots; or raw CR0/CR4/EFER
 * (contexts the architecture cannot reach must be refused the same way). */
static bool read_context(struct fuzz_in *in, struct run *r)
{
  uint8_t a = fin_u8(in), b = fin_u8(in);
  r->s = get_shape(a >> 7, b >> 6);
  struct mmu_context *c = &r->ctx;
  *c = (struct mmu_context){ 0 };
  unsigned mode = (a & 7) % 6; /* 0 paging off, 1 32-bit, 2 32-bit+PSE, 3 PAE, 4 4-level, 5 5-level */
  c->slat = (enum mmu_slat)(((a >> 3) & 3) % 3);
  c->cr0 = CR0_PE | CR0_ET | (mode ? CR0_PG : 0) | ((a & 0x20) ? CR0_WP : 0);
  if (mode == 2) c->cr4 |= CR4_PSE;
  if (mode >= 3) c->cr4 |= CR4_PAE;
  if (mode >= 4) c->efer |= EFER_LME | EFER_LMA;
  if (mode == 5) c->cr4 |= CR4_LA57;
  if (b & 1) c->cr4 |= CR4_PGE;
  if ((b & 2) && mode >= 4) c->cr4 |= CR4_PCIDE;
  if (b & 4) c->cr4 |= CR4_PKE;
  if ((b & 8) && mode >= 3) c->efer |= EFER_NXE;
  c->ept_mbec = c->slat == MMU_SLAT_EPT && (b & 0x10);
  c->cr3 = fin_u64(in);
  c->eptp = fin_u64(in); /* EPTP, or nCR3 under NPT */
  if (c->slat == MMU_SLAT_NPT) {
    c->ncr3 = c->eptp;
    c->eptp = 0;
    c->host_cr4 = CR4_PAE | ((b & 0x20) ? CR4_LA57 : 0);
    c->host_efer = EFER_LME | EFER_LMA | EFER_NXE;
  }
  if (a & 0x40) { /* raw control registers */
    c->cr0 = fin_u64(in);
    c->cr4 = fin_u64(in);
    c->efer = fin_u64(in);
  }
  c->tag = fin_u16(in);
  bool pg = c->cr0 & CR0_PG, lma = pg && (c->efer & EFER_LMA);
  r->linear_bits = lma ? ((c->cr4 & CR4_LA57) ? 57 : 48) : 32;
  /* PAE outside long mode uses the PDPTE registers: without SLAT MOV CR3
   * loads them from memory (op_load_pdptes; until then they are not
   * present); under EPT VM entry loads them from the VMCS, whose checks
   * refuse reserved bits; NPT reads them from memory. */
  if (pg && (c->cr4 & CR4_PAE) && !lma && c->slat == MMU_SLAT_EPT) {
    for (int i = 0; i < 4; i++) {
      c->pdpte[i] = fin_u64(in);
      if (!mmu_pdpte_valid(c->pdpte[i], r->s->ref.maxphyaddr)) return false;
    }
  }
  return true;
}

static uint64_t canonical(const struct run *r, uint64_t la)
{
  if (r->linear_bits == 32) return la & 0xFFFFFFFFu;
  unsigned sh = 64 - r->linear_bits;
  return (uint64_t)((int64_t)(la << sh) >> sh);
}

static void op_write(struct fuzz_in *in, struct run *r)
{
  uint64_t at = (fin_u16(in) % (RAM_SIZE / 8)) * 8, v = fin_u64(in);
  memcpy(ram_cached + at, &v, 8);
  memcpy(ram_ref + at, &v, 8);
  mmu_flush_all(&r->s->mmu);
}

static bool same(bool ok1, const struct mmu_translation *t1, const struct mmu_fault *f1, bool ok2,
                 const struct mmu_translation *t2, const struct mmu_fault *f2)
{
  if (ok1 != ok2) return false;
  if (ok1)
    return t1->pa == t2->pa && t1->gpa == t2->gpa && t1->page_base == t2->page_base && t1->perms == t2->perms &&
           t1->page_shift == t2->page_shift;
  return f1->kind == f2->kind && f1->error_code == f2->error_code && f1->cr2 == f2->cr2 &&
         f1->exit_qualification == f2->exit_qualification && f1->guest_physical == f2->guest_physical &&
         f1->guest_linear == f2->guest_linear && f1->exitinfo1 == f2->exitinfo1 && f1->exitinfo2 == f2->exitinfo2;
}

static void compare(const struct run *r, uint64_t la, enum mmu_access acc, bool ok1, const struct mmu_translation *t1,
                    const struct mmu_fault *f1, bool ok2, const struct mmu_translation *t2, const struct mmu_fault *f2)
{
  const char *what = ok1 != ok2 ? "success" : "result";
  FUZZ_CHECK(same(ok1, t1, f1, ok2, t2, f2),
             "cached and reference %s differ: la=%#llx access=%d cpl=%u slat=%d cr0=%#llx cr4=%#llx efer=%#llx "
             "cr3=%#llx eptp=%#llx ncr3=%#llx tag=%u hit=%d\n"
             "  cached:    ok=%d pa=%#llx gpa=%#llx perms=%u shift=%u | kind=%d ec=%#x q=%#llx gp=%#llx gl=%#llx "
             "i1=%#llx i2=%#llx (%s)\n"
             "  reference: ok=%d pa=%#llx gpa=%#llx perms=%u shift=%u | kind=%d ec=%#x q=%#llx gp=%#llx gl=%#llx "
             "i1=%#llx i2=%#llx (%s)",
             what, (unsigned long long)la, acc, r->ctx.cpl, r->ctx.slat, (unsigned long long)r->ctx.cr0,
             (unsigned long long)r->ctx.cr4, (unsigned long long)r->ctx.efer, (unsigned long long)r->ctx.cr3,
             (unsigned long long)r->ctx.eptp, (unsigned long long)r->ctx.ncr3, r->ctx.tag, t1->tlb_hit, ok1,
             (unsigned long long)t1->pa, (unsigned long long)t1->gpa, t1->perms, t1->page_shift, f1->kind,
             f1->error_code, (unsigned long long)f1->exit_qualification, (unsigned long long)f1->guest_physical,
             (unsigned long long)f1->guest_linear, (unsigned long long)f1->exitinfo1, (unsigned long long)f1->exitinfo2,
             f1->reason ? f1->reason : "-", ok2, (unsigned long long)t2->pa, (unsigned long long)t2->gpa, t2->perms,
             t2->page_shift, f2->kind, f2->error_code, (unsigned long long)f2->exit_qualification,
             (unsigned long long)f2->guest_physical, (unsigned long long)f2->guest_linear,
             (unsigned long long)f2->exitinfo1, (unsigned long long)f2->exitinfo2, f2->reason ? f2->reason : "-");
}

/* Marks the RAM pages the EPT paging structures of `eptp` occupy in `ram`
 * (any entry with a permission bit and no PS bit counts as a table
 * pointer: an over-approximation is fine for a safety test). */
static void ept_tables(const uint8_t *ram, uint64_t table, unsigned level, uint64_t addr_mask,
                       bool pages[RAM_SIZE / 4096])
{
  if (table >= RAM_SIZE || pages[table / 4096]) return;
  pages[table / 4096] = true;
  if (level == 1) return;
  for (unsigned i = 0; i < 512; i++) {
    uint64_t e;
    memcpy(&e, ram + table + 8 * i, 8);
    if ((e & 7) && !(e & 0x80)) ept_tables(ram, e & addr_mask, level - 1, addr_mask, pages);
  }
}

/* Did this translation set a guest accessed/dirty bit (5, 6) inside an EPT
 * paging structure, or (NPT, PAE guest) anywhere a PDPTE may be? */
static bool aliased_write(const struct run *r)
{
  const struct mmu_context *c = &r->ctx;
  bool pae_regs_in_memory = c->slat == MMU_SLAT_NPT && (c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LMA);
  if (c->slat != MMU_SLAT_EPT && !pae_regs_in_memory) return false;
  bool pages[RAM_SIZE / 4096] = { false };
  /* Addresses as the MMU forms them: bits 51:12 cut at MAXPHYADDR. */
  uint64_t addr_mask = ((1ull << r->s->ref.maxphyaddr) - 1) & ~0xfffull;
  if (c->slat == MMU_SLAT_EPT) ept_tables(ram_before, c->eptp & addr_mask, ((c->eptp >> 3) & 7) + 1, addr_mask, pages);
  else memset(pages, 1, sizeof pages);
  for (uint64_t at = 0; at < RAM_SIZE; at += 8) {
    uint64_t a, b1, b2;
    memcpy(&a, ram_before + at, 8);
    memcpy(&b1, ram_cached + at, 8);
    memcpy(&b2, ram_ref + at, 8);
    if (pages[at / 4096] && ((a ^ b1) | (a ^ b2)) & 0x60) return true;
  }
  return false;
}

/* One access: the mode bits that are part of every entry's permission key
 * come from the input each time. */
static void op_translate(struct fuzz_in *in, struct run *r)
{
  uint64_t la = canonical(r, fin_u64(in));
  uint8_t k = fin_u8(in), pk = fin_u8(in);
  enum mmu_access acc = (enum mmu_access)((k & 3) % 3);
  unsigned flags = (k & 4) ? MMU_IMPLICIT_SUPERVISOR : 0;
  struct mmu_context *c = &r->ctx;
  c->cpl = (k & 8) ? 3 : 0;
  c->ac = k & 0x10;
  if (k & 0x20) c->cr0 ^= CR0_WP;
  if (k & 0x40) c->cr4 ^= CR4_SMEP;
  if (k & 0x80) c->cr4 ^= CR4_SMAP;
  c->pkru = (uint32_t)pk * 0x01010101u;

  memcpy(ram_before, ram_cached, RAM_SIZE);
  struct mmu_translation t1 = { 0 }, t2 = { 0 };
  struct mmu_fault f1 = { 0 }, f2 = { 0 };
  bool ok1 = mmu_translate(&r->s->mmu, c, la, acc, flags, &t1, &f1);
  bool ok2 = mmu_reference_translate(&r->s->ref, c, la, acc, flags, &t2, &f2);
  if (aliased_write(r) && (!same(ok1, &t1, &f1, ok2, &t2, &f2) || memcmp(ram_cached, ram_ref, RAM_SIZE) != 0)) {
    /* Both answers are architectural (see the top of the file): go on
     * from one memory state, with nothing cached. */
    aliased_divergences++;
    memcpy(ram_ref, ram_cached, RAM_SIZE);
    mmu_flush_all(&r->s->mmu);
    return;
  }
  compare(r, la, acc, ok1, &t1, &f1, ok2, &t2, &f2);
  size_t diff = 0;
  while (diff < RAM_SIZE && ram_cached[diff] == ram_ref[diff]) diff++;
  FUZZ_CHECK(diff == RAM_SIZE,
             "memory (accessed/dirty flags) differs after translating %#llx access %d (ok=%d): byte %#zx was %#x, "
             "cached %#x, reference %#x",
             (unsigned long long)la, acc, ok1, diff, diff < RAM_SIZE ? ram_before[diff] : 0,
             diff < RAM_SIZE ? ram_cached[diff] : 0, diff < RAM_SIZE ? ram_ref[diff] : 0);
  if (memcmp(ram_before, ram_cached, RAM_SIZE) != 0) mmu_flush_all(&r->s->mmu);
}

/* Invalidations only remove cached entries, so any of them, with any
 * operand, keeps the comparison exact. */
static void op_invalidate(struct fuzz_in *in, struct run *r)
{
  uint8_t k = fin_u8(in);
  uint64_t la = canonical(r, fin_u64(in));
  uint16_t x = fin_u16(in);
  struct mmu *m = &r->s->mmu;
  switch (k % 9) {
  case 0: mmu_invlpg(m, &r->ctx, la); return;
  case 1: mmu_invpcid(m, &r->ctx, (k >> 4) & 7, x & 0xFFF, la); return;
  case 2: mmu_invvpid(m, (k >> 4) & 3, x, la); return;
  case 3: mmu_invept(m, (k >> 4) & 3, (k & 0x80) ? r->ctx.eptp : la); return;
  case 4: mmu_svm_tlb_control(m, (k >> 4) & 7, x); return;
  case 5: mmu_invlpga(m, la, x); return;
  case 6: mmu_vmx_transition(m, k & 0x10); return;
  case 7: mmu_flush_all(m); return;
  case 8: mmu_mov_cr3(m, &r->ctx, r->ctx.cr3 & ~(1ull << 63)); return; /* same root, no "no-flush" bit */
  }
}

/* VPID/ASID and PCID: entries are tagged, so switching keeps them valid
 * (the root stays the same, and the PCID is only a PCID with CR4.PCIDE). */
static void op_switch(struct fuzz_in *in, struct run *r)
{
  uint16_t tag = fin_u16(in), pcid = fin_u16(in);
  r->ctx.tag = tag;
  if ((r->ctx.cr4 & CR4_PCIDE) && (r->ctx.efer & EFER_LMA)) r->ctx.cr3 = (r->ctx.cr3 & ~0xFFFull) | (pcid & 0xFFF);
}

/* MOV CR3 in PAE mode without SLAT: loads the PDPTE registers from memory;
 * a reserved bit makes the instruction #GP and nothing changes. A new
 * PDPTE may change what global entries mean, so everything is flushed. */
static void op_load_pdptes(struct run *r)
{
  struct mmu_context *c = &r->ctx;
  bool pae_regs = (c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LMA) && c->slat == MMU_SLAT_NONE;
  uint64_t pdpte[4];
  if (!pae_regs || !mmu_load_pdptes(&r->s->ref, c->cr3, pdpte)) return;
  memcpy(c->pdpte, pdpte, sizeof pdpte);
  mmu_flush_all(&r->s->mmu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fuzz_in in = { data, size };
  memset(ram_cached, 0, RAM_SIZE);
  memset(ram_ref, 0, RAM_SIZE);
  struct run r;
  if (!read_context(&in, &r)) return 0; /* a context MOV CR3 / VM entry would refuse */
  unsigned ops = 0;
  while (fin_more(&in) && ops++ < 512) {
    uint8_t op = fin_u8(&in);
    switch (op % 10) {
    case 0: case 1: op_write(&in, &r); break;
    case 2: case 3: case 4: case 5: case 6: op_translate(&in, &r); break;
    case 7: op_invalidate(&in, &r); break;
    case 8: op_switch(&in, &r); break;
    case 9: op_load_pdptes(&r); break;
    }
  }
  if (getenv("FUZZ_MMU_STATS")) {
    const struct mmu_stats *st = mmu_stats(&r.s->mmu);
    fprintf(stderr, "translations %llu walks %llu faults %llu tlb misses %llu, aliased divergences so far %lu\n",
            (unsigned long long)st->translations, (unsigned long long)st->walks, (unsigned long long)st->faults,
            (unsigned long long)st->tlb_misses, aliased_divergences);
  }
  return 0;
}
