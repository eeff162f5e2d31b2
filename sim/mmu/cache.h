/* Set-associative caches of the MMU: the combined TLB (one array per page
 * size), the guest paging-structure caches (one per level) and the
 * guest-physical TLB. All share one entry layout and one deterministic
 * replacement (LRU or FIFO per set), fixed by the geometry. */
#ifndef HVSIM_SIM_MMU_CACHE_H
#define HVSIM_SIM_MMU_CACHE_H

#include <stddef.h>

#include "sim/mmu/mmu.h"

enum {
  ENT_GLOBAL = 1u << 0, /* TLB: global page (CR4.PGE and G): matches any PCID */
  ENT_GDIRTY = 1u << 1, /* TLB: guest dirty flag set (or no guest paging) */
  ENT_NDIRTY = 1u << 2, /* TLB / gpa TLB: nested dirty flag set (or not tracked) */
  ENT_EPT    = 1u << 4, /* created under EPT (INVEPT all-context removes it) */
};

/* One cache line per entry: a lookup or fill touches one line of entries. */
struct mmu_entry {
  _Alignas(64) uint64_t key; /* address bits this entry maps, low bits cleared */
  uint64_t root;     /* SLAT root tag (EP4TA or nCR3; 0 without SLAT) */
  uint64_t hpa;      /* host-physical base of the page / referenced table */
  uint64_t gpa;      /* guest-physical base of the page (TLB) */
  uint16_t tag;      /* VPID / ASID */
  uint16_t pcid;
  uint8_t rights;    /* guest rights (enum pt_right) accumulated to this level */
  uint8_t nrights;   /* nested rights of the page */
  uint8_t flags;
  uint8_t shift;     /* size of the region the entry covers (log2 bytes) */
  uint8_t nshift;    /* nested leaf page size (gpa TLB) */
  uint8_t gshift;    /* guest page size: an invalidation of any address in
                        the guest page removes this (possibly smaller) entry */
  uint8_t pkey;
  uint8_t perms;     /* TLB: MMU_PERM_* computed for mode `sig` */
  uint64_t sig;      /* TLB: access-mode signature perms were computed for */
};

/* Which entries an invalidation removes; unset criteria match everything.
 * by_key: the guest page the entry belongs to (1 << gshift bytes) contains
 * address `addr`. */
struct cache_match {
  bool by_tag, by_pcid, by_root, by_key, keep_global, not_tag0;
  uint16_t tag, pcid;
  uint64_t root, addr;
  uint8_t need_flags;
};

bool cache_alloc(struct mmu_cache *c, const struct mmu_cache_geometry *g);
void cache_free(struct mmu_cache *c);

/* The block of one set (see struct mmu_cache). SET_FILLS: while the set
 * has only been filled way after way since it was emptied by a full flush
 * (ways 0, 1, .., n-1, no lookup hit, no other fill), n; the LRU order is
 * then implied (n-1 most recent .. 0, the unfilled ways after) and is only
 * written out (SET_ORDERED) when a hit or another fill needs it. A cold
 * translation fills sets in exactly this way, so it skips the order update;
 * the order of never-filled ways is irrelevant, as every way has been filled
 * (and moved to the front) before a victim is chosen. */
enum { SET_GEN, SET_ORDER, SET_VALID, SET_FILLS, SET_KEYS };
#define SET_ORDERED 0xFFu

static inline uint64_t *cache_set(const struct mmu_cache *c, size_t set) { return c->sets_mem + set * c->stride; }

/* A full flush only bumps the MMU's generation; a set's valid mask is
 * cleared the first time the set is used afterwards. */
static inline uint64_t *cache_set_current(struct mmu *m, struct mmu_cache *c, size_t set)
{
  uint64_t *s = cache_set(c, set);
  if ((uint32_t)s[SET_GEN] != m->generation) {
    s[SET_VALID] = 0;
    s[SET_FILLS] = 0;
    s[SET_GEN] = (s[SET_GEN] & ~0xFFFFFFFFull) | m->generation;
  }
  return s;
}

/* Writes out the order SET_FILLS implies: n-1, .., 0, then n, n+1, ...
 * (cache.c; rare: once per set between full flushes, and only if used). */
void cache_order_write(uint64_t *s) __attribute__((cold));

/* Makes way w the most recently used of its set. The order holds every way
 * once, so this is exact LRU: the victim is the last way in the order. */
static inline void cache_touch(uint64_t *s, uint32_t w)
{
  if (__builtin_expect(s[SET_FILLS] != SET_ORDERED, 0)) cache_order_write(s);
  uint64_t o = s[SET_ORDER];
  /* The position p of w's nibble: the lowest zero nibble of o ^ w-in-every-
   * nibble (w occurs once among the ways; unused high nibbles come after). */
  uint64_t x = o ^ (0x1111111111111111ull * w);
  uint64_t z = (x - 0x1111111111111111ull) & ~x & 0x8888888888888888ull;
  unsigned p = (unsigned)__builtin_ctzll(z) / 4;
  uint64_t below = o & ((1ull << (4 * p)) - 1); /* ways used more recently than w */
  uint64_t above = p == 15 ? 0 : (o >> (4 * (p + 1))) << (4 * (p + 1));
  s[SET_ORDER] = above | (below << 4) | w;
}

/* Finds the entry for `key` (set chosen by `index`) with this tag, root and
 * PCID (or global). Scans the set's key line first. Updates LRU on a hit. */
