/* The MMU: set-up, the cached translation path (combined TLB in front of the
 * walker) and the reference translation. */
#include "sim/mmu/mmu.h"

#include <assert.h>
#include <string.h>

#include "models/vmx/ept_format.h"
#include "sim/mmu/cache.h"
#include "sim/mmu/walk.h"
#include "sim/mmu/walk_fast.h"
#include "sim/mmu/x86_format.h"

/* A Skylake-like shape: a large 4 KiB array, small large-page arrays, small
 * paging-structure caches; MAXPHYADDR 46; every optional feature present. */
const struct mmu_geometry mmu_default_geometry = {
  .tlb = { [MMU_PAGE_4K] = { 128, 12 }, [MMU_PAGE_LARGE] = { 8, 4 }, [MMU_PAGE_1G] = { 4, 4 } },
  .psc = { [2] = { 8, 4 }, [3] = { 4, 4 }, [4] = { 2, 2 }, [5] = { 1, 2 } },
  .gpa_tlb = { 64, 8 },
  .replacement = MMU_REPL_LRU,
  .maxphyaddr = 46,
  .features = MMU_FEAT_PSE36 | MMU_FEAT_1G_PAGES | MMU_FEAT_PKU | MMU_FEAT_LA57 |
              MMU_FEAT_EPT_EXEC_ONLY | MMU_FEAT_EPT_5LEVEL | MMU_FEAT_EPT_AD |
              MMU_FEAT_EPT_1G | MMU_FEAT_EPT_ADV_INFO | MMU_FEAT_EPT_MBEC,
};

bool mmu_phys_init(struct mmu_phys *p, uint8_t *ram, uint64_t ram_size, uint8_t maxphy, unsigned features)
{
  memset(p, 0, sizeof *p);
  if (maxphy < 32 || maxphy > 52) return false;
  p->ram = ram;
  p->ram_size = ram_size;
  p->maxphyaddr = maxphy;
  p->features = features;
  for (unsigned mode = 0; mode < MMU_X86_MODES; mode++)
    for (unsigned nxe = 0; nxe < 2; nxe++) {
      x86_format_build(&p->x86[mode][nxe], (enum mmu_x86_mode)mode, maxphy, features, nxe);
      pt_format_tabulate(&p->x86[mode][nxe]);
      pt_format_fast(&p->x86[mode][nxe]);
    }
  for (unsigned five = 0; five < 2; five++)
    for (unsigned mbec = 0; mbec < 2; mbec++)
      for (unsigned ad = 0; ad < 2; ad++) {
        ept_format_build(&p->ept[five][mbec][ad], five ? 5 : 4, maxphy, mbec, ad,
                         features & MMU_FEAT_EPT_1G, features & MMU_FEAT_EPT_EXEC_ONLY);
        struct pt_format *f = &p->ept[five][mbec][ad];
        pt_format_tabulate(f);
        /* The misconfiguration rules of models/vmx read only entry bits
         * 2:0, 5:3 (memory type) and 10 (user-execute under MBEC). */
        for (unsigned leaf = 0; leaf < 2; leaf++)
          for (unsigned i = 0; i < 128; i++) {
            uint64_t e = (i & 0x3F) | ((uint64_t)(i >> 6) << 10);
            if (ept_entry_misconfig(f, e, leaf)) f->ept_misconfig[leaf][i >> 6] |= 1ull << (i & 63);
          }
        pt_format_fast(f);
      }
  return true;
}

bool mmu_init(struct mmu *m, const struct mmu_geometry *geo, uint8_t *ram, uint64_t ram_size)
{
  memset(m, 0, sizeof *m);
  if (!geo) geo = &mmu_default_geometry;
  m->geo = *geo;
  m->generation = 1;
  if (!mmu_phys_init(&m->phys, ram, ram_size, geo->maxphyaddr, geo->features)) return false;
  bool ok = true;
  for (unsigned s = 0; s < MMU_PAGE_SIZES; s++) ok = ok && cache_alloc(&m->tlb[s], &geo->tlb[s]);
  for (unsigned l = 2; l < MMU_PSC_LEVELS; l++) ok = ok && cache_alloc(&m->psc[l], &geo->psc[l]);
  ok = ok && cache_alloc(&m->gpa_tlb, &geo->gpa_tlb);
  if (!ok) mmu_fini(m);
  return ok;
}

