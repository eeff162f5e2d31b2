/* The MSRs the machine implements: one table, expanded for names, RDMSR
 * and WRMSR; the machine-check registers are sim/mca.h's table. Anything not in the table raises #GP(0), as the SDM's RDMSR and
 * WRMSR pages require for reserved or unimplemented MSR addresses. */
#ifndef HVSIM_SIM_MSR_H
#define HVSIM_SIM_MSR_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

/* X(name, index) */
#define SIM_MSRS(X)                                  \
  X(IA32_TSC, 0x10)                                  \
  X(IA32_PLATFORM_ID, 0x17)                          \
  X(IA32_APIC_BASE, 0x1b)                            \
  X(IA32_FEATURE_CONTROL, 0x3a)                      \
  X(IA32_BIOS_SIGN_ID, 0x8b)                         \
  X(IA32_MTRRCAP, 0xfe)                              \
  X(IA32_SYSENTER_CS, 0x174)                         \
  X(IA32_SYSENTER_ESP, 0x175)                        \
  X(IA32_SYSENTER_EIP, 0x176)                        \
  X(IA32_MISC_ENABLE, 0x1a0)                         \
  X(IA32_DEBUGCTL, 0x1d9)                            \
  X(IA32_PAT, 0x277)                                 \
  X(IA32_MTRR_DEF_TYPE, 0x2ff)                       \
  X(IA32_EFER, 0xc0000080)                           \
  X(IA32_STAR, 0xc0000081)                           \
  X(IA32_LSTAR, 0xc0000082)                          \
  X(IA32_CSTAR, 0xc0000083)                          \
  X(IA32_FMASK, 0xc0000084)                          \
  X(IA32_FS_BASE, 0xc0000100)                        \
  X(IA32_GS_BASE, 0xc0000101)                        \
  X(IA32_KERNEL_GS_BASE, 0xc0000102)                 \
  X(IA32_TSC_AUX, 0xc0000103)

enum sim_msr {
#define X(name, index) MSR_##name = index,
  SIM_MSRS(X)
#undef X
};

const char *msr_name(uint32_t index);

/* Return false when the access must raise #GP(0). */
bool msr_read(struct machine *m, uint32_t index, uint64_t *value);
bool msr_write(struct machine *m, uint32_t index, uint64_t value);

/* The EFER bits this CPU model lets software set. */
uint64_t msr_efer_writable(const struct machine *m);

#endif
