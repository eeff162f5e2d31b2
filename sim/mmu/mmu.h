/* hvsim's memory-virtualization model: linear-address translation for every
 * x86 paging mode, two-dimensional walks through EPT or NPT, a tagged TLB with
 * paging-structure caches, and the invalidation operations that manage them.
 *
 * The simulator's Unicorn TLB-fill hook calls mmu_translate() for each page
 * and access kind; the VMX and SVM models call the invalidation functions when
 * the guest or the hypervisor executes the instructions that require them.
 * docs/mmu.md explains the model; pt_format.h is the per-format bit table.
 *
 * Physical memory is the machine's RAM: a flat host buffer of ram_size bytes,
 * host-physical addresses 0..ram_size-1. A paging-structure read outside RAM
 * returns all ones, as an unclaimed bus cycle does on PC hardware (the entry is
 * then present with reserved bits set, so the walk faults with RSVD / EPT
 * misconfiguration); accessed/dirty writes outside RAM are dropped. A final
 * translation to an address outside RAM succeeds: the caller decides what is
 * there (MMIO or nothing). */
#ifndef HVSIM_SIM_MMU_MMU_H
#define HVSIM_SIM_MMU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/cpu_state.h"
#include "sim/mmu/pt_format.h"

/* ---- CPU-model properties that change what a translation means ---------- */

enum mmu_feature {
  MMU_FEAT_PSE36          = 1u << 0, /* 4-MByte pages address beyond 4 GiB */
  MMU_FEAT_1G_PAGES       = 1u << 1, /* CPUID.80000001H:EDX.Page1GB */
  MMU_FEAT_PKU            = 1u << 2, /* protection keys (CR4.PKE honoured) */
  MMU_FEAT_LA57           = 1u << 3, /* 5-level paging (CR4.LA57 honoured) */
  MMU_FEAT_EPT_EXEC_ONLY  = 1u << 4, /* IA32_VMX_EPT_VPID_CAP bit 0 */
  MMU_FEAT_EPT_5LEVEL     = 1u << 5, /* page-walk length 5 (cap bit 7) */
  MMU_FEAT_EPT_AD         = 1u << 6, /* accessed/dirty flags for EPT (cap bit 21) */
  MMU_FEAT_EPT_1G         = 1u << 7, /* 1-GByte EPT pages (cap bit 17) */
  MMU_FEAT_EPT_ADV_INFO   = 1u << 8, /* advanced VM-exit info for EPT violations (cap bit 22) */
  MMU_FEAT_EPT_MBEC       = 1u << 9, /* mode-based execute control for EPT */
};

/* ---- Geometry: sizes and replacement of every cache ---------------------- */

enum mmu_page_size { MMU_PAGE_4K, MMU_PAGE_LARGE /* 2 MiB or 4 MiB */, MMU_PAGE_1G, MMU_PAGE_SIZES };

enum mmu_replacement {
  MMU_REPL_LRU,  /* least recently used way of the set */
  MMU_REPL_FIFO, /* round robin per set */
};

struct mmu_cache_geometry {
  uint32_t sets; /* power of two; 0 disables the cache */
  uint32_t ways;
};

/* PSC levels: index 2 = PDE cache, 3 = PDPTE cache, 4 = PML4E, 5 = PML5E. */
#define MMU_PSC_LEVELS (PT_MAX_LEVELS + 1)

struct mmu_geometry {
  struct mmu_cache_geometry tlb[MMU_PAGE_SIZES];   /* combined/linear mappings */
  struct mmu_cache_geometry psc[MMU_PSC_LEVELS];   /* guest paging-structure caches */
  struct mmu_cache_geometry gpa_tlb;               /* guest-physical mappings (EPT/NPT) */
  enum mmu_replacement replacement;
  uint8_t maxphyaddr;                              /* CPUID.80000008H:EAX[7:0] */
  unsigned features;                               /* enum mmu_feature */
};

extern const struct mmu_geometry mmu_default_geometry;

/* ---- Physical memory plus the formats built for this CPU model ----------- */

enum mmu_x86_mode { MMU_X86_32, MMU_X86_32_PSE, MMU_X86_PAE, MMU_X86_4LEVEL, MMU_X86_5LEVEL, MMU_X86_MODES };

