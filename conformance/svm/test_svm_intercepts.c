/* Every SVM intercept the modelled CPUs can produce, through the whole
 * machine (Unicorn, sim/svm_*.c): one table of cases, one runner.
 *
 * Each case is a tiny 32-bit host written byte by byte (guest32.h) that
 * enables SVM, builds a VMCB (a flat 32-bit guest at L2 with ASID 1, the
 * VMRUN and VMMCALL intercepts, the I/O and MSR permission maps), sets the
 * case's intercept bit, runs the case's set-up code, VMRUNs, and leaves
 * through isa-debug-exit. The guest runs the case's bytes and then
 * VMMCALL, so a guest that does not exit where expected shows as a VMMCALL
 * exit. The runner reads the VMCB after the run and checks EXITCODE,
 * EXITINFO1, EXITINFO2, EXITINTINFO, NRIP and the guest RIP (AMD APM Vol.
 * 2, "#VMEXIT", "Next RIP", and each intercept's section).
 *
 * `--covers` runs the same cases and prints "intercept NAME" and
 * "exit_code NAME" for each case that passes (conformance/svm/
 * svm_coverage.h); svm_coverage lists the catalogue entries no passing
 * case proves. Entries no modelled CPU can produce are marked in the
 * catalogue itself (models/svm/intercepts.def, last column). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/machine/guest32.h"
#include "conformance/svm/svm_coverage.h"
#include "models/svm/svm_catalog.h"
#include "models/svm/vmcb.h"
#include "sim/mca.h"

/* Host physical memory of the cases (4 MiB of RAM). */
#define VMCB   0x200000u
#define IOPM   0x204000u   /* 12 KiB */
#define HSAVE  0x208000u
#define MSRPM  0x20a000u   /* 8 KiB */
#define VMCB2  0x20c000u   /* the rAX of the guest's own SVM instructions */
#define BUF    0x20d000u   /* guest data */
#define PD     0x20e000u   /* guest page directory / nested page tables */
#define PT     0x20f000u
#define PML4   0x210000u
#define PDPT   0x211000u
#define TSS    0x212000u
#define L2     0x100600u   /* the guest's code, in the image's segment */
#define PORT   0x72
#define APIC   0xFEE00000u

#define OFF(f) ((uint32_t)offsetof(struct svm_vmcb, f))
#define DA     (1ull << 63)   /* "Decode Assists": EXITINFO1 of a MOV CRn */

/* ---- host code ------------------------------------------------------------ */

static void wr32(struct guest *g, uint32_t addr, uint32_t v) { EMIT(g, 0xc7, 0x05, U32(addr), U32(v)); }
static void or32(struct guest *g, uint32_t addr, uint32_t v) { EMIT(g, 0x81, 0x0d, U32(addr), U32(v)); }
static void and32(struct guest *g, uint32_t addr, uint32_t v) { EMIT(g, 0x81, 0x25, U32(addr), U32(v)); }
static void out8(struct guest *g, uint8_t port, uint8_t v) { EMIT(g, 0xb0, v, 0xe6, port); }
static void wrmsr_lo(struct guest *g, uint32_t msr, uint32_t lo)
{
  EMIT(g, 0xb9, U32(msr), 0xb8, U32(lo), 0x31, 0xd2, 0x0f, 0x30);   /* mov ecx; mov eax; xor edx, edx; wrmsr */
}

/* EFER.SVME, VM_HSAVE_PA ("Enabling SVM") and the baseline guest: flat
 * 32-bit protected mode on the host's GDT, CPL 0, no paging, IDTR limit 0
 * (an exception no intercept takes ends in a triple fault, which the
 * machine reports), ASID 1, VMRUN and VMMCALL intercepted, both maps
 * empty. */
static void host_start(struct guest *g)
{
  guest_start(g, 0);
  wrmsr_lo(g, 0xC0000080u, 1u << 12);
  wrmsr_lo(g, 0xC0010117u, HSAVE);
  wr32(g, VMCB + 4 * svm_intercepts[SVM_INTERCEPT_VMRUN].word,
       1u << svm_intercepts[SVM_INTERCEPT_VMRUN].bit | 1u << svm_intercepts[SVM_INTERCEPT_VMMCALL].bit);
  wr32(g, VMCB + OFF(control.iopm_base_pa), IOPM);
  wr32(g, VMCB + OFF(control.msrpm_base_pa), MSRPM);
  wr32(g, VMCB + OFF(control.guest_asid), 1);
  static const uint32_t segs[][2] = {{OFF(save.es), 0x0c920010}, {OFF(save.cs), 0x0c9a0008},
                                     {OFF(save.ss), 0x0c920010}, {OFF(save.ds), 0x0c920010}};
  for (size_t i = 0; i < 4; i++) {
    wr32(g, VMCB + segs[i][0], segs[i][1]);       /* selector, attributes */
    wr32(g, VMCB + segs[i][0] + 4, 0xffffffffu);  /* limit */
  }
  wr32(g, VMCB + OFF(save.gdtr.limit), 0x17);
  wr32(g, VMCB + OFF(save.gdtr.base), GDT);
  wr32(g, VMCB + OFF(save.efer), 1u << 12);       /* EFER.SVME */
  wr32(g, VMCB + OFF(save.cr0), 0x11);            /* PE, ET */
  wr32(g, VMCB + OFF(save.dr7), 0x400);
  wr32(g, VMCB + OFF(save.dr6), 0xffff0ff0);
  wr32(g, VMCB + OFF(save.rflags), 0x2);
  wr32(g, VMCB + OFF(save.rip), L2);
  wr32(g, VMCB + OFF(save.rsp), 0x170000);
}

/* ---- the cases' set-ups (host code run before VMRUN) ------------------------ */

static void io_port(struct guest *g) { wr32(g, IOPM + PORT / 32 * 4, 1u << (PORT % 32)); }
/* MSR 10h (TSC): read bit 2*10h, write bit 2*10h+1 ("MSR Intercepts"). */
static void msr_tsc_read(struct guest *g) { wr32(g, MSRPM + 4, 1u << 0); }
static void msr_tsc_write(struct guest *g) { wr32(g, MSRPM + 4, 1u << 1); }
static void cr4_osxsave(struct guest *g) { wr32(g, VMCB + OFF(save.cr4), 1u << 18); }
static void trap_flag(struct guest *g) { wr32(g, VMCB + OFF(save.rflags), 0x102); }
static void cr0_ts(struct guest *g) { wr32(g, VMCB + OFF(save.cr0), 0x19); }
static void cr0_ne(struct guest *g) { wr32(g, VMCB + OFF(save.cr0), 0x31); }
static void guest_if(struct guest *g) { wr32(g, VMCB + OFF(save.rflags), 0x202); }
/* CR4.OSFXSR, with and without CR4.OSXMMEXCPT. */
#define SSE_ONE_BY_ZERO                                                                                       \
  0xc7, 0x05, U32(BUF), U32(0x1d80), 0x0f, 0xae, 0x15, U32(BUF), 0xb8, U32(0x3f800000), 0x66, 0x0f, 0x6e, 0xc0, \
    0x0f, 0x57, 0xc9, 0xf3, 0x0f, 0x5e, 0xc1
static void cr4_sse_xf(struct guest *g) { wr32(g, VMCB + OFF(save.cr4), 3u << 9); }
static void cr4_sse_no_xf(struct guest *g) { wr32(g, VMCB + OFF(save.cr4), 1u << 9); }

/* GDT entry 3 (18h): a data segment that is not present; GDTR covers it. */
static void gdt_not_present(struct guest *g)
{
  wr32(g, GDT + 0x18, 0x0000ffff);
  wr32(g, GDT + 0x1c, 0x00cf1200);
  wr32(g, VMCB + OFF(save.gdtr.limit), 0x1f);
}

/* GDT entry 5 (28h): an available 32-bit TSS at TSS. */
static void gdt_tss(struct guest *g)
{
  wr32(g, GDT + 0x28, (TSS & 0xffff) << 16 | 0x67);
  wr32(g, GDT + 0x2c, (TSS >> 16 & 0xff) | 0x8900 | (TSS & 0xff000000u));
  wr32(g, VMCB + OFF(save.gdtr.limit), 0x2f);
}

/* GDT entry 5 (28h): a 32-bit TSS whose limit (20h) is below the 67h a
 * task switch needs; the guest's IDT (at IDT2) has a task gate to it at
 * vector 40h. */
#define IDT2 (BUF + 0x800)
static void task_gate_to_short_tss(struct guest *g)
{
  wr32(g, GDT + 0x28, (TSS & 0xffff) << 16 | 0x20);
  wr32(g, GDT + 0x2c, (TSS >> 16 & 0xff) | 0x8900 | (TSS & 0xff000000u));
  wr32(g, VMCB + OFF(save.gdtr.limit), 0x2f);
  wr32(g, IDT2 + 8 * 0x40, 0x28u << 16);
  wr32(g, IDT2 + 8 * 0x40 + 4, 0x8500);
  wr32(g, VMCB + OFF(save.idtr.limit), 8 * 0x40 + 7);
  wr32(g, VMCB + OFF(save.idtr.base), IDT2);
}

/* 32-bit paging with one 4 MiB page (CR4.PSE) mapping 0-4 MiB. */
static void guest_paging(struct guest *g)
{
  wr32(g, PD, 0x83);
  wr32(g, VMCB + OFF(save.cr4), 0x10);
  wr32(g, VMCB + OFF(save.cr3), PD);
  wr32(g, VMCB + OFF(save.cr0), 0x80000011u);
}

/* Nested paging: nCR3 = PD, legacy 32-bit tables (the host runs without
 * paging) mapping guest-physical 0-4 MiB one to one through PT. */
static void nested_paging(struct guest *g)
{
  wr32(g, PD, PT | 7);
  /* mov edi, PT; mov eax, 7; mov ecx, 1024; 1: mov [edi], eax; add edi, 4;
   * add eax, 0x1000; loop 1b */
  EMIT(g, 0xbf, U32(PT), 0xb8, U32(7), 0xb9, U32(1024), 0x89, 0x07, 0x83, 0xc7, 0x04, 0x05, U32(0x1000), 0xe2,
       0xf4);
  wr32(g, VMCB + OFF(control.np_control), 1);
  wr32(g, VMCB + OFF(control.ncr3), PD);
}

/* A 64-bit guest: EFER.LME/LMA, CR4.PAE, CR0.PG, one 1 GiB page, CS.L. */
static void long_mode(struct guest *g)
{
  wr32(g, PML4, PDPT | 3);
  wr32(g, PDPT, 0x83);
  wr32(g, VMCB + OFF(save.efer), 1u << 12 | 1u << 10 | 1u << 8);
  wr32(g, VMCB + OFF(save.cr4), 0x20);
  wr32(g, VMCB + OFF(save.cr3), PML4);
  wr32(g, VMCB + OFF(save.cr0), 0x80000011u);
  wr32(g, VMCB + OFF(save.cs), 0x0a9a0008);
}

/* PIC and PIT: IRQ0 unmasked at vector 20h, counter 0 in mode 2 with
 * count 10h (soon); the
 * guest's IF = 1 (V_INTR_MASKING = 0: the guest's IF masks INTR). */
static void timer(struct guest *g)
{
  out8(g, 0x20, 0x11); out8(g, 0x21, 0x20); out8(g, 0x21, 0x04); out8(g, 0x21, 0x01); out8(g, 0x21, 0xfe);
  out8(g, 0xa0, 0x11); out8(g, 0xa1, 0x28); out8(g, 0xa1, 0x02); out8(g, 0xa1, 0x01); out8(g, 0xa1, 0xff);
  out8(g, 0x43, 0x34); out8(g, 0x40, 0x10); out8(g, 0x40, 0x00);
  guest_if(g);
}

/* V_IRQ with priority 15 and V_IGN_TPR, vector 30h; the guest's IF = 1. */
static void virq(struct guest *g)
{
  wr32(g, VMCB + OFF(control.vintr), 1u << 8 | 0xfu << 16 | 1u << 20);
  wr32(g, VMCB + OFF(control.vintr) + 4, 0x30);
  guest_if(g);
}

/* VM_CR.R_INIT: INIT becomes #SX ("VM_CR MSR"). */
static void init_redirection(struct guest *g) { wrmsr_lo(g, 0xC0010114u, 1u << 1); }

static void asid_zero(struct guest *g) { wr32(g, VMCB + OFF(control.guest_asid), 0); }

