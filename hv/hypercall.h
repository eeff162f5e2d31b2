/* The hypercall ABI of hv, shared by the hypervisor and its guests.
 *
 * One ABI over both vendors' instructions: VMCALL on Intel VMX, VMMCALL on
 * AMD SVM (CPUID leaf HV_CPUID_FEATURES, EAX, says which one to use). The
 * function number is in RAX, arguments in RDI, RSI; the result comes back
 * in RAX (HC_ERR_* values are errors). All other registers are preserved. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

/* CPUID leaves of the hypervisor range (the range 40000000H-4FFFFFFFH is
 * reserved for software use: SDM Vol. 2A, CPUID, "Information Returned by
 * CPUID Instruction"; APM Vol. 3, "Processor Feature Identification"). */
#define HV_CPUID_VENDOR     0x40000000u  /* EAX: highest leaf; EBX,ECX,EDX: "HvsimHvsimHv" */
#define HV_CPUID_FEATURES   0x40000001u  /* EAX: HV_FEAT_* */
#define HV_CPUID_MAX        HV_CPUID_FEATURES
#define HV_FEAT_VMCALL      (1u << 0)    /* use VMCALL (0F 01 C1) */
#define HV_FEAT_VMMCALL     (1u << 1)    /* use VMMCALL (0F 01 D9) */

/* Hypercall functions: one table, expanded where needed.
 * HC(name, number, what it does) */
#define HV_HYPERCALLS(HC)                                                          \
    HC(PRINT, 1, "print RSI bytes at guest-virtual address RDI as a guest line")  \
    HC(EXIT,  2, "end the run; RDI is the guest's status (0 = pass)")            \
    HC(STATS, 3, "print exit statistics; returns the number of hypercalls so far") \
    HC(CMDLINE, 4, "copy the guest's command line (up to RSI bytes, NUL-terminated) to RDI") \
    HC(NOP,   5, "nothing: one exit round trip (benchmarks)")

enum hv_hypercall {
#define HC_ENUM(name, nr, what) HC_##name = nr,
    HV_HYPERCALLS(HC_ENUM)
#undef HC_ENUM
};

#define HC_ERR_NOSYS  ((unsigned long)-1)   /* unknown function */
#define HC_ERR_FAULT  ((unsigned long)-2)   /* an argument is not readable guest memory */
#define HC_PRINT_MAX  200
#define HC_CMDLINE_MAX 128

#endif
