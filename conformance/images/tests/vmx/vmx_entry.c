/* vmx_entry: what a VM entry does besides loading guest state. Event
 * injection of a hardware exception (#UD), a hardware exception with an
 * error code (#GP) and a software exception (#BP, with its instruction
 * length) through the guest IDT, and the valid bit of the VM-entry
 * interruption-information field cleared by the next VM exit; the
 * VM-entry MSR-load list, the VM-exit MSR-store and MSR-load lists, and a
 * VM entry that fails on its MSR-load list (exit reason 34 with bit 31,
 * the failing entry's number as qualification); TSC offsetting.
 * SDM Vol. 3C, chapter "VM Entries": "Event Injection", "Loading MSRs",
 * "VM-Entry Failures During or After Loading Guest State"; chapter "VM
 * Exits": "Saving MSRs", "Loading MSRs", "Updating VM-Entry Control
 * Fields"; "Timestamp Counter Offset and Multiplier"; "VMX-Preemption
 * Timer" (a timer of 0 exits before the first guest instruction). */
#include "tests/vmx/vmx.h"

void guest_ud(void), guest_bp(void), guest_gp(void), guest_tsc(void);
extern char guest_ud_next[], guest_bp_next[], guest_gp_next[];
extern volatile uint64_t guest_tsc_value;
__asm__(".text\n"
        "guest_ud: nop\n"
        "guest_ud_next: vmcall\n"
        "guest_bp: nop\n"
        "guest_bp_next: vmcall\n"
        "guest_gp: nop\n"
        "guest_gp_next: vmcall\n"
        ".pushsection .extable, \"a\"\n"
        ".quad guest_ud, guest_ud_next\n.quad guest_bp, guest_bp_next\n.quad guest_gp, guest_gp_next\n"
        ".popsection\n"
        "guest_tsc: rdtsc\n  shl $32, %rdx\n  or %rax, %rdx\n  mov %rdx, guest_tsc_value(%rip)\n  vmcall\n"
        ".data\n.balign 8\n.globl guest_tsc_value\nguest_tsc_value: .quad 0\n.text\n");

#define SYSENTER_CS 0x174
#define FS_BASE 0xC0000100u
#define TYPE_HW_EXCEPTION 3u
#define TYPE_SW_EXCEPTION 6u

struct msr_entry { uint32_t index, reserved; uint64_t value; };
static struct msr_entry entry_load[2] __attribute__((aligned(16)));
static struct msr_entry exit_store[1] __attribute__((aligned(16)));
static struct msr_entry exit_load[1] __attribute__((aligned(16)));

/* Runs the guest from `rip` with `info` injected; true when it came back
 * with VMCALL. */
