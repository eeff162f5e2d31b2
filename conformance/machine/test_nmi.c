/* NMIs through the whole machine (sim/irq.c, sim/lapic.c, the APIC page
 * in sim/machine.c's TLB fill): tiny 32-bit guests without paging,
 * written byte by byte, send themselves an NMI through the local APIC's
 * ICR and leave through isa-debug-exit, or stop with a report. Checked:
 * delivery through IDT vector 2 with IF = 0; a second NMI held while the
 * handler runs (blocking by NMI); an NMI sent right before HLT with IF = 0
 * wakes it; the APIC page follows IA32_APIC_BASE (relocated, or gone when
 * the APIC is disabled); unmodelled registers and fetches from the page
 * stop the run with a message, and so do an SMI or INIT sent through the
 * ICR outside VMX operation (no SMM, no INIT reset in the machine). SDM Vol. 3A, "Advanced Programmable
 * Interrupt Controller (APIC)" ("Local APIC Status and Location",
 * "Interrupt Command Register (ICR)"), "Nonmaskable Interrupt (NMI)";
 * SDM Vol. 2, "HLT". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/irq.h"
#include "conformance/machine/guest32.h"

#define COUNTER   0x100700u
#define APIC      0xFEE00000u


/* mov dword [addr], v */
static void store(struct guest *g, uint32_t addr, uint32_t v) { EMIT(g, 0xc7, 0x05, U32(addr), U32(v)); }
/* mov eax, [addr] */
static void load(struct guest *g, uint32_t addr) { EMIT(g, 0xa1, U32(addr)); }
/* wrmsr IA32_APIC_BASE = v */
static void apic_base(struct guest *g, uint32_t v)
{
  EMIT(g, 0xb9, U32(0x1b), 0xb8, U32(v), 0x31, 0xd2, 0x0f, 0x30);  /* mov ecx; mov eax; xor edx, edx; wrmsr */
}

/* The common start (guest32.h) with vector 2 to HANDLER, IF cleared. */
static void guest_start_nmi(struct guest *g)
{
  guest_start(g, 2);
  EMIT(g, 0xfa);                            /* cli */
}

/* The handler exits with status (al << 1) | 1, al = 0. */
static void handler_exits(struct guest *g)
{
  g->at = HANDLER;
  EMIT(g, 0xb0, 0x00, 0xe6, 0xf4, 0xeb, 0xfe);   /* mov al, 0; out 0xf4, al; jmp $ */
}

static struct machine *run(struct guest *g) { return run_guest(g, "nmi-test", 2000000); }

static void nmi_icr_self_is_delivered_through_vector_2_with_if_0(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  store(&g, APIC + 0x300, 0x400);           /* ICR low: NMI, destination 0 (ICR high is 0) */
  EMIT(&g, 0xeb, 0xfe);
  handler_exits(&g);
  assert_int_equal(debug_exit_status(run(&g)), 1);
}

static void nmi_without_icr_write_is_not_delivered(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  store(&g, APIC + 0x310, 0);                /* ICR high only: sends nothing */
  EMIT(&g, 0xeb, 0xfe);
  handler_exits(&g);
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_MAX_INSNS);
  machine_destroy(m);
}

/* The handler counts, sends a second NMI the first time, waits, and exits
 * with the count: 1 (status 3) when the second NMI was held until IRET; a
 * nested entry exits with 10H (status 21H) first. */
static void nmi_inside_handler_is_held_until_iret(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  store(&g, APIC + 0x300, 0x400);
  EMIT(&g, 0xeb, 0xfe);
  g.at = HANDLER;
  EMIT(&g, 0xfe, 0x05, U32(COUNTER));                  /* inc byte [COUNTER] */
  EMIT(&g, 0x80, 0x3d, U32(COUNTER), 0x01);            /* cmp byte [COUNTER], 1 */
  EMIT(&g, 0x75, 0x1b);                                /* jne nested (+27) */
  store(&g, APIC + 0x300, 0x400);                      /* 10 bytes */
  EMIT(&g, 0xb9, U32(10000), 0x49, 0x75, 0xfd);        /* mov ecx, 10000; 1: dec ecx; jnz 1b (8 bytes) */
  EMIT(&g, 0xa0, U32(COUNTER), 0xe6, 0xf4);            /* mov al, [COUNTER]; out 0xf4, al (7 bytes) */
  EMIT(&g, 0xeb, 0xfe);                                /* jmp $ (2 bytes) */
  EMIT(&g, 0xb0, 0x10, 0xe6, 0xf4, 0xeb, 0xfe);        /* nested: mov al, 10h; out 0xf4, al; jmp $ */
  assert_int_equal(debug_exit_status(run(&g)), (1 << 1) | 1);
}

/* HLT with IF = 0 right after the ICR write, in the same translation
 * block: the NMI wakes it ("HLT": an NMI resumes execution), saved EIP
 * after HLT. */
static void nmi_wakes_hlt_with_if_0(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  store(&g, APIC + 0x300, 0x400);
  EMIT(&g, 0xf4);                                      /* hlt */
  uint32_t after_hlt = g.at;
  EMIT(&g, 0xeb, 0xfe);
  g.at = HANDLER;
  EMIT(&g, 0x58, 0x2d, U32(after_hlt));                /* pop eax; sub eax, after_hlt */
  EMIT(&g, 0x0f, 0x95, 0xc0, 0xe6, 0xf4, 0xeb, 0xfe);  /* setnz al; out 0xf4, al; jmp $ */
  assert_int_equal(debug_exit_status(run(&g)), 1);
}

