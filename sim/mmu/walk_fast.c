/* The cached MMU's translation for the common configuration: 4- or 5-level
 * guest paging, with no SLAT or with EPT / NPT in a 4- or 5-level format.
 * It does what walk_translate() does for those formats - the same entries
 * read and counted, the same faults, the same accessed/dirty writes, the same
 * cache lookups, fills, replacement and statistics in the same order - with
 * loops specialised for 8-byte entries and without the generic walker's
 * per-level bookkeeping. The rare cases (a nested walk that faults or must
 * set a flag) go to the generic code in walk.c. The reference walker never
 * comes here, so the property test compares two implementations.
 *
 * Rules: as walk.c (SDM Vol. 3A, Paging; SDM Vol. 3C, "VMX Support for
 * Address Translation"; APM Vol. 2, "Nested Paging"). */
#include "sim/mmu/walk_fast.h"

#include "sim/mmu/cache.h"
#include "sim/mmu/walk_internal.h"

static inline unsigned level_shift(unsigned level) { return 12u + 9u * (level - 1u); }

/* The common case of a nested walk, on a format with fast_walk: every entry
 * read is present, has no reserved bit and no EPT misconfiguration, already
 * has its accessed flag (and, for a write, the leaf its dirty flag), and the
 * access is allowed. It starts where walk_nested() would (below the deepest
 * entry of the remembered path in the same region), reads the same entries,
 * counts the same references and leaves the same remembered path; it writes
 * no memory. Anything else returns false having changed nothing but the
 * remembered path, which it empties (the path only saves reads: walk_nested
 * counts the entries it stands for either way); walk_nested() then walks. */
static inline __attribute__((always_inline)) bool
nested_walk_fast(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool user_page, struct nres *r)
{
  const struct pt_format *f = w->nf;
  const unsigned levels = f->levels;
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
  const uint8_t *ram = w->phys->ram;
  const uint64_t ram_size = w->phys->ram_size;
  const bool ept = f->kind == PT_KIND_EPT;
  uint64_t e;
  for (;;) {
    const struct pt_level *lv = &f->lv[level];
    uint64_t ea = table + ((gpa >> level_shift(level)) & 511u) * 8u;
    if (ea >= ram_size || ram_size - ea < 8) goto slow;
    memcpy(&e, ram + ea, 8);
    if (!(e & f->present)) goto slow;
    bool leaf = level == 1 || (lv->large_ok && (e & f->ps_bit));
    if (e & (leaf ? lv->rsvd_leaf : lv->rsvd_table)) goto slow;
    if (ept && pt_ept_misconfigured(f, e, leaf)) goto slow;
    if ((e & f->a_bit) != f->a_bit) goto slow;
    rights &= pt_rights(f, e);
    if (leaf) break;
    table = e & lv->table_addr;
    w->npath.rights[level] = rights;
    w->npath.table[level - 1] = table;
    level--;
  }
  bool dirty = (e & f->d_bit) == f->d_bit;
  if (acc == MMU_WRITE && !dirty) goto slow;
  if (!walk_nested_allows(w, rights, acc, user_page)) goto slow;
  w->refs += skipped + (start - level + 1);
  w->npath.addr = gpa;
  w->npath.low = level + 1;
  unsigned shift = level_shift(level);
  r->hpa = (e & f->lv[level].leaf_addr) | (gpa & ((1ull << shift) - 1));
  r->rights = rights;
  r->shift = shift;
  r->dirty = dirty;
  return true;
slow:
  w->npath.low = 0;
  return false;
}

/* A nested translation through the guest-physical TLB: a hit that allows the
 * access (and, for a write, has its dirty flags set) is used; anything else
 * walks and fills the entry (SDM Vol. 3C, "Cached Information": guest-physical
 * mappings; APM Vol. 2, "Nested Paging"). */
