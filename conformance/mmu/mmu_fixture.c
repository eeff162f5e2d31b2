/* Test fixture (see mmu_fixture.h). */
#include "conformance/mmu/mmu_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "models/vmx/ept_format.h"

void fx_init(struct fx *f, const struct mmu_geometry *geo)
{
  memset(f, 0, sizeof *f);
  f->size = FX_RAM_SIZE;
  f->ram = calloc(1, f->size);
  assert_non_null(f->ram);
  f->next = 0x100000; /* tables from 1 MiB; data pages below */
  assert_true(mmu_init(&f->mmu, geo ? geo : &mmu_default_geometry, f->ram, f->size));
}

void fx_fini(struct fx *f)
{
  mmu_fini(&f->mmu);
  free(f->ram);
}

uint64_t fx_page(struct fx *f)
{
  assert_true(f->next + 4096 <= f->size);
  uint64_t p = f->next;
  f->next += 4096;
  memset(f->ram + p, 0, 4096);
  return p;
}

uint64_t fx_get(struct fx *f, uint64_t pa, unsigned size)
{
  uint64_t v = 0;
  if (pa >= f->size || f->size - pa < size) return 0;
  memcpy(&v, f->ram + pa, size);
  return v;
}

void fx_set(struct fx *f, uint64_t pa, uint64_t v, unsigned size)
{
  assert_true(pa < f->size && f->size - pa >= size);
  memcpy(f->ram + pa, &v, size);
}

static uint64_t entry_addr(const struct pt_format *fmt, uint64_t table, uint64_t addr, unsigned level)
{
  uint64_t idx = (addr >> pt_level_shift(fmt, level)) & ((1ull << fmt->index_bits) - 1);
  if (level == fmt->levels && fmt->top_entries) idx &= fmt->top_entries - 1u;
  return table + idx * fmt->entry_size;
}

uint64_t fx_map(struct fx *f, const struct pt_format *fmt, uint64_t root, uint64_t addr,
                uint64_t pa, unsigned leaf_level, uint64_t table_bits, uint64_t leaf_bits)
{
  uint64_t table = root;
  for (unsigned level = fmt->levels; level > leaf_level; level--) {
    uint64_t ea = entry_addr(fmt, table, addr, level);
    uint64_t e = fx_get(f, ea, fmt->entry_size);
    if (!(e & fmt->present)) {
      uint64_t bits = fmt->lv[level].rights_ignored ? 1 : table_bits;
      e = fx_page(f) | bits;
      fx_set(f, ea, e, fmt->entry_size);
    } else if (fmt->lv[level].large_ok && (e & fmt->ps_bit)) {
      return 0; /* a larger page already maps addr */
    }
    table = e & fmt->lv[level].table_addr;
    if (table >= f->size) return 0;
  }
  uint64_t ea = entry_addr(fmt, table, addr, leaf_level);
  fx_set(f, ea, pa | leaf_bits, fmt->entry_size);
  return ea;
}

uint64_t fx_entry(struct fx *f, const struct pt_format *fmt, uint64_t root, uint64_t addr, unsigned level)
{
  uint64_t table = root;
  for (unsigned l = fmt->levels; l > level; l--) {
    uint64_t e = fx_get(f, entry_addr(fmt, table, addr, l), fmt->entry_size);
    if (!(e & fmt->present) || (fmt->lv[l].large_ok && (e & fmt->ps_bit))) return 0;
    table = e & fmt->lv[l].table_addr;
    if (table >= f->size) return 0;
  }
  return entry_addr(fmt, table, addr, level);
}

void fx_long_mode(struct fx *f, uint64_t cr3)
{
  f->ctx = (struct mmu_context){
    .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = cr3, .cr4 = CR4_PAE,
    .efer = EFER_LME | EFER_LMA | EFER_NXE, .cpl = 0,
  };
}

const struct pt_format *fx_x86(struct fx *f, enum mmu_x86_mode mode, bool nxe)
{
  return &f->mmu.phys.x86[mode][nxe];
}

const struct pt_format *fx_ept(struct fx *f, bool five, bool ad)
{
  return &f->mmu.phys.ept[five][0][ad];
}

uint64_t fx_ept_identity(struct fx *f, bool five, bool ad, uint64_t table_bits, uint64_t leaf_bits)
{
  const struct pt_format *e = fx_ept(f, five, ad);
  /* The map covers all of RAM, so tables allocated later are mapped too. */
  uint64_t root = fx_page(f);
  for (uint64_t pa = 0; pa < f->size; pa += 4096)
    fx_map(f, e, root, pa, pa, 1, table_bits, leaf_bits);
  return root | 6 | ((five ? 4ull : 3ull) << 3) | (ad ? EPTP_AD : 0);
}

uint64_t fx_npt_identity(struct fx *f, uint64_t leaf_bits)
{
  const struct pt_format *n = fx_x86(f, MMU_X86_4LEVEL, true);
  uint64_t root = fx_page(f);
  for (uint64_t pa = 0; pa < f->size; pa += 4096)
    fx_map(f, n, root, pa, pa, 1, X_TABLE, leaf_bits);
  return root;
}

bool fx_tr(struct fx *f, uint64_t linear, enum mmu_access acc, struct mmu_translation *out, struct mmu_fault *fault)
{
  *out = (struct mmu_translation){ 0 };
  *fault = (struct mmu_fault){ 0 };
  return mmu_translate(&f->mmu, &f->ctx, linear, acc, 0, out, fault);
}

bool fx_ref(struct fx *f, uint64_t linear, enum mmu_access acc, struct mmu_translation *out, struct mmu_fault *fault)
{
  *out = (struct mmu_translation){ 0 };
  *fault = (struct mmu_fault){ 0 };
  return mmu_reference_translate(&f->mmu.phys, &f->ctx, linear, acc, 0, out, fault);
}
