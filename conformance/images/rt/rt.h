/* The freestanding runtime of the test images: serial console, printf, TAP
 * reporting, exception capture through the IDT, ring-3 calls and the exit
 * routine that ends a run on QEMU, Bochs and hvsim alike.
 *
 * A test image defines `void test_main(void)`; the runtime calls it after
 * boot and then reports the TAP plan and PASS/FAIL (see docs/test-images.md). */
#ifndef HVSIM_IMAGES_RT_RT_H
#define HVSIM_IMAGES_RT_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt/arch.h"

void test_main(void);

/* ---- multiboot handshake (saved by boot.S) ---- */
#define MB_BOOT_MAGIC 0x2BADB002u
struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;      /* KiB, valid when flags bit 0 */
    uint32_t boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;    /* valid when flags bit 6 */
};
#define MB_INFO_MEM  (1u << 0)
#define MB_INFO_MMAP (1u << 6)
extern uint32_t rt_mb_magic, rt_mb_info;

/* ---- serial console (COM1, 16550) ---- */
#define COM1 0x3F8
enum uart_reg { UART_DATA = 0, UART_IER = 1, UART_IIR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7 };
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
void uart_init(void);
void uart_putc(char c);
void uart_drain(void);

void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_vprintf(const char *fmt, va_list ap);

/* ---- TAP reporting ----
 * Lines: "ok N - what[ = value]" / "not ok N - what (expected X, got Y)".
 * Print only values that are architecturally defined, so the same image
 * gives the same lines on every correct machine. */
void tap_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_eq(uint64_t expected, uint64_t got, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like tap_eq, but a known emulator departure from the manual (value
 * `departure`) is reported as "not ok ... # TODO known departure: ID" and
 * does not fail the run; the oracle runner declares that line as differing
 * (conformance/oracles/declared-differences.txt). */
void tap_eq_or_departure(uint64_t expected, uint64_t got, uint64_t departure, const char *id,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Passes when a probe caught nothing (vector -1). */
void tap_no_fault(int vector, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool tap_failed(void);
__attribute__((noreturn)) void tap_done(void);

/* ---- exit: QEMU isa-debug-exit, then Bochs iodebug, then halt ---- */
__attribute__((noreturn)) void rt_exit(unsigned status);

/* ---- exceptions ---- */
struct rt_frame {
#ifdef __x86_64__
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
#else
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t vector, error_code;
    uint32_t rip, cs, rflags; /* no ESP/SS: the 32-bit images stay in ring 0 */
#endif
};

/* What the last caught exception looked like. */
struct rt_fault {
    unsigned count;         /* exceptions caught since rt_fault_clear() */
    unsigned vector;
    uint64_t error_code;    /* 0 for vectors without one */
    uint64_t cr2;           /* read in the handler */
    uintptr_t rip;          /* as saved by the CPU */
    uintptr_t site;         /* start of the probed instruction (or exec target) */
    uintptr_t site_end;     /* the instruction after it */
    unsigned cpl;           /* CS.RPL of the interrupted code */
};
extern volatile struct rt_fault rt_fault;
void rt_fault_clear(void);
/* -1 when nothing was caught, else the vector of the last exception. */
int rt_fault_vector(void);

/* A vector with a hook calls it instead of the probe logic (the hook may
 * return to resume at frame->rip). */
typedef void (*rt_vector_hook)(struct rt_frame *f);
void rt_set_vector_hook(unsigned vector, rt_vector_hook hook);
/* Clears or sets the P bit of an IDT gate. */
void rt_idt_set_present(unsigned vector, bool present);
/* Installs `vector` as a gate callable from ring 3 (DPL 3). */
void rt_idt_set_dpl3(unsigned vector);

/* Every instruction wrapped in RT_PROBE gets an exception-table entry: an
 * exception at it (fault) or right after it (trap) is recorded in rt_fault
 * and execution resumes after it. Any other exception ends the run as FAIL. */
#ifdef __x86_64__
#define RT_PTR ".quad"
#else
#define RT_PTR ".long"
#endif
#define RT_PROBE(insn)                                                                     \
    "1: " insn "\n2:\n"                                                                    \
    ".pushsection .extable, \"a\"\n" RT_PTR " 1b, 2b\n.popsection\n"

int probe_read8(const volatile void *p, uint8_t *out);
int probe_write8(volatile void *p, uint8_t v);
/* Calls addr as a function (it should contain RET); a fault on the fetch
 * of the first instruction is caught and the call returns. */
int probe_exec(uintptr_t addr);
int probe_rdmsr(uint32_t msr, uint64_t *out);
int probe_wrmsr(uint32_t msr, uint64_t v);
int probe_write_cr0(unsigned long v);
int probe_write_cr3(unsigned long v);
int probe_write_cr4(unsigned long v);

#ifdef __x86_64__
/* Runs fn in ring 3 (CS 0x23, SS 0x2b, IF=0) on a small user stack and
 * returns when fn returns. Exceptions from ring 3 arrive on TSS.RSP0. */
void rt_user_call(void (*fn)(void));
#endif

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
