# Installs rtmp-server's configuration file and systemd unit for the prefix
# given at install time (CMAKE_INSTALL_PREFIX here is `cmake --install`'s
# --prefix, or CPack's), under $ENV{DESTDIR}. Run through install(SCRIPT) from
# cmake/install.cmake, which sets RTMP_SOURCE_DIR, RTMP_BINARY_DIR and the
# configured RTMP_INSTALL_BINDIR, RTMP_INSTALL_SYSCONFDIR and
# RTMP_INSTALL_UNITDIR (relative to the prefix, or absolute).

# The absolute directory of `dir`, as GNUInstallDirs computes its
# CMAKE_INSTALL_FULL_<kind>: configuration under /etc for the prefixes / and
# /usr, under /etc/opt/NAME for /opt/NAME, else under the prefix.
function(rtmp_install_full_dir out dir kind)
  set(prefix "${CMAKE_INSTALL_PREFIX}")
  if(IS_ABSOLUTE "${dir}")
    set(full "${dir}")
  elseif(kind STREQUAL "SYSCONFDIR" AND prefix MATCHES "^/(usr/?)?$")
    set(full "/${dir}")
  elseif(kind STREQUAL "SYSCONFDIR" AND prefix MATCHES "^/opt/" AND NOT prefix MATCHES "^/opt/homebrew/")
    string(REGEX REPLACE "/+$" "" prefix "${prefix}")
    set(full "/${dir}${prefix}")
  else()
    set(full "${prefix}/${dir}")
  endif()
  string(REGEX REPLACE "//+" "/" full "${full}")
  set(${out} "${full}" PARENT_SCOPE)
endfunction()

rtmp_install_full_dir(_rtmp_bindir "${RTMP_INSTALL_BINDIR}" BINDIR)
rtmp_install_full_dir(_rtmp_confdir "${RTMP_INSTALL_SYSCONFDIR}" SYSCONFDIR)
string(APPEND _rtmp_confdir "/rtmp-server")
rtmp_install_full_dir(_rtmp_unitdir "${RTMP_INSTALL_UNITDIR}" UNITDIR)

# The configuration file (commented, every key at its default); an existing
# one, maybe edited, is kept.
if(EXISTS "$ENV{DESTDIR}${_rtmp_confdir}/rtmp-server.toml")
  message(STATUS "Keeping existing: $ENV{DESTDIR}${_rtmp_confdir}/rtmp-server.toml")
else()
  file(INSTALL "${RTMP_SOURCE_DIR}/examples/rtmp-server.toml" DESTINATION "${_rtmp_confdir}")
endif()

# The unit, its ExecStart pointed at the installed program and configuration.
set(_rtmp_template "${RTMP_SOURCE_DIR}/examples/systemd/rtmp-server.service")
file(READ "${_rtmp_template}" _rtmp_unit)
foreach(_rtmp_path "/usr/local/bin/rtmp-server" "/etc/rtmp-server/rtmp-server.toml")
  string(FIND "${_rtmp_unit}" "${_rtmp_path}" _rtmp_at)
  if(_rtmp_at EQUAL -1)
    message(FATAL_ERROR "${_rtmp_template}: ExecStart must name ${_rtmp_path}, which the install replaces")
  endif()
endforeach()
string(REPLACE "/usr/local/bin/rtmp-server" "${_rtmp_bindir}/rtmp-server" _rtmp_unit "${_rtmp_unit}")
string(REPLACE "/etc/rtmp-server/rtmp-server.toml" "${_rtmp_confdir}/rtmp-server.toml" _rtmp_unit "${_rtmp_unit}")
# Written beside the build, one copy per destination (installs to several
# destinations may run at once), then installed like any file.
string(MD5 _rtmp_key "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}")
set(_rtmp_staging "${RTMP_BINARY_DIR}/install-units/${_rtmp_key}")
file(WRITE "${_rtmp_staging}/rtmp-server.service" "${_rtmp_unit}")
file(INSTALL "${_rtmp_staging}/rtmp-server.service" DESTINATION "${_rtmp_unitdir}")
file(REMOVE_RECURSE "${_rtmp_staging}")
