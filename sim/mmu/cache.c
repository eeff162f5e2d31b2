/* Set-associative cache arrays (see cache.h). */
#include "sim/mmu/cache.h"

#include <stdlib.h>
#include <string.h>

bool cache_alloc(struct mmu_cache *c, const struct mmu_cache_geometry *g)
{
  *c = (struct mmu_cache){ 0 };
  if (!g->sets || !g->ways) return true; /* disabled */
  if (g->sets & (g->sets - 1)) return false;
  if (g->ways > MMU_CACHE_MAX_WAYS) return false; /* the LRU order holds 4-bit way numbers */
  size_t n = (size_t)g->sets * g->ways;
  /* A set's block is padded to whole cache lines. */
  uint32_t stride = (SET_KEYS + g->ways + 7) & ~7u;
  c->e = aligned_alloc(64, n * sizeof *c->e);
  c->sets_mem = aligned_alloc(64, (size_t)g->sets * stride * sizeof *c->sets_mem);
  if (!c->e || !c->sets_mem) { cache_free(c); return false; }
  memset(c->e, 0, n * sizeof *c->e);
  uint64_t order = 0;
  for (uint32_t w = 0; w < g->ways; w++) order |= (uint64_t)w << (4 * w);
  for (size_t s = 0; s < g->sets; s++) {
    uint64_t *set = c->sets_mem + s * stride;
    set[SET_GEN] = 0; /* generation 0 is never current; FIFO pointer 0 */
    set[SET_ORDER] = order;
    set[SET_VALID] = 0;
    set[SET_FILLS] = SET_ORDERED;
    for (uint32_t w = 0; w < g->ways; w++) set[SET_KEYS + w] = 0;
  }
  c->sets = g->sets;
  c->ways = g->ways;
  c->set_mask = g->sets - 1;
  c->stride = stride;
  return true;
}

void cache_order_write(uint64_t *s)
{
  uint64_t n = s[SET_FILLS], o = 0;
  for (unsigned p = 0; p < 16; p++) o |= (uint64_t)(p < n ? n - 1 - p : p) << (4 * p);
  s[SET_ORDER] = o;
  s[SET_FILLS] = SET_ORDERED;
}

void cache_free(struct mmu_cache *c)
{
  free(c->e);
  free(c->sets_mem);
  *c = (struct mmu_cache){ 0 };
}

struct mmu_entry *cache_slot_at(struct mmu *m, struct mmu_cache *c, uint64_t index, uint64_t key, uint16_t tag,
                               uint16_t pcid, uint64_t root, uint64_t **block, uint32_t *way)
{
  if (!c->sets) return 0;
  uint32_t si = (uint32_t)(index & c->set_mask);
  struct mmu_entry *set = c->e + (size_t)si * c->ways;
  uint64_t *s = cache_set_current(m, c, si);
  *block = s;
  const uint64_t *keys = s + SET_KEYS;
  for (uint64_t v = s[SET_VALID]; v; v &= v - 1) {
    uint32_t w = (uint32_t)__builtin_ctzll(v);
    struct mmu_entry *e = &set[w];
    if (keys[w] == key && e->tag == tag && e->root == root && e->pcid == pcid) { *way = w; return e; }
  }
  *way = cache_victim_way(m, c, s);
  return &set[*way];
}

struct mmu_entry *cache_slot(struct mmu *m, struct mmu_cache *c, uint64_t index, uint64_t key,
                             uint16_t tag, uint16_t pcid, uint64_t root)
{
  uint64_t *block;
  uint32_t way;
  return cache_slot_at(m, c, index, key, tag, pcid, root, &block, &way);
}

void cache_invalidate(struct mmu *m, struct mmu_cache *c, const struct cache_match *mt)
{
  for (size_t si = 0; si < c->sets; si++) {
    uint64_t *s = cache_set(c, si);
    if ((uint32_t)s[SET_GEN] != m->generation) continue; /* nothing valid since the last full flush */
    for (uint64_t v = s[SET_VALID]; v; v &= v - 1) {
      uint32_t w = (uint32_t)__builtin_ctzll(v);
      struct mmu_entry *e = &c->e[si * c->ways + w];
      if (mt->by_tag && e->tag != mt->tag) continue;
      if (mt->by_root && e->root != mt->root) continue;
      if (mt->keep_global && (e->flags & ENT_GLOBAL)) continue;
      /* A global entry belongs to every PCID: a PCID-specific invalidation
       * that does not keep globals removes it too. */
      if (mt->by_pcid && e->pcid != mt->pcid && !(e->flags & ENT_GLOBAL)) continue;
      if (mt->not_tag0 && e->tag == 0) continue;
      if ((e->flags & mt->need_flags) != mt->need_flags) continue;
      if (mt->by_key && (mt->addr >> e->gshift) != (e->key >> e->gshift)) continue;
      s[SET_VALID] &= ~(1ull << w);
    }
  }
}
