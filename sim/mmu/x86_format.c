/* Bit meanings of the x86 paging formats (legacy 32-bit, PAE, 4-level,
 * 5-level), used for guest paging and, under nCR3, for AMD's nested paging.
 *
 * Reserved-bit rules follow SDM Vol. 3A, Paging: "32-Bit Paging", "PAE Paging",
 * "4-Level Paging and 5-Level Paging" (the entry-format tables) and
 * "Page-Fault Exceptions" (a set reserved bit gives RSVD). */
#include "sim/mmu/x86_format.h"

static void x86_common(struct pt_format *f, const char *name, unsigned levels, unsigned entry_size)
{
  *f = (struct pt_format){
    .name = name, .kind = PT_KIND_X86, .levels = (uint8_t)levels,
    .entry_size = (uint8_t)entry_size, .index_bits = entry_size == 4 ? 10 : 9,
    .present = 1u << 0, .ps_bit = 1u << 7, .a_bit = 1u << 5, .d_bit = 1u << 6,
    .g_bit = 1u << 8, .bit_w = 1u << 1, .bit_u = 1u << 2,
    .rights_always = PT_RIGHT_R | PT_RIGHT_XS | PT_RIGHT_XU,
  };
}

/* SDM "32-Bit Paging": 4-byte entries; a 4-MByte PDE (CR4.PSE=1) holds
 * PA[31:22] in bits 31:22 and, with PSE-36, PA[M-1:32] in bits (M-20):13
 * where M = min(MAXPHYADDR, 40); bits 21:(M-19) are reserved. */
static void build_32(struct pt_format *f, bool pse, unsigned maxphy, bool pse36)
{
  x86_common(f, pse ? "32-bit+PSE" : "32-bit", 2, 4);
  unsigned m = pse36 ? (maxphy < 40 ? maxphy : 40) : 32;
  f->phys_bits = (uint8_t)m;
  f->pse36 = pse36;
  f->lv[2] = (struct pt_level){
    .table_addr = 0xFFFFF000u, .leaf_addr = 0xFFC00000u, .large_ok = pse,
    .rsvd_leaf = pt_bits(21, m - 19),
  };
  f->lv[1] = (struct pt_level){ .leaf_addr = 0xFFFFF000u };
}

/* SDM "PAE Paging": PDPTEs reserve 63:M, 8:5, 2:1 and grant no rights; PDEs and
 * PTEs reserve 62:M (63 too without EFER.NXE); a 2-MByte PDE reserves 20:13. */
static void build_pae(struct pt_format *f, unsigned m, bool nxe)
{
  x86_common(f, "PAE", 3, 8);
  f->phys_bits = (uint8_t)m;
  f->top_entries = 4;
  uint64_t addr = pt_bits(m - 1, 12);
  uint64_t hi = pt_bits(62, m) | (nxe ? 0 : 1ull << 63);
  f->bit_nx = nxe ? 1ull << 63 : 0;
  f->lv[3] = (struct pt_level){
    .table_addr = addr, .rsvd_table = pt_bits(63, m) | pt_bits(8, 5) | pt_bits(2, 1),
    .rights_ignored = true,
  };
  f->lv[2] = (struct pt_level){
    .table_addr = addr, .leaf_addr = pt_bits(m - 1, 21), .large_ok = true,
    .rsvd_table = hi, .rsvd_leaf = hi | pt_bits(20, 13),
  };
  f->lv[1] = (struct pt_level){ .leaf_addr = addr, .rsvd_leaf = hi };
}

/* SDM "4-Level Paging and 5-Level Paging": entries reserve 51:M (63 without
 * NXE); PML5Es and PML4Es reserve bit 7; a PDPTE maps 1 GByte only where the
 * CPU supports it (bit 7 is reserved otherwise) and then reserves 29:13; a
 * 2-MByte PDE reserves 20:13. Bits 62:59 of a page mapping are its
 * protection key (used when CR4.PKE=1). */
static void build_long(struct pt_format *f, unsigned levels, unsigned m, bool nxe, bool gb)
{
  x86_common(f, levels == 5 ? "5-level" : "4-level", levels, 8);
  f->phys_bits = (uint8_t)m;
  f->pkeys = true;
  uint64_t addr = pt_bits(m - 1, 12);
  uint64_t hi = pt_bits(51, m) | (nxe ? 0 : 1ull << 63);
  f->bit_nx = nxe ? 1ull << 63 : 0;
  for (unsigned l = 4; l <= levels; l++)
    f->lv[l] = (struct pt_level){ .table_addr = addr, .rsvd_table = hi | (1u << 7) };
  f->lv[3] = (struct pt_level){
    .table_addr = addr, .leaf_addr = pt_bits(m - 1, 30), .large_ok = gb,
    .rsvd_table = hi | (gb ? 0 : 1u << 7), .rsvd_leaf = hi | pt_bits(29, 13),
  };
  f->lv[2] = (struct pt_level){
    .table_addr = addr, .leaf_addr = pt_bits(m - 1, 21), .large_ok = true,
    .rsvd_table = hi, .rsvd_leaf = hi | pt_bits(20, 13),
  };
  f->lv[1] = (struct pt_level){ .leaf_addr = addr, .rsvd_leaf = hi };
}

void x86_format_build(struct pt_format *f, enum mmu_x86_mode mode, unsigned maxphy,
                      unsigned features, bool nxe)
{
  bool gb = (features & MMU_FEAT_1G_PAGES) != 0;
  switch (mode) {
  case MMU_X86_32:     build_32(f, false, maxphy, features & MMU_FEAT_PSE36); return;
  case MMU_X86_32_PSE: build_32(f, true, maxphy, features & MMU_FEAT_PSE36); return;
  case MMU_X86_PAE:    build_pae(f, maxphy, nxe); return;
  case MMU_X86_4LEVEL: build_long(f, 4, maxphy, nxe, gb); return;
  case MMU_X86_5LEVEL: build_long(f, 5, maxphy, nxe, gb); return;
  case MMU_X86_MODES:  break;
  }
  *f = (struct pt_format){ .name = "invalid" };
}

uint64_t x86_root(enum mmu_x86_mode mode, uint64_t cr3, unsigned maxphy)
{
  switch (mode) {
  case MMU_X86_32:
  case MMU_X86_32_PSE: return cr3 & 0xFFFFF000u;
  case MMU_X86_PAE:    return cr3 & 0xFFFFFFE0u; /* 32-byte aligned PDPT */
  case MMU_X86_4LEVEL:
  case MMU_X86_5LEVEL: return cr3 & pt_bits(maxphy - 1, 12);
  case MMU_X86_MODES:  break;
  }
  return 0;
}

bool x86_mode_of(uint64_t cr0, uint64_t cr4, uint64_t efer, unsigned features,
                 enum mmu_x86_mode *mode)
{
  if (!(cr0 & CR0_PG)) return false;
  if (efer & EFER_LMA) {
    if (!(cr4 & CR4_PAE)) return false; /* IA-32e mode requires PAE */
    *mode = (cr4 & CR4_LA57) && (features & MMU_FEAT_LA57) ? MMU_X86_5LEVEL : MMU_X86_4LEVEL;
    return true;
  }
  if (cr4 & CR4_PAE) { *mode = MMU_X86_PAE; return true; }
  *mode = (cr4 & CR4_PSE) ? MMU_X86_32_PSE : MMU_X86_32;
  return true;
}
