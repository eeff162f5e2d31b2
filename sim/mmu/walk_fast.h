/* The cached MMU's specialised translation (walk_fast.c). */
#ifndef HVSIM_SIM_MMU_WALK_FAST_H
#define HVSIM_SIM_MMU_WALK_FAST_H

#include "sim/mmu/walk.h"

/* True when walk_fast_translate() handles w's configuration: the cached MMU,
 * 4- or 5-level guest paging, and no SLAT or a nested format with fast_walk. */
static inline bool walk_fast_ok(const struct walk_env *w)
{
  return w->mmu && w->phys->ram_size >= 8 && w->gf && w->gf->fast_walk && (!w->nf || w->nf->fast_walk);
}

/* walk_translate() for a configuration walk_fast_ok() accepts; same results,
 * faults, memory writes, cache contents and statistics. */
bool walk_fast_translate(struct walk_env *w, uint64_t linear, enum mmu_access acc,
                         struct mmu_translation *out, struct mmu_fault *fault, struct walk_result *res);

#endif
