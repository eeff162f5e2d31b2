/* Bit names of the VMX controls, capability MSR indices and VMCS field
 * sub-layouts (SDM Vol. 3C, "VM-Execution Control Fields", "VM-Exit Control
 * Fields", "VM-Entry Control Fields", appendix "VMX Capability Reporting
 * Facility"). Names only; the rules using them live with the checks. */
#ifndef HVSIM_MODELS_VMX_VMX_BITS_H
#define HVSIM_MODELS_VMX_VMX_BITS_H

#include <stdbool.h>

#define BIT32(n) (1u << (n))
#define BIT64(n) (1ull << (n))

/* Pin-based VM-execution controls */
#define PIN_EXT_INTR_EXITING     BIT32(0)
#define PIN_NMI_EXITING          BIT32(3)
#define PIN_VIRTUAL_NMIS         BIT32(5)
#define PIN_PREEMPTION_TIMER     BIT32(6)
#define PIN_POSTED_INTR          BIT32(7)

/* Primary processor-based VM-execution controls */
#define PROC_INTR_WINDOW_EXITING BIT32(2)
#define PROC_USE_TSC_OFFSETTING  BIT32(3)
#define PROC_HLT_EXITING         BIT32(7)
#define PROC_INVLPG_EXITING      BIT32(9)
#define PROC_MWAIT_EXITING       BIT32(10)
#define PROC_RDPMC_EXITING       BIT32(11)
#define PROC_RDTSC_EXITING       BIT32(12)
#define PROC_CR3_LOAD_EXITING    BIT32(15)
#define PROC_CR3_STORE_EXITING   BIT32(16)
#define PROC_TERTIARY_CTLS       BIT32(17)
#define PROC_CR8_LOAD_EXITING    BIT32(19)
#define PROC_CR8_STORE_EXITING   BIT32(20)
#define PROC_USE_TPR_SHADOW      BIT32(21)
#define PROC_NMI_WINDOW_EXITING  BIT32(22)
#define PROC_MOV_DR_EXITING      BIT32(23)
#define PROC_UNCOND_IO_EXITING   BIT32(24)
#define PROC_USE_IO_BITMAPS      BIT32(25)
#define PROC_MONITOR_TRAP_FLAG   BIT32(27)
#define PROC_USE_MSR_BITMAPS     BIT32(28)
#define PROC_MONITOR_EXITING     BIT32(29)
#define PROC_PAUSE_EXITING       BIT32(30)
#define PROC_SECONDARY_CTLS      BIT32(31)

/* Secondary processor-based VM-execution controls */
#define PROC2_VIRT_APIC_ACCESS   BIT32(0)
#define PROC2_ENABLE_EPT         BIT32(1)
#define PROC2_DESC_TABLE_EXITING BIT32(2)
#define PROC2_ENABLE_RDTSCP      BIT32(3)
#define PROC2_VIRT_X2APIC        BIT32(4)
#define PROC2_ENABLE_VPID        BIT32(5)
#define PROC2_WBINVD_EXITING     BIT32(6)
#define PROC2_UNRESTRICTED_GUEST BIT32(7)
#define PROC2_APIC_REG_VIRT      BIT32(8)
#define PROC2_VIRT_INTR_DELIVERY BIT32(9)
#define PROC2_PAUSE_LOOP_EXITING BIT32(10)
#define PROC2_RDRAND_EXITING     BIT32(11)
#define PROC2_ENABLE_INVPCID     BIT32(12)
#define PROC2_ENABLE_VMFUNC      BIT32(13)
#define PROC2_VMCS_SHADOWING     BIT32(14)
#define PROC2_RDSEED_EXITING     BIT32(16)
#define PROC2_ENABLE_PML         BIT32(17)
#define PROC2_EPT_VIOLATION_VE   BIT32(18)
#define PROC2_ENABLE_XSAVES      BIT32(20)
#define PROC2_TSC_SCALING        BIT32(25)

/* VM-exit controls */
#define EXIT_SAVE_DEBUG_CTLS     BIT32(2)
#define EXIT_HOST_ADDR_SPACE     BIT32(9)
#define EXIT_LOAD_PERF_GLOBAL    BIT32(12)
#define EXIT_ACK_INTR_ON_EXIT    BIT32(15)
#define EXIT_SAVE_PAT            BIT32(18)
#define EXIT_LOAD_PAT            BIT32(19)
#define EXIT_SAVE_EFER           BIT32(20)
#define EXIT_LOAD_EFER           BIT32(21)
#define EXIT_SAVE_PREEMPT_TIMER  BIT32(22)

/* VM-entry controls */
#define ENTRY_LOAD_DEBUG_CTLS    BIT32(2)
#define ENTRY_IA32E_MODE_GUEST   BIT32(9)
#define ENTRY_TO_SMM             BIT32(10)
#define ENTRY_DEACT_DUAL_MONITOR BIT32(11)
#define ENTRY_LOAD_PERF_GLOBAL   BIT32(13)
#define ENTRY_LOAD_PAT           BIT32(14)
#define ENTRY_LOAD_EFER          BIT32(15)

/* VM-function controls */
#define VMFUNC_EPTP_SWITCHING    BIT64(0)

