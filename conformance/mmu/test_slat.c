/* Two-dimensional translation: EPT and NPT walks, their reference counts,
 * and the faults of the second dimension.
 *
 * SDM Vol. 3C, "VMX Support for Address Translation" ("EPT Translation
 * Mechanism", "EPT Misconfigurations", "EPT Violations", "Accessed and Dirty
 * Flags for EPT", "EPT and Memory Typing"), "Exit Qualification for EPT
 * Violations"; APM Vol. 2, "Nested Paging" ("Nested Table Walk", "Nested
 * Page Fault Exit"). Reference counts follow (n+1)(m+1)-1 for n guest and m
 * nested levels. EPT and NPT map RAM 1:1 with 4 KiB pages unless a test
 * says otherwise, so guest tables are addressed by their host address. */
#include "conformance/mmu/mmu_fixture.h"

#include "models/svm/npt_format.h"
#include "models/vmx/ept_format.h"

#define VA 0x7f0000401000ull
#define GPA_DATA 0x8000ull
#define G (X_P | X_W | X_A | X_D)
#define EL (E_RWX | E_WB)

/* A 4-level (or 5-level) guest mapping VA -> GPA_DATA with leaf bits `leaf`. */
static uint64_t guest(struct fx *f, bool five, uint64_t leaf)
{
  uint64_t root = fx_page(f);
  fx_map(f, fx_x86(f, five ? MMU_X86_5LEVEL : MMU_X86_4LEVEL, true), root, VA, GPA_DATA, 1, X_TABLE, leaf);
  fx_long_mode(f, root);
  if (five) f->ctx.cr4 |= CR4_LA57;
  return root;
}

static void use_ept(struct fx *f, uint64_t eptp)
{
  f->ctx.slat = MMU_SLAT_EPT;
  f->ctx.eptp = eptp;
  f->ctx.tag = 1;
}

static uint64_t ept_leaf(struct fx *f, uint64_t eptp, uint64_t gpa)
{
  bool five = EPTP_WALK_LENGTH(eptp) == 4;
  return fx_entry(f, fx_ept(f, five, false), eptp & ~0xFFFull, gpa, 1);
}

static uint64_t guest_entry_gpa(struct fx *f, uint64_t root, unsigned level)
{
  return fx_entry(f, fx_x86(f, MMU_X86_4LEVEL, true), root, VA, level);
}

/* ---- Reference counts --------------------------------------------------------- */

static void test_slat_ept_4x4_cold_walk_makes_24_refs(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
  guest(&f, false, G);
  use_ept(&f, eptp);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, VA + 0x10, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, GPA_DATA + 0x10);
  assert_int_equal(t.gpa, GPA_DATA + 0x10);
  assert_int_equal(t.refs, 24);
  assert_true(fx_ref(&f, VA + 0x10, MMU_READ, &t, &fault));
  assert_int_equal(t.refs, 24);
  /* Natively the same guest tables take 4. */
  f.ctx.slat = MMU_SLAT_NONE;
  assert_true(fx_ref(&f, VA + 0x10, MMU_READ, &t, &fault));
  assert_int_equal(t.refs, 4);
  fx_fini(&f);
}

static void test_slat_ept_5x5_cold_walk_makes_35_refs(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, true, false, E_RWX, EL);
  guest(&f, true, G);
  use_ept(&f, eptp);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, VA, MMU_READ, &t, &fault));
  assert_int_equal(t.refs, 35);
  fx_fini(&f);
}

/* Large guest pages shorten the guest dimension: 2 MiB (n=3) gives 19,
 * 1 GiB (n=2) gives 14. */
static void test_slat_ept_large_guest_pages_reduce_refs(void **s)
{
  (void)s;
  struct { unsigned leaf; unsigned refs; } rows[] = { { 2, 19 }, { 3, 14 } };
  for (size_t i = 0; i < 2; i++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
    uint64_t root = fx_page(&f);
    fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, true), root, 0x40000000, 0, rows[i].leaf, X_TABLE, G | X_PS);
    fx_long_mode(&f, root);
    use_ept(&f, eptp);
    struct mmu_translation t;
    struct mmu_fault fault;
    assert_true(fx_tr(&f, 0x40003004, MMU_READ, &t, &fault));
    assert_int_equal(t.pa, 0x3004);
    assert_int_equal(t.refs, rows[i].refs);
    assert_int_equal(t.page_shift, 12); /* combined with a 4 KiB EPT page */
    fx_fini(&f);
  }
}

/* Large EPT pages shorten the nested dimension: 2 MiB EPT pages (m=3) under
 * a 4-level guest: (4+1)(3+1)-1 = 19. */
static void test_slat_ept_large_ept_pages_reduce_refs(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t ept = fx_page(&f);
  for (uint64_t pa = 0; pa < f.size; pa += 0x200000)
    fx_map(&f, fx_ept(&f, false, false), ept, pa, pa, 2, E_RWX, EL | E_PS);
  guest(&f, false, G);
  use_ept(&f, ept | 6 | (3u << 3));
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, VA, MMU_READ, &t, &fault));
  assert_int_equal(t.refs, 19);
  fx_fini(&f);
}

/* PAE guests: the PDPTEs are registers under EPT ((2+1)(4+1)-1 = 14) but are
 * read from memory under NPT ((3+1)(4+1)-1 = 19). */
static void test_slat_pae_guest_refs_ept_14_npt_19(void **s)
{
  (void)s;
  for (int npt = 0; npt < 2; npt++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t root = npt ? fx_npt_identity(&f, X_P | X_W | X_U) : fx_ept_identity(&f, false, false, E_RWX, EL);
    uint64_t pdpt = fx_page(&f);
    fx_map(&f, fx_x86(&f, MMU_X86_PAE, true), pdpt, 0x40201000, GPA_DATA, 1, X_TABLE, G);
    f.ctx = (struct mmu_context){ .cr0 = CR0_PE | CR0_PG, .cr3 = pdpt, .cr4 = CR4_PAE, .tag = 1 };
    assert_true(mmu_load_pdptes(&f.mmu.phys, pdpt, f.ctx.pdpte));
    if (npt) {
      f.ctx.slat = MMU_SLAT_NPT;
      f.ctx.ncr3 = root;
      f.ctx.host_cr4 = CR4_PAE;
      f.ctx.host_efer = EFER_LMA | EFER_NXE;
    } else {
      use_ept(&f, root);
    }
    struct mmu_translation t;
    struct mmu_fault fault;
    assert_true(fx_tr(&f, 0x40201008, MMU_READ, &t, &fault));
    assert_int_equal(t.pa, GPA_DATA + 8);
    assert_int_equal(t.refs, npt ? 19 : 14);
    fx_fini(&f);
  }
}

static void npt_ctx(struct fx *f, uint64_t ncr3)
{
  f->ctx.slat = MMU_SLAT_NPT;
  f->ctx.ncr3 = ncr3;
  f->ctx.host_cr4 = CR4_PAE;
  f->ctx.host_efer = EFER_LMA | EFER_NXE;
  f->ctx.tag = 1;
}

static void test_slat_npt_4x4_cold_walk_makes_24_refs(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t ncr3 = fx_npt_identity(&f, X_P | X_W | X_U);
  guest(&f, false, G);
  npt_ctx(&f, ncr3);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, VA + 1, MMU_READ, &t, &fault));
  assert_int_equal(t.pa, GPA_DATA + 1);
  assert_int_equal(t.refs, 24);
  fx_fini(&f);
}

/* ---- EPT violations ----------------------------------------------------------- */

/* Final translation: access type, the EPT permissions found, linear address
 * valid, final-translation bit, and the advanced information. */
static void test_slat_ept_violation_final_read_of_exec_only_page(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
  guest(&f, false, G);
  use_ept(&f, eptp);
  fx_set(&f, ept_leaf(&f, eptp, GPA_DATA), GPA_DATA | E_X | E_WB, 8);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_tr(&f, VA + 0x123, MMU_READ, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_EPT_VIOLATION);
  assert_int_equal(fault.exit_qualification,
                   EPT_QUAL_READ | EPT_QUAL_EXECUTABLE | EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL |
                   EPT_QUAL_WRITABLE_LINEAR);
  assert_int_equal(fault.guest_physical, GPA_DATA + 0x123);
  assert_int_equal(fault.guest_linear, VA + 0x123);
  /* Execute-only is allowed on this CPU: the fetch succeeds, EXEC only. */
  assert_true(fx_tr(&f, VA + 0x123, MMU_FETCH, &t, &fault));
  assert_int_equal(t.perms, MMU_PERM_EXEC);
  fx_fini(&f);
}

