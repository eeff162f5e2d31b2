/* The test guest's flat binary, linked into hv.elf; hv copies it into guest
 * RAM at HV_GUEST_LOAD (hv/core/vcpu.c). */
        .section .rodata
        .balign 4096
        .globl hv_guest_image, hv_guest_image_end
hv_guest_image:
        .incbin "hv-guest.bin"
hv_guest_image_end:
