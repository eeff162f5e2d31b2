/* The one page walker: x86 paging, EPT and NPT, each format supplying only its
 * bit meanings (pt_format.h). A guest walk reads each guest paging-structure
 * entry through the nested dimension when SLAT is on, then translates the
 * final guest-physical address the same way, counting every entry read.
 *
 * Rules: SDM Vol. 3A, Paging ("Hierarchical Paging Structures", "Access
 * Rights", "Protection Keys", "Accessed and Dirty Flags", "Page-Fault
 * Exceptions"); SDM Vol. 3C, "VMX Support for Address Translation"; APM Vol. 2,
 * "Nested Paging". */
#include "sim/mmu/walk.h"
#include "sim/mmu/walk_internal.h"

#include <string.h>

#include "models/svm/npt_format.h"
#include "models/vmx/ept_format.h"
#include "sim/mmu/cache.h"
#include "sim/mmu/x86_format.h"

/* ---- Context ------------------------------------------------------------------ */

static bool bad_context(struct mmu_fault *f, const char *why)
{
  *f = (struct mmu_fault){ .kind = MMU_FAULT_BAD_CONTEXT, .reason = why };
  return false;
}

bool walk_env_init(struct walk_env *w, const struct mmu_phys *phys, struct mmu *mmu,
                   const struct mmu_context *ctx, unsigned flags, struct mmu_fault *fault)
{
  *w = (struct walk_env){ .phys = phys, .ram = phys->ram, .ram_last = phys->ram_size - 8, .mmu = mmu, .ctx = ctx,
                          .flags = flags };
  unsigned m = phys->maxphyaddr;
  w->user = ctx->cpl == 3 && !(flags & MMU_IMPLICIT_SUPERVISOR);
  w->sig = walk_mode_sig(ctx, w->user, flags);
  w->sig_regs = walk_mode_sig_regs(ctx);
  if (ctx->cr0 & CR0_PG) {
    if (!x86_mode_of(ctx->cr0, ctx->cr4, ctx->efer, phys->features, &w->gmode))
      return bad_context(fault, "EFER.LMA=1 with CR4.PAE=0");
    w->gf = &phys->x86[w->gmode][(ctx->efer & EFER_NXE) ? 1 : 0];
    w->groot = x86_root(w->gmode, ctx->cr3, m);
    if ((ctx->cr4 & CR4_PCIDE) && (ctx->efer & EFER_LMA)) w->pcid = ctx->cr3 & 0xFFF;
  }
  switch (ctx->slat) {
  case MMU_SLAT_NONE:
    return true;
  case MMU_SLAT_EPT: {
    unsigned len = EPTP_WALK_LENGTH(ctx->eptp) + 1;
    if (len != 4 && !(len == 5 && (phys->features & MMU_FEAT_EPT_5LEVEL)))
      return bad_context(fault, "EPTP page-walk length not supported");
    bool ad = (ctx->eptp & EPTP_AD) != 0;
    if (ad && !(phys->features & MMU_FEAT_EPT_AD))
      return bad_context(fault, "EPTP enables accessed/dirty flags the CPU lacks");
    bool mbec = ctx->ept_mbec;
    if (mbec && !(phys->features & MMU_FEAT_EPT_MBEC))
      return bad_context(fault, "mode-based execute control not supported");
    w->nf = &phys->ept[len == 5][mbec][ad];
    w->nroot = ctx->eptp & pt_bits(m - 1, 12);
    w->root_tag = w->nroot;   /* the EP4TA tags guest-physical and combined mappings */
    w->ps_write = ad;         /* SDM: with EPT A/D, paging-structure accesses are writes */
    return true;
  }
  case MMU_SLAT_NPT:
    if (!npt_host_mode(ctx->host_cr4, ctx->host_efer, phys->features, &w->nmode))
      return bad_context(fault, "host EFER.LMA=1 with CR4.PAE=0");
    w->nf = &phys->x86[w->nmode][(ctx->host_efer & EFER_NXE) ? 1 : 0];
    w->nroot = x86_root(w->nmode, ctx->ncr3, m);
    w->root_tag = ctx->ncr3;
    w->gpa_tag = ctx->tag;
    w->ps_write = true;       /* APM: guest page-table accesses are user writes */
    return true;
  }
  return bad_context(fault, "unknown SLAT kind");
}