static inline __attribute__((always_inline)) bool
nested_cached(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final, bool user_page, uint64_t linear,
              bool linear_valid, unsigned grights, struct nres *r, struct mmu_fault *fault)
{
  struct mmu *m = w->mmu;
  struct mmu_cache *c = &m->gpa_tlb;
  uint64_t key = gpa & ~0xFFFull;
  struct mmu_entry *e = cache_lookup(m, c, gpa >> 12, key, w->gpa_tag, 0, w->root_tag);
  if (e) {
    if (walk_nested_allows(w, e->nrights, acc, user_page) && (acc != MMU_WRITE || (e->flags & ENT_NDIRTY))) {
      m->stats.gpa_hits++;
      r->hpa = e->hpa | (gpa & 0xFFF);
      r->rights = e->nrights;
      r->shift = e->nshift;
      r->dirty = e->flags & ENT_NDIRTY;
      return true;
    }
    /* An entry that does not allow this access: walk afresh. */
    cache_drop(c, e);
  }
  m->stats.gpa_misses++;
  if (!(w->nf->fast_walk && nested_walk_fast(w, gpa, acc, user_page, r)) &&
      !walk_nested(w, gpa, acc, final, user_page, linear, linear_valid, grights, r, fault))
    return false;
  e = cache_slot_after_miss(m, c, gpa >> 12);
  if (!e) return true;
  e->key = key;
  e->root = w->root_tag;
  e->hpa = r->hpa & ~0xFFFull;
  e->gpa = 0;
  e->tag = w->gpa_tag;
  e->pcid = 0;
  e->rights = 0;
  e->nrights = (uint8_t)r->rights;
  e->flags = (uint8_t)((r->dirty ? ENT_NDIRTY : 0) | (w->nf->kind == PT_KIND_EPT ? ENT_EPT : 0));
  e->shift = 12;
  e->nshift = (uint8_t)r->shift;
  e->gshift = 12;
  e->pkey = 0;
  e->perms = 0;
  e->sig = 0;
  cache_commit(m, c, e);
  return true;
}

bool walk_nested_cached(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final, bool user_page,
                        uint64_t linear, bool linear_valid, unsigned grights, struct nres *r,
                        struct mmu_fault *fault)
{
  return nested_cached(w, gpa, acc, final, user_page, linear, linear_valid, grights, r, fault);
}

bool walk_fast_translate(struct walk_env *w, uint64_t linear, enum mmu_access acc,
                         struct mmu_translation *out, struct mmu_fault *fault, struct walk_result *res)
{
  struct mmu *m = w->mmu;
  const struct mmu_context *c = w->ctx;
  const struct pt_format *f = w->gf, *nf = w->nf;
  const unsigned levels = f->levels;
  const uint16_t tag = c->tag;

  /* Start from the lowest paging-structure cache entry that covers the
   * address, else from CR3 (SDM Vol. 3A, "Paging-Structure Caches"). */
  unsigned level = levels;
  uint64_t table = w->groot;
  bool table_hpa = !nf;
  unsigned rights = PT_RIGHTS_ALL;
  unsigned l;
  for (l = 2; l <= levels; l++) {
    unsigned s = level_shift(l);
    uint64_t key = linear & ~((1ull << s) - 1);
    struct mmu_entry *e = cache_lookup(m, &m->psc[l], linear >> s, key, tag, w->pcid, w->root_tag);
    if (!e) continue;
    m->stats.psc_hits[l]++;
    level = l - 1;
    table = e->hpa;
    table_hpa = true;
    rights = e->rights;
    break;
  }
  if (l > levels) m->stats.psc_misses++;

