/* Intercept decisions and exit information of the SVM model
 * (models/svm/svm_exits.h) against AMD APM Vol. 2: "MSR Intercepts" (the
 * MSR permission map), "I/O Intercepts" (the I/O permission map and IOIO
 * EXITINFO1), "Decode Assists" (CR/DR/INVLPG/INTn EXITINFO1), "Exception
 * Intercepts" (error code, #PF address), "Next RIP" and "#VMEXIT"
 * (EXITINTINFO, NRIP, G_PAT). Each rule has a case that produces the exit
 * and one that must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/svm/svm_test_vmcb.h"
#include "models/svm/svm_exits.h"

#define RAM_SIZE  0x20000u
#define MSRPM_PA  0x4000u    /* 8 KiB */
#define IOPM_PA   0x8000u    /* 12 KiB */
#define HSAVE_PA  0x1000u
#define VMCB_PA   0x2000u

static uint8_t ram[RAM_SIZE];

static bool ram_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
  if (pa > RAM_SIZE || len > RAM_SIZE - pa) return false;
  memcpy(buf, ram + pa, len);
  return true;
}

static bool ram_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  if (pa > RAM_SIZE || len > RAM_SIZE - pa) return false;
  memcpy(ram + pa, buf, len);
  return true;
}

static void no_invlpga(void *ctx, uint64_t va, uint32_t asid) {}

static const struct svm_machine machine = {NULL, ram_read, ram_write, no_invlpga};
static struct svm_vmcb vmcb;

/* A control area with the MSR and I/O maps in RAM, both all-zero. */
static struct svm_vmcb_control *maps_setup(bool msr_prot, bool ioio_prot)
{
  memset(ram, 0, sizeof ram);
  memset(&vmcb, 0, sizeof vmcb);
  vmcb.control.msrpm_base_pa = MSRPM_PA | 0xABC;  /* bits 11:0 are ignored */
  vmcb.control.iopm_base_pa = IOPM_PA | 0x123;
  svm_intercept_set(&vmcb, SVM_INTERCEPT_MSR_PROT, msr_prot);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_IOIO_PROT, ioio_prot);
  return &vmcb.control;
}

static void set_ram_bit(uint64_t pa, uint32_t bit) { ram[pa + bit / 8] |= (uint8_t)(1u << (bit % 8)); }

/* The model with decode assists (zen2). */
static struct svm_features with_decode_assists(void) { return svm_features_zen2; }

/* ---- intercept bits ---------------------------------------------------- */

static void svm_ctl_intercepts_bit_set_intercepts(void **state)
{
  memset(&vmcb, 0, sizeof vmcb);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_CPUID, true);
  assert_true(svm_ctl_intercepts(&vmcb.control, SVM_INTERCEPT_CPUID));
  /* the neighbours in the same word stay clear */
  assert_false(svm_ctl_intercepts(&vmcb.control, SVM_INTERCEPT_POPF));
  assert_false(svm_ctl_intercepts(&vmcb.control, SVM_INTERCEPT_RSM));
  assert_false(svm_ctl_intercepts(&vmcb.control, SVM_INTERCEPT_HLT));
}

/* ---- PAUSE ("Pause Intercept Filtering") ------------------------------- */

static void svm_pause_filter_counts_down_then_exits(void **state)
{
  memset(&vmcb, 0, sizeof vmcb);
  vmcb.control.pause_filter_count = 2;
  struct svm_pause_filter p;
  svm_pause_filter_load(&p, &vmcb.control);
  assert_false(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 0));   /* not intercepted */
  assert_int_equal(p.count, 2);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_PAUSE, true);
  assert_false(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 1));
  assert_false(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 2));
  assert_int_equal(p.count, 0);
  assert_true(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 3));    /* found at 0 */
  assert_true(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 4));    /* and stays */
}

static void svm_pause_without_filter_feature_always_exits(void **state)
{
  memset(&vmcb, 0, sizeof vmcb);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_PAUSE, true);
  vmcb.control.pause_filter_count = 5;
  struct svm_pause_filter p;
  svm_pause_filter_load(&p, &vmcb.control);
  assert_true(svm_pause_exits(&svm_features_epyc_qemu, &vmcb.control, &p, 0));
  assert_int_equal(p.count, 5);
}

/* Threshold ("Pause Intercept Filtering", zen2 offers Fn8000_000A EDX bit
 * 12): a PAUSE more than PAUSE_FILTER_THRESHOLD cycles after the previous
 * one reloads the count from PAUSE_FILTER_COUNT before the decrement. */
