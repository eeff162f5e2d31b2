/* Invalidation of the MMU's TLB and paging-structure caches, one function per
 * architectural operation. Each removes at least what its section requires;
 * everything else stays, so stale translations survive exactly where the
 * architecture lets software see them.
 *
 * Sources: SDM Vol. 3A, Paging, "Invalidation of TLBs and Paging-Structure
 * Caches" ("Operations that Invalidate TLBs and Paging-Structure Caches");
 * SDM Vol. 3C, "VMX Support for Address Translation" ("Invalidating Cached
 * Mappings", "Operations that Invalidate Cached Mappings"), instruction pages
 * INVLPG, INVPCID, INVVPID, INVEPT, MOV to CR0/CR3/CR4; APM Vol. 2, "TLB
 * Control", "TLB Flush" and INVLPGA. */
#include "sim/mmu/mmu.h"

#include "models/vmx/ept_format.h"
#include "sim/mmu/cache.h"
#include "sim/mmu/walk.h"

static void inv_tlb(struct mmu *m, const struct cache_match *mt)
{
  for (unsigned s = 0; s < MMU_PAGE_SIZES; s++) cache_invalidate(m, &m->tlb[s], mt);
}

/* Paging-structure caches never hold global entries, and are never matched
 * by address: the operations below remove all of a context's entries. */
static void inv_psc(struct mmu *m, const struct cache_match *mt)
{
  struct cache_match p = *mt;
  p.by_key = false;
  p.keep_global = false;
  for (unsigned l = 2; l < MMU_PSC_LEVELS; l++) cache_invalidate(m, &m->psc[l], &p);
}

static void inv_linear(struct mmu *m, const struct cache_match *mt)
{
  m->stats.invalidations++;
  inv_tlb(m, mt);
  inv_psc(m, mt);
}

static uint16_t current_pcid(const struct mmu_context *ctx)
{
  return (ctx->cr4 & CR4_PCIDE) && (ctx->efer & EFER_LMA) ? ctx->cr3 & 0xFFF : 0;
}

/* SDM Vol. 3A, "Operations that Invalidate TLBs and Paging-Structure Caches"
 * (MOV to CR3): with CR4.PCIDE=0, all non-global entries of PCID 000H; with
 * CR4.PCIDE=1 and bit 63 clear, all non-global entries of the new PCID; with
 * bit 63 set, nothing ("Process-Context Identifiers"). */
void mmu_mov_cr3(struct mmu *m, const struct mmu_context *ctx, uint64_t new_cr3)
{
  uint16_t pcid = 0;
  if ((ctx->cr4 & CR4_PCIDE) && (ctx->efer & EFER_LMA)) {
    if (new_cr3 & (1ull << 63)) { m->stats.invalidations++; return; }
    pcid = new_cr3 & 0xFFF;
  }
  inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = ctx->tag, .by_pcid = true,
                                       .pcid = pcid, .keep_global = true });
}

/* Same section (MOV to CR0): clearing CR0.PG invalidates all TLB entries,
 * global ones included, and all paging-structure-cache entries, all PCIDs. */
void mmu_mov_cr0(struct mmu *m, const struct mmu_context *ctx, uint64_t old_cr0, uint64_t new_cr0)
{
  if (!((old_cr0 & CR0_PG) && !(new_cr0 & CR0_PG))) return;
  inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = ctx->tag });
}

/* Same section (MOV to CR4): a change of CR4.PGE, or CR4.PCIDE 1 -> 0,
 * invalidates everything of every PCID; a change of CR4.PAE, or CR4.SMEP
 * 0 -> 1, invalidates everything of the current PCID. */
void mmu_mov_cr4(struct mmu *m, const struct mmu_context *ctx, uint64_t old_cr4, uint64_t new_cr4)
{
  uint64_t changed = old_cr4 ^ new_cr4;
  if ((changed & CR4_PGE) || ((old_cr4 & CR4_PCIDE) && !(new_cr4 & CR4_PCIDE))) {
    inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = ctx->tag });
    return;
  }
  /* CR4.PSE changes what a PDE with PS=1 means (a 4-MByte page or a page
   * table); cached paging-structure entries made under the other meaning
   * must go, as Bochs and QEMU drop them (conformance image paging32). */
  if ((changed & (CR4_PAE | CR4_PSE | CR4_LA57)) || ((new_cr4 & CR4_SMEP) && !(old_cr4 & CR4_SMEP)))
    inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = ctx->tag, .by_pcid = true,
                                         .pcid = current_pcid(ctx) });
}

/* INVLPG: the TLB entries for the page of the current PCID, global entries
 * for the page whatever their PCID, and every paging-structure-cache entry
 * of the current PCID (SDM Vol. 3A, "Operations that Invalidate TLBs and
 * Paging-Structure Caches"). */
void mmu_invlpg(struct mmu *m, const struct mmu_context *ctx, uint64_t linear)
{
  if (!(ctx->efer & EFER_LMA)) linear &= 0xFFFFFFFFu;
  inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = ctx->tag, .by_pcid = true,
                                       .pcid = current_pcid(ctx), .by_key = true, .addr = linear });
}

/* INVPCID (instruction page "INVPCID"): type 0 one address of one PCID,
 * 1 one PCID, both keeping global translations; 2 everything including
 * globals; 3 everything but globals. */
