/* Moving the vCPU state between the model (struct cpu_state) and Unicorn.
 *
 * Unicorn's API reads and writes general registers, control registers and
 * MSRs, but in 64-bit mode it sets only the selector of CS/DS/ES/SS and it
 * never exposes a segment's hidden part (base, limit, attributes) or the
 * CPL; and each call costs tens of nanoseconds, which world switches and
 * hooks pay dozens of times. So the bridge works on Unicorn's live CPU
 * state (QEMU's CPUX86State) directly. It finds it once, at start-up, by
 * the values it wrote through the API, locates every field it uses the
 * same way, verifies both directions, and refuses to run on a Unicorn build
 * where any of this does not hold. Fields whose writes have side effects
 * inside Unicorn (RIP, RFLAGS, CR0/CR3/CR4, EFER, DR0-DR7) are still
 * written through the API, and only when they change. */
#ifndef HVSIM_SIM_UC_BRIDGE_H
#define HVSIM_SIM_UC_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/cpu_state.h"

struct uc_struct;
struct uc_context;

/* Offsets in QEMU's CPUX86State that the inline accessors below read
 * (checked by uc_bridge_init). */
#define UC_BRIDGE_ENV_EFLAGS 136
#define UC_BRIDGE_ENV_HFLAGS 176

/* Softfloat's exception flags (QEMU 5.0's float_flag_*), as the SSE
 * status byte at uc_bridge.sse_flags holds them; uc_bridge_init checks
 * each against an instruction that raises it. */
enum {
  UC_BRIDGE_SSE_INVALID = 1, UC_BRIDGE_SSE_ZERO_DIVIDE = 4, UC_BRIDGE_SSE_OVERFLOW = 8,
  UC_BRIDGE_SSE_UNDERFLOW = 16, UC_BRIDGE_SSE_INEXACT = 32, UC_BRIDGE_SSE_OUTPUT_DENORMAL = 128,
};

struct uc_bridge {
  struct uc_struct *uc;
  uint8_t *env;                /* Unicorn's live CPU state */
  /* Offsets found at start-up inside the CPU state. */
  size_t old_exception;        /* QEMU's double-fault memory */
  size_t error_code;           /* of the exception Unicorn raised last */
  size_t efer, dr, pat, star, lstar, cstar, fmask, kernel_gs_base, sysenter_cs, sysenter_esp, sysenter_eip;
  size_t fpus, fpuc;           /* x87 status and control words (16 bits each) */
  size_t mxcsr;                /* MXCSR as Unicorn keeps it: no exception flags */
  size_t sse_flags;            /* softfloat's SSE exception flags (UC_BRIDGE_SSE_*) */
  int smap_copy;               /* uc_bridge_steer_tlb_index */
  ptrdiff_t exit_word;         /* QEMU's exit request, below the state (0: not found) */
};

/* Returns false (with a message in err) if this Unicorn's layout is unknown.
 * Runs one probe instruction from `scratch` (4 KiB of RAM at scratch_pa). */
bool uc_bridge_init(struct uc_bridge *b, struct uc_struct *uc, uint8_t *scratch, uint64_t scratch_pa,
                    char *err, size_t err_size);
void uc_bridge_fini(struct uc_bridge *b);

/* Full state transfer: used at boot, after exception delivery and on world
 * switches. */
void uc_bridge_store(struct uc_bridge *b, const struct cpu_state *s);
/* Only the general registers, RIP and RFLAGS. */
void uc_bridge_store_registers(struct uc_bridge *b, const struct cpu_state *s);
void uc_bridge_fetch(struct uc_bridge *b, struct cpu_state *s);

/* Cheap partial accessors used by instruction handlers inside hooks. */
uint64_t uc_bridge_gpr(struct uc_bridge *b, enum gpr r);
void uc_bridge_set_gpr(struct uc_bridge *b, enum gpr r, uint64_t v);
uint64_t uc_bridge_rip(struct uc_bridge *b);
/* The error code of the exception Unicorn just raised (its interrupt hook
 * gives only the vector). */
uint32_t uc_bridge_error_code(struct uc_bridge *b);
void uc_bridge_set_rip(struct uc_bridge *b, uint64_t rip);
/* [code hook] Goes on at `rip` once the hook returns, without leaving
 * Unicorn's execution loop (a RIP write through the API leaves it and
 * cancels a uc_emu_stop). Through the API when the bridge did not find
 * how (see uc_bridge.c). */
void uc_bridge_redirect(struct uc_bridge *b, uint64_t rip);
uint64_t uc_bridge_rflags(struct uc_bridge *b);
void uc_bridge_set_rflags(struct uc_bridge *b, uint64_t rflags);
/* CPL and code-segment size straight from the CPU's mode flags (they can
 * change inside a run: a far jump into a 64-bit segment, an IRET). */
struct cpu_mode { unsigned cpl; bool cs64, cs32; };
void uc_bridge_mode(struct uc_bridge *b, struct cpu_mode *out);
/* The code-segment size alone, for hot paths: 2 for 64-bit, 1 for 32-bit,
 * 0 for 16-bit code (QEMU's CS64 and CS32 mode flags). */