static void test_slat_ept_violation_write_to_read_only_page(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
  guest(&f, false, G | X_U | X_XD);
  use_ept(&f, eptp);
  fx_set(&f, ept_leaf(&f, eptp, GPA_DATA), GPA_DATA | E_R | E_X | E_WB, 8);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, VA, MMU_READ, &t, &fault));
  assert_int_equal(t.perms, MMU_PERM_READ); /* no W (EPT), no X (guest XD) */
  assert_false(fx_tr(&f, VA, MMU_WRITE, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_EPT_VIOLATION);
  assert_int_equal(fault.exit_qualification,
                   EPT_QUAL_WRITE | EPT_QUAL_READABLE | EPT_QUAL_EXECUTABLE | EPT_QUAL_LINEAR_VALID |
                   EPT_QUAL_FINAL | EPT_QUAL_USER_LINEAR | EPT_QUAL_WRITABLE_LINEAR | EPT_QUAL_XD_LINEAR);
  fx_fini(&f);
}

/* A guest paging-structure access: bit 8 clear, the GPA of the entry; with
 * EPT A/D the access counts as a write (bits 0 and 1). */
static void test_slat_ept_violation_on_guest_paging_structure(void **s)
{
  (void)s;
  for (int ad = 0; ad < 2; ad++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t eptp = fx_ept_identity(&f, false, ad, E_RWX, EL);
    uint64_t root = guest(&f, false, G);
    use_ept(&f, eptp);
    uint64_t pte_gpa = guest_entry_gpa(&f, root, 1);
    fx_set(&f, ept_leaf(&f, eptp, pte_gpa), 0, 8); /* the guest PT is not mapped */
    struct mmu_translation t;
    struct mmu_fault fault;
    assert_false(fx_tr(&f, VA, MMU_READ, &t, &fault));
    assert_int_equal(fault.kind, MMU_FAULT_EPT_VIOLATION);
    assert_int_equal(fault.exit_qualification,
                     EPT_QUAL_READ | (ad ? EPT_QUAL_WRITE : 0) | EPT_QUAL_LINEAR_VALID);
    assert_int_equal(fault.guest_physical, pte_gpa);
    assert_int_equal(fault.guest_linear, VA);
    fx_fini(&f);
  }
}

/* "Accessed and Dirty Flags for EPT": with A/D enabled, guest paging-structure
 * accesses are writes, so a read-only EPT mapping of a guest table faults;
 * without A/D they are reads and succeed. */
static void test_slat_ept_ad_makes_guest_table_accesses_writes(void **s)
{
  (void)s;
  for (int ad = 0; ad < 2; ad++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t eptp = fx_ept_identity(&f, false, ad, E_RWX, EL);
    uint64_t root = guest(&f, false, G);
    use_ept(&f, eptp);
    uint64_t pte_gpa = guest_entry_gpa(&f, root, 1);
    uint64_t leaf = ept_leaf(&f, eptp, pte_gpa);
    fx_set(&f, leaf, (pte_gpa & ~0xFFFull) | E_R | E_WB, 8);
    struct mmu_translation t;
    struct mmu_fault fault;
    bool ok = fx_tr(&f, VA, MMU_READ, &t, &fault);
    assert_int_equal(ok, !ad);
    if (ad)
      assert_int_equal(fault.exit_qualification,
                       EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_READABLE | EPT_QUAL_LINEAR_VALID);
    fx_fini(&f);
  }
}

/* "Accessed and Dirty Flags for EPT": A on every EPT entry used, D on the
 * leaf of written pages (and of guest tables, accessed as writes); nothing
 * when EPTP bit 6 is clear. */
