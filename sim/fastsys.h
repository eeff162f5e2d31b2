/* The fast system-call instructions SYSCALL, SYSRET, SYSENTER and SYSEXIT,
 * carried out by the model: Unicorn runs its hooks instead of SYSCALL's
 * transition, and SYSRET/SYSENTER/SYSEXIT change CS, SS and the CPL, which
 * only a full state transfer can do. They run in the run loop on m->cpu. */
#ifndef HVSIM_SIM_FASTSYS_H
#define HVSIM_SIM_FASTSYS_H

#include <stdbool.h>

struct machine;
struct insn;

/* Whether `in` is one of them. */
bool fastsys_owns(const struct insn *in);

/* Carries out `in` (at m->cpu.rip) on m->cpu: the transition, or the
 * architectural fault delivered through the IDT. */
void fastsys_execute(struct machine *m, struct insn *in);

#endif