void mmu_fini(struct mmu *m)
{
  for (unsigned s = 0; s < MMU_PAGE_SIZES; s++) cache_free(&m->tlb[s]);
  for (unsigned l = 0; l < MMU_PSC_LEVELS; l++) cache_free(&m->psc[l]);
  cache_free(&m->gpa_tlb);
}

void mmu_context_from_cpu(struct mmu_context *ctx, const struct cpu_state *cpu)
{
  /* Field by field rather than a zeroing compound literal: this runs on
   * every TLB fill. */
  ctx->cr0 = cpu->cr0;
  ctx->cr3 = cpu->cr3;
  ctx->cr4 = cpu->cr4;
  ctx->efer = cpu->efer;
  memcpy(ctx->pdpte, cpu->pdpte, sizeof ctx->pdpte);
  ctx->pkru = cpu->pkru;
  ctx->cpl = (uint8_t)cpu_cpl(cpu);
  ctx->ac = (cpu->rflags & RFLAGS_AC) != 0;
  ctx->slat = MMU_SLAT_NONE;
  ctx->eptp = 0;
  ctx->ept_mbec = false;
  ctx->ncr3 = 0;
  ctx->host_cr4 = 0;
  ctx->host_efer = 0;
  ctx->tag = 0;
}

bool mmu_pdpte_valid(uint64_t pdpte, uint8_t maxphy)
{
  if (!(pdpte & 1)) return true;
  return !(pdpte & (pt_bits(63, maxphy) | pt_bits(8, 5) | pt_bits(2, 1)));
}

bool mmu_load_pdptes(const struct mmu_phys *p, uint64_t cr3, uint64_t pdpte[4])
{
  uint64_t v[4];
  uint64_t base = cr3 & 0xFFFFFFE0u;
  for (unsigned i = 0; i < 4; i++) {
    uint64_t pa = base + 8 * i;
    v[i] = pa + 8 <= p->ram_size ? 0 : ~0ull;
    if (pa + 8 <= p->ram_size) memcpy(&v[i], p->ram + pa, 8);
    if (!mmu_pdpte_valid(v[i], p->maxphyaddr)) return false;
  }
  memcpy(pdpte, v, sizeof v);
  return true;
}

const struct mmu_stats *mmu_stats(const struct mmu *m) { return &m->stats; }

void mmu_stats_reset(struct mmu *m) { memset(&m->stats, 0, sizeof m->stats); }

static void count_tag(struct mmu *m, uint16_t tag, bool hit)
{
  for (unsigned i = 0; i < MMU_STATS_TAGS; i++) {
    struct mmu_tag_stats *t = &m->stats.per_tag[i];
    if (!t->used) { t->used = true; t->tag = tag; }
    if (t->tag != tag) continue;
    if (hit) t->hits++; else t->misses++;
    return;
  }
  if (hit) m->stats.other_tag_hits++; else m->stats.other_tag_misses++;
}

static void identity(uint64_t linear, struct mmu_translation *out)
{
  uint64_t pa = linear & 0xFFFFFFFFu; /* paging off: 32-bit linear = physical */
  *out = (struct mmu_translation){ .pa = pa, .page_base = pa & ~0xFFFull, .gpa = pa,
                                   .perms = MMU_PERM_READ | MMU_PERM_WRITE | MMU_PERM_EXEC,
                                   .page_shift = 12 };
}

/* Page sizes a combined entry can have, and the array each lives in. With
 * 32-bit paging a 4 MiB guest page under a 2 MiB nested page combines to
 * 2 MiB, so the large array holds both sizes; the key carries the size. */
static const struct { uint8_t shift, array; } tlb_sizes[] = {
  { 12, MMU_PAGE_4K }, { 21, MMU_PAGE_LARGE }, { 22, MMU_PAGE_LARGE }, { 30, MMU_PAGE_1G },
};

static inline uint64_t tlb_key(uint64_t lin, unsigned shift) { return ((lin >> shift) << shift) | shift; }

static const unsigned perm_of[] = { [MMU_READ] = MMU_PERM_READ, [MMU_WRITE] = MMU_PERM_WRITE, [MMU_FETCH] = MMU_PERM_EXEC };

