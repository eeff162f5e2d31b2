/* vmx_ple: PAUSE-loop exiting. A 64-bit guest at CPL 0 spins on PAUSE
 * (counting its PAUSEs in memory) or runs PAUSEs spaced by a delay loop,
 * with "PAUSE-loop exiting" and various PLE_Gap / PLE_Window values; the
 * host prints the exit reason (40), qualification (0), instruction length
 * and guest RIP of the PAUSE that exits, or that the guest reached its
 * VMCALL without one.
 * SDM Vol. 3C, "Instructions That Cause VM Exits Conditionally" (PAUSE:
 * the PLE_Gap / PLE_Window rule, "PAUSE exiting" winning at CPL 0, the
 * first PAUSE after VM entry), "Secondary Processor-Based VM-Execution
 * Controls" (bit 10; inactive without "activate secondary controls").
 *
 * The engines' counters differ (Bochs counts its own ticks, hvsim retired
 * instructions, hardware the TSC), so the number of PAUSEs before an exit
 * is compared only where the rule fixes it: with PLE_Window 0 the second
 * PAUSE of a loop exits (the first starts the loop, and time passes
 * between the two), with "PAUSE exiting" the first; with a large window
 * only "more than two" is checked. Bochs 2.7 does not start a new loop at
 * VM entry (its last-PAUSE time survives the exit and the entry), so the
 * last case, with PLE_Gap FFFFFFFFH, exits at the first PAUSE there: a
 * declared departure (bochs-vmx-ple-no-reset-at-entry). */
#include "tests/vmx/vmx.h"

#define PROC_PAUSE_EXITING (1u << 30)
#define PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define PLE_GAP 0x4020
#define PLE_WINDOW 0x4022
#define EXIT_PAUSE 40
#define EXIT_VMCALL 18
#define SPACED_PAUSES 20

void guest_spin(void);
void guest_spaced(void);
extern char g_spin_pause[];
extern volatile uint64_t spin_count, spaced_count;
/* guest_spin: counts, then PAUSEs, forever. guest_spaced: SPACED_PAUSES
 * PAUSEs, each followed by a loop of 200 iterations (400 instructions,
 * which take more than 50 TSC ticks on any engine and less than 1000 on
 * the simulators), then VMCALL. */
__asm__(".text\n"
        "guest_spin:\n"
        "1: incq spin_count(%rip)\n"
        "g_spin_pause: pause\n"
        "  jmp 1b\n"
        "guest_spaced:\n"
        "  mov $20, %r8d\n"
        "2: incq spaced_count(%rip)\n"
        "  pause\n"
        "  mov $200, %ecx\n"
        "3: dec %ecx\n  jnz 3b\n"
        "  dec %r8d\n  jnz 2b\n"
        "  vmcall\n  ud2\n"
        ".data\n.balign 8\n"
        ".globl spin_count\nspin_count: .quad 0\n"
        ".globl spaced_count\nspaced_count: .quad 0\n"
        ".text\n");

/* Host time between cases, more than any PLE_Gap below 10000 on every
 * engine, so that even an engine that keeps the previous loop across VM
 * entries (Bochs) sees the guest's first PAUSE as the first in a loop. */
static void host_delay(void)
{
    for (volatile unsigned i = 0; i < 20000; i++) {
    }
}

/* Enters `guest` with the PAUSE controls given; returns the exit reason. */
static unsigned run(void (*guest)(void), uint32_t proc, uint32_t gap, uint32_t window)
{
    vmx_setup_vmcs(guest, proc, PROC2_PAUSE_LOOP_EXITING);
    vmwrite(PLE_GAP, gap);
    vmwrite(PLE_WINDOW, window);
    spin_count = spaced_count = 0;
    host_delay();
    if (vmx_run(0) != VM_EXITED) return ~0u;
    return vmx_exit_reason();
}

static void expect_pause_exit(const char *what)
{
    tap_eq(EXIT_PAUSE, vmx_exit_reason(), "%s: exit reason PAUSE", what);
    tap_eq(0, vmread(EXIT_QUALIFICATION), "%s: qualification 0", what);
    tap_eq(2, vmread(EXIT_INSN_LEN), "%s: instruction length", what);
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_spin_pause, "%s: guest RIP is the PAUSE", what);
}

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    tap_check((rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_PAUSE_LOOP_EXITING, "PAUSE-loop exiting is offered");

    run(guest_spin, 0, 1000, 0);
    expect_pause_exit("gap 1000, window 0");
    tap_eq(2, spin_count, "window 0: the second PAUSE of the loop exits");

    run(guest_spin, 0, 1000, 5000);
    expect_pause_exit("gap 1000, window 5000");
    tap_check(spin_count > 2, "window 5000: the loop runs past its second PAUSE before the exit");

    tap_eq(EXIT_VMCALL, run(guest_spaced, 0, 50, 0), "gap 50, PAUSEs further apart: no exit, VMCALL");
    tap_eq(SPACED_PAUSES, spaced_count, "every spaced PAUSE ran (each the first of a loop)");

    tap_eq(EXIT_PAUSE, run(guest_spin, PROC_PAUSE_EXITING, 1000, 100000), "PAUSE exiting with PLE: exit 40");
    tap_eq(1, spin_count, "PAUSE exiting wins over PAUSE-loop exiting: the first PAUSE exits");

    vmx_setup_vmcs(guest_spaced, 0, PROC2_PAUSE_LOOP_EXITING);
    vmwrite(PLE_GAP, 1000);
    vmwrite(PLE_WINDOW, 0);
    vmwrite(PROC_CONTROLS, vmread(PROC_CONTROLS) & ~PROC_SECONDARY);
    spaced_count = 0;
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH without activate secondary controls");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "PAUSE-loop exiting inactive: no exit, VMCALL");
    tap_eq(SPACED_PAUSES, spaced_count, "every PAUSE ran");

    /* The previous case's PAUSEs are less than FFFFFFFFH ticks ago. */
    run(guest_spin, 0, 0xFFFFFFFFu, 0);
    expect_pause_exit("gap FFFFFFFFH, window 0");
    tap_eq_or_departure(2, spin_count, 1, "bochs-vmx-ple-no-reset-at-entry",
                        "the first PAUSE after VM entry starts a loop: the second exits");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
