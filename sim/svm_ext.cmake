# The SVM extension of the machine (sim/virt.h): MSRs, CPUID and the
# operations table; SVM instructions and world switches; intercepts.
target_sources(hvsim_sim PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/svm_ext.c
  ${CMAKE_CURRENT_SOURCE_DIR}/svm_world.c
  ${CMAKE_CURRENT_SOURCE_DIR}/svm_intercepts.c)
