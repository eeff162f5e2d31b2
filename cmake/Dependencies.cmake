# Finds hvsim's dependencies; each failure names the package to install.
find_package(PkgConfig REQUIRED)

# Unicorn >= 2.1: scripts/deps.sh unpacks Debian 13's packages into .deps/unicorn
# (Debian 12's 2.0.1 cannot model paging). A system-wide 2.1 works too.
set(HVSIM_UNICORN_LOCAL ${PROJECT_SOURCE_DIR}/.deps/unicorn)
set(_uc_pc ${HVSIM_UNICORN_LOCAL}/usr/lib/x86_64-linux-gnu/pkgconfig)
if(EXISTS ${_uc_pc}/unicorn.pc)
  # The .pc file says prefix /usr; the sysroot maps it into the tree.
  set(_saved_libdir "$ENV{PKG_CONFIG_LIBDIR}")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${HVSIM_UNICORN_LOCAL})
  set(ENV{PKG_CONFIG_LIBDIR} ${_uc_pc})
  pkg_check_modules(UNICORN IMPORTED_TARGET unicorn>=2.1)
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})
  if(_saved_libdir)
    set(ENV{PKG_CONFIG_LIBDIR} "${_saved_libdir}")
  else()
    unset(ENV{PKG_CONFIG_LIBDIR})
  endif()
else()
  pkg_check_modules(UNICORN IMPORTED_TARGET unicorn>=2.1)
endif()
if(NOT UNICORN_FOUND)
  message(FATAL_ERROR "Unicorn Engine >= 2.1 not found. Run scripts/deps.sh "
    "(it unpacks Debian 13's libunicorn2t64 and libunicorn-dev into .deps/), "
    "or install libunicorn-dev >= 2.1 system-wide.")
endif()

pkg_check_modules(CAPSTONE IMPORTED_TARGET capstone)
if(NOT CAPSTONE_FOUND)
  message(FATAL_ERROR "Capstone not found: apt-get install libcapstone-dev")
endif()

find_package(Zydis QUIET)
if(NOT Zydis_FOUND)
  message(FATAL_ERROR "Zydis not found: apt-get install libzydis-dev libzycore-dev")
endif()

pkg_check_modules(CMOCKA IMPORTED_TARGET cmocka)
if(NOT CMOCKA_FOUND)
  message(FATAL_ERROR "cmocka not found: apt-get install libcmocka-dev")
endif()
