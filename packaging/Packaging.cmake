# Installation layout and the Debian package (cmake --build build --target package).
# Debian policy: the binary in /usr/sbin (an administration tool), the man page gzipped with
# -9n (no timestamp, so builds are reproducible), the license as /usr/share/doc/ipctop/copyright.

include(GNUInstallDirs)

find_program(IPCTOP_GZIP gzip REQUIRED)
set(ipctop_man_pages)
foreach(page ipctop.8 ipctop-setcap.8)
  add_custom_command(
    OUTPUT ${PROJECT_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${IPCTOP_GZIP} -9n -c ${PROJECT_SOURCE_DIR}/man/${page} > ${PROJECT_BINARY_DIR}/man/${page}.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/man/${page}
    COMMENT "Compressing ${page}")
  list(APPEND ipctop_man_pages ${PROJECT_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(ipctop_man ALL DEPENDS ${ipctop_man_pages})

install(TARGETS ipctop RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(PROGRAMS packaging/ipctop-setcap DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${ipctop_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES packaging/completion/ipctop.bash DESTINATION share/bash-completion/completions
        RENAME ipctop)
install(FILES packaging/completion/_ipctop DESTINATION share/zsh/vendor-completions)
install(FILES packaging/deb/copyright README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME ipctop)
set(CPACK_PACKAGE_VENDOR "the ipctop authors")
set(CPACK_PACKAGE_CONTACT "ipctop maintainers <maintainers@users.noreply.b-seed-74528edd.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "who talks to whom over pipes, FIFOs and sockets, per thread and CPU")
set(CPACK_PACKAGE_DESCRIPTION
    "ipctop shows, live and per CPU core, which processes and threads talk to which over\n\
which IPC channel, how much, and what it costs them in context switches. It traces\n\
with eBPF (libbpf, CO-RE) and needs root or CAP_BPF and CAP_PERFMON; without them it\n\
shows the endpoints of pipes, FIFOs, sockets and message queues from /proc and\n\
sock_diag, and per-thread context switches.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ipctop_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/ipctop/ipctop")
# Runtime libraries from the binary's NEEDED entries, with the minimum versions the
# libraries' symbols files ask for.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# setcap for ipctop-setcap; not needed to run ipctop as root.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libcap2-bin")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
# postinst gives an upgraded binary the capabilities ipctop-setcap gave the old one.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Files under /usr are root:root and not group- or world-writable, as dpkg expects.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
include(CPack)
