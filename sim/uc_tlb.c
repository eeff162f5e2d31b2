/* Unicorn's TLB kept across world switches.
 *
 * Unicorn's TLB caches the model's translations (its virtual-TLB mode:
 * every fill asks the model). It has no tags, so a VM entry or exit, which
 * changes the translation context, used to flush it, and with it QEMU's
 * jump cache: every world switch then refilled both worlds' pages and
 * looked every block up again. QEMU does keep three TLB indexes apart,
 * chosen per access from the CPL, RFLAGS.AC and its own copy of CR4.SMAP,
 * and that copy steers nothing else (uc_bridge_steer_tlb_index). The
 * machine sets it to split the indexes into two parts that two contexts
 * can hold at once:
 *   part 0 (copy 1): code at CPL 0 with AC clear uses index 0 alone. It
 *     holds a context only while that stays so, which every block start
 *     checks (machine.c, hook_block), since POPF, STAC, IRET and CPL
 *     changes end QEMU's translation blocks;
 *   part 1 (copy 0): any code uses index 1 (CPL 3) or 2, never 0. It holds
 *     only contexts with CR4.SMAP clear, where AC changes no permission
 *     the model gave (with SMAP set, AC must choose the index).
 * A part holds one context (the paging state, SLAT root and tag: struct
 * mmu_context without CPL and AC) from the fill after a flush until the
 * next flush. Any invalidation the model carries out, and every explicit
 * flush request (m->tlb_flush), flushes everything: what Unicorn keeps is
 * always a subset of what the model would translate the same way. A
 * context neither part can hold runs with QEMU's own copy and flushes on
 * every switch, as before. */
#include <string.h>

#include "sim/intercept.h"
#include "sim/machine.h"
#include "sim/uc_bridge.h"

#include <unicorn/unicorn.h>

/* The context from m->cpu, just stored into Unicorn (machine_paging_context
 * would ask Unicorn for the CPL, which the key leaves out with RFLAGS.AC). */
static void context_key(struct machine *m, struct mmu_context *key)
{
  memset(key, 0, sizeof *key);   /* padding too: keys compare with memcmp */
  mmu_context_from_cpu(key, &m->cpu);
  if (m->virt && m->virt->paging_context) m->virt->paging_context(m, key);
  key->cpl = 0;
  key->ac = false;
}

/* Empties Unicorn's TLB: every part, and QEMU's jump cache with it. */
static void flush_all(struct machine *m)
{
  uc_ctl_flush_tlb(m->uc);
  intercepts_tlb_flushed(m->icpt);
  for (int p = 0; p < UC_TLB_PARTS; p++) m->utlb.part[p] = UC_TLB_EMPTY;
}

void machine_flush_unicorn_tlb(struct machine *m)
{
  struct uc_tlb *t = &m->utlb;
  flush_all(m);
  /* What runs on fills the active part, or with QEMU's own copy any part,
   * with a context not named yet. */
  for (int p = 0; p < UC_TLB_PARTS; p++)
    if (t->active < 0 || t->active == p) t->part[p] = UC_TLB_UNKNOWN;
}

static bool part_can_hold(const struct machine *m, int p, const struct mmu_context *key)
{
  if (p == 0) return cpu_cpl(&m->cpu) == 0 && !(m->cpu.rflags & RFLAGS_AC);
  return !(key->cr4 & CR4_SMAP);
}

static void activate(struct machine *m, int p)
{
  static const int copy[UC_TLB_PARTS + 1] = {-1, 1, 0};   /* none, part 0, part 1 */
  m->utlb.active = p;
  uc_bridge_steer_tlb_index(m->bridge, copy[p + 1]);
}

static bool claim(struct machine *m, const struct mmu_context *key)
{
  struct uc_tlb *t = &m->utlb;
  /* The host (tag 0) prefers part 0, guests part 1: the usual pair of
   * contexts settles after two switches. */
  int order[UC_TLB_PARTS] = {key->tag ? 1 : 0, key->tag ? 0 : 1};
  for (int i = 0; i < UC_TLB_PARTS; i++) {
    int p = order[i];
    if (t->part[p] != UC_TLB_EMPTY || !part_can_hold(m, p, key)) continue;
    t->part[p] = UC_TLB_HOLDS;
    t->key[p] = *key;
    activate(m, p);
    return true;
  }
  return false;
}

void uc_tlb_switch(struct machine *m)
{
  struct uc_tlb *t = &m->utlb;
  if (m->tlb_flush || t->invalidations != m->mmu.stats.invalidations) flush_all(m);
  t->invalidations = m->mmu.stats.invalidations;
  struct mmu_context key;
  context_key(m, &key);
  for (int p = 0; p < UC_TLB_PARTS; p++) {
    if (t->part[p] == UC_TLB_HOLDS && !memcmp(&t->key[p], &key, sizeof key) && part_can_hold(m, p, &key)) {
      activate(m, p);
      return;
    }
  }
  if (claim(m, &key)) return;
  flush_all(m);
  if (claim(m, &key)) return;
  /* Neither part can hold it: QEMU's own indexes, filled from empty. */
  activate(m, -1);
  for (int p = 0; p < UC_TLB_PARTS; p++) t->part[p] = UC_TLB_UNKNOWN;
}

void uc_tlb_leave_part0(struct machine *m)
{
  /* Code left CPL 0 or set AC inside the part-0 context: it would fill
   * indexes part 1 may hold. */
  activate(m, -1);
  machine_flush_unicorn_tlb(m);
}
