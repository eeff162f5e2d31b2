/* Paging modes, page sizes, reserved bits, accessed/dirty flags, reference
 * counts and the permissions handed to Unicorn.
 *
 * SDM Vol. 3A, Paging: "32-Bit Paging", "PAE Paging" ("PDPTE Registers"),
 * "4-Level Paging and 5-Level Paging", "Accessed and Dirty Flags",
 * "Page-Fault Exceptions"; "Paging Modes and Control Bits". */
#include "conformance/mmu/mmu_fixture.h"

#include <string.h>

#define L (X_P | X_W | X_A | X_D)

static void ctx_32(struct fx *f, uint64_t cr3, bool pse)
{
  f->ctx = (struct mmu_context){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = cr3, .cr4 = pse ? CR4_PSE : 0 };
}

static void ctx_pae(struct fx *f, uint64_t cr3)
{
  f->ctx = (struct mmu_context){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = cr3, .cr4 = CR4_PAE, .efer = EFER_NXE };
  assert_true(mmu_load_pdptes(&f->mmu.phys, cr3, f->ctx.pdpte));
}

/* "4-Level Paging": a 4 KiB page takes four entry reads; A set everywhere,
 * D only on the leaf and only for writes. */
static void test_paging_4level_4k_translates_with_4_refs(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t root = fx_page(&f);
  const struct pt_format *fmt = fx_x86(&f, MMU_X86_4LEVEL, true);
  uint64_t pte = fx_map(&f, fmt, root, 0x7f1234567000ull, 0x8000, 1, X_TABLE, X_P | X_W);
  fx_long_mode(&f, root);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x7f1234567abcull, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0x8abc);
  assert_int_equal(t.refs, 4);
  assert_int_equal(t.page_shift, 12);
  for (unsigned l = 4; l >= 1; l--)
    assert_true(fx_get(&f, fx_entry(&f, fmt, root, 0x7f1234567000ull, l), 8) & X_A);
  assert_false(fx_get(&f, pte, 8) & X_D);
  /* "Accessed and Dirty Flags": a read leaves D clear, so Unicorn may not
   * cache write permission yet. */
  assert_int_equal(t.perms, MMU_PERM_READ | MMU_PERM_EXEC);
  assert_true(fx_tr(&f, 0x7f1234567abcull, MMU_WRITE, &t, &fault));
  assert_false(t.tlb_hit); /* the write walked again to set D */
  assert_true(fx_get(&f, pte, 8) & X_D);
  assert_int_equal(t.perms, MMU_PERM_READ | MMU_PERM_WRITE | MMU_PERM_EXEC);
  assert_true(fx_tr(&f, 0x7f1234567abcull, MMU_WRITE, &t, &fault));
  assert_true(t.tlb_hit);
  assert_int_equal(t.refs, 0);
  fx_fini(&f);
}

/* "Accessed and Dirty Flags": a faulting translation sets no flag. */
static void test_paging_fault_sets_no_accessed_flag(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t root = fx_page(&f);
  const struct pt_format *fmt = fx_x86(&f, MMU_X86_4LEVEL, true);
  uint64_t pte = fx_map(&f, fmt, root, 0x400000, 0x8000, 1, X_TABLE, X_P); /* read-only */
  fx_long_mode(&f, root);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_tr(&f, 0x400000, MMU_WRITE, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_W);
  for (unsigned l = 4; l >= 2; l--)
    assert_false(fx_get(&f, fx_entry(&f, fmt, root, 0x400000, l), 8) & X_A);
  assert_false(fx_get(&f, pte, 8) & (X_A | X_D));
  fx_fini(&f);
}

/* "Page-Fault Exceptions": a not-present entry gives P=0, CR2 = the address. */
static void test_paging_not_present_error_code(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t root = fx_page(&f);
  fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, true), root, 0x400000, 0x8000, 1, X_TABLE, L | X_U);
  fx_long_mode(&f, root);
  f.ctx.cpl = 3;
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_tr(&f, 0x401008, MMU_WRITE, &t, &fault)); /* PTE 1 is empty */
  assert_int_equal(fault.kind, MMU_FAULT_PF);
  assert_int_equal(fault.error_code, PF_W | PF_U);
  assert_int_equal(fault.cr2, 0x401008);
  assert_false(fx_tr(&f, 0x8000000000ull, MMU_FETCH, &t, &fault)); /* PML4E 1 empty */
  assert_int_equal(fault.error_code, PF_U | PF_I);
  assert_true(fx_tr(&f, 0x400008, MMU_WRITE, &t, &fault));
  fx_fini(&f);
}

/* Reserved bits (entry-format tables of "4-Level Paging"): each row sets one
 * bit in one entry; the fault is P|RSVD. */