static void svm_pause_threshold_gap_reloads_count(void **state)
{
  memset(&vmcb, 0, sizeof vmcb);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_PAUSE, true);
  vmcb.control.pause_filter_count = 2;
  vmcb.control.pause_filter_threshold = 100;
  struct svm_pause_filter p;
  svm_pause_filter_load(&p, &vmcb.control);
  assert_false(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 1000));
  assert_false(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 1100));  /* exactly 100: no reload */
  assert_int_equal(p.count, 0);
  /* 101 cycles later: reloaded to 2, then decremented, no exit */
  assert_false(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 1201));
  assert_int_equal(p.count, 1);
  assert_false(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 1202));
  assert_true(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 1203));   /* a tight loop exits */
}

/* Negative cases: threshold 0 disables the reload, and so does a CPU
 * without the threshold feature (ryzen), whatever the VMCB field says. */
static void svm_pause_threshold_zero_or_absent_never_reloads(void **state)
{
  memset(&vmcb, 0, sizeof vmcb);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_PAUSE, true);
  vmcb.control.pause_filter_count = 1;
  struct svm_pause_filter p;
  svm_pause_filter_load(&p, &vmcb.control);
  assert_false(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 0));
  assert_true(svm_pause_exits(&svm_features_zen2, &vmcb.control, &p, 1000000));
  vmcb.control.pause_filter_threshold = 10;
  svm_pause_filter_load(&p, &vmcb.control);
  assert_false(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 0));
  assert_true(svm_pause_exits(&svm_features_ryzen, &vmcb.control, &p, 1000000));
}

/* ---- MSR permission map ------------------------------------------------ */

static void svm_msrpm_ranges_map_to_their_vectors(void **state)
{
  uint32_t bit;
  assert_true(svm_msrpm_bit(0x00000000u, &bit)); assert_int_equal(bit, 0);
  assert_true(svm_msrpm_bit(0x00001FFFu, &bit)); assert_int_equal(bit, 0x1FFF * 2);
  assert_true(svm_msrpm_bit(0xC0000080u, &bit)); assert_int_equal(bit, 0x800 * 8 + 0x80 * 2);
  assert_true(svm_msrpm_bit(0xC0010117u, &bit)); assert_int_equal(bit, 0x1000 * 8 + 0x117 * 2);
  assert_true(svm_msrpm_bit(0xC0011FFFu, &bit)); assert_int_equal(bit, 0x1000 * 8 + 0x1FFF * 2);
}

static void svm_msrpm_outside_ranges_unmapped(void **state)
{
  uint32_t bit;
  assert_false(svm_msrpm_bit(0x00002000u, &bit));
  assert_false(svm_msrpm_bit(0xBFFFFFFFu, &bit));
  assert_false(svm_msrpm_bit(0xC0002000u, &bit));
  assert_false(svm_msrpm_bit(0xC0012000u, &bit));
}

static void svm_msr_read_bit_set_intercepts_read_only(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(true, false);
  uint32_t bit;
  assert_true(svm_msrpm_bit(0xC0000080u, &bit));
  set_ram_bit(MSRPM_PA, bit);
  assert_true(svm_msr_intercepted(c, &machine, 0xC0000080u, false));
  assert_false(svm_msr_intercepted(c, &machine, 0xC0000080u, true));
  assert_false(svm_msr_intercepted(c, &machine, 0xC0000081u, false));
}

static void svm_msr_write_bit_set_intercepts_write_only(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(true, false);
  uint32_t bit;
  assert_true(svm_msrpm_bit(0x174u, &bit));
  set_ram_bit(MSRPM_PA, bit + 1);
  assert_true(svm_msr_intercepted(c, &machine, 0x174u, true));
  assert_false(svm_msr_intercepted(c, &machine, 0x174u, false));
}

static void svm_msr_outside_map_always_intercepted(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(true, false);
  assert_true(svm_msr_intercepted(c, &machine, 0x00002000u, false));
  assert_true(svm_msr_intercepted(c, &machine, 0xC0012000u, true));
  assert_false(svm_msr_intercepted(c, &machine, 0x10u, false));   /* mapped, bit clear */
}

static void svm_msr_prot_clear_never_intercepts(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(false, false);
  memset(ram + MSRPM_PA, 0xFF, SVM_MSRPM_SIZE);
  assert_false(svm_msr_intercepted(c, &machine, 0xC0000080u, false));
  assert_false(svm_msr_intercepted(c, &machine, 0x00002000u, true));
}

static void svm_msr_unreadable_map_intercepts(void **state)
{
  struct svm_vmcb_control *c = maps_setup(true, false);
  c->msrpm_base_pa = RAM_SIZE + 0x1000;
  assert_true(svm_msr_intercepted(c, &machine, 0x10u, false));
}

