# The Debian package: `cpack -G DEB` in the build directory (after building)
# makes rtmp-server_VERSION_ARCH.deb of what `cmake --install --prefix /usr`
# lays out: the stripped programs in /usr/bin, the unit in
# /usr/lib/systemd/system, /etc/rtmp-server/rtmp-server.toml as a conffile,
# the man pages and bash completion. Its maintainer scripts
# (packaging/debian/) tell systemd about the unit and never enable or start
# the service on a fresh install. Included from the top CMakeLists.txt after
# cmake/install.cmake.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rtmp-server)
set(CPACK_PACKAGE_VENDOR "The rtmp-server authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "RTMP live-streaming server and client")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_STRIP_FILES ON)
# The package's files are those of an install to the prefix /usr under a
# DESTDIR, so that /etc/rtmp-server (outside the prefix) lands in the package
# beside /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(RTMP_PACKAGE_MAINTAINER "The rtmp-server authors <maintainers@rtmp-server.invalid>" CACHE STRING
    "Maintainer field of the Debian package: NAME <EMAIL>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${RTMP_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# (The summary above is its first line.)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "rtmp-server accepts RTMP and RTMPS publishers (ffmpeg, OBS) and relays each
stream to any number of players, with late joiners starting at a keyframe.
It runs as a systemd service (Type=notify, a dynamic unprivileged user)
configured by /etc/rtmp-server/rtmp-server.toml, and offers publish and play
authentication, FLV recording, push and pull relays, Prometheus metrics and
HTTP-FLV playback.

rtmp-client publishes FLV files or standard input, plays streams into FLV
files or standard output, and load-tests RTMP servers.")
# Depends from the programs' shared libraries (dpkg-shlibdeps, in dpkg-dev);
# without it, the libraries of Debian 12 by name.
find_program(RTMP_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(RTMP_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  message(STATUS "dpkg-shlibdeps not found (dpkg-dev): the package's Depends are Debian 12's library names")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libfmt9, libgcc-s1, libspdlog1.10, libssl3, libstdc++6, libtomlplusplus3")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/packaging/debian/conffiles"
  "${PROJECT_SOURCE_DIR}/packaging/debian/postinst"
  "${PROJECT_SOURCE_DIR}/packaging/debian/prerm"
  "${PROJECT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
