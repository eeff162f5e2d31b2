/* Constants shared by the runtime's assembly and C: GDT selectors (the GDT is
 * in boot.S) and stack sizes. Plain #defines so GNU as can include it. */
#ifndef HVSIM_IMAGES_RT_LAYOUT_H
#define HVSIM_IMAGES_RT_LAYOUT_H

#define RT_SEL_CODE32   0x08
#define RT_SEL_DATA     0x10
#define RT_SEL_CODE64   0x18
#define RT_SEL_UCODE64  0x20    /* used with RPL 3: 0x23 */
#define RT_SEL_UDATA    0x28    /* used with RPL 3: 0x2b */
#define RT_SEL_TSS      0x30
#define RT_GDT_TSS_INDEX 6

#define RT_STACK_SIZE   16384   /* the boot (ring-0) stack */
#define RT_KSTACK_SIZE  8192    /* TSS.RSP0: ring-0 stack for faults taken in ring 3 */

/* Vectors the runtime uses for itself. */
#define RT_VEC_USER_RETURN 0x81 /* ring 3 -> back to rt_user_call's caller */

#endif
