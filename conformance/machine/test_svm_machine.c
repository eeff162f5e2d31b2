/* SVM through the whole machine (sim/portio.c, sim/svm_intercepts.c,
 * sim/irq.c with Unicorn): tiny 32-bit hosts written byte by byte enable
 * SVM and either VMRUN a guest that executes string I/O, or halt with
 * GIF = 0; they leave through isa-debug-exit or stop with a report.
 *
 * - String I/O under the IOIO intercept (AMD APM Vol. 2, "I/O Intercepts",
 *   "IOIO Intercept Information"): the #VMEXIT comes before the
 *   instruction does anything, so the guest's RCX, RSI and RDI (which
 *   #VMEXIT leaves in the host's registers) and memory are as before it;
 *   EXITINFO1 describes the access (port, TYPE, STR, REP, size, address
 *   size, and the segment with decode assists), EXITINFO2 is the next RIP.
 *   Without the intercept REP INS runs every iteration in the guest.
 * - HLT with GIF = 0 ("Global Interrupt Flag, STGI and CLGI
 *   Instructions": INTR and NMI are held pending while GIF = 0; APM Vol.
 *   3, "HLT": only a recognized interrupt ends the halt): a pending IRQ0 or
 *   NMI does not wake the processor, and with nothing left that could the
 *   run stops with a report; with GIF = 1 the same interrupt wakes it.
 * - SMI and INIT from the local APIC ("Global Interrupt Flag, STGI and
 *   CLGI Instructions": held while GIF = 0; "Interrupt Intercepts": in the
 *   guest under the SMI / INIT intercept a #VMEXIT 62H / 63H with
 *   EXITINFO1/2 = 0): SMM and the INIT reset are not modelled, so a signal
 *   the processor would act on (in the host with GIF = 1, or in the guest
 *   without the intercept) stops the run with a message naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"
#include "sim/irq.h"

#define VMCB   0x200000u
#define IOPM   0x204000u   /* 12 KiB */
#define HSAVE  0x208000u
#define BUF    0x209000u
#define RESULT 0x20a000u   /* the host stores ECX, ESI, EDI here after #VMEXIT */
#define L2     0x100600u   /* the guest's code, in the image's segment */
#define PORT   0x72
#define APIC   0xFEE00000u
#define VEC_TIMER 0x20

/* VMCB offsets (APM Vol. 2, appendix "Layout of VMCB") and exit codes. */
#define VMCB_ICPT_VEC1  0x00c
#define VMCB_ICPT_VEC2  0x010
#define VMCB_IOPM_BASE  0x040
#define VMCB_ASID       0x058
#define VMCB_EXITCODE   0x070
#define VMCB_EXITINFO1  0x078
#define VMCB_EXITINFO2  0x080
#define VMCB_RIP        0x578
#define EXIT_IOIO       0x7b
#define EXIT_VMMCALL    0x81
#define IO_IN   (1u << 0)
#define IO_STR  (1u << 2)
#define IO_REP  (1u << 3)
#define IO_SZ8  (1u << 4)
#define IO_A16  (1u << 7)
#define IO_A32  (1u << 8)
#define IO_SEG_FS (4u << 10)

static void wr32(struct guest *g, uint32_t addr, uint32_t v) { EMIT(g, 0xc7, 0x05, U32(addr), U32(v)); }
static void wr8(struct guest *g, uint32_t addr, uint8_t v) { EMIT(g, 0xc6, 0x05, U32(addr), v); }
static void wrmsr_lo(struct guest *g, uint32_t msr, uint32_t lo)
{
  EMIT(g, 0xb9, U32(msr), 0xb8, U32(lo), 0x31, 0xd2, 0x0f, 0x30);   /* mov ecx; mov eax; xor edx, edx; wrmsr */
}
static void out(struct guest *g, uint8_t port, uint8_t v) { EMIT(g, 0xb0, v, 0xe6, port); }
static void exit_ok(struct guest *g) { EMIT(g, 0xb0, 0x00, 0xe6, 0xf4, 0xeb, 0xfe); }   /* status 1 */

