// `faultline run`: boot a kernel and run it to completion.
//
// Three ways in: --kernel (a multiboot ELF on the bare machine: debug console
// 0xE9 and exit port 0xF4 only), --linux (a bzImage through the Linux boot
// protocol on a PcPlatform, COM1 on stdout so console=ttyS0 shows), or
// firmware (--bios, or --disk alone: a BIOS image, by default Debian's
// SeaBIOS, starts at the reset vector and boots the disks like a PC).
#include <chrono>
#include <cstdio>
#include <memory>
#include <unistd.h>

#include "core/boot/linux_boot.h"
#include "core/boot/multiboot.h"
#include "core/machine.h"
#include "devices/pc/pc_platform.h"
#include "devices/vga/image.h"
#include "devices/vga/vga.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/exit_codes.h"

namespace faultline::cli {

namespace {
struct RunOptions {
  std::string kernel;
  std::string linux_kernel;
  std::string initrd;
  std::string append;
  std::vector<std::string> disks;
  uint64_t memory_mib = 32;
  std::string memory_file;
  uint64_t max_instructions = 0;  // 0: unlimited
  std::string cmdline;
  std::vector<std::string> modules;
  bool stats = false;
  bool pc = false;                 // multiboot run on the full PC platform
  std::string screenshot;          // PNG of the screen at exit
  bool screen_text = false;        // print the text-mode screen at exit
  std::string type;                // text typed on the PS/2 keyboard
  uint64_t type_at_ms = 0;         // virtual time at which typing starts
  std::string bios;                // firmware boot: BIOS image
  std::string vga_bios;            // firmware boot: VGA option ROM ("none": no VGA BIOS)
  std::string firmware_log;        // firmware debug port output ("-": stderr)
  std::string serial_in;           // COM1 input: named pipe or Unix socket
};

constexpr const char* kDefaultBios = "/usr/share/seabios/bios-256k.bin";
constexpr const char* kDefaultVgaBios = "/usr/share/seabios/vgabios-stdvga.bin";

// Turns the escapes \n, \t and \\ of --type into characters.
std::string unescape(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      char c = in[++i];
      out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

int do_run(const RunOptions& o) {
  MachineConfig cfg;
  cfg.memory_mib = o.memory_mib;
  cfg.memory_file = o.memory_file;
  const bool firmware = o.kernel.empty() && o.linux_kernel.empty() && (!o.bios.empty() || !o.disks.empty());
  if (!firmware && o.kernel.empty() == o.linux_kernel.empty()) {
    std::fprintf(stderr,
                 "faultline: run: give exactly one of --kernel (multiboot ELF), --linux (bzImage), or --bios/--disk "
                 "(firmware boot)\n");
    return exit_code::kUsage;
  }
  if (!firmware && (!o.bios.empty() || !o.vga_bios.empty() || !o.firmware_log.empty())) {
    std::fprintf(stderr, "faultline: run: --bios, --vga-bios and --firmware-log are for firmware boot only\n");
    return exit_code::kUsage;
  }
  if (o.disks.size() > 4) {
    std::fprintf(stderr, "faultline: run: at most 4 --disk images (IDE primary/secondary, master/slave)\n");
    return exit_code::kUsage;
  }
  Machine m(cfg);
  m.set_console_sink([](char ch) { std::fputc(ch, stdout); });
  std::unique_ptr<PcPlatform> pc;
  const bool want_screen = !o.screenshot.empty() || o.screen_text;
  const bool platform = !o.linux_kernel.empty() || o.pc || firmware;
  if (!o.type.empty() && !platform) {
    std::fprintf(stderr, "faultline: run: --type needs the keyboard controller: use --linux or --pc\n");
    return exit_code::kUsage;
  }
  if (!o.serial_in.empty() && !platform) {
    std::fprintf(stderr, "faultline: run: --serial-in needs the PC's COM1: use --linux, --pc or firmware boot\n");
    return exit_code::kUsage;
  }
  if (want_screen && !platform) {
    std::fprintf(stderr, "faultline: run: --screenshot/--screen-text need a VGA: use --linux or --pc\n");
    return exit_code::kUsage;
  }
  if (o.pc && o.linux_kernel.empty()) {
    PcConfig pcc;
    pcc.com[0].backend = SerialBackend::Stdout;
    pcc.com[0].input_path = o.serial_in;
    pc = std::make_unique<PcPlatform>(m, pcc);
  }
  std::FILE* fw_log = nullptr;
  if (firmware) {
    PcConfig pcc;
    pcc.com[0].backend = SerialBackend::Stdout;
    pcc.com[0].input_path = o.serial_in;
    for (size_t i = 0; i < o.disks.size(); ++i) pcc.ide_disks[i] = o.disks[i];
    pcc.bios = o.bios.empty() ? kDefaultBios : o.bios;
    pcc.vga_bios = o.vga_bios.empty() ? kDefaultVgaBios : o.vga_bios == "none" ? "" : o.vga_bios;
    pc = std::make_unique<PcPlatform>(m, pcc);
    if (o.firmware_log == "-") {
      fw_log = stderr;
    } else if (!o.firmware_log.empty()) {
      fw_log = std::fopen(o.firmware_log.c_str(), "w");
      if (!fw_log) {
        std::fprintf(stderr, "faultline: run: cannot write --firmware-log '%s'\n", o.firmware_log.c_str());
        return exit_code::kUsage;
      }
    }
    if (fw_log) pc->firmware()->debug_observer = [fw_log](char ch) { std::fputc(ch, fw_log); };
  } else if (!o.linux_kernel.empty()) {
    PcConfig pcc;
    pcc.com[0].backend = SerialBackend::Stdout;
    pcc.com[0].input_path = o.serial_in;
    for (size_t i = 0; i < o.disks.size(); ++i) pcc.ide_disks[i] = o.disks[i];
    pc = std::make_unique<PcPlatform>(m, pcc);
    linux_load(m, LinuxBootOptions{o.linux_kernel, o.initrd, o.append, pc->vga() != nullptr});
  } else {
    MultibootOptions mb;
    mb.kernel_path = o.kernel;
    mb.cmdline = o.cmdline;
    for (const std::string& spec : o.modules) {
      auto comma = spec.find(',');
      mb.modules.push_back({spec.substr(0, comma), comma == std::string::npos ? "" : spec.substr(comma + 1)});
    }
    multiboot_load(m, mb);
  }
  if (pc && !o.type.empty()) {
    std::string text = unescape(o.type);
    PcPlatform* platform = pc.get();
    m.schedule_in(o.type_at_ms * 1'000'000, [platform, text] {
      if (!platform->i8042().type_text(text))
        std::fprintf(stderr, "faultline: run: --type: some characters have no key on a US keyboard\n");
    });
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t budget = o.max_instructions ? o.max_instructions : UINT64_MAX;
  RunResult r = m.run(budget);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fflush(stdout);
  if (fw_log && fw_log != stderr) std::fclose(fw_log);
  if (pc && pc->vga() && want_screen) {
    if (o.screen_text) {
      std::string text = pc->vga()->text_screen();
      std::printf("%s", text.empty() ? "(screen is not in a text mode)\n" : text.c_str());
      std::fflush(stdout);
    }
    if (!o.screenshot.empty()) write_png(pc->vga()->render(), o.screenshot);
  }
  if (o.stats) {
    std::fprintf(stderr, "retired instructions: %llu\nwall time: %.3f s\nMIPS: %.1f\ndecoded: %llu\n",
                 (unsigned long long)r.retired, secs, secs > 0 ? r.retired / secs / 1e6 : 0.0,
                 (unsigned long long)m.cpu().decode_misses);
  }
  const Cpu& c = m.cpu();
  switch (r.outcome) {
    case RunOutcome::Exited:
      return static_cast<int>(r.exit_status & 0xFF);
    case RunOutcome::InstructionLimit:
      std::fprintf(stderr, "faultline: stopped: instruction limit of %llu reached at EIP=%08X (guest did not exit)\n",
                   (unsigned long long)o.max_instructions, c.s.eip);
      return exit_code::kInstructionLimit;
    case RunOutcome::TripleFault:
      std::fprintf(stderr, "faultline: guest triple fault at EIP=%08X after %llu instructions (machine reset event)\n",
                   c.s.eip, (unsigned long long)r.retired);
      return exit_code::kTripleFault;
    case RunOutcome::Halted:
      std::fprintf(stderr, "faultline: guest halted with interrupts disabled at EIP=%08X: it can never resume\n",
                   c.s.eip);
      return exit_code::kHalted;
    case RunOutcome::Stopped:
      if (pc && pc->reset_requested()) {
        // Like QEMU with -no-reboot: a guest reboot ends the run cleanly.
        std::fprintf(stderr, "faultline: guest requested a system reset at EIP=%08X after %llu instructions\n",
                     c.s.eip, (unsigned long long)r.retired);
        return 0;
      }
      std::fprintf(stderr, "faultline: run stopped\n");
      return exit_code::kInternal;
  }
  return exit_code::kInternal;
}
}  // namespace

Action add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Boot a kernel and run it");
  CLI::Option* kernel = sub->add_option("--kernel", o->kernel, "Multiboot ELF kernel")->check(CLI::ExistingFile);
  CLI::Option* linux_opt =
      sub->add_option("--linux", o->linux_kernel, "Linux bzImage (boot protocol 2.06+; PC devices, COM1 on stdout)")
          ->excludes(kernel);
  sub->add_option("--initrd", o->initrd, "Initial ramdisk for --linux")->needs(linux_opt);
  sub->add_option("--append", o->append, "Kernel command line for --linux")->needs(linux_opt);
  sub->add_option("--disk", o->disks,
                  "Raw disk image (repeatable: IDE primary master, primary slave, secondary master, secondary "
                  "slave); guest writes stay in memory. Without --linux/--kernel the firmware boots the first disk")
      ->excludes(kernel);
  CLI::Option* bios = sub->add_option("--bios", o->bios,
                                      std::string("Firmware boot from this BIOS image (default with --disk alone: ") +
                                          kDefaultBios + ")")
                          ->excludes(kernel)
                          ->excludes(linux_opt);
  sub->add_option("--vga-bios", o->vga_bios,
                  std::string("VGA option ROM for firmware boot (default ") + kDefaultVgaBios + "; 'none': no VGA BIOS)")
      ->excludes(kernel)
      ->excludes(linux_opt);
  sub->add_option("--firmware-log", o->firmware_log, "Write the firmware's debug port (0x402) output here ('-': stderr)")
      ->excludes(kernel)
      ->excludes(linux_opt);
  (void)bios;
  sub->add_option("--serial-in", o->serial_in,
                  "COM1 input from this named pipe or Unix stream socket (PC platform; makes the run depend on "
                  "host timing)");
  sub->add_option("--memory", o->memory_mib, "Guest RAM in MiB")->check(CLI::Range(1, 3072));
  sub->add_option("--memory-file", o->memory_file, "Keep guest RAM in this file instead of a memfd");
  sub->add_option("--max-instructions", o->max_instructions, "Stop after N instructions (0: no limit)");
  sub->add_option("--cmdline", o->cmdline, "Multiboot kernel command line")->excludes(linux_opt);
  sub->add_option("--module", o->modules, "Multiboot module FILE[,CMDLINE] (repeatable)")->excludes(linux_opt);
  sub->add_flag("--stats", o->stats, "Print retired instructions, wall time and MIPS");
  sub->add_flag("--pc", o->pc, "Run a multiboot kernel on the full PC platform (devices, VGA)")->excludes(linux_opt);
  sub->add_option("--screenshot", o->screenshot, "Write the screen as a PNG file when the run ends");
  sub->add_flag("--screen-text", o->screen_text, "Print the text-mode screen when the run ends");
  sub->add_option("--type", o->type, "Type this text on the PS/2 keyboard (escapes \\n \\t)");
  sub->add_option("--type-at-ms", o->type_at_ms, "Virtual time in ms at which --type starts (default 0)");
  return [o] { return do_run(*o); };
}

}  // namespace faultline::cli
