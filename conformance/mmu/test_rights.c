/* Access rights and #PF error codes, one table row per rule, each row run
 * through both the cached MMU and the reference walker.
 *
 * SDM Vol. 3A, Paging: "Access Rights" (U/S, R/W with CR0.WP, XD with
 * IA32_EFER.NXE, SMEP, SMAP with RFLAGS.AC and implicit accesses),
 * "Protection Keys", "Page-Fault Exceptions" (error code P, W/R, U/S, RSVD,
 * I/D, PK; CR2). 4-level paging; the page at VA 0x400000 maps PA 0x5000. */
#include "conformance/mmu/mmu_fixture.h"

#include <stdio.h>

#define VA 0x400000ull
#define PA 0x5000ull
#define IMPL MMU_IMPLICIT_SUPERVISOR

struct rights_case {
  const char *name;
  uint64_t table_bits, leaf_bits;
  bool wp, nxe;
  uint64_t cr4;
  uint8_t cpl;
  bool ac;
  unsigned flags;
  uint32_t pkru;
  enum mmu_access acc;
  bool ok;
  uint32_t ec; /* expected #PF error code when !ok */
};

#define T X_TABLE
#define L (X_P | X_A | X_D)
static const struct rights_case cases[] = {
  /* "Access Rights": user-mode accesses need U/S=1 at every level. */
  { "rights_user_read_user_page_allowed", T, L | X_U, 1, 1, 0, 3, 0, 0, 0, MMU_READ, 1, 0 },
  { "rights_user_read_supervisor_page_faults", T, L, 1, 1, 0, 3, 0, 0, 0, MMU_READ, 0, PF_P | PF_U },
  { "rights_user_read_supervisor_pde_faults", X_P | X_W, L | X_U, 1, 1, 0, 3, 0, 0, 0, MMU_READ, 0, PF_P | PF_U },
  /* R/W: user writes need R/W=1 at every level. */
  { "rights_user_write_rw_page_allowed", T, L | X_U | X_W, 1, 1, 0, 3, 0, 0, 0, MMU_WRITE, 1, 0 },
  { "rights_user_write_ro_page_faults", T, L | X_U, 1, 1, 0, 3, 0, 0, 0, MMU_WRITE, 0, PF_P | PF_W | PF_U },
  { "rights_user_write_ro_pde_faults", X_P | X_U, L | X_U | X_W, 0, 1, 0, 3, 0, 0, 0, MMU_WRITE, 0, PF_P | PF_W | PF_U },
  /* CR0.WP: supervisor writes to read-only pages only with WP=0. */
  { "rights_wp0_supervisor_write_ro_allowed", T, L, 0, 1, 0, 0, 0, 0, 0, MMU_WRITE, 1, 0 },
  { "rights_wp1_supervisor_write_ro_faults", T, L, 1, 1, 0, 0, 0, 0, 0, MMU_WRITE, 0, PF_P | PF_W },
  { "rights_wp0_supervisor_write_ro_user_page_allowed", T, L | X_U, 0, 1, 0, 0, 0, 0, 0, MMU_WRITE, 1, 0 },
  /* XD: with NXE, XD=1 at any level forbids fetches. */
  { "rights_xd_fetch_faults", T, L | X_XD, 1, 1, 0, 0, 0, 0, 0, MMU_FETCH, 0, PF_P | PF_I },
  { "rights_xd_in_pdpte_fetch_faults", T | X_XD, L, 1, 1, 0, 0, 0, 0, 0, MMU_FETCH, 0, PF_P | PF_I },
  { "rights_xd_read_allowed", T, L | X_XD, 1, 1, 0, 0, 0, 0, 0, MMU_READ, 1, 0 },
  { "rights_no_xd_fetch_allowed", T, L, 1, 1, 0, 0, 0, 0, 0, MMU_FETCH, 1, 0 },
  { "rights_user_fetch_supervisor_page_faults", T, L, 1, 1, 0, 3, 0, 0, 0, MMU_FETCH, 0, PF_P | PF_U | PF_I },
  /* "Page-Fault Exceptions": bit 63 is reserved without NXE; I/D only
   * reported when NXE (PAE formats) or SMEP could have caused it. */
  { "rsvd_xd_without_nxe_faults", T, L | X_XD, 1, 0, 0, 0, 0, 0, 0, MMU_FETCH, 0, PF_P | PF_RSVD },
  { "rsvd_xd_without_nxe_smep_reports_id", T, L | X_XD, 1, 0, CR4_SMEP, 0, 0, 0, 0, MMU_FETCH, 0, PF_P | PF_RSVD | PF_I },
  /* SMEP: supervisor fetches from user pages. */
  { "smep_supervisor_fetch_user_page_faults", T, L | X_U, 1, 1, CR4_SMEP, 0, 0, 0, 0, MMU_FETCH, 0, PF_P | PF_I },
  { "smep_off_supervisor_fetch_user_page_allowed", T, L | X_U, 1, 1, 0, 0, 0, 0, 0, MMU_FETCH, 1, 0 },
  { "smep_supervisor_fetch_supervisor_page_allowed", T, L, 1, 1, CR4_SMEP, 0, 0, 0, 0, MMU_FETCH, 1, 0 },
  /* SMAP: supervisor data accesses to user pages need AC=1 and an explicit access. */
  { "smap_supervisor_read_user_page_ac0_faults", T, L | X_U, 1, 1, CR4_SMAP, 0, 0, 0, 0, MMU_READ, 0, PF_P },
  { "smap_supervisor_read_user_page_ac1_allowed", T, L | X_U, 1, 1, CR4_SMAP, 0, 1, 0, 0, MMU_READ, 1, 0 },
  { "smap_supervisor_write_user_page_ac0_faults", T, L | X_U | X_W, 1, 1, CR4_SMAP, 0, 0, 0, 0, MMU_WRITE, 0, PF_P | PF_W },
  { "smap_implicit_read_user_page_ac1_faults", T, L | X_U, 1, 1, CR4_SMAP, 0, 1, IMPL, 0, MMU_READ, 0, PF_P },
  { "smap_implicit_at_cpl3_read_user_page_faults", T, L | X_U, 1, 1, CR4_SMAP, 3, 1, IMPL, 0, MMU_READ, 0, PF_P },
  { "smap_off_implicit_read_user_page_allowed", T, L | X_U, 1, 1, 0, 3, 0, IMPL, 0, MMU_READ, 1, 0 },
  { "smap_fetch_user_page_not_affected", T, L | X_U, 1, 1, CR4_SMAP, 0, 0, 0, 0, MMU_FETCH, 1, 0 },
  /* Implicit supervisor accesses at CPL 3 may reach supervisor pages. */
  { "rights_implicit_cpl3_read_supervisor_page_allowed", T, L, 1, 1, 0, 3, 0, IMPL, 0, MMU_READ, 1, 0 },
  /* "Protection Keys": data accesses to user pages with PKRU.AD/WD. */
  { "pk_access_disable_user_read_faults", T, L | X_U | X_PK(1), 1, 1, CR4_PKE, 3, 0, 0, 1u << 2, MMU_READ, 0, PF_P | PF_U | PF_PK },
  { "pk_access_disable_other_key_allowed", T, L | X_U | X_PK(2), 1, 1, CR4_PKE, 3, 0, 0, 1u << 2, MMU_READ, 1, 0 },
  { "pk_access_disable_supervisor_read_user_page_faults", T, L | X_U | X_PK(1), 1, 1, CR4_PKE, 0, 0, 0, 1u << 2, MMU_READ, 0, PF_P | PF_PK },
  { "pk_write_disable_user_write_faults", T, L | X_U | X_W | X_PK(1), 1, 1, CR4_PKE, 3, 0, 0, 2u << 2, MMU_WRITE, 0, PF_P | PF_W | PF_U | PF_PK },
  { "pk_write_disable_user_read_allowed", T, L | X_U | X_W | X_PK(1), 1, 1, CR4_PKE, 3, 0, 0, 2u << 2, MMU_READ, 1, 0 },
  { "pk_write_disable_supervisor_write_wp0_allowed", T, L | X_U | X_W | X_PK(1), 0, 1, CR4_PKE, 0, 0, 0, 2u << 2, MMU_WRITE, 1, 0 },
  { "pk_write_disable_supervisor_write_wp1_faults", T, L | X_U | X_W | X_PK(1), 1, 1, CR4_PKE, 0, 0, 0, 2u << 2, MMU_WRITE, 0, PF_P | PF_W | PF_PK },
  { "pk_supervisor_page_not_affected", T, L | X_PK(1), 1, 1, CR4_PKE, 0, 0, 0, 1u << 2, MMU_READ, 1, 0 },
  { "pk_fetch_not_affected", T, L | X_U | X_PK(1), 1, 1, CR4_PKE, 3, 0, 0, 1u << 2, MMU_FETCH, 1, 0 },
  { "pk_cr4_pke_off_not_affected", T, L | X_U | X_PK(1), 1, 1, 0, 3, 0, 0, 1u << 2, MMU_READ, 1, 0 },
  /* PK is reported with another violation when its conditions hold. */
  { "pk_with_ro_violation_reports_pk", T, L | X_U | X_PK(1), 1, 1, CR4_PKE, 3, 0, 0, 2u << 2, MMU_WRITE, 0, PF_P | PF_W | PF_U | PF_PK },
};
#undef T
#undef L