static void test_slat_ept_ad_flags_set_only_when_enabled(void **s)
{
  (void)s;
  for (int ad = 0; ad < 2; ad++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t eptp = fx_ept_identity(&f, false, ad, E_RWX, EL);
    uint64_t root = guest(&f, false, G);
    use_ept(&f, eptp);
    struct mmu_translation t;
    struct mmu_fault fault;
    assert_true(fx_tr(&f, VA, MMU_READ, &t, &fault));
    uint64_t data = fx_get(&f, ept_leaf(&f, eptp, GPA_DATA), 8);
    uint64_t table = fx_get(&f, ept_leaf(&f, eptp, guest_entry_gpa(&f, root, 1)), 8);
    uint64_t ept_root_entry = fx_get(&f, eptp & ~0xFFFull, 8);
    if (ad) {
      assert_int_equal(data & (E_A | E_D), E_A);
      assert_int_equal(table & (E_A | E_D), E_A | E_D);
      assert_true(ept_root_entry & E_A);
      /* The clean EPT page may not be cached writable... */
      assert_false(t.perms & MMU_PERM_WRITE);
      assert_true(fx_tr(&f, VA, MMU_WRITE, &t, &fault));
      assert_int_equal(fx_get(&f, ept_leaf(&f, eptp, GPA_DATA), 8) & (E_A | E_D), E_A | E_D);
      assert_true(t.perms & MMU_PERM_WRITE);
    } else {
      assert_int_equal(data & (E_A | E_D), 0);
      assert_int_equal(table & (E_A | E_D), 0);
      assert_int_equal(ept_root_entry & E_A, 0);
      assert_true(t.perms & MMU_PERM_WRITE); /* guest D set, EPT dirty not tracked */
    }
    fx_fini(&f);
  }
}

/* #PF from the guest walk comes before the final guest-physical access. */
static void test_slat_guest_page_fault_precedes_final_ept_violation(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
  guest(&f, false, X_P | X_A | X_D); /* read-only for the guest */
  use_ept(&f, eptp);
  fx_set(&f, ept_leaf(&f, eptp, GPA_DATA), 0, 8);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_false(fx_tr(&f, VA, MMU_WRITE, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_PF);
  assert_int_equal(fault.error_code, PF_P | PF_W);
  assert_false(fx_tr(&f, VA, MMU_READ, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_EPT_VIOLATION);
  fx_fini(&f);
}

/* With CR0.PG=0 the linear address is the guest-physical address. */
static void test_slat_ept_paging_off_translates_linear_as_gpa(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
  f.ctx = (struct mmu_context){ .cr0 = CR0_PE };
  use_ept(&f, eptp);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, 0x5123, MMU_WRITE, &t, &fault));
  assert_int_equal(t.pa, 0x5123);
  assert_int_equal(t.refs, 4);
  fx_set(&f, ept_leaf(&f, eptp, 0x6000), 0, 8);
  assert_false(fx_tr(&f, 0x6123, MMU_READ, &t, &fault));
  assert_int_equal(fault.exit_qualification, EPT_QUAL_READ | EPT_QUAL_LINEAR_VALID | EPT_QUAL_FINAL);
  assert_int_equal(fault.guest_physical, 0x6123);
  fx_fini(&f);
}

/* ---- EPT misconfigurations ------------------------------------------------------ */

static void test_slat_ept_misconfigurations(void **s)
{
  (void)s;
  struct row { const char *what; uint64_t leaf; bool exec_only; bool misconfig; } rows[] = {
    { "write without read", GPA_DATA | E_W | E_WB, true, true },
    { "memory type 2", GPA_DATA | E_RWX | (2ull << 3), true, true },
    { "memory type 3", GPA_DATA | E_RWX | (3ull << 3), true, true },
    { "memory type 7", GPA_DATA | E_RWX | (7ull << 3), true, true },
    { "memory type 0 (UC)", GPA_DATA | E_RWX, true, false },
    { "reserved bit 50", GPA_DATA | EL | (1ull << 50), true, true },
    { "execute-only unsupported", GPA_DATA | E_X | E_WB, false, true },
    { "execute-only supported", GPA_DATA | E_X | E_WB, true, false },
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct mmu_geometry g = mmu_default_geometry;
    if (!rows[i].exec_only) g.features &= ~(unsigned)MMU_FEAT_EPT_EXEC_ONLY;
    struct fx f;
    fx_init(&f, &g);
    uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
    guest(&f, false, G);
    use_ept(&f, eptp);
    fx_set(&f, ept_leaf(&f, eptp, GPA_DATA), rows[i].leaf, 8);
    struct mmu_translation t;
    struct mmu_fault fault;
    bool ok = fx_tr(&f, VA + 8, MMU_FETCH, &t, &fault);
    if (rows[i].misconfig) {
      assert_false(ok);
      assert_int_equal(fault.kind, MMU_FAULT_EPT_MISCONFIG);
      assert_int_equal(fault.guest_physical, GPA_DATA + 8);
    } else {
      assert_true(ok);
    }
    fx_fini(&f);
  }
}

