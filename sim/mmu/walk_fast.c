/* The cached MMU's translation for the common configuration: 4- or 5-level
 * guest paging, with no SLAT or with EPT / NPT in a 4- or 5-level format.
 * It does what walk_translate() does for those formats - the same entries
 * counted as read, the same faults, the same accessed/dirty writes, the same
 * cache lookups, fills, replacement and statistics in the same order - with
 * loops specialised per nested kind for 8-byte entries, the entry checks
 * folded into a few masks (pt_format.fast), short lanes for nested walks
 * near the previous one, a nested path kept between translations (checked
 * against memory before use), and cache fills that do not scan a set their
 * lookup has just missed. The rare cases (a nested walk that
 * faults or must set a flag) go to the generic code in walk.c. The reference
 * walker never comes here, so the property test compares two
 * implementations.
 *
 * Rules: as walk.c (SDM Vol. 3A, Paging; SDM Vol. 3C, "VMX Support for
 * Address Translation"; APM Vol. 2, "Nested Paging"). */
#include "sim/mmu/walk_fast.h"

#include "sim/mmu/cache.h"
#include "sim/mmu/walk_internal.h"

enum nested_kind { NK_NONE, NK_EPT, NK_NPT };

static inline unsigned level_shift(unsigned level) { return 12u + 9u * (level - 1u); }

/* pt_rights() of a guest (x86) entry: no x86 right reads bit 10, so the
 * index leaves that bit 0 (test_fast checks the tables agree). */
static inline unsigned x86_rights(const struct pt_format *f, uint64_t e)
{
  return f->rights_lut[(e & 7) | ((e >> 59) & 16)];
}

/* walk_nested_allows() for a known nested kind. */
static inline bool nested_allows(unsigned nr, enum mmu_access acc, bool user_page, const enum nested_kind k)
{
  if (k == NK_NPT && !(nr & PT_RIGHT_U)) return false; /* NPT accesses are user accesses */
  switch (acc) {
  case MMU_READ:  return nr & PT_RIGHT_R;
  case MMU_WRITE: return (nr & (PT_RIGHT_R | PT_RIGHT_W)) == (PT_RIGHT_R | PT_RIGHT_W);
  case MMU_FETCH: return nr & (user_page && k == NK_EPT ? PT_RIGHT_XU : PT_RIGHT_XS);
  }
  return false;
}

/* Checks the nested path kept from an earlier translation (or from before
 * a write) against memory: each entry on it is read again and must be the
 * value the path was built from; the tables and rights derived from an
 * entry depend only on its value and the format (the environment, and with
 * it the path, is derived afresh when the format or root changes). A
 * differing entry drops the path; walks then start from the root. */
static __attribute__((noinline)) void npath_check(struct walk_env *w)
{
  w->npath.checked = true;
  if (!w->npath.low) return;
  const uint64_t last = w->ram_last;
  for (unsigned l = w->nf->levels; l >= w->npath.low; l--) {
    uint64_t ea = w->npath.ea[l], e;
    if (ea > last) goto drop; /* read from RAM when remembered: cannot happen */
    memcpy(&e, w->ram + ea, 8);
    if (e != w->npath.raw[l]) goto drop;
  }
  return;
drop:
  w->npath.low = 0;
}

/* The common case of a nested walk: every entry read is present, has no
 * reserved bit and no EPT misconfiguration, already has its accessed flag
 * (and, for a write, the leaf its dirty flag), and the access is allowed. It
 * starts where walk_nested() would (below the deepest entry of the
 * remembered path in the same region), reads the same entries, counts the
 * same references and leaves the same remembered path; it writes no memory.
 * Anything else returns false having changed nothing but the remembered
 * path, which it empties (the path only saves reads: walk_nested() counts
 * the entries it stands for either way); walk_nested() then walks. */
