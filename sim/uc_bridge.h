/* Moving the vCPU state between the model (struct cpu_state) and Unicorn.
 *
 * Unicorn's API reads and writes general registers, control registers and
 * MSRs, but in 64-bit mode it sets only the selector of CS/DS/ES/SS and it
 * never exposes a segment's hidden part (base, limit, attributes) or the
 * CPL. The bridge reaches them through a saved CPU context, whose layout it
 * verifies at start-up against values written through the API (and refuses
 * to run on a Unicorn build where they do not match). */
#ifndef HVSIM_SIM_UC_BRIDGE_H
#define HVSIM_SIM_UC_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/cpu_state.h"

struct uc_struct;
struct uc_context;

struct uc_bridge {
  struct uc_struct *uc;
  struct uc_context *ctx;
  size_t ctx_size;
  size_t env_offset;           /* where the CPU state starts inside the context */
  size_t old_exception_offset; /* QEMU's double-fault memory, inside the CPU state */
};

/* Returns false (with a message in err) if this Unicorn's layout is unknown.
 * Runs one probe instruction from `scratch` (4 KiB of RAM at scratch_pa). */
bool uc_bridge_init(struct uc_bridge *b, struct uc_struct *uc, uint8_t *scratch, uint64_t scratch_pa,
                    char *err, size_t err_size);
void uc_bridge_fini(struct uc_bridge *b);

/* Full state transfer: used at boot, after exception delivery and on world
 * switches (a few microseconds each). */
void uc_bridge_store(struct uc_bridge *b, const struct cpu_state *s);
/* Only the general registers, RIP and RFLAGS. */
void uc_bridge_store_registers(struct uc_bridge *b, const struct cpu_state *s);
void uc_bridge_fetch(struct uc_bridge *b, struct cpu_state *s);

/* Cheap partial accessors used by instruction handlers inside hooks. */
uint64_t uc_bridge_gpr(struct uc_bridge *b, enum gpr r);
void uc_bridge_set_gpr(struct uc_bridge *b, enum gpr r, uint64_t v);
uint64_t uc_bridge_rip(struct uc_bridge *b);
void uc_bridge_set_rip(struct uc_bridge *b, uint64_t rip);
uint64_t uc_bridge_rflags(struct uc_bridge *b);
void uc_bridge_set_rflags(struct uc_bridge *b, uint64_t rflags);
/* CPL and code-segment size straight from the CPU's mode flags (they can
 * change inside a run: a far jump into a 64-bit segment, an IRET). */
struct cpu_mode { unsigned cpl; bool cs64, cs32; };
void uc_bridge_mode(struct uc_bridge *b, struct cpu_mode *out);
/* Control registers and EFER through Unicorn's own update paths, so its
 * mode flags follow (protected/long mode, paging). */
void uc_bridge_set_cr(struct uc_bridge *b, int cr, uint64_t v);
void uc_bridge_set_efer(struct uc_bridge *b, uint64_t efer);

#endif