  /* The guest walk; each entry's guest-physical address goes through the
   * nested dimension first when SLAT is on. */
  const unsigned start = level;
  uint64_t ent[PT_MAX_LEVELS + 1], ent_hpa[PT_MAX_LEVELS + 1], tbl_hpa[PT_MAX_LEVELS + 1];
  unsigned acc_rights[PT_MAX_LEVELS + 1];
  const enum mmu_access ps_acc = w->ps_write ? MMU_WRITE : MMU_READ;
  uint64_t e;
  for (;;) {
    const struct pt_level *lv = &f->lv[level];
    uint64_t off = ((linear >> level_shift(level)) & 511u) * 8u;
    uint64_t ea = table + off;
    if (!table_hpa) {
      struct nres nr;
      if (!nested_cached(w, ea, ps_acc, false, false, linear, true, 0, &nr, fault)) return false;
      ea = nr.hpa;
    }
    e = ram_read(w->phys, ea, 8);
    w->refs++;
    ent[level] = e;
    ent_hpa[level] = ea;
    tbl_hpa[level] = ea - off;
    rights &= pt_rights(f, e);
    acc_rights[level] = rights;
    if (!(e & f->present)) return walk_page_fault(w, linear, acc, 0, "entry not present", fault);
    bool leaf = level == 1 || (lv->large_ok && (e & f->ps_bit));
    if (e & (leaf ? lv->rsvd_leaf : lv->rsvd_table))
      return walk_page_fault(w, linear, acc, PF_P | PF_RSVD, "reserved bit set in a paging-structure entry", fault);
    if (leaf) break;
    table = e & lv->table_addr;
    table_hpa = !nf;
    level--;
  }

  /* Access rights of the whole walk, then the guest's accessed/dirty flags
   * (SDM Vol. 3A, "Access Rights", "Accessed and Dirty Flags"). */
  unsigned pkey = f->pkeys ? (unsigned)(e >> 59) & 0xF : 0;
  static const unsigned perm_of[] = { [MMU_READ] = MMU_PERM_READ, [MMU_WRITE] = MMU_PERM_WRITE,
                                      [MMU_FETCH] = MMU_PERM_EXEC };
  if (!(walk_guest_perms(w, rights, pkey) & perm_of[acc]))
    return walk_page_fault(w, linear, acc, walk_guest_check(w, rights, pkey, acc),
                           "access rights do not allow the access", fault);
  bool write = acc == MMU_WRITE;
  for (l = start; l >= level; l--) {
    uint64_t bits = f->a_bit | (l == level && write ? f->d_bit : 0);
    if ((ent[l] & bits) == bits) continue;
    ram_set_bits(w->phys, ent_hpa[l], bits & ~ent[l], 8);
    w->npath.low = 0; /* the write may have changed an entry on the remembered nested path */
  }
  unsigned shift = level_shift(level);
  uint64_t gpa = (e & f->lv[level].leaf_addr) | (linear & ((1ull << shift) - 1));
  res->rights = rights;
  res->pkey = pkey;
  res->global = (c->cr4 & CR4_PGE) && (e & f->g_bit);
  res->gdirty = write || (e & f->d_bit);
  res->shift = shift;
  res->gshift = shift;
  res->nrights = PT_RIGHTS_ALL;
  res->ndirty = true;

  /* The final guest-physical access. */
  uint64_t hpa = gpa;
  if (nf) {
    struct nres nr;
    if (!nested_cached(w, gpa, acc, true, rights & PT_RIGHT_U, linear, true, rights, &nr, fault)) return false;
    hpa = nr.hpa;
    res->nrights = nr.rights;
    res->ndirty = nr.dirty;
    if (nr.shift < res->shift) res->shift = nr.shift;
  }

  /* Paging-structure-cache entries for the levels walked above the leaf;
   * their lookups above have just missed. */
  for (l = start; l > level; l--) {
    unsigned s = level_shift(l);
    struct mmu_entry *pe = cache_slot_after_miss(m, &m->psc[l], linear >> s);
    if (!pe) continue;
    *pe = (struct mmu_entry){ .key = linear & ~((1ull << s) - 1), .root = w->root_tag, .hpa = tbl_hpa[l - 1],
                              .tag = tag, .pcid = w->pcid, .shift = (uint8_t)s, .gshift = (uint8_t)s,
                              .rights = (uint8_t)acc_rights[l],
                              .flags = nf && nf->kind == PT_KIND_EPT ? ENT_EPT : 0 };
    cache_commit(m, &m->psc[l], pe);
  }
  out->pa = hpa;
  out->page_base = hpa & ~0xFFFull;
  out->gpa = gpa;
  out->page_shift = (uint8_t)(res->shift > 30 ? 12 : res->shift);
  out->perms = walk_perms(w, res);
  return true;
}
