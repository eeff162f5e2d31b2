/* Test fixture for the MMU conformance tests: a RAM buffer, a bump allocator
 * of zeroed 4 KiB pages, and a builder that writes paging structures of any
 * format (the tests pick every flag bit themselves). */
#ifndef HVSIM_CONFORMANCE_MMU_FIXTURE_H
#define HVSIM_CONFORMANCE_MMU_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/mmu/mmu.h"

#define FX_RAM_SIZE (16u << 20)

struct fx {
  uint8_t *ram;
  uint64_t size;
  uint64_t next;              /* next free page */
  struct mmu mmu;
  struct mmu_context ctx;
};

/* x86 entry bits used by the tests. */
#define X_P   (1ull << 0)
#define X_W   (1ull << 1)
#define X_U   (1ull << 2)
#define X_A   (1ull << 5)
#define X_D   (1ull << 6)
#define X_PS  (1ull << 7)
#define X_G   (1ull << 8)
#define X_XD  (1ull << 63)
#define X_PK(k) ((uint64_t)(k) << 59)
#define X_TABLE (X_P | X_W | X_U)

/* EPT entry bits. */
#define E_R  (1ull << 0)
#define E_W  (1ull << 1)
#define E_X  (1ull << 2)
#define E_WB (6ull << 3)
#define E_PS (1ull << 7)
#define E_A  (1ull << 8)
#define E_D  (1ull << 9)
#define E_XU (1ull << 10)
#define E_RWX (E_R | E_W | E_X)

void fx_init(struct fx *f, const struct mmu_geometry *geo);
void fx_fini(struct fx *f);
uint64_t fx_page(struct fx *f);
uint64_t fx_get(struct fx *f, uint64_t pa, unsigned size);
void fx_set(struct fx *f, uint64_t pa, uint64_t v, unsigned size);

/* Maps addr -> pa in the tables at `root` (format f), creating tables with
 * table_bits, the leaf at leaf_level with leaf_bits. Returns the leaf
 * entry's address, or 0 if a larger page already maps addr. Tables are
 * addressed physically (identity SLAT). */
uint64_t fx_map(struct fx *f, const struct pt_format *fmt, uint64_t root, uint64_t addr,
                uint64_t pa, unsigned leaf_level, uint64_t table_bits, uint64_t leaf_bits);

/* Address of the existing entry for addr at `level` (0 if a table is
 * missing or a larger page maps addr). */
uint64_t fx_entry(struct fx *f, const struct pt_format *fmt, uint64_t root, uint64_t addr, unsigned level);

/* Context presets. */
void fx_long_mode(struct fx *f, uint64_t cr3);        /* 4-level, NXE, WP, CPL 0 */
const struct pt_format *fx_x86(struct fx *f, enum mmu_x86_mode mode, bool nxe);
const struct pt_format *fx_ept(struct fx *f, bool five, bool ad);

/* An EPT identity map of all of RAM with 4 KiB pages (so every walk is a
 * full 4-level EPT walk); returns the EPTP (WB, walk length 4 or 5, A/D). */
uint64_t fx_ept_identity(struct fx *f, bool five, bool ad, uint64_t table_bits, uint64_t leaf_bits);

/* An NPT (4-level host format) identity map of RAM with 4 KiB pages; returns nCR3. */
uint64_t fx_npt_identity(struct fx *f, uint64_t leaf_bits);

/* Translation helpers. */
bool fx_tr(struct fx *f, uint64_t linear, enum mmu_access acc, struct mmu_translation *out, struct mmu_fault *fault);
bool fx_ref(struct fx *f, uint64_t linear, enum mmu_access acc, struct mmu_translation *out, struct mmu_fault *fault);

#endif