/* ---- Access checks --------------------------------------------------------------- */

uint32_t walk_guest_check(const struct walk_env *w, unsigned rights, unsigned pkey, enum mmu_access acc)
{
  if (!w->gf) return 0;
  const struct mmu_context *c = w->ctx;
  bool upage = rights & PT_RIGHT_U;
  bool wp = c->cr0 & CR0_WP;
  bool bad = false;
  if (acc == MMU_FETCH) {
    /* Instruction fetches: user mode needs a user page; supervisor mode
     * may not fetch from user pages with SMEP; XD forbids both. */
    if (w->user ? !upage : (upage && (c->cr4 & CR4_SMEP))) bad = true;
    if (!(rights & PT_RIGHT_XS)) bad = true;
  } else if (w->user) {
    if (!upage || (acc == MMU_WRITE && !(rights & PT_RIGHT_W))) bad = true;
  } else {
    /* SMAP: supervisor data accesses to user pages only when explicit with
     * RFLAGS.AC=1; supervisor writes to read-only pages only with WP=0. */
    bool implicit = w->flags & MMU_IMPLICIT_SUPERVISOR;
    if (upage && (c->cr4 & CR4_SMAP) && (implicit || !c->ac)) bad = true;
    if (acc == MMU_WRITE && !(rights & PT_RIGHT_W) && wp) bad = true;
  }
  /* Protection keys: data accesses to user pages, 4/5-level paging, CR4.PKE. */
  bool pk = false;
  if (acc != MMU_FETCH && upage && w->gf->pkeys && (c->cr4 & CR4_PKE) &&
      (w->phys->features & MMU_FEAT_PKU)) {
    bool ad = (c->pkru >> (2 * pkey)) & 1, wd = (c->pkru >> (2 * pkey + 1)) & 1;
    pk = ad || (wd && acc == MMU_WRITE && (w->user || wp));
  }
  if (!bad && !pk) return 0;
  return PF_P | (pk ? PF_PK : 0);
}

/* MMU_PERM_* the guest's rules (walk_guest_check) allow for a translation
 * with these rights and protection key. The answer depends on nothing else
 * than the access mode (sig), so the last one is remembered: consecutive
 * translations nearly always repeat it (walk_guest_perms_remembered()). */
unsigned walk_guest_perms(struct walk_env *w, unsigned rights, unsigned pkey)
{
  unsigned key = walk_guest_perms_key(rights, pkey);
  if (w->gp_key == key && w->gp_sig == w->sig) return w->gp_perms;
  unsigned p = 0;
  if (!walk_guest_check(w, rights, pkey, MMU_READ)) p |= MMU_PERM_READ;
  if (!walk_guest_check(w, rights, pkey, MMU_WRITE)) p |= MMU_PERM_WRITE;
  if (!walk_guest_check(w, rights, pkey, MMU_FETCH)) p |= MMU_PERM_EXEC;
  w->gp_key = key;
  w->gp_sig = w->sig;
  w->gp_perms = p;
  return p;
}

unsigned walk_perms(struct walk_env *w, const struct walk_result *r)
{
  bool upage = r->rights & PT_RIGHT_U;
  unsigned g = walk_guest_perms(w, r->rights, r->pkey);
  unsigned p = 0;
  if ((g & MMU_PERM_READ) && walk_nested_allows(w, r->nrights, MMU_READ, upage)) p |= MMU_PERM_READ;
  if (r->gdirty && r->ndirty && (g & MMU_PERM_WRITE) && walk_nested_allows(w, r->nrights, MMU_WRITE, upage))
    p |= MMU_PERM_WRITE;
  if ((g & MMU_PERM_EXEC) && walk_nested_allows(w, r->nrights, MMU_FETCH, upage)) p |= MMU_PERM_EXEC;
  return p;
}

