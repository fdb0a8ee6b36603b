# CMake package of pi, installed by `cargo cinstall` as <prefix>/lib/cmake/pi/.
#
#   find_package(pi CONFIG REQUIRED)          # CMAKE_PREFIX_PATH=<prefix>
#   target_link_libraries(app PRIVATE pi::pi)
#
# gives the imported target pi::pi: the shared library (libpi.so.0.1 and its
# links, in <prefix>/lib/<multiarch>, lib64 or lib, whichever cargo-c used)
# with the include directory of pi.h. Also sets pi_INCLUDE_DIR, pi_LIBRARY
# and pi_FORTRAN_MODULE (the source of the Fortran module, pi.f90, to compile
# with a Fortran program). Relocatable: paths are found from this file's
# place, so the prefix may be moved.

get_filename_component(_pi_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

find_path(pi_INCLUDE_DIR pi.h PATHS "${_pi_prefix}/include/pi" NO_DEFAULT_PATH)
find_library(pi_LIBRARY NAMES pi
    PATHS "${_pi_prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}" "${_pi_prefix}/lib64" "${_pi_prefix}/lib"
    NO_DEFAULT_PATH)
mark_as_advanced(pi_INCLUDE_DIR pi_LIBRARY)

if(NOT pi_INCLUDE_DIR OR NOT pi_LIBRARY)
    set(pi_FOUND FALSE)
    set(pi_NOT_FOUND_MESSAGE
        "pi: no pi.h (${pi_INCLUDE_DIR}) or libpi (${pi_LIBRARY}) below ${_pi_prefix}; reinstall with `cargo cinstall --release --prefix ${_pi_prefix}`")
    return()
endif()

set(pi_FORTRAN_MODULE "${pi_INCLUDE_DIR}/pi.f90")

if(NOT TARGET pi::pi)
    add_library(pi::pi SHARED IMPORTED)
    set_target_properties(pi::pi PROPERTIES
        IMPORTED_LOCATION "${pi_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${pi_INCLUDE_DIR}")
endif()

unset(_pi_prefix)
