/* Port I/O: IN, OUT, INS and OUTS, checked before they execute.
 *
 * The intercept scan hooks every port-I/O opcode, so the protection check
 * and the hypervisor's I/O intercept are decided at the exact instruction,
 * before it has any effect. IN and OUT are then carried out by the model;
 * the string forms run in Unicorn, whose I/O hooks reach the devices
 * through port_read and port_write. Unicorn runs REP INS/OUTS one
 * iteration per pass and the hook fires before each pass, so the checks
 * precede every iteration and an exit (INSN_EXIT, taken in the hook)
 * leaves RCX, RSI, RDI and memory as before the instruction. */
#include "sim/portio.h"

#include <unicorn/unicorn.h>

#include "sim/fpu_except.h"
#include "sim/irq.h"
#include "sim/machine.h"
#include "sim/sysinsn.h"
#include "sim/uc_bridge.h"

/* "I/O Privilege Level" and "I/O Permission Bit Map" (SDM Vol. 1, chapter
 * "Input/Output"; APM Vol. 2, "Input/Output"): at CPL > IOPL, or in
 * virtual-8086 mode, every bit of the TSS I/O bitmap covering the access
 * must be clear, else #GP(0). */
static bool io_allowed(struct machine *m, unsigned cpl, uint16_t port, unsigned size)
{
  if (!(m->cpu.cr0 & CR0_PE)) return true;
  uint64_t rflags = uc_bridge_rflags(m->bridge);
  if (!(rflags & RFLAGS_VM) && cpl <= RFLAGS_IOPL(rflags)) return true;
  uc_x86_mmr tr = {0};
  uc_reg_read(m->uc, UC_X86_REG_TR, &tr);
  unsigned type = (tr.flags >> 8) & 0xf;
  if ((type != 9 && type != 11) || tr.limit < 0x67) return false;
  uint16_t base;
  if (!machine_read_linear(m, tr.base + 0x66, &base, 2, true)) { m->fault_pending = false; return false; }
  uint32_t at = base + port / 8u;
  if (at + 1 > tr.limit) return false;
  uint16_t bits;
  if (!machine_read_linear(m, tr.base + at, &bits, 2, true)) { m->fault_pending = false; return false; }
  return ((bits >> (port & 7)) & ((1u << size) - 1)) == 0;
}

uint32_t port_read(struct machine *m, uint16_t port, unsigned size)
{
  uint32_t v;
  if (!irq_port_in(m, port, size, &v)) v = devices_in(&m->dev, port, size);
  if (m->trace.out) trace_event(&m->trace, m->insns, "in", "port=0x%x size=%u value=0x%x", port, size, v);
  return v;
}

void port_write(struct machine *m, uint16_t port, unsigned size, uint32_t value)
{
  trace_event(&m->trace, m->insns, "out", "port=0x%x size=%u value=0x%x", port, size, value);
  if (irq_port_out(m, port, size, value)) return;
  if (port == FPU_ERROR_PORT) {
    fpu_except_port_f0(m);
    return;
  }
  switch (devices_out(&m->dev, port, size, value)) {
  case DEV_CONTINUE: return;
  case DEV_EXIT_DEBUG: {
    /* QEMU's isa-debug-exit: exit status (value << 1) | 1. */
    int status = (int)(((value << 1) | 1) & 0xff);
    machine_stop(m, STOP_DEBUG_EXIT, status, "isa-debug-exit value 0x%x (status %d)", value, status);
    return;
  }
  case DEV_EXIT_IODEBUG:
    machine_stop(m, STOP_IODEBUG_EXIT, 0, "Bochs iodebug exit");
    return;
  }
}

enum insn_result insn_port_io(struct insn *in)
{
  struct machine *m = in->m;
  ZydisMnemonic mn = in->zi.mnemonic;
  bool is_in = mn == ZYDIS_MNEMONIC_IN || mn == ZYDIS_MNEMONIC_INSB || mn == ZYDIS_MNEMONIC_INSW ||
               mn == ZYDIS_MNEMONIC_INSD;
  bool string = mn != ZYDIS_MNEMONIC_IN && mn != ZYDIS_MNEMONIC_OUT;
  /* The accumulator (IN, OUT) or the memory operand (INS, OUTS) gives the
   * width; the port is an immediate or DX. */
  const ZydisDecodedOperand *data = &in->op[is_in ? 0 : 1], *port_op = &in->op[is_in ? 1 : 0];
  unsigned size = data->size / 8;
  uint16_t port = port_op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE
                      ? (uint16_t)port_op->imm.value.u
                      : (uint16_t)uc_bridge_gpr(m->bridge, GPR_RDX);
  /* The protection check comes before any intercept: a faulting access
   * never exits (SDM Vol. 3C, "Instructions That Cause VM Exits
   * Conditionally"; APM Vol. 2, "I/O Intercepts"). */
  if (!io_allowed(m, in->mode.cpl, port, size)) {
    raise_exception(m, VEC_GP, true, 0);
    return INSN_FAULTED;
  }
  if (m->virt && m->virt->io_exits && m->virt->io_exits(m, port, size, is_in)) return INSN_EXIT;
  if (string) return INSN_NATIVE;
  /* "Data Memory and I/O Breakpoint Exception Conditions": an I/O
   * breakpoint traps after the instruction (the string forms meet it in
   * Unicorn's I/O hooks, sim/machine.c). */
  debug_bp_port_io(m, port, size, in->rip);
  if (!is_in) {
    port_write(m, port, size, (uint32_t)uc_bridge_gpr(m->bridge, GPR_RAX));
    return INSN_NEXT;
  }
  /* IN to AL or AX merges; IN to EAX zero-extends into RAX. */
  uint64_t rax = uc_bridge_gpr(m->bridge, GPR_RAX), v = port_read(m, port, size);
  if (size == 1) rax = (rax & ~0xffull) | v;
  else if (size == 2) rax = (rax & ~0xffffull) | v;
  else rax = v;
  uc_bridge_set_gpr(m->bridge, GPR_RAX, rax);
  return INSN_NEXT;
}