/* ---- One dimension ------------------------------------------------------------------ */

enum dim_status { DIM_OK, DIM_NOT_PRESENT, DIM_RESERVED, DIM_MISCONFIG, DIM_PROTECTION, DIM_NESTED_FAULT };

struct dim {
  const struct pt_format *f;
  uint64_t addr;                     /* address translated */
  unsigned start;                    /* first level read */
  uint64_t table;                    /* table at `start` */
  bool table_hpa;                    /* `table` is host-physical already */
  unsigned rights;                   /* rights entering `start`; out: of the walk */
  /* out */
  enum dim_status st;
  const char *reason;
  unsigned leaf;
  uint64_t out;                      /* translated address */
  uint64_t e[PT_MAX_LEVELS + 1], e_hpa[PT_MAX_LEVELS + 1];
  uint64_t tbl_hpa[PT_MAX_LEVELS + 1];      /* host-physical table read at each level */
  unsigned acc_rights[PT_MAX_LEVELS + 1];   /* rights through each level */
};

static bool nested_translate(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final,
                             bool user_page, uint64_t linear, bool linear_valid, unsigned grights,
                             struct nres *r, struct mmu_fault *fault);

/* Walks one dimension from d->start down to a leaf. For the guest dimension
 * (guest=true, SLAT on) each entry address is first translated through the
 * nested dimension; its faults are filled in *fault and give DIM_NESTED_FAULT. */
/* Inlined into its two callers, so each gets the loop specialised for its
 * dimension. */
static inline __attribute__((always_inline)) void
dim_walk(struct walk_env *w, struct dim *d, bool guest, uint64_t linear, struct mmu_fault *fault)
{
  const struct pt_format *f = d->f;
  uint64_t table = d->table;
  bool is_hpa = d->table_hpa;
  unsigned rights = d->rights;
  uint64_t idx_mask = (1ull << f->index_bits) - 1;
  for (unsigned level = d->start; level >= 1; level--) {
    uint64_t idx = (d->addr >> pt_level_shift(f, level)) & idx_mask;
    if (level == f->levels && f->top_entries) idx &= f->top_entries - 1u;
    uint64_t off = idx * f->entry_size;
    uint64_t ea = table + off;
    if (!is_hpa) {
      struct nres nr;
      enum mmu_access pa = w->ps_write ? MMU_WRITE : MMU_READ;
      if (!nested_translate(w, ea, pa, false, false, linear, true, 0, &nr, fault)) {
        d->st = DIM_NESTED_FAULT;
        return;
      }
      ea = nr.hpa;
    }
    uint64_t e = ram_read(w->phys, ea, f->entry_size);
    w->refs++;
    d->e[level] = e;
    d->e_hpa[level] = ea;
    const struct pt_level *lv = &f->lv[level];
    if (!lv->rights_ignored) rights &= pt_rights(f, e);
    d->acc_rights[level] = rights;
    if (guest) d->tbl_hpa[level] = ea - off;
    d->rights = rights;
    d->leaf = level;
    if (!(e & f->present)) { d->st = DIM_NOT_PRESENT; d->reason = "entry not present"; return; }
    bool leaf = level == 1 || (lv->large_ok && (e & f->ps_bit));
    if (e & (leaf ? lv->rsvd_leaf : lv->rsvd_table)) {
      d->st = f->kind == PT_KIND_EPT ? DIM_MISCONFIG : DIM_RESERVED;
      d->reason = "reserved bit set in a paging-structure entry";
      return;
    }
    /* Beyond the masks, an EPT entry can only be misconfigured if it maps a
     * page (memory type) or lacks read or write permission. */
    if (f->kind == PT_KIND_EPT && (leaf || (e & 3) != 3)) {
      const char *why = ept_entry_misconfig(f, e, leaf);
      if (why) { d->st = DIM_MISCONFIG; d->reason = why; return; }
    }
    if (leaf) {
      unsigned shift = pt_level_shift(f, level);
      uint64_t base = e & lv->leaf_addr;
      if (f->pse36 && level == 2) base |= ((e >> 13) & 0xFF) << 32;
      d->out = base | (d->addr & ((1ull << shift) - 1));
      d->st = DIM_OK;
      return;
    }
    table = e & lv->table_addr;
    is_hpa = !guest || !w->nf;
  }
  d->st = DIM_NOT_PRESENT; /* unreachable: level 1 is always a leaf */
}

/* Sets accessed flags on every entry walked and the dirty flag of the leaf. */
static void dim_set_ad(struct walk_env *w, const struct dim *d, bool write)
{
  const struct pt_format *f = d->f;
  if (!f->a_bit) return;
  for (unsigned l = d->start; l >= d->leaf && l >= 1; l--) {
    if (f->lv[l].rights_ignored) continue;
    uint64_t bits = f->a_bit | (l == d->leaf && write ? f->d_bit : 0);
    if ((d->e[l] & bits) == bits) continue;
    ram_set_bits(w->phys, d->e_hpa[l], bits & ~d->e[l], f->entry_size);
    w->npath.low = 0; /* the write may have changed an entry on the remembered nested path */
  }
}

/* ---- Nested dimension ------------------------------------------------------------------ */

static void nested_fault(struct walk_env *w, const struct dim *d, uint64_t gpa, enum mmu_access acc,
                         bool final, uint64_t linear, bool linear_valid,
                         unsigned grights, struct mmu_fault *fault)
{
  *fault = (struct mmu_fault){ .reason = d->reason };
  if (w->nf->kind == PT_KIND_EPT) {
    fault->guest_physical = gpa;
    if (d->st == DIM_MISCONFIG) { fault->kind = MMU_FAULT_EPT_MISCONFIG; return; }
    uint64_t q = 0;
    if (acc == MMU_FETCH) q |= EPT_QUAL_FETCH;
    else if (acc == MMU_WRITE) q |= EPT_QUAL_WRITE | (final ? 0 : EPT_QUAL_READ);
    else q |= EPT_QUAL_READ;
    unsigned nr = d->rights;
    if (nr & PT_RIGHT_R) q |= EPT_QUAL_READABLE;
    if (nr & PT_RIGHT_W) q |= EPT_QUAL_WRITABLE;
    if (nr & PT_RIGHT_XS) q |= EPT_QUAL_EXECUTABLE;
    if (w->ctx->ept_mbec && (nr & PT_RIGHT_XU)) q |= EPT_QUAL_USER_EXECUTABLE;
    if (linear_valid) {
      q |= EPT_QUAL_LINEAR_VALID;
      fault->guest_linear = linear;
      if (final) {
        q |= EPT_QUAL_FINAL;
        if ((w->phys->features & MMU_FEAT_EPT_ADV_INFO) && w->gf) {
          if (grights & PT_RIGHT_U) q |= EPT_QUAL_USER_LINEAR;
          if (grights & PT_RIGHT_W) q |= EPT_QUAL_WRITABLE_LINEAR;
          if (!(grights & PT_RIGHT_XS)) q |= EPT_QUAL_XD_LINEAR;
        }
      }
    }
    fault->kind = MMU_FAULT_EPT_VIOLATION;
    fault->exit_qualification = q;
    return;
  }
  uint64_t ec = NPF_U | (final ? NPF_FINAL : NPF_GUEST_PT);
  if (d->st != DIM_NOT_PRESENT) ec |= NPF_P;
  if (d->st == DIM_RESERVED) ec |= NPF_RSV;
  if (acc == MMU_WRITE) ec |= NPF_W;
  if (acc == MMU_FETCH) ec |= NPF_ID;
  fault->kind = MMU_FAULT_NPF;
  fault->exitinfo1 = ec;
  fault->exitinfo2 = gpa;
}

/* Where a nested walk of `gpa` may start: below the lowest level whose
 * entry the last nested walk of this translation read for the same region
 * (the entry at level l depends only on the address bits above its shift).
 * The entries skipped are counted as read. */
static void nested_start(struct walk_env *w, struct dim *d, uint64_t gpa)
{
  const struct pt_format *f = w->nf;
  d->start = f->levels;
  d->table = w->nroot;
  d->rights = PT_RIGHTS_ALL;
  if (!w->npath.low) return;
  for (unsigned l = w->npath.low; l <= f->levels; l++) {
    unsigned s = pt_level_shift(f, l);
    if ((gpa >> s) != (w->npath.addr >> s)) continue;
    d->start = l - 1;
    d->table = w->npath.table[l - 1];
    d->rights = w->npath.rights[l];
    w->refs += f->levels - l + 1;
    return;
  }
}

/* Remembers the path of a successful nested walk that started at `start`.
 * Levels above `start` came from the remembered path and stay valid for
 * this address (same region) unless this walk wrote an accessed/dirty flag,
 * which dropped the path: then only a walk from the top is remembered. The
 * values are those read before the walk's own flag updates, which change
 * no table address, right or reserved bit of a table entry. */
static void nested_remember(struct walk_env *w, const struct dim *d, unsigned start, uint64_t gpa)
{
  if (!w->mmu) return; /* the reference walk reads every entry */
  if (!w->npath.low && start != d->f->levels) return;
  for (unsigned l = start; l > d->leaf; l--) {
    w->npath.table[l - 1] = d->e[l] & d->f->lv[l].table_addr;
    w->npath.rights[l] = d->acc_rights[l];
    w->npath.raw[l] = d->e[l]; /* before this walk's flag updates: walk_fast.c's check then fails */
    w->npath.ea[l] = d->e_hpa[l];
  }
  w->npath.addr = gpa;
  w->npath.low = d->leaf + 1;
  w->npath.checked = true;
}

bool walk_nested(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final,
                        bool user_page, uint64_t linear, bool linear_valid, unsigned grights,
                        struct nres *r, struct mmu_fault *fault)
{
  const struct pt_format *f = w->nf;
  /* A PAE host's nested walk reads its PDPTEs from memory: nested paging
   * has no PDPTE registers for the host's tables. */
  struct dim d;
  d.f = f;
  d.addr = gpa;
  d.table_hpa = true;
  d.reason = 0;
  nested_start(w, &d, gpa);
  unsigned start = d.start;
  dim_walk(w, &d, false, linear, fault);
  if (d.st == DIM_OK && !walk_nested_allows(w, d.rights, acc, user_page)) {
    d.st = DIM_PROTECTION;
    d.reason = f->kind == PT_KIND_EPT ? "EPT permissions do not allow the access"
                                      : "nested page permissions do not allow the user access";
  }
  if (d.st != DIM_OK) {
    nested_fault(w, &d, gpa, acc, final, linear, linear_valid, grights, fault);
    return false;
  }
  dim_set_ad(w, &d, acc == MMU_WRITE);
  nested_remember(w, &d, start, gpa);
  r->hpa = d.out;
  r->rights = d.rights;
  r->shift = pt_level_shift(f, d.leaf);
  r->dirty = !f->d_bit || acc == MMU_WRITE || (d.e[d.leaf] & f->d_bit);
  return true;
}

static bool nested_translate(struct walk_env *w, uint64_t gpa, enum mmu_access acc, bool final,
                             bool user_page, uint64_t linear, bool linear_valid, unsigned grights,
                             struct nres *r, struct mmu_fault *fault)
{
  struct mmu *m = w->mmu;
  if (!m) return walk_nested(w, gpa, acc, final, user_page, linear, linear_valid, grights, r, fault);
  uint64_t key = gpa & ~0xFFFull;
  struct mmu_entry *e = cache_lookup(m, &m->gpa_tlb, gpa >> 12, key, w->gpa_tag, 0, w->root_tag);
  if (e && walk_nested_allows(w, e->nrights, acc, user_page) && (acc != MMU_WRITE || (e->flags & ENT_NDIRTY))) {
    m->stats.gpa_hits++;
    *r = nres_of_entry(e, gpa);
    return true;
  }
  /* A miss, or an entry that does not allow this access: walk afresh. */
  if (e) cache_drop(&m->gpa_tlb, e);
  m->stats.gpa_misses++;
  if (!walk_nested(w, gpa, acc, final, user_page, linear, linear_valid, grights, r, fault)) return false;
  e = cache_slot(m, &m->gpa_tlb, gpa >> 12, key, w->gpa_tag, 0, w->root_tag);
  if (e) {
    *e = (struct mmu_entry){ .key = key, .root = w->root_tag, .hpa = r->hpa & ~0xFFFull,
                             .tag = w->gpa_tag, .nrights = (uint8_t)r->rights, .shift = 12, .gshift = 12,
                             .nshift = (uint8_t)r->shift,
                             .flags = (uint8_t)((r->dirty ? ENT_NDIRTY : 0) |
                                                (w->nf->kind == PT_KIND_EPT ? ENT_EPT : 0)) };
    cache_commit(m, &m->gpa_tlb, e);
  }
  return true;
}

/* ---- Guest dimension and the whole translation ------------------------------------------- */

bool walk_page_fault(struct walk_env *w, uint64_t linear, enum mmu_access acc, uint32_t ec,
                       const char *why, struct mmu_fault *fault)
{
  const struct mmu_context *c = w->ctx;
  if (acc == MMU_WRITE) ec |= PF_W;
  if (w->user) ec |= PF_U;
  /* I/D is reported when execute-disable or SMEP could be the cause. */
  if (acc == MMU_FETCH && ((c->cr4 & CR4_SMEP) || ((c->cr4 & CR4_PAE) && (c->efer & EFER_NXE))))
    ec |= PF_I;
  *fault = (struct mmu_fault){ .kind = MMU_FAULT_PF, .error_code = ec, .cr2 = linear, .reason = why };
  return false;
}

/* Starts the guest walk: from a paging-structure cache entry if one covers
 * the address, else from the PDPTE registers (PAE, not NPT) or CR3. */
static bool guest_start(struct walk_env *w, struct dim *d, uint64_t linear, enum mmu_access acc,
                        struct mmu_fault *fault)
{
  const struct pt_format *f = w->gf;
  d->f = f;
  d->addr = linear;
  d->rights = PT_RIGHTS_ALL;
  struct mmu *m = w->mmu;
  bool pae_regs = w->gmode == MMU_X86_PAE && (!w->nf || w->nf->kind == PT_KIND_EPT);
  unsigned top_cached = pae_regs ? 2 : f->levels;
  if (m) {
    for (unsigned l = 2; l <= top_cached; l++) {
      unsigned s = pt_level_shift(f, l);
      uint64_t key = linear & ~((1ull << s) - 1);
      struct mmu_entry *e = cache_lookup(m, &m->psc[l], linear >> s, key, w->ctx->tag, w->pcid, w->root_tag);
      if (!e) continue;
      m->stats.psc_hits[l]++;
      d->start = l - 1;
      d->table = e->hpa;
      d->table_hpa = true;
      d->rights = e->rights;
      return true;
    }
    m->stats.psc_misses++;
  }
  if (pae_regs) {
    /* SDM "PAE Paging": the PDPTE registers, not memory, supply level 3. */
    uint64_t pdpte = w->ctx->pdpte[(linear >> 30) & 3];
    if (!(pdpte & 1)) return walk_page_fault(w, linear, acc, 0, "PDPTE register not present", fault);
    if (!mmu_pdpte_valid(pdpte, w->phys->maxphyaddr))
      return walk_page_fault(w, linear, acc, PF_P | PF_RSVD, "reserved bit set in a PDPTE register", fault);
    d->start = 2;
    d->table = pdpte & f->lv[3].table_addr;
    d->table_hpa = !w->nf;
    return true;
  }
  d->start = f->levels;
  d->table = w->groot;
  d->table_hpa = !w->nf;
  return true;
}

static void guest_fill_pscs(struct walk_env *w, const struct dim *d)
{
  struct mmu *m = w->mmu;
  const struct pt_format *f = d->f;
  bool pae_regs = w->gmode == MMU_X86_PAE && (!w->nf || w->nf->kind == PT_KIND_EPT);
  for (unsigned l = d->start; l > d->leaf; l--) {
    if (l < 2 || (pae_regs && l > 2) || f->lv[l].rights_ignored) continue;
    unsigned s = pt_level_shift(f, l);
    uint64_t key = d->addr & ~((1ull << s) - 1);
    struct mmu_entry *e = cache_slot(m, &m->psc[l], d->addr >> s, key, w->ctx->tag, w->pcid, w->root_tag);
    if (!e) continue;
    *e = (struct mmu_entry){ .key = key, .root = w->root_tag, .hpa = d->tbl_hpa[l - 1],
                             .tag = w->ctx->tag, .pcid = w->pcid, .shift = (uint8_t)s, .gshift = (uint8_t)s,
                             .rights = (uint8_t)d->acc_rights[l],
                             .flags = w->nf && w->nf->kind == PT_KIND_EPT ? ENT_EPT : 0 };
    cache_commit(m, &m->psc[l], e);
  }
}

bool walk_translate(struct walk_env *w, uint64_t linear, enum mmu_access acc,
                    struct mmu_translation *out, struct mmu_fault *fault, struct walk_result *res)
{
  const struct mmu_context *c = w->ctx;
  *res = (struct walk_result){ .rights = PT_RIGHTS_ALL, .nrights = PT_RIGHTS_ALL,
                               .gdirty = true, .ndirty = true, .shift = 63 };
  if (!(c->efer & EFER_LMA)) linear &= 0xFFFFFFFFu; /* linear addresses are 32 bits */
  uint64_t gpa = linear;
  struct dim d;
  d.reason = 0;
  d.start = d.leaf = 0;
  if (w->gf) {
    if (!guest_start(w, &d, linear, acc, fault)) return false;
    dim_walk(w, &d, true, linear, fault);
    if (d.st == DIM_NESTED_FAULT) return false;
    if (d.st == DIM_NOT_PRESENT) return walk_page_fault(w, linear, acc, 0, d.reason, fault);
    if (d.st != DIM_OK) return walk_page_fault(w, linear, acc, PF_P | PF_RSVD, d.reason, fault);
    const struct pt_format *f = w->gf;
    uint64_t leaf = d.e[d.leaf];
    res->rights = d.rights;
    res->pkey = f->pkeys ? (unsigned)(leaf >> 59) & 0xF : 0;
    static const unsigned perm_of[] = { [MMU_READ] = MMU_PERM_READ, [MMU_WRITE] = MMU_PERM_WRITE,
                                        [MMU_FETCH] = MMU_PERM_EXEC };
    if (!(walk_guest_perms(w, d.rights, res->pkey) & perm_of[acc]))
      return walk_page_fault(w, linear, acc, walk_guest_check(w, d.rights, res->pkey, acc),
                        "access rights do not allow the access", fault);
    /* The guest walk is complete: set its accessed/dirty flags (SDM
     * "Accessed and Dirty Flags"), then access the final guest-physical page. */
    dim_set_ad(w, &d, acc == MMU_WRITE);
    res->global = (c->cr4 & CR4_PGE) && (leaf & f->g_bit);
    res->gdirty = acc == MMU_WRITE || (leaf & f->d_bit);
    res->shift = pt_level_shift(f, d.leaf);
    res->gshift = res->shift;
    gpa = d.out;
  }
  uint64_t hpa = gpa;
  if (w->nf) {
    struct nres nr;
    bool upage = w->gf && (res->rights & PT_RIGHT_U);
    if (!nested_translate(w, gpa, acc, true, upage, linear, true, res->rights, &nr, fault)) return false;
    hpa = nr.hpa;
    res->nrights = nr.rights;
    res->ndirty = nr.dirty;
    if (nr.shift < res->shift) res->shift = nr.shift;
  }
  if (w->mmu && w->gf) guest_fill_pscs(w, &d);
  out->pa = hpa;
  out->page_base = hpa & ~0xFFFull;
  out->gpa = gpa;
  out->page_shift = (uint8_t)(res->shift > 30 ? 12 : res->shift);
  out->perms = walk_perms(w, res);
  return true;
}
