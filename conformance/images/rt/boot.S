/* Entry of every test image: the multiboot (version 1) header and the 32-bit
 * protected-mode entry point that a multiboot loader jumps to (QEMU -kernel,
 * hvsim run, the Bochs floppy boot sector).
 *
 * Assembled twice: for 64-bit images (__x86_64__) the entry builds
 * identity-mapped page tables and switches to long mode the way a real boot
 * does (CR4.PAE, EFER.LME, CR0.PG|PE, far jump to a 64-bit code segment);
 * for 32-bit images it stays in flat protected mode with paging off.
 * Both end in rt_start (start.c), which never returns.
 *
 * Multiboot Specification 0.6.96, "Header layout": the address fields
 * (flag bit 16) describe the image as a flat file, so a loader that does
 * not parse ELF (QEMU uses them in preference to ELF) loads it the same way.
 */
#include "rt/layout.h"

#define MB_MAGIC       0x1BADB002
#define MB_FLAGS       ((1 << 0) | (1 << 1) | (1 << 16))   /* align, mem info, addresses */

        .section .multiboot, "a"
        .balign 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long mb_header                 /* header_addr */
        .long __image_start             /* load_addr */
        .long __load_end                /* load_end_addr */
        .long __bss_end                 /* bss_end_addr */
        .long _start                    /* entry_addr */

        .section .text.boot, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        /* The loader's EAX/EBX are the multiboot handshake; keep them in .data
         * (not .bss, which is cleared next). */
        movl    %eax, rt_mb_magic
        movl    %ebx, rt_mb_info

        /* Clear .bss ourselves: the floppy boot sector does not. */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb

        lgdt    rt_gdt_desc
        ljmp    $RT_SEL_CODE32, $1f
1:      movw    $RT_SEL_DATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    %ax, %fs
        movw    %ax, %gs
        movl    $rt_stack_top, %esp

#ifdef __x86_64__
        /* Identity map the first 1 GiB with 2 MiB pages, user-accessible so
         * tests can run ring-3 code from the image (SMEP/SMAP stay off).
         * SDM Vol. 3A, "4-Level Paging and 5-Level Paging". */
        movl    $rt_boot_pdpt, %eax
        orl     $0x7, %eax                      /* P | RW | US */
        movl    %eax, rt_boot_pml4
        movl    $rt_boot_pd, %eax
        orl     $0x7, %eax
        movl    %eax, rt_boot_pdpt
        movl    $rt_boot_pd, %edi
        movl    $0x87, %eax                     /* P | RW | US | PS */
        movl    $512, %ecx
2:      movl    %eax, (%edi)
        movl    $0, 4(%edi)
        addl    $0x200000, %eax
        addl    $8, %edi
        loop    2b

        /* SDM Vol. 3A, "Initializing IA-32e Mode": PAE, then CR3, then
         * EFER.LME, then CR0.PG; the far jump loads the 64-bit CS. */
        movl    %cr4, %eax
        orl     $0x20, %eax                     /* CR4.PAE */
        movl    %eax, %cr4
        movl    $rt_boot_pml4, %eax
        movl    %eax, %cr3
        movl    $0xC0000080, %ecx               /* IA32_EFER */
        rdmsr
        orl     $0x100, %eax                    /* LME */
        wrmsr
        movl    %cr0, %eax
        orl     $0x80000001, %eax               /* PG | PE */
        movl    %eax, %cr0
        ljmp    $RT_SEL_CODE64, $long_entry

        .code64
long_entry:
        movw    $RT_SEL_DATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movq    $rt_stack_top, %rsp
        xorl    %ebp, %ebp
        call    rt_start
3:      cli
        hlt
        jmp     3b
#else
        xorl    %ebp, %ebp
        call    rt_start
3:      cli
        hlt
        jmp     3b
#endif

        .data
        .balign 8
        .globl rt_mb_magic, rt_mb_info, rt_gdt, rt_gdt_desc
rt_mb_magic:    .long 0
rt_mb_info:     .long 0
        .balign 16
/* Flat descriptors; the TSS slot is filled in by start.c (64-bit images). */
rt_gdt:
        .quad 0                                 /* null */
        .quad 0x00CF9A000000FFFF                /* 0x08 code, 32-bit, DPL0 */
        .quad 0x00CF92000000FFFF                /* 0x10 data, DPL0 */
        .quad 0x00AF9A000000FFFF                /* 0x18 code, 64-bit, DPL0 */
        .quad 0x00AFFA000000FFFF                /* 0x20 code, 64-bit, DPL3 */
        .quad 0x00CFF2000000FFFF                /* 0x28 data, DPL3 */
        .quad 0, 0                              /* 0x30 TSS (16 bytes in long mode) */
rt_gdt_end:
rt_gdt_desc:
        .word rt_gdt_end - rt_gdt - 1
        .long rt_gdt
        .long 0

        .bss
        .balign 4096
#ifdef __x86_64__
        .globl rt_boot_pml4, rt_boot_pdpt, rt_boot_pd
rt_boot_pml4:   .skip 4096
rt_boot_pdpt:   .skip 4096
rt_boot_pd:     .skip 4096
#endif
        .globl rt_stack_top
        .skip RT_STACK_SIZE
rt_stack_top:
