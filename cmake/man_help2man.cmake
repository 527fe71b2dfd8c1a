# cmake -DHELP2MAN=... -DPROGRAM=path -DNAME=rtmp-client -DSUMMARY="..."
#       [-DSUBCOMMANDS=publish,play] -DINCLUDE=docs/man/NAME.h2m -DOUTPUT=NAME.1
#       -P cmake/man_help2man.cmake
#
# A section 1 man page by help2man from PROGRAM's --help and --version, with
# the include file's sections. help2man reads a stand-in that prints the
# program's own text, reshaped a little:
#   - "Usage: /build/dir/NAME" becomes "Usage: NAME", and the short
#     description above it is left to the include file's DESCRIPTION;
#   - an "Exit codes:" block at the end becomes the EXIT STATUS section;
#   - each subcommand's --help (options, positionals) becomes a subsection of
#     COMMANDS.
cmake_minimum_required(VERSION 3.25)

foreach(var HELP2MAN PROGRAM NAME SUMMARY INCLUDE OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "man_help2man.cmake: -D${var}=... is required")
  endif()
endforeach()

# The output of PROGRAM with `args`, which must exit 0.
function(program_output out)
  execute_process(COMMAND "${PROGRAM}" ${ARGN} INPUT_FILE /dev/null OUTPUT_VARIABLE text
                  RESULT_VARIABLE rc TIMEOUT 30)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN}: exit ${rc}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# `text` reshaped for help2man: the usage line names the program alone, the
# exit codes are cut off (into exit_codes_out), "-h,--help" reads "-h, --help"
# (help2man's option syntax).
function(reshape_help text_out exit_codes_out text)
  string(REGEX REPLACE "Usage: [^ \n]*/${NAME}" "Usage: ${NAME}" text "${text}")
  string(REGEX REPLACE "\n(  +-[A-Za-z0-9]),--" "\n\\1, --" text "${text}")
  set(exit_codes "")
  string(FIND "${text}" "\nExit codes:\n" at)
  if(NOT at EQUAL -1)
    math(EXPR after "${at} + 13")
    string(SUBSTRING "${text}" ${after} -1 exit_codes)
    string(SUBSTRING "${text}" 0 ${at} text)
    string(APPEND text "\n")
  endif()
  set(${text_out} "${text}" PARENT_SCOPE)
  set(${exit_codes_out} "${exit_codes}" PARENT_SCOPE)
endfunction()

program_output(help --help)
program_output(version --version)
reshape_help(help exit_codes "${help}")
# The short description above the usage line gives way to the include
# file's DESCRIPTION.
string(FIND "${help}" "Usage: ${NAME}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${PROGRAM} --help: no \"Usage: ${NAME}\" line")
endif()
string(SUBSTRING "${help}" ${at} -1 help)
# help2man's version line: "NAME X.Y.Z" (the libraries' versions left out).
string(REGEX MATCH "^[^ \n]+ [0-9][^ \n]*" version "${version}")
if(version STREQUAL "")
  message(FATAL_ERROR "${PROGRAM} --version: no \"NAME VERSION\" line")
endif()

# A help text line "*Title*" starts a section of that title (help2man).
if(NOT exit_codes STREQUAL "")
  string(APPEND help "\n*Exit status*\n${exit_codes}")
endif()
if(DEFINED SUBCOMMANDS AND NOT SUBCOMMANDS STREQUAL "")
  string(APPEND help "\n*Commands*\n")
  string(REPLACE "," ";" SUBCOMMANDS "${SUBCOMMANDS}")
  foreach(sub IN LISTS SUBCOMMANDS)
    program_output(sub_help ${sub} --help)
    reshape_help(sub_help ignored "${sub_help}")
    # "DESCRIPTION\nUsage: NAME SUB ARGS\n\nPositionals:\n...\nOptions:\n..."
    # becomes "NAME SUB ARGS:\n  DESCRIPTION\n\n  POSITIONAL...\n  OPTION..."
    # (a subsection: a line ending in ':' before indented lines).
    if(NOT sub_help MATCHES "^([^\n]*)\nUsage: ([^\n]*)\n(.*)$")
      message(FATAL_ERROR "${PROGRAM} ${sub} --help: no description and usage line")
    endif()
    set(description "${CMAKE_MATCH_1}")
    set(usage "${CMAKE_MATCH_2}")
    set(body "${CMAKE_MATCH_3}")
    string(REGEX REPLACE "\n?(Positionals|Options):\n" "\n" body "${body}")
    string(REGEX REPLACE "\n  -h, --help[^\n]*" "" body "${body}")
    string(APPEND help "${usage}:\n  ${description}\n${body}\n")
  endforeach()
endif()

get_filename_component(output_dir "${OUTPUT}" DIRECTORY)
set(work "${output_dir}/help2man-${NAME}")
file(MAKE_DIRECTORY "${work}")
file(WRITE "${work}/help.txt" "${help}")
file(WRITE "${work}/version.txt" "${version}\n")
file(WRITE "${work}/${NAME}"
     "#!/bin/sh\n"
     "case \"$1\" in\n"
     "  --version) exec cat '${work}/version.txt' ;;\n"
     "  *) exec cat '${work}/help.txt' ;;\n"
     "esac\n")
file(CHMOD "${work}/${NAME}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                         WORLD_READ WORLD_EXECUTE)
execute_process(
  COMMAND "${HELP2MAN}" --no-info --no-discard-stderr "--name=${SUMMARY}" "--include=${INCLUDE}"
          "--output=${OUTPUT}.tmp" "${work}/${NAME}"
  INPUT_FILE /dev/null RESULT_VARIABLE rc TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man for ${NAME}: exit ${rc}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