/* "Masking Exceptions and Interrupts When Switching Stacks" (SDM Vol. 3A)
 * and the interruptibility state's "blocking by MOV SS" ("interrupts
 * (maskable and nonmaskable)"): an NMI pending when MOV SS completes is
 * not taken before the next instruction. The handler exits with status 3
 * when the saved EIP is that next instruction, 1 otherwise. */
static void nmi_waits_out_mov_ss_shadow(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  store(&g, APIC + 0x300, 0x400);
  EMIT(&g, 0x8c, 0xd8, 0x8e, 0xd0);                    /* mov eax, ds; mov ss, eax */
  uint32_t shadowed = g.at;
  EMIT(&g, 0x90, 0xeb, 0x00, 0xeb, 0xfe);              /* nop; jmp +0; jmp $ */
  g.at = HANDLER;
  EMIT(&g, 0x58, 0x2d, U32(shadowed));                 /* pop eax; sub eax, shadowed */
  EMIT(&g, 0x0f, 0x94, 0xc0, 0xe6, 0xf4, 0xeb, 0xfe);  /* setz al; out 0xf4, al; jmp $ */
  assert_int_equal(debug_exit_status(run(&g)), 1);
}

/* IA32_APIC_BASE moves the page: at 300000H (in RAM) the ICR sends. */
static void nmi_apic_page_follows_apic_base(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  apic_base(&g, 0x00300000u | 0x900);       /* enabled, BSP */
  store(&g, 0x00300000u + 0x300, 0x400);
  EMIT(&g, 0xeb, 0xfe);
  handler_exits(&g);
  assert_int_equal(debug_exit_status(run(&g)), 1);
}

/* With the APIC globally disabled (IA32_APIC_BASE bit 11 = 0) FEE00000H is
 * no APIC: beyond this machine's RAM, the access stops the run. */
static void nmi_disabled_apic_has_no_page(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  apic_base(&g, APIC | 0x100);              /* BSP, not enabled */
  store(&g, APIC + 0x300, 0x400);
  EMIT(&g, 0xeb, 0xfe);
  handler_exits(&g);
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "outside RAM"));
  machine_destroy(m);
}

static void nmi_unmodelled_apic_register_stops_with_its_name(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  load(&g, APIC + 0x080);                   /* TPR */
  EMIT(&g, 0xeb, 0xfe);
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_int_equal(m->exit_status, 125);
  assert_non_null(strstr(m->stop_detail, "Task Priority"));
  machine_destroy(m);
}

static void nmi_fixed_ipi_stops_with_its_mode(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  store(&g, APIC + 0x300, 0x40);            /* fixed, vector 40H */
  EMIT(&g, 0xeb, 0xfe);
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "delivery mode fixed"));
  machine_destroy(m);
}

static void nmi_fetch_from_apic_page_stops(void **state)
{
  (void)state;
  struct guest g;
  guest_start_nmi(&g);
  EMIT(&g, 0xb8, U32(APIC), 0xff, 0xe0);    /* mov eax, APIC; jmp eax */
  struct machine *m = run(&g);
  assert_int_equal(m->stop, STOP_INTERNAL);
  assert_non_null(strstr(m->stop_detail, "instruction fetch from the local APIC page"));
  machine_destroy(m);
}

/* SMI and INIT through the ICR (own APIC ID, physical): the machine has no
 * SMM and no INIT reset, so outside any hypervisor's exit rules (here:
 * outside VMX operation on the default Intel model) the run stops at the
 * next boundary with a message naming the signal, even with IF = 0. */
static void smi_and_init_outside_vmx_operation_stop_with_their_name(void **state)
{
  (void)state;
  const struct { uint32_t icr; const char *what; } t[] = {
    {0x200, "system-management mode (SMM) is not modelled"}, {0x4500, "the INIT reset is not modelled"}};
  for (size_t i = 0; i < 2; i++) {
    struct guest g;
    guest_start_nmi(&g);
    store(&g, APIC + 0x300, t[i].icr);
    EMIT(&g, 0xeb, 0xfe);
    handler_exits(&g);
    struct machine *m = run(&g);
    assert_int_equal(m->stop, STOP_INTERNAL);
    assert_non_null(strstr(m->stop_detail, t[i].what));
    assert_non_null(strstr(m->stop_detail, "outside VMX operation"));
    machine_destroy(m);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(nmi_icr_self_is_delivered_through_vector_2_with_if_0),
    cmocka_unit_test(smi_and_init_outside_vmx_operation_stop_with_their_name),
    cmocka_unit_test(nmi_without_icr_write_is_not_delivered),
    cmocka_unit_test(nmi_inside_handler_is_held_until_iret),
    cmocka_unit_test(nmi_wakes_hlt_with_if_0),
    cmocka_unit_test(nmi_waits_out_mov_ss_shadow),
    cmocka_unit_test(nmi_apic_page_follows_apic_base),
    cmocka_unit_test(nmi_disabled_apic_has_no_page),
    cmocka_unit_test(nmi_unmodelled_apic_register_stops_with_its_name),
    cmocka_unit_test(nmi_fixed_ipi_stops_with_its_mode),
    cmocka_unit_test(nmi_fetch_from_apic_page_stops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
