/* Internals shared by the VMX backend's files (hv_vmx.c: exits and
 * operations; vmx_setup.c: VMXON and the VMCS set-up): VMCS field
 * encodings, capability MSRs, control bits, the backend's state. */
#ifndef HV_VMX_VMX_IMPL_H
#define HV_VMX_VMX_IMPL_H

#include "hv/core/hv.h"

enum vmcs_field {
#define VMCS_FIELD(name, enc) name = enc,
#include "hv/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Capability MSRs (SDM Vol. 3C, "VMX Capability Reporting Facility"). */
#define MSR_FEATURE_CONTROL  0x3au
#define MSR_VMX_BASIC        0x480u
#define MSR_VMX_PINBASED     0x481u
#define MSR_VMX_PROCBASED    0x482u
#define MSR_VMX_EXIT         0x483u
#define MSR_VMX_ENTRY        0x484u
#define MSR_VMX_CR0_FIXED0   0x486u
#define MSR_VMX_CR0_FIXED1   0x487u
#define MSR_VMX_CR4_FIXED0   0x488u
#define MSR_VMX_CR4_FIXED1   0x489u
#define MSR_VMX_PROCBASED2   0x48bu
#define MSR_VMX_EPT_VPID_CAP 0x48cu
#define MSR_VMX_TRUE_PINBASED  0x48du
#define MSR_VMX_TRUE_PROCBASED 0x48eu
#define MSR_VMX_TRUE_EXIT      0x48fu
#define MSR_VMX_TRUE_ENTRY     0x490u
#define MSR_EFER             0xc0000080u
#define MSR_SYSENTER_CS      0x174u
#define MSR_SYSENTER_ESP     0x175u
#define MSR_SYSENTER_EIP     0x176u

/* Control bits (SDM Vol. 3C, "VM-Execution Control Fields", "VM-Exit
 * Control Fields", "VM-Entry Control Fields"). */
#define PROC_HLT_EXITING       (1u << 7)
#define PROC_INVLPG_EXITING    (1u << 9)
#define PROC_CR3_LOAD_EXITING  (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_USE_MSR_BITMAPS   (1u << 28)
#define PROC_SECONDARY         (1u << 31)
#define PROC2_ENABLE_EPT       (1u << 1)
#define PROC2_ENABLE_VPID      (1u << 5)
#define EXIT_HOST_64BIT        (1u << 9)
#define EXIT_SAVE_EFER         (1u << 20)
#define EXIT_LOAD_EFER         (1u << 21)
#define ENTRY_IA32E_GUEST      (1u << 9)
#define ENTRY_LOAD_EFER        (1u << 15)

/* Event injection and IDT-vectoring information (SDM Vol. 3C, "VM-Entry
 * Controls for Event Injection", "Information for VM Exits During Event
 * Delivery"). */
#define INTR_INFO_VALID        (1u << 31)
#define INTR_INFO_HAS_ERROR    (1u << 11)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)

/* EPT_VPID_CAP bits (SDM Vol. 3C, "VPID and EPT Capabilities"). */
#define EPT_CAP_WALK4          (1ull << 6)
#define EPT_CAP_WB             (1ull << 14)
#define EPT_CAP_INVEPT_SINGLE  (1ull << 25)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)

struct vmx_state {
    uint64_t vmxon_pa, vmcs_pa, msr_bitmap_pa, eptp, ept_vpid_cap;
    bool launched;
    bool rsp_loaded;          /* since the last exit (vmx.c, load_rsp) */
    uint64_t rsp_at_exit;
};
extern struct vmx_state hv_vmx;
extern struct hv_vcpu *hv_vmx_current;   /* for stops inside VMREAD/VMWRITE */

/* VMREAD/VMWRITE that stop hv on failure (a failure is a bug in hv). */
uint64_t hv_vmx_read(uint64_t field);
void hv_vmx_write(uint64_t field, uint64_t value);

bool hv_vmx_probe(void);
bool hv_vmx_setup(struct hv_vcpu *v);    /* vmx_setup.c */
uint64_t hv_vmx_real_cr0(struct hv_vcpu *v);   /* CR0/CR4 with hv's and VMX's fixed bits */
uint64_t hv_vmx_real_cr4(struct hv_vcpu *v);
void hv_vmx_set_cr(struct hv_vcpu *v, int cr);
void hv_vmx_reset_exit_counts(void);

#endif
