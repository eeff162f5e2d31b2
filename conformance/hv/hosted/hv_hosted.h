/* The hosted build of hv: hv's core and backends compiled for the host,
 * with hv/platform.h implemented by calls into the VMX and SVM models
 * (models/vmx, models/svm). A test boots hv on a modelled CPU, hands it one
 * exit (reason, qualification, guest registers, guest memory it prepared),
 * runs hv's exit handler as ordinary code, and checks the VMCS/VMCB still
 * passes every VM-entry / VMRUN check afterwards. This is the only code
 * that sees both hv and the models (docs/hv.md). */
#ifndef HVSIM_CONFORMANCE_HV_HOSTED_H
#define HVSIM_CONFORMANCE_HV_HOSTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/core/hv.h"

enum hvh_vendor { HVH_VMX, HVH_SVM };

/* One exit as the processor would report it. VMX: `reason` is the basic
 * exit reason, `qual` the exit qualification, `insn_len` the
 * VM-exit instruction length, `intr_info`/`intr_error` the VM-exit
 * interruption information and error code, `idt_info` the IDT-vectoring
 * information (an exit during event delivery) and `idt_error` its error
 * code. SVM: `reason` is EXITCODE, `qual` EXITINFO1, `info2` EXITINFO2,
 * `nrip` the next RIP (0: none), `exitintinfo` EXITINTINFO (an exit during
 * event delivery). Registers: the guest's at the exit (RSP and RIP
 * included). */
struct hvh_exit {
    uint64_t reason, qual, info2, nrip;
    unsigned insn_len;
    uint32_t intr_info, intr_error, idt_info, idt_error;
    uint64_t exitintinfo;
    uint64_t rip, rsp, rflags;
    uint64_t gpr[16];
};

/* A fresh machine (vendor: Skylake-X VMX model, or the QEMU EPYC SVM model)
 * and hv set up on it in `mode`, with `code` as the guest image. NULL when
 * hv's set-up failed (hvh_console says why). */
struct hv_vcpu *hvh_boot(enum hvh_vendor vendor, enum hv_mem_mode mode, const void *code,
                         size_t len);
/* The same on a named CPU model: an Intel one of the VMX model
 * ("skylake-x", "nehalem") or an AMD one of the SVM model ("epyc-qemu",
 * "ryzen", "zen2"), whose SVM features (NRIP save, decode assists) hv then
 * finds in CPUID. NULL for an unknown name or when hv's set-up failed. */
struct hv_vcpu *hvh_boot_cpu(const char *cpu, enum hv_mem_mode mode, const void *code,
                             size_t len);
/* Runs one exit through hv: the VM entry (with its checks) then the exit
 * `e`, dispatched to hv's handler. Returns 0 when the handler returned,
 * or 1 + hv's exit status when hv stopped (hv_stop, plat_exit). */
int hvh_run(struct hv_vcpu *v, const struct hvh_exit *e);
/* Do the VMCS/VMCB pass every VM-entry (VMX) or VMRUN (SVM) check now?
 * On failure, msg receives the failing check's ID and message. */
bool hvh_entry_ok(char *msg, size_t msg_len);

/* Inspection. */
const char *hvh_console(void);            /* everything hv printed */
uint64_t hvh_vmcs(uint32_t encoding);     /* a VMCS field of the current VMCS */
void hvh_vmcs_write(uint32_t encoding, uint64_t value);   /* for negative tests */
void *hvh_vmcb(void);                     /* the VMCB (struct svm_vmcb) */
uint64_t hvh_cr2(void);                   /* the processor's CR2 */
/* A digest of the modelled processor's state: the current VMCS (every
 * field, launch state) or the last VMCB, control registers, EFER, FS/GS
 * bases. Equal states give equal digests (determinism checks). */
uint64_t hvh_state_digest(void);
void *hvh_phys(uint64_t pa);              /* host-physical memory */
/* Host-physical page 0 is never allocated; it holds this byte throughout,
 * so that a stray write by hv shows (plat_phys(0) is a valid pointer). */
#define HVH_PAGE0_FILL 0xa5

#endif
