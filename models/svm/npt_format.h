/* AMD nested paging (NPT) for hvsim's generic walker.
 *
 * NPT has no format of its own: nested page tables use the host's paging
 * format (legacy, PAE or long mode, selected by the host's CR4 and EFER as
 * saved at VMRUN), rooted at nCR3 (APM Vol. 2, "Nested Paging": "Nested Page
 * Tables", "Nested Table Walk"). Every nested access is a user-mode access,
 * and the processor's accesses to guest page tables are treated as user
 * writes, so nested entries that map guest page tables need U=1 and W=1 and
 * have their dirty flags set. This file selects that format and defines the
 * #NPF exit information (APM Vol. 2, "Nested Page Fault Exit"). */
#ifndef HVSIM_MODELS_SVM_NPT_FORMAT_H
#define HVSIM_MODELS_SVM_NPT_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/mmu/mmu.h"

/* EXITINFO1 of #VMEXIT(NPF): a #PF-style error code plus bits 32/33. */
#define NPF_P        (1ull << 0)
#define NPF_W        (1ull << 1)
#define NPF_U        (1ull << 2)
#define NPF_RSV      (1ull << 3)
#define NPF_ID       (1ull << 4)
#define NPF_FINAL    (1ull << 32) /* fault on the final guest-physical translation */
#define NPF_GUEST_PT (1ull << 33) /* fault while accessing a guest page table */

/* The host paging mode nested walks use; false if host paging state is not a
 * paging mode (nested paging requires host paging: APM "Enabling Nested
 * Paging" requires CR0.PG=1, so only CR4/EFER are consulted). */
bool npt_host_mode(uint64_t host_cr4, uint64_t host_efer, unsigned features,
                   enum mmu_x86_mode *mode);

#endif
