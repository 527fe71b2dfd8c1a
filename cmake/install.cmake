# Installation (`cmake --install build [--prefix P]`, and CPack's packages):
# the programs, the configuration file, the systemd unit, man pages and bash
# completion. Included from the top CMakeLists.txt.
#
# The configuration file and the unit depend on the prefix, which
# `cmake --install --prefix P` or CPack may choose after configuring, so
# cmake/install_unit_and_config.cmake works them out at install time: with
# prefix /usr the unit runs /usr/bin/rtmp-server with
# /etc/rtmp-server/rtmp-server.toml, with /usr/local /usr/local/bin and
# /usr/local/etc/rtmp-server/, with /opt/NAME /opt/NAME/bin and
# /etc/opt/NAME/rtmp-server/ (the rules of GNUInstallDirs).
include(GNUInstallDirs)
include(${CMAKE_CURRENT_LIST_DIR}/man.cmake)

install(TARGETS rtmp-server rtmp-client RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(RTMP_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Directory of the systemd unit, under the install prefix unless absolute")
install(CODE "
  set(RTMP_SOURCE_DIR [[${PROJECT_SOURCE_DIR}]])
  set(RTMP_BINARY_DIR [[${PROJECT_BINARY_DIR}]])
  set(RTMP_INSTALL_BINDIR [[${CMAKE_INSTALL_BINDIR}]])
  set(RTMP_INSTALL_SYSCONFDIR [[${CMAKE_INSTALL_SYSCONFDIR}]])
  set(RTMP_INSTALL_UNITDIR [[${RTMP_SYSTEMD_UNIT_DIR}]])")
install(SCRIPT "${CMAKE_CURRENT_LIST_DIR}/install_unit_and_config.cmake")

# Bash completion: one script for both commands, under each command's name
# (bash-completion loads it on the first completion of either).
foreach(_rtmp_program rtmp-server rtmp-client)
  install(FILES ${PROJECT_SOURCE_DIR}/completions/rtmp.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ${_rtmp_program})
endforeach()

# The license, where Debian keeps every package's.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/rtmp-server RENAME copyright)
