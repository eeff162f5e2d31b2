/* Builders for the x86 paging formats (guest paging, and NPT's host format). */
#ifndef HVSIM_SIM_MMU_X86_FORMAT_H
#define HVSIM_SIM_MMU_X86_FORMAT_H

#include "sim/mmu/mmu.h"

void x86_format_build(struct pt_format *f, enum mmu_x86_mode mode, unsigned maxphy,
                      unsigned features, bool nxe);

/* Address of the top-level table (or, for PAE, of the PDPT) in CR3 / nCR3. */
uint64_t x86_root(enum mmu_x86_mode mode, uint64_t cr3, unsigned maxphy);

/* The paging mode CR0/CR4/EFER select; false when paging is off or the
 * combination is impossible (LMA without PAE). */
bool x86_mode_of(uint64_t cr0, uint64_t cr4, uint64_t efer, unsigned features,
                 enum mmu_x86_mode *mode);

#endif