/* The INVPCID intercept set too: zen lacks INVPCID, whose #UD comes first. */
static void invpcid_intercepted(struct guest *g)
{
  const struct svm_intercept_info *in = &svm_intercepts[SVM_INTERCEPT_INVPCID];
  or32(g, VMCB + 4u * in->word, 1u << in->bit);
}

/* The intercept of MWAIT while the monitor is armed set too (for cases whose
 * own intercept is another, or none). */
static void mwait_armed_intercepted(struct guest *g)
{
  const struct svm_intercept_info *in = &svm_intercepts[SVM_INTERCEPT_MWAIT_ARMED];
  or32(g, VMCB + 4u * in->word, 1u << in->bit);
}

/* The #GP exception intercept set too. */
static void gp_intercepted(struct guest *g) { or32(g, VMCB + OFF(control.exception_intercepts), 1u << 13); }

/* The guest at CPL 3: CS, SS, DS and ES with DPL 3 and selectors with RPL
 * 3 (VMRUN loads the hidden state from the VMCB), the VMCB's CPL 3. */
static void cpl3(struct guest *g)
{
  static const uint32_t segs[][2] = {{OFF(save.es), 0x0cf20023}, {OFF(save.cs), 0x0cfa001b},
                                     {OFF(save.ss), 0x0cf20023}, {OFF(save.ds), 0x0cf20023}};
  for (size_t i = 0; i < 4; i++) wr32(g, VMCB + segs[i][0], segs[i][1]);
  wr32(g, VMCB + OFF(save.cpl), 3);
}

/* ... with the SKINIT intercept set too. */
static void cpl3_skinit_intercepted(struct guest *g)
{
  cpl3(g);
  const struct svm_intercept_info *in = &svm_intercepts[SVM_INTERCEPT_SKINIT];
  or32(g, VMCB + 4u * in->word, 1u << in->bit);
}

/* ... with alignment checking: CR0.AM (and PE, ET), RFLAGS.AC. */
static void cpl3_alignment_check(struct guest *g)
{
  cpl3(g);
  wr32(g, VMCB + OFF(save.cr0), 0x40011);
  wr32(g, VMCB + OFF(save.rflags), 0x40002);
}

/* The unconditional MWAIT intercept set too. */
static void mwait_intercepted(struct guest *g)
{
  const struct svm_intercept_info *in = &svm_intercepts[SVM_INTERCEPT_MWAIT];
  or32(g, VMCB + 4u * in->word, 1u << in->bit);
}

/* Machine checks (sim/mca.h): MCG_CTL enables every bank (AMD APM Vol. 2,
 * "Machine-Check Global-Control Register (MCG_CTL)"), the guest runs with
 * CR4.MCE; the case's injection (svm_case.mce) signals #MC while the
 * guest loops. */
static void mce_enabled(struct guest *g)
{
  EMIT(g, 0xb9, U32(0x17b), 0xb8, U32(0xffffffffu), 0xba, U32(0xffffffffu), 0x0f, 0x30);   /* wrmsr MCG_CTL */
  wr32(g, VMCB + OFF(save.cr4), 0x40);
}

/* ... the guest's CR4.MCE = 0 instead, with the EXCP_MC intercept set too. */
static void mce_without_cr4_mce(struct guest *g)
{
  mce_enabled(g);
  wr32(g, VMCB + OFF(save.cr4), 0);
  const struct svm_intercept_info *in = &svm_intercepts[SVM_INTERCEPT_EXCP_MC];
  or32(g, VMCB + 4u * in->word, 1u << in->bit);
}

/* An uncorrected error in bank 0, long after the host's set-up. */
static const struct mca_injection mce_in_guest = {
  .at = 20000, .status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC | 0x1};

/* ---- the table ------------------------------------------------------------ */

struct svm_case {
  const char *name;               /* the cmocka test's name */
  int intercept;                  /* SVM_INTERCEPT_*, or -1 for exits no intercept bit asks for */
  const char *cpu;                /* machine CPU model: zen, or zen2 (decode assists, RDPRU) */
  void (*setup)(struct guest *g); /* host code before VMRUN, or NULL */
  const uint8_t *code;            /* the guest's bytes at L2 (VMMCALL follows) */
  size_t len;
  uint64_t exitcode, info1, info2, intinfo, nrip;
  uint64_t rip;                   /* the guest RIP #VMEXIT saves */
  const struct mca_injection *mce;   /* a machine check to inject, or NULL */
};

#define G(...) .code = (const uint8_t[]){__VA_ARGS__}, .len = sizeof((const uint8_t[]){__VA_ARGS__})
#define I(n) SVM_INTERCEPT_##n
#define X(n) ((uint64_t)(int64_t)SVM_EXIT_##n)
#define NO_INTERCEPT (-1)
/* EXITINTINFO of an exception with an error code ("Event Injection"). */
#define EXC_INFO(vec, err) ((uint64_t)(err) << 32 | 1u << 31 | 1u << 11 | 3u << 8 | (vec))
#define DF_INTINFO EXC_INFO(13, 0x33)