struct mmu_phys {
  uint8_t *ram;
  uint64_t ram_size;
  uint8_t maxphyaddr;
  unsigned features;
  struct pt_format x86[MMU_X86_MODES][2];    /* [mode][EFER.NXE] */
  struct pt_format ept[2][2][2];             /* [5-level][MBEC][A/D enabled] */
};

/* Fills *phys for ram/ram_size and the CPU model; false if maxphyaddr is not
 * in 32..52. */
bool mmu_phys_init(struct mmu_phys *phys, uint8_t *ram, uint64_t ram_size,
                   uint8_t maxphyaddr, unsigned features);

/* ---- Translation context -------------------------------------------------- */

enum mmu_slat { MMU_SLAT_NONE, MMU_SLAT_EPT, MMU_SLAT_NPT };

/* Everything a translation depends on, filled from the vCPU state. */
struct mmu_context {
  uint64_t cr0, cr3, cr4, efer;
  uint64_t pdpte[4];     /* PAE PDPTE registers (not used under NPT: read from memory) */
  uint32_t pkru;
  uint8_t cpl;
  bool ac;               /* RFLAGS.AC */
  enum mmu_slat slat;
  uint64_t eptp;         /* EPT: memory type [2:0], walk length-1 [5:3], A/D [6], EP4TA */
  bool ept_mbec;         /* "mode-based execute control for EPT" VM-execution control */
  uint64_t ncr3;         /* NPT root */
  uint64_t host_cr4, host_efer; /* NPT: host paging mode (PAE, PSE, LA57; LMA, NXE) */
  uint16_t tag;          /* VPID (VMX) or ASID (SVM); 0 = the host / VMX root */
};

void mmu_context_from_cpu(struct mmu_context *ctx, const struct cpu_state *cpu);

/* ---- Accesses, results and faults ---------------------------------------- */

enum mmu_access { MMU_READ, MMU_WRITE, MMU_FETCH };

/* Implicit supervisor-mode access (GDT/LDT/IDT/TSS reads, shadow-stack token
 * accesses): supervisor-mode even at CPL 3, and SMAP ignores RFLAGS.AC (SDM
 * Vol. 3A, Paging, "Access Rights"). */
#define MMU_IMPLICIT_SUPERVISOR (1u << 0)

#define MMU_PERM_READ  (1u << 0)
#define MMU_PERM_WRITE (1u << 1)
#define MMU_PERM_EXEC  (1u << 2)

struct mmu_translation {
  uint64_t pa;           /* host-physical address of the byte */
  uint64_t page_base;    /* host-physical base of its 4 KiB page */
  uint64_t gpa;          /* guest-physical address (== pa without SLAT) */
  unsigned perms;        /* MMU_PERM_* Unicorn may cache for this 4 KiB page */
  unsigned refs;         /* paging-structure entries read by this translation */
  uint8_t page_shift;    /* size of the combined mapping: 12, 21, 22 or 30 */
  bool tlb_hit;
};

enum mmu_fault_kind {
  MMU_FAULT_NONE,
  MMU_FAULT_PF,              /* #PF: error_code, cr2 */
  MMU_FAULT_EPT_VIOLATION,   /* exit_qualification, guest_physical, guest_linear */
  MMU_FAULT_EPT_MISCONFIG,   /* guest_physical */
  MMU_FAULT_NPF,             /* exitinfo1, exitinfo2 */
  MMU_FAULT_BAD_CONTEXT,     /* the context is not one the architecture can reach */
};

/* #PF error code (SDM Vol. 3A, Paging, "Page-Fault Exceptions"). */
#define PF_P    (1u << 0)
#define PF_W    (1u << 1)
#define PF_U    (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I    (1u << 4)
#define PF_PK   (1u << 5)

/* EPT violation, EPT misconfiguration or #NPF: a fault of the second
 * dimension, which belongs to the hypervisor rather than the guest. */
#define MMU_FAULT_IS_SECOND_LEVEL(kind) \
  ((kind) == MMU_FAULT_EPT_VIOLATION || (kind) == MMU_FAULT_EPT_MISCONFIG || (kind) == MMU_FAULT_NPF)

