# FindAsio.cmake - locate standalone (non-Boost) Asio from Debian's libasio-dev.
#
# Debian ships Asio as headers only and without a CMake package configuration,
# so this module provides the imported target `Asio::asio`.
#
# Result variables: Asio_FOUND, Asio_INCLUDE_DIR, Asio_VERSION.
# The target defines ASIO_STANDALONE and ASIO_NO_DEPRECATED, and
# ASIO_SEPARATE_COMPILATION: exactly one translation unit of the project
# (src/net/asio_impl.cpp) compiles Asio's implementation, which keeps every
# other file that includes Asio cheaper to build on small machines.
# ASIO_HAS_CO_AWAIT=1 lets clang 14 with libstdc++ 12 see coroutine support.
# ASIO_DISABLE_STD_ALIGNED_ALLOC: whether Asio 1.22 uses std::aligned_alloc
# depends on which standard headers came before it, so two translation units
# can disagree and free with the wrong function (ASan reports an
# alloc-dealloc mismatch). Its own aligned allocator is used everywhere instead.

find_path(Asio_INCLUDE_DIR NAMES asio.hpp
  PATHS /usr/include /usr/local/include)

if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
       REGEX "^#define ASIO_VERSION [0-9]+")
  string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" _asio_version_num "${_asio_version_line}")
  math(EXPR _asio_major "${_asio_version_num} / 100000")
  math(EXPR _asio_minor "${_asio_version_num} / 100 % 1000")
  math(EXPR _asio_patch "${_asio_version_num} % 100")
  set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Asio
  REQUIRED_VARS Asio_INCLUDE_DIR
  VERSION_VAR Asio_VERSION)

if(Asio_FOUND AND NOT TARGET Asio::asio)
  find_package(Threads REQUIRED)
  add_library(Asio::asio INTERFACE IMPORTED)
  set_target_properties(Asio::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED;ASIO_SEPARATE_COMPILATION;ASIO_HAS_CO_AWAIT=1;ASIO_DISABLE_STD_ALIGNED_ALLOC"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()

mark_as_advanced(Asio_INCLUDE_DIR)