static inline struct mmu_entry *cache_lookup(struct mmu *m, struct mmu_cache *c, uint64_t index,
                                             uint64_t key, uint16_t tag, uint16_t pcid, uint64_t root)
{
  /* Nothing filled since the last full flush (or a disabled cache): no set to read. */
  if (c->filled_gen != m->generation) return 0;
  size_t set = (size_t)(index & c->set_mask);
  uint64_t *s = cache_set(c, set);
  /* A set not used since the last full flush holds nothing; it is emptied
   * (cache_set_current()) by whatever fills it. */
  if ((uint32_t)s[SET_GEN] != m->generation) return 0;
  const uint64_t *keys = s + SET_KEYS;
  for (uint64_t v = s[SET_VALID]; v; v &= v - 1) {
    uint32_t w = (uint32_t)__builtin_ctzll(v);
    if (keys[w] != key) continue;
    struct mmu_entry *e = &c->e[set * c->ways + w];
    if (e->tag != tag || e->root != root) continue;
    if (e->pcid != pcid && !(e->flags & ENT_GLOBAL)) continue;
    cache_touch(s, w);
    return e;
  }
  return 0;
}

/* The slot a new entry for `key` goes into: an existing entry for the same
 * key and tags, else an invalid way, else the policy's victim. */
struct mmu_entry *cache_slot(struct mmu *m, struct mmu_cache *c, uint64_t index, uint64_t key,
                             uint16_t tag, uint16_t pcid, uint64_t root);

/* The way of a set (block `s`, current) a new entry goes into when no entry
 * has its key and tags: the lowest invalid way, else the policy's victim. */
static inline uint32_t cache_victim_way(struct mmu *m, struct mmu_cache *c, uint64_t *s)
{
  uint64_t free_ways = ~s[SET_VALID] & ((1ull << c->ways) - 1);
  if (free_ways) return (uint32_t)__builtin_ctzll(free_ways);
  if (m->geo.replacement == MMU_REPL_FIFO) {
    uint32_t v = (uint32_t)(s[SET_GEN] >> 32);
    s[SET_GEN] = (s[SET_GEN] & 0xFFFFFFFFull) | ((uint64_t)((v + 1) % c->ways) << 32);
    return v;
  }
  if (__builtin_expect(s[SET_FILLS] != SET_ORDERED, 0)) cache_order_write(s);
  return (uint32_t)(s[SET_ORDER] >> (4 * (c->ways - 1))) & 0xF; /* least recently used */
}

/* Way w of set block s has just been filled: the most recently used. */
static inline void cache_touch_filled(uint64_t *s, uint32_t w)
{
  if (s[SET_FILLS] == w) s[SET_FILLS] = w + 1u; /* the next way in fill order: the order stays implied */
  else cache_touch(s, w);
}

/* Marks way w of a set (block `s`) filled with `key`: valid, current
 * generation, most recently used. */
static inline void cache_commit_way(struct mmu *m, struct mmu_cache *c, uint64_t *s, uint32_t w, uint64_t key)
{
  c->filled_gen = m->generation;
  s[SET_KEYS + w] = key;
  s[SET_VALID] |= 1ull << w;
  cache_touch_filled(s, w);
}

/* The slot of set `si` for a new entry `key` when no valid entry has its
 * key and tags (the caller's lookup has just missed): the set's free way or
 * victim, already marked valid with the key and most recently used, for the
 * caller to fill in. It is cache_set_current(), cache_victim_way() and
 * cache_commit_way(); a set not used since the last full flush (every set
 * of a cold walk) is emptied and given its way 0 in a few stores, the
 * state those three would leave. */
static inline struct mmu_entry *cache_claim_in(struct mmu *m, struct mmu_cache *c, uint64_t *s, uint32_t si,
                                               uint64_t key) /* s: cache_set(c, si) */
{
  struct mmu_entry *set = &c->e[(size_t)si * c->ways];
  c->filled_gen = m->generation;
  if ((uint32_t)s[SET_GEN] != m->generation) {
    s[SET_GEN] = (s[SET_GEN] & ~0xFFFFFFFFull) | m->generation; /* the FIFO pointer stays */
    s[SET_VALID] = 1;
    s[SET_FILLS] = 1; /* way 0 filled first: the order stays implied */
    s[SET_KEYS] = key;
    return set;
  }
  uint32_t w = cache_victim_way(m, c, s);
  cache_commit_way(m, c, s, w, key);
  return &set[w];
}

static inline struct mmu_entry *cache_claim(struct mmu *m, struct mmu_cache *c, uint32_t si, uint64_t key)
{
  return cache_claim_in(m, c, cache_set(c, si), si, key);
}

/* cache_slot() that also gives the slot's set block and way (for
 * cache_commit_way()). */
struct mmu_entry *cache_slot_at(struct mmu *m, struct mmu_cache *c, uint64_t index, uint64_t key, uint16_t tag,
                               uint16_t pcid, uint64_t root, uint64_t **block, uint32_t *way);

/* Marks the slot filled: valid, current generation, most recently used. */
static inline void cache_commit(struct mmu *m, struct mmu_cache *c, struct mmu_entry *e)
{
  c->filled_gen = m->generation;
  size_t i = (size_t)(e - c->e);
  uint64_t *s = cache_set(c, i / c->ways);
  uint32_t w = (uint32_t)(i % c->ways);
  s[SET_KEYS + w] = e->key;
  s[SET_VALID] |= 1ull << w;
  cache_touch_filled(s, w);
}

static inline void cache_drop(struct mmu_cache *c, struct mmu_entry *e)
{
  size_t i = (size_t)(e - c->e);
  cache_set(c, i / c->ways)[SET_VALID] &= ~(1ull << (i % c->ways));
}

void cache_invalidate(struct mmu *m, struct mmu_cache *c, const struct cache_match *match);

#endif