struct mmu_fault {
  enum mmu_fault_kind kind;
  uint32_t error_code;           /* #PF */
  uint64_t cr2;                  /* #PF */
  uint64_t exit_qualification;   /* EPT violation (models/vmx/ept_format.h bits) */
  uint64_t guest_physical;       /* EPT violation / misconfiguration */
  uint64_t guest_linear;         /* EPT violation, valid when qualification bit 7 */
  uint64_t exitinfo1, exitinfo2; /* #NPF (models/svm/npt_format.h bits) */
  const char *reason;            /* static text naming the rule that failed */
};

/* ---- Statistics ------------------------------------------------------------ */

#define MMU_STATS_TAGS 16

struct mmu_tag_stats {
  uint16_t tag;
  bool used;
  uint64_t hits, misses;
};

struct mmu_stats {
  uint64_t translations;
  uint64_t walks;                        /* translations that walked (any level) */
  uint64_t refs;                         /* paging-structure entries read */
  uint64_t faults;
  uint64_t tlb_hits[MMU_PAGE_SIZES];     /* per page size of the hit entry */
  uint64_t tlb_misses;
  uint64_t psc_hits[MMU_PSC_LEVELS];     /* per level of the cached entry */
  uint64_t psc_misses;
  uint64_t gpa_hits, gpa_misses;         /* guest-physical mappings */
  uint64_t invalidations;                /* invalidation operations executed */
  struct mmu_tag_stats per_tag[MMU_STATS_TAGS];
  uint64_t other_tag_hits, other_tag_misses; /* tags beyond MMU_STATS_TAGS */
};

/* ---- The MMU --------------------------------------------------------------- */

struct mmu_entry;   /* sim/mmu/cache.h */

/* Each set is one block of `stride` 64-bit words, so that a lookup reads
 * one or two cache lines: word 0 holds the generation the set's contents
 * belong to (low half; lazy full flush) and the FIFO pointer (high half),
 * word 1 the LRU order (4-bit way numbers, most recently used first), word 2
 * a bit per valid way, word 3 how many ways have been filled in order since
 * the set was emptied (the LRU order implied; sim/mmu/cache.h), then the
 * key of each way. */
#define MMU_CACHE_MAX_WAYS 16

struct mmu_cache {
  uint64_t *sets_mem;
  struct mmu_entry *e;
  uint32_t sets, ways, set_mask, stride;
  uint32_t filled_gen;     /* generation of the last fill: before one, nothing is valid */
};

/* Fields every translation reads come first, so that a translation touches
 * few cache lines of this (large) structure; the per-mode formats in `phys`
 * are last. */
struct mmu {
  uint32_t generation;     /* bumped by a full flush; older entries are invalid */
  bool memo_valid;
  /* Tests: translate with the generic walker only (sim/mmu/walk.c), never
   * the specialised one (walk_fast.c); both must give the same results,
   * memory writes, cache contents and statistics. Set before translating. */
  bool generic_only;
  struct mmu_cache tlb[MMU_PAGE_SIZES];
  struct mmu_cache psc[MMU_PSC_LEVELS];
  struct mmu_cache gpa_tlb;
  struct mmu_context memo_ctx;  /* the context memo_env was derived from */
  uint64_t memo_env[48];        /* struct walk_env (sim/mmu/walk.h) for memo_ctx */
  struct mmu_stats stats;
  struct mmu_geometry geo;
  struct mmu_phys phys;
};

/* Allocates the caches (the only allocation the MMU does). False on bad
 * geometry (sets not a power of two, more than MMU_CACHE_MAX_WAYS ways, bad
 * maxphyaddr) or allocation failure. */
bool mmu_init(struct mmu *mmu, const struct mmu_geometry *geo, uint8_t *ram, uint64_t ram_size);
void mmu_fini(struct mmu *mmu);

/* Translates `linear` for `access`. On success fills *out. On failure returns
 * false and fills *fault with the architectural fault. Nothing is modified on
 * failure except what the architecture sets before faulting: accessed (and,
 * when the access is a write, dirty) flags of EPT/NPT entries used by nested
 * walks that completed before the fault, and - when the guest walk succeeded
 * and only the final guest-physical access faults - the guest's own A/D flags.
 * The caller checks canonicality (#GP/#SS) before calling. */
bool mmu_translate(struct mmu *mmu, const struct mmu_context *ctx, uint64_t linear,
                   enum mmu_access access, unsigned flags,
                   struct mmu_translation *out, struct mmu_fault *fault);