static inline __attribute__((always_inline)) bool
nested_walk_fast(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool user_page, struct nres *r,
                 const enum nested_kind k)
{
  const struct pt_format *restrict f = w->nf;
  const unsigned levels = f->levels;
  if (!w->npath.checked) npath_check(w);
  /* The lane most nested walks of a translation take: the guest's tables
   * (and often the final page) lie in one 2 MiB region of guest-physical
   * memory, so the previous walk ended at a 4 KiB entry of the same level-1
   * table and only that entry is new; in the same 1 GiB region, a level-2
   * entry of the same table too. The general code below would start at the
   * same entry (l = 2 or 3); this is it without the bookkeeping of a walk
   * of any length. */
  if (w->npath.low == 2 && !((gpa ^ w->npath.addr) >> 30)) {
    const uint64_t last = w->ram_last;
    uint64_t table = w->npath.table[1], e;
    unsigned rights = w->npath.rights[2];
    if ((gpa ^ w->npath.addr) >> 21) {
      uint64_t ea = w->npath.table[2] + ((gpa >> 21) & 511u) * 8u;
      if (ea > last) goto slow;
      memcpy(&e, w->ram + ea, 8);
      if (e & f->fast.ps[2]) goto any; /* a 2 MiB page: the general code */
      unsigned v = f->fast.lut[0][k == NK_EPT ? pt_fast_index(e) & 0x7F : pt_fast_index(e)];
      if ((e & f->fast.rsvd[2][0]) | (~e & f->fast.need1) | (v & PT_FAST_UNUSABLE)) goto slow;
      rights = w->npath.rights[3] & v;
      table = e & f->lv[2].table_addr;
      w->npath.rights[2] = rights;
      w->npath.table[1] = table;
      w->npath.raw[2] = e;
      w->npath.ea[2] = ea;
    }
    uint64_t ea = table + ((gpa >> 12) & 511u) * 8u;
    if (ea > last) goto slow;
    memcpy(&e, w->ram + ea, 8);
    unsigned v = f->fast.lut[1][k == NK_EPT ? pt_fast_index(e) & 0x7F : pt_fast_index(e)];
    if ((e & f->fast.rsvd[1][1]) | (~e & f->fast.need1) | (v & PT_FAST_UNUSABLE)) goto slow;
    rights &= v;
    bool dirty = (e & f->d_bit) == f->d_bit;
    if (acc == MMU_WRITE && !dirty) goto slow;
    if (!nested_allows(rights, acc, user_page, k)) goto slow;
    w->refs += levels;
    w->npath.addr = gpa;
    r->hpa = (e & f->lv[1].leaf_addr) | (gpa & 0xFFF);
    r->rights = rights;
    r->shift = 12;
    r->dirty = dirty;
    return true;
  }
any:;
  unsigned level = levels, skipped = 0;
  uint64_t table = w->nroot;
  unsigned rights = PT_RIGHTS_ALL;
  if (w->npath.low) {
    /* The lowest level l >= low whose region (address bits from
     * level_shift(l) up) is the remembered address's. */
    uint64_t x = gpa ^ w->npath.addr;
    unsigned l = w->npath.low;
    if (x >> 12) {
      unsigned need = (63u - (unsigned)__builtin_clzll(x) - 12u) / 9u + 2u;
      if (need > l) l = need;
    }
    if (l <= levels) {
      level = l - 1;
      table = w->npath.table[l - 1];
      rights = w->npath.rights[l];
      skipped = levels - l + 1;
    }
  }
  const unsigned start = level;
  const uint8_t *ram = w->ram;
  const uint64_t last = w->ram_last; /* walk_fast_ok(): RAM holds at least one entry */
  const uint64_t need1 = f->fast.need1;
  unsigned shift = level_shift(level);
  uint64_t e;
  for (;;) {
    uint64_t ea = table + ((gpa >> shift) & 511u) * 8u;
    if (ea > last) goto slow;
    memcpy(&e, ram + ea, 8);
    unsigned leaf = level == 1 || (e & f->fast.ps[level]);
    /* Rights, EPT misconfiguration / not present. EPT rights and rules do
     * not read bit 63 (pt_fast_index() bit 7): the lower half serves. */
    unsigned v = f->fast.lut[leaf][k == NK_EPT ? pt_fast_index(e) & 0x7F : pt_fast_index(e)];
    if ((e & f->fast.rsvd[level][leaf]) | (~e & need1) | (v & PT_FAST_UNUSABLE)) goto slow;
    rights &= v;
    if (leaf) break;
    table = e & f->lv[level].table_addr;
    w->npath.rights[level] = rights;
    w->npath.table[level - 1] = table;
    w->npath.raw[level] = e;
    w->npath.ea[level] = ea;
    level--;
    shift -= 9;
  }
  bool dirty = (e & f->d_bit) == f->d_bit;
  if (acc == MMU_WRITE && !dirty) goto slow;
  if (!nested_allows(rights, acc, user_page, k)) goto slow;
  w->refs += skipped + (start - level + 1);
  w->npath.addr = gpa;
  w->npath.low = level + 1;
  r->hpa = (e & f->lv[level].leaf_addr) | (gpa & ((1ull << shift) - 1));
  r->rights = rights;
  r->shift = shift;
  r->dirty = dirty;
  return true;
slow:
  w->npath.low = 0;
  return false;
}

/* Fills the guest-physical TLB entry for gpa (set si) after a lookup that
 * missed (or whose entry was dropped): no entry for the key is valid
 * (lookup and fill match the same entries: no PCID, never global), so
 * cache_claim_in() needs no second scan. */
static inline __attribute__((always_inline)) void gpa_fill(struct walk_env *w, uint64_t gpa, uint64_t *blk,
                                                           uint32_t si, const struct nres *r,
                                                           const enum nested_kind k)
{
  struct mmu *m = w->mmu;
  struct mmu_cache *c = &m->gpa_tlb;
  if (!c->sets) return;
  uint64_t key = gpa & ~0xFFFull;
  struct mmu_entry *e = cache_claim_in(m, c, blk, si, key);
  /* The fields a guest-physical entry is read by (lookup, hit, invalidation);
   * gpa, rights, pkey, perms and sig belong to TLB entries only. */
  e->key = key;
  e->root = w->root_tag;
  e->hpa = r->hpa & ~0xFFFull;
  e->tag = w->gpa_tag;
  e->pcid = 0;
  e->nrights = (uint8_t)r->rights;
  e->flags = (uint8_t)((r->dirty ? ENT_NDIRTY : 0) | (k == NK_EPT ? ENT_EPT : 0));
  e->shift = 12;
  e->nshift = (uint8_t)r->shift;
  e->gshift = 12;
}

/* A nested translation through the guest-physical TLB: a hit that allows the
 * access (and, for a write, has its dirty flags set) is used; anything else
 * walks and fills the entry (SDM Vol. 3C, "Cached Information": guest-physical
 * mappings; APM Vol. 2, "Nested Paging"). */
static inline __attribute__((always_inline)) bool
nested_cached(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final, bool user_page, uint64_t linear,
              bool linear_valid, unsigned grights, struct nres *r, struct mmu_fault *fault, const enum nested_kind k)
{
  struct mmu *m = w->mmu;
  struct mmu_cache *c = &m->gpa_tlb;
  /* cache_lookup(), keeping the set for the fill. */
  uint32_t si = (uint32_t)((gpa >> 12) & c->set_mask);
  uint64_t *blk = cache_set(c, si);
  struct mmu_entry *e = 0;
  /* A set not used since the last full flush holds nothing (cache_claim()
   * empties it). */
  if (c->filled_gen == m->generation && (uint32_t)blk[SET_GEN] == m->generation) {
    uint64_t key = gpa & ~0xFFFull;
    for (uint64_t v = blk[SET_VALID]; v; v &= v - 1) {
      uint32_t way = (uint32_t)__builtin_ctzll(v);
      if (blk[SET_KEYS + way] != key) continue;
      struct mmu_entry *x = &c->e[(size_t)si * c->ways + way];
      if (x->tag != w->gpa_tag || x->root != w->root_tag || (x->pcid != 0 && !(x->flags & ENT_GLOBAL))) continue;
      cache_touch(blk, way);
      e = x;
      break;
    }
  }
  if (e) {
    if (nested_allows(e->nrights, acc, user_page, k) && (acc != MMU_WRITE || (e->flags & ENT_NDIRTY))) {
      m->stats.gpa_hits++;
      *r = nres_of_entry(e, gpa);
      return true;
    }
    /* An entry that does not allow this access: walk afresh. */
    cache_drop(c, e);
  }
  m->stats.gpa_misses++;
  if (!nested_walk_fast(w, gpa, acc, user_page, r, k) &&
      !walk_nested(w, gpa, acc, final, user_page, linear, linear_valid, grights, r, fault))
    return false;
  gpa_fill(w, gpa, blk, si, r, k);
  return true;
}

