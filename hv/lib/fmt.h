/* A tiny printf engine shared by the hypervisor core and its test guest
 * (both freestanding 64-bit code): %d %u %x %s %c %% with a field width,
 * 0-padding or left justification (-), and the l / ll / z modifiers.
 * Output goes to a sink callback. */
#ifndef HV_LIB_FMT_H
#define HV_LIB_FMT_H

#include <stdarg.h>

typedef void (*fmt_sink)(char c, void *ctx);

void fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

#endif
