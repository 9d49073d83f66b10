// Host backends of the UART: stdout, append-to-file and Unix socket / pipe.
#include "devices/uart/backend.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace faultline::uart {

void StdoutBackend::write(uint8_t byte) {
  std::fputc(byte, stdout);
  if (byte == '\n') std::fflush(stdout);
}

FileBackend::FileBackend(const std::string& path) : file_(std::fopen(path.c_str(), "ab")) {
  if (!file_)
    throw std::runtime_error("uart file backend: cannot open '" + path + "': " + std::strerror(errno));
}

void FileBackend::write(uint8_t byte) {
  std::fputc(byte, file_.get());
  if (byte == '\n') std::fflush(file_.get());
}

void FileBackend::flush() { std::fflush(file_.get()); }

SocketBackend::SocketBackend(const std::string& path, uint64_t poll_interval_us)
    : poll_interval_ns_(poll_interval_us * 1000) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error("uart socket backend: '" + path + "': " + std::strerror(errno));
  if (S_ISFIFO(st.st_mode)) {
    // O_NONBLOCK: opening a pipe for reading must not wait for a writer.
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    is_pipe_ = true;
  } else if (S_ISSOCK(st.st_mode)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path))
      throw std::runtime_error("uart socket backend: path too long: '" + path + "'");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      errno = err;
    }
    if (fd_ >= 0) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  } else {
    throw std::runtime_error("uart socket backend: '" + path + "' is neither a socket nor a pipe");
  }
  if (fd_ < 0)
    throw std::runtime_error("uart socket backend: cannot open '" + path + "': " + std::strerror(errno));
}

SocketBackend::~SocketBackend() {
  if (fd_ >= 0) ::close(fd_);
}

void SocketBackend::write(uint8_t byte) {
  if (is_pipe_ || eof_ || ::send(fd_, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) ++dropped_output_;
}

void SocketBackend::poll_input(std::vector<uint8_t>& out) {
  if (eof_) return;
  uint8_t buf[256];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      out.insert(out.end(), buf, buf + n);
      continue;
    }
    // A pipe reads 0 while it has no writer; one may still come. A socket
    // reading 0 is closed for good.
    if (n == 0 && !is_pipe_) eof_ = true;
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

}  // namespace faultline::uart