bool mmu_invpcid(struct mmu *m, const struct mmu_context *ctx, unsigned type, uint16_t pcid, uint64_t linear)
{
  struct cache_match mt = { .by_tag = true, .tag = ctx->tag };
  switch (type) {
  case MMU_INVPCID_ADDRESS:
    mt.by_pcid = true; mt.pcid = pcid; mt.keep_global = true; mt.by_key = true; mt.addr = linear;
    break;
  case MMU_INVPCID_SINGLE:
    mt.by_pcid = true; mt.pcid = pcid; mt.keep_global = true;
    break;
  case MMU_INVPCID_ALL_GLOBAL:
    break;
  case MMU_INVPCID_ALL:
    mt.keep_global = true;
    break;
  default:
    return false; /* #GP(0) */
  }
  inv_linear(m, &mt);
  return true;
}

/* INVVPID (instruction page "INVVPID"; SDM Vol. 3C, "Invalidating Cached
 * Mappings"): linear and combined mappings of a VPID - one address (all
 * PCIDs, globals too), the whole VPID, every VPID but 0000H, or the whole
 * VPID except global translations. VPID 0 is invalid for the single-VPID
 * types (VMfailValid). */
bool mmu_invvpid(struct mmu *m, unsigned type, uint16_t vpid, uint64_t linear)
{
  struct cache_match mt = { .by_tag = true, .tag = vpid };
  switch (type) {
  case MMU_INVVPID_ADDRESS:
    if (!vpid) return false;
    mt.by_key = true; mt.addr = linear;
    break;
  case MMU_INVVPID_SINGLE:
    if (!vpid) return false;
    break;
  case MMU_INVVPID_ALL:
    mt = (struct cache_match){ .not_tag0 = true };
    break;
  case MMU_INVVPID_SINGLE_RETAIN_GLOBALS:
    if (!vpid) return false;
    mt.keep_global = true;
    break;
  default:
    return false;
  }
  inv_linear(m, &mt);
  return true;
}

/* The nested path the cached walker keeps between translations
 * (sim/mmu/walk.h) holds EPT/NPT paging-structure entries as read; it is
 * checked against memory before use, but an entry whose accessed flag
 * software cleared again reads as it was, and using it sets no flag.
 * Paging-structure caches may do that until invalidated (SDM Vol. 3C,
 * "Accessed and Dirty Flags for EPT"): every invalidation of guest-
 * physical mappings drops the path. */
static void drop_nested_path(struct mmu *m)
{
  if (m->memo_valid) ((struct walk_env *)m->memo_env)->npath.low = 0;
}

/* INVEPT (instruction page "INVEPT"; SDM Vol. 3C, "Invalidating Cached
 * Mappings"): guest-physical and combined mappings of one EP4TA (all VPIDs
 * and PCIDs), or of every EP4TA. Linear mappings (no EPT) are untouched. */
bool mmu_invept(struct mmu *m, unsigned type, uint64_t eptp)
{
  struct cache_match mt = { .need_flags = ENT_EPT };
  switch (type) {
  case MMU_INVEPT_SINGLE:
    mt.by_root = true;
    mt.root = eptp & pt_bits(m->phys.maxphyaddr - 1, 12);
    break;
  case MMU_INVEPT_ALL:
    break;
  default:
    return false;
  }
  inv_linear(m, &mt);
  cache_invalidate(m, &m->gpa_tlb, &mt);
  drop_nested_path(m);
  return true;
}

/* SDM Vol. 3C, "Operations that Invalidate Cached Mappings": with "enable
 * VPID" 0, every VM entry and VM exit invalidates the linear and combined
 * mappings of VPID 0000H. With VPIDs in use, they invalidate nothing. */
void mmu_vmx_transition(struct mmu *m, bool vpid_enabled)
{
  if (vpid_enabled) return;
  inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = 0 });
}

/* APM Vol. 2, "TLB Control" (VMCB TLB_CONTROL, acted on by VMRUN):
 * 00h nothing, 01h the entire TLB (every ASID), 03h this guest's ASID,
 * 07h this guest's non-global entries. Other values are reserved. */
bool mmu_svm_tlb_control(struct mmu *m, unsigned tlb_control, uint16_t asid)
{
  struct cache_match mt = { .by_tag = true, .tag = asid };
  switch (tlb_control) {
  case 0x0: return true;
  case 0x1: mmu_flush_all(m); return true;
  case 0x3: break;
  case 0x7: mt.keep_global = true; break;
  default: return false;
  }
  inv_linear(m, &mt);
  mt.keep_global = false; /* guest-physical mappings are never global */
  cache_invalidate(m, &m->gpa_tlb, &mt);
  drop_nested_path(m);
  return true;
}

/* INVLPGA (APM Vol. 3 instruction page; APM Vol. 2 "Invalidating TLB
 * Entries"): the mapping of one virtual page in one ASID, global or not. */
void mmu_invlpga(struct mmu *m, uint64_t linear, uint16_t asid)
{
  inv_linear(m, &(struct cache_match){ .by_tag = true, .tag = asid, .by_key = true, .addr = linear });
}

/* SDM Vol. 3C, "Virtual-Processor Identifiers (VPIDs)" and APM Vol. 2, "TLB
 * Control": entries are tagged, so switching VPID or ASID invalidates none. */
bool mmu_switch_tag(struct mmu *m, uint16_t old_tag, uint16_t new_tag)
{
  (void)m;
  return old_tag != new_tag;
}

void mmu_flush_all(struct mmu *m)
{
  m->stats.invalidations++;
  m->generation++;
  if (m->generation == 0) m->generation = 1;
  drop_nested_path(m);
}
