/* The machine-check architecture of the vCPU: the global MCG registers and
 * a few error-reporting banks (their number is the CPU model's:
 * sim/cpu_models.c), their RDMSR/WRMSR rules, and the deterministic
 * injection of machine-check errors that `hvsim run --mce` asks for (SDM
 * Vol. 3B, chapter "Machine-Check Architecture": "Machine-Check MSRs",
 * "IA32_MCG_CAP MSR", "IA32_MCG_STATUS MSR", "IA32_MCG_CTL MSR",
 * "IA32_MCi_CTL MSRs", "IA32_MCi_STATUS MSRS", "IA32_MCi_ADDR MSRs",
 * "IA32_MCi_MISC MSRs"; AMD APM Vol. 2, chapter "Machine Check
 * Architecture").
 *
 * Real hardware raises machine checks on hardware errors only; the machine
 * has none, so every error comes from an injection: at a virtual time
 * (m->insns) the error is logged into its bank and, when it is an
 * uncorrected error whose signaling is enabled, #MC is signaled at the
 * next instruction boundary (sim/irq.c takes it, above every other event:
 * SDM Vol. 3A, "Priority Among Concurrent Exceptions and Interrupts").
 * An injection marked `vm_entry` is held instead until the next VMX VM
 * entry, which then fails with exit reason 41 (SDM Vol. 3C, "Machine-Check
 * Events During VM Entry"). */
#ifndef HVSIM_SIM_MCA_H
#define HVSIM_SIM_MCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

/* The most banks any CPU model has (cpu_model.mca_banks). */
#define MCA_MAX_BANKS 8
/* The most injections one run takes (--mce may be repeated). */
#define MCA_MAX_INJECTIONS 8

/* IA32_MCG_CAP ("IA32_MCG_CAP MSR"): Count in bits 7:0, MCG_CTL_P. */
#define MCG_CAP_COUNT_MASK 0xffull
#define MCG_CAP_CTL_P      (1ull << 8)
/* IA32_MCG_STATUS ("IA32_MCG_STATUS MSR"); bits 63:3 reserved (no model
 * has MCG_LMCE_P, whose LMCE_S would be bit 3). */
#define MCG_STATUS_RIPV    (1ull << 0)
#define MCG_STATUS_EIPV    (1ull << 1)
#define MCG_STATUS_MCIP    (1ull << 2)
#define MCG_STATUS_DEFINED (MCG_STATUS_RIPV | MCG_STATUS_EIPV | MCG_STATUS_MCIP)
/* IA32_MCi_STATUS ("IA32_MCi_STATUS MSRS"). */
#define MCI_STATUS_VAL     (1ull << 63)
#define MCI_STATUS_OVER    (1ull << 62)
#define MCI_STATUS_UC      (1ull << 61)
#define MCI_STATUS_EN      (1ull << 60)
#define MCI_STATUS_MISCV   (1ull << 59)
#define MCI_STATUS_ADDRV   (1ull << 58)
#define MCI_STATUS_PCC     (1ull << 57)

/* How WRMSR treats an MCA register (the SDM section in the table). */
enum mca_write_rule {
  MCA_WRITE_GP,          /* any write raises #GP(0) */
  MCA_WRITE_DEFINED,     /* the defined bits; a reserved bit set raises #GP(0) */
  MCA_WRITE_ANY,         /* any value */
  MCA_WRITE_ZERO,        /* cleared by writing 0; writing 1s raises #GP(0) */
};

/* The MCA MSRs, one table: X(name, index, per_bank, write rule, section
 * of SDM Vol. 3B, chapter "Machine-Check Architecture"). Per-bank
 * registers come four to a bank from 400H (CTL, STATUS, ADDR, MISC at
 * 400H + 4i + 0..3, "Machine-Check MSRs"); `index` is bank 0's.
 *  - IA32_MCG_CAP: "The effect of writing to the IA32_MCG_CAP MSR is
 *    undefined": the machine raises #GP, as KVM does for a guest.
 *  - IA32_MCG_STATUS: bits 63:3 reserved; RIPV, EIPV and MCIP writable
 *    ("Software can set or clear this flag", of MCIP).
 *  - IA32_MCG_CTL: present only with MCG_CTL_P (else #GP, "IA32_MCG_CTL
 *    MSR"); on the AMD models bit i enables bank i's machine-check
 *    reporting (AMD APM Vol. 2, "Machine-Check Global-Control Register
 *    (MCG_CTL)"), any value accepted.
 *  - IA32_MCi_CTL: one enable bit per error; only P6-family processors
 *    restrict writes to all 0s or all 1s, so any value.
 *  - IA32_MCi_STATUS: "Software is responsible for clearing
 *    IA32_MCi_STATUS MSRs by explicitly writing 0s to them; writing 1s to
 *    them causes a general-protection exception" (on AMD the exception to
 *    that, HWCR.McStatusWrEn, is not modelled: HWCR reads as absent).
 *  - IA32_MCi_ADDR, IA32_MCi_MISC: implemented, so "can be cleared by
 *    explicitly writing 0s ...; writing 1s ... causes a general-protection
 *    exception". */