static inline unsigned uc_bridge_code_size(const struct uc_bridge *b)
{
  uint32_t hflags;
  __builtin_memcpy(&hflags, b->env + UC_BRIDGE_ENV_HFLAGS, 4);
  return (hflags >> 14 & 2) | (hflags >> 4 & 1);
}
/* QEMU picks one of three TLB indexes for each access: 1 at CPL 3; at CPL
 * 0-2, 0 when its copy of CR4.SMAP is set and RFLAGS.AC clear, else 2.
 * The copy steers nothing else: the model computes every permission
 * (Unicorn's virtual-TLB mode). `copy` 1 keeps CPL-0 code with AC clear on
 * index 0 alone; 0 keeps any code off index 0; -1 is CR4.SMAP itself. It
 * survives writes of CR4 and full stores until steered again. */
void uc_bridge_steer_tlb_index(struct uc_bridge *b, int copy);
/* Whether code now runs at CPL 0 with RFLAGS.AC clear (index 0 under copy 1),
 * from the mode flags and RFLAGS as the block that starts sees them. */
static inline bool uc_bridge_cpl0_without_ac(const struct uc_bridge *b)
{
  uint32_t hflags;
  uint64_t rflags;
  __builtin_memcpy(&hflags, b->env + UC_BRIDGE_ENV_HFLAGS, 4);
  __builtin_memcpy(&rflags, b->env + UC_BRIDGE_ENV_EFLAGS, 8);   /* AC is kept there, not in the lazy flags */
  return !(hflags & 3) && !(rflags & RFLAGS_AC);
}
/* QEMU's interrupt-inhibit mode flag (HF_INHIBIT_IRQ, hflags bit 3): set
 * at the end of an STI, MOV SS or POP SS that did not itself run in such a
 * shadow, and cleared at the end of the one instruction after it (QEMU
 * then translates that instruction as a block of its own). It does not say
 * which instruction set it, nor whether STI found IF already 1: sim/irq.c
 * (irq_shadow_sync) works that out. The run loop sets it from the
 * blocking a world switch loads (sim/machine.c, reload_unicorn). */
#define UC_BRIDGE_HF_INHIBIT_IRQ (1u << 3)
static inline bool uc_bridge_inhibited(const struct uc_bridge *b)
{
  uint32_t hflags;
  __builtin_memcpy(&hflags, b->env + UC_BRIDGE_ENV_HFLAGS, 4);
  return (hflags & UC_BRIDGE_HF_INHIBIT_IRQ) != 0;
}
void uc_bridge_set_inhibited(struct uc_bridge *b, bool on);
/* RFLAGS.IF straight from the EFLAGS field (IF is not a lazy flag). */
static inline bool uc_bridge_if(const struct uc_bridge *b)
{
  uint64_t rflags;
  __builtin_memcpy(&rflags, b->env + UC_BRIDGE_ENV_EFLAGS, 8);
  return (rflags & RFLAGS_IF) != 0;
}
/* CPL 3 with RFLAGS.AC set, as the block that starts sees them (alignment
 * checking: sim/align_check.h). */
static inline bool uc_bridge_cpl3_with_ac(const struct uc_bridge *b)
{
  uint32_t hflags;
  uint64_t rflags;
  __builtin_memcpy(&hflags, b->env + UC_BRIDGE_ENV_HFLAGS, 4);
  __builtin_memcpy(&rflags, b->env + UC_BRIDGE_ENV_EFLAGS, 8);
  return (hflags & 3) == 3 && (rflags & RFLAGS_AC);
}
/* x87 and SIMD floating-point exception state (sim/fpu_except.h). */
#define UC_BRIDGE_FSW_ES   0x0080u   /* x87 error summary: an unmasked exception is pending */
#define UC_BRIDGE_FCW_ZM   0x0004u   /* the one x87 exception Unicorn detects: FDIV by zero */
#define UC_BRIDGE_MXCSR_DETECTED_MASKS 0x1e80u   /* IM, ZM, OM, UM, PM (not DM: softfloat sees no denormal operand) */
static inline uint16_t uc_bridge_fsw(const struct uc_bridge *b)
{
  uint16_t v;
  __builtin_memcpy(&v, b->env + b->fpus, 2);
  return v;
}
static inline uint32_t uc_bridge_mxcsr(const struct uc_bridge *b)
{
  uint32_t v;
  __builtin_memcpy(&v, b->env + b->mxcsr, 4);
  return v;
}
/* Whether an x87 error could be pending at a waiting instruction (FSW.ES,
 * or an unmasked zero-divide the next FDIV may raise) or a SIMD exception
 * Unicorn can see is unmasked. */
static inline bool uc_bridge_fp_exceptions_live(const struct uc_bridge *b)
{
  uint16_t fcw;
  __builtin_memcpy(&fcw, b->env + b->fpuc, 2);
  return (uc_bridge_fsw(b) & UC_BRIDGE_FSW_ES) || !(fcw & UC_BRIDGE_FCW_ZM) ||
         (~uc_bridge_mxcsr(b) & UC_BRIDGE_MXCSR_DETECTED_MASKS);
}
/* Control registers and EFER through Unicorn's own update paths, so its
 * mode flags follow (protected/long mode, paging). */
void uc_bridge_set_cr(struct uc_bridge *b, int cr, uint64_t v);
void uc_bridge_set_efer(struct uc_bridge *b, uint64_t efer);

#endif
