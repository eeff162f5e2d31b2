/* The machine-check architecture through the whole machine (sim/mca.h):
 * tiny 32-bit guests written byte by byte (guest32.h) read and write the
 * MCA registers, and errors injected at a virtual time (the --mce option's
 * machine_options.mce) are logged into their banks and signal #MC.
 * Checked: IA32_MCG_CAP reports the CPU model's banks and MCG_CTL_P, and
 * CPUID's MCE and MCA agree with it; the WRMSR rules of each register
 * (SDM Vol. 3B, "IA32_MCG_CAP MSR", "IA32_MCG_STATUS MSR", "IA32_MCG_CTL
 * MSR", "IA32_MCi_CTL MSRs", "IA32_MCi_STATUS MSRS", "IA32_MCi_ADDR
 * MSRs", "IA32_MCi_MISC MSRs") and #GP beyond the model's banks; #MC
 * delivered through the IDT without an error code, with MCG_STATUS.MCIP
 * set ("Interrupt 18—Machine-Check Exception (#MC)"); shutdown with
 * CR4.MCE = 0 or with MCIP already set ("Machine-Check Exception
 * Handling"); corrected and disabled errors logged without #MC; AMD's
 * MCG_CTL bank enables (AMD APM Vol. 2, "Machine-Check Global-Control
 * Register (MCG_CTL)"); the overwrite rules ("Overwrite Rules for Machine
 * Check Errors"); a halted vCPU woken by #MC; the --mce syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"
#include "sim/mca.h"
#include "sim/msr.h"

#define HANDLER_GP (HANDLER + 0x80)
#define RESULT     0x100700u   /* the guests' results, 8 bytes each */
#define OK_STATUS  ((0x55 << 1) | 1)   /* the guest's own exit: no #GP, no #MC */
#define GP_STATUS  ((VEC_GP << 1) | 1)
#define MC_STATUS  ((VEC_MC << 1) | 1)

/* ---- guest code ------------------------------------------------------------ */

/* An interrupt gate for `vector` to `handler` (within the IDT guest_start
 * sized). */
static void gate(struct guest *g, unsigned vector, uint32_t handler)
{
  const uint8_t d[8] = {(uint8_t)handler, (uint8_t)(handler >> 8), 0x08, 0, 0, 0x8e, (uint8_t)(handler >> 16),
                        (uint8_t)(handler >> 24)};
  memcpy(g->seg + (IDT - BASE) + 8 * vector, d, sizeof d);
}

static void exit_with(struct guest *g, uint8_t value) { EMIT(g, 0xb0, value, 0xe6, 0xf4, 0xeb, 0xfe); }

/* The common start with IDT vectors up to 18: #GP exits with 0DH, #MC
 * goes to HANDLER (which the test writes). */
static void start(struct guest *g)
{
  guest_start(g, VEC_MC);
  gate(g, VEC_GP, HANDLER_GP);
  uint32_t keep = g->at;
  g->at = HANDLER_GP;
  exit_with(g, VEC_GP);
  g->at = keep;
}

/* wrmsr index = hi:lo */
static void wrmsr(struct guest *g, uint32_t index, uint32_t hi, uint32_t lo)
{
  EMIT(g, 0xb9, U32(index), 0xb8, U32(lo), 0xba, U32(hi), 0x0f, 0x30);
}

/* rdmsr index; mov [slot], eax; mov [slot + 4], edx */
static void rdmsr_to(struct guest *g, uint32_t index, uint32_t slot)
{
  EMIT(g, 0xb9, U32(index), 0x0f, 0x32, 0xa3, U32(slot), 0x89, 0x15, U32(slot + 4));
}

static void cr4_mce(struct guest *g) { EMIT(g, 0x0f, 0x20, 0xe0, 0x0d, U32(CR4_MCE), 0x0f, 0x22, 0xe0); }

static uint64_t result(const struct machine *m, unsigned i)
{
  uint64_t v;
  memcpy(&v, m->ram + RESULT + 8 * i, sizeof v);
  return v;
}

static struct machine *run_on(struct guest *g, const char *cpu, const struct mca_injection *mce, unsigned count)
{
  return run_guest_with(g, (struct machine_options){.cpu = cpu_model_find(cpu), .max_insns = 200000,
                                                    .image_name = "mca-test", .mce = mce, .mce_count = count});
}

/* The guest's exit status after `body` ran MSR accesses and exited 55H
 * (a #GP exits 0DH). */
static int msr_guest(const char *cpu, void (*body)(struct guest *g), uint64_t *r0)
{
  struct guest g;
  start(&g);
  body(&g);
  exit_with(&g, 0x55);
  struct machine *m = run_on(&g, cpu, NULL, 0);
  if (r0) *r0 = result(m, 0);
  return debug_exit_status(m);
}

/* ---- the registers ----------------------------------------------------------- */

static void read_mcg_cap(struct guest *g) { rdmsr_to(g, MSR_IA32_MCG_CAP, RESULT); }

static void mca_mcg_cap_reports_model_banks_and_ctl_p(void **state)
{
  (void)state;
  uint64_t cap;
  assert_int_equal(msr_guest("skylake-x", read_mcg_cap, &cap), OK_STATUS);
  assert_int_equal(cap, 4);                        /* 4 banks, no MCG_CTL */
  assert_int_equal(msr_guest("zen", read_mcg_cap, &cap), OK_STATUS);
  assert_int_equal(cap, 4 | MCG_CAP_CTL_P);
}

/* "Machine-Check Architecture": CPUID.1:EDX MCE (bit 7) and MCA (bit 14)
 * say the #MC exception and the MCA registers exist. */
static void mca_cpuid_mce_and_mca_agree_with_banks(void **state)
{
  (void)state;
  for (size_t i = 0; i < cpu_model_count; i++) {
    const struct cpu_model *c = cpu_models[i];
    bool mca = cpu_model_has(c, 1, CPUID_EDX, CPUID1_EDX_MCA), mce = cpu_model_has(c, 1, CPUID_EDX, CPUID1_EDX_MCE);
    assert_true(mca == (c->mca_banks > 0));
    assert_true(mce || !mca);
    assert_true(c->mca_banks <= MCA_MAX_BANKS);
  }
}

static void write_mcg_cap(struct guest *g) { wrmsr(g, MSR_IA32_MCG_CAP, 0, 4); }

static void mca_mcg_cap_write_raises_gp(void **state)
{
  (void)state;
  assert_int_equal(msr_guest("skylake-x", write_mcg_cap, NULL), GP_STATUS);
}

static void set_mcip(struct guest *g)
{
  wrmsr(g, MSR_IA32_MCG_STATUS, 0, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
  rdmsr_to(g, MSR_IA32_MCG_STATUS, RESULT);
}
static void set_mcg_status_bit3(struct guest *g) { wrmsr(g, MSR_IA32_MCG_STATUS, 0, 1u << 3); }

/* "IA32_MCG_STATUS MSR": software can set or clear MCIP; bits 63:3 are
 * reserved. */
static void mca_mcg_status_defined_bits_write_reserved_gp(void **state)
{
  (void)state;
  uint64_t v;
  assert_int_equal(msr_guest("skylake-x", set_mcip, &v), OK_STATUS);
  assert_int_equal(v, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
  assert_int_equal(msr_guest("skylake-x", set_mcg_status_bit3, NULL), GP_STATUS);
}

static void mcg_ctl_ones(struct guest *g)
{
  wrmsr(g, MSR_IA32_MCG_CTL, 0xffffffffu, 0xffffffffu);
  rdmsr_to(g, MSR_IA32_MCG_CTL, RESULT);
}
static void read_mcg_ctl(struct guest *g) { rdmsr_to(g, MSR_IA32_MCG_CTL, RESULT); }

/* "IA32_MCG_CTL MSR": present only with MCG_CTL_P. */
static void mca_mcg_ctl_exists_only_with_ctl_p(void **state)
{
  (void)state;
  uint64_t v;
  assert_int_equal(msr_guest("zen", mcg_ctl_ones, &v), OK_STATUS);
  assert_int_equal(v, UINT64_MAX);
  assert_int_equal(msr_guest("skylake-x", read_mcg_ctl, NULL), GP_STATUS);
}

static void last_bank_ctl(struct guest *g)
{
  wrmsr(g, MCA_BANK_MSR(3, 0), 0x12345678u, 0x9abcdef0u);
  rdmsr_to(g, MCA_BANK_MSR(3, 0), RESULT);
}
static void bank_beyond_count(struct guest *g) { rdmsr_to(g, MCA_BANK_MSR(4, 1), RESULT); }

/* "IA32_MCi_CTL MSRs": any enable bits (only P6 restricted them); a bank
 * the model does not have is no MSR: #GP. */
static void mca_mci_ctl_any_value_bank_beyond_count_gp(void **state)
{
  (void)state;
  uint64_t v;
  assert_int_equal(msr_guest("skylake-x", last_bank_ctl, &v), OK_STATUS);
  assert_int_equal(v, 0x123456789abcdef0ull);
  assert_int_equal(msr_guest("skylake-x", bank_beyond_count, NULL), GP_STATUS);
}

static void clear_status_addr_misc(struct guest *g)
{
  for (unsigned r = 1; r < 4; r++) wrmsr(g, MCA_BANK_MSR(2, r), 0, 0);
}
static void status_ones(struct guest *g) { wrmsr(g, MCA_BANK_MSR(2, 1), 0x80000000u, 0); }
static void addr_ones(struct guest *g) { wrmsr(g, MCA_BANK_MSR(2, 2), 0, 0x1000); }
static void misc_ones(struct guest *g) { wrmsr(g, MCA_BANK_MSR(2, 3), 0, 1); }

/* "IA32_MCi_STATUS MSRS", "IA32_MCi_ADDR MSRs", "IA32_MCi_MISC MSRs":
 * cleared by writing 0s; writing 1s raises #GP (on both vendors: AMD's
 * HWCR.McStatusWrEn is not modelled). */
static void mca_mci_status_addr_misc_write_zero_only(void **state)
{
  (void)state;
  assert_int_equal(msr_guest("skylake-x", clear_status_addr_misc, NULL), OK_STATUS);
  assert_int_equal(msr_guest("skylake-x", status_ones, NULL), GP_STATUS);
  assert_int_equal(msr_guest("zen", status_ones, NULL), GP_STATUS);
  assert_int_equal(msr_guest("skylake-x", addr_ones, NULL), GP_STATUS);
  assert_int_equal(msr_guest("skylake-x", misc_ones, NULL), GP_STATUS);
}

/* The machine's MSR names include the MCA table's, per bank. */
static void mca_msr_names_come_from_the_table(void **state)
{
  (void)state;
  assert_string_equal(msr_name(0x17a), "IA32_MCG_STATUS");
  assert_string_equal(msr_name(MCA_BANK_MSR(2, 1)), "IA32_MC2_STATUS");
  assert_string_equal(msr_name(MCA_BANK_MSR(7, 3)), "IA32_MC7_MISC");
  assert_string_equal(msr_name(MCA_BANK_MSR(MCA_MAX_BANKS, 0)), "unknown");
  assert_string_equal(msr_name(0x10), "IA32_TSC");
}

/* ---- injected machine checks --------------------------------------------------- */

#define AT 2000   /* well after the guests' set-up */

/* The #MC handler stores ESP, MCG_STATUS, MC1_STATUS and MC1_ADDR into
 * results 0-3 and exits with 12H. */
static void mc_handler(struct guest *g)
{
  uint32_t keep = g->at;
  g->at = HANDLER;
  EMIT(g, 0x89, 0x25, U32(RESULT));                   /* mov [RESULT], esp */
  rdmsr_to(g, MSR_IA32_MCG_STATUS, RESULT + 8);
  rdmsr_to(g, MCA_BANK_MSR(1, 1), RESULT + 16);
  rdmsr_to(g, MCA_BANK_MSR(1, 2), RESULT + 24);
  exit_with(g, VEC_MC);
  g->at = keep;
}

static const struct mca_injection uc_bank1 = {
  .at = AT, .bank = 1, .addr = 0x123000, .mcg_status = MCG_STATUS_RIPV,
  .status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC | MCI_STATUS_ADDRV | 0x1};

/* "Interrupt 18—Machine-Check Exception (#MC)": no error code (the frame
 * is EIP, CS, EFLAGS), the error in its bank, MCG_STATUS with MCIP and the
 * error's RIPV. */
static void mca_uc_error_delivers_mc_without_error_code(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  mc_handler(&g);
  cr4_mce(&g);
  EMIT(&g, 0xeb, 0xfe);
  struct machine *m = run_on(&g, "skylake-x", &uc_bank1, 1);
  uint64_t esp = result(m, 0), mcg = result(m, 1), st = result(m, 2), addr = result(m, 3);
  assert_int_equal(debug_exit_status(m), MC_STATUS);
  assert_int_equal(esp, STACK_TOP - 12);
  assert_int_equal(mcg, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
  assert_int_equal(st, uc_bank1.status);
  assert_int_equal(addr, 0x123000);
}

/* "Machine-Check Initialization": CR4.MCE = 0: the processor shuts down. */
static void mca_cr4_mce_clear_shuts_down(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  mc_handler(&g);
  EMIT(&g, 0xeb, 0xfe);
  struct machine *m = run_on(&g, "skylake-x", &uc_bank1, 1);
  assert_int_equal(m->stop, STOP_SHUTDOWN);
  assert_non_null(strstr(m->stop_detail, "CR4.MCE = 0"));
  assert_int_equal(m->mca.bank[1].status, uc_bank1.status);
  machine_destroy(m);
}

/* Two errors; the handler counts, clears MCG_STATUS when `clear`, and
 * returns (IRET) the first time; the second time it exits with the count. */
static struct machine *two_machine_checks(bool clear)
{
  struct guest g;
  start(&g);
  uint32_t keep = g.at;
  g.at = HANDLER;
  EMIT(&g, 0xff, 0x05, U32(RESULT));                  /* inc dword [RESULT] */
  EMIT(&g, 0x83, 0x3d, U32(RESULT), 0x02);            /* cmp dword [RESULT], 2 */
  EMIT(&g, 0x75, 0x06);                               /* jne +6 */
  EMIT(&g, 0xb0, 0x02, 0xe6, 0xf4, 0xeb, 0xfe);       /* mov al, 2; out 0xf4, al; jmp $ */
  if (clear) wrmsr(&g, MSR_IA32_MCG_STATUS, 0, 0);
  EMIT(&g, 0xcf);                                     /* iret */
  g.at = keep;
  cr4_mce(&g);
  EMIT(&g, 0xeb, 0xfe);
  struct mca_injection two[2] = {uc_bank1, uc_bank1};
  two[1].at = 2 * AT;
  two[1].bank = 2;
  return run_on(&g, "skylake-x", two, 2);
}

/* "IA32_MCG_STATUS MSR": "The occurrence of a second Machine-Check Event
 * while MCIP is set will cause the processor to enter a shutdown state". */
static void mca_second_mc_while_mcip_shuts_down(void **state)
{
  (void)state;
  struct machine *m = two_machine_checks(false);
  assert_int_equal(m->stop, STOP_SHUTDOWN);
  assert_non_null(strstr(m->stop_detail, "MCIP = 1"));
  assert_int_equal(result(m, 0), 1);
  machine_destroy(m);
}

static void mca_second_mc_after_mcip_cleared_is_delivered(void **state)
{
  (void)state;
  assert_int_equal(debug_exit_status(two_machine_checks(true)), (2 << 1) | 1);
}

/* A guest that polls MC1_STATUS until VAL is set and exits with 55H;
 * #MC exits 12H. */
static int poll_guest(const char *cpu, void (*setup)(struct guest *g), const struct mca_injection *e,
                      uint64_t *status)
{
  struct guest g;
  start(&g);
  mc_handler(&g);
  cr4_mce(&g);
  if (setup) setup(&g);
  uint32_t loop = g.at;
  EMIT(&g, 0xb9, U32(MCA_BANK_MSR(1, 1)), 0x0f, 0x32);   /* mov ecx, MC1_STATUS; rdmsr */
  EMIT(&g, 0x85, 0xd2, 0x79, (uint8_t)(loop - (g.at + 4)));  /* test edx, edx; jns loop */
  EMIT(&g, 0xa3, U32(RESULT + 16), 0x89, 0x15, U32(RESULT + 20));
  exit_with(&g, 0x55);
  struct machine *m = run_on(&g, cpu, e, 1);
  *status = m->mca.bank[1].status;
  return debug_exit_status(m);
}

/* A corrected error (UC = 0), or one whose signaling is not enabled (EN =
 * 0), is logged and signals no #MC ("IA32_MCi_STATUS MSRS"). */
static void mca_corrected_or_disabled_error_logged_without_mc(void **state)
{
  (void)state;
  uint64_t st;
  struct mca_injection corrected = uc_bank1, disabled = uc_bank1;
  corrected.status &= ~(MCI_STATUS_UC | MCI_STATUS_PCC);
  disabled.status &= ~MCI_STATUS_EN;
  assert_int_equal(poll_guest("skylake-x", NULL, &corrected, &st), OK_STATUS);
  assert_int_equal(st, corrected.status);
  assert_int_equal(poll_guest("skylake-x", NULL, &disabled, &st), OK_STATUS);
  assert_int_equal(st, disabled.status);
  assert_int_equal(poll_guest("skylake-x", NULL, &uc_bank1, &st), MC_STATUS);
}

static void enable_all_banks(struct guest *g) { wrmsr(g, MSR_IA32_MCG_CTL, 0xffffffffu, 0xffffffffu); }
static void enable_bank0_only(struct guest *g) { wrmsr(g, MSR_IA32_MCG_CTL, 0, 1); }

/* AMD APM Vol. 2, "Machine-Check Global-Control Register (MCG_CTL)": bit
 * i enables bank i's reporting; a disabled bank still logs. */
static void mca_amd_mcg_ctl_bank_bit_gates_mc(void **state)
{
  (void)state;
  uint64_t st;
  assert_int_equal(poll_guest("zen", enable_all_banks, &uc_bank1, &st), MC_STATUS);
  assert_int_equal(poll_guest("zen", enable_bank0_only, &uc_bank1, &st), OK_STATUS);
  assert_int_equal(st, uc_bank1.status);
}

/* "Overwrite Rules for Machine Check Errors": an uncorrected error
 * replaces a corrected one, not the reverse; OVER is set either way. */
static void mca_overwrite_uncorrected_replaces_corrected(void **state)
{
  (void)state;
  struct mca_injection corrected = uc_bank1, uc_disabled = uc_bank1;
  corrected.status = MCI_STATUS_VAL | MCI_STATUS_EN | MCI_STATUS_ADDRV | 0x2;
  corrected.addr = 0x5000;
  uc_disabled.status &= ~MCI_STATUS_EN;
  uc_disabled.at = AT + 10;

  struct guest g;
  start(&g);
  EMIT(&g, 0xeb, 0xfe);
  struct mca_injection first_corrected[2] = {corrected, uc_disabled};
  struct machine *m = run_on(&g, "skylake-x", first_corrected, 2);
  assert_int_equal(m->mca.bank[1].status, uc_disabled.status | MCI_STATUS_OVER);
  assert_int_equal(m->mca.bank[1].addr, uc_disabled.addr);
  machine_destroy(m);

  corrected.at = AT + 10;
  uc_disabled.at = AT;
  struct mca_injection first_uncorrected[2] = {uc_disabled, corrected};
  m = run_on(&g, "skylake-x", first_uncorrected, 2);
  assert_int_equal(m->mca.bank[1].status, uc_disabled.status | MCI_STATUS_OVER);
  assert_int_equal(m->mca.bank[1].addr, uc_disabled.addr);
  machine_destroy(m);
}

/* HLT with IF = 1 and no timer: the #MC ends the halt ("HLT"), the saved
 * EIP is after the HLT; a corrected error before it does not end the halt
 * (the guest would exit 77H right after the HLT); without an injection the
 * run ends halted. */
static void mca_mc_wakes_halted_vcpu(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  uint32_t keep = g.at;
  g.at = HANDLER;
  EMIT(&g, 0x58, 0xa3, U32(RESULT));                  /* pop eax; mov [RESULT], eax */
  exit_with(&g, VEC_MC);
  g.at = keep;
  cr4_mce(&g);
  EMIT(&g, 0xfb, 0xf4);                               /* sti; hlt */
  uint32_t after_hlt = g.at;
  exit_with(&g, 0x77);
  struct machine *m = run_on(&g, "skylake-x", &uc_bank1, 1);
  uint64_t eip = result(m, 0);
  assert_int_equal(debug_exit_status(m), MC_STATUS);
  assert_int_equal((uint32_t)eip, after_hlt);
  struct mca_injection corrected_then_uc[2] = {uc_bank1, uc_bank1};
  corrected_then_uc[0].status &= ~(MCI_STATUS_UC | MCI_STATUS_PCC);
  corrected_then_uc[0].bank = 2;
  corrected_then_uc[1].at = 2 * AT;
  m = run_on(&g, "skylake-x", corrected_then_uc, 2);
  eip = result(m, 0);
  assert_int_equal(m->mca.bank[2].status, corrected_then_uc[0].status);
  assert_int_equal(debug_exit_status(m), MC_STATUS);
  assert_int_equal((uint32_t)eip, after_hlt);
  m = run_on(&g, "skylake-x", NULL, 0);
  assert_int_equal(m->stop, STOP_HALTED);
  machine_destroy(m);
}

/* The same injection, the same run: the #MC comes at the same virtual time. */
static void mca_injection_is_deterministic(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  mc_handler(&g);
  cr4_mce(&g);
  EMIT(&g, 0x40, 0xeb, 0xfd);                         /* 1: inc eax; jmp 1b */
  uint64_t insns[2];
  for (int i = 0; i < 2; i++) {
    struct machine *m = run_on(&g, "skylake-x", &uc_bank1, 1);
    insns[i] = m->insns;
    assert_int_equal(debug_exit_status(m), MC_STATUS);
  }
  assert_int_equal(insns[0], insns[1]);
  assert_true(insns[0] >= AT);
}

/* ---- the --mce syntax and its checks against the CPU model ------------------------- */

static void mca_parse_full_spec_sets_addrv_miscv(void **state)
{
  (void)state;
  struct mca_injection e;
  char err[200];
  assert_true(mca_parse_injection("at=100,bank=3,status=0xa000000000000002,addr=0x1000,misc=7,ripv,eipv", &e, err,
                                  sizeof err));
  assert_int_equal(e.at, 100);
  assert_int_equal(e.bank, 3);
  assert_int_equal(e.status, 0xa000000000000002ull | MCI_STATUS_ADDRV | MCI_STATUS_MISCV);
  assert_int_equal(e.addr, 0x1000);
  assert_int_equal(e.misc, 7);
  assert_int_equal(e.mcg_status, MCG_STATUS_RIPV | MCG_STATUS_EIPV);
  assert_false(e.vm_entry);
  assert_true(mca_parse_injection("at=5,vmentry", &e, err, sizeof err));
  assert_true(e.vm_entry);
  assert_int_equal(e.status, 0xb200000000000001ull);
}

static void mca_parse_rejects_bad_specs(void **state)
{
  (void)state;
  static const char *const bad[] = {
    "",                                  /* no at= */
    "bank=1",                            /* no at= */
    "at=x",                              /* not a number */
    "at=-1",
    "at=1,status=0x2000000000000000",    /* VAL clear */
    "at=1,status=0xc000000000000000",    /* OVER given */
    "at=1,bank=8",                       /* beyond any model */
    "at=1,colour=red",
    "at=1,ripv=1",
  };
  struct mca_injection e;
  char err[200];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = 0;
    if (mca_parse_injection(bad[i], &e, err, sizeof err)) fail_msg("accepted '%s'", bad[i]);
    assert_true(err[0] != 0);
  }
}

static void mca_machine_rejects_bank_beyond_model_and_vmentry_without_vmx(void **state)
{
  (void)state;
  struct guest g;
  start(&g);
  char err[256];
  struct mca_injection e = uc_bank1;
  e.bank = 4;
  struct machine_options opt = {.cpu = cpu_model_find("skylake-x"), .ram_size = 4u << 20, .mce = &e, .mce_count = 1};
  assert_null(machine_create(&opt, g.file, sizeof g.file, err, sizeof err));
  assert_non_null(strstr(err, "4 machine-check banks"));
  e.bank = 3;
  struct machine *m = machine_create(&opt, g.file, sizeof g.file, err, sizeof err);
  assert_non_null(m);
  machine_destroy(m);
  e.vm_entry = true;
  opt.cpu = cpu_model_find("zen");
  assert_null(machine_create(&opt, g.file, sizeof g.file, err, sizeof err));
  assert_non_null(strstr(err, "no VMX"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(mca_mcg_cap_reports_model_banks_and_ctl_p),
    cmocka_unit_test(mca_cpuid_mce_and_mca_agree_with_banks),
    cmocka_unit_test(mca_mcg_cap_write_raises_gp),
    cmocka_unit_test(mca_mcg_status_defined_bits_write_reserved_gp),
    cmocka_unit_test(mca_mcg_ctl_exists_only_with_ctl_p),
    cmocka_unit_test(mca_mci_ctl_any_value_bank_beyond_count_gp),
    cmocka_unit_test(mca_mci_status_addr_misc_write_zero_only),
    cmocka_unit_test(mca_msr_names_come_from_the_table),
    cmocka_unit_test(mca_uc_error_delivers_mc_without_error_code),
    cmocka_unit_test(mca_cr4_mce_clear_shuts_down),
    cmocka_unit_test(mca_second_mc_while_mcip_shuts_down),
    cmocka_unit_test(mca_second_mc_after_mcip_cleared_is_delivered),
    cmocka_unit_test(mca_corrected_or_disabled_error_logged_without_mc),
    cmocka_unit_test(mca_amd_mcg_ctl_bank_bit_gates_mc),
    cmocka_unit_test(mca_overwrite_uncorrected_replaces_corrected),
    cmocka_unit_test(mca_mc_wakes_halted_vcpu),
    cmocka_unit_test(mca_injection_is_deterministic),
    cmocka_unit_test(mca_parse_full_spec_sets_addrv_miscv),
    cmocka_unit_test(mca_parse_rejects_bad_specs),
    cmocka_unit_test(mca_machine_rejects_bank_beyond_model_and_vmentry_without_vmx),
  };
  return cmocka_run_group_tests_name("machine_mca", tests, NULL, NULL);
}
