/* The VM-instruction error catalogue (vmx_errors.def) as a table. */
#include "models/vmx/vmx_bits.h"

const struct vmx_error_info vmx_errors[] = {
#define VMX_ERROR(num, name, modelled, text) { num, #name, modelled, text },
#include "models/vmx/vmx_errors.def"
#undef VMX_ERROR
};
const unsigned vmx_error_count = sizeof vmx_errors / sizeof vmx_errors[0];
