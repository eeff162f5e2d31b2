/* The printf engine of hv and its guest (see fmt.h). */
#include "hv/lib/fmt.h"

#include <stdbool.h>
#include <stdint.h>

static void pad_to(fmt_sink sink, void *ctx, unsigned len, unsigned width)
{
    for (; len < width; len++)
        sink(' ', ctx);
}

static void put_num(fmt_sink sink, void *ctx, uint64_t v, unsigned base, bool negative,
                    unsigned width, char pad, bool left)
{
    char buf[24];
    unsigned n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    unsigned len = n + (negative ? 1 : 0);
    if (negative && pad == '0')
        sink('-', ctx);
    for (unsigned i = len; !left && i < width; i++)
        sink(pad, ctx);
    if (negative && pad != '0')
        sink('-', ctx);
    while (n)
        sink(buf[--n], ctx);
    if (left)
        pad_to(sink, ctx, len, width);
}

void fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink(*fmt, ctx);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0, longs = 0;
        bool left = *fmt == '-';   /* left-justified in the field */
        if (left)
            fmt++;
        if (*fmt == '0' && !left) {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            longs++;
        switch (*fmt) {
        case 'd': {
            int64_t s = longs ? va_arg(ap, long) : va_arg(ap, int);
            put_num(sink, ctx, s < 0 ? 0 - (uint64_t)s : (uint64_t)s, 10, s < 0, width, pad, left);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t u = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(sink, ctx, u, *fmt == 'u' ? 10 : 16, false, width, pad, left);
            break;
        }
        case 'c':
            sink((char)va_arg(ap, int), ctx);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            unsigned len = 0;
            for (const char *q = str; *q; q++)
                len++;
            if (!left)
                pad_to(sink, ctx, len, width);
            while (*str)
                sink(*str++, ctx);
            if (left)
                pad_to(sink, ctx, len, width);
            break;
        }
        case '%':
            sink('%', ctx);
            break;
        case '\0':
            return;
        default:
            /* An unknown conversion is printed as is, so the mistake shows. */
            sink('%', ctx);
            sink(*fmt, ctx);
            break;
        }
    }
}
