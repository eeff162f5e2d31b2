/* The baseline VMCS of each CPU model (see baseline.h). */
#include "conformance/vmx/baseline.h"

#include <string.h>

#include "models/vmx/vmx_bits.h"

static bool tmem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
  struct tcase *t = ctx;
  if (pa >= TMEM_SIZE || len > TMEM_SIZE - pa) return false;
  memcpy(buf, t->mem + pa, len);
  return true;
}

static bool tmem_wrmsr_ok(void *ctx, uint32_t index, uint64_t value)
{
  struct tcase *t = ctx;
  return t->bad_msr == 0 || index != t->bad_msr;
}

void tmem_put64(struct tcase *t, uint64_t pa, uint64_t value)
{
  for (int i = 0; i < 8; i++) t->mem[pa + i] = (uint8_t)(value >> (8 * i));
}

void tcase_baseline(struct tcase *t, const struct vmx_caps *caps)
{
  memset(t, 0, sizeof *t);
  t->caps = caps;
  t->env = (struct vmx_entry_env){ .caps = caps, .host_ia32e = true, .read_phys = tmem_read,
                                   .wrmsr_ok = tmem_wrmsr_ok, .ctx = t };
  t->v.revision = BASIC_REVISION(caps->basic);

  /* Controls: the must-be-1 bits (TRUE_ MSRs) plus what a 64-bit
   * hypervisor with EPT and VPID sets. */
  SETF(t, PIN_BASED_VM_EXEC_CONTROL, (uint32_t)vmx_caps_pin_ctls(caps));
  SETF(t, CPU_BASED_VM_EXEC_CONTROL, (uint32_t)vmx_caps_proc_ctls(caps) | PROC_SECONDARY_CTLS);
  SETF(t, SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID);
  SETF(t, VIRTUAL_PROCESSOR_ID, 1);
  SETF(t, EPT_POINTER, TPA_EPT_PML4 | (3 << 3) | 6);
  SETF(t, VM_EXIT_CONTROLS, (uint32_t)vmx_caps_exit_ctls(caps) | EXIT_HOST_ADDR_SPACE | EXIT_SAVE_EFER | EXIT_LOAD_EFER);
  SETF(t, VM_ENTRY_CONTROLS, (uint32_t)vmx_caps_entry_ctls(caps) | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_EFER);

  /* Host: 64-bit, flat segments from a GDT, TSS at selector 18H. */
  SETF(t, HOST_CR0, 0x80010031);          /* PG, WP, NE, ET, PE */
  SETF(t, HOST_CR3, TPA_HOST_CR3);
  SETF(t, HOST_CR4, 0x2020);              /* VMXE, PAE */
  SETF(t, HOST_IA32_EFER, 0xD01);         /* NXE, LMA, LME, SCE */
  SETF(t, HOST_CS_SELECTOR, 0x08);
  SETF(t, HOST_SS_SELECTOR, 0x10);
  SETF(t, HOST_DS_SELECTOR, 0x10);
  SETF(t, HOST_ES_SELECTOR, 0x10);
  SETF(t, HOST_FS_SELECTOR, 0x10);
  SETF(t, HOST_GS_SELECTOR, 0x10);
  SETF(t, HOST_TR_SELECTOR, 0x18);
  SETF(t, HOST_TR_BASE, 0xFFFFFFFF80100000ull);
  SETF(t, HOST_GDTR_BASE, 0xFFFFFFFF80101000ull);
  SETF(t, HOST_IDTR_BASE, 0xFFFFFFFF80102000ull);
  SETF(t, HOST_RSP, 0xFFFFFFFF80200000ull);
  SETF(t, HOST_RIP, 0xFFFFFFFF81000000ull);

  /* Guest: 64-bit mode, flat ring 0, busy 64-bit TSS, no LDT. */
  SETF(t, GUEST_CR0, 0x80010031);
  SETF(t, GUEST_CR3, TPA_GUEST_CR3);
  SETF(t, GUEST_CR4, 0x2020);
  SETF(t, GUEST_IA32_EFER, 0xD01);
  SETF(t, GUEST_DR7, 0x400);
  SETF(t, GUEST_RFLAGS, 0x2);
  SETF(t, GUEST_RIP, 0x100000);
  SETF(t, GUEST_RSP, 0x200000);
  SETF(t, GUEST_CS_SELECTOR, 0x08);
  SETF(t, GUEST_CS_LIMIT, 0xFFFFFFFF);
  SETF(t, GUEST_CS_AR_BYTES, 0xA09B);     /* G, L, P, S, type 11 */
  static const enum vmcs_field data_sel[] = { VMCSI_GUEST_SS_SELECTOR, VMCSI_GUEST_DS_SELECTOR,
                                              VMCSI_GUEST_ES_SELECTOR, VMCSI_GUEST_FS_SELECTOR,
                                              VMCSI_GUEST_GS_SELECTOR };
  static const enum vmcs_field data_lim[] = { VMCSI_GUEST_SS_LIMIT, VMCSI_GUEST_DS_LIMIT, VMCSI_GUEST_ES_LIMIT,
                                              VMCSI_GUEST_FS_LIMIT, VMCSI_GUEST_GS_LIMIT };
  static const enum vmcs_field data_ar[] = { VMCSI_GUEST_SS_AR_BYTES, VMCSI_GUEST_DS_AR_BYTES,
                                             VMCSI_GUEST_ES_AR_BYTES, VMCSI_GUEST_FS_AR_BYTES,
                                             VMCSI_GUEST_GS_AR_BYTES };
  for (int i = 0; i < 5; i++) {
    vmcs_set(&t->v, data_sel[i], 0x10);
    vmcs_set(&t->v, data_lim[i], 0xFFFFFFFF);
    vmcs_set(&t->v, data_ar[i], 0xC093);  /* G, D/B, P, S, type 3 */
  }
  SETF(t, GUEST_LDTR_AR_BYTES, 0x10000);  /* unusable */
  SETF(t, GUEST_TR_SELECTOR, 0x18);
  SETF(t, GUEST_TR_BASE, 0x9000);
  SETF(t, GUEST_TR_LIMIT, 0x67);
  SETF(t, GUEST_TR_AR_BYTES, 0x8B);       /* P, type 11 */
  SETF(t, GUEST_GDTR_BASE, 0xA000);
  SETF(t, GUEST_GDTR_LIMIT, 0x37);
  SETF(t, GUEST_IDTR_BASE, 0xB000);
  SETF(t, GUEST_IDTR_LIMIT, 0xFFF);
  SETF(t, VMCS_LINK_POINTER, ~0ull);
  SETF(t, GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);

  /* Memory the memory-reading checks may look at. */
  t->mem[TPA_VAPIC + 0x80] = 0x00;        /* VTPR */
}

