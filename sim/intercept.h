/* Intercepting system instructions before Unicorn executes them.
 *
 * Unicorn can hook only a few instructions by kind (CPUID, IN, OUT,
 * SYSCALL) and silently executes or ignores the rest (RDMSR returns 0, MOV
 * CR changes its own state behind the model's back). So every page is
 * scanned for the opcode bytes of the instructions the model owns when it
 * is first filled for execution, and an address-bounded code hook is placed
 * on each candidate start (and on the prefix bytes before it). A hook that
 * fires decodes the instruction with Zydis; only a real system instruction
 * is carried out by the model, anything else runs on. Pages are never
 * writable and executable in Unicorn's TLB at once, so code written after
 * a scan is scanned again before it runs. */
#ifndef HVSIM_SIM_INTERCEPT_H
#define HVSIM_SIM_INTERCEPT_H

#include <stdint.h>

struct machine;
struct intercepts;

struct intercepts *intercepts_create(struct machine *m);
void intercepts_destroy(struct intercepts *ic);

/* Scans the 4 KiB page of guest code at linear address `page_la`
 * (physical `page_pa`), whose bytes are `bytes`, and hooks every
 * candidate. */
void intercepts_scan_page(struct intercepts *ic, uint64_t page_la, uint64_t page_pa, const uint8_t *bytes);

/* Numbers for the run summary. */
uint64_t intercepts_hook_count(const struct intercepts *ic);
uint64_t intercepts_handled(const struct intercepts *ic);

#endif
