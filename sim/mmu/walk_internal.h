/* Pieces shared by the generic walker (walk.c) and the cached MMU's fast
 * translation (walk_fast.c): physical-memory access, the nested-walk result,
 * and the slow paths the fast code hands rare cases to. Private to sim/mmu. */
#ifndef HVSIM_SIM_MMU_WALK_INTERNAL_H
#define HVSIM_SIM_MMU_WALK_INTERNAL_H

#include <string.h>

#include "sim/mmu/cache.h"
#include "sim/mmu/walk.h"

/* Reads outside RAM return all ones, like an unclaimed bus cycle. */
static inline uint64_t ram_read(const struct mmu_phys *p, uint64_t pa, unsigned size)
{
  if (pa >= p->ram_size || p->ram_size - pa < size) return size == 4 ? 0xFFFFFFFFull : ~0ull;
  if (size == 4) { uint32_t v; memcpy(&v, p->ram + pa, 4); return v; }
  uint64_t v;
  memcpy(&v, p->ram + pa, 8);
  return v;
}

/* Sets flag bits in an entry as the processor's locked update does: only the
 * bytes holding the bits change. Writes outside RAM are dropped. */
static inline void ram_set_bits(const struct mmu_phys *p, uint64_t pa, uint64_t bits, unsigned size)
{
  if (pa >= p->ram_size || p->ram_size - pa < size) return;
  for (unsigned i = 0; i < size; i++)
    p->ram[pa + i] |= (uint8_t)(bits >> (8 * i));
}

/* A successful nested translation. */
struct nres {
  uint64_t hpa;
  unsigned rights, shift;
  bool dirty;
};

/* The nested translation of `gpa` a guest-physical TLB entry holds. */
static inline struct nres nres_of_entry(const struct mmu_entry *e, uint64_t gpa)
{
  return (struct nres){e->hpa | (gpa & 0xFFF), e->nrights, e->nshift, (e->flags & ENT_NDIRTY) != 0};
}

/* The generic nested walk (no guest-physical TLB): reads every entry from
 * where the remembered path allows, sets EPT/NPT accessed/dirty flags,
 * reports #NPF / EPT violation / misconfiguration in *fault. */
bool walk_nested(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final, bool user_page,
                 uint64_t linear, bool linear_valid, unsigned grights, struct nres *r, struct mmu_fault *fault);

/* Fills *fault with the #PF for `linear` (ec gets W, U and I/D added). */
bool walk_page_fault(struct walk_env *w, uint64_t linear, enum mmu_access acc, uint32_t ec, const char *why,
                     struct mmu_fault *fault);

/* MMU_PERM_* the guest's rules allow for these rights and key (remembered). */
unsigned walk_guest_perms(struct walk_env *w, unsigned rights, unsigned pkey);

/* The key walk_guest_perms() remembers its last answer under (with w->sig). */
static inline unsigned walk_guest_perms_key(unsigned rights, unsigned pkey) { return rights | pkey << 5 | 1u << 9; }

/* walk_guest_perms() with the remembered answer checked inline. */
static inline unsigned walk_guest_perms_remembered(struct walk_env *w, unsigned rights, unsigned pkey)
{
  if (w->gp_key == walk_guest_perms_key(rights, pkey) && w->gp_sig == w->sig) return w->gp_perms;
  return walk_guest_perms(w, rights, pkey);
}

#endif
