# Man pages, built with the programs into build/man/ and installed under
# share/man: rtmp-server(1) and rtmp-client(1) by help2man from the programs'
# --help and --version, with docs/man/PROGRAM.h2m adding description, files,
# examples and see-also (cmake/man_help2man.cmake); rtmp-server.toml(5) from
# the commented examples/rtmp-server.toml into docs/man/rtmp-server.toml.5.in
# (cmake/man_toml.cmake). Without help2man (Debian package help2man;
# scripts/deps.sh build installs it) the (1) pages are left out.
find_program(RTMP_HELP2MAN help2man)

set(RTMP_MAN_DIR "${PROJECT_BINARY_DIR}/man")
set(_rtmp_man_sources "${PROJECT_SOURCE_DIR}/docs/man")

add_custom_command(
  OUTPUT "${RTMP_MAN_DIR}/rtmp-server.toml.5"
  COMMAND "${CMAKE_COMMAND}" "-DTOML=${PROJECT_SOURCE_DIR}/examples/rtmp-server.toml"
          "-DTEMPLATE=${_rtmp_man_sources}/rtmp-server.toml.5.in" "-DVERSION=${PROJECT_VERSION}"
          "-DOUTPUT=${RTMP_MAN_DIR}/rtmp-server.toml.5" -P "${CMAKE_CURRENT_LIST_DIR}/man_toml.cmake"
  DEPENDS "${PROJECT_SOURCE_DIR}/examples/rtmp-server.toml" "${_rtmp_man_sources}/rtmp-server.toml.5.in"
          "${CMAKE_CURRENT_LIST_DIR}/man_toml.cmake"
  COMMENT "Man page rtmp-server.toml(5)"
  VERBATIM)
set(RTMP_MAN_PAGES "${RTMP_MAN_DIR}/rtmp-server.toml.5")
install(FILES "${RTMP_MAN_DIR}/rtmp-server.toml.5" DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

if(RTMP_HELP2MAN)
  # program | NAME line | subcommands documented from their own --help
  foreach(_rtmp_page "rtmp-server|RTMP live-streaming server|"
                     "rtmp-client|publish, play and load-test RTMP streams|publish,play,bench")
    string(REPLACE "|" ";" _rtmp_page "${_rtmp_page}")
    list(GET _rtmp_page 0 _rtmp_program)
    list(GET _rtmp_page 1 _rtmp_summary)
    list(GET _rtmp_page 2 _rtmp_subcommands)
    add_custom_command(
      OUTPUT "${RTMP_MAN_DIR}/${_rtmp_program}.1"
      COMMAND "${CMAKE_COMMAND}" "-DHELP2MAN=${RTMP_HELP2MAN}" "-DPROGRAM=$<TARGET_FILE:${_rtmp_program}>"
              "-DNAME=${_rtmp_program}" "-DSUMMARY=${_rtmp_summary}" "-DSUBCOMMANDS=${_rtmp_subcommands}"
              "-DINCLUDE=${_rtmp_man_sources}/${_rtmp_program}.h2m" "-DOUTPUT=${RTMP_MAN_DIR}/${_rtmp_program}.1"
              -P "${CMAKE_CURRENT_LIST_DIR}/man_help2man.cmake"
      DEPENDS ${_rtmp_program} "${_rtmp_man_sources}/${_rtmp_program}.h2m"
              "${CMAKE_CURRENT_LIST_DIR}/man_help2man.cmake"
      COMMENT "Man page ${_rtmp_program}(1)"
      VERBATIM)
    list(APPEND RTMP_MAN_PAGES "${RTMP_MAN_DIR}/${_rtmp_program}.1")
    install(FILES "${RTMP_MAN_DIR}/${_rtmp_program}.1" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  endforeach()
else()
  message(STATUS "help2man not found: man pages rtmp-server(1) and rtmp-client(1) skipped "
                 "(scripts/deps.sh build installs it)")
endif()
add_custom_target(man ALL DEPENDS ${RTMP_MAN_PAGES})