/* Fills the paging-structure-cache entry of level l (the table below it is
 * at `next`) after its lookup missed; as gpa_fill(), no second scan. */
static inline __attribute__((always_inline)) void psc_fill(struct walk_env *w, unsigned l, uint64_t linear, uint64_t next, unsigned rights,
                            const enum nested_kind k)
{
  struct mmu *m = w->mmu;
  struct mmu_cache *c = &m->psc[l];
  if (!c->sets) return;
  unsigned s = level_shift(l);
  uint32_t si = (uint32_t)((linear >> s) & c->set_mask);
  uint64_t key = linear & ~((1ull << s) - 1);
  struct mmu_entry *e = cache_claim(m, c, si, key);
  /* The fields a paging-structure-cache entry is read by (lookup, walk
   * start, invalidation); the others belong to TLB entries only. */
  e->key = key;
  e->root = w->root_tag;
  e->hpa = next;
  e->tag = w->ctx->tag;
  e->pcid = w->pcid;
  e->rights = (uint8_t)rights;
  e->flags = k == NK_EPT ? ENT_EPT : 0;
  e->shift = (uint8_t)s;
  e->gshift = (uint8_t)s;
}

static inline __attribute__((always_inline)) bool
fast_translate(struct walk_env *w, uint64_t linear, enum mmu_access acc, struct mmu_translation *out,
               struct mmu_fault *fault, struct walk_result *res, const enum nested_kind k)
{
  struct mmu *m = w->mmu;
  const struct pt_format *restrict f = w->gf;
  const unsigned levels = f->levels;

  /* Start from the lowest paging-structure cache entry that covers the
   * address, else from CR3 (SDM Vol. 3A, "Paging-Structure Caches"). */
  unsigned level = levels;
  uint64_t table = w->groot;
  bool table_hpa = k == NK_NONE;
  unsigned rights = PT_RIGHTS_ALL;
  unsigned l;
  for (l = 2; l <= levels; l++) {
    unsigned s = level_shift(l);
    struct mmu_entry *e = cache_lookup(m, &m->psc[l], linear >> s, linear & ~((1ull << s) - 1), w->ctx->tag,
                                       w->pcid, w->root_tag);
    if (!e) continue;
    m->stats.psc_hits[l]++;
    level = l - 1;
    table = e->hpa;
    table_hpa = true;
    rights = e->rights;
    break;
  }
  if (l > levels) m->stats.psc_misses++;

  /* The guest walk; with SLAT each entry's guest-physical address goes
   * through the nested dimension first. */
  const unsigned start = level;
  uint64_t ent[PT_MAX_LEVELS + 1], ent_hpa[PT_MAX_LEVELS + 1];
  unsigned acc_rights[PT_MAX_LEVELS + 1];
  const enum mmu_access ps_acc = w->ps_write ? MMU_WRITE : MMU_READ;
  const uint64_t last = w->ram_last; /* walk_fast_ok(): RAM holds at least one entry */
  unsigned shift = level_shift(level);
  uint64_t e;
  uint64_t all = ~0ull; /* the bits every entry of the walk has */
  for (;;) {
    uint64_t off = ((linear >> shift) & 511u) * 8u;
    uint64_t ea = table + off;
    if (k != NK_NONE && !table_hpa) {
      struct nres nr;
      if (!nested_cached(w, ea, ps_acc, false, false, linear, true, 0, &nr, fault, k)) return false;
      ea = nr.hpa;
    }
    /* ram_read() for an 8-byte aligned entry: all ones outside RAM. */
    e = ~0ull;
    if (ea <= last) memcpy(&e, w->ram + ea, 8);
    w->refs++;
    all &= e;
    ent[level] = e;
    ent_hpa[level] = ea;
    rights &= x86_rights(f, e);
    acc_rights[level] = rights;
    if (!(e & f->present)) return walk_page_fault(w, linear, acc, 0, "entry not present", fault);
    unsigned leaf = level == 1 || (e & f->fast.ps[level]);
    if (e & f->fast.rsvd[level][leaf])
      return walk_page_fault(w, linear, acc, PF_P | PF_RSVD, "reserved bit set in a paging-structure entry", fault);
    if (leaf) break;
    table = e & f->lv[level].table_addr;
    table_hpa = k == NK_NONE;
    level--;
    shift -= 9;
  }

