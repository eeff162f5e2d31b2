/* EPT's bit meanings (see ept_format.h). Everything the generic walker can
 * express as masks is a mask; the rest is ept_entry_misconfig(). */
#include "models/vmx/ept_format.h"

#include <stddef.h>

/* SDM Vol. 3C, "EPT Translation Mechanism" (formats of EPT paging-structure
 * entries) and "EPT Misconfigurations": bits 51:M are reserved everywhere;
 * PML5Es and PML4Es reserve bits 7:3; non-leaf PDPTEs and PDEs reserve 6:3;
 * a PDPTE maps 1 GByte only where supported (bit 7 reserved otherwise) and
 * then reserves 29:12; a 2-MByte PDE reserves 20:12. An entry is present when
 * any of bits 2:0 (and bit 10 under mode-based execute control) is set. */
void ept_format_build(struct pt_format *f, unsigned levels, unsigned m,
                      bool mbec, bool ad, bool gb, bool exec_only)
{
  *f = (struct pt_format){
    .name = levels == 5 ? "EPT 5-level" : "EPT 4-level", .kind = PT_KIND_EPT,
    .levels = (uint8_t)levels, .entry_size = 8, .index_bits = 9, .phys_bits = (uint8_t)m,
    .present = EPT_R | EPT_W | EPT_X | (mbec ? EPT_XU : 0), .ps_bit = EPT_PS,
    .a_bit = ad ? EPT_A : 0, .d_bit = ad ? EPT_D : 0,
    .bit_r = EPT_R, .bit_w = EPT_W, .bit_xs = EPT_X, .bit_xu = mbec ? EPT_XU : EPT_X,
    .rights_always = PT_RIGHT_U, .ept_exec_only = exec_only,
  };
  uint64_t addr = pt_bits(m - 1, 12);
  uint64_t hi = pt_bits(51, m);
  for (unsigned l = 4; l <= levels; l++)
    f->lv[l] = (struct pt_level){ .table_addr = addr, .rsvd_table = hi | pt_bits(7, 3) };
  f->lv[3] = (struct pt_level){
    .table_addr = addr, .leaf_addr = pt_bits(m - 1, 30), .large_ok = gb,
    .rsvd_table = hi | pt_bits(6, 3) | (gb ? 0 : EPT_PS), .rsvd_leaf = hi | pt_bits(29, 12),
  };
  f->lv[2] = (struct pt_level){
    .table_addr = addr, .leaf_addr = pt_bits(m - 1, 21), .large_ok = true,
    .rsvd_table = hi | pt_bits(6, 3), .rsvd_leaf = hi | pt_bits(20, 12),
  };
  f->lv[1] = (struct pt_level){ .leaf_addr = addr, .rsvd_leaf = hi };
}

const char *ept_entry_misconfig(const struct pt_format *f, uint64_t e, bool leaf)
{
  if ((e & (EPT_R | EPT_W)) == EPT_W)
    return "EPT entry is writable but not readable (SDM Vol. 3C, EPT Misconfigurations)";
  uint64_t x = EPT_X | (f->bit_xu & EPT_XU);
  if (!(e & (EPT_R | EPT_W)) && (e & x) && !f->ept_exec_only)
    return "EPT entry is execute-only and the CPU does not support it (SDM Vol. 3C, EPT Misconfigurations)";
  if (!leaf) return NULL;
  unsigned type = (unsigned)(e >> EPT_MEMTYPE_SHIFT) & 7u;
  if (type == 2 || type == 3 || type == 7)
    return "EPT leaf has a reserved memory type (2, 3 or 7) (SDM Vol. 3C, EPT Misconfigurations)";
  return NULL;
}
