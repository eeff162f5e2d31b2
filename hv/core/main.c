/* hv's entry from the platform: the command line chooses the memory mode
 * (`slat`, the default, or `shadow`), CPUID chooses the backend, then the
 * vCPU runs the guest until it exits through the EXIT hypercall. The verdict
 * is the guest's status: "PASS" and status 0, or "FAIL" and non-zero. */
#include "hv/core/hv.h"

extern const unsigned char hv_guest_image[], hv_guest_image_end[];

static struct hv_vcpu vcpu;

static bool word_is(const char *w, unsigned n, const char *s)
{
    unsigned i = 0;
    for (; i < n && s[i]; i++)
        if (w[i] != s[i])
            return false;
    return i == n && !s[i];
}

/* Words of the command line: `slat` or `shadow` for hv; `key=value` words
 * are the guest's command line (the HC_CMDLINE hypercall); the loader's own
 * first word (the kernel's path, which QEMU and GRUB pass) contains '/' or
 * '.'. */
static bool parse_cmdline(const char *cmd, enum hv_mem_mode *mode, char *guest, unsigned cap)
{
    unsigned used = 0;
    *mode = HV_MEM_SLAT;
    guest[0] = 0;
    while (*cmd) {
        while (*cmd == ' ')
            cmd++;
        const char *w = cmd;
        unsigned n = 0, path = 0;
        bool key_value = false;
        for (; cmd[n] && cmd[n] != ' '; n++) {
            path |= cmd[n] == '/' || cmd[n] == '.';
            key_value |= cmd[n] == '=';
        }
        cmd += n;
        if (!n || (path && !key_value))
            continue;
        if (key_value) {
            if (used + n + 2 > cap) {
                hv_printf("hv: the guest's command line is longer than %u bytes\n", cap - 1);
                return false;
            }
            if (used)
                guest[used++] = ' ';
            hv_memcpy(guest + used, w, n);
            used += n;
            guest[used] = 0;
            continue;
        }
        if (word_is(w, n, "slat"))
            *mode = HV_MEM_SLAT;
        else if (word_is(w, n, "shadow"))
            *mode = HV_MEM_SHADOW;
        else {
            hv_printf("hv: unknown command-line word '");
            for (unsigned i = 0; i < n; i++)
                plat_putc(w[i]);
            hv_printf("' (expected slat or shadow)\n");
            return false;
        }
    }
    return true;
}

void hv_main(void);
void hv_main(void)
{
    hv_printf("hv: hvsim hypervisor core\n");
    enum hv_mem_mode mode;
    if (!parse_cmdline(plat_cmdline(), &mode, vcpu.guest_cmdline, sizeof(vcpu.guest_cmdline))) {
        hv_printf("FAIL\n");
        plat_exit(2);
    }
    const struct hv_backend *be = NULL;
    if (hv_vmx_backend.probe())
        be = &hv_vmx_backend;
    else if (hv_svm_backend.probe())
        be = &hv_svm_backend;
    if (!be) {
        hv_printf("hv: this processor offers neither VMX nor SVM\nFAIL\n");
        plat_exit(2);
    }
    hv_printf("hv: backend %s, memory %s\n", be->name,
              mode == HV_MEM_SHADOW ? "shadow (shadow page tables)" : be->slat_name);
    if (!hv_vcpu_init(&vcpu, be, mode, hv_guest_image,
                      (size_t)(hv_guest_image_end - hv_guest_image))) {
        hv_printf("FAIL\n");
        plat_exit(2);
    }
    while (!vcpu.done)
        be->run(&vcpu);
    hv_print_stats(&vcpu);
    hv_printf("hv: guest exit status %lu\n", vcpu.exit_status);
    hv_printf(vcpu.exit_status == 0 ? "PASS\n" : "FAIL\n");
    plat_exit(vcpu.exit_status == 0 ? 0 : 1);
}
