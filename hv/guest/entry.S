/* Entry of hv's test guest: hv starts it here in 64-bit mode at CPL 0 with
 * paging on (its boot page tables). The guest installs its own GDT, stack
 * and IDT and calls guest_main. Exception stubs save the registers and call
 * guest_trap (main.c), which may change the saved RIP to resume elsewhere. */
        .section .text.entry, "ax"
        .globl _start
_start:
        leaq    stack_top(%rip), %rsp
        lgdt    gdt_desc(%rip)
        pushq   $0x08
        leaq    1f(%rip), %rax
        pushq   %rax
        lretq
1:      movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        call    guest_main
2:      hlt
        jmp     2b

.macro stub vec, has_error
        .globl guest_isr_\vec
guest_isr_\vec:
        .if \has_error == 0
        pushq   $0
        .endif
        pushq   $\vec
        jmp     isr_common
.endm
        stub 0, 0
        stub 1, 0
        stub 2, 0
        stub 3, 0
        stub 4, 0
        stub 5, 0
        stub 6, 0
        stub 7, 0
        stub 8, 1
        stub 9, 0
        stub 10, 1
        stub 11, 1
        stub 12, 1
        stub 13, 1
        stub 14, 1
        stub 15, 0
        stub 16, 0
        stub 17, 1
        stub 18, 0
        stub 19, 0

isr_common:
        pushq   %rax
        pushq   %rcx
        pushq   %rdx
        pushq   %rbx
        pushq   %rbp
        pushq   %rsi
        pushq   %rdi
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, %rdi
        call    guest_trap
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rdi
        popq    %rsi
        popq    %rbp
        popq    %rbx
        popq    %rdx
        popq    %rcx
        popq    %rax
        addq    $16, %rsp
        iretq

        .section .rodata
        .balign 8
        .globl guest_isr_table
guest_isr_table:
        .quad guest_isr_0, guest_isr_1, guest_isr_2, guest_isr_3, guest_isr_4
        .quad guest_isr_5, guest_isr_6, guest_isr_7, guest_isr_8, guest_isr_9
        .quad guest_isr_10, guest_isr_11, guest_isr_12, guest_isr_13, guest_isr_14
        .quad guest_isr_15, guest_isr_16, guest_isr_17, guest_isr_18, guest_isr_19

        .data
        .balign 16
gdt:    .quad 0
        .quad 0x00AF9A000000FFFF        /* 0x08 code, 64-bit */
        .quad 0x00CF92000000FFFF        /* 0x10 data */
gdt_end:
gdt_desc:
        .word gdt_end - gdt - 1
        .quad gdt

        .bss
        .balign 16
        .skip 16384
stack_top:
