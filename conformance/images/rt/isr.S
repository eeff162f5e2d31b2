/* Interrupt entry stubs for all 256 vectors, the common entry that hands a
 * struct rt_frame to rt_exception (idt.c), the landing pad of probe_exec,
 * and (64-bit) the ring-3 call gate used by rt_user_call.
 *
 * Each stub is 16 bytes apart (rt_isr_stubs + 16 * vector) and pushes a zero
 * error code for vectors where the CPU pushes none, so the frame has one
 * layout. SDM Vol. 3A, "Exception and Interrupt Reference" lists which
 * exceptions push an error code: 8, 10-14, 17, 21, 29, 30 (mask 0x60227D00). */
#include "rt/layout.h"

#define ERRCODE_MASK 0x60227D00

        .text
        .balign 16
        .globl rt_isr_stubs
rt_isr_stubs:
        .set vec, 0
        .rept 256
        .balign 16
        .set has_err, 0
        .if vec < 32
        .set has_err, (ERRCODE_MASK >> vec) & 1
        .endif
        .if has_err == 0
#ifdef __x86_64__
        pushq   $0
#else
        pushl   $0
#endif
        .endif
#ifdef __x86_64__
        pushq   $vec
#else
        pushl   $vec
#endif
        jmp     isr_common
        .set vec, vec + 1
        .endr

#ifdef __x86_64__
isr_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, %rdi
        cld
        call    rt_exception            /* RSP is 16-byte aligned here */
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp               /* vector, error code */
        iretq
#else
isr_common:
        pushal
        pushl   %esp
        cld
        call    rt_exception
        addl    $4, %esp
        popal
        addl    $8, %esp
        iret
#endif

/* probe_exec sends a fault on the fetch of the called address here: the
 * return address pushed by the call is still on top of the stack. */
        .globl rt_exec_return
rt_exec_return:
        ret

#ifdef __x86_64__
/* void rt_user_call(void (*fn)(void)): IRETQ to fn in ring 3 with a return
 * address that raises INT RT_VEC_USER_RETURN, whose gate resumes here. */
        .globl rt_user_call
rt_user_call:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, rt_user_saved_rsp(%rip)
        leaq    rt_user_stack_top(%rip), %rax
        subq    $8, %rax
        leaq    rt_user_exit(%rip), %rcx
        movq    %rcx, (%rax)
        pushq   $(RT_SEL_UDATA | 3)     /* SS */
        pushq   %rax                    /* RSP */
        pushq   $0x2                    /* RFLAGS: IF=0 */
        pushq   $(RT_SEL_UCODE64 | 3)   /* CS */
        pushq   %rdi                    /* RIP */
        iretq

rt_user_exit:
        int     $RT_VEC_USER_RETURN

        .globl rt_user_return_entry
rt_user_return_entry:
        movq    rt_user_saved_rsp(%rip), %rsp
        movw    $RT_SEL_DATA, %ax
        movw    %ax, %ss
        movw    %ax, %ds
        movw    %ax, %es
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

        .bss
        .balign 16
rt_user_saved_rsp:
        .skip 8
        .balign 16
        .skip 4096
rt_user_stack_top:
        .globl rt_kstack_top
        .balign 16
        .skip RT_KSTACK_SIZE
rt_kstack_top:
#endif