/* Non-leaf reserved bits: 7:3 in a PML4E, 6:3 in a non-leaf PDE. */
static void test_slat_ept_nonleaf_reserved_bits_misconfigure(void **s)
{
  (void)s;
  unsigned levels[] = { 4, 2 };
  uint64_t bits[] = { E_PS, 1ull << 3 };
  for (size_t i = 0; i < 2; i++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX, EL);
    guest(&f, false, G);
    use_ept(&f, eptp);
    uint64_t ea = fx_entry(&f, fx_ept(&f, false, false), eptp & ~0xFFFull, GPA_DATA, levels[i]);
    fx_set(&f, ea, fx_get(&f, ea, 8) | bits[i], 8);
    struct mmu_translation t;
    struct mmu_fault fault;
    assert_false(fx_tr(&f, VA, MMU_READ, &t, &fault));
    assert_int_equal(fault.kind, MMU_FAULT_EPT_MISCONFIG);
    fx_fini(&f);
  }
}

/* Mode-based execute control: fetches from user-mode linear addresses need
 * bit 10 (XU), supervisor-mode ones bit 2; qualification bit 6 reports XU. */
static void test_slat_ept_mbec_user_fetch_needs_xu(void **s)
{
  (void)s;
  for (int xu = 0; xu < 2; xu++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t eptp = fx_ept_identity(&f, false, false, E_RWX | E_XU, EL | E_XU);
    guest(&f, false, G | X_U);
    use_ept(&f, eptp);
    f.ctx.ept_mbec = true;
    f.ctx.cpl = 3;
    fx_set(&f, ept_leaf(&f, eptp, GPA_DATA), GPA_DATA | EL | (xu ? E_XU : 0), 8);
    struct mmu_translation t;
    struct mmu_fault fault;
    bool ok = fx_tr(&f, VA, MMU_FETCH, &t, &fault);
    assert_int_equal(ok, xu);
    if (!xu) {
      assert_int_equal(fault.exit_qualification & (EPT_QUAL_FETCH | EPT_QUAL_EXECUTABLE | EPT_QUAL_USER_EXECUTABLE),
                       EPT_QUAL_FETCH | EPT_QUAL_EXECUTABLE);
    }
    fx_fini(&f);
  }
}

