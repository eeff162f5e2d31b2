/* vmx_init_smi: vmx_init whose guest first sends itself an SMI (default
 * treatment: the processor enters SMM, which hvsim does not model, so the
 * run must stop there with a message). hvsim only; run by
 * conformance/vmx/test_vmx_machine.c. */
#define VMX_INIT_SEND_SMI
#include "tests/vmx/vmx_init.c"