/* ---- I/O permission map ------------------------------------------------ */

static void svm_io_port_bit_set_intercepts(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(false, true);
  set_ram_bit(IOPM_PA, 0x80);
  assert_true(svm_io_intercepted(c, &machine, 0x80, 1));
  assert_false(svm_io_intercepted(c, &machine, 0x81, 1));
  assert_false(svm_io_intercepted(c, &machine, 0x7F, 1));
}

static void svm_io_multibyte_access_checks_every_port(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(false, true);
  set_ram_bit(IOPM_PA, 0x80);
  assert_true(svm_io_intercepted(c, &machine, 0x7F, 2));
  assert_true(svm_io_intercepted(c, &machine, 0x7D, 4));
  assert_false(svm_io_intercepted(c, &machine, 0x7C, 4));
  assert_false(svm_io_intercepted(c, &machine, 0x7E, 2));
}

static void svm_io_access_past_port_ffff_uses_map_tail(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(false, true);
  set_ram_bit(IOPM_PA, 0x10001);   /* beyond the 64 Ki ports: the 12 KiB map's tail */
  assert_true(svm_io_intercepted(c, &machine, 0xFFFF, 4));
  assert_false(svm_io_intercepted(c, &machine, 0xFFFF, 1));
}

static void svm_io_ioio_prot_clear_never_intercepts(void **state)
{
  const struct svm_vmcb_control *c = maps_setup(false, false);
  memset(ram + IOPM_PA, 0xFF, SVM_IOPM_SIZE);
  assert_false(svm_io_intercepted(c, &machine, 0x80, 1));
}

static void svm_ioio_exitinfo1_out_imm8_64bit(void **state)
{
  struct svm_ioio io = {.port = 0x80, .size = 1, .addr_bits = 64};
  assert_int_equal(svm_ioio_exitinfo1(&svm_features_ryzen, &io), 0x80ull << 16 | SVM_IOIO_SZ8 | SVM_IOIO_A64);
}

static void svm_ioio_exitinfo1_in_dx_32bit_address(void **state)
{
  struct svm_ioio io = {.port = 0x3F8, .size = 4, .in = true, .addr_bits = 32};
  assert_int_equal(svm_ioio_exitinfo1(&svm_features_ryzen, &io),
                   0x3F8ull << 16 | SVM_IOIO_TYPE_IN | SVM_IOIO_SZ32 | SVM_IOIO_A32);
  io = (struct svm_ioio){.port = 0x60, .size = 2, .in = true, .addr_bits = 16};
  assert_int_equal(svm_ioio_exitinfo1(&svm_features_ryzen, &io),
                   0x60ull << 16 | SVM_IOIO_TYPE_IN | SVM_IOIO_SZ16 | SVM_IOIO_A16);
}

static void svm_ioio_exitinfo1_rep_outs_segment_only_with_decode_assists(void **state)
{
  struct svm_ioio io = {.port = 0x1F0, .size = 2, .string = true, .rep = true, .addr_bits = 64, .seg = 4 /* FS */};
  uint64_t base = 0x1F0ull << 16 | SVM_IOIO_STR | SVM_IOIO_REP | SVM_IOIO_SZ16 | SVM_IOIO_A64;
  assert_int_equal(svm_ioio_exitinfo1(&svm_features_ryzen, &io), base);
  struct svm_features da = with_decode_assists();
  assert_int_equal(svm_ioio_exitinfo1(&da, &io), base | 4ull << SVM_IOIO_SEG_SHIFT);
}

/* ---- decode assists ---------------------------------------------------- */

static void svm_cr_exitinfo1_decode_assists_names_gpr(void **state)
{
  struct svm_features da = with_decode_assists();
  assert_int_equal(svm_cr_exitinfo1(&da, true, 11), SVM_CR_EXITINFO1_MOV | 11);
  assert_int_equal(svm_cr_exitinfo1(&da, false, 0), 0);   /* LMSW/CLTS: bit 63 clear */
  assert_int_equal(svm_dr_exitinfo1(&da, 7), 7);
  assert_int_equal(svm_decode_assist_value(&da, 0xFFFF800000001000ull), 0xFFFF800000001000ull);
}

static void svm_cr_exitinfo1_without_decode_assists_zero(void **state)
{
  assert_int_equal(svm_cr_exitinfo1(&svm_features_ryzen, true, 11), 0);
  assert_int_equal(svm_dr_exitinfo1(&svm_features_ryzen, 7), 0);
  assert_int_equal(svm_decode_assist_value(&svm_features_epyc_qemu, 0x1000), 0);
}

