/* Which guest actions cause a #VMEXIT and what the VMCB reports for them:
 * the intercept bits of the control area, the MSR and I/O permission maps,
 * and EXITCODE / EXITINFO1 / EXITINFO2 / EXITINTINFO / NRIP of each kind of
 * exit (AMD APM Vol. 2, "Secure Virtual Machine": "Instruction Intercepts",
 * "MSR Intercepts", "I/O Intercepts", "Exception Intercepts", "Nested Page
 * Faults (#NPF)", "Decode Assists", "Next RIP"). Pure functions over a
 * control area and the machine's physical memory: the simulator decides
 * with them, the conformance tests check them directly. */
#ifndef HVSIM_MODELS_SVM_SVM_EXITS_H
#define HVSIM_MODELS_SVM_SVM_EXITS_H

#include <stdbool.h>
#include <stdint.h>

#include "models/svm/svm_catalog.h"
#include "models/svm/svm_insn.h"

/* Is intercept `i` set in the control area `c`? */
bool svm_ctl_intercepts(const struct svm_vmcb_control *c, enum svm_intercept i);

/* ---- MSR permission map ("MSR Intercepts") ------------------------------ */

/* Where MSR `msr` has its two bits in the 8 KiB map: bit offset of the read
 * bit (the write bit follows). false for MSRs outside the three mapped
 * ranges, which are always intercepted when MSR_PROT is set. */
bool svm_msrpm_bit(uint32_t msr, uint32_t *bit);

/* Does RDMSR (write = false) or WRMSR of `msr` exit? The map is read from
 * MSRPM_BASE_PA through m; an unreadable map intercepts. */
bool svm_msr_intercepted(const struct svm_vmcb_control *c, const struct svm_machine *m, uint32_t msr, bool write);

/* ---- I/O permission map ("I/O Intercepts") ------------------------------- */

/* Does an access of `size` bytes (1, 2, 4) at `port` exit? Every port the
 * access touches has its bit checked. */
bool svm_io_intercepted(const struct svm_vmcb_control *c, const struct svm_machine *m, uint16_t port, unsigned size);

/* EXITINFO1 bits of an IOIO intercept. */
#define SVM_IOIO_TYPE_IN   (1ull << 0)
#define SVM_IOIO_STR       (1ull << 2)
#define SVM_IOIO_REP       (1ull << 3)
#define SVM_IOIO_SZ8       (1ull << 4)
#define SVM_IOIO_SZ16      (1ull << 5)
#define SVM_IOIO_SZ32      (1ull << 6)
#define SVM_IOIO_A16       (1ull << 7)
#define SVM_IOIO_A32       (1ull << 8)
#define SVM_IOIO_A64       (1ull << 9)
#define SVM_IOIO_SEG_SHIFT 10
#define SVM_IOIO_PORT_SHIFT 16

struct svm_ioio {
  uint16_t port;
  unsigned size;          /* operand size in bytes: 1, 2, 4 */
  bool in, string, rep;
  unsigned addr_bits;     /* address size: 16, 32, 64 */
  unsigned seg;           /* effective segment of OUTS/INS (ES=0 ... GS=5) */
};

/* EXITINFO1 of an IOIO intercept; the segment field is filled only on CPUs
 * with decode assists. EXITINFO2 is the next RIP. */
uint64_t svm_ioio_exitinfo1(const struct svm_features *f, const struct svm_ioio *io);

/* ---- Instruction intercepts with decode assists ("Decode Assists") ------ */

/* EXITINFO1 of a CR access exit: with decode assists, bit 63 says the
 * instruction was MOV CRn (not LMSW/CLTS/SMSW) and bits 3:0 name its GPR;
 * without decode assists, zero. */
#define SVM_CR_EXITINFO1_MOV (1ull << 63)
uint64_t svm_cr_exitinfo1(const struct svm_features *f, bool is_mov, unsigned gpr);
/* EXITINFO1 of a DR access exit: the GPR number under decode assists. */
uint64_t svm_dr_exitinfo1(const struct svm_features *f, unsigned gpr);
/* EXITINFO1 of INVLPG (the linear address) and INTn (the vector) exits
 * under decode assists; zero without. */
uint64_t svm_decode_assist_value(const struct svm_features *f, uint64_t value);