#define MCA_MSRS(X)                                                                      \
  X(IA32_MCG_CAP, 0x179, false, MCA_WRITE_GP, "IA32_MCG_CAP MSR")                        \
  X(IA32_MCG_STATUS, 0x17a, false, MCA_WRITE_DEFINED, "IA32_MCG_STATUS MSR")             \
  X(IA32_MCG_CTL, 0x17b, false, MCA_WRITE_ANY, "IA32_MCG_CTL MSR")                       \
  X(IA32_MC0_CTL, 0x400, true, MCA_WRITE_ANY, "IA32_MCi_CTL MSRs")                       \
  X(IA32_MC0_STATUS, 0x401, true, MCA_WRITE_ZERO, "IA32_MCi_STATUS MSRS")                \
  X(IA32_MC0_ADDR, 0x402, true, MCA_WRITE_ZERO, "IA32_MCi_ADDR MSRs")                    \
  X(IA32_MC0_MISC, 0x403, true, MCA_WRITE_ZERO, "IA32_MCi_MISC MSRs")

enum mca_msr {
#define X(name, index, per_bank, rule, section) MSR_##name = index,
  MCA_MSRS(X)
#undef X
};
/* The per-bank range: 400H up to (not including) 400H + 4 * MCA_MAX_BANKS
 * is the MCA's, banks beyond the model's count raising #GP. */
#define MCA_BANK_MSR(bank, reg) (MSR_IA32_MC0_CTL + 4u * (bank) + (reg))

/* One error to inject (the --mce option; see docs/mca.md). */
struct mca_injection {
  uint64_t at;           /* virtual time (instructions retired) */
  unsigned bank;
  uint64_t status;       /* IA32_MCi_STATUS as logged (VAL set) */
  uint64_t addr, misc;   /* IA32_MCi_ADDR / MISC, logged with ADDRV / MISCV */
  uint64_t mcg_status;   /* RIPV and EIPV as the error leaves them */
  bool vm_entry;         /* held until the next VMX VM entry: exit reason 41 */
};

struct mca_bank { uint64_t ctl, status, addr, misc; };

struct mca {
  unsigned banks;                          /* the CPU model's count */
  bool ctl_p;                              /* IA32_MCG_CTL present */
  uint64_t mcg_status, mcg_ctl;
  struct mca_bank bank[MCA_MAX_BANKS];
  struct mca_injection inject[MCA_MAX_INJECTIONS];   /* by time, stable */
  bool done[MCA_MAX_INJECTIONS];           /* logged (or its VM entry failed) */
  unsigned count;
  bool signal;                             /* #MC to take at the next boundary */
  uint64_t pending_mcg;                    /* ... with these RIPV / EIPV */
};

/* Parses one --mce value ("at=N,bank=B,status=S,addr=A,misc=M,ripv,eipv,
 * vmentry", docs/mca.md) into `out`; false with a message in `err` (the
 * bank number is checked against the CPU model by mca_init). */
bool mca_parse_injection(const char *spec, struct mca_injection *out, char *err, size_t n);

/* At machine creation: the model's banks, reset values, the injections
 * (ordered by time). false with a message when an injection does not fit
 * the CPU model (bank beyond its count, vm_entry without VMX). */
bool mca_init(struct machine *m, const struct mca_injection *inj, unsigned count, char *err, size_t n);

/* RDMSR / WRMSR of an MSR: MCA_MSR_NOT_MINE when `index` is not the MCA's,
 * MCA_MSR_GP for #GP(0). */
enum mca_msr_result { MCA_MSR_NOT_MINE, MCA_MSR_OK, MCA_MSR_GP };
enum mca_msr_result mca_rdmsr(struct machine *m, uint32_t index, uint64_t *value);
enum mca_msr_result mca_wrmsr(struct machine *m, uint32_t index, uint64_t value);
/* The MSR's name ("IA32_MC2_STATUS"), or NULL when not the MCA's; `buf`
 * holds per-bank names. */
const char *mca_msr_name(uint32_t index, char *buf, size_t n);

/* [hook][loop] The virtual time of the next injection that is not yet
 * logged, UINT64_MAX for none; and whether a machine check is to be
 * taken now (an injection due, or a signaled #MC not yet taken). */
uint64_t mca_next_at(const struct machine *m);
bool mca_due(const struct machine *m);

/* [loop] At an instruction boundary with mca_due: logs the injections
 * that are due and takes a signaled machine check: shutdown when
 * MCG_STATUS.MCIP is already 1 or CR4.MCE is 0 ("Machine-Check
 * Exception Handling"; "Interrupt 18—Machine-Check Exception (#MC)"),
 * else #MC (abort class, no error code) delivered — or turned into a VM
 * exit by the extension (exception bitmap bit 18, SVM's EXCP_MC
 * intercept). `halted`: the vCPU was in HLT (the saved RIP is after it).
 * True when it acted (the caller then reloads Unicorn). */
bool mca_take(struct machine *m, bool halted);

/* [loop] A VMX VM entry has loaded the guest state: true when a held
 * vm_entry injection is due now (its error is logged, MCG_STATUS set):
 * the entry must fail with exit reason 41. */
bool mca_vm_entry_check(struct machine *m);

#endif