/* A hint, no effect on the result: starts loading the 4 KiB TLB set that
 * translating `linear` will read first, so that a caller with other work to
 * do before mmu_translate() overlaps it with the cache miss. */
static inline void mmu_prefetch(const struct mmu *mmu, uint64_t linear)
{
  const struct mmu_cache *c = &mmu->tlb[MMU_PAGE_4K];
  if (c->sets) __builtin_prefetch(c->sets_mem + ((linear >> 12) & c->set_mask) * c->stride);
}

/* The oracle: the same architectural walk with no caching at all. */
bool mmu_reference_translate(const struct mmu_phys *phys, const struct mmu_context *ctx,
                             uint64_t linear, enum mmu_access access, unsigned flags,
                             struct mmu_translation *out, struct mmu_fault *fault);

const struct mmu_stats *mmu_stats(const struct mmu *mmu);
void mmu_stats_reset(struct mmu *mmu);

/* ---- PAE PDPTE registers --------------------------------------------------- */

/* True if a PDPTE may be loaded into a PDPTE register: not present, or no
 * reserved bit set (SDM Vol. 3A, Paging, "PDPTE Registers"). */
bool mmu_pdpte_valid(uint64_t pdpte, uint8_t maxphyaddr);

/* Loads the four PDPTEs as MOV to CR0/CR3/CR4 does in PAE mode (no SLAT):
 * returns false (the instruction then raises #GP) if one is invalid. */
bool mmu_load_pdptes(const struct mmu_phys *phys, uint64_t cr3, uint64_t pdpte[4]);

/* ---- Invalidation (sim/mmu/invalidate.c) ---------------------------------- */

/* MOV to CR3: `new_cr3` bit 63 is the PCID no-flush bit when CR4.PCIDE=1. */
void mmu_mov_cr3(struct mmu *mmu, const struct mmu_context *ctx, uint64_t new_cr3);
void mmu_mov_cr0(struct mmu *mmu, const struct mmu_context *ctx, uint64_t old_cr0, uint64_t new_cr0);
void mmu_mov_cr4(struct mmu *mmu, const struct mmu_context *ctx, uint64_t old_cr4, uint64_t new_cr4);
void mmu_invlpg(struct mmu *mmu, const struct mmu_context *ctx, uint64_t linear);

enum mmu_invpcid_type {
  MMU_INVPCID_ADDRESS = 0, MMU_INVPCID_SINGLE = 1,
  MMU_INVPCID_ALL_GLOBAL = 2, MMU_INVPCID_ALL = 3,
};
/* False (the instruction raises #GP) for a type outside 0..3. */
bool mmu_invpcid(struct mmu *mmu, const struct mmu_context *ctx, unsigned type,
                 uint16_t pcid, uint64_t linear);

enum mmu_invvpid_type {
  MMU_INVVPID_ADDRESS = 0, MMU_INVVPID_SINGLE = 1,
  MMU_INVVPID_ALL = 2, MMU_INVVPID_SINGLE_RETAIN_GLOBALS = 3,
};
bool mmu_invvpid(struct mmu *mmu, unsigned type, uint16_t vpid, uint64_t linear);

enum mmu_invept_type { MMU_INVEPT_SINGLE = 1, MMU_INVEPT_ALL = 2 };
bool mmu_invept(struct mmu *mmu, unsigned type, uint64_t eptp);

/* VM entry or VM exit: with "enable VPID" 0 both invalidate VPID 0's mappings. */
void mmu_vmx_transition(struct mmu *mmu, bool vpid_enabled);

/* VMRUN's TLB_CONTROL: 0 nothing, 1 all ASIDs, 3 the guest's ASID, 7 its
 * non-global entries. False for a reserved value. */
bool mmu_svm_tlb_control(struct mmu *mmu, unsigned tlb_control, uint16_t asid);
void mmu_invlpga(struct mmu *mmu, uint64_t linear, uint16_t asid);

/* A VPID/ASID switch invalidates nothing (entries are tagged); returns true
 * when the tag changes, i.e. when Unicorn's untagged TLB must be flushed. */
bool mmu_switch_tag(struct mmu *mmu, uint16_t old_tag, uint16_t new_tag);

/* Everything, all tags (RESET/INIT). */
void mmu_flush_all(struct mmu *mmu);

#endif