/* IA32_VMX_BASIC */
#define BASIC_REVISION(b)        ((uint32_t)(b) & 0x7FFFFFFFu)
#define BASIC_REGION_SIZE(b)     ((unsigned)(((b) >> 32) & 0x1FFF))
#define BASIC_32BIT_PHYS         BIT64(48)
#define BASIC_DUAL_MONITOR       BIT64(49)
#define BASIC_MEMTYPE(b)         ((unsigned)(((b) >> 50) & 0xF))
#define BASIC_INS_OUTS_INFO      BIT64(54)
#define BASIC_TRUE_CTLS          BIT64(55)
#define BASIC_NO_ERRCODE_CHECK   BIT64(56)

/* IA32_VMX_MISC */
#define MISC_PREEMPT_RATE(m)     ((unsigned)((m) & 0x1F))
#define MISC_STORE_LMA           BIT64(5)
#define MISC_ACTIVITY_HLT        BIT64(6)
#define MISC_ACTIVITY_SHUTDOWN   BIT64(7)
#define MISC_ACTIVITY_SIPI       BIT64(8)
#define MISC_CR3_TARGETS(m)      ((unsigned)(((m) >> 16) & 0x1FF))
#define MISC_MAX_MSR_LIST(m)     (512u * ((unsigned)(((m) >> 25) & 7) + 1))
#define MISC_VMWRITE_ANY_FIELD   BIT64(29)
#define MISC_INJECT_ILEN_ZERO    BIT64(30)

/* IA32_VMX_EPT_VPID_CAP */
#define EPTCAP_EXEC_ONLY         BIT64(0)
#define EPTCAP_WALK_4            BIT64(6)
#define EPTCAP_WALK_5            BIT64(7)
#define EPTCAP_MEMTYPE_UC        BIT64(8)
#define EPTCAP_MEMTYPE_WB        BIT64(14)
#define EPTCAP_2M                BIT64(16)
#define EPTCAP_1G                BIT64(17)
#define EPTCAP_INVEPT            BIT64(20)
#define EPTCAP_AD                BIT64(21)
#define EPTCAP_ADV_EXIT_INFO     BIT64(22)
#define EPTCAP_SSS               BIT64(23)
#define EPTCAP_INVEPT_SINGLE     BIT64(25)
#define EPTCAP_INVEPT_ALL        BIT64(26)
#define EPTCAP_INVVPID           BIT64(32)
#define EPTCAP_INVVPID_ADDR      BIT64(40)
#define EPTCAP_INVVPID_SINGLE    BIT64(41)
#define EPTCAP_INVVPID_ALL       BIT64(42)
#define EPTCAP_INVVPID_SINGLE_NG BIT64(43)

/* IA32_FEATURE_CONTROL (MSR 3AH) */
#define FEATCTL_LOCK             BIT64(0)
#define FEATCTL_VMX_IN_SMX       BIT64(1)
#define FEATCTL_VMX_OUTSIDE_SMX  BIT64(2)

/* VM-entry interruption-information field */
#define INTR_INFO_VECTOR(i)      ((i) & 0xFF)
#define INTR_INFO_TYPE(i)        (((i) >> 8) & 7)
#define INTR_INFO_DELIVER_CODE   BIT32(11)
#define INTR_INFO_RESERVED       0x7FFFF000u
#define INTR_INFO_VALID          BIT32(31)
enum intr_type {
  INTR_TYPE_EXT_INTR = 0, INTR_TYPE_RESERVED = 1, INTR_TYPE_NMI = 2,
  INTR_TYPE_HW_EXCEPTION = 3, INTR_TYPE_SW_INTR = 4,
  INTR_TYPE_PRIV_SW_EXCEPTION = 5, INTR_TYPE_SW_EXCEPTION = 6,
  INTR_TYPE_OTHER_EVENT = 7,
};

/* Guest interruptibility state */
#define INTERRUPTIBILITY_STI     BIT32(0)
#define INTERRUPTIBILITY_MOV_SS  BIT32(1)
#define INTERRUPTIBILITY_SMI     BIT32(2)
#define INTERRUPTIBILITY_NMI     BIT32(3)

/* Guest activity state */
enum activity_state {
  ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2,
  ACTIVITY_WAIT_SIPI = 3,
};

/* VM-exit reasons of a failed VM entry (basic reason; bit 31 is set) */
#define EXIT_REASON_INVALID_GUEST_STATE 33
#define EXIT_REASON_MSR_LOADING         34
#define EXIT_REASON_ENTRY_FAILURE_BIT   BIT32(31)

/* Exit qualification of an entry failure due to invalid guest state */
#define ENTRY_QUAL_DEFAULT     0
#define ENTRY_QUAL_PDPTE       2
#define ENTRY_QUAL_NMI_STI     3
#define ENTRY_QUAL_LINK_PTR    4

/* VM-instruction error numbers: VMXERR_<NAME>, from vmx_errors.def. */
enum vm_instruction_error {
  VMXERR_NONE = 0,
#define VMX_ERROR(num, name, modelled, text) VMXERR_##name = num,
#include "models/vmx/vmx_errors.def"
#undef VMX_ERROR
};
struct vmx_error_info { unsigned number; const char *name; bool modelled; const char *text; };
extern const struct vmx_error_info vmx_errors[];
extern const unsigned vmx_error_count;

/* Architectural MSR indices the VMX model names */
#define MSR_IA32_FEATURE_CONTROL 0x03Au
#define MSR_IA32_BIOS_UPDT_TRIG  0x079u
#define MSR_IA32_BIOS_SIGN_ID    0x08Bu
#define MSR_IA32_SMM_MONITOR_CTL 0x09Bu
#define MSR_IA32_VMX_BASIC       0x480u
#define MSR_IA32_FS_BASE         0xC0000100u
#define MSR_IA32_GS_BASE         0xC0000101u

#endif
