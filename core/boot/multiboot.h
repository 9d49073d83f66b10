// Multiboot (version 1) loader for ELF kernels.
//
// Places the kernel's segments in guest memory, builds the multiboot
// information structure (memory sizes, memory map, command line, modules)
// below the kernel, and puts the CPU in the state the specification defines:
// 32-bit protected mode, flat segments, paging and interrupts off,
// EAX = 0x2BADB002, EBX = physical address of the information structure.
#pragma once

#include <string>
#include <vector>

#include "core/boot/elf_image.h"

namespace faultline {

class Machine;

struct MultibootModule {
  std::string path;
  std::string cmdline;
};

struct MultibootOptions {
  std::string kernel_path;
  std::string cmdline;
  std::vector<MultibootModule> modules;
};

// Loads the kernel and prepares the machine. Throws std::runtime_error naming
// the file for a bad kernel or module (missing multiboot header, segments
// outside RAM, ...). Returns the image (symbols stay available).
ElfImage multiboot_load(Machine& m, const MultibootOptions& opts);

}  // namespace faultline
