/* svm_init: an INIT under the INIT intercept (tests/svm/svm_signal.c).
 * Runs on Bochs ryzen and hvsim zen only: QEMU 7.2 TCG takes an INIT
 * whatever GIF says (its cpu_handle_interrupt checks INIT before GIF), so
 * the guest's INIT exits at once, before the guest's STGI, and, as it
 * stays pending after #VMEXIT(INIT), it then resets the host with GIF = 0
 * (AMD APM Vol. 2, "Global Interrupt Flag, STGI and CLGI Instructions":
 * GIF = 0 holds INIT pending). Measured: the run loses control after the
 * first line. */
#define SIGNAL_INIT
#include "tests/svm/svm_signal.c"
