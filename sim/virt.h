/* The seam between the machine and its virtualization extension: VMX on
 * Intel models (sim/vmx_ext.c over models/vmx), SVM on AMD models
 * (sim/svm_ext.c over models/svm). The machine asks the extension at every
 * point where the architecture lets a hypervisor take control; the
 * extension owns its model state (VMCS, VMCB, GIF, VMX operation, ...).
 *
 * Two kinds of callback, by where they run:
 *  [hook] inside a Unicorn hook, before the instruction executes. Unicorn's
 *         registers are current: read them through sim/uc_bridge.h (m->cpu
 *         is only as fresh as the last return from Unicorn). These
 *         callbacks answer questions and must not change state.
 *  [loop] with the whole state in hand: in the run loop after Unicorn
 *         returned, or in a code hook through machine_take_up_in_hook
 *         (sim/machine.h). m->cpu holds the whole, current vCPU state; the
 *         extension rewrites it freely (a world switch replaces all of it)
 *         and the machine reloads Unicorn and flushes Unicorn's TLB before
 *         it goes on.
 * Every callback may be NULL: the machine then behaves as a processor
 * without the extension at that point. */
#ifndef HVSIM_SIM_VIRT_H
#define HVSIM_SIM_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct machine;
struct insn;
struct pending_event;
struct mmu_context;
struct mmu_fault;

enum virt_msr_result {
  VIRT_MSR_NOT_MINE,   /* the machine's own MSR table handles it */
  VIRT_MSR_OK,
  VIRT_MSR_GP,         /* #GP(0) */
};

struct virt_ops {
  const char *name;    /* "vmx", "svm" */

  /* [loop] An instruction Unicorn refused (#UD) at in->rip: when it is one
   * of the extension's (VMXON, VMRUN, ...), carry it out on m->cpu — its
   * faults through machine_raise (sim/machine.h), its world switch on
   * m->cpu — and return true. false: the machine delivers #UD. */
  bool (*execute)(struct machine *m, struct insn *in);
  /* [hook] Optional: carry out one of the extension's instructions right in
   * its hook, on the live registers, when it touches nothing but general
   * registers, RIP and RFLAGS and cannot fault, exit or fail (VMREAD and
   * VMWRITE between registers in VMX root operation); true when done. false
   * changes nothing: the instruction goes through `execute` on the whole
   * state. */
  bool (*execute_in_hook)(struct machine *m, const struct insn *in);

  /* [hook] Does this system instruction cause a VM exit / #VMEXIT in the
   * current mode? Asked for every instruction of sim/sysinsn.h's table
   * (CPUID, RDMSR, MOV CR, HLT, INVLPG, RDTSC, ...) before the machine
   * carries it out. */
  bool (*insn_exits)(struct machine *m, struct insn *in);
  /* [hook] Does port I/O of `size` bytes at `port` exit? */
  bool (*io_exits)(struct machine *m, uint16_t port, unsigned size, bool is_in);
  /* [loop] Performs the exit that insn_exits or io_exits announced, for
   * the instruction at in->rip (the machine has located it and undone
   * whatever Unicorn did). */
  void (*exit_for_insn)(struct machine *m, struct insn *in);

  /* [loop] An exception or software interrupt about to be delivered
   * through the IDT in the current mode — and an external interrupt, NMI
   * or injected event whose IDT entry is a task gate: true when it became a
   * VM exit (exception bitmap, exception intercepts, a task switch)
   * instead. Asked again for each fault raised by a delivery (#DF
   * included); m->delivering is then the event whose delivery raised it. */
  bool (*event_exits)(struct machine *m, const struct pending_event *ev);

  /* [loop] The PIC asserts INT at an instruction boundary outside any
   * interrupt shadow, with RFLAGS.IF = 1 or interrupt_would_exit true
   * (VMX's external-interrupt exiting and SVM's INTR intercept have their
   * own masking rules). True
   * when the extension took it as a VM exit / #VMEXIT; the request then
   * stays pending in the PIC's IRR, since acknowledging it on exit (VMX's
   * "acknowledge interrupt on exit") is the extension's business: it calls
   * pic_ack(&m->pic) itself. false: the machine delivers it through the
   * current IDT when RFLAGS.IF is 1, else leaves it pending. */
  bool (*interrupt_exits)(struct machine *m);

  /* [hook][loop] Does the extension want the run to stop at the next
   * instruction boundary where the guest can take a maskable interrupt
   * (RFLAGS.IF = 1, outside an STI / MOV SS shadow), whether or not the PIC
   * asserts INT? VMX: "interrupt-window exiting"; SVM: a V_IRQ the guest
   * would take. Reads only the extension's own state; the machine re-asks
   * after irq_rearm (sim/irq.h), which the extension calls when the answer
   * may have changed (a VM entry, VMRUN). */
  bool (*window_wanted)(struct machine *m);
  /* [loop] Such a boundary is here (m->cpu.rflags has IF = 1): performs the
   * interrupt-window exit, the VINTR intercept or the virtual interrupt's
   * delivery. True when it did. Asked before interrupt_exits: these events
   * take priority over external interrupts. */
  bool (*window_open)(struct machine *m);
  /* [hook][loop] Would an interrupt the PIC asserts now be taken as an
   * exit even with RFLAGS.IF = 0 (VMX "external-interrupt exiting", SVM's
   * INTR intercept with GIF = 1)? true: the machine stops for it whatever
   * IF is, and a HLT with IF = 0 waits for it in virtual time instead of
   * ending the run. false: only IF = 1 lets the machine stop for it. */
  bool (*interrupt_would_exit)(struct machine *m);

