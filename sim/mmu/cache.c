/* Set-associative cache arrays (see cache.h). */
#include "sim/mmu/cache.h"

#include <stdlib.h>

bool cache_alloc(struct mmu_cache *c, const struct mmu_cache_geometry *g)
{
  *c = (struct mmu_cache){ 0 };
  if (!g->sets || !g->ways) return true; /* disabled */
  if (g->sets & (g->sets - 1)) return false;
  size_t n = (size_t)g->sets * g->ways;
  c->e = calloc(n, sizeof *c->e);
  c->keys = malloc(n * sizeof *c->keys);
  c->stamps = calloc(n, sizeof *c->stamps);
  c->next_victim = calloc(g->sets, sizeof *c->next_victim);
  c->set_gen = calloc(g->sets, sizeof *c->set_gen); /* generation 0: never current */
  if (!c->e || !c->keys || !c->stamps || !c->next_victim || !c->set_gen) { cache_free(c); return false; }
  for (size_t i = 0; i < n; i++) c->keys[i] = CACHE_NO_KEY;
  c->sets = g->sets;
  c->ways = g->ways;
  c->set_mask = g->sets - 1;
  return true;
}

void cache_free(struct mmu_cache *c)
{
  free(c->e);
  free(c->keys);
  free(c->stamps);
  free(c->next_victim);
  free(c->set_gen);
  *c = (struct mmu_cache){ 0 };
}

struct mmu_entry *cache_slot(struct mmu *m, struct mmu_cache *c, uint64_t index, uint64_t key,
                             uint16_t tag, uint16_t pcid, uint64_t root)
{
  if (!c->sets) return 0;
  uint32_t s = (uint32_t)(index & c->set_mask);
  struct mmu_entry *set = c->e + (size_t)s * c->ways;
  const uint64_t *keys = cache_set_keys(m, c, s);
  struct mmu_entry *free_way = 0;
  for (uint32_t w = 0; w < c->ways; w++) {
    struct mmu_entry *e = &set[w];
    if (keys[w] == key && e->tag == tag && e->root == root && e->pcid == pcid) return e;
    if (!free_way && keys[w] == CACHE_NO_KEY) free_way = e;
  }
  if (free_way) return free_way;
  if (m->geo.replacement == MMU_REPL_FIFO) {
    uint32_t v = c->next_victim[s];
    c->next_victim[s] = (v + 1) % c->ways;
    return &set[v];
  }
  const uint64_t *stamps = c->stamps + (size_t)s * c->ways;
  uint32_t victim = 0;
  for (uint32_t w = 1; w < c->ways; w++)
    if (stamps[w] < stamps[victim]) victim = w;
  return &set[victim];
}

void cache_invalidate(struct mmu *m, struct mmu_cache *c, const struct cache_match *mt)
{
  size_t n = (size_t)c->sets * c->ways;
  for (size_t i = 0; i < n; i++) {
    struct mmu_entry *e = &c->e[i];
    if (c->keys[i] == CACHE_NO_KEY || c->set_gen[i / c->ways] != m->generation) continue;
    if (mt->by_tag && e->tag != mt->tag) continue;
    if (mt->by_root && e->root != mt->root) continue;
    if (mt->keep_global && (e->flags & ENT_GLOBAL)) continue;
    /* A global entry belongs to every PCID: a PCID-specific invalidation
     * that does not keep globals removes it too. */
    if (mt->by_pcid && e->pcid != mt->pcid && !(e->flags & ENT_GLOBAL)) continue;
    if (mt->not_tag0 && e->tag == 0) continue;
    if ((e->flags & mt->need_flags) != mt->need_flags) continue;
    if (mt->by_key && (mt->addr >> e->gshift) != (e->key >> e->gshift)) continue;
    cache_drop(c, e);
  }
}