/* A TLB entry found for the access: a hit if it allows the access. */
static inline bool tlb_use(struct mmu *m, struct walk_env *w, struct mmu_entry *e, unsigned s, unsigned shift,
                           uint64_t lin, enum mmu_access acc, uint64_t sig, struct mmu_translation *out)
{
  if (e->sig != sig) {
    /* The access mode changed since the permissions were computed. */
    struct walk_result r = { .rights = e->rights, .nrights = e->nrights, .pkey = e->pkey,
                             .gdirty = e->flags & ENT_GDIRTY, .ndirty = e->flags & ENT_NDIRTY };
    e->perms = (uint8_t)walk_perms(w, &r);
    e->sig = sig;
  }
  /* The permissions already require every dirty flag a write would set. */
  if (!(e->perms & perm_of[acc])) {
    /* The cached entry does not allow this access (or a dirty flag must
     * be set): drop it and walk, as a page fault would drop it anyway
     * (SDM Vol. 3A, "Invalidation of TLBs and Paging-Structure Caches"). */
    cache_drop(&m->tlb[s], e);
    return false;
  }
  uint64_t off = lin & ((1ull << shift) - 1);
  out->pa = e->hpa | off;
  out->page_base = out->pa & ~0xFFFull;
  out->gpa = e->gpa | off;
  out->perms = e->perms;
  out->refs = 0;
  out->page_shift = e->shift;
  out->tlb_hit = true;
  m->stats.tlb_hits[s]++;
  return true;
}

/* *none_4k: the 4 KiB array holds no valid entry the 4 KiB lookup matches
 * (none was found, none was dropped). */
static bool tlb_hit(struct mmu *m, struct walk_env *w, uint64_t lin, enum mmu_access acc, uint64_t sig,
                    struct mmu_translation *out, bool *none_4k)
{
  const struct mmu_context *c = w->ctx;
  struct mmu_entry *e = cache_lookup(m, &m->tlb[MMU_PAGE_4K], lin >> 12, tlb_key(lin, 12), c->tag, w->pcid,
                                     w->root_tag);
  if (e) return tlb_use(m, w, e, MMU_PAGE_4K, 12, lin, acc, sig, out);
  *none_4k = true;
  /* Nothing filled in the larger arrays since the last full flush: every
   * other lookup would miss too. */
  if (m->tlb[MMU_PAGE_LARGE].filled_gen != m->generation && m->tlb[MMU_PAGE_1G].filled_gen != m->generation)
    return false;
  for (unsigned i = 1; i < sizeof tlb_sizes / sizeof tlb_sizes[0]; i++) {
    unsigned shift = tlb_sizes[i].shift, s = tlb_sizes[i].array;
    if (shift == 22 && w->gf->index_bits != 10) continue;
    e = cache_lookup(m, &m->tlb[s], lin >> shift, tlb_key(lin, shift), c->tag, w->pcid, w->root_tag);
    if (e) return tlb_use(m, w, e, s, shift, lin, acc, sig, out);
  }
  return false;
}

/* none_4k: tlb_hit()'s, for a 4 KiB fill the lookup before the walk proved
 * that no entry has the key and tags (nothing but the walk ran since, and
 * walks do not fill the TLB), so the slot is the set's free way or victim
 * without the scan cache_slot_at() does. */
static void tlb_fill(struct mmu *m, struct walk_env *w, uint64_t lin, const struct walk_result *r,
                     const struct mmu_translation *out, uint64_t sig, bool none_4k)
{
  unsigned shift = r->shift;
  unsigned s = shift >= 30 ? MMU_PAGE_1G : shift > 12 ? MMU_PAGE_LARGE : MMU_PAGE_4K;
  uint64_t key = tlb_key(lin, shift);
  uint64_t mask = (1ull << shift) - 1;
  struct mmu_entry *e;
  struct mmu_cache *c = &m->tlb[s];
  if (s == MMU_PAGE_4K && none_4k) {
    if (!c->sets) return;
    e = cache_claim(m, c, (uint32_t)((lin >> 12) & c->set_mask), key);
  } else {
    uint64_t *block;
    uint32_t way;
    e = cache_slot_at(m, c, lin >> shift, key, w->ctx->tag, w->pcid, w->root_tag, &block, &way);
    if (!e) return;
    cache_commit_way(m, c, block, way, key);
  }
  /* Field by field: every field is written, without zeroing the line first. */
  e->key = key;
  e->root = w->root_tag;
  e->hpa = out->pa & ~mask;
  e->gpa = out->gpa & ~mask;
  e->tag = w->ctx->tag;
  e->pcid = w->pcid;
  e->rights = (uint8_t)r->rights;
  e->nrights = (uint8_t)r->nrights;
  e->flags = (uint8_t)((r->global ? ENT_GLOBAL : 0) | (r->gdirty ? ENT_GDIRTY : 0) | (r->ndirty ? ENT_NDIRTY : 0) |
                       (w->nf && w->nf->kind == PT_KIND_EPT ? ENT_EPT : 0));
  e->shift = (uint8_t)shift;
  e->nshift = 0;
  e->gshift = (uint8_t)(r->gshift > shift ? r->gshift : shift);
  e->pkey = (uint8_t)r->pkey;
  e->perms = (uint8_t)out->perms;
  e->sig = sig;
}

