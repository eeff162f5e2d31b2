/* The vCPU's architectural state, owned by the model (not by Unicorn).
 *
 * This is part of the small machine interface the models are handed: the VMX
 * and SVM models read it to check an instruction's preconditions and write it
 * on world switches; the simulator copies it into and out of Unicorn around
 * execution. Field names follow the Intel SDM / AMD APM register names. */
#ifndef HVSIM_SIM_CPU_STATE_H
#define HVSIM_SIM_CPU_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum gpr {
  GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
  GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
  GPR_COUNT
};

enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* Segment access rights in the VMCS "access rights" layout (SDM Vol. 3C,
 * "Guest Register State"): type[3:0], S[4], DPL[6:5], P[7], AVL[12], L[13],
 * D/B[14], G[15], unusable[16]. The VMCB's 12-bit attrib field is the same
 * bits with [11:8] dropped, so both vendors convert cheaply. */
#define SEG_AR_TYPE(ar)    ((ar) & 0xF)
#define SEG_AR_S           (1u << 4)
#define SEG_AR_DPL(ar)     (((ar) >> 5) & 3)
#define SEG_AR_P           (1u << 7)
#define SEG_AR_AVL         (1u << 12)
#define SEG_AR_L           (1u << 13)
#define SEG_AR_DB          (1u << 14)
#define SEG_AR_G           (1u << 15)
#define SEG_AR_UNUSABLE    (1u << 16)

struct segment {
  uint16_t selector;
  uint64_t base;
  uint32_t limit;      /* byte-granular, already scaled by G */
  uint32_t ar;         /* SEG_AR_* layout */
};

struct dtable {
  uint64_t base;
  uint32_t limit;
};

/* Control register bits used across the simulator and models. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_LA57       (1ull << 12)
#define CR4_VMXE       (1ull << 13)
#define CR4_SMXE       (1ull << 14)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define CR4_PKE        (1ull << 22)
#define CR4_CET        (1ull << 23)

#define EFER_SCE   (1ull << 0)
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define EFER_NXE   (1ull << 11)
#define EFER_SVME  (1ull << 12)
#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE   (1ull << 15)

#define RFLAGS_CF  (1ull << 0)
#define RFLAGS_FIXED1 (1ull << 1)
#define RFLAGS_TF  (1ull << 8)
#define RFLAGS_IF  (1ull << 9)
#define RFLAGS_DF  (1ull << 10)
#define RFLAGS_IOPL(f) (((f) >> 12) & 3)
#define RFLAGS_NT  (1ull << 14)
#define RFLAGS_RF  (1ull << 16)
#define RFLAGS_VM  (1ull << 17)
#define RFLAGS_AC  (1ull << 18)
#define RFLAGS_VIF (1ull << 19)
#define RFLAGS_VIP (1ull << 20)
#define RFLAGS_ID  (1ull << 21)

struct cpu_state {
  uint64_t gpr[GPR_COUNT];
  uint64_t rip;
  uint64_t rflags;

  struct segment seg[SEG_COUNT];
  struct dtable gdtr, idtr;

  uint64_t cr0, cr2, cr3, cr4, cr8;
  uint64_t xcr0;
  uint64_t dr[8];      /* DR4/DR5 alias DR6/DR7 when CR4.DE=0; slots 4,5 unused */

  /* MSRs with architectural effect on execution; the rest live in the
   * simulator's MSR table. */
  uint64_t efer;
  uint64_t pat;
  uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
  uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
  uint64_t debugctl;
  uint64_t tsc_aux;
  uint32_t pkru;

  /* PAE PDPTE registers, loaded when hardware loads them (MOV CR3, MOV CR0/CR4
   * that enables PAE paging outside long mode). */
  uint64_t pdpte[4];

  /* Interruptibility (STI / MOV SS blocking) and NMI blocking, needed by both
   * vendors' event-injection and exit rules. */
  bool sti_blocking, movss_blocking, nmi_blocking;
  bool halted;
};

/* Current privilege level: CS.DPL in protected mode (SS.DPL equals it), 3 in
 * virtual-8086 mode, 0 in real mode. */
static inline unsigned cpu_cpl(const struct cpu_state *s)
{
  if (!(s->cr0 & CR0_PE)) return 0;
  if (s->rflags & RFLAGS_VM) return 3;
  return SEG_AR_DPL(s->seg[SEG_CS].ar);
}

static inline bool cpu_long_mode_active(const struct cpu_state *s) { return (s->efer & EFER_LMA) != 0; }

/* 64-bit mode: IA-32e mode active and CS.L set. */
static inline bool cpu_in_64bit_mode(const struct cpu_state *s)
{
  return cpu_long_mode_active(s) && (s->seg[SEG_CS].ar & SEG_AR_L);
}

#endif