/* Instruction bytes: a data #NPF or #PF on a CPU with decode assists; not
 * an instruction fetch (I/D, bit 4), not any other exit, not without the
 * feature. */
static void svm_exit_has_insn_bytes_data_faults_only(void **state)
{
  const struct svm_features *da = &svm_features_zen2;
  assert_true(svm_exit_has_insn_bytes(da, SVM_EXIT_NPF, 0x100000004ull));
  assert_true(svm_exit_has_insn_bytes(da, SVM_EXIT_EXCP_PF, 0x2));
  assert_false(svm_exit_has_insn_bytes(da, SVM_EXIT_NPF, 0x100000014ull));   /* fetch */
  assert_false(svm_exit_has_insn_bytes(da, SVM_EXIT_EXCP_PF, 0x11));        /* fetch */
  assert_false(svm_exit_has_insn_bytes(da, SVM_EXIT_EXCP_GP, 0));
  assert_false(svm_exit_has_insn_bytes(da, SVM_EXIT_CPUID, 0));
  assert_false(svm_exit_has_insn_bytes(&svm_features_ryzen, SVM_EXIT_NPF, 0x100000004ull));
  assert_false(svm_exit_has_insn_bytes(&svm_features_epyc_qemu, SVM_EXIT_EXCP_PF, 0x2));
}

/* A fake guest address space for svm_fetch_insn_bytes: bytes are the low
 * byte of their address, readable in [readable_lo, readable_hi). */
struct fake_code { uint64_t readable_lo, readable_hi; uint64_t seen[16]; unsigned n; };

static bool fake_fetch(void *ctx, uint64_t la, uint8_t *byte)
{
  struct fake_code *c = ctx;
  if (c->n < 16) c->seen[c->n++] = la;
  if (la < c->readable_lo || la >= c->readable_hi) return false;
  *byte = (uint8_t)la;
  return true;
}

static void svm_fetch_insn_bytes_fifteen_then_stops_at_unreadable(void **state)
{
  struct svm_exit e = {0};
  struct fake_code all = {.readable_lo = 0x1000, .readable_hi = 0x2000};
  svm_fetch_insn_bytes(&e, fake_fetch, &all, 0x1010, true);
  assert_int_equal(e.insn_len, 15);
  for (unsigned i = 0; i < 15; i++) assert_int_equal(e.insn_bytes[i], (uint8_t)(0x10 + i));
  /* the page after 0x1FFA is not readable: 6 bytes */
  struct fake_code edge = {.readable_lo = 0x1000, .readable_hi = 0x2000};
  svm_fetch_insn_bytes(&e, fake_fetch, &edge, 0x1FFA, true);
  assert_int_equal(e.insn_len, 6);
  /* the first byte unreadable (an instruction-fetch fault): none */
  struct fake_code none = {.readable_lo = 0x1000, .readable_hi = 0x2000};
  svm_fetch_insn_bytes(&e, fake_fetch, &none, 0x3000, true);
  assert_int_equal(e.insn_len, 0);
}

static void svm_fetch_insn_bytes_wraps_at_4gib_outside_long_mode(void **state)
{
  struct svm_exit e = {0};
  struct fake_code c = {.readable_lo = 0, .readable_hi = UINT64_MAX};
  svm_fetch_insn_bytes(&e, fake_fetch, &c, 0xFFFFFFFEull, false);
  assert_int_equal(e.insn_len, 15);
  assert_int_equal(c.seen[1], 0xFFFFFFFFull);
  assert_int_equal(c.seen[2], 0);
  struct fake_code l = {.readable_lo = 0, .readable_hi = UINT64_MAX};
  svm_fetch_insn_bytes(&e, fake_fetch, &l, 0xFFFFFFFEull, true);
  assert_int_equal(l.seen[2], 0x100000000ull);
}

/* ---- task switches ----------------------------------------------------- */

static void svm_task_switch_exit_reports_selector_and_source(void **state)
{
  struct svm_exit e = svm_task_switch_exit(0x28, SVM_TS_IRET, false, 0, false);
  assert_int_equal(e.code, SVM_EXIT_TASK_SWITCH);
  assert_int_equal(e.info1, 0x28);
  assert_int_equal(e.info2, 1ull << 36);
  assert_false(e.has_nrip);
  e = svm_task_switch_exit(0x30, SVM_TS_JMP, false, 0, true);
  assert_int_equal(e.info2, 1ull << 38 | 1ull << 48);
  /* a fault through a task gate: neither IRET nor JMP, its error code */
  e = svm_task_switch_exit(0x38, SVM_TS_CALL_OR_GATE, true, 0x1234, false);
  assert_int_equal(e.info1, 0x38);
  assert_int_equal(e.info2, 1ull << 44 | 0x1234);
  e = svm_task_switch_exit(0x38, SVM_TS_CALL_OR_GATE, false, 0x1234, false);
  assert_int_equal(e.info2, 0);   /* no error code: none reported */
}

