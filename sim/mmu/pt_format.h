/* The bit meanings of one paging-structure format, as the generic walker
 * (sim/mmu/walk.c) consumes them.
 *
 * There is one walker for every format hvsim models: legacy 32-bit paging,
 * PAE, 4-level and 5-level paging (also NPT, which is the host's paging format
 * under nCR3) and EPT. Each format is a table of masks built once per mode
 * (MAXPHYADDR, EFER.NXE, CR4.PSE, 1-GByte page support, ...): which bits make
 * an entry present, which grant read/write/execute/user rights, which are
 * reserved at each level for a table reference and for a page mapping, where
 * the address lives, and where the accessed/dirty/global flags are. The x86
 * formats are built in sim/mmu/x86_format.c, EPT's in models/vmx/ept_format.c. */
#ifndef HVSIM_SIM_MMU_PT_FORMAT_H
#define HVSIM_SIM_MMU_PT_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#define PT_MAX_LEVELS 5

/* Generic rights an entry grants; the walker ANDs them across levels. */
enum pt_right {
  PT_RIGHT_R  = 1u << 0, /* readable */
  PT_RIGHT_W  = 1u << 1, /* writable */
  PT_RIGHT_XS = 1u << 2, /* executable (supervisor-mode linear address under MBEC) */
  PT_RIGHT_XU = 1u << 3, /* executable for user-mode linear addresses (MBEC) */
  PT_RIGHT_U  = 1u << 4, /* user-mode accessible (x86 U/S) */
  PT_RIGHTS_ALL = 0x1f,
};

enum pt_kind {
  PT_KIND_X86, /* 32-bit, PAE, 4-level, 5-level (guest paging and NPT) */
  PT_KIND_EPT, /* Intel extended page tables */
};

struct pt_level {
  uint64_t rsvd_table;     /* bits that must be 0 when the entry references a table */
  uint64_t rsvd_leaf;      /* bits that must be 0 when the entry maps a page */
  uint64_t table_addr;     /* address bits of a referenced table */
  uint64_t leaf_addr;      /* address bits of a mapped page */
  bool large_ok;           /* the PS bit maps a page at this level */
  bool rights_ignored;     /* grants no rights and has no A flag (PAE PDPTEs) */
};

struct pt_format {
  const char *name;
  enum pt_kind kind;
  uint8_t levels;          /* levels walked from the root (level 1 maps 4 KiB) */
  uint8_t entry_size;      /* bytes: 4 or 8 */
  uint8_t index_bits;      /* 10 (32-bit paging) or 9 */
  uint8_t phys_bits;       /* physical-address width this format produces */
  uint8_t top_entries;     /* entries in the top table if not a full page (PAE: 4) */
  uint64_t present;        /* present iff (entry & present) != 0 */
  uint64_t ps_bit;         /* page-size bit (bit 7) */
  uint64_t a_bit, d_bit;   /* 0 when the format has no accessed/dirty flags */
  uint64_t g_bit;          /* global flag of a page mapping, 0 if not honoured */
  uint64_t bit_r, bit_w, bit_xs, bit_xu, bit_u, bit_nx;
  unsigned rights_always;  /* rights granted without any bit (x86: R, X, X) */
  bool pse36;              /* 32-bit 4-MByte pages carry PA[39:32] in bits 20:13 */
  bool pkeys;              /* bits 62:59 of a page mapping hold a protection key */
  bool ept_exec_only;      /* EPT: execute-only entries allowed (else misconfig) */
  /* pt_entry_rights() tabulated by the bits that can grant or remove a
   * right in every format (pt_rights_index); filled by pt_format_tabulate(). */
  bool rights_tabulated;
  uint8_t rights_lut[32];
  /* The cached MMU's fast translation (walk_fast.c) handles this format:
   * 8-byte entries, 9 index bits, 4 or 5 levels, a full top table, rights
   * at every level. Set by pt_format_tabulate(). */
  bool fast_walk;
  /* EPT: ept_entry_misconfig() tabulated over the bits it reads (2:0, the
   * memory type 5:3, and 10), by leaf/table: bit pt_ept_misconfig_index(e)
   * of ept_misconfig[leaf] is set when the entry is misconfigured. Filled
   * by mmu_phys_init(). */
  uint64_t ept_misconfig[2][2];
  /* The same rules folded for walk_fast.c: an entry is usable without a
   * fault and without an accessed-flag write iff (e & rsvd[level][leaf]) |
   * (~e & need1) is 0 and, for EPT, bit pt_ept_misconfig_index(e) of
   * unusable[leaf] is clear (not present, or misconfigured). A level maps a
   * page iff it is 1 or e & ps[level]. Filled by pt_format_fast(). */
  struct {
    uint64_t need1;                       /* x86: P and A; EPT: A when A/D is on */
    uint64_t rsvd[PT_MAX_LEVELS + 1][2];
    uint64_t ps[PT_MAX_LEVELS + 1];
    uint64_t unusable[2][2];
    /* [leaf][pt_fast_index(e)]: the entry's rights (pt_rights()), plus
     * PT_FAST_UNUSABLE when `unusable` has the entry's bit. */
    uint8_t lut[2][256];
  } fast;
  struct pt_level lv[PT_MAX_LEVELS + 1]; /* indexed by level, 1..levels */
};

