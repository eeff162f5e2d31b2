/* Skylake-X class CPU model, following Bochs 2.7's `corei7_skylake_x`
 * (cpu/cpudb/intel/corei7_skylake-x.cc and the capability composition in
 * cpu/vmx.cc): EPT with A/D bits and 1 GiB pages, VPID, unrestricted guest,
 * VMX-preemption timer, VMCS shadowing, PML, EPT-violation #VE, EPTP
 * switching, TSC scaling, APIC virtualization; no posted interrupts, no
 * monitor trap flag (Bochs does not offer them on this model). Where Bochs
 * and the real i7-7800X differ (VMCS revision, region size, MISC timer
 * rate) this model follows Bochs, so guest images see the same values on
 * hvsim and on Bochs. One departure from Bochs: "enable XSAVES/XRSTORS"
 * (secondary control bit 20) is not offered, because hvsim's skylake-x
 * CPU does not have XSAVES/XRSTORS (CPUID.(EAX=0DH,ECX=1):EAX[3] = 0:
 * Unicorn cannot execute them), and the control only exists on processors
 * that support those instructions (SDM Vol. 3C, "Secondary Processor-Based
 * VM-Execution Controls"; appendix "Secondary Processor-Based VM-Execution
 * Controls"). Without it the XSS-exiting bitmap does not exist and the
 * guest's XSAVES/XRSTORS raise #UD, as with the control 0 (exits 63/64
 * never occur). */
#include "models/vmx/caps.h"

const struct vmx_caps vmx_caps_skylake_x = {
  .name = "skylake-x",
  .maxphyaddr = 40,                           /* Bochs BX_PHY_ADDRESS_WIDTH */
  .linear_bits = 48,
  /* revision 2BH, 4 KiB region, WB, INS/OUTS info, TRUE_ controls */
  .basic          = 0x00D810000000002Bull,
  .pinbased       = 0x0000007F00000016ull,    /* ext-int, NMI, virtual NMIs, preemption timer */
  .procbased      = 0xF7F9FFFE0401E172ull,
  .exit           = 0x007FFFFF00036DFFull,
  .entry          = 0x0000FFFF000011FFull,
  /* LMA store, HLT/shutdown/wait-for-SIPI, 4 CR3 targets, VMWRITE to
   * read-only fields, injection of software events with length 0 */
  .misc           = 0x00000000600401E0ull,
  .cr0_fixed0     = 0x0000000080000021ull,
  .cr0_fixed1     = 0x00000000FFFFFFFFull,
  .cr4_fixed0     = 0x0000000000002000ull,
  .cr4_fixed1     = 0x00000000003727FFull,
  .vmcs_enum      = 0x34,                     /* Bochs VMX_HIGHEST_VMCS_ENCODING */
  .procbased2     = 0x02077FFF00000000ull,    /* Bochs: 0x02177FFF (with XSAVES) */
  .ept_vpid_cap   = 0x00000F0106334141ull,
  .true_pinbased  = 0x0000007F00000016ull,
  .true_procbased = 0xF7F9FFFE04006172ull,
  .true_exit      = 0x007FFFFF00036DFBull,
  .true_entry     = 0x0000FFFF000011FBull,
  .vmfunc         = 0x0000000000000001ull,    /* EPTP switching */
  .procbased3     = 0,
  .efer_valid        = 0xD01,                 /* SCE, LME, LMA, NXE */
  .debugctl_valid    = 0xFFC3,                /* LBR, BTF, bits 15:6 */
  .perf_global_valid = 0x000000070000000Full, /* 4 PMCs, 3 fixed counters */
  .feature_control_reset = 0x5,               /* Bochs's BIOS: locked, VMX outside SMX */
};