static void test_paging_reserved_bits_fault(void **s)
{
  (void)s;
  struct row { unsigned level; uint64_t bit; bool large; bool fault; } rows[] = {
    { 1, 1ull << 51, false, true },  /* above MAXPHYADDR (46) */
    { 1, 1ull << 46, false, true },
    { 1, 1ull << 45, false, false }, /* an address bit */
    { 1, 1ull << 52, false, false }, /* 62:52 are ignored in 4-level */
    { 4, X_PS, false, true },        /* PS reserved in a PML4E */
    { 3, 1ull << 50, false, true },
    { 2, 1ull << 13, true, true },   /* 2 MiB page: 20:13 reserved */
    { 2, 1ull << 12, true, false },  /* 2 MiB page: bit 12 is PAT */
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t root = fx_page(&f);
    const struct pt_format *fmt = fx_x86(&f, MMU_X86_4LEVEL, true);
    if (rows[i].large) fx_map(&f, fmt, root, 0x400000, 0x400000, 2, X_TABLE, L | X_PS);
    else fx_map(&f, fmt, root, 0x400000, 0x8000, 1, X_TABLE, L);
    uint64_t ea = fx_entry(&f, fmt, root, 0x400000, rows[i].level);
    fx_set(&f, ea, fx_get(&f, ea, 8) | rows[i].bit, 8);
    fx_long_mode(&f, root);
    struct mmu_translation t;
    struct mmu_fault fault;
    bool ok = fx_tr(&f, 0x400000, MMU_READ, &t, &fault);
    assert_int_equal(ok, !rows[i].fault);
    if (rows[i].fault) assert_int_equal(fault.error_code, PF_P | PF_RSVD);
    fx_fini(&f);
  }
}

/* 1-GByte pages exist only where the CPU has them; otherwise PDPTE.PS is
 * reserved ("4-Level Paging", PDPTE format). */
static void test_paging_1g_page_needs_cpu_support(void **s)
{
  (void)s;
  for (int has = 0; has < 2; has++) {
    struct mmu_geometry g = mmu_default_geometry;
    if (!has) g.features &= ~(unsigned)MMU_FEAT_1G_PAGES;
    struct fx f;
    fx_init(&f, &g);
    uint64_t root = fx_page(&f);
    fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, true), root, 0x40000000, 0x0, 3, X_TABLE, L | X_PS);
    fx_long_mode(&f, root);
    struct mmu_translation t;
    struct mmu_fault fault;
    bool ok = fx_tr(&f, 0x40123456, MMU_READ, &t, &fault);
    assert_int_equal(ok, has);
    if (has) {
      assert_int_equal(t.pa, 0x123456);
      assert_int_equal(t.refs, 2);
      assert_int_equal(t.page_shift, 30);
    } else {
      assert_int_equal(fault.error_code, PF_P | PF_RSVD);
    }
    fx_fini(&f);
  }
}

/* 2 MiB pages: three references; D is set in the PDE that maps the page. */
static void test_paging_2m_page_sets_dirty_in_pde(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t root = fx_page(&f);
  uint64_t pde = fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, true), root, 0x600000, 0x200000, 2, X_TABLE, X_P | X_W | X_PS);
  fx_long_mode(&f, root);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x612345, MMU_WRITE, &t, &fault));
  assert_int_equal(t.pa, 0x212345);
  assert_int_equal(t.refs, 3);
  assert_int_equal(fx_get(&f, pde, 8) & (X_A | X_D), X_A | X_D);
  fx_fini(&f);
}

/* "5-Level Paging": LA57 adds a level: five references. */
static void test_paging_5level_translates_with_5_refs(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t root = fx_page(&f);
  uint64_t va = 0x00ff123456789000ull;
  fx_map(&f, fx_x86(&f, MMU_X86_5LEVEL, true), root, va, 0x9000, 1, X_TABLE, L);
  fx_long_mode(&f, root);
  f.ctx.cr4 |= CR4_LA57;
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, va + 5, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0x9005);
  assert_int_equal(t.refs, 5);
  /* The same tables read as 4-level paging miss (different structure). */
  f.ctx.cr4 &= ~CR4_LA57;
  assert_false(fx_ref(&f, va + 5, MMU_READ, &t, &fault));
  fx_fini(&f);
}

/* "32-Bit Paging": 4-byte entries, two levels; PS maps 4 MiB only with
 * CR4.PSE=1 (ignored otherwise); PSE-36 supplies PA[39:32]. */