/* EFER.SVME and VM_HSAVE_PA ("Enabling SVM"). */
static void svm_on(struct guest *g)
{
  wrmsr_lo(g, 0xC0000080u, 1u << 12);
  wrmsr_lo(g, 0xC0010117u, HSAVE);
}

/* A flat 32-bit guest at L2 (the host's GDT and IDT), with the VMRUN and
 * VMMCALL intercepts, the IOIO intercept and ASID 1. */
static void vmcb_setup(struct guest *g)
{
  wr32(g, VMCB + VMCB_ICPT_VEC1, 1u << 27);
  wr32(g, VMCB + VMCB_ICPT_VEC2, 3);
  wr32(g, VMCB + VMCB_IOPM_BASE, IOPM);
  wr32(g, VMCB + VMCB_ASID, 1);
  static const uint32_t segs[][2] = {{0x400, 0x0c920010}, {0x410, 0x0c9a0008}, {0x420, 0x0c920010}, {0x430, 0x0c920010}};
  for (size_t i = 0; i < 4; i++) {
    wr32(g, VMCB + segs[i][0], segs[i][1]);       /* selector, attributes */
    wr32(g, VMCB + segs[i][0] + 4, 0xffffffffu);  /* limit */
  }
  wr32(g, VMCB + 0x464, 0x17);                    /* GDTR limit, base */
  wr32(g, VMCB + 0x468, GDT);
  wr32(g, VMCB + 0x4d0, 1u << 12);                /* EFER.SVME */
  wr32(g, VMCB + 0x558, 0x11);                    /* CR0: PE, ET */
  wr32(g, VMCB + 0x560, 0x400);                   /* DR7 */
  wr32(g, VMCB + 0x568, 0xffff0ff0);              /* DR6 */
  wr32(g, VMCB + 0x570, 0x2);                     /* RFLAGS */
  wr32(g, VMCB + VMCB_RIP, L2);
  wr32(g, VMCB + 0x5d8, 0x170000);                /* RSP */
}

/* VMRUN with the guest's ECX/ESI/EDI/EDX, then ECX, ESI, EDI to RESULT
 * and exit. */
static void vmrun_and_report(struct guest *g, uint32_t ecx, uint32_t esi, uint32_t edi)
{
  EMIT(g, 0xb9, U32(ecx), 0xbe, U32(esi), 0xbf, U32(edi), 0xba, U32(PORT));
  EMIT(g, 0xb8, U32(VMCB), 0x0f, 0x01, 0xd8);             /* mov eax, VMCB; vmrun */
  EMIT(g, 0x89, 0x0d, U32(RESULT), 0x89, 0x35, U32(RESULT + 4), 0x89, 0x3d, U32(RESULT + 8));
  exit_ok(g);
  assert_true(g->at <= L2);
}

static struct machine *run_on(struct guest *g, const char *cpu)
{
  return run_guest_with(g, (struct machine_options){.cpu = cpu_model_find(cpu), .max_insns = 50000000,
                                                    .image_name = "svm-machine-test"});
}

static uint32_t ram32(struct machine *m, uint32_t pa) { uint32_t v; memcpy(&v, m->ram + pa, 4); return v; }
static uint64_t ram64(struct machine *m, uint32_t pa) { uint64_t v; memcpy(&v, m->ram + pa, 8); return v; }

/* A host that runs `insn` (then VMMCALL) as the guest, with PORT's IOPM bit
 * set when `intercept`. */
static struct machine *string_io(const uint8_t *insn, size_t len, bool intercept, const char *cpu, uint32_t ecx,
                                 uint32_t esi, uint32_t edi)
{
  struct guest g;
  guest_start(&g, 0);
  svm_on(&g);
  vmcb_setup(&g);
  if (intercept) wr8(&g, IOPM + PORT / 8, 1u << (PORT % 8));
  vmrun_and_report(&g, ecx, esi, edi);
  g.at = L2;
  put(&g, insn, len);
  EMIT(&g, 0x0f, 0x01, 0xd9);                      /* vmmcall */
  struct machine *m = run_on(&g, cpu);
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  assert_int_equal(m->exit_status, 1);
  return m;
}

