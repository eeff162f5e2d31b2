/* Intercepting system instructions before Unicorn executes them.
 *
 * Unicorn can hook only a few instructions by kind (CPUID, IN, OUT,
 * SYSCALL) and silently executes or ignores the rest (RDMSR returns 0, MOV
 * CR changes its own state behind the model's back). So every translation
 * block is decoded with Zydis the first time it runs, and an
 * address-bounded code hook is placed on each instruction of it that the
 * model owns (sim/sysinsn.h). A block that needed a new hook is stopped
 * before it runs, its translation dropped and made again, now with the
 * hook. A hook that fires carries the instruction out in the model.
 *
 * Only real instruction starts of code that runs are hooked: Unicorn walks
 * its whole list of code hooks each time one fires, so the list must stay
 * short. Decoded blocks are remembered per (linear page, physical page) —
 * hypervisor and guest often run different code at the same linear
 * address — and forgotten when the page's bytes change: pages are never
 * writable and executable in Unicorn's TLB at once, so code written after
 * a decode is seen at the next fetch fill, before it runs. */
#ifndef HVSIM_SIM_INTERCEPT_H
#define HVSIM_SIM_INTERCEPT_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct intercepts;

struct intercepts *intercepts_create(struct machine *m);
void intercepts_destroy(struct intercepts *ic);

/* Unicorn filled its TLB for executing the 4 KiB page at linear `page_la`,
 * physical `page_pa`, whose bytes are `bytes`. */
void intercepts_fetch_fill(struct intercepts *ic, uint64_t page_la, uint64_t page_pa, const uint8_t *bytes);
/* Unicorn's TLB was flushed: the linear-to-physical pages seen so far may
 * no longer hold. */
void intercepts_tlb_flushed(struct intercepts *ic);

/* The translation block at `la` of `size` bytes is about to run. Returns
 * its instruction count, or 0 when it must not run yet: it has
 * instructions to hook that its translation lacks (the run loop then calls
 * intercepts_retranslate and starts again at `la`). The machine remembers
 * the answer for the blocks that run again while m->code_epoch stays: no
 * fetch fill, TLB flush or newly wanted class since. */
unsigned intercepts_enter_block(struct intercepts *ic, uint64_t la, uint32_t size);
void intercepts_retranslate(struct intercepts *ic);
/* Unicorn raised #UD for the instruction at `la`. Unicorn runs no block
 * hook for a block that starts with an instruction it cannot decode
 * (VMREAD, VMRUN, ...): when the model owns it, it is hooked now and its
 * block translated again, so that next time the hook takes it. True when
 * the instruction at `la` will be hooked. */
bool intercepts_invalid_at(struct intercepts *ic, uint64_t la);
bool intercepts_retranslate_pending(const struct intercepts *ic);

/* The classes of conditionally hooked instructions (sim/sysinsn.h) wanted
 * now. A class not wanted before makes every block decode again. */
void intercepts_want_classes(struct intercepts *ic, unsigned classes);
/* Removes the code hooks that did not fire since the last sweep (they cost
 * every hooked instruction a longer walk in Unicorn), when one is due: at
 * doubling counts of handled instructions. Run loop only, between runs of
 * Unicorn: it retranslates all code. */
bool intercepts_sweep_due(const struct intercepts *ic);
void intercepts_sweep(struct intercepts *ic);
/* Would intercepts_want_classes(classes) add a class? */
bool intercepts_classes_missing(const struct intercepts *ic, unsigned classes);

/* Numbers for the run summary. */
uint64_t intercepts_hook_count(const struct intercepts *ic);
uint64_t intercepts_handled(const struct intercepts *ic);

#endif