/* ---- exceptions -------------------------------------------------------- */

static void svm_exception_pf_error_code_and_address(void **state)
{
  struct svm_exit e = svm_exception_exit(14, true, 0x6, 0xDEAD000);
  assert_int_equal(e.code, SVM_EXIT_EXCP_PF);
  assert_int_equal(e.info1, 0x6);
  assert_int_equal(e.info2, 0xDEAD000);
  assert_false(e.has_nrip);
}

static void svm_exception_without_error_code_info_zero(void **state)
{
  struct svm_exit e = svm_exception_exit(6, false, 0x1234, 0xDEAD000);
  assert_int_equal(e.code, SVM_EXIT_EXCP_UD);
  assert_int_equal(e.info1, 0);
  assert_int_equal(e.info2, 0);   /* only #PF reports an address */
  e = svm_exception_exit(13, true, 0x18, 0xDEAD000);
  assert_int_equal(e.code, SVM_EXIT_EXCP_GP);
  assert_int_equal(e.info1, 0x18);
  assert_int_equal(e.info2, 0);
}

static void svm_event_encode_exception_with_error_code(void **state)
{
  assert_int_equal(svm_event_encode(13, SVM_EVENT_EXCEPTION, true, 0x10),
                   0x10ull << 32 | SVM_EVENT_V | SVM_EVENT_EV | 3u << 8 | 13);
  assert_int_equal(svm_event_encode(0x20, SVM_EVENT_INTR, false, 0x10), SVM_EVENT_V | 0x20);
}

/* ---- #VMEXIT: NRIP, EXITINTINFO, G_PAT --------------------------------- */

static struct cpu_state cpu;
static struct svm_vcpu vcpu;

/* A 64-bit host that has VMRUN a nested-paging guest (VMCB at VMCB_PA). */
static void enter_guest(const struct svm_features *f)
{
  memset(ram, 0, sizeof ram);
  memset(&cpu, 0, sizeof cpu);
  svm_vcpu_reset(&vcpu, &cpu, f);
  cpu.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME;
  cpu.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  cpu.cr3 = 0x9000;
  cpu.cr4 = CR4_PAE;
  cpu.rflags = RFLAGS_FIXED1;
  cpu.gpr[GPR_RAX] = VMCB_PA;
  cpu.pat = 0x0007040600070406ull;
  cpu.seg[SEG_CS] = (struct segment){0x08, 0, 0xFFFFFFFF, 0x209B};
  cpu.seg[SEG_SS] = (struct segment){0x10, 0, 0xFFFFFFFF, 0xC093};
  vcpu.msrs.vm_hsave_pa = HSAVE_PA;
  struct svm_vmcb *g = (struct svm_vmcb *)(ram + VMCB_PA);
  svm_test_baseline(g, f);
  g->save.g_pat = 0x0606060606060606ull;
  assert_int_equal(svm_vmrun(&vcpu, &machine, 0x100003).outcome, SVM_DONE);
  assert_int_equal(cpu.pat, 0x0606060606060606ull);
}

static void svm_vmexit_non_instruction_exit_nrip_zero(void **state)
{
  enter_guest(&svm_features_ryzen);
  struct svm_vmcb *g = (struct svm_vmcb *)(ram + VMCB_PA);
  g->control.nrip = 0x5555;
  struct svm_exit e = {.code = SVM_EXIT_NPF, .info1 = 0x100000004ull, .info2 = 0x7000, .nrip = 0x401005};
  assert_int_equal(svm_vmexit_ex(&vcpu, &machine, &e).outcome, SVM_VMEXITED);
  assert_int_equal(g->control.exitcode, SVM_EXIT_NPF);
  assert_int_equal(g->control.exitinfo1, 0x100000004ull);
  assert_int_equal(g->control.exitinfo2, 0x7000);
  assert_int_equal(g->control.nrip, 0);
}

static void svm_vmexit_instruction_exit_saves_nrip(void **state)
{
  enter_guest(&svm_features_ryzen);
  struct svm_exit e = {.code = SVM_EXIT_IOIO, .info2 = 0x401002, .nrip = 0x401002, .has_nrip = true};
  assert_int_equal(svm_vmexit_ex(&vcpu, &machine, &e).outcome, SVM_VMEXITED);
  assert_int_equal(((struct svm_vmcb *)(ram + VMCB_PA))->control.nrip, 0x401002);
}