  /* Access rights of the whole walk, then the guest's accessed/dirty flags
   * (SDM Vol. 3A, "Access Rights", "Accessed and Dirty Flags"). */
  unsigned pkey = f->pkeys ? (unsigned)(e >> 59) & 0xF : 0;
  unsigned g = walk_guest_perms_remembered(w, rights, pkey);
  static const unsigned perm_of[] = { [MMU_READ] = MMU_PERM_READ, [MMU_WRITE] = MMU_PERM_WRITE,
                                      [MMU_FETCH] = MMU_PERM_EXEC };
  if (!(g & perm_of[acc]))
    return walk_page_fault(w, linear, acc, walk_guest_check(w, rights, pkey, acc),
                           "access rights do not allow the access", fault);
  const bool write = acc == MMU_WRITE;
  if ((all & f->a_bit) != f->a_bit || (write && !(e & f->d_bit)))
    for (l = start; l >= level; l--) {
      uint64_t bits = f->a_bit | (l == level && write ? f->d_bit : 0);
      if ((ent[l] & bits) == bits) continue;
      ram_set_bits(w->phys, ent_hpa[l], bits & ~ent[l], 8);
      w->npath.checked = false; /* the write may have changed an entry on the remembered nested path */
    }
  uint64_t gpa = (e & f->lv[level].leaf_addr) | (linear & ((1ull << shift) - 1));
  const bool upage = rights & PT_RIGHT_U;
  res->rights = rights;
  res->pkey = pkey;
  res->global = (w->ctx->cr4 & CR4_PGE) && (e & f->g_bit);
  res->gdirty = write || (e & f->d_bit);
  res->shift = shift;
  res->gshift = shift;
  res->nrights = PT_RIGHTS_ALL;
  res->ndirty = true;

  /* The final guest-physical access. */
  uint64_t hpa = gpa;
  if (k != NK_NONE) {
    struct nres nr;
    if (!nested_cached(w, gpa, acc, true, upage, linear, true, rights, &nr, fault, k)) return false;
    hpa = nr.hpa;
    res->nrights = nr.rights;
    res->ndirty = nr.dirty;
    if (nr.shift < res->shift) res->shift = nr.shift;
  }

  /* Paging-structure-cache entries for the levels walked above the leaf;
   * their lookups above have just missed (nothing filled them since). */
  for (l = start; l > level; l--) psc_fill(w, l, linear, ent_hpa[l - 1] & ~0xFFFull /* a table is a page */,
                                            acc_rights[l], k);

  /* walk_perms(): the guest's answer g with the nested rights. */
  unsigned p = 0;
  if ((g & MMU_PERM_READ) && (k == NK_NONE || nested_allows(res->nrights, MMU_READ, upage, k))) p |= MMU_PERM_READ;
  if (res->gdirty && res->ndirty && (g & MMU_PERM_WRITE) &&
      (k == NK_NONE || nested_allows(res->nrights, MMU_WRITE, upage, k)))
    p |= MMU_PERM_WRITE;
  if ((g & MMU_PERM_EXEC) && (k == NK_NONE || nested_allows(res->nrights, MMU_FETCH, upage, k))) p |= MMU_PERM_EXEC;
  out->pa = hpa;
  out->page_base = hpa & ~0xFFFull;
  out->gpa = gpa;
  out->page_shift = (uint8_t)(res->shift > 30 ? 12 : res->shift);
  out->perms = p;
  return true;
}

bool walk_fast_translate(struct walk_env *w, uint64_t linear, enum mmu_access acc,
                         struct mmu_translation *out, struct mmu_fault *fault, struct walk_result *res)
{
  if (!w->nf) return fast_translate(w, linear, acc, out, fault, res, NK_NONE);
  if (w->nf->kind == PT_KIND_EPT) return fast_translate(w, linear, acc, out, fault, res, NK_EPT);
  return fast_translate(w, linear, acc, out, fault, res, NK_NPT);
}
