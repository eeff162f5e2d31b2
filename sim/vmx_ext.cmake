# The VMX extension of the machine (sim/virt.h): MSRs, CR rules, paging
# context and world-switch glue; the VMX instructions; the VM exits.
target_sources(hvsim_sim PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/vmx_ext.c
  ${CMAKE_CURRENT_SOURCE_DIR}/vmx_exec.c
  ${CMAKE_CURRENT_SOURCE_DIR}/vmx_exits.c)
