// Host ends of a UART: where transmitted bytes go and where input comes from.
//
// Design note: a backend only moves bytes. Output is one write() per byte
// leaving the transmitter; input is pulled by the UART through poll_input()
// from a virtual-time event every poll_interval_ns() (0 = the backend has no
// input of its own), and handed to Uart::receive(). Anything else that wants
// to type into the guest (tests, experiment scripts) calls Uart::receive()
// directly. Polling host input is the only non-deterministic path; backends
// used in campaigns (MemoryBackend) have none.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace faultline::uart {

class Backend {
 public:
  virtual ~Backend() = default;
  // One byte that left the transmitter (after the tx filter).
  virtual void write(uint8_t byte) = 0;
  // Appends host input that is ready now; never blocks.
  virtual void poll_input(std::vector<uint8_t>& out) { (void)out; }
  // Virtual nanoseconds between polls; 0 = never poll.
  virtual uint64_t poll_interval_ns() const { return 0; }
};

// Writes to the process's stdout, flushed at each newline.
class StdoutBackend final : public Backend {
 public:
  void write(uint8_t byte) override;
};

// Appends to a file (created if missing). Throws std::runtime_error naming
// the path if it cannot be opened.
class FileBackend final : public Backend {
 public:
  explicit FileBackend(const std::string& path);
  void write(uint8_t byte) override;
  void flush();

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
};

// A Unix stream socket (connected as a client) or a named pipe at `path`.
// Input is read non-blockingly whenever the UART polls (every
// `poll_interval_us` of virtual time). Output goes to the socket; a named
// pipe is input only and output to it is discarded (counted). Output that
// would block is dropped and counted rather than stalling the simulation.
// Throws std::runtime_error naming the path if it cannot be opened.
class SocketBackend final : public Backend {
 public:
  explicit SocketBackend(const std::string& path, uint64_t poll_interval_us = 1000);
  ~SocketBackend() override;
  SocketBackend(const SocketBackend&) = delete;
  SocketBackend& operator=(const SocketBackend&) = delete;

  void write(uint8_t byte) override;
  void poll_input(std::vector<uint8_t>& out) override;
  uint64_t poll_interval_ns() const override { return poll_interval_ns_; }
  uint64_t dropped_output() const { return dropped_output_; }
  bool is_pipe() const { return is_pipe_; }

 private:
  int fd_ = -1;
  bool is_pipe_ = false;
  bool eof_ = false;
  uint64_t poll_interval_ns_;
  uint64_t dropped_output_ = 0;
};

// Collects output in memory (tests, campaign capture, output-pattern
// triggers). The observer sees every byte after it was appended.
class MemoryBackend final : public Backend {
 public:
  void write(uint8_t byte) override {
    output_.push_back(static_cast<char>(byte));
    if (observer_) observer_(byte);
  }
  const std::string& output() const { return output_; }
  void clear() { output_.clear(); }
  void set_observer(std::function<void(uint8_t)> observer) { observer_ = std::move(observer); }

 private:
  std::string output_;
  std::function<void(uint8_t)> observer_;
};

// Output to one backend, input from another (e.g. the console on stdout and
// commands from a named pipe). Either may be null.
class SplitBackend final : public Backend {
 public:
  SplitBackend(std::shared_ptr<Backend> out, std::shared_ptr<Backend> in) : out_(std::move(out)), in_(std::move(in)) {}
  void write(uint8_t byte) override {
    if (out_) out_->write(byte);
  }
  void poll_input(std::vector<uint8_t>& out) override {
    if (in_) in_->poll_input(out);
  }
  uint64_t poll_interval_ns() const override { return in_ ? in_->poll_interval_ns() : 0; }

 private:
  std::shared_ptr<Backend> out_, in_;
};

}  // namespace faultline::uart
