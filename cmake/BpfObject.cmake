# BPF C -> object (clang, bpf target, CO-RE) -> libbpf skeleton (bpftool gen skeleton).
# Kernel types come from the hand-written bpf/kernel.bpf.h with preserve_access_index,
# so the build never reads the build machine's running kernel.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_OBJDUMP NAMES llvm-objdump llvm-objdump-14 REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "unsupported architecture for the BPF build: ${CMAKE_SYSTEM_PROCESSOR}")
endif()
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch OUTPUT_VARIABLE BPF_MULTIARCH
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)

# bpf_object(<name> <source> [DEFINES d...] [DEPENDS f...]) -> INTERFACE target <name>_skel
function(bpf_object name src)
  cmake_parse_arguments(ARG "" "" "DEFINES;DEPENDS" ${ARGN})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.h)
  set(defs "")
  foreach(d ${ARG_DEFINES})
    list(APPEND defs -D${d})
  endforeach()
  add_custom_command(OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH} ${defs}
            -Wall -Werror -I${PROJECT_SOURCE_DIR}/include -I${CMAKE_CURRENT_SOURCE_DIR}
            -idirafter /usr/include/${BPF_MULTIARCH} -c ${src} -o ${obj}
    # Loops and call chains Linux 6.1's verifier would refuse fail the build here.
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/bpf/check_cfg61.py ${BPF_OBJDUMP} ${obj}
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/bpf/check_stack61.py ${BPF_OBJDUMP} ${obj}
    DEPENDS ${src} ${ARG_DEPENDS} ${PROJECT_SOURCE_DIR}/bpf/check_cfg61.py
            ${PROJECT_SOURCE_DIR}/bpf/check_stack61.py
    COMMENT "BPF ${name}" VERBATIM)
  add_custom_command(OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj} COMMENT "skeleton ${name}" VERBATIM)
  add_custom_target(${name}_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_gen)
  target_include_directories(${name}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
