/* vmx_timer: the VMX-preemption timer counting down in VMX non-root
 * operation. A guest that only counts is stopped by exit 52 after about
 * as many TSC ticks as the timer value (IA32_VMX_MISC[4:0] gives the rate);
 * with "save VMX-preemption timer value" every exit stores what is left
 * (0 for the timer's own exit) and the next VM entry counts down from
 * there, the timer standing still in VMX root operation; without it the
 * field keeps the value VM entry loaded. The timer ends a guest HLT with
 * IF=0 and an entry into the HLT activity state. The guest's counts are
 * checked against bounds that hold on any engine that retires about one
 * instruction per TSC tick (hvsim, Bochs), never against exact counts.
 * SDM Vol. 3C, "VMX-Preemption Timer" (chapters "VMX Non-Root Operation"
 * and "VM Entries"), "Saving Non-Register State", appendix "Miscellaneous
 * Data". */
#include "tests/vmx/vmx.h"

#define MSR_VMX_MISC 0x485
#define PIN_PREEMPTION_TIMER (1u << 6)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
#define TIMER_VALUE 0x482E
#define EXIT_PREEMPTION_TIMER 52
#define EXIT_VMCALL 18

void guest_count(void);
extern char g_count[], g_count_end[], g_short[], g_hlt[], g_after_hlt[];
extern volatile uint64_t guest_counter;
__asm__(".text\n"
        /* Counts forever: two instructions per count. */
        "guest_count:\n"
        "g_count: incq guest_counter(%rip)\n  jmp g_count\n"
        "g_count_end:\n"
        /* About 2000 instructions, then VMCALL; resumed, it counts. */
        "g_short: mov $1000, %ecx\n1: dec %ecx\n  jnz 1b\n  vmcall\n  jmp g_count\n"
        "g_hlt: hlt\n"
        "g_after_hlt: vmcall\n"
        ".data\n.balign 8\n.globl guest_counter\nguest_counter: .quad 0\n.text\n");

static unsigned rate;

/* Timer `value`, guest at `rip` with `rflags` in `activity`; the exit
 * controls get `save` (the save control or 0). */
static int run_timed(const char *rip, uint32_t value, uint32_t save, uint64_t rflags, unsigned activity, int resume)
{
    vmwrite(PIN_CONTROLS, vmx_adjust(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, PIN_PREEMPTION_TIMER));
    vmwrite(EXIT_CONTROLS, vmx_adjust(MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT, EXIT_HOST_64 | save));
    vmwrite(TIMER_VALUE, value);
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RFLAGS, rflags);
    vmwrite(GUEST_ACTIVITY, activity);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    guest_counter = 0;
    return vmx_run(resume);
}

/* The TSC ticks a timer value lasts. */
static uint64_t ticks(uint64_t value) { return value << rate; }

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_count, 0, 0);
    tap_check((rdmsr(MSR_VMX_PINBASED) >> 32) & PIN_PREEMPTION_TIMER, "the VMX-preemption timer is supported");
    rate = (unsigned)(rdmsr(MSR_VMX_MISC) & 0x1F);
    tap_note("IA32_VMX_MISC: the timer counts when TSC bit %u changes", rate);

    /* A counting guest is stopped by the timer. */
    uint32_t n = 100000;
    tap_eq(VM_EXITED, run_timed(g_count, n, 0, 0x2, 0, 0), "VMLAUNCH with a VMX-preemption timer of %u", n);
    tap_eq(EXIT_PREEMPTION_TIMER, vmx_exit_reason(), "the timer expired: exit reason 52");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "qualification 0");
    uint64_t count = guest_counter, rip = vmread(GUEST_RIP);
    tap_check(count >= ticks(n) / 8, "the guest ran before the timer expired");
    tap_check(count <= ticks(n), "the guest did not run past the timer (at most one count per 2 ticks)");
    tap_check(rip >= (uintptr_t)g_count && rip < (uintptr_t)g_count_end, "the exit is at an instruction boundary of the loop");
    tap_eq(n, vmread(TIMER_VALUE), "without the save control the timer-value field keeps %u", n);

    /* "save VMX-preemption timer value": the VMCALL exit stores what is left. */
    uint32_t big = 1000000;
    tap_eq(VM_EXITED, run_timed(g_short, big, EXIT_SAVE_PREEMPTION_TIMER, 0x2, 0, 1),
           "VMRESUME with a timer of %u and the save control", big);
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the guest's VMCALL exits first");
    uint64_t left = vmread(TIMER_VALUE);
    tap_check(left < big, "the saved timer value counted down");
    tap_check(big - left <= 100000, "by about the guest's 2000 instructions, not more than 100000");

    /* The timer stands still in root operation: the host's own work does
     * not count, and the next entry starts from the saved value. */
    for (volatile uint32_t i = 0; i < 2 * big; i++) {}
    guest_counter = 0;
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME after the host ran longer than the timer");
    tap_eq(EXIT_PREEMPTION_TIMER, vmx_exit_reason(), "the rest of the timer expires: exit reason 52");
    tap_check(guest_counter >= ticks(left) / 8, "the guest counted before the rest expired");
    tap_check(guest_counter <= ticks(left), "and not beyond it");
    tap_eq(0, vmread(TIMER_VALUE), "the timer's own exit saves 0");

    /* Without the save control the VMCALL exit leaves the field alone. */
    tap_eq(VM_EXITED, run_timed(g_short, big, 0, 0x2, 0, 1), "VMRESUME with a timer of %u, no save control", big);
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "VMCALL exit");
    tap_eq(big, vmread(TIMER_VALUE), "the timer-value field still holds %u", big);

    /* HLT with IF=0: only the timer can end it. */
    tap_eq(VM_EXITED, run_timed(g_hlt, n, EXIT_SAVE_PREEMPTION_TIMER, 0x2, 0, 1), "guest HLT with IF=0 and a timer");
    tap_eq(EXIT_PREEMPTION_TIMER, vmx_exit_reason(), "the timer ends the halt: exit reason 52");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_after_hlt, "the saved RIP follows the HLT");
    tap_eq(1, vmread(GUEST_ACTIVITY), "the exit saves the HLT activity state");
    tap_eq(0, vmread(TIMER_VALUE), "and the timer value 0");

    /* VM entry into the HLT activity state. */
    tap_eq(VM_EXITED, run_timed(g_after_hlt, n, 0, 0x2, 1, 1), "VM entry into the HLT activity state with a timer");
    tap_eq(EXIT_PREEMPTION_TIMER, vmx_exit_reason(), "the timer wakes it: exit reason 52");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_after_hlt, "no guest instruction ran");
    tap_eq(1, vmread(GUEST_ACTIVITY), "the exit saves the HLT activity state");

    /* A timer of 0 at entry into the HLT state: the exit comes first. */
    tap_eq(VM_EXITED, run_timed(g_after_hlt, 0, 0, 0x2, 1, 1), "VM entry into the HLT state with a timer of 0");
    tap_eq(EXIT_PREEMPTION_TIMER, vmx_exit_reason(), "exit reason 52 before any guest instruction");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_after_hlt, "RIP unchanged");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