static void test_paging_32bit_pse_and_pse36(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t pd = fx_page(&f);
  const struct pt_format *fmt = fx_x86(&f, MMU_X86_32, false);
  fx_map(&f, fmt, pd, 0x00401000, 0x7000, 1, X_TABLE, L);
  /* A PSE PDE for 0x80000000 mapping PA 0x3_00C00000 (bits 20:13 = 0x03). */
  fx_set(&f, pd + (0x80000000u >> 22) * 4, 0x00C00000u | (0x03u << 13) | L | X_PS, 4);
  ctx_32(&f, pd, true);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x00401abc, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0x7abc);
  assert_int_equal(t.refs, 2);
  assert_true(fx_tr(&f, 0x80123456, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0x300D23456ull);
  assert_int_equal(t.refs, 1);
  assert_int_equal(t.page_shift, 22);
  /* Bit 21 of a 4 MiB PDE is reserved. */
  fx_set(&f, pd + (0x80000000u >> 22) * 4, 0x00C00000u | (1u << 21) | L | X_PS, 4);
  mmu_flush_all(&f.mmu);
  assert_false(fx_tr(&f, 0x80123456, MMU_READ, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_RSVD);
  /* With CR4.PSE=0 the PS bit is ignored: the PDE references a table. */
  fx_set(&f, pd + (0x80000000u >> 22) * 4, 0x00007000u | L | X_PS, 4);
  ctx_32(&f, pd, false);
  fx_set(&f, 0x7000 + (0x123u * 4), 0x9000u | L, 4);
  assert_true(fx_ref(&f, 0x80123456, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0x9456);
  fx_fini(&f);
}

/* Without PSE-36 a 4 MiB page addresses 32 bits: bits 20:13 are reserved. */
static void test_paging_32bit_without_pse36_reserves_high_bits(void **s)
{
  (void)s;
  struct mmu_geometry g = mmu_default_geometry;
  g.features &= ~(unsigned)MMU_FEAT_PSE36;
  struct fx f;
  fx_init(&f, &g);
  uint64_t pd = fx_page(&f);
  fx_set(&f, pd + (0x80000000u >> 22) * 4, 0x00C00000u | (0x03u << 13) | L | X_PS, 4);
  ctx_32(&f, pd, true);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_ref(&f, 0x80000000, MMU_READ, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_RSVD);
  fx_set(&f, pd + (0x80000000u >> 22) * 4, 0x00C00000u | L | X_PS, 4);
  assert_true(fx_ref(&f, 0x80000000, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0xC00000);
  fx_fini(&f);
}

/* "PDPTE Registers": PAE walks start from the registers loaded at MOV CR3,
 * not from memory; a not-present register faults with P=0; loading a PDPTE
 * with a reserved bit fails (the MOV raises #GP). */
static void test_paging_pae_uses_pdpte_registers(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t pdpt = fx_page(&f);
  const struct pt_format *fmt = fx_x86(&f, MMU_X86_PAE, true);
  fx_map(&f, fmt, pdpt, 0x40201000, 0xA000, 1, X_TABLE, L);
  ctx_pae(&f, pdpt);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x40201010, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, 0xA010);
  assert_int_equal(t.refs, 2); /* PD and PT; the PDPTE is a register */
  /* Clearing the PDPTE in memory changes nothing until the registers reload. */
  fx_set(&f, pdpt + 8, 0, 8);
  assert_true(fx_ref(&f, 0x40201010, MMU_READ, &t, &fault));
  assert_true(mmu_load_pdptes(&f.mmu.phys, pdpt, f.ctx.pdpte));
  assert_false(fx_ref(&f, 0x40201010, MMU_READ, &t, &fault));
  assert_int_equal(fault.error_code, 0);
  /* Reserved bits 2:1, 8:5 and 63:M of a present PDPTE. */
  assert_false(mmu_pdpte_valid(0x1000 | 1 | X_W, 46));
  assert_false(mmu_pdpte_valid(0x1000 | 1 | (1u << 5), 46));
  assert_false(mmu_pdpte_valid(0x1000 | 1 | (1ull << 63), 46));
  assert_true(mmu_pdpte_valid(0x1000 | 1 | (1u << 3) | (1u << 4), 46));
  assert_true(mmu_pdpte_valid(~0ull & ~1ull, 46)); /* not present: anything goes */
  fx_set(&f, pdpt + 8, fx_page(&f) | 1 | X_W, 8);
  assert_false(mmu_load_pdptes(&f.mmu.phys, pdpt, f.ctx.pdpte));
  fx_fini(&f);
}

/* PAE entries reserve bits 62:M (4-level ignores 62:52), and XD needs NXE. */
static void test_paging_pae_reserves_bits_62_to_m(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t pdpt = fx_page(&f);
  uint64_t pte = fx_map(&f, fx_x86(&f, MMU_X86_PAE, true), pdpt, 0x1000, 0xA000, 1, X_TABLE, L | (1ull << 52));
  ctx_pae(&f, pdpt);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_ref(&f, 0x1000, MMU_READ, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_RSVD);
  fx_set(&f, pte, 0xA000 | L | X_XD, 8);
  assert_false(fx_ref(&f, 0x1000, MMU_FETCH, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_I);
  f.ctx.efer = 0; /* XD reserved without NXE */
  assert_false(fx_ref(&f, 0x1000, MMU_READ, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_RSVD);
  fx_fini(&f);
}

/* "Paging Modes and Control Bits": with CR0.PG=0 linear = physical. */
static void test_paging_off_is_identity(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  f.ctx = (struct mmu_context){ .cr0 = CR0_PE };
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x12345678, MMU_WRITE, &t, &fault));
  assert_int_equal(t.pa, 0x12345678);
  assert_int_equal(t.refs, 0);
  assert_int_equal(t.perms, MMU_PERM_READ | MMU_PERM_WRITE | MMU_PERM_EXEC);
  fx_fini(&f);
}

/* mmu.h: a paging-structure read outside RAM returns all ones, which is a
 * present entry with reserved bits: RSVD, and nothing is written. */
static void test_paging_table_outside_ram_faults_rsvd(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t root = fx_page(&f);
  fx_set(&f, root, 0x40000000ull | X_TABLE, 8); /* PML4E 0 -> 1 GiB, beyond RAM */
  fx_long_mode(&f, root);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_tr(&f, 0x1000, MMU_READ, &t, &fault));
  assert_int_equal(fault.error_code, PF_P | PF_RSVD);
  fx_fini(&f);
}

static void test_paging_bad_context_is_reported(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  fx_long_mode(&f, fx_page(&f));
  f.ctx.cr4 = 0; /* LMA without PAE */
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_tr(&f, 0x1000, MMU_READ, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_BAD_CONTEXT);
  assert_non_null(fault.reason);
  fx_fini(&f);
}

/* mmu_context_from_cpu copies what translation depends on. */
static void test_paging_context_from_cpu(void **s)
{
  (void)s;
  struct cpu_state cpu;
  memset(&cpu, 0, sizeof cpu);
  cpu.cr0 = CR0_PE | CR0_PG;
  cpu.cr3 = 0x1000;
  cpu.cr4 = CR4_PAE | CR4_SMAP;
  cpu.efer = EFER_LMA | EFER_NXE;
  cpu.rflags = RFLAGS_AC | RFLAGS_FIXED1;
  cpu.seg[SEG_CS].ar = SEG_AR_P | SEG_AR_S | (3u << 5);
  cpu.pkru = 0xC;
  cpu.pdpte[2] = 0x5001;
  struct mmu_context c;
  mmu_context_from_cpu(&c, &cpu);
  assert_int_equal(c.cpl, 3);
  assert_true(c.ac);
  assert_int_equal(c.cr4, cpu.cr4);
  assert_int_equal(c.pkru, 0xC);
  assert_int_equal(c.pdpte[2], 0x5001);
  assert_int_equal(c.slat, MMU_SLAT_NONE);
  cpu.rflags = RFLAGS_FIXED1;
  cpu.seg[SEG_CS].ar = SEG_AR_P | SEG_AR_S;
  mmu_context_from_cpu(&c, &cpu);
  assert_int_equal(c.cpl, 0);
  assert_false(c.ac);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_paging_4level_4k_translates_with_4_refs),
    cmocka_unit_test(test_paging_fault_sets_no_accessed_flag),
    cmocka_unit_test(test_paging_not_present_error_code),
    cmocka_unit_test(test_paging_reserved_bits_fault),
    cmocka_unit_test(test_paging_1g_page_needs_cpu_support),
    cmocka_unit_test(test_paging_2m_page_sets_dirty_in_pde),
    cmocka_unit_test(test_paging_5level_translates_with_5_refs),
    cmocka_unit_test(test_paging_32bit_pse_and_pse36),
    cmocka_unit_test(test_paging_32bit_without_pse36_reserves_high_bits),
    cmocka_unit_test(test_paging_pae_uses_pdpte_registers),
    cmocka_unit_test(test_paging_pae_reserves_bits_62_to_m),
    cmocka_unit_test(test_paging_off_is_identity),
    cmocka_unit_test(test_paging_table_outside_ram_faults_rsvd),
    cmocka_unit_test(test_paging_bad_context_is_reported),
    cmocka_unit_test(test_paging_context_from_cpu),
  };
  return cmocka_run_group_tests_name("mmu_paging", tests, NULL, NULL);
}
