/* Host exception stubs of the bare-metal platform: hv never expects an
 * exception in its own code, so each vector pushes its number (and a zero
 * where the processor pushes no error code) and calls plat_host_fault,
 * which reports it and stops. SDM Vol. 3A, "Exception and Interrupt
 * Reference" (which vectors push an error code). */
        .text
.macro stub vec, has_error
        .globl plat_isr_\vec
plat_isr_\vec:
        .if \has_error == 0
        pushq   $0
        .endif
        pushq   $\vec
        movq    %rsp, %rdi
        andq    $-16, %rsp
        call    plat_host_fault
1:      cli
        hlt
        jmp     1b
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
/* #GP: first the exception table of plat_rdmsr_safe: a #GP on its RDMSR
 * resumes at its failure path. */
        .globl plat_isr_13
plat_isr_13:
        cmpq    $rdmsr_safe_insn, 8(%rsp)      /* the error code is at 0(%rsp) */
        jne     1f
        movq    $rdmsr_safe_fail, 8(%rsp)
        addq    $8, %rsp
        iretq
1:      pushq   $13
        movq    %rsp, %rdi
        andq    $-16, %rsp
        call    plat_host_fault
2:      cli
        hlt
        jmp     2b
        stub 14, 1
        stub 15, 0
        stub 16, 0
        stub 17, 1
        stub 18, 0
        stub 19, 0
        stub 20, 0
        stub 21, 1

/* bool plat_rdmsr_safe(uint32_t msr, uint64_t *value): false when the
 * MSR raises #GP (it is not implemented). */
        .globl plat_rdmsr_safe
plat_rdmsr_safe:
        movl    %edi, %ecx
rdmsr_safe_insn:
        rdmsr
        shlq    $32, %rdx
        movl    %eax, %eax
        orq     %rdx, %rax
        movq    %rax, (%rsi)
        movl    $1, %eax
        ret
rdmsr_safe_fail:
        xorl    %eax, %eax
        ret

        .section .rodata
        .balign 8
        .globl plat_isr_table
plat_isr_table:
        .quad plat_isr_0, plat_isr_1, plat_isr_2, plat_isr_3, plat_isr_4, plat_isr_5
        .quad plat_isr_6, plat_isr_7, plat_isr_8, plat_isr_9, plat_isr_10, plat_isr_11
        .quad plat_isr_12, plat_isr_13, plat_isr_14, plat_isr_15, plat_isr_16, plat_isr_17
        .quad plat_isr_18, plat_isr_19, plat_isr_20, plat_isr_21
