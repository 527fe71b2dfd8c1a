# cmake -DTOML=examples/rtmp-server.toml -DTEMPLATE=docs/man/rtmp-server.toml.5.in
#       -DVERSION=X.Y.Z -DOUTPUT=rtmp-server.toml.5 -P cmake/man_toml.cmake
#
# rtmp-server.toml(5): the template's @KEYS@ replaced by the keys of the
# commented example configuration, @VERSION@ and @DATE@ filled in.
#
# The example file is read as blocks of comment lines between blank lines. A
# "# --- Title ---" line starts a subsection. A block's closing lines
# "# key = value" are its keys at their defaults (a key repeated there: the
# earlier lines are examples), the lines before them describe the keys; such
# lines inside the description are examples, shown as displays.
cmake_minimum_required(VERSION 3.25)

foreach(var TOML TEMPLATE VERSION OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "man_toml.cmake: -D${var}=... is required")
  endif()
endforeach()

# Lines are handled as CMake list elements: the characters with a meaning
# there stand in as markers "<rtmp-NAME>" until a line is written out.
set(marked backslash semicolon lbracket rbracket)
set(char_backslash "\\")
set(char_semicolon ";")
set(char_lbracket "[")
set(char_rbracket "]")

function(to_markers out text)
  foreach(name IN LISTS marked)
    string(REPLACE "${char_${name}}" "<rtmp-${name}>" text "${text}")
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# `text` as roff input text: markers restored, escapes for roff, a leading
# control character neutralised.
function(roff out text)
  set(char_backslash "\\e")
  foreach(name IN LISTS marked)
    string(REPLACE "<rtmp-${name}>" "${char_${name}}" text "${text}")
  endforeach()
  string(REPLACE "-" "\\-" text "${text}")
  string(REPLACE "'" "\\(aq" text "${text}")
  if(text MATCHES "^[.']")
    set(text "\\&${text}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(key_line "^# ([a-z][a-z0-9-]*) = (.*)$")
set(keys_roff "")
set(key_count 0)
set(block "")

# Writes the block collected so far into keys_roff.
macro(flush_block)
  # The closing run of key lines; a key repeated in it makes its earlier
  # lines examples.
  set(keys "")
  set(names "")
  set(prose "${block}")
  while(prose)
    list(GET prose -1 line)
    if(NOT line MATCHES "${key_line}")
      break()
    endif()
    if(CMAKE_MATCH_1 IN_LIST names)
      break()
    endif()
    list(PREPEND names "${CMAKE_MATCH_1}")
    list(PREPEND keys "${line}")
    list(POP_BACK prose)
  endwhile()
  if(keys)
    set(tag ".TP")
    foreach(line IN LISTS keys)
      string(REGEX MATCH "${key_line}" line "${line}")
      roff(name "${CMAKE_MATCH_1}")
      roff(value "${CMAKE_MATCH_2}")
      string(APPEND keys_roff "${tag}\n\\fB${name}\\fR = ${value}\n")
      set(tag ".TQ")
      math(EXPR key_count "${key_count} + 1")
    endforeach()
  elseif(prose)
    string(APPEND keys_roff ".PP\n")
  endif()
  # Prose after an example display goes on as an indented paragraph under
  # the keys (a plain one without keys).
  set(go_on ".PP")
  if(keys)
    set(go_on ".IP")
  endif()
  set(in_example FALSE)
  foreach(line IN LISTS prose)
    if(line MATCHES "${key_line}")
      if(NOT in_example)
        string(APPEND keys_roff ".RS\n.nf\n")
        set(in_example TRUE)
      endif()
    elseif(in_example)
      string(APPEND keys_roff ".fi\n.RE\n${go_on}\n")
      set(in_example FALSE)
    endif()
    string(REGEX REPLACE "^# ?" "" line "${line}")
    roff(line "${line}")
    string(APPEND keys_roff "${line}\n")
  endforeach()
  if(in_example)
    string(APPEND keys_roff ".fi\n.RE\n")
  endif()
  set(block "")
endmacro()

file(READ "${TOML}" text)
to_markers(text "${text}")
string(REPLACE "\n" ";" lines "${text}")

set(in_sections FALSE)  # the file's own header (before the first title) is left out
foreach(line IN LISTS lines)
  if(line MATCHES "^# --- (.*[^ -]) -+$")
    flush_block()
    roff(title "${CMAKE_MATCH_1}")
    string(APPEND keys_roff ".SS \"${title}\"\n")
    set(in_sections TRUE)
  elseif(line STREQUAL "" OR line STREQUAL "#")
    if(in_sections)
      flush_block()
    endif()
    set(block "")
  elseif(NOT line MATCHES "^#")
    message(FATAL_ERROR "${TOML}: a line that is not a comment: ${line}")
  elseif(in_sections)
    list(APPEND block "${line}")
  endif()
endforeach()
flush_block()
if(key_count EQUAL 0)
  message(FATAL_ERROR "${TOML}: no \"# key = value\" lines found")
endif()

string(TIMESTAMP date "%B %Y")
file(READ "${TEMPLATE}" page)
string(REPLACE "@KEYS@\n" "${keys_roff}" page "${page}")
string(REPLACE "@VERSION@" "${VERSION}" page "${page}")
string(REPLACE "@DATE@" "${date}" page "${page}")
file(WRITE "${OUTPUT}.tmp" "${page}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