static void run_case(void **state)
{
  const struct rights_case *c = *state;
  for (int reference = 0; reference < 2; reference++) {
    struct fx f;
    fx_init(&f, NULL);
    uint64_t root = fx_page(&f);
    fx_map(&f, fx_x86(&f, MMU_X86_4LEVEL, c->nxe), root, VA, PA, 1, c->table_bits, c->leaf_bits);
    fx_long_mode(&f, root);
    f.ctx.cr0 = CR0_PE | CR0_PG | (c->wp ? CR0_WP : 0);
    f.ctx.efer = EFER_LME | EFER_LMA | (c->nxe ? EFER_NXE : 0);
    f.ctx.cr4 |= c->cr4;
    f.ctx.cpl = c->cpl;
    f.ctx.ac = c->ac;
    f.ctx.pkru = c->pkru;
    struct mmu_translation t = { 0 };
    struct mmu_fault fault = { 0 };
    bool ok = reference
      ? mmu_reference_translate(&f.mmu.phys, &f.ctx, VA + 0x123, c->acc, c->flags, &t, &fault)
      : mmu_translate(&f.mmu, &f.ctx, VA + 0x123, c->acc, c->flags, &t, &fault);
    if (ok != c->ok || (!ok && fault.error_code != c->ec))
      print_error("%s (%s): ok=%d ec=%#x, expected ok=%d ec=%#x (%s)\n", c->name,
                  reference ? "reference" : "cached", ok, fault.error_code, c->ok, c->ec,
                  fault.reason ? fault.reason : "-");
    assert_int_equal(ok, c->ok);
    if (ok) {
      assert_int_equal(t.pa, PA + 0x123);
    } else {
      assert_int_equal(fault.kind, MMU_FAULT_PF);
      assert_int_equal(fault.error_code, c->ec);
      assert_int_equal(fault.cr2, VA + 0x123);
    }
    fx_fini(&f);
  }
}

int main(void)
{
  enum { N = sizeof cases / sizeof cases[0] };
  struct CMUnitTest tests[N];
  char names[N][96];
  for (size_t i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "paging_%s", cases[i].name);
    tests[i] = (struct CMUnitTest){ .name = names[i], .test_func = run_case,
                                    .initial_state = (void *)&cases[i] };
  }
  return _cmocka_run_group_tests("mmu_rights", tests, N, NULL, NULL);
}