static_assert(sizeof(struct walk_env) <= sizeof(((struct mmu *)0)->memo_env), "memo_env too small");

/* The walk environment depends only on these context fields; it is derived
 * again only when one of them changes. */
static bool same_env_ctx(const struct mmu_context *a, const struct mmu_context *b)
{
  return a->cr0 == b->cr0 && a->cr3 == b->cr3 && a->cr4 == b->cr4 && a->efer == b->efer &&
         a->slat == b->slat && a->eptp == b->eptp && a->ept_mbec == b->ept_mbec && a->ncr3 == b->ncr3 &&
         a->host_cr4 == b->host_cr4 && a->host_efer == b->host_efer && a->tag == b->tag;
}

/* The memoised environment is used in place (the MMU is not reentrant):
 * only the per-access fields change. */
static struct walk_env *env_for(struct mmu *m, const struct mmu_context *ctx, unsigned flags,
                                struct mmu_fault *fault)
{
  struct walk_env *w = (struct walk_env *)m->memo_env;
  if (!m->memo_valid || !same_env_ctx(&m->memo_ctx, ctx)) {
    if (!walk_env_init(w, &m->phys, m, ctx, 0, fault)) { m->memo_valid = false; return 0; }
    w->fast = !m->generic_only && walk_fast_ok(w);
    m->memo_ctx = *ctx;
    m->memo_valid = true;
  }
  w->ctx = ctx;
  w->flags = flags;
  w->user = ctx->cpl == 3 && !(flags & MMU_IMPLICIT_SUPERVISOR);
  w->sig = w->sig_regs | walk_mode_sig_access(ctx, w->user, flags); /* CR0 and CR4 are the memo's */
  w->refs = 0;
  /* Memory may have changed since the last translation: the generic walker
   * forgets its nested path, the fast one checks it again before use. */
  if (w->fast) w->npath.checked = false;
  else w->npath.low = 0;
  return w;
}

bool mmu_translate(struct mmu *m, const struct mmu_context *ctx, uint64_t linear,
                   enum mmu_access acc, unsigned flags, struct mmu_translation *out, struct mmu_fault *fault)
{
  m->stats.translations++;
  if (!(ctx->cr0 & CR0_PG) && ctx->slat == MMU_SLAT_NONE) { identity(linear, out); return true; }
  struct walk_env *w = env_for(m, ctx, flags, fault);
  if (!w) { m->stats.faults++; return false; }
  uint64_t lin = (ctx->efer & EFER_LMA) ? linear : (linear & 0xFFFFFFFFu);
  uint64_t sig = w->sig;
  /* Linear and combined mappings exist only with paging on (SDM Vol. 3C,
   * "Cached Information"): with CR0.PG=0 only guest-physical ones are cached. */
  bool none_4k = false;
  if (w->gf && tlb_hit(m, w, lin, acc, sig, out, &none_4k)) { count_tag(m, ctx->tag, true); return true; }
  if (w->gf) { m->stats.tlb_misses++; count_tag(m, ctx->tag, false); }
  struct walk_result r;
  m->stats.walks++;
  bool ok = w->fast ? walk_fast_translate(w, lin, acc, out, fault, &r) : walk_translate(w, lin, acc, out, fault, &r);
  m->stats.refs += w->refs;
  if (!ok) {
    m->stats.faults++;
    return false;
  }
  out->refs = w->refs;
  out->tlb_hit = false;
  if (w->gf) tlb_fill(m, w, lin, &r, out, sig, none_4k);
  return true;
}

bool mmu_reference_translate(const struct mmu_phys *phys, const struct mmu_context *ctx,
                             uint64_t linear, enum mmu_access acc, unsigned flags,
                             struct mmu_translation *out, struct mmu_fault *fault)
{
  if (!(ctx->cr0 & CR0_PG) && ctx->slat == MMU_SLAT_NONE) { identity(linear, out); return true; }
  struct walk_env w;
  if (!walk_env_init(&w, phys, 0, ctx, flags, fault)) return false;
  struct walk_result r;
  if (!walk_translate(&w, linear, acc, out, fault, &r)) return false;
  out->refs = w.refs;
  out->tlb_hit = false;
  return true;
}