static const uint8_t rep_insb[] = {0xf3, 0x6c};

static void svm_rep_ins_intercepted_exits_before_any_iteration(void **state)
{
  (void)state;
  struct machine *m = string_io(rep_insb, sizeof rep_insb, true, "zen", 4, 0x1111, BUF);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITCODE), EXIT_IOIO);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITINFO1),
                   (uint64_t)PORT << 16 | IO_IN | IO_STR | IO_REP | IO_SZ8 | IO_A32);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITINFO2), L2 + sizeof rep_insb);
  assert_int_equal(ram64(m, VMCB + VMCB_RIP), L2);
  assert_int_equal(ram32(m, RESULT), 4);           /* ECX */
  assert_int_equal(ram32(m, RESULT + 4), 0x1111);  /* ESI */
  assert_int_equal(ram32(m, RESULT + 8), BUF);     /* EDI */
  assert_int_equal(ram32(m, BUF), 0);              /* nothing stored */
  machine_destroy(m);
}

static void svm_rep_ins_not_intercepted_runs_every_iteration(void **state)
{
  (void)state;
  struct machine *m = string_io(rep_insb, sizeof rep_insb, false, "zen", 4, 0x1111, BUF);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITCODE), EXIT_VMMCALL);
  assert_int_equal(ram32(m, RESULT), 0);
  assert_int_equal(ram32(m, RESULT + 8), BUF + 4);
  assert_int_equal(ram32(m, BUF), 0xffffffffu);    /* an unclaimed port reads all ones */
  assert_int_equal(m->ram[BUF + 4], 0);
  machine_destroy(m);
}

/* addr16 FS: REP OUTSB — CX and SI count, FS is the effective segment:
 * EXITINFO1 bits 12:10 with decode assists (zen2), 0 without (zen). */
static void svm_rep_outs_a16_fs_reports_segment_only_with_decode_assists(void **state)
{
  (void)state;
  static const uint8_t insn[] = {0x67, 0x64, 0xf3, 0x6e};
  const uint64_t info1 = (uint64_t)PORT << 16 | IO_STR | IO_REP | IO_SZ8 | IO_A16;
  struct machine *m = string_io(insn, sizeof insn, true, "zen2", 0x10003, 0x12340010, 0x2222);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITCODE), EXIT_IOIO);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITINFO1), info1 | IO_SEG_FS);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITINFO2), L2 + sizeof insn);
  assert_int_equal(ram32(m, RESULT), 0x10003);
  assert_int_equal(ram32(m, RESULT + 4), 0x12340010);
  machine_destroy(m);
  m = string_io(insn, sizeof insn, true, "zen", 0x10003, 0x12340010, 0x2222);
  assert_int_equal(ram64(m, VMCB + VMCB_EXITINFO1), info1);
  assert_int_equal(ram32(m, RESULT), 0x10003);
  machine_destroy(m);
}

/* PIC and PIT as sim/irq.c's tests set them: IRQ0 unmasked at vector
 * 0x20, counter 0 in mode 2. */
static void timer_on(struct guest *g)
{
  out(g, 0x20, 0x11); out(g, 0x21, VEC_TIMER); out(g, 0x21, 0x04); out(g, 0x21, 0x01); out(g, 0x21, 0xfe);
  out(g, 0xa0, 0x11); out(g, 0xa1, 0x28); out(g, 0xa1, 0x02); out(g, 0xa1, 0x01); out(g, 0xa1, 0xff);
  out(g, 0x43, 0x34); out(g, 0x40, 0x00); out(g, 0x40, 0x10);
}

/* The host halts with IF = 1 and a timer running, after CLGI when
 * `clgi`; the interrupt handler exits. */
