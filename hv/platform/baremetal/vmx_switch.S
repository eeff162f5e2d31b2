/* plat_vmx_run(gprs, launched): the VMX world switch of the bare-metal
 * platform. The guest's RSP and RIP live in the VMCS; the other registers
 * are switched here. HOST_RSP and HOST_RIP make a VM exit land on .Lexit
 * with this frame on the stack (SDM Vol. 3C, "Loading Host State": RSP and
 * RIP come from the host-state area; RFLAGS is cleared except bit 1); they
 * are written at VMLAUNCH (a new VMCS) and when this frame moved, not on
 * every entry. Returns 0 after a VM exit, 1 for VMfailInvalid
 * (CF=1), 2 for VMfailValid (ZF=1): SDM Vol. 3C, "Conventions". */
#define HOST_RSP 0x6C14
#define HOST_RIP 0x6C16
        .text
        .globl plat_vmx_run
/* The guest's registers from the frame (RAX, which addresses it, last). */
.macro  load_guest_gprs
        movq    %rdi, %rax
        movq    8(%rax), %rcx
        movq    16(%rax), %rdx
        movq    24(%rax), %rbx
        movq    40(%rax), %rbp
        movq    48(%rax), %rsi
        movq    56(%rax), %rdi
        movq    64(%rax), %r8
        movq    72(%rax), %r9
        movq    80(%rax), %r10
        movq    88(%rax), %r11
        movq    96(%rax), %r12
        movq    104(%rax), %r13
        movq    112(%rax), %r14
        movq    120(%rax), %r15
        movq    (%rax), %rax
.endm

plat_vmx_run:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        pushq   %rdi                    /* gprs */
        xorl    %eax, %eax              /* launched and this frame: VMRESUME at once */
        cmpq    %rsp, vmx_host_rsp(%rip)
        sete    %al
        testl   %esi, %eax              /* (one branch: each is a block on hvsim) */
        jnz     .Lresume
        movq    $HOST_RSP, %rax
        vmwrite %rsp, %rax
        movq    %rsp, vmx_host_rsp(%rip)
        movq    $HOST_RIP, %rax
        leaq    .Lexit(%rip), %rdx
        vmwrite %rdx, %rax
        testl   %esi, %esi              /* flags survive the MOVs below */
        load_guest_gprs
        jnz     1f
        vmlaunch
        jmp     .Lfail
1:      vmresume
        jmp     .Lfail
.Lresume:
        load_guest_gprs
        vmresume
.Lfail:
        movl    $1, %eax
        jc      2f
        movl    $2, %eax
2:      popq    %rdi
        jmp     .Lout

.Lexit:
        pushq   %rax
        movq    8(%rsp), %rax
        movq    %rcx, 8(%rax)
        movq    %rdx, 16(%rax)
        movq    %rbx, 24(%rax)
        movq    %rbp, 40(%rax)
        movq    %rsi, 48(%rax)
        movq    %rdi, 56(%rax)
        movq    %r8, 64(%rax)
        movq    %r9, 72(%rax)
        movq    %r10, 80(%rax)
        movq    %r11, 88(%rax)
        movq    %r12, 96(%rax)
        movq    %r13, 104(%rax)
        movq    %r14, 112(%rax)
        movq    %r15, 120(%rax)
        popq    %rcx
        movq    %rcx, (%rax)
        popq    %rdi
        xorl    %eax, %eax
.Lout:
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret

        .bss
        .balign 8
vmx_host_rsp:                           /* HOST_RSP as last written */
        .quad   0
