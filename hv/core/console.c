/* hv's console: its own messages ("hv: ...") and the guest's lines
 * ("guest: ..."), both on the platform console; and the clean stop on
 * anything unexpected. */
#include "hv/core/hv.h"
#include "hv/lib/fmt.h"

static void to_platform(char c, void *ctx)
{
    (void)ctx;
    plat_putc(c);
}

void hv_vprintf(const char *fmt, va_list ap)
{
    fmt_vformat(to_platform, NULL, fmt, ap);
}

void hv_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hv_vprintf(fmt, ap);
    va_end(ap);
}

void hv_guest_line(const char *text, size_t len)
{
    hv_printf("guest: ");
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        /* Keep the host console one line per guest line. */
        plat_putc(c >= 0x20 && c < 0x7f ? c : '?');
    }
    plat_putc('\n');
}

void hv_stop(struct hv_vcpu *v, const char *fmt, ...)
{
    va_list ap;
    hv_printf("hv: STOP: ");
    va_start(ap, fmt);
    hv_vprintf(fmt, ap);
    va_end(ap);
    hv_printf("\n");
    if (v) {
        hv_dump_guest(v);
        if (v->be)
            v->be->dump(v);
        hv_print_stats(v);
    }
    hv_printf("FAIL\n");
    plat_exit(3);
}

void *hv_memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *hv_memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}
