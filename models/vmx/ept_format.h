/* EPT's bit meanings for hvsim's generic page walker, plus the EPTP fields and
 * the exit-qualification bits of an EPT violation.
 *
 * SDM Vol. 3C, "VMX Support for Address Translation": "EPT Translation
 * Mechanism" (entry formats), "EPT Misconfigurations", "EPT Violations",
 * "Accessed and Dirty Flags for EPT"; "Exit Qualification for EPT Violations". */
#ifndef HVSIM_MODELS_VMX_EPT_FORMAT_H
#define HVSIM_MODELS_VMX_EPT_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/mmu/pt_format.h"

/* EPTP (SDM Vol. 3C, "Extended-Page-Table Pointer (EPTP)"). */
#define EPTP_MEMTYPE(eptp)     ((unsigned)(eptp) & 7u)
#define EPTP_WALK_LENGTH(eptp) ((unsigned)((eptp) >> 3) & 7u) /* levels - 1 */
#define EPTP_AD                (1ull << 6)

/* EPT entry bits. */
#define EPT_R        (1ull << 0)
#define EPT_W        (1ull << 1)
#define EPT_X        (1ull << 2)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_PS       (1ull << 7)
#define EPT_A        (1ull << 8)
#define EPT_D        (1ull << 9)
#define EPT_XU       (1ull << 10)

/* Exit qualification for EPT violations. */
#define EPT_QUAL_READ            (1ull << 0)
#define EPT_QUAL_WRITE           (1ull << 1)
#define EPT_QUAL_FETCH           (1ull << 2)
#define EPT_QUAL_READABLE        (1ull << 3)
#define EPT_QUAL_WRITABLE        (1ull << 4)
#define EPT_QUAL_EXECUTABLE      (1ull << 5)
#define EPT_QUAL_USER_EXECUTABLE (1ull << 6)
#define EPT_QUAL_LINEAR_VALID    (1ull << 7)
#define EPT_QUAL_FINAL           (1ull << 8) /* translation of the linear address, not a paging-structure access */
#define EPT_QUAL_USER_LINEAR     (1ull << 9) /* advanced information: U/S of the linear address */
#define EPT_QUAL_WRITABLE_LINEAR (1ull << 10)
#define EPT_QUAL_XD_LINEAR       (1ull << 11)
#define EPT_QUAL_NMI_UNBLOCKING  (1ull << 12)

/* Builds the EPT format for a walk of `levels` (4 or 5), with or without
 * mode-based execute control and EPT accessed/dirty flags. `gb`: 1-GByte EPT
 * pages supported; `exec_only`: execute-only translations supported. */
void ept_format_build(struct pt_format *f, unsigned levels, unsigned maxphy,
                      bool mbec, bool ad, bool gb, bool exec_only);

/* The misconfiguration rules beyond reserved address/level bits (which the
 * walker checks from the table): write without read, execute-only without
 * support, and a leaf memory type of 2, 3 or 7. Returns the rule's text, or
 * NULL when the entry is well formed. Only called for present entries. */
const char *ept_entry_misconfig(const struct pt_format *f, uint64_t e, bool leaf);

#endif