static struct machine *hlt_with_timer(bool clgi)
{
  struct guest g;
  guest_start(&g, VEC_TIMER);
  svm_on(&g);
  timer_on(&g);
  if (clgi) EMIT(&g, 0x0f, 0x01, 0xdd);           /* clgi */
  EMIT(&g, 0xfb, 0xf4, 0xeb, 0xfe);               /* sti; hlt; jmp $ */
  g.at = HANDLER;
  exit_ok(&g);
  return run_on(&g, "zen");
}

static void svm_hlt_with_gif_0_stays_halted_with_interrupt_pending(void **state)
{
  (void)state;
  struct machine *m = hlt_with_timer(true);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "interrupts held"));
  machine_destroy(m);
}

static void svm_hlt_with_gif_1_wakes_on_the_interrupt(void **state)
{
  (void)state;
  struct machine *m = hlt_with_timer(false);
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  assert_int_equal(m->exit_status, 1);
  machine_destroy(m);
}

/* A self-NMI through the ICR, then HLT with IF = 1 (no timer): with
 * GIF = 0 the NMI is held and nothing can wake the processor; with GIF = 1
 * the NMI's handler (vector 2) exits. */
static struct machine *hlt_with_nmi(bool clgi)
{
  struct guest g;
  guest_start(&g, 2);
  svm_on(&g);
  if (clgi) EMIT(&g, 0x0f, 0x01, 0xdd);           /* clgi */
  wr32(&g, APIC + 0x300, 0x400);                  /* ICR: NMI to self */
  EMIT(&g, 0xfb, 0xf4, 0xeb, 0xfe);               /* sti; hlt; jmp $ */
  g.at = HANDLER;
  exit_ok(&g);
  return run_on(&g, "zen");
}

static void svm_hlt_with_gif_0_stays_halted_with_nmi_pending(void **state)
{
  (void)state;
  struct machine *m = hlt_with_nmi(true);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "interrupts held"));
  machine_destroy(m);
}

static void svm_hlt_with_gif_1_wakes_on_the_nmi(void **state)
{
  (void)state;
  struct machine *m = hlt_with_nmi(false);
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  assert_int_equal(m->exit_status, 1);
  machine_destroy(m);
}

/* ---- SMI and INIT --------------------------------------------------------- */

#define ICR_SMI  0x200u
#define ICR_INIT 0x4500u      /* INIT, level 1 (assert) */
#define EXIT_SMI  0x62
#define EXIT_INIT 0x63

/* The host sends itself `icr` (after CLGI when `clgi`), then exits. */
static struct machine *host_signal(uint32_t icr, bool clgi, bool hlt)
{
  struct guest g;
  guest_start(&g, 0);
  svm_on(&g);
  if (clgi) EMIT(&g, 0x0f, 0x01, 0xdd);           /* clgi */
  wr32(&g, APIC + 0x300, icr);
  EMIT(&g, 0xeb, 0x00);                           /* jmp $+2: a new block */
  if (hlt) EMIT(&g, 0xfb, 0xf4);                  /* sti; hlt */
  exit_ok(&g);
  return run_on(&g, "zen");
}

static void svm_smi_and_init_in_host_with_gif_1_stop_the_run(void **state)
{
  (void)state;
  struct machine *m = host_signal(ICR_SMI, false, false);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "SMI"));
  assert_non_null(strstr(m->stop_detail, "outside SVM guest mode with GIF = 1"));
  assert_non_null(strstr(m->stop_detail, "system-management mode (SMM) is not modelled"));
  machine_destroy(m);
  m = host_signal(ICR_INIT, false, false);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "INIT reset is not modelled"));
  machine_destroy(m);
}

static void svm_smi_and_init_held_by_gif_0_in_host(void **state)
{
  (void)state;
  struct machine *m = host_signal(ICR_SMI, true, false);
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  assert_true(irq_signal_pending(m, IRQ_SIGNAL_SMI));
  machine_destroy(m);
  m = host_signal(ICR_INIT, true, false);
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  assert_true(irq_signal_pending(m, IRQ_SIGNAL_INIT));
  machine_destroy(m);
  /* A held INIT does not end a halt: nothing can wake the processor. */
  m = host_signal(ICR_INIT, true, true);
  assert_int_equal(m->stop, STOP_HALTED);
  assert_non_null(strstr(m->stop_detail, "interrupts held"));
  machine_destroy(m);
}