static void svm_vmexit_writes_exitintinfo(void **state)
{
  enter_guest(&svm_features_ryzen);
  uint64_t intinfo = svm_event_encode(14, SVM_EVENT_EXCEPTION, true, 2);
  struct svm_exit e = {.code = SVM_EXIT_NPF, .intinfo = intinfo};
  assert_int_equal(svm_vmexit_ex(&vcpu, &machine, &e).outcome, SVM_VMEXITED);
  assert_int_equal(((struct svm_vmcb *)(ram + VMCB_PA))->control.exitintinfo, intinfo);
  enter_guest(&svm_features_ryzen);
  e.intinfo = 0;
  svm_vmexit_ex(&vcpu, &machine, &e);
  assert_int_equal(((struct svm_vmcb *)(ram + VMCB_PA))->control.exitintinfo, 0);
}

/* #VMEXIT on a CPU with decode assists writes the number of instruction
 * bytes (VMCB 0D0h) on every exit: the bytes for a data #NPF, zero for
 * others; without decode assists the field is left alone. */
static void svm_vmexit_insn_bytes_written_only_with_decode_assists(void **state)
{
  struct svm_vmcb *g = (struct svm_vmcb *)(ram + VMCB_PA);
  struct svm_exit npf = {.code = SVM_EXIT_NPF, .info1 = 0x100000004ull, .insn_len = 3, .insn_bytes = {0x8b, 0x04, 0x25}};
  enter_guest(&svm_features_zen2);
  memset(&g->control.insn_len, 0xAA, 16);
  assert_int_equal(svm_vmexit_ex(&vcpu, &machine, &npf).outcome, SVM_VMEXITED);
  assert_int_equal(g->control.insn_len, 3);
  assert_int_equal(g->control.insn_bytes[0], 0x8b);
  assert_int_equal(g->control.insn_bytes[2], 0x25);
  assert_int_equal(g->control.insn_bytes[3], 0xAA);   /* beyond the count: untouched */

  struct svm_exit hlt = {.code = SVM_EXIT_HLT};
  enter_guest(&svm_features_zen2);
  memset(&g->control.insn_len, 0xAA, 16);
  svm_vmexit_ex(&vcpu, &machine, &hlt);
  assert_int_equal(g->control.insn_len, 0);

  enter_guest(&svm_features_ryzen);
  memset(&g->control.insn_len, 0xAA, 16);
  svm_vmexit_ex(&vcpu, &machine, &npf);
  assert_int_equal(g->control.insn_len, 0xAA);
  assert_int_equal(g->control.insn_bytes[0], 0xAA);
}

static void svm_vmexit_nested_paging_restores_host_pat(void **state)
{
  enter_guest(&svm_features_ryzen);
  cpu.pat = 0x0404040404040404ull;   /* the guest changed its PAT */
  struct svm_exit e = {.code = SVM_EXIT_HLT};
  svm_vmexit_ex(&vcpu, &machine, &e);
  assert_int_equal(cpu.pat, 0x0007040600070406ull);
  assert_int_equal(((struct svm_vmcb *)(ram + VMCB_PA))->save.g_pat, 0x0404040404040404ull);
}

/* ---- interrupts ("Interrupt Masking in EFLAGS", "Interrupt Intercepts") -- */

static void svm_physical_interrupt_held_by_gif_and_masked_by_if(void **state)
{
  (void)state;
  memset(&vmcb, 0, sizeof vmcb);
  struct svm_vmcb_control *c = &vmcb.control;
  svm_intercept_set(&vmcb, SVM_INTERCEPT_INTR, true);
  assert_int_equal(svm_physical_interrupt(false, true, c, true, true), SVM_INTR_HELD);    /* GIF = 0 */
  assert_int_equal(svm_physical_interrupt(false, false, c, true, true), SVM_INTR_HELD);   /* GIF = 0, host */
  assert_int_equal(svm_physical_interrupt(true, false, c, true, false), SVM_INTR_DELIVER);
  assert_int_equal(svm_physical_interrupt(true, false, c, false, true), SVM_INTR_HELD);  /* host IF = 0 */
  /* V_INTR_MASKING = 0: the guest's IF masks physical interrupts. */
  assert_int_equal(svm_physical_interrupt(true, true, c, true, false), SVM_INTR_VMEXIT);
  assert_int_equal(svm_physical_interrupt(true, true, c, false, true), SVM_INTR_HELD);
  /* V_INTR_MASKING = 1: the host's IF does, whatever the guest's. */
  c->vintr = SVM_VINTR_V_INTR_MASKING;
  assert_int_equal(svm_physical_interrupt(true, true, c, false, true), SVM_INTR_VMEXIT);
  assert_int_equal(svm_physical_interrupt(true, true, c, true, false), SVM_INTR_HELD);
}