static void test_slat_bad_eptp_is_reported(void **s)
{
  (void)s;
  struct mmu_geometry g = mmu_default_geometry;
  g.features &= ~(unsigned)MMU_FEAT_EPT_5LEVEL;
  struct fx f;
  fx_init(&f, &g);
  guest(&f, false, G);
  struct mmu_translation t;
  struct mmu_fault fault;
  use_ept(&f, 0x100000 | 6 | (1u << 3)); /* walk length 2 */
  assert_false(fx_tr(&f, VA, MMU_READ, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_BAD_CONTEXT);
  use_ept(&f, 0x100000 | 6 | (4u << 3)); /* 5 levels, unsupported here */
  assert_false(fx_tr(&f, VA, MMU_READ, &t, &fault));
  assert_int_equal(fault.kind, MMU_FAULT_BAD_CONTEXT);
  fx_fini(&f);
}

/* ---- Nested page faults ---------------------------------------------------------- */

static void test_slat_npf_exitinfo(void **s)
{
  (void)s;
  struct row { const char *what; bool table; uint64_t leaf; enum mmu_access acc; uint64_t info1; } rows[] = {
    { "final not present, read", false, 0, MMU_READ, NPF_U | NPF_FINAL },
    { "final not present, write", false, 0, MMU_WRITE, NPF_U | NPF_W | NPF_FINAL },
    { "final supervisor-only page", false, X_P | X_W, MMU_READ, NPF_P | NPF_U | NPF_FINAL },
    { "final read-only page, write", false, X_P | X_U, MMU_WRITE, NPF_P | NPF_W | NPF_U | NPF_FINAL },
    { "final no-execute page, fetch", false, X_P | X_U | X_W | X_XD, MMU_FETCH, NPF_P | NPF_U | NPF_ID | NPF_FINAL },
    { "final reserved bit", false, X_P | X_U | X_W | (1ull << 50), MMU_READ, NPF_P | NPF_U | NPF_RSV | NPF_FINAL },
    { "guest table not present", true, 0, MMU_READ, NPF_U | NPF_W | NPF_GUEST_PT },
    { "guest table read-only (accessed as a user write)", true, X_P | X_U, MMU_READ, NPF_P | NPF_U | NPF_W | NPF_GUEST_PT },
    { "final present and allowed", false, X_P | X_U | X_W, MMU_WRITE, 0 },
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t ncr3 = fx_npt_identity(&f, X_P | X_W | X_U);
    uint64_t root = guest(&f, false, G);
    npt_ctx(&f, ncr3);
    uint64_t gpa = rows[i].table ? guest_entry_gpa(&f, root, 1) : GPA_DATA + 0x40;
    uint64_t leaf = fx_entry(&f, fx_x86(&f, MMU_X86_4LEVEL, true), ncr3, gpa, 1);
    fx_set(&f, leaf, rows[i].leaf ? ((gpa & ~0xFFFull) | rows[i].leaf) : 0, 8);
    struct mmu_translation t;
    struct mmu_fault fault;
    bool ok = fx_tr(&f, VA + 0x40, rows[i].acc, &t, &fault);
    if (!rows[i].info1) {
      assert_true(ok);
    } else {
      assert_false(ok);
      assert_int_equal(fault.kind, MMU_FAULT_NPF);
      assert_int_equal(fault.exitinfo1, rows[i].info1);
      assert_int_equal(fault.exitinfo2, gpa);
    }
    fx_fini(&f);
  }
}

/* NPT entries carry A/D in the host format: A on every nested entry used, D
 * on the nested leaf of guest tables (user writes) and of written data. */
static void test_slat_npt_sets_nested_accessed_dirty(void **s)
{
  (void)s;
  struct fx f;
  fx_init(&f, NULL);
  uint64_t ncr3 = fx_npt_identity(&f, X_P | X_W | X_U);
  uint64_t root = guest(&f, false, G);
  npt_ctx(&f, ncr3);
  const struct pt_format *n = fx_x86(&f, MMU_X86_4LEVEL, true);
  struct mmu_translation t;
  struct mmu_fault fault;
  assert_true(fx_tr(&f, VA, MMU_READ, &t, &fault));
  uint64_t data = fx_get(&f, fx_entry(&f, n, ncr3, GPA_DATA, 1), 8);
  uint64_t table = fx_get(&f, fx_entry(&f, n, ncr3, guest_entry_gpa(&f, root, 1), 1), 8);
  assert_int_equal(data & (X_A | X_D), X_A);
  assert_int_equal(table & (X_A | X_D), X_A | X_D);
  assert_false(t.perms & MMU_PERM_WRITE);
  assert_true(fx_tr(&f, VA, MMU_WRITE, &t, &fault));
  assert_int_equal(fx_get(&f, fx_entry(&f, n, ncr3, GPA_DATA, 1), 8) & X_D, X_D);
  fx_fini(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_slat_ept_4x4_cold_walk_makes_24_refs),
    cmocka_unit_test(test_slat_ept_5x5_cold_walk_makes_35_refs),
    cmocka_unit_test(test_slat_ept_large_guest_pages_reduce_refs),
    cmocka_unit_test(test_slat_ept_large_ept_pages_reduce_refs),
    cmocka_unit_test(test_slat_pae_guest_refs_ept_14_npt_19),
    cmocka_unit_test(test_slat_npt_4x4_cold_walk_makes_24_refs),
    cmocka_unit_test(test_slat_ept_violation_final_read_of_exec_only_page),
    cmocka_unit_test(test_slat_ept_violation_write_to_read_only_page),
    cmocka_unit_test(test_slat_ept_violation_on_guest_paging_structure),
    cmocka_unit_test(test_slat_ept_ad_makes_guest_table_accesses_writes),
    cmocka_unit_test(test_slat_ept_ad_flags_set_only_when_enabled),
    cmocka_unit_test(test_slat_guest_page_fault_precedes_final_ept_violation),
    cmocka_unit_test(test_slat_ept_paging_off_translates_linear_as_gpa),
    cmocka_unit_test(test_slat_ept_misconfigurations),
    cmocka_unit_test(test_slat_ept_nonleaf_reserved_bits_misconfigure),
    cmocka_unit_test(test_slat_ept_mbec_user_fetch_needs_xu),
    cmocka_unit_test(test_slat_bad_eptp_is_reported),
    cmocka_unit_test(test_slat_npf_exitinfo),
    cmocka_unit_test(test_slat_npt_sets_nested_accessed_dirty),
  };
  return cmocka_run_group_tests_name("mmu_slat", tests, NULL, NULL);
}
