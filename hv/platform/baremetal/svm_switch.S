/* plat_svm_run(vmcb_pa, gprs, vmload): the SVM world switch of the
 * bare-metal platform. VMLOAD (when asked) loads the guest's FS, GS, TR,
 * LDTR, KernelGsBase and SYSCALL/SYSENTER MSRs; VMRUN saves the host's RAX,
 * RSP, RIP (and the rest of its state) to the host save area and enters
 * the guest; #VMEXIT restores them and leaves the VMLOAD state as the
 * guest had it, for the next VMRUN (hv's host code uses none of it, so no
 * VMSAVE). RAX and RSP of the guest live in the VMCB; the other registers
 * are switched here. APM Vol. 2, "VMRUN Instruction", "VMSAVE and VMLOAD
 * Instructions". */
        .text
        .globl plat_svm_run
plat_svm_run:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        pushq   %rsi                    /* gprs */
        movq    %rdi, %rax              /* VMCB physical address (identity-mapped) */
        testb   %dl, %dl
        jz      1f
        vmload  %rax
1:
        movq    8(%rsi), %rcx
        movq    16(%rsi), %rdx
        movq    24(%rsi), %rbx
        movq    40(%rsi), %rbp
        movq    56(%rsi), %rdi
        movq    64(%rsi), %r8
        movq    72(%rsi), %r9
        movq    80(%rsi), %r10
        movq    88(%rsi), %r11
        movq    96(%rsi), %r12
        movq    104(%rsi), %r13
        movq    112(%rsi), %r14
        movq    120(%rsi), %r15
        movq    48(%rsi), %rsi
        vmrun   %rax
        pushq   %rsi
        movq    8(%rsp), %rsi
        movq    %rcx, 8(%rsi)
        movq    %rdx, 16(%rsi)
        movq    %rbx, 24(%rsi)
        movq    %rbp, 40(%rsi)
        movq    %rdi, 56(%rsi)
        movq    %r8, 64(%rsi)
        movq    %r9, 72(%rsi)
        movq    %r10, 80(%rsi)
        movq    %r11, 88(%rsi)
        movq    %r12, 96(%rsi)
        movq    %r13, 104(%rsi)
        movq    %r14, 112(%rsi)
        movq    %r15, 120(%rsi)
        popq    %rcx
        movq    %rcx, 48(%rsi)
        popq    %rsi
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