static void svm_physical_interrupt_without_intercept_goes_to_guest(void **state)
{
  (void)state;
  memset(&vmcb, 0, sizeof vmcb);
  struct svm_vmcb_control *c = &vmcb.control;
  svm_intercept_set(&vmcb, SVM_INTERCEPT_VINTR, true);                         /* not INTR */
  assert_int_equal(svm_physical_interrupt(true, true, c, true, false), SVM_INTR_DELIVER);
  assert_int_equal(svm_physical_interrupt(true, true, c, false, false), SVM_INTR_HELD);
}

/* NMIs ("Global Interrupt Flag, STGI and CLGI Instructions", "Interrupt
 * Intercepts"): GIF = 0 and blocking by NMI hold them, the intercept
 * included; in the guest the NMI intercept exits; RFLAGS.IF and
 * V_INTR_MASKING do not matter (the rule has no input for them). */
static void svm_nmi_held_by_gif_and_blocking_else_intercepted_or_delivered(void **state)
{
  (void)state;
  memset(&vmcb, 0, sizeof vmcb);
  struct svm_vmcb_control *c = &vmcb.control;
  assert_int_equal(svm_nmi(true, false, c, false), SVM_INTR_DELIVER);          /* host */
  assert_int_equal(svm_nmi(true, true, c, false), SVM_INTR_DELIVER);           /* guest, no intercept */
  svm_intercept_set(&vmcb, SVM_INTERCEPT_INTR, true);                         /* INTR is not NMI */
  assert_int_equal(svm_nmi(true, true, c, false), SVM_INTR_DELIVER);
  svm_intercept_set(&vmcb, SVM_INTERCEPT_NMI, true);
  assert_int_equal(svm_nmi(true, true, c, false), SVM_INTR_VMEXIT);
  assert_int_equal(svm_nmi(true, false, c, false), SVM_INTR_DELIVER);          /* the host is not intercepted */
  assert_int_equal(svm_nmi(false, true, c, false), SVM_INTR_HELD);             /* GIF = 0 */
  assert_int_equal(svm_nmi(false, false, c, false), SVM_INTR_HELD);
  assert_int_equal(svm_nmi(true, true, c, true), SVM_INTR_HELD);               /* blocking by NMI */
  assert_int_equal(svm_nmi(true, false, c, true), SVM_INTR_HELD);
}

/* SMI and INIT ("Global Interrupt Flag, STGI and CLGI Instructions",
 * "Interrupt Intercepts"): GIF = 0 holds them in host and guest; in the
 * guest each one's own intercept exits (62H, 63H, EXITINFO1/2 = 0), the
 * other's and NMI's do not; otherwise the processor acts on them. */
static void svm_smi_init_held_by_gif_else_intercepted_or_taken(void **state)
{
  (void)state;
  memset(&vmcb, 0, sizeof vmcb);
  struct svm_vmcb_control *c = &vmcb.control;
  const enum svm_signal sig[] = {SVM_SIGNAL_SMI, SVM_SIGNAL_INIT};
  const enum svm_intercept own[] = {SVM_INTERCEPT_SMI, SVM_INTERCEPT_INIT};
  const enum svm_intercept other[] = {SVM_INTERCEPT_INIT, SVM_INTERCEPT_SMI};
  const uint64_t code[] = {0x62, 0x63};
  for (unsigned i = 0; i < 2; i++) {
    memset(&vmcb, 0, sizeof vmcb);
    assert_int_equal(svm_signal(true, false, c, sig[i]), SVM_INTR_DELIVER);        /* host, GIF = 1 */
    assert_int_equal(svm_signal(true, true, c, sig[i]), SVM_INTR_DELIVER);         /* guest, no intercept */
    svm_intercept_set(&vmcb, other[i], true);
    svm_intercept_set(&vmcb, SVM_INTERCEPT_NMI, true);
    assert_int_equal(svm_signal(true, true, c, sig[i]), SVM_INTR_DELIVER);
    svm_intercept_set(&vmcb, own[i], true);
    assert_int_equal(svm_signal(true, true, c, sig[i]), SVM_INTR_VMEXIT);
    assert_int_equal(svm_signal(true, false, c, sig[i]), SVM_INTR_DELIVER);        /* the host is not intercepted */
    assert_int_equal(svm_signal(false, true, c, sig[i]), SVM_INTR_HELD);           /* GIF = 0 */
    assert_int_equal(svm_signal(false, false, c, sig[i]), SVM_INTR_HELD);
    struct svm_exit e = svm_signal_exit(sig[i]);
    assert_int_equal(e.code, code[i]);
    assert_int_equal(e.info1, 0);
    assert_int_equal(e.info2, 0);
  }
}

