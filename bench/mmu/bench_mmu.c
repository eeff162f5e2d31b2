/* MMU benchmark: cold two-dimensional walks per second, TLB-hit lookups per
 * second, and the reference counts of each kind of walk. Prints numbers; it
 * asserts only that translations succeed, never a timing.
 *
 * Goals from the issue: >= 10 M cold 4x4 walks/s, a TLB hit under 20 ns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/vmx/ept_format.h"
#include "sim/mmu/mmu.h"

#define RAM (16u << 20)
#define PAGES 256 /* distinct guest pages the benchmark touches */

static uint8_t *ram;
static uint64_t next_page = 0x100000;
static unsigned scale_div = 1; /* `bench_mmu SECTION DIV`: DIV times fewer iterations (for valgrind) */
static const char *only_label;  /* `bench_mmu SECTION DIV LABEL`: only the runs whose label contains LABEL */

static uint64_t page(void)
{
  uint64_t p = next_page;
  next_page += 4096;
  if (next_page > RAM) { fprintf(stderr, "bench_mmu: out of RAM\n"); exit(1); }
  memset(ram + p, 0, 4096);
  return p;
}

/* Maps addr -> pa with 4 KiB pages in a 4- or 5-level table of 8-byte entries. */
static void map(uint64_t root, unsigned levels, uint64_t addr, uint64_t pa, uint64_t table_bits, uint64_t leaf_bits)
{
  uint64_t table = root;
  for (unsigned l = levels; l > 1; l--) {
    uint64_t *e = (uint64_t *)(ram + table) + ((addr >> (12 + 9 * (l - 1))) & 511);
    if (!*e) *e = page() | table_bits;
    table = *e & 0x000FFFFFFFFFF000ull;
  }
  ((uint64_t *)(ram + table))[(addr >> 12) & 511] = pa | leaf_bits;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every timing is the best of ROUNDS equal rounds: the machine is shared,
 * and the fastest round is the one least disturbed by other processes. */
#define ROUNDS 20

static double best_round(double best, double t0)
{
  double dt = now() - t0;
  return best < 0 || dt < best ? dt : best;
}

static struct mmu_context context(const char *kind, unsigned levels, uint64_t *vas)
{
  next_page = 0x100000;
  memset(ram, 0, RAM);
  struct mmu_context c = { .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr4 = CR4_PAE | (levels == 5 ? CR4_LA57 : 0),
                           .efer = EFER_LME | EFER_LMA | EFER_NXE, .tag = 1 };
  if (!strcmp(kind, "ept")) {
    uint64_t root = page();
    for (uint64_t pa = 0; pa < RAM; pa += 4096) map(root, levels, pa, pa, 7, 7 | (6u << 3));
    c.slat = MMU_SLAT_EPT;
    c.eptp = root | 6 | ((uint64_t)(levels - 1) << 3);
  } else if (!strcmp(kind, "npt")) {
    uint64_t root = page();
    for (uint64_t pa = 0; pa < RAM; pa += 4096) map(root, 4, pa, pa, 7, 7);
    c.slat = MMU_SLAT_NPT;
    c.ncr3 = root;
    c.host_cr4 = CR4_PAE;
    c.host_efer = EFER_LMA | EFER_NXE;
  }
  uint64_t groot = page();
  c.cr3 = groot;
  /* Pages spread over the address space so that walks share few tables. */
  for (unsigned i = 0; i < PAGES; i++) {
    vas[i] = ((uint64_t)(i % 16) << 39) | ((uint64_t)(i / 16) << 30) | ((uint64_t)i << 21) | ((uint64_t)i << 12);
    if (levels == 5) vas[i] |= (uint64_t)(i % 8) << 48;
    map(groot, levels, vas[i], (uint64_t)i << 12, 7, 7 | (1u << 5) | (1u << 6));
  }
  return c;
}

static void fail(const char *what, const struct mmu_fault *f)
{
  fprintf(stderr, "bench_mmu: %s failed: kind %d (%s)\n", what, f->kind, f->reason ? f->reason : "-");
  exit(1);
}

/* Cold walks: every caching structure emptied before each translation. */
static void cold(const char *label, const char *kind, unsigned levels, struct mmu *m)
{
  if (only_label && !strstr(label, only_label)) return;
  uint64_t vas[PAGES];
  struct mmu_context c = context(kind, levels, vas);
  struct mmu_translation t;
  struct mmu_fault f;
  const unsigned n = 2000000 / scale_div;
  unsigned refs = 0;
  mmu_flush_all(m);
  if (!mmu_translate(m, &c, vas[0], MMU_READ, 0, &t, &f)) fail(label, &f);
  refs = t.refs;
  double dt = -1, dr = -1;
  for (unsigned round = 0; round < ROUNDS; round++) {
    double t0 = now();
    for (unsigned i = 0; i < n / ROUNDS; i++) {
      mmu_flush_all(m);
      if (!mmu_translate(m, &c, vas[i % PAGES], MMU_READ, 0, &t, &f)) fail(label, &f);
    }
    dt = best_round(dt, t0);
    t0 = now();
    for (unsigned i = 0; i < n / 4 / ROUNDS; i++)
      if (!mmu_reference_translate(&m->phys, &c, vas[i % PAGES], MMU_READ, 0, &t, &f)) fail(label, &f);
    dr = best_round(dr, t0);
  }
  double per = n / ROUNDS, per_ref = n / 4 / ROUNDS;
  printf("  %-22s refs %2u   cold mmu_translate %6.2f M walks/s (%5.1f ns)   reference %6.2f M walks/s\n",
         label, refs, per / dt / 1e6, dt / per * 1e9, per_ref / dr / 1e6);
}

static void hits(const char *label, const char *kind, unsigned levels, struct mmu *m)
{
  if (only_label && !strstr(label, only_label)) return;
  uint64_t vas[PAGES];
  struct mmu_context c = context(kind, levels, vas);
  struct mmu_translation t;
  struct mmu_fault f;
  mmu_flush_all(m);
  for (unsigned i = 0; i < 64; i++)
    if (!mmu_translate(m, &c, vas[i], MMU_WRITE, 0, &t, &f)) fail(label, &f);
  const unsigned n = 20000000 / scale_div;
  unsigned hit = 0;
  double dt = -1;
  for (unsigned round = 0; round < ROUNDS; round++) {
    double t0 = now();
    for (unsigned i = round * (n / ROUNDS); i < (round + 1) * (n / ROUNDS); i++) {
      if (!mmu_translate(m, &c, vas[i & 63] + (i & 0xFF8), (enum mmu_access)(i % 3 == 2 ? MMU_READ : i % 3), 0, &t, &f))
        fail(label, &f);
      hit += t.tlb_hit;
    }
    dt = best_round(dt, t0);
  }
  double per = n / ROUNDS;
  printf("  %-22s TLB hits %5.1f%%   %6.1f M lookups/s   %5.1f ns per hit\n", label,
         100.0 * hit / (per * ROUNDS), per / dt / 1e6, dt / per * 1e9);
}

/* The bench_memory image's pattern: a sweep over more pages than the TLB
 * holds, so every access misses the TLB and walks from a warm PDE cache. */
static void sweep(const char *label, struct mmu *m)
{
  enum { SWEEP_PAGES = 4096 };
  uint64_t vas[PAGES];
  struct mmu_context c = context("none", 4, vas);
  uint64_t base = 0x40000000;
  for (unsigned i = 0; i < SWEEP_PAGES; i++)
    map(c.cr3, 4, base + ((uint64_t)i << 12), 0x800000 + ((uint64_t)i << 12), 7, 7 | (1u << 5) | (1u << 6));
  struct mmu_translation t;
  struct mmu_fault f;
  mmu_flush_all(m);
  mmu_stats_reset(m);
  const unsigned n = 4000000 / scale_div;
  double dt = -1;
  for (unsigned round = 0; round < ROUNDS; round++) {
    double t0 = now();
    for (unsigned i = round * (n / ROUNDS); i < (round + 1) * (n / ROUNDS); i++)
      if (!mmu_translate(m, &c, base + ((uint64_t)(i % SWEEP_PAGES) << 12), (i & 1) ? MMU_WRITE : MMU_READ, 0, &t, &f))
        fail(label, &f);
    dt = best_round(dt, t0);
  }
  const struct mmu_stats *st = mmu_stats(m);
  printf("  %-22s TLB misses %5.1f%%   %5.1f ns per translation\n", label,
         100.0 * (double)st->tlb_misses / st->translations, dt / (n / ROUNDS) * 1e9);
}

/* `bench_mmu [cold|hits|sweep [DIV [LABEL]]]` runs one section (for
 * profiling), optionally DIV times shorter and only for the labels containing
 * LABEL; no argument runs all. */
int main(int argc, char **argv)
{
  const char *only = argc > 1 ? argv[1] : 0;
  if (argc > 2 && atoi(argv[2]) > 0) scale_div = (unsigned)atoi(argv[2]);
  if (argc > 3) only_label = argv[3];
  ram = aligned_alloc(4096, RAM);
  if (!ram) return 1;
  struct mmu m;
  if (!mmu_init(&m, &mmu_default_geometry, ram, RAM)) { fprintf(stderr, "bench_mmu: mmu_init failed\n"); return 1; }
  printf("hvsim MMU benchmark (goals: >= 10 M cold 4x4 walks/s, TLB hit < 20 ns; best of %d rounds)\n", ROUNDS);
  if (!only || !strcmp(only, "cold")) {
    printf("cold walks (TLB, paging-structure caches and guest-physical TLB empty):\n");
    cold("native 4-level", "none", 4, &m);
    cold("native 5-level", "none", 5, &m);
    cold("EPT 4x4", "ept", 4, &m);
    cold("EPT 5x5", "ept", 5, &m);
    cold("NPT 4x4", "npt", 4, &m);
  }
  if (!only || !strcmp(only, "hits")) {
    printf("TLB-hit lookups (64 hot pages):\n");
    hits("native 4-level", "none", 4, &m);
    hits("EPT 4x4", "ept", 4, &m);
  }
  if (!only || !strcmp(only, "sweep")) {
    printf("TLB-miss sweep (4096 pages, as the bench_memory image):\n");
    sweep("native 4-level", &m);
  }
  mmu_fini(&m);
  free(ram);
  return 0;
}
