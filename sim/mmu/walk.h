/* The generic page walker shared by mmu_translate() (with caches) and
 * mmu_reference_translate() (without). */
#ifndef HVSIM_SIM_MMU_WALK_H
#define HVSIM_SIM_MMU_WALK_H

#include "sim/mmu/mmu.h"

/* One translation's environment: the formats and roots the context selects. */
struct walk_env {
  const struct mmu_phys *phys;
  const uint8_t *ram;              /* phys->ram */
  uint64_t ram_last;               /* phys->ram_size - 8: the last address of an 8-byte entry */
  struct mmu *mmu;                 /* NULL: reference walk, no caches */
  const struct mmu_context *ctx;
  const struct pt_format *gf;      /* guest paging format; NULL with CR0.PG=0 */
  enum mmu_x86_mode gmode;
  uint64_t groot;                  /* CR3's table address (guest-physical) */
  const struct pt_format *nf;      /* nested format; NULL without SLAT */
  enum mmu_x86_mode nmode;         /* NPT host mode */
  uint64_t nroot;                  /* EPTP / nCR3 table address (host-physical) */
  uint64_t root_tag;               /* EP4TA / nCR3 tag of combined and gpa entries */
  uint16_t pcid;
  uint16_t gpa_tag;                /* tag of guest-physical mappings: ASID (NPT), 0 (EPT) */
  bool ps_write;                   /* guest paging-structure accesses count as writes */
  bool fast;                       /* the cached MMU uses walk_fast_translate() */
  /* The path of the last nested walk: the tables it went through, the
   * rights down to each level and the entries as read. A nested walk for
   * an address in the same region reads the same entries again; it takes
   * them from here and still counts each as read (refs). The path may be
   * used only while `checked`: read in this translation with nothing
   * written since (an accessed/dirty update could change an entry on it).
   * The generic walker's paths last one translation (low is cleared at
   * each); walk_fast.c keeps its path from one translation to the next
   * and checks it again first by reading its entries (raw). */
  struct {
    uint64_t addr;                 /* guest-physical address walked */
    unsigned low;                  /* lowest level whose table is known; 0: empty */
    bool checked;                  /* the entries are those in memory now */
    uint64_t table[PT_MAX_LEVELS + 1]; /* table[l]: the level-l table on the path */
    unsigned rights[PT_MAX_LEVELS + 1]; /* rights[l]: rights through the level-l entry */
    uint64_t raw[PT_MAX_LEVELS + 1];   /* raw[l]: the level-l entry as read */
    uint64_t ea[PT_MAX_LEVELS + 1];    /* ea[l]: its host-physical address */
  } npath;
  bool user;                       /* the access is user-mode */
  unsigned flags;
  unsigned refs;
  uint64_t sig;                    /* walk_mode_sig() of this access */
  uint64_t sig_regs;               /* walk_mode_sig_regs() of the context */
  /* The last guest_perms() answer: its inputs (sig, rights, pkey) and the
   * MMU_PERM_* the guest's rules allow. */
  uint64_t gp_sig;
  unsigned gp_key, gp_perms;
};

/* What a successful walk learned, for the TLB and for Unicorn's permissions. */
struct walk_result {
  unsigned rights;                 /* guest rights (PT_RIGHTS_ALL with paging off) */
  unsigned nrights;                /* nested rights (PT_RIGHTS_ALL without SLAT) */
  unsigned pkey;
  bool global, gdirty, ndirty;
  unsigned shift;                  /* combined page size */
  unsigned gshift;                 /* guest page size (the combined one without paging) */
};

/* Everything besides the walk itself that decides an access's outcome:
 * user/supervisor, implicit, RFLAGS.AC, CR0.WP, CR4.SMEP/SMAP/PKE, PKRU. A
 * TLB entry's cached permissions are reused while this stays the same. */
static inline uint64_t walk_mode_sig_regs(const struct mmu_context *c) /* the control-register part */
{
  return ((c->cr0 & CR0_WP) ? 4u : 0) | ((c->cr4 & CR4_SMEP) ? 8u : 0) | ((c->cr4 & CR4_SMAP) ? 16u : 0) |
         ((c->cr4 & CR4_PKE) ? 32u : 0) | (1u << 7);
}

static inline uint64_t walk_mode_sig_access(const struct mmu_context *c, bool user, unsigned flags)
{
  return ((uint64_t)c->pkru << 32) | (user ? 1u : 0) | (c->ac ? 2u : 0) |
         ((flags & MMU_IMPLICIT_SUPERVISOR) ? 64u : 0);
}

static inline uint64_t walk_mode_sig(const struct mmu_context *c, bool user, unsigned flags)
{
  return walk_mode_sig_regs(c) | walk_mode_sig_access(c, user, flags);
}

/* Fills *w for ctx; false (fault kind MMU_FAULT_BAD_CONTEXT) if the context is
 * one the architecture cannot reach. */
bool walk_env_init(struct walk_env *w, const struct mmu_phys *phys, struct mmu *mmu,
                   const struct mmu_context *ctx, unsigned flags, struct mmu_fault *fault);

bool walk_translate(struct walk_env *w, uint64_t linear, enum mmu_access acc,
                    struct mmu_translation *out, struct mmu_fault *fault, struct walk_result *res);

/* The #PF error code bits an access would fault with given the rights of a
 * complete translation, 0 when it is allowed (SDM Vol. 3A, Paging, "Access
 * Rights", "Protection Keys"). */
uint32_t walk_guest_check(const struct walk_env *w, unsigned rights, unsigned pkey, enum mmu_access acc);

/* Whether nested rights allow an access: NPT accesses are user accesses
 * (APM Vol. 2, "Nested Paging"); EPT writes need read too (a write-only
 * entry is a misconfiguration); fetches need X, or XU for user-mode linear
 * addresses under mode-based execute control (SDM Vol. 3C, "EPT Violations"). */
static inline bool walk_nested_allows(const struct walk_env *w, unsigned nr, enum mmu_access acc, bool user_page)
{
  if (!w->nf) return true;
  if (w->nf->kind == PT_KIND_X86 && !(nr & PT_RIGHT_U)) return false;
  switch (acc) {
  case MMU_READ:  return nr & PT_RIGHT_R;
  case MMU_WRITE: return (nr & PT_RIGHT_W) && (nr & PT_RIGHT_R);
  case MMU_FETCH: return nr & (user_page && w->nf->kind == PT_KIND_EPT ? PT_RIGHT_XU : PT_RIGHT_XS);
  }
  return false;
}

/* MMU_PERM_* Unicorn may cache for a page with these rights and dirty state. */
unsigned walk_perms(struct walk_env *w, const struct walk_result *r);

#endif
