/* Nehalem class CPU model: the first generation with EPT and VPID, and the
 * smaller feature set tests need to exercise feature-dependent rules: no
 * unrestricted guest, no VMX-preemption timer, no EPT A/D bits, no 2 MiB /
 * 1 GiB EPT pages, no VM functions, no VMCS shadowing, no PML, no VMWRITE
 * to read-only fields, no zero-length software-event injection, and a
 * smaller CR4_FIXED1 (no PCIDE, FSGSBASE, OSXSAVE, SMEP, SMAP).
 * Deviation from the real part: the VMCS region is 4 KiB (Nehalem reports
 * 1 KiB) because the model's private region layout needs more. */
#include "models/vmx/caps.h"

const struct vmx_caps vmx_caps_nehalem = {
  .name = "nehalem",
  .maxphyaddr = 36,
  .linear_bits = 48,
  .basic          = 0x009810000000000Eull,    /* revision 0EH, 4 KiB, WB, TRUE_ controls */
  .pinbased       = 0x0000003F00000016ull,    /* ext-int, NMI, virtual NMIs */
  .procbased      = 0xFFF9FFFE0401E172ull,    /* includes monitor trap flag */
  .exit           = 0x003FFFFF00036DFFull,    /* no "save preemption timer" */
  .entry          = 0x0000FFFF000011FFull,
  .misc           = 0x00000000000401C5ull,    /* rate 5, HLT/shutdown/SIPI, 4 CR3 targets */
  .cr0_fixed0     = 0x0000000080000021ull,
  .cr0_fixed1     = 0x00000000FFFFFFFFull,
  .cr4_fixed0     = 0x0000000000002000ull,
  .cr4_fixed1     = 0x00000000000027FFull,
  .procbased2     = 0x0000007B00000000ull,    /* APIC access, EPT, RDTSCP, x2APIC, VPID, WBINVD */
  .ept_vpid_cap   = 0x00000F0106104141ull,    /* no A/D, no large pages */
  .true_pinbased  = 0x0000003F00000016ull,
  .true_procbased = 0xFFF9FFFE04006172ull,
  .true_exit      = 0x003FFFFF00036DFBull,
  .true_entry     = 0x0000FFFF000011FBull,
  .vmfunc         = 0,
  .procbased3     = 0,
  .efer_valid        = 0xD01,
  .debugctl_valid    = 0xFFC3,
  .perf_global_valid = 0x000000030000000Full, /* 4 PMCs, 2 fixed counters */
  .feature_control_reset = 0x5,
};