void tcase_32bit_guest(struct tcase *t)
{
  CLRF(t, VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
  CLRF(t, GUEST_IA32_EFER, (1u << 8) | (1u << 10));
  SETF(t, GUEST_CS_AR_BYTES, 0xC09B);     /* G, D/B, P, S, type 11 */
}

void tcase_32bit_host(struct tcase *t)
{
  tcase_32bit_guest(t);
  t->env.host_ia32e = false;
  CLRF(t, VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE);
  CLRF(t, HOST_IA32_EFER, (1u << 8) | (1u << 10));
  SETF(t, HOST_RIP, 0x81000000);
  SETF(t, HOST_RSP, 0x80200000);
  SETF(t, HOST_TR_BASE, 0x80100000);
  SETF(t, HOST_GDTR_BASE, 0x80101000);
  SETF(t, HOST_IDTR_BASE, 0x80102000);
}

void tcase_v86_guest(struct tcase *t)
{
  tcase_32bit_guest(t);
  ORF(t, GUEST_RFLAGS, 1u << 17);
  static const enum vmcs_field sel[] = { VMCSI_GUEST_CS_SELECTOR, VMCSI_GUEST_SS_SELECTOR, VMCSI_GUEST_DS_SELECTOR,
                                         VMCSI_GUEST_ES_SELECTOR, VMCSI_GUEST_FS_SELECTOR, VMCSI_GUEST_GS_SELECTOR };
  static const enum vmcs_field base[] = { VMCSI_GUEST_CS_BASE, VMCSI_GUEST_SS_BASE, VMCSI_GUEST_DS_BASE,
                                          VMCSI_GUEST_ES_BASE, VMCSI_GUEST_FS_BASE, VMCSI_GUEST_GS_BASE };
  static const enum vmcs_field lim[] = { VMCSI_GUEST_CS_LIMIT, VMCSI_GUEST_SS_LIMIT, VMCSI_GUEST_DS_LIMIT,
                                         VMCSI_GUEST_ES_LIMIT, VMCSI_GUEST_FS_LIMIT, VMCSI_GUEST_GS_LIMIT };
  static const enum vmcs_field ar[] = { VMCSI_GUEST_CS_AR_BYTES, VMCSI_GUEST_SS_AR_BYTES, VMCSI_GUEST_DS_AR_BYTES,
                                        VMCSI_GUEST_ES_AR_BYTES, VMCSI_GUEST_FS_AR_BYTES, VMCSI_GUEST_GS_AR_BYTES };
  for (int i = 0; i < 6; i++) {
    uint64_t s = 0x1000 + 0x100 * i;
    vmcs_set(&t->v, sel[i], s);
    vmcs_set(&t->v, base[i], s << 4);
    vmcs_set(&t->v, lim[i], 0xFFFF);
    vmcs_set(&t->v, ar[i], 0xF3);
  }
  SETF(t, GUEST_RIP, 0x100);
}

void tcase_usable_ldtr(struct tcase *t)
{
  SETF(t, GUEST_LDTR_SELECTOR, 0x20);
  SETF(t, GUEST_LDTR_BASE, 0xC000);
  SETF(t, GUEST_LDTR_LIMIT, 0xFFF);
  SETF(t, GUEST_LDTR_AR_BYTES, 0x82);    /* P, type 2 */
}
