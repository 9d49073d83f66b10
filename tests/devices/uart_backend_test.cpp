// UART host backends: append-to-file, named pipe and Unix socket input
// polled from virtual time, output to the socket.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "devices/uart/uart.h"
#include "tests/devices/serial_test_support.h"

namespace faultline {
namespace {

using namespace uart_reg;
using serial_test::ManualTime;
using serial_test::RecordingIrq;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "faultline-uart-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(UartBackendTest, FileBackendAppends) {
  TempDir dir;
  std::string path = dir / "com1.log";
  { std::ofstream(path) << "old:"; }
  RecordingIrq irq;
  {
    Uart uart("com1", irq);
    uart.set_backend(std::make_shared<uart::FileBackend>(path));
    for (char c : std::string("new\n")) uart.write(kData, 1, static_cast<uint8_t>(c));
  }
  EXPECT_EQ(read_file(path), "old:new\n");
  EXPECT_THROW(uart::FileBackend(dir / "missing/dir/x"), std::runtime_error);
}

TEST(UartBackendTest, PipeInputIsPolledFromVirtualTime) {
  TempDir dir;
  std::string path = dir / "input";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  ManualTime time;
  RecordingIrq irq;
  auto uart = std::make_unique<Uart>("com1", irq, &time);
  auto backend = std::make_shared<uart::SocketBackend>(path, /*poll_interval_us=*/100);
  EXPECT_TRUE(backend->is_pipe());
  uart->set_backend(backend);
  uart->write(kFcr, 1, kFcrEnable);
  int writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(::write(writer, "ls\n", 3), 3);
  time.advance(99'000);
  EXPECT_EQ(uart->rx_fifo_level(), 0u);
  time.advance(1'000);
  EXPECT_EQ(uart->rx_fifo_level(), 3u);
  EXPECT_EQ(uart->read(kData, 1), uint32_t{'l'});
  ::close(writer);
  time.advance(10'000'000);       // no writer: polling goes on quietly
  EXPECT_EQ(time.pending(), 1u);  // the poll (the FIFO timeout has fired)
  uart.reset();
  EXPECT_EQ(time.pending(), 0u);  // the UART cancels its events
}

TEST(UartBackendTest, UnixSocketCarriesBothDirections) {
  TempDir dir;
  std::string path = dir / "com1.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);

  ManualTime time;
  RecordingIrq irq;
  Uart uart("com1", irq, &time);
  auto backend = std::make_shared<uart::SocketBackend>(path, 50);
  uart.set_backend(backend);
  int peer = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(peer, 0);

  ASSERT_EQ(::write(peer, "x", 1), 1);
  time.advance(50'000);
  EXPECT_EQ(uart.read(kData, 1), uint32_t{'x'});
  uart.write(kData, 1, 'y');
  char got = 0;
  ASSERT_EQ(::read(peer, &got, 1), 1);
  EXPECT_EQ(got, 'y');
  EXPECT_EQ(backend->dropped_output(), 0u);
  ::close(peer);
  ::close(listener);
}

TEST(UartBackendTest, SocketBackendRejectsOtherFiles) {
  TempDir dir;
  std::string path = dir / "plain";
  std::ofstream(path) << "x";
  EXPECT_THROW(uart::SocketBackend backend(path), std::runtime_error);
  EXPECT_THROW(uart::SocketBackend backend(dir / "absent"), std::runtime_error);
}

}  // namespace
}  // namespace faultline