/* ---- Guest instruction bytes ("Decode Assists") ------------------------- */

/* Does this #VMEXIT carry the guest's instruction bytes? On CPUs with
 * decode assists, a #NPF or an intercepted #PF of a data access gets up to
 * 15 bytes read from CS:RIP; "instruction-fetch page faults provide no
 * additional information" (the I/D bit, bit 4 of the error code in
 * EXITINFO1, is set), and every other exit reports none. */
#define SVM_PF_ERROR_ID (1ull << 4)
bool svm_exit_has_insn_bytes(const struct svm_features *f, uint64_t exitcode, uint64_t exitinfo1);

/* Reads one instruction byte at linear address `la` as the guest would
 * fetch it; false when it cannot be read (not mapped, or a fault). */
typedef bool (*svm_fetch_byte_fn)(void *ctx, uint64_t la, uint8_t *byte);

/* Fills e->insn_len / e->insn_bytes with the bytes at linear address
 * `la` (CS.base + RIP): up to 15, ending before the first byte `fetch`
 * cannot read. Outside 64-bit mode the linear address wraps at 4 GiB. */
void svm_fetch_insn_bytes(struct svm_exit *e, svm_fetch_byte_fn fetch, void *ctx, uint64_t la, bool long64);

/* ---- Exceptions ("Exception Intercepts") -------------------------------- */

/* The exit of an intercepted exception `vector`: EXITINFO1 the error code
 * when the exception has one, EXITINFO2 the faulting address of #PF. */
struct svm_exit svm_exception_exit(uint8_t vector, bool has_error, uint32_t error, uint64_t cr2);

/* ---- Task switches ("Miscellaneous Intercepts": task switch) ------------ */

/* What started a task switch: a far CALL or an event through a task gate
 * (neither EXITINFO2 bit), IRET with RFLAGS.NT = 1, or a far JMP. */
enum svm_task_switch_source { SVM_TS_CALL_OR_GATE, SVM_TS_IRET, SVM_TS_JMP };
#define SVM_TS_EXITINFO2_IRET      (1ull << 36)
#define SVM_TS_EXITINFO2_JMP       (1ull << 38)
#define SVM_TS_EXITINFO2_HAS_ERROR (1ull << 44)
#define SVM_TS_EXITINFO2_RF        (1ull << 48)

/* The #VMEXIT(TASK_SWITCH) of a task switch to the TSS `tss_selector`:
 * EXITINFO1 the selector; EXITINFO2 bits 31:0 the error code the switch
 * would push (bit 44 says there is one), bit 36 IRET, bit 38 far JMP,
 * bit 48 the RFLAGS.RF the outgoing TSS would get. The guest RIP stays at
 * the instruction; NRIP is not saved. */
struct svm_exit svm_task_switch_exit(uint16_t tss_selector, enum svm_task_switch_source source, bool has_error,
                                     uint32_t error, bool rf);

/* ---- PAUSE ("Pause Intercept Filtering") -------------------------------- */

/* The filter's internal state: the counter VMRUN loads from
 * PAUSE_FILTER_COUNT and the time of the guest's previous PAUSE (for the
 * threshold). */
struct svm_pause_filter {
  uint16_t count;
  bool seen;            /* a PAUSE ran since VMRUN: `last` is its time */
  uint64_t last;
};

/* VMRUN loads the counter from PAUSE_FILTER_COUNT; no PAUSE seen yet. */
void svm_pause_filter_load(struct svm_pause_filter *p, const struct svm_vmcb_control *c);

/* Does a PAUSE at time `now` (cycles: a counter at the TSC's rate) in the
 * guest exit? Without the PAUSE intercept never; on a CPU without the
 * filter (Fn8000_000A EDX bit 10) always; with it, the counter (`p->count`)
 * decides: a PAUSE that finds it at 0 exits, any other decrements it.
 * (The APM: "if the PAUSE Filter Count is set to zero ... every PAUSE
 * instruction will cause a #VMEXIT"; Bochs 2.7 exits on the PAUSE after
 * COUNT PAUSEs, measured by svm_desc.) With the PAUSE filter threshold
 * (Fn8000_000A EDX bit 12) and PAUSE_FILTER_THRESHOLD non-zero, a PAUSE
 * more than PAUSE_FILTER_THRESHOLD cycles after the previous PAUSE first
 * reloads the counter from PAUSE_FILTER_COUNT (the spin loop ended: the
 * count starts again); threshold 0 leaves the filter as without the
 * feature. Every intercepted PAUSE records its time in `p`. */
bool svm_pause_exits(const struct svm_features *f, const struct svm_vmcb_control *c, struct svm_pause_filter *p,
                     uint64_t now);

/* ---- Interrupts ("Global Interrupt Flag, STGI and CLGI Instructions",
 * "Interrupt Masking in EFLAGS", "Interrupt Intercepts", "Virtual
 * Interrupts") ------------------------------------------------------------ */

/* What a physical interrupt (INTR) the interrupt controller asserts does
 * now. GIF = 0 holds it pending, in the host and in the guest. In the
 * host, RFLAGS.IF decides. In the guest, with V_INTR_MASKING = 1 the
 * host's RFLAGS.IF at VMRUN masks physical interrupts (the guest's IF
 * masks only virtual ones), with V_INTR_MASKING = 0 the guest's IF does;
 * an unmasked interrupt is a #VMEXIT(INTR) under the INTR intercept (the
 * interrupt stays pending in the controller), else it is delivered
 * through the guest IDT when the guest's IF is 1 and stays pending
 * otherwise. */
enum svm_intr_action { SVM_INTR_HELD, SVM_INTR_VMEXIT, SVM_INTR_DELIVER };
enum svm_intr_action svm_physical_interrupt(bool gif, bool in_guest, const struct svm_vmcb_control *c, bool guest_if,
                                            bool host_if);

/* What a pending NMI does now ("Global Interrupt Flag, STGI and CLGI
 * Instructions": GIF = 0 holds NMIs pending until STGI; "Interrupt
 * Intercepts", NMI: in the guest under the NMI intercept it is a
 * #VMEXIT(NMI) (61H) and stays pending for the host, which takes it
 * through its own IDT once it sets GIF). Blocking by NMI (from an NMI's
 * delivery until the next IRET, as on any x86 processor) also holds it,
 * the intercept included: the NMI is not recognized. Otherwise it is
 * delivered through the current IDT (vector 2); RFLAGS.IF and
 * V_INTR_MASKING do not mask NMIs. */
enum svm_intr_action svm_nmi(bool gif, bool in_guest, const struct svm_vmcb_control *c, bool nmi_blocking);

/* What a pending SMI or INIT does now ("Global Interrupt Flag, STGI and
 * CLGI Instructions": with GIF = 0 "INTR, NMI, SMI and INIT are held
 * pending", in the host and in the guest; "Interrupt Intercepts", SMI and
 * INIT: in the guest under its intercept it is a #VMEXIT (62H, 63H) and
 * stays pending for the host, as the NMI does: GIF = 0 after the #VMEXIT
 * holds it until the host's STGI). Otherwise the processor acts on it:
 * SMI enters system-management mode, INIT performs the INIT reset
 * (SVM_INTR_DELIVER). RFLAGS.IF, V_INTR_MASKING and blocking by NMI do not
 * mask them. */
enum svm_signal { SVM_SIGNAL_SMI, SVM_SIGNAL_INIT };
enum svm_intr_action svm_signal(bool gif, bool in_guest, const struct svm_vmcb_control *c, enum svm_signal s);
/* Its #VMEXIT: EXITCODE 62H (SMI) or 63H (INIT), EXITINFO1 = EXITINFO2 =
 * 0 (the model's SMIs come from the local APIC, never from an I/O
 * instruction trap: no I/O information to report). */
struct svm_exit svm_signal_exit(enum svm_signal s);

/* A pending virtual interrupt (V_IRQ) the guest takes when it can take
 * interrupts: GIF = 1 and its priority V_INTR_PRIO above V_TPR[3:0], or
 * V_IGN_TPR. (RFLAGS.IF and the interrupt shadow are the caller's.) */
bool svm_virtual_interrupt_pending(bool gif, const struct svm_vmcb_control *c);

/* ---- EXITINTINFO ("Event Injection", "#VMEXIT") ------------------------- */

/* The EVENTINJ/EXITINTINFO encoding of an event. */
uint64_t svm_event_encode(uint8_t vector, enum svm_event_type type, bool has_error, uint32_t error);

#endif