/* MOV to/from CRn and DRn with EBX (GPR 3), on zen2 (decode assists). */
#define MOV_CR(n, rw, op) \
  {"svm_intercept_cr" #n "_" #rw "_exits", I(CR##n##_##rw), "zen2", NULL, G(0x0f, op, 0xc3 | (n) << 3), \
   .exitcode = X(rw##_CR##n), .info1 = DA | 3, .nrip = L2 + 3, .rip = L2}
#define MOV_DR(n, rw, op) \
  {"svm_intercept_dr" #n "_" #rw "_exits", I(DR##n##_##rw), "zen2", NULL, G(0x0f, op, 0xc3 | (n) << 3), \
   .exitcode = X(rw##_DR##n), .info1 = 3, .nrip = L2 + 3, .rip = L2}
/* An instruction intercept with no exit information: RIP at it, NRIP
 * after it ("Instruction Intercepts", "Next RIP"). `pre` bytes run first. */
#define PLAIN(nm, cpu, setup, pre, ...) \
  {"svm_intercept_" #nm "_exits", I(nm), cpu, setup, G(__VA_ARGS__), .exitcode = X(nm), \
   .nrip = L2 + sizeof((const uint8_t[]){__VA_ARGS__}), .rip = L2 + (pre)}

static const struct svm_case cases[] = {
  /* "Instruction Intercepts", CR and DR accesses, with "Decode Assists". */
  MOV_CR(0, READ, 0x20), MOV_CR(2, READ, 0x20), MOV_CR(3, READ, 0x20), MOV_CR(4, READ, 0x20),
  MOV_CR(0, WRITE, 0x22), MOV_CR(2, WRITE, 0x22), MOV_CR(3, WRITE, 0x22), MOV_CR(4, WRITE, 0x22),
  {"svm_intercept_cr0_read_without_decode_assists_exits", I(CR0_READ), "zen", NULL, G(0x0f, 0x20, 0xc3),
   .exitcode = X(READ_CR0), .nrip = L2 + 3, .rip = L2},
  {"svm_intercept_clts_takes_cr0_write_exits", I(CR0_WRITE), "zen2", NULL, G(0x0f, 0x06),
   .exitcode = X(WRITE_CR0), .nrip = L2 + 2, .rip = L2},
  /* mov ebx, 10011h (sets WP); mov cr0, ebx */
  {"svm_intercept_cr0_sel_write_exits", I(CR0_SEL_WRITE), "zen2", NULL,
   G(0xbb, U32(0x10011), 0x0f, 0x22, 0xc3), .exitcode = X(CR0_SEL_WRITE), .info1 = DA | 3, .nrip = L2 + 8,
   .rip = L2 + 5},
  /* 64-bit guest: mov rax, cr8 / mov cr8, rax (REX.R). */
  {"svm_intercept_cr8_read_exits", I(CR8_READ), "zen", long_mode, G(0x44, 0x0f, 0x20, 0xc0),
   .exitcode = X(READ_CR8), .nrip = L2 + 4, .rip = L2},
  {"svm_intercept_cr8_write_exits", I(CR8_WRITE), "zen", long_mode, G(0x44, 0x0f, 0x22, 0xc0),
   .exitcode = X(WRITE_CR8), .nrip = L2 + 4, .rip = L2},
  MOV_DR(0, READ, 0x21), MOV_DR(1, READ, 0x21), MOV_DR(2, READ, 0x21), MOV_DR(3, READ, 0x21),
  MOV_DR(4, READ, 0x21), MOV_DR(5, READ, 0x21), MOV_DR(6, READ, 0x21), MOV_DR(7, READ, 0x21),
  MOV_DR(0, WRITE, 0x23), MOV_DR(1, WRITE, 0x23), MOV_DR(2, WRITE, 0x23), MOV_DR(3, WRITE, 0x23),
  MOV_DR(4, WRITE, 0x23), MOV_DR(5, WRITE, 0x23), MOV_DR(6, WRITE, 0x23), MOV_DR(7, WRITE, 0x23),

  /* "Exception Intercepts": EXITINFO1 the error code, EXITINFO2 CR2 for
   * #PF; fault-like (RIP at the instruction), NRIP only for INT3, INTO
   * and BOUND ("Next RIP"). */
  {"svm_intercept_excp_de_exits", I(EXCP_DE), "zen", NULL, G(0x31, 0xc9, 0xf7, 0xf1), .exitcode = X(EXCP_DE),
   .rip = L2 + 2},
  {"svm_intercept_excp_db_single_step_exits", I(EXCP_DB), "zen", trap_flag, G(0x90), .exitcode = X(EXCP_DB),
   .rip = L2 + 1},
  {"svm_intercept_excp_bp_exits", I(EXCP_BP), "zen", NULL, G(0xcc), .exitcode = X(EXCP_BP), .nrip = L2 + 1,
   .rip = L2},
  /* mov eax, 7fffffffh; inc eax; into */
  {"svm_intercept_excp_of_exits", I(EXCP_OF), "zen", NULL, G(0xb8, U32(0x7fffffff), 0x40, 0xce),
   .exitcode = X(EXCP_OF), .nrip = L2 + 7, .rip = L2 + 6},
  /* mov dword [BUF], 10; mov dword [BUF+4], 20; mov eax, 5; bound eax, [BUF] */
  {"svm_intercept_excp_br_exits", I(EXCP_BR), "zen", NULL,
   G(0xc7, 0x05, U32(BUF), U32(10), 0xc7, 0x05, U32(BUF + 4), U32(20), 0xb8, U32(5), 0x62, 0x05, U32(BUF)),
   .exitcode = X(EXCP_BR), .nrip = L2 + 31, .rip = L2 + 25},
  {"svm_intercept_excp_ud_exits", I(EXCP_UD), "zen", NULL, G(0x0f, 0x0b), .exitcode = X(EXCP_UD), .rip = L2},
  /* invpcid eax, [ebx] */
  {"svm_intercept_excp_ud_invpcid_absent_exits", I(EXCP_UD), "zen", invpcid_intercepted,
   G(0x66, 0x0f, 0x38, 0x82, 0x03), .exitcode = X(EXCP_UD), .rip = L2},
  /* fnop with CR0.TS = 1 */
  {"svm_intercept_excp_nm_exits", I(EXCP_NM), "zen", cr0_ts, G(0xd9, 0xd0), .exitcode = X(EXCP_NM), .rip = L2},
  /* ud2 with IDTR limit 0: #UD, then #GP delivering it (error code 33h:
   * IDT entry 6, EXT), then #GP delivering that: a double fault, error
   * code 0. EXITINTINFO is the #GP whose delivery raised it (the event
   * being delivered, "Event Injection"); Bochs 2.7 writes 0 for an
   * intercepted #DF, QEMU the #GP as here — the APM does not single out
   * #DF. */
  {"svm_intercept_excp_df_exits", I(EXCP_DF), "zen", NULL, G(0x0f, 0x0b), .exitcode = X(EXCP_DF),
   .intinfo = DF_INTINFO, .rip = L2},
  /* mov ax, 18h; mov ds, ax (not present) */
  {"svm_intercept_excp_np_exits", I(EXCP_NP), "zen", gdt_not_present, G(0x66, 0xb8, 0x18, 0x00, 0x8e, 0xd8),
   .exitcode = X(EXCP_NP), .info1 = 0x18, .rip = L2 + 4},
  /* mov ax, 18h; mov ss, ax (not present) */
  {"svm_intercept_excp_ss_exits", I(EXCP_SS), "zen", gdt_not_present, G(0x66, 0xb8, 0x18, 0x00, 0x8e, 0xd0),
   .exitcode = X(EXCP_SS), .info1 = 0x18, .rip = L2 + 4},
  /* mov ax, 28h; mov ds, ax (beyond the GDT limit) */
  {"svm_intercept_excp_gp_exits", I(EXCP_GP), "zen", NULL, G(0x66, 0xb8, 0x28, 0x00, 0x8e, 0xd8),
   .exitcode = X(EXCP_GP), .info1 = 0x28, .rip = L2 + 4},
  /* int 40h through a task gate to a TSS whose limit is too small:
   * #TS(28h) while delivering the INT (EXITINTINFO: type 4, vector 40h). */
  {"svm_intercept_excp_ts_exits", I(EXCP_TS), "zen", task_gate_to_short_tss, G(0xcd, 0x40),
   .exitcode = X(EXCP_TS), .info1 = 0x28, .intinfo = 1u << 31 | 4u << 8 | 0x40, .rip = L2},
  /* CR0.NE = 1; FPU control word 37Bh (zero-divide unmasked); fninit;
   * fldcw; fldz; fld1; fdiv st0, st1; fwait: #MF at the FWAIT */
  {"svm_intercept_excp_mf_exits", I(EXCP_MF), "zen", cr0_ne,
   G(0x66, 0xc7, 0x05, U32(BUF), 0x7b, 0x03, 0xdb, 0xe3, 0xd9, 0x2d, U32(BUF), 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1, 0x9b),
   .exitcode = X(EXCP_MF), .rip = L2 + 23},
  /* The pending x87 error is reported at the next waiting x87
   * instruction, not only at FWAIT: fld1 where the FWAIT was (SDM Vol. 1,
   * "x87 FPU Exception Synchronization"; sim/fpu_except.h). */
  {"svm_intercept_excp_mf_at_waiting_x87_insn_exits", I(EXCP_MF), "zen", cr0_ne,
   G(0x66, 0xc7, 0x05, U32(BUF), 0x7b, 0x03, 0xdb, 0xe3, 0xd9, 0x2d, U32(BUF), 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1, 0xd9, 0xe8),
   .exitcode = X(EXCP_MF), .rip = L2 + 23},
  /* CR0.NE = 0: the same error freezes the processor before the fld1
   * ("Intercept processor 'freezing' during legacy FERR handling"). */
  {"svm_intercept_ferr_freeze_exits", I(FERR_FREEZE), "zen", NULL,
   G(0x66, 0xc7, 0x05, U32(BUF), 0x7b, 0x03, 0xdb, 0xe3, 0xd9, 0x2d, U32(BUF), 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1, 0xd9, 0xe8),
   .exitcode = X(FERR_FREEZE), .rip = L2 + 23},
  /* MXCSR 1D80h (zero-divide unmasked), 1.0 / 0: mov dword [BUF], 1d80h;
   * ldmxcsr [BUF]; mov eax, 3f800000h; movd xmm0, eax; xorps xmm1, xmm1;
   * divss xmm0, xmm1: #XF, a fault ("Interrupt 19—SIMD Floating-Point
   * Exception (#XF)"). */
  {"svm_intercept_excp_xf_exits", I(EXCP_XF), "zen", cr4_sse_xf, G(SSE_ONE_BY_ZERO), .exitcode = X(EXCP_XF),
   .rip = L2 + 29},
  /* CR4.OSXMMEXCPT = 0: the same exception is #UD. */
  {"svm_intercept_excp_ud_simd_exception_without_osxmmexcpt_exits", I(EXCP_UD), "zen", cr4_sse_no_xf,
   G(SSE_ONE_BY_ZERO), .exitcode = X(EXCP_UD), .rip = L2 + 29},
  /* At CPL 3 with CR0.AM and RFLAGS.AC: mov ax, [BUF + 1], a word at an
   * odd address: #AC(0), a fault (sim/align_check.h). */
  {"svm_intercept_excp_ac_exits", I(EXCP_AC), "zen", cpl3_alignment_check, G(0x66, 0xa1, U32(BUF + 1)),
   .exitcode = X(EXCP_AC), .info1 = 0, .rip = L2},
  /* mov eax, [800000h] (not mapped) */
  {"svm_intercept_excp_pf_exits", I(EXCP_PF), "zen", guest_paging, G(0xa1, U32(0x800000)), .exitcode = X(EXCP_PF),
   .info1 = 0, .info2 = 0x800000, .rip = L2},
  /* An injected machine check while the guest loops (jmp $): #VMEXIT
   * with EXITINFO1/2 0, the guest RIP the loop's; the host's exit shows it
   * did not receive the #MC itself (its IDT would triple-fault). Without
   * the intercept the guest's own #MC delivery (IDTR limit 0) shuts down. */
  {"svm_intercept_excp_mc_exits", I(EXCP_MC), "zen", mce_enabled, G(0xeb, 0xfe), .exitcode = X(EXCP_MC), .rip = L2,
   .mce = &mce_in_guest},
  /* With the guest's CR4.MCE = 0 the machine check is a shutdown, before
   * the EXCP_MC intercept (also set) is consulted: #VMEXIT(SHUTDOWN). */
  {"svm_intercept_shutdown_machine_check_cr4_mce_clear_exits", I(SHUTDOWN), "zen", mce_without_cr4_mce, G(0xeb, 0xfe),
   .exitcode = X(SHUTDOWN), .rip = L2, .mce = &mce_in_guest},

  /* "Interrupt Intercepts": EXITINFO1/2 0, no NRIP. */
  {"svm_intercept_intr_exits", I(INTR), "zen", timer, G(0xeb, 0xfe), .exitcode = X(INTR), .rip = L2},
  /* ICR: NMI / SMI / INIT to self; jmp $. When after the write the
   * processor takes the signal is the implementation's: the loop holds
   * RIP so the exit's RIP is exact. */
  {"svm_intercept_nmi_exits", I(NMI), "zen", NULL, G(0xc7, 0x05, U32(APIC + 0x300), U32(0x400), 0xeb, 0xfe),
   .exitcode = X(NMI), .rip = L2 + 10},
  {"svm_intercept_smi_exits", I(SMI), "zen", NULL, G(0xc7, 0x05, U32(APIC + 0x300), U32(0x200), 0xeb, 0xfe),
   .exitcode = X(SMI), .rip = L2 + 10},
  {"svm_intercept_init_exits", I(INIT), "zen", NULL, G(0xc7, 0x05, U32(APIC + 0x300), U32(0x4500), 0xeb, 0xfe),
   .exitcode = X(INIT), .rip = L2 + 10},
  /* INIT with VM_CR.R_INIT and no INIT intercept: #SX with error code 1
   * ("Security Exception (#SX)"), taken at the boundary after the write. */
  {"svm_intercept_excp_sx_redirected_init_exits", I(EXCP_SX), "zen", init_redirection,
   G(0xc7, 0x05, U32(APIC + 0x300), U32(0x4500), 0xeb, 0xfe), .exitcode = X(EXCP_SX), .info1 = 1, .rip = L2 + 10},
  /* The INIT intercept comes before the redirection. */
  {"svm_intercept_init_exits_before_redirection", I(INIT), "zen", init_redirection,
   G(0xc7, 0x05, U32(APIC + 0x300), U32(0x4500), 0xeb, 0xfe), .exitcode = X(INIT), .rip = L2 + 10},
  {"svm_intercept_vintr_exits", I(VINTR), "zen", virq, G(0x90), .exitcode = X(VINTR), .rip = L2},

  /* Descriptor-table accesses. */
  PLAIN(IDTR_READ, "zen", NULL, 0, 0x0f, 0x01, 0x0d, U32(BUF)),
  PLAIN(GDTR_READ, "zen", NULL, 0, 0x0f, 0x01, 0x05, U32(BUF)),
  PLAIN(LDTR_READ, "zen", NULL, 0, 0x0f, 0x00, 0xc0),
  PLAIN(TR_READ, "zen", NULL, 0, 0x0f, 0x00, 0xc8),
  PLAIN(IDTR_WRITE, "zen", NULL, 0, 0x0f, 0x01, 0x1d, U32(BUF)),
  PLAIN(GDTR_WRITE, "zen", NULL, 0, 0x0f, 0x01, 0x15, U32(BUF)),
  PLAIN(LDTR_WRITE, "zen", NULL, 2, 0x31, 0xc0, 0x0f, 0x00, 0xd0),
  PLAIN(TR_WRITE, "zen", NULL, 2, 0x31, 0xc0, 0x0f, 0x00, 0xd8),
  /* Other instructions. */
  PLAIN(RDTSC, "zen", NULL, 0, 0x0f, 0x31),
  PLAIN(RDPMC, "zen", NULL, 2, 0x31, 0xc9, 0x0f, 0x33),
  PLAIN(PUSHF, "zen", NULL, 0, 0x9c),
  PLAIN(POPF, "zen", NULL, 0, 0x9d),
  PLAIN(CPUID, "zen", NULL, 0, 0x0f, 0xa2),
  PLAIN(IRET, "zen", NULL, 0, 0xcf),
  PLAIN(INVD, "zen", NULL, 0, 0x0f, 0x08),
  PLAIN(PAUSE, "zen", NULL, 0, 0xf3, 0x90),
  PLAIN(HLT, "zen", NULL, 0, 0xf4),
  PLAIN(RDTSCP, "zen", NULL, 0, 0x0f, 0x01, 0xf9),
  PLAIN(ICEBP, "zen", NULL, 0, 0xf1),
  PLAIN(WBINVD, "zen", NULL, 0, 0x0f, 0x09),
  /* mov eax, BUF; xor ecx, ecx; xor edx, edx; monitor */
  PLAIN(MONITOR, "zen", NULL, 9, 0xb8, U32(BUF), 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8),
  PLAIN(MWAIT, "zen", NULL, 4, 0x31, 0xc0, 0x31, 0xc9, 0x0f, 0x01, 0xc9),
  /* "Instruction Intercepts", MWAIT "if the monitor hardware is armed"
   * (exit 8Ch): MONITOR arms it on BUF's line (mov eax, BUF; xor ecx,
   * ecx; xor edx, edx; monitor), then xor eax, eax; mwait. */
  {"svm_intercept_mwait_armed_exits", I(MWAIT_ARMED), "zen", NULL,
   G(0xb8, U32(BUF), 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8, 0x31, 0xc0, 0x0f, 0x01, 0xc9),
   .exitcode = X(MWAIT_COND), .nrip = L2 + 17, .rip = L2 + 14},
  /* Both MWAIT intercepts with the monitor armed: the armed one is
   * reported (the APM orders neither; Bochs 2.7 reports 8Ch). Without it
   * the unconditional one exits (8Bh), which the negative run sees. */
  {"svm_intercept_mwait_armed_before_unconditional_exits", I(MWAIT_ARMED), "zen", mwait_intercepted,
   G(0xb8, U32(BUF), 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8, 0x31, 0xc0, 0x0f, 0x01, 0xc9),
   .exitcode = X(MWAIT_COND), .nrip = L2 + 17, .rip = L2 + 14},
  /* A store to another line (mov [BUF+40h], eax) leaves the monitor armed. */
  {"svm_intercept_mwait_armed_after_store_elsewhere_exits", I(MWAIT_ARMED), "zen", NULL,
   G(0xb8, U32(BUF), 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8, 0xa3, U32(BUF + 0x40), 0x31, 0xc0, 0x0f, 0x01, 0xc9),
   .exitcode = X(MWAIT_COND), .nrip = L2 + 22, .rip = L2 + 19},
  /* MONITOR's intercept comes before its #GP for ECX != 0, an operand
   * value (mov eax, BUF; mov ecx, 1; xor edx, edx; monitor); the #GP
   * intercept, set too, takes that #GP in the negative run. */
  {"svm_intercept_monitor_before_ecx_gp_exits", I(MONITOR), "zen", gp_intercepted,
   G(0xb8, U32(BUF), 0xb9, U32(1), 0x31, 0xd2, 0x0f, 0x01, 0xc8), .exitcode = X(MONITOR), .nrip = L2 + 15,
   .rip = L2 + 12},
  /* MONITOR's address is walked as a read: #PF (EXITINFO1 0: not present,
   * read, supervisor; EXITINFO2 the address) for an unmapped one (mov
   * eax, 800000h; xor ecx, ecx; xor edx, edx; monitor). */
  {"svm_intercept_excp_pf_monitor_exits", I(EXCP_PF), "zen", guest_paging,
   G(0xb8, U32(0x800000), 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8), .exitcode = X(EXCP_PF), .info2 = 0x800000,
   .rip = L2 + 9},
  /* Without MONITOR nothing is armed: MWAIT runs on to the VMMCALL. */
  {"svm_intercept_mwait_armed_unarmed_runs_on", NO_INTERCEPT, "zen", mwait_armed_intercepted,
   G(0x31, 0xc0, 0x31, 0xc9, 0x0f, 0x01, 0xc9), .exitcode = X(VMMCALL), .nrip = L2 + 10, .rip = L2 + 7},
  /* A store into the monitored line (mov [BUF+8], eax) disarms it. */
  {"svm_intercept_mwait_armed_after_store_to_line_runs_on", NO_INTERCEPT, "zen", mwait_armed_intercepted,
   G(0xb8, U32(BUF), 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8, 0xa3, U32(BUF + 8), 0x31, 0xc0, 0x0f, 0x01, 0xc9),
   .exitcode = X(VMMCALL), .nrip = L2 + 25, .rip = L2 + 22},
  /* xor ecx, ecx; xor edx, edx; mov eax, 1; xsetbv (CR4.OSXSAVE) */
  PLAIN(XSETBV, "zen", cr4_osxsave, 9, 0x31, 0xc9, 0x31, 0xd2, 0xb8, U32(1), 0x0f, 0x01, 0xd1),
  PLAIN(RDPRU, "zen2", NULL, 2, 0x31, 0xc9, 0x0f, 0x01, 0xfd),
  /* The guest's SVM instructions, rAX = VMCB2. */
  PLAIN(VMRUN, "zen", NULL, 5, 0xb8, U32(VMCB2), 0x0f, 0x01, 0xd8),
  PLAIN(VMMCALL, "zen", NULL, 0, 0x0f, 0x01, 0xd9),
  PLAIN(VMLOAD, "zen", NULL, 5, 0xb8, U32(VMCB2), 0x0f, 0x01, 0xda),
  PLAIN(VMSAVE, "zen", NULL, 5, 0xb8, U32(VMCB2), 0x0f, 0x01, 0xdb),
  PLAIN(STGI, "zen", NULL, 0, 0x0f, 0x01, 0xdc),
  PLAIN(CLGI, "zen", NULL, 0, 0x0f, 0x01, 0xdd),
  PLAIN(SKINIT, "zen", NULL, 5, 0xb8, U32(VMCB2), 0x0f, 0x01, 0xde),
  /* SKINIT at CPL 3: its #GP(0) is a simple exception and comes before
   * the SKINIT intercept ("Instruction Intercepts"; APM Vol. 3, SKINIT,
   * "#GP: CPL was not zero"); at CPL 0 the intercept exits (above). */
  {"svm_intercept_excp_gp_skinit_cpl3_before_intercept_exits", I(EXCP_GP), "zen", cpl3_skinit_intercepted,
   G(0xb8, U32(VMCB2), 0x0f, 0x01, 0xde), .exitcode = X(EXCP_GP), .rip = L2 + 5},
  /* INT n: EXITINFO1 the vector with decode assists. */
  {"svm_intercept_intn_exits", I(INTN), "zen2", NULL, G(0xcd, 0x30), .exitcode = X(SWINT), .info1 = 0x30,
   .nrip = L2 + 2, .rip = L2},
  /* invlpg [BUF]: EXITINFO1 the linear address with decode assists. */
  {"svm_intercept_invlpg_exits", I(INVLPG), "zen2", NULL, G(0x0f, 0x01, 0x3d, U32(BUF)), .exitcode = X(INVLPG),
   .info1 = BUF, .nrip = L2 + 7, .rip = L2},
  /* mov eax, BUF; xor ecx, ecx; invlpga: EXITINFO1 rAX with decode assists. */
  {"svm_intercept_invlpga_exits", I(INVLPGA), "zen2", NULL, G(0xb8, U32(BUF), 0x31, 0xc9, 0x0f, 0x01, 0xdf),
   .exitcode = X(INVLPGA), .info1 = BUF, .nrip = L2 + 10, .rip = L2 + 7},
  /* "I/O Intercepts": in al, 72h; EXITINFO2 the next RIP. */
  {"svm_intercept_ioio_exits", I(IOIO_PROT), "zen", io_port, G(0xe4, PORT), .exitcode = X(IOIO),
   .info1 = (uint64_t)PORT << 16 | 1 << 0 | 1 << 4 | 1 << 8, .info2 = L2 + 2, .nrip = L2 + 2, .rip = L2},
  /* "MSR Intercepts": mov ecx, 10h; rdmsr (EXITINFO1 0) / wrmsr (1). */
  {"svm_intercept_msr_read_exits", I(MSR_PROT), "zen", msr_tsc_read, G(0xb9, U32(0x10), 0x0f, 0x32),
   .exitcode = X(MSR), .info1 = 0, .nrip = L2 + 7, .rip = L2 + 5},
  {"svm_intercept_msr_write_exits", I(MSR_PROT), "zen", msr_tsc_write, G(0xb9, U32(0x10), 0x0f, 0x30),
   .exitcode = X(MSR), .info1 = 1, .nrip = L2 + 7, .rip = L2 + 5},
  /* "Miscellaneous Intercepts": jmp far 28h:0 to a TSS — EXITINFO1 the
   * selector, EXITINFO2 bit 38 (JMP), no NRIP. */
  {"svm_intercept_task_switch_exits", I(TASK_SWITCH), "zen", gdt_tss, G(0xea, U32(0), 0x28, 0x00),
   .exitcode = X(TASK_SWITCH), .info1 = 0x28, .info2 = 1ull << 38, .rip = L2},
  /* ud2 with IDTR limit 0: a triple fault. */
  {"svm_intercept_shutdown_exits", I(SHUTDOWN), "zen", NULL, G(0x0f, 0x0b), .exitcode = X(SHUTDOWN), .rip = L2},

  /* Exits no intercept bit asks for. "Nested Page Faults (#NPF)": mov eax,
   * [800000h] beyond the nested tables — EXITINFO1 the error code (U, bit
   * 32: the final translation), EXITINFO2 the guest-physical address. */
  {"svm_exit_npf_exits", NO_INTERCEPT, "zen", nested_paging, G(0xa1, U32(0x800000)), .exitcode = X(NPF),
   .info1 = 1ull << 32 | 1 << 2, .info2 = 0x800000, .rip = L2},
  /* "Canonicalization and Consistency Checks": ASID 0 fails VMRUN. */
  {"svm_exit_invalid_for_asid_zero", NO_INTERCEPT, "zen", asid_zero, G(0x90), .exitcode = X(INVALID), .rip = L2},
};
#define CASE_COUNT (sizeof cases / sizeof cases[0])

/* ---- the runner ------------------------------------------------------------- */

/* EXITCODE before VMRUN: no catalogue code, so a run that never reaches
 * #VMEXIT (a triple fault, a halt) is not mistaken for one. */
#define NO_EXIT 0xdeadu

/* The case's host and guest, with its intercept bit set or, for the
 * negative run, clear. */
static struct machine *run_case(const struct svm_case *c, bool intercept, char *why, size_t n)
{
  struct guest g;
  host_start(&g);
  if (c->intercept >= 0) {
    const struct svm_intercept_info *in = &svm_intercepts[c->intercept];
    if (intercept) or32(&g, VMCB + 4u * in->word, 1u << in->bit);
    else and32(&g, VMCB + 4u * in->word, ~(1u << in->bit));
  }
  if (c->setup) c->setup(&g);
  wr32(&g, VMCB + OFF(control.exitcode), NO_EXIT);
  EMIT(&g, 0xb8, U32(VMCB), 0x0f, 0x01, 0xd8);   /* mov eax, VMCB; vmrun */
  EMIT(&g, 0xb0, 0x00, 0xe6, 0xf4, 0xeb, 0xfe);  /* isa-debug-exit, status 1 */
  if (g.at > L2) {
    snprintf(why, n, "%s: host code runs into the guest's", c->name);
    return NULL;
  }
  g.at = L2;
  put(&g, c->code, c->len);
  EMIT(&g, 0x0f, 0x01, 0xd9);                    /* vmmcall */
  struct machine_options opt = {.cpu = cpu_model_find(c->cpu), .ram_size = 4u << 20, .max_insns = 2000000,
                                .image_name = c->name, .mce = c->mce, .mce_count = c->mce ? 1 : 0};
  if (!opt.cpu) {
    snprintf(why, n, "%s: no CPU model %s", c->name, c->cpu);
    return NULL;
  }
  char err[256] = "";
  struct machine *m = machine_create(&opt, g.file, sizeof g.file, err, sizeof err);
  if (!m) {
    snprintf(why, n, "%s: machine_create: %s", c->name, err);
    return NULL;
  }
  machine_run(m);
  return m;
}


static uint64_t vmcb64(const struct machine *m, uint32_t off)
{
  uint64_t v;
  memcpy(&v, m->ram + VMCB + off, sizeof v);
  return v;
}

/* Without its intercept the same guest must not exit with the case's
 * code (it runs on, faults, or halts): the exit is the intercept's doing. */
static bool negative_holds(const struct svm_case *c, char *why, size_t n)
{
  if (c->intercept < 0) return true;   /* no bit to clear */
  struct machine *m = run_case(c, false, why, n);
  if (!m) return false;
  uint64_t code = vmcb64(m, OFF(control.exitcode));
  machine_destroy(m);
  if (code != c->exitcode) return true;
  snprintf(why, n, "%s: without the %s intercept the guest still exits with 0x%llx", c->name,
           svm_intercepts[c->intercept].name, (unsigned long long)code);
  return false;
}

/* Runs the case with and without its intercept and compares; `why` says
 * what differed. No cmocka assertions, so `--covers` runs it too. */
static bool case_holds(const struct svm_case *c, char *why, size_t n)
{
  struct machine *m = run_case(c, true, why, n);
  if (!m) return false;
  bool ok = false;
  if (m->stop != STOP_DEBUG_EXIT || m->exit_status != 1) {
    snprintf(why, n, "%s: the run ended with stop %d (%s), not the host's exit", c->name, (int)m->stop,
             m->stop_detail);
    goto out;
  }
  const struct {
    const char *field;
    uint32_t off;
    uint64_t want;
  } f[] = {
    {"EXITCODE", OFF(control.exitcode), c->exitcode}, {"EXITINFO1", OFF(control.exitinfo1), c->info1},
    {"EXITINFO2", OFF(control.exitinfo2), c->info2},  {"EXITINTINFO", OFF(control.exitintinfo), c->intinfo},
    {"NRIP", OFF(control.nrip), c->nrip},             {"guest RIP", OFF(save.rip), c->rip},
  };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    uint64_t got = vmcb64(m, f[i].off);
    if (got == f[i].want) continue;
    const char *name = svm_exit_name(vmcb64(m, OFF(control.exitcode)));
    snprintf(why, n, "%s: %s = 0x%llx, expected 0x%llx (EXITCODE 0x%llx %s)", c->name, f[i].field,
             (unsigned long long)got, (unsigned long long)f[i].want,
             (unsigned long long)vmcb64(m, OFF(control.exitcode)), name ? name : "?");
    goto out;
  }
  ok = true;
out:
  machine_destroy(m);
  return ok && negative_holds(c, why, n);
}

static void run_one(void **state)
{
  const struct svm_case *c = *state;
  char why[512] = "";
  if (!case_holds(c, why, sizeof why)) fail_msg("%s", why);
}

/* --covers: the intercept and the exit code of every case that passes. */
static void covered(void)
{
  char why[512];
  for (size_t i = 0; i < CASE_COUNT; i++) {
    const struct svm_case *c = &cases[i];
    if (!case_holds(c, why, sizeof why)) continue;
    if (c->intercept >= 0) printf("intercept %s\n", svm_intercepts[c->intercept].name);
    const char *exit = svm_exit_name(c->exitcode);
    if (exit) printf("exit_code %s\n", exit);
  }
}

#if defined(__SANITIZE_ADDRESS__)
/* This binary creates and destroys about two hundred machines; with
 * AddressSanitizer's default quarantine (256 MiB of freed memory held back)
 * every machine_create once the quarantine is full costs about 200 ms
 * (measured: 26 s for the binary, 2 s without the quarantine). The other
 * machine tests, with few machines each, keep the default. Options given
 * in ASAN_OPTIONS still override this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=0"; }
#endif

int main(int argc, char **argv)
{
  static struct CMUnitTest tests[CASE_COUNT];
  for (size_t i = 0; i < CASE_COUNT; i++)
    tests[i] = (struct CMUnitTest){.name = cases[i].name, .test_func = run_one, .initial_state = (void *)&cases[i]};
  return cov_main(argc, argv, "svm_intercepts", tests, CASE_COUNT, covered);
}