static bool run_injected(const void *rip, uint32_t info, uint32_t error, uint32_t len)
{
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(ENTRY_INTR_INFO, info);
    vmwrite(ENTRY_EXCEPTION_ERROR, error);
    vmwrite(ENTRY_INSN_LEN, len);
    rt_fault_clear();
    return vmx_run(1) == VM_EXITED && vmx_exit_reason() == 18;
}

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_ud, 0, 0);
    uint32_t ud = (1u << 31) | (TYPE_HW_EXCEPTION << 8) | 6;
    vmwrite(ENTRY_INTR_INFO, ud);
    rt_fault_clear();
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH injecting #UD");
    tap_eq(18, vmx_exit_reason(), "the guest's handler ran and the guest went on to VMCALL");
    tap_eq(6, (uint64_t)rt_fault_vector(), "injected #UD: vector seen by the guest");
    tap_check(rt_fault.rip == (uintptr_t)guest_ud, "injected #UD: saved RIP is the guest RIP");
    tap_eq(ud & ~(1u << 31), vmread(ENTRY_INTR_INFO), "the VM exit cleared the injection's valid bit");

    tap_check(run_injected((const void *)guest_gp, (1u << 31) | (1u << 11) | (TYPE_HW_EXCEPTION << 8) | 13, 0x1234, 0),
              "injected #GP with an error code: back with VMCALL");
    tap_eq(13, (uint64_t)rt_fault_vector(), "injected #GP: vector");
    tap_eq(0x1234, rt_fault.error_code, "injected #GP: error code");

    tap_check(run_injected((const void *)guest_bp, (1u << 31) | (TYPE_SW_EXCEPTION << 8) | 3, 0, 1),
              "injected #BP (software exception, length 1): back with VMCALL");
    tap_eq(3, (uint64_t)rt_fault_vector(), "injected #BP: vector");
    tap_check(rt_fault.rip == (uintptr_t)guest_bp_next, "injected #BP: saved RIP is guest RIP + length");

    /* MSR lists: the entry loads SYSENTER_CS = 42H for the guest; the exit
     * stores the guest's value and loads 7 for the host. */
    entry_load[0] = (struct msr_entry){SYSENTER_CS, 0, 0x42};
    exit_store[0] = (struct msr_entry){SYSENTER_CS, 0, 0};
    exit_load[0] = (struct msr_entry){SYSENTER_CS, 0, 0x7};
    vmwrite(ENTRY_MSR_LOAD_ADDR, (uintptr_t)entry_load);
    vmwrite(ENTRY_MSR_LOAD_COUNT, 1);
    vmwrite(EXIT_MSR_STORE_ADDR, (uintptr_t)exit_store);
    vmwrite(EXIT_MSR_STORE_COUNT, 1);
    vmwrite(EXIT_MSR_LOAD_ADDR, (uintptr_t)exit_load);
    vmwrite(EXIT_MSR_LOAD_COUNT, 1);
    tap_check(run_injected(guest_ud_next, 0, 0, 0), "VMRESUME with MSR lists: back with VMCALL");
    tap_eq(0x42, vmread(GUEST_SYSENTER_CS), "VM-entry MSR-load list: the guest ran with SYSENTER_CS = 42H");
    tap_eq(0x42, exit_store[0].value, "VM-exit MSR-store list: the guest's value stored");
    tap_eq(0x7, rdmsr(SYSENTER_CS), "VM-exit MSR-load list: the host's value loaded");
    vmwrite(EXIT_MSR_STORE_COUNT, 0);
    vmwrite(EXIT_MSR_LOAD_COUNT, 0);

    /* "Loading MSRs": IA32_FS_BASE may not be in the list; the second
     * entry fails the VM entry after guest state was loaded. */
    entry_load[1] = (struct msr_entry){FS_BASE, 0, 0};
    vmwrite(ENTRY_MSR_LOAD_COUNT, 2);
    vmwrite(GUEST_RIP, (uintptr_t)guest_ud_next);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with IA32_FS_BASE in the MSR-load list continues at HOST_RIP");
    tap_eq(0x80000022, vmread(EXIT_REASON), "VM-entry failure: exit reason 34 with bit 31");
    tap_eq(2, vmread(EXIT_QUALIFICATION), "VM-entry failure: the failing entry's number");
    vmwrite(ENTRY_MSR_LOAD_COUNT, 0);

    /* TSC offsetting: the guest's RDTSC (not exiting) adds the offset. */
    vmwrite(PROC_CONTROLS, vmread(PROC_CONTROLS) | (1u << 3));
    vmwrite(TSC_OFFSET, 1ull << 50);
    uint64_t before = rdtsc();
    tap_check(run_injected((const void *)guest_tsc, 0, 0, 0), "guest RDTSC with TSC offsetting: back with VMCALL");
    uint64_t after = rdtsc();
    tap_check(guest_tsc_value - (1ull << 50) >= before && guest_tsc_value - (1ull << 50) <= after,
              "guest RDTSC = host TSC + offset");
    tap_check(after < (1ull << 50), "the host's TSC has no offset after the exit");

    /* A VMX-preemption timer of 0: exit 52 before the guest's VMCALL. */
    vmwrite(PIN_CONTROLS, vmread(PIN_CONTROLS) | (1u << 6));
    vmwrite(0x482E /* VMX-preemption timer value */, 0);
    vmwrite(GUEST_RIP, (uintptr_t)guest_ud_next);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with a VMX-preemption timer of 0");
    tap_eq(52, vmx_exit_reason(), "VMX-preemption timer expired: exit reason");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)guest_ud_next, "no guest instruction ran before the exit");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
