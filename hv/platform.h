/* The platform interface of the hypervisor core: everything hv needs from
 * the machine it runs on, declared once. Two implementations, chosen at link
 * time: platform/baremetal (inline assembly, the multiboot image) and the
 * hosted one on the simulator's side (conformance/hv/hosted), which calls
 * straight into the VMX and SVM models. hv/ includes nothing else outside
 * hv/ and the freestanding C headers. */
#ifndef HV_PLATFORM_H
#define HV_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

/* ---- console and end of run ---- */
void plat_putc(char c);
/* Ends the run with `status` (0 = the guest passed). Never returns. */
__attribute__((noreturn)) void plat_exit(unsigned status);
/* The boot command line (multiboot), or "" when there is none. */
const char *plat_cmdline(void);

/* ---- physical memory ---- */
/* A pointer through which host-physical memory [pa, pa+len) is accessed. */
void *plat_phys(uint64_t pa);
/* n contiguous zeroed 4 KiB pages of host memory (host-physical address),
 * or 0 when memory is exhausted. hv never frees memory. */
uint64_t plat_alloc_pages(unsigned n);
static inline uint64_t plat_alloc_page(void) { return plat_alloc_pages(1); }
/* Host-physical memory for the guest: `bytes` contiguous, 2 MiB aligned,
 * zeroed; 0 when the machine has too little. */
uint64_t plat_guest_ram(uint64_t bytes);

/* ---- time ---- */
uint64_t plat_time(void);   /* a monotonic counter (the TSC on bare metal) */

/* ---- processor ---- */
void plat_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
uint64_t plat_rdmsr(uint32_t msr);
/* RDMSR that reports an unimplemented MSR (#GP) as false instead. */
bool plat_rdmsr_safe(uint32_t msr, uint64_t *value);
void plat_wrmsr(uint32_t msr, uint64_t value);
uint64_t plat_read_cr(int n);           /* CR0, CR2, CR3, CR4 */
void plat_write_cr(int n, uint64_t value);

/* The host state a VM exit returns to (VMX host-state area; SVM host save). */
struct plat_host_state {
    uint16_t cs, ss, ds, es, fs, gs, tr;
    uint64_t fs_base, gs_base, tr_base, gdtr_base, idtr_base;
};
void plat_host_state(struct plat_host_state *hs);

/* The guest's general-purpose registers that VM entries and exits do not
 * switch (RSP and RIP live in the VMCS/VMCB; on SVM so does RAX). Index by
 * the x86 register number: 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI,
 * 7 RDI, 8-15 R8-R15. */
struct plat_gprs {
    uint64_t r[16];
};

/* ---- VMX (SDM Vol. 3C, "VMX Instruction Reference") ----
 * Each returns 0 on success, 1 on VMfailInvalid, 2 on VMfailValid. */
int plat_vmxon(uint64_t pa);
int plat_vmclear(uint64_t pa);
int plat_vmptrld(uint64_t pa);
int plat_vmread(uint64_t field, uint64_t *value);
int plat_vmwrite(uint64_t field, uint64_t value);
int plat_invept(uint64_t type, uint64_t eptp);
int plat_invvpid(uint64_t type, uint16_t vpid, uint64_t linear);
/* VMLAUNCH (launched = false) or VMRESUME with the guest's registers;
 * returns 0 after a VM exit (registers saved back), or the VMfail code. */
int plat_vmx_run(struct plat_gprs *g, bool launched);

/* ---- SVM (APM Vol. 2, "SVM Instruction Reference") ----
 * VMRUN of the VMCB at vmcb_pa with the guest's registers, after a VMLOAD
 * of its FS, GS, TR, LDTR, KernelGsBase and SYSCALL/SYSENTER MSRs when
 * `vmload`; returns after the #VMEXIT with registers saved back. There is
 * no VMSAVE: #VMEXIT leaves that state in the processor, where the next
 * VMRUN finds it (the caller's host code must not change it). */
void plat_svm_run(uint64_t vmcb_pa, struct plat_gprs *g, bool vmload);

#endif
