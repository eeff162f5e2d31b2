/* A valid VMCS per CPU model (passes every VM-entry check) and the
 * variations tests start from: a 32-bit guest, a 32-bit host, a
 * virtual-8086 guest, plus a small guest-physical memory for the checks
 * that read memory. */
#ifndef HVSIM_CONFORMANCE_VMX_BASELINE_H
#define HVSIM_CONFORMANCE_VMX_BASELINE_H

#include "models/vmx/entry_checks.h"

#define TMEM_SIZE 0x10000
/* Guest-physical pages of the baseline (all inside TMEM). */
#define TPA_EPT_PML4   0x1000
#define TPA_HOST_CR3   0x2000
#define TPA_GUEST_CR3  0x3000
#define TPA_VAPIC      0x4000
#define TPA_LINK_VMCS  0x5000
#define TPA_MSR_LIST   0x6000
#define TPA_BITMAP     0x7000

struct tcase {
  const struct vmx_caps *caps;
  struct vmcs v;
  struct vmx_entry_env env;
  uint8_t mem[TMEM_SIZE];
  uint32_t bad_msr;        /* WRMSR of this index "raises #GP" (0: none) */
};

/* Fills `t` with the model's baseline: a 64-bit host entering a 64-bit
 * guest with EPT and VPID, loading EFER on entry and exit. */
void tcase_baseline(struct tcase *t, const struct vmx_caps *caps);
/* Guest leaves IA-32e mode: 32-bit protected mode with PAE paging. */
void tcase_32bit_guest(struct tcase *t);
/* Host outside IA-32e mode (implies a 32-bit guest). */
void tcase_32bit_host(struct tcase *t);
/* Guest in virtual-8086 mode (implies a 32-bit guest). */
void tcase_v86_guest(struct tcase *t);
/* A usable LDTR. */
void tcase_usable_ldtr(struct tcase *t);
/* Writes a 64-bit little-endian value into test memory. */
void tmem_put64(struct tcase *t, uint64_t pa, uint64_t value);

#define SETF(t, name, value) vmcs_set(&(t)->v, VMCSI_##name, (value))
#define GETF(t, name) vmcs_get(&(t)->v, VMCSI_##name)
#define ORF(t, name, bits) SETF(t, name, GETF(t, name) | (bits))
#define CLRF(t, name, bits) SETF(t, name, GETF(t, name) & ~(uint64_t)(bits))

#endif