  /* [hook][loop] Does the extension hold the PIC's request pending now,
   * whatever RFLAGS.IF says (SVM: GIF = 0; in a guest with V_INTR_MASKING,
   * the host's IF = 0)? The machine then neither stops for it nor
   * delivers it; the extension calls irq_rearm when that may end (STGI,
   * VMRUN, #VMEXIT). */
  bool (*interrupts_held)(struct machine *m);

  /* [loop] Are breakpoint-register matches ignored and discarded now (SVM:
   * GIF = 0, AMD APM Vol. 2, "Global Interrupt Flag, STGI and CLGI
   * Instructions", the table of the GIF's effect: "Debug exception or
   * trap, due to breakpoint register match": "Ignored and discarded")?
   * The machine then raises no breakpoint #DB (sim/debug_bp.c). */
  bool (*breakpoints_discarded)(struct machine *m);

  /* [loop] The processor is about to freeze before a waiting x87
   * instruction for a pending x87 error (CR0.NE = 0, IGNNE# deasserted;
   * sim/fpu_except.h): true when that became a VM exit (SVM's FERR_FREEZE
   * intercept) instead. */
  bool (*ferr_freeze)(struct machine *m);
  /* [loop] A triple fault in the current mode: true when it became a VM
   * exit (VMX: always in non-root operation; SVM: under the SHUTDOWN
   * intercept) instead of the processor's shutdown. */
  bool (*shutdown)(struct machine *m);

  /* [loop] A translation failed in the second dimension (EPT violation,
   * EPT misconfiguration, #NPF) at linear address `la` (for a guest fetch
   * `la` is RIP's page): perform the exit. m->delivering is set when the
   * access was part of an event's delivery. */
  void (*slat_fault)(struct machine *m, const struct mmu_fault *f, uint64_t la);

  /* [hook][loop] Completes the translation context built from m->cpu:
   * in guest mode sets the EPT/NPT root and the VPID/ASID tag. */
  void (*paging_context)(struct machine *m, struct mmu_context *ctx);

  /* [hook] MSRs the extension owns (capability MSRs, VM_CR, ...), asked
   * before the machine's own table. */
  enum virt_msr_result (*rdmsr)(struct machine *m, uint32_t index, uint64_t *value);
  enum virt_msr_result (*wrmsr)(struct machine *m, uint32_t index, uint64_t value);

  /* [hook] A MOV to CR0 or CR4 (CLTS, LMSW) that did not exit writes
   * `*value`: adjusts it to what the write leaves (VMX: the bits the
   * guest/host mask owns keep their value) and says whether that is
   * allowed now (VMX: the fixed bits of VMX operation); false: #GP(0). */
  bool (*cr_write)(struct machine *m, int cr, uint64_t *value);
  /* [hook] The value a MOV from CR0 or CR4 (SMSW) that did not exit reads,
   * given the register's `value` (VMX: the read shadows). */
  uint64_t (*cr_read)(struct machine *m, int cr, uint64_t value);

  /* [hook] Adjusts CPUID's answer (the extension's own leaves). */
  void (*cpuid)(struct machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

  /* [loop] The classes of conditionally hooked instructions
   * (sim/sysinsn.h: IRET, PUSHF/POPF) the extension needs to see now, e.g.
   * because the current guest intercepts them. Asked before the machine
   * resumes Unicorn; a class asked for once stays hooked. */
  unsigned (*hook_classes)(struct machine *m);

  /* Lines for the run summary (exits by reason, ...). */
  void (*report)(struct machine *m, FILE *out);
  void (*destroy)(struct machine *m);

  /* [hook][loop] The virtual time (m->insns) at which the extension wants
   * the run stopped whatever the interrupt state says (VMX: the
   * VMX-preemption timer reaching 0), or UINT64_MAX for none. Reads only
   * the extension's own state; sim/irq.c stops at the first translation
   * block that starts at or after it (irq_rearm folds it into
   * m->irq_check_at: the extension calls irq_rearm when it changes), and a
   * halted vCPU waits for it in virtual time. */
  uint64_t (*deadline)(struct machine *m);
  /* [loop] That time has come: performs the event it stands for (VMX:
   * exit 52) and returns true. Asked before the interrupt window and
   * external interrupts, which it takes priority over. */
  bool (*deadline_reached)(struct machine *m);

  /* [loop] Called before every start of Unicorn, with m->cpu current:
   * true when the next run must retire exactly one instruction (VMX's
   * monitor trap flag; the run then ends after it, or earlier at a fault,
   * an intercepted instruction or an interrupt). The extension may instead
   * perform a world switch here (the MTF VM exit once the previous step is
   * over) and return false: the machine reloads Unicorn and goes on. */
  bool (*step)(struct machine *m);
  /* [hook][loop] Is the extension running the guest one instruction at a
   * time (step would answer true)? A question only: code that carries
   * on inside a hook after a world switch stops Unicorn when it is. */
  bool (*stepping)(struct machine *m);

  /* [hook] An IRET hooked because the extension wanted HOOK_CLASS_IRET
   * (hook_classes) is about to be carried out by Unicorn: it did not exit.
   * The extension updates its own state (VMX: IRET ends blocking by NMI or
   * virtual-NMI blocking, m->cpu.nmi_blocking, which only the extension
   * and its world switch use) and calls irq_rearm when its deadline
   * changed.
   * Called for every hooked IRET, in any mode, once the class is hooked. */
  void (*iret)(struct machine *m, struct insn *in);
};

/* Attaches the extension the CPU model has (none, VMX or SVM) to m->virt.
 * false with a message in err if its model is unknown. */
bool virt_attach(struct machine *m, char *err, size_t err_size);

/* Each extension's constructor: sets m->virt and m->virt_state. */
bool vmx_ext_attach(struct machine *m, const char *model, char *err, size_t err_size);
bool svm_ext_attach(struct machine *m, const char *model, char *err, size_t err_size);

#endif