/* The guest at L2 sends itself `icr`; the host stores EXITCODE, EXITINFO1
 * and EXITINFO2 at RESULT and exits. `intercept_bit`: vector 1 bit (2
 * SMI, 3 INIT), or -1 for none. */
static struct machine *guest_signal(uint32_t icr, int intercept_bit)
{
  struct guest g;
  guest_start(&g, 0);
  svm_on(&g);
  vmcb_setup(&g);
  if (intercept_bit >= 0) wr32(&g, VMCB + VMCB_ICPT_VEC1, (1u << 27) | (1u << intercept_bit));
  EMIT(&g, 0xb8, U32(VMCB), 0x0f, 0x01, 0xd8);            /* mov eax, VMCB; vmrun */
  EMIT(&g, 0xa1, U32(VMCB + VMCB_EXITCODE), 0xa3, U32(RESULT));
  EMIT(&g, 0xa1, U32(VMCB + VMCB_EXITINFO1), 0xa3, U32(RESULT + 4));
  EMIT(&g, 0xa1, U32(VMCB + VMCB_EXITINFO2), 0xa3, U32(RESULT + 8));
  exit_ok(&g);
  assert_true(g.at <= L2);
  g.at = L2;
  wr32(&g, APIC + 0x300, icr);
  EMIT(&g, 0xeb, 0x00, 0x0f, 0x01, 0xd9);         /* jmp $+2; vmmcall */
  return run_on(&g, "zen");
}

static void svm_smi_and_init_intercepts_exit_from_the_guest(void **state)
{
  (void)state;
  const struct { uint32_t icr; int bit; uint32_t code; } t[] = {{ICR_SMI, 2, EXIT_SMI}, {ICR_INIT, 3, EXIT_INIT}};
  for (size_t i = 0; i < 2; i++) {
    struct machine *m = guest_signal(t[i].icr, t[i].bit);
    assert_int_equal(m->stop, STOP_DEBUG_EXIT);
    assert_int_equal(ram32(m, RESULT), t[i].code);
    assert_int_equal(ram32(m, RESULT + 4), 0);
    assert_int_equal(ram32(m, RESULT + 8), 0);
    /* Not consumed: GIF = 0 after the #VMEXIT holds it for the host. */
    assert_true(irq_signal_pending(m, t[i].icr == ICR_SMI ? IRQ_SIGNAL_SMI : IRQ_SIGNAL_INIT));
    machine_destroy(m);
  }
  /* The other signal's intercept does not take it: the processor would. */
  struct machine *m = guest_signal(ICR_INIT, 2);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "in the SVM guest without the INIT intercept"));
  machine_destroy(m);
  m = guest_signal(ICR_SMI, -1);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "in the SVM guest without the SMI intercept"));
  machine_destroy(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(svm_rep_ins_intercepted_exits_before_any_iteration),
    cmocka_unit_test(svm_rep_ins_not_intercepted_runs_every_iteration),
    cmocka_unit_test(svm_rep_outs_a16_fs_reports_segment_only_with_decode_assists),
    cmocka_unit_test(svm_hlt_with_gif_0_stays_halted_with_interrupt_pending),
    cmocka_unit_test(svm_hlt_with_gif_1_wakes_on_the_interrupt),
    cmocka_unit_test(svm_hlt_with_gif_0_stays_halted_with_nmi_pending),
    cmocka_unit_test(svm_hlt_with_gif_1_wakes_on_the_nmi),
    cmocka_unit_test(svm_smi_and_init_in_host_with_gif_1_stop_the_run),
    cmocka_unit_test(svm_smi_and_init_held_by_gif_0_in_host),
    cmocka_unit_test(svm_smi_and_init_intercepts_exit_from_the_guest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
