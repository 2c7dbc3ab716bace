# Debian package: `cpack -G DEB` (or `cmake --build build --target package`) in a build configured
# for the target prefix, e.g.
#   cmake -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release -DEZ_BUILD_TESTS=OFF
#   cmake --build build-deb -j && (cd build-deb && cpack -G DEB)
# The package installs exactly what `cmake --install` does (binary, plugins, SDK, config) plus the
# systemd unit. Paths compiled into elizad come from CMAKE_INSTALL_PREFIX, so the package prefix
# is that same prefix (never a different CPACK_PACKAGING_INSTALL_PREFIX).

# ---- the config where elizad looks by default (EZ_DEFAULT_CONFIG) ----
# GNUInstallDirs maps prefix /usr to /etc; the top-level install() uses the relative etc/ (so
# --prefix relocates it), which for /usr lands in /usr/etc: add the copy elizad really reads.
set(ELIZAD_CONF "${CMAKE_INSTALL_FULL_SYSCONFDIR}/elizad/elizad.conf")
if(NOT CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}")
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/elizad.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/elizad)
endif()

# ---- the systemd unit, with this build's paths ----
set(ELIZAD_BIN "${CMAKE_INSTALL_FULL_BINDIR}/elizad")
configure_file(${CMAKE_CURRENT_LIST_DIR}/elizad.service ${CMAKE_BINARY_DIR}/elizad.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/elizad.service DESTINATION lib/systemd/system)

# ---- package metadata ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME elizad)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "elizad")
set(CPACK_PACKAGE_CONTACT "elizad maintainers <elizad@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "elizaOS-compatible agent server in C (kernel + plugins)")
set(CPACK_PACKAGE_DESCRIPTION
    "elizad serves the elizaOS 1.7 REST and Socket.IO API from a small C kernel with\n\
dlopen-loaded feature plugins. The package also carries the plugin SDK (headers, CMake package,\n\
pkg-config files and the testkit) for building third-party plugins.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps (dpkg-dev, part of build-essential) derives libevhtp, jansson, sqlite... from
# the ELF files; the SDK part needs the -dev packages only when a plugin is built.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libjansson-dev, libsqlite3-dev, pkg-config, cmake")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/elizaos/eliza")
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/" "/\\\\.git/" "/node_modules/" "/\\\\.eliza/")
include(CPack)
