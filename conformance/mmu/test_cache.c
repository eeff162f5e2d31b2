/* The MMU's set-associative caches (sim/mmu/cache.h) against a plain model
 * of the replacement hvsim documents (docs/mmu.md, "Caches"): a fill goes to
 * the way already holding its key, else the lowest invalid way, else the
 * victim - the least recently used valid way (LRU: last lookup hit or fill)
 * or the set's round-robin pointer (FIFO); a full flush empties every set,
 * an invalidation or a drop empties one way. The model keeps a timestamp per
 * way instead of the packed order the cache uses, so the two are independent.
 * Random operations on small geometries, every way compared after each. */
#include "conformance/mmu/mmu_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "sim/mmu/cache.h"

#define OPS 20000

struct model_way {
  bool valid;
  uint64_t key;
  uint64_t stamp; /* last use: lookup hit or fill */
};

struct model {
  unsigned sets, ways;
  bool fifo;
  uint64_t clock;
  struct model_way w[4][MMU_CACHE_MAX_WAYS];
  unsigned fifo_next[4];
};

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static unsigned pick(unsigned n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static unsigned model_set(const struct model *md, uint64_t key) { return (unsigned)((key >> 12) & (md->sets - 1)); }

static int model_find(const struct model *md, uint64_t key)
{
  unsigned s = model_set(md, key);
  for (unsigned i = 0; i < md->ways; i++)
    if (md->w[s][i].valid && md->w[s][i].key == key) return (int)i;
  return -1;
}

static unsigned model_fill_way(struct model *md, uint64_t key)
{
  unsigned s = model_set(md, key);
  int hit = model_find(md, key);
  if (hit >= 0) return (unsigned)hit;
  for (unsigned i = 0; i < md->ways; i++)
    if (!md->w[s][i].valid) return i;
  if (md->fifo) {
    unsigned v = md->fifo_next[s];
    md->fifo_next[s] = (v + 1) % md->ways;
    return v;
  }
  unsigned v = 0;
  for (unsigned i = 1; i < md->ways; i++)
    if (md->w[s][i].stamp < md->w[s][v].stamp) v = i;
  return v;
}

/* Every way of every set: valid and key the same in cache and model. */
static void compare_all(struct mmu *m, struct mmu_cache *c, const struct model *md, unsigned op)
{
  for (unsigned s = 0; s < md->sets; s++) {
    const uint64_t *blk = cache_set(c, s);
    uint64_t valid = (uint32_t)blk[SET_GEN] == m->generation ? blk[SET_VALID] : 0;
    for (unsigned i = 0; i < md->ways; i++) {
      bool v = (valid >> i) & 1;
      if (v != md->w[s][i].valid || (v && c->e[s * c->ways + i].key != md->w[s][i].key)) {
        print_error("op %u: set %u way %u: cache valid=%d key=%#llx, model valid=%d key=%#llx\n", op, s, i, v,
                    (unsigned long long)c->e[s * c->ways + i].key, md->w[s][i].valid,
                    (unsigned long long)md->w[s][i].key);
        fail();
      }
    }
  }
}

static void run(unsigned sets, unsigned ways, bool fifo)
{
  struct mmu_geometry g = mmu_default_geometry;
  g.gpa_tlb = (struct mmu_cache_geometry){ sets, ways };
  g.replacement = fifo ? MMU_REPL_FIFO : MMU_REPL_LRU;
  static uint8_t ram[4096];
  struct mmu m;
  assert_true(mmu_init(&m, &g, ram, sizeof ram));
  struct mmu_cache *c = &m.gpa_tlb;
  struct model md = { .sets = sets, .ways = ways, .fifo = fifo };
  unsigned keys = sets * ways * 2 + 1;
  for (unsigned op = 0; op < OPS; op++) {
    uint64_t key = (uint64_t)pick(keys) << 12;
    unsigned s = model_set(&md, key);
    unsigned what = pick(100);
    if (what < 40) {
      /* Lookup: a hit makes the way most recently used. */
      struct mmu_entry *e = cache_lookup(&m, c, key >> 12, key, 0, 0, 0);
      int hit = model_find(&md, key);
      assert_int_equal(e != NULL, hit >= 0);
      if (e) {
        assert_int_equal(e - c->e, s * ways + (unsigned)hit);
        md.w[s][hit].stamp = ++md.clock;
      }
    } else if (what < 85) {
      /* Fill, through either interface. */
      unsigned mw = model_fill_way(&md, key);
      struct mmu_entry *e;
      if (what < 62) {
        e = cache_slot(&m, c, key >> 12, key, 0, 0, 0);
        assert_non_null(e);
        *e = (struct mmu_entry){ .key = key, .gshift = 12 };
        cache_commit(&m, c, e);
      } else {
        uint64_t *blk;
        uint32_t way;
        e = cache_slot_at(&m, c, key >> 12, key, 0, 0, 0, &blk, &way);
        assert_non_null(e);
        assert_ptr_equal(e, &c->e[s * ways + way]);
        *e = (struct mmu_entry){ .key = key, .gshift = 12 };
        cache_commit_way(&m, c, blk, way, key);
      }
      assert_int_equal(e - c->e, s * ways + mw);
      md.w[s][mw] = (struct model_way){ .valid = true, .key = key, .stamp = ++md.clock };
    } else if (what < 92) {
      /* Drop one way (as a TLB hit that does not allow the access does). */
      int hit = model_find(&md, key);
      struct mmu_entry *e = cache_lookup(&m, c, key >> 12, key, 0, 0, 0);
      if (hit >= 0) {
        md.w[s][hit].stamp = ++md.clock; /* the lookup that found it */
        cache_drop(c, e);
        md.w[s][hit].valid = false;
      }
    } else if (what < 97) {
      /* Invalidate by address. */
      cache_invalidate(&m, c, &(struct cache_match){ .by_key = true, .addr = key });
      int hit = model_find(&md, key);
      if (hit >= 0) md.w[s][hit].valid = false;
    } else {
      /* Full flush: a new generation. */
      mmu_flush_all(&m);
      for (unsigned i = 0; i < sets; i++)
        for (unsigned j = 0; j < ways; j++) md.w[i][j].valid = false;
    }
    compare_all(&m, c, &md, op);
  }
  mmu_fini(&m);
}

static void test_cache_replacement_matches_model(void **s)
{
  (void)s;
  static const unsigned ways[] = { 1, 2, 3, 4, 8, 12, 16 };
  for (unsigned i = 0; i < sizeof ways / sizeof ways[0]; i++)
    for (unsigned fifo = 0; fifo < 2; fifo++) {
      run(1, ways[i], fifo);
      run(4, ways[i], fifo);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cache_replacement_matches_model),
  };
  return cmocka_run_group_tests_name("mmu_cache", tests, NULL, NULL);
}
