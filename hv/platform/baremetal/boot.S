/* Entry of hv.elf: the multiboot (version 1) header and the 32-bit entry a
 * multiboot loader jumps to (GRUB, QEMU -kernel, hvsim run, the Bochs
 * floppy boot sector). It identity-maps the first 1 GiB with 2 MiB pages,
 * enters long mode (SDM Vol. 3A, "Initializing IA-32e Mode": CR4.PAE, CR3,
 * EFER.LME, CR0.PG, far jump) and calls plat_start with the multiboot
 * magic and information pointer. Multiboot Specification 0.6.96, "Header
 * layout": the address fields let loaders that do not parse ELF load the
 * image as a flat file. */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  ((1 << 0) | (1 << 1) | (1 << 16))
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

        .section .multiboot, "a"
        .balign 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long mb_header
        .long __image_start
        .long __load_end
        .long __bss_end
        .long _start

        .section .text.boot, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        movl    %eax, %esi              /* multiboot magic */
        movl    %ebx, %ebp              /* multiboot information */
        movl    $__bss_start, %edi      /* the floppy boot sector leaves .bss as is */
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        movl    %esi, plat_mb_magic
        movl    %ebp, plat_mb_info

        lgdt    plat_gdt_desc
        ljmp    $SEL_CODE32, $1f
1:      movw    $SEL_DATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    %ax, %fs
        movw    %ax, %gs
        movl    $boot_stack_top, %esp

        movl    $boot_pdpt, %eax
        orl     $0x3, %eax                      /* P | RW */
        movl    %eax, boot_pml4
        movl    $boot_pd, %eax
        orl     $0x3, %eax
        movl    %eax, boot_pdpt
        movl    $boot_pd, %edi
        movl    $0x83, %eax                     /* P | RW | PS */
        movl    $512, %ecx
2:      movl    %eax, (%edi)
        movl    $0, 4(%edi)
        addl    $0x200000, %eax
        addl    $8, %edi
        loop    2b

        movl    %cr4, %eax
        orl     $0x20, %eax                     /* CR4.PAE */
        movl    %eax, %cr4
        movl    $boot_pml4, %eax
        movl    %eax, %cr3
        movl    $0xC0000080, %ecx               /* IA32_EFER */
        rdmsr
        orl     $0x100, %eax                    /* LME */
        wrmsr
        movl    %cr0, %eax
        orl     $0x80000021, %eax               /* PG | NE | PE */
        movl    %eax, %cr0
        ljmp    $SEL_CODE64, $long_entry

        .code64
long_entry:
        movw    $SEL_DATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movq    $boot_stack_top, %rsp
        xorl    %ebp, %ebp
        call    plat_start
3:      cli
        hlt
        jmp     3b

        .data
        .balign 8
        .globl plat_mb_magic, plat_mb_info, plat_gdt, plat_gdt_desc
plat_mb_magic:  .long 0
plat_mb_info:   .long 0
        .balign 16
plat_gdt:
        .quad 0                                 /* null */
        .quad 0x00CF9A000000FFFF                /* 0x08 code, 32-bit */
        .quad 0x00CF92000000FFFF                /* 0x10 data */
        .quad 0x00AF9A000000FFFF                /* 0x18 code, 64-bit */
        .quad 0, 0                              /* 0x20 TSS, filled in by platform.c */
plat_gdt_end:
plat_gdt_desc:
        .word plat_gdt_end - plat_gdt - 1
        .quad plat_gdt

        .bss
        .balign 4096
        .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4096
        .skip 16384
boot_stack_top:
