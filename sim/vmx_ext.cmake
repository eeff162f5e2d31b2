# The VMX extension of the machine (sim/virt.h).
target_sources(hvsim_sim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/vmx_ext.c)