static void svm_virtual_interrupt_pending_by_priority_and_gif(void **state)
{
  (void)state;
  memset(&vmcb, 0, sizeof vmcb);
  struct svm_vmcb_control *c = &vmcb.control;
  c->vintr = SVM_VINTR_V_IRQ | (5ull << 16) | 4;                               /* PRIO 5 > TPR 4 */
  assert_true(svm_virtual_interrupt_pending(true, c));
  assert_false(svm_virtual_interrupt_pending(false, c));                     /* GIF = 0 */
  c->vintr = SVM_VINTR_V_IRQ | (5ull << 16) | 5;                               /* PRIO 5 = TPR 5 */
  assert_false(svm_virtual_interrupt_pending(true, c));
  c->vintr |= SVM_VINTR_V_IGN_TPR;
  assert_true(svm_virtual_interrupt_pending(true, c));
  c->vintr &= ~SVM_VINTR_V_IRQ;
  assert_false(svm_virtual_interrupt_pending(true, c));                      /* no V_IRQ */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_ctl_intercepts_bit_set_intercepts),
    cmocka_unit_test(svm_physical_interrupt_held_by_gif_and_masked_by_if),
    cmocka_unit_test(svm_physical_interrupt_without_intercept_goes_to_guest),
    cmocka_unit_test(svm_nmi_held_by_gif_and_blocking_else_intercepted_or_delivered),
    cmocka_unit_test(svm_smi_init_held_by_gif_else_intercepted_or_taken),
    cmocka_unit_test(svm_virtual_interrupt_pending_by_priority_and_gif),
    cmocka_unit_test(svm_pause_filter_counts_down_then_exits),
    cmocka_unit_test(svm_pause_without_filter_feature_always_exits),
    cmocka_unit_test(svm_pause_threshold_gap_reloads_count),
    cmocka_unit_test(svm_pause_threshold_zero_or_absent_never_reloads),
    cmocka_unit_test(svm_msrpm_ranges_map_to_their_vectors),
    cmocka_unit_test(svm_msrpm_outside_ranges_unmapped),
    cmocka_unit_test(svm_msr_read_bit_set_intercepts_read_only),
    cmocka_unit_test(svm_msr_write_bit_set_intercepts_write_only),
    cmocka_unit_test(svm_msr_outside_map_always_intercepted),
    cmocka_unit_test(svm_msr_prot_clear_never_intercepts),
    cmocka_unit_test(svm_msr_unreadable_map_intercepts),
    cmocka_unit_test(svm_io_port_bit_set_intercepts),
    cmocka_unit_test(svm_io_multibyte_access_checks_every_port),
    cmocka_unit_test(svm_io_access_past_port_ffff_uses_map_tail),
    cmocka_unit_test(svm_io_ioio_prot_clear_never_intercepts),
    cmocka_unit_test(svm_ioio_exitinfo1_out_imm8_64bit),
    cmocka_unit_test(svm_ioio_exitinfo1_in_dx_32bit_address),
    cmocka_unit_test(svm_ioio_exitinfo1_rep_outs_segment_only_with_decode_assists),
    cmocka_unit_test(svm_cr_exitinfo1_decode_assists_names_gpr),
    cmocka_unit_test(svm_cr_exitinfo1_without_decode_assists_zero),
    cmocka_unit_test(svm_exit_has_insn_bytes_data_faults_only),
    cmocka_unit_test(svm_fetch_insn_bytes_fifteen_then_stops_at_unreadable),
    cmocka_unit_test(svm_fetch_insn_bytes_wraps_at_4gib_outside_long_mode),
    cmocka_unit_test(svm_task_switch_exit_reports_selector_and_source),
    cmocka_unit_test(svm_exception_pf_error_code_and_address),
    cmocka_unit_test(svm_exception_without_error_code_info_zero),
    cmocka_unit_test(svm_event_encode_exception_with_error_code),
    cmocka_unit_test(svm_vmexit_non_instruction_exit_nrip_zero),
    cmocka_unit_test(svm_vmexit_instruction_exit_saves_nrip),
    cmocka_unit_test(svm_vmexit_writes_exitintinfo),
    cmocka_unit_test(svm_vmexit_insn_bytes_written_only_with_decode_assists),
    cmocka_unit_test(svm_vmexit_nested_paging_restores_host_pat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