static inline unsigned pt_entry_rights(const struct pt_format *f, uint64_t e)
{
  unsigned r = f->rights_always;
  if (e & f->bit_r) r |= PT_RIGHT_R;
  if (e & f->bit_w) r |= PT_RIGHT_W;
  if (e & f->bit_xs) r |= PT_RIGHT_XS;
  if (e & f->bit_xu) r |= PT_RIGHT_XU;
  if (e & f->bit_u) r |= PT_RIGHT_U;
  if (e & f->bit_nx) r &= ~(unsigned)(PT_RIGHT_XS | PT_RIGHT_XU);
  return r;
}

/* Entry bits 0, 1, 2, 10 and 63: where every format keeps its rights
 * (x86: W, U/S, XD; EPT: R, W, X, user-mode X). */
#define PT_RIGHTS_BITS (0x7ull | (1ull << 10) | (1ull << 63))

static inline unsigned pt_rights_index(uint64_t e)
{
  return (unsigned)((e & 7) | ((e >> 7) & 8) | ((e >> 59) & 16));
}

/* Tabulates pt_entry_rights() if the format's right bits are all within
 * PT_RIGHTS_BITS; otherwise the walker computes it entry by entry. */
static inline void pt_format_tabulate(struct pt_format *f)
{
  f->fast_walk = f->entry_size == 8 && f->index_bits == 9 && !f->top_entries && !f->pse36 &&
                 (f->levels == 4 || f->levels == 5) &&
                 ((f->bit_r | f->bit_w | f->bit_xs | f->bit_xu | f->bit_u | f->bit_nx) & ~PT_RIGHTS_BITS) == 0;
  for (unsigned l = 1; l <= f->levels; l++)
    if (f->lv[l].rights_ignored) f->fast_walk = false;
  uint64_t used = f->bit_r | f->bit_w | f->bit_xs | f->bit_xu | f->bit_u | f->bit_nx;
  f->rights_tabulated = (used & ~PT_RIGHTS_BITS) == 0;
  if (!f->rights_tabulated) return;
  for (unsigned i = 0; i < 32; i++) {
    uint64_t e = (i & 7) | ((uint64_t)(i >> 3 & 1) << 10) | ((uint64_t)(i >> 4) << 63);
    f->rights_lut[i] = (uint8_t)pt_entry_rights(f, e);
  }
}

#define PT_FAST_UNUSABLE 0x80u

/* Entry bits 5:0, 10 and 63 (everything the rights and the EPT rules
 * read) as an 8-bit index. */
static inline unsigned pt_fast_index(uint64_t e)
{
  return (unsigned)((e & 0x3F) | ((e >> 4) & 0x40) | ((e >> 56) & 0x80));
}

static inline unsigned pt_rights(const struct pt_format *f, uint64_t e);

/* Fills f->fast from the masks (and f->ept_misconfig, already filled for
 * EPT). */
static inline void pt_format_fast(struct pt_format *f)
{
  f->fast.need1 = f->a_bit | (f->kind == PT_KIND_X86 ? f->present : 0);
  for (unsigned l = 1; l <= f->levels; l++) {
    f->fast.rsvd[l][0] = f->lv[l].rsvd_table;
    f->fast.rsvd[l][1] = f->lv[l].rsvd_leaf;
    f->fast.ps[l] = f->lv[l].large_ok ? f->ps_bit : 0;
  }
  for (unsigned leaf = 0; leaf < 2; leaf++) {
    f->fast.unusable[leaf][0] = f->fast.unusable[leaf][1] = 0;
    if (f->kind != PT_KIND_EPT) continue;
    for (unsigned i = 0; i < 128; i++) {
      uint64_t e = (i & 0x3F) | ((uint64_t)(i >> 6) << 10);
      bool bad = !(e & f->present) || ((f->ept_misconfig[leaf][i >> 6] >> (i & 63)) & 1);
      if (bad) f->fast.unusable[leaf][i >> 6] |= 1ull << (i & 63);
    }
  }
  for (unsigned leaf = 0; leaf < 2; leaf++)
    for (unsigned i = 0; i < 256; i++) {
      uint64_t e = (i & 0x3F) | ((uint64_t)(i >> 6 & 1) << 10) | ((uint64_t)(i >> 7) << 63);
      unsigned u = i & 0x7F;
      bool bad = (f->fast.unusable[leaf][u >> 6] >> (u & 63)) & 1;
      f->fast.lut[leaf][i] = (uint8_t)(pt_rights(f, e) | (bad ? PT_FAST_UNUSABLE : 0));
    }
}

/* Bits 5:0 and 10 of an EPT entry as a 7-bit index. */
static inline unsigned pt_ept_misconfig_index(uint64_t e)
{
  return (unsigned)((e & 0x3F) | ((e >> 4) & 0x40));
}


static inline unsigned pt_rights(const struct pt_format *f, uint64_t e)
{
  return f->rights_tabulated ? f->rights_lut[pt_rights_index(e)] : pt_entry_rights(f, e);
}

/* Bit position of the lowest linear/guest-physical address bit a level indexes. */
static inline unsigned pt_level_shift(const struct pt_format *f, unsigned level)
{
  return 12u + f->index_bits * (level - 1u);
}

static inline uint64_t pt_bits(unsigned hi, unsigned lo)
{
  if (hi < lo) return 0;
  uint64_t top = hi >= 63 ? ~0ull : ((1ull << (hi + 1)) - 1);
  return top & ~((1ull << lo) - 1);
}

#endif
