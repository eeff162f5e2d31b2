/* Port I/O instructions and the path from them to the devices. */
#ifndef HVSIM_SIM_PORTIO_H
#define HVSIM_SIM_PORTIO_H

#include <stdint.h>

struct machine;

/* A device access after the checks: traced, and a device's request to end
 * the run (isa-debug-exit, iodebug) becomes the machine's stop. */
uint32_t port_read(struct machine *m, uint16_t port, unsigned size);
void port_write(struct machine *m, uint16_t port, unsigned size, uint32_t value);

#endif
