// What the emcluster command writes, and how it keeps a user's files safe:
//
// - Paths: every input and output of a command is registered (Paths); check() refuses, as a
//   usage error before any work, an output that is an input or another output (the same file
//   after resolving links and relative paths: same device and inode for files that exist,
//   the same absolute path for those that do not), two outputs on standard output, and two
//   inputs on standard input; it then creates and removes a temporary file beside every
//   output, so that a directory that does not exist or cannot be written fails before the fit.
// - Files are written whole or not at all (emcluster::detail::AtomicFile: a temporary beside
//   the target, fsync, rename); an interrupt (SIGINT, SIGTERM, SIGHUP) removes the temporaries
//   in progress before the process ends.
// - Standard output is written with write(2) and every failure is an error (exit 1): a full
//   disk, a closed descriptor. A standard stream that was closed when the command started is
//   taken by /dev/null (so that no file opened later gets its descriptor), and remembered:
//   naming it as an input or output is then an error.
#pragma once

#include <emcluster/detail/io/atomic_file.hpp>
#include <emcluster/exceptions.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "data.hpp"

namespace emcluster_cli {

// ---- The standard streams and interrupts ----------------------------------------------------

/// Which standard streams were closed when the command started (set by guard_standard_streams).
struct StandardStreams {
  bool closed[3] = {false, false, false};
};
inline StandardStreams& standard_streams() {
  static StandardStreams s;
  return s;
}

/// Temporaries being written, removed by the interrupt handler. Fixed storage: the handler
/// may only read it (async-signal-safe).
struct TemporaryRegistry {
  static constexpr int kSlots = 16;
  char path[kSlots][4096] = {};
  volatile std::sig_atomic_t used[kSlots] = {};
};
inline TemporaryRegistry& temporaries() {
  static TemporaryRegistry r;
  return r;
}

extern "C" inline void remove_temporaries_and_die(int sig) {
  TemporaryRegistry& r = temporaries();
  for (int i = 0; i < TemporaryRegistry::kSlots; ++i) {
    if (r.used[i]) ::unlink(r.path[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

/// At start: fills closed standard descriptors with /dev/null (remembering them) and installs
/// the interrupt handler that removes temporaries.
inline void guard_standard_streams() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      standard_streams().closed[fd] = true;
      const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null >= 0 && null != fd) {
        ::dup2(null, fd);
        ::close(null);
      }
    }
  }
  // (A signal the shell made the command ignore, as SIGINT for a background job, stays so.)
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    std::signal(sig, remove_temporaries_and_die);
  }
}

/// Holds SIGINT, SIGTERM and SIGHUP while it lives (a temporary created and registered
/// under it is never left between the two).
class InterruptsHeld {
 public:
  InterruptsHeld() {
    sigset_t held;
    sigemptyset(&held);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&held, sig);
    pthread_sigmask(SIG_BLOCK, &held, &previous_);
  }
  InterruptsHeld(const InterruptsHeld&) = delete;
  InterruptsHeld& operator=(const InterruptsHeld&) = delete;
  ~InterruptsHeld() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

 private:
  sigset_t previous_;
};

/// An AtomicFile whose temporary the interrupt handler removes (created and registered with
/// the interrupts held).
class OutputFile {
 public:
  explicit OutputFile(const std::string& path)
      : held_(std::make_unique<InterruptsHeld>()), file_(path) {
    register_temporary();
    held_.reset();
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() { release(); }
  std::ostream& stream() { return file_.stream(); }
  int error() const { return file_.error(); }
  void commit() {
    file_.commit();
    release();
  }

 private:
  void register_temporary() {
    const std::string& tmp = file_.temporary_path();
    if (tmp.empty() || tmp.size() >= sizeof(TemporaryRegistry::path[0])) return;
    TemporaryRegistry& r = temporaries();
    for (int i = 0; i < TemporaryRegistry::kSlots; ++i) {
      if (r.used[i]) continue;
      std::memcpy(r.path[i], tmp.c_str(), tmp.size() + 1);
      r.used[i] = 1;
      slot_ = i;
      break;
    }
  }
  void release() {
    if (slot_ >= 0) temporaries().used[slot_] = 0;
    slot_ = -1;
  }
  std::unique_ptr<InterruptsHeld> held_;  // during construction only
  emcluster::detail::AtomicFile file_;
  int slot_ = -1;
};

// ---- Paths ------------------------------------------------------------------------------------

/// The inputs and outputs of one command (see the file's description).
class Paths {
 public:
  /// An input file (`what`: "DATA", "--labels", ...); "-" is standard input.
  void input(const std::string& what, const std::string& path) { inputs_.push_back({what, path}); }
  /// An output file; "-" is standard output. Empty paths are not outputs (not asked for).
  void output(const std::string& what, const std::string& path) {
    if (!path.empty()) outputs_.push_back({what, path});
  }

  /// Whether some output goes to standard output.
  bool stdout_used() const {
    for (const auto& o : outputs_) {
      if (o.path == "-") return true;
    }
    return false;
  }

  /// Refuses collisions (UsageError), then probes every output's directory (data_file_error).
  void check() const {
    const auto clash = [](const Entry& a, const Entry& b, const char* how) {
      throw UsageError(
          a.what + " and " + b.what + " " + how +
          (a.path == b.path ? " ('" + a.path + "')" : " ('" + a.path + "' and '" + b.path + "')") +
          ": every output needs a file of its own, and no output may replace an "
          "input");
    };
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      for (std::size_t j = 0; j < inputs_.size(); ++j) {
        if (same_file(outputs_[i].path, inputs_[j].path)) {
          clash(outputs_[i], inputs_[j], "are the same file");
        }
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (outputs_[i].path == "-" && outputs_[j].path == "-") {
          throw UsageError(outputs_[j].what + " and " + outputs_[i].what +
                           " both go to standard output ('-'): give one of them a file");
        }
        if (same_file(outputs_[i].path, outputs_[j].path)) {
          clash(outputs_[j], outputs_[i], "are the same file");
        }
      }
    }
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (inputs_[i].path == "-" && inputs_[j].path == "-") {
          throw UsageError(inputs_[j].what + " and " + inputs_[i].what +
                           " both read standard input ('-'): give one of them a file");
        }
      }
    }
    for (const auto& in : inputs_) {
      if (in.path == "-" && standard_streams().closed[0]) {
        throw emcluster::data_file_error::at_file("standard input", "is closed");
      }
    }
    for (const auto& o : outputs_) {
      if (o.path == "-") {
        if (standard_streams().closed[1]) {
          throw emcluster::data_file_error::at_file("standard output",
                                                    "is closed (" + o.what + " would be lost)");
        }
        continue;
      }
      // Creates the temporary (and removes it): the directory exists and can be written.
      OutputFile probe(o.path);
    }
  }

 private:
  struct Entry {
    std::string what, path;
  };

  /// Whether a and b name one file: a regular file or directory that exists (same device and
  /// inode), or the same absolute path for files that do not exist yet. Standard streams and
  /// devices are never "the same file" as anything but their own spelling.
  static bool same_file(const std::string& a, const std::string& b) {
    if (a == "-" || b == "-") return false;
    struct stat sa, sb;
    const bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
    if (ea && eb) {
      const bool files = (S_ISREG(sa.st_mode) || S_ISDIR(sa.st_mode)) &&
                         (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode));
      return files && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    }
    if (ea != eb) return false;
    std::error_code ec1, ec2;
    const auto pa = std::filesystem::weakly_canonical(std::filesystem::absolute(a), ec1);
    const auto pb = std::filesystem::weakly_canonical(std::filesystem::absolute(b), ec2);
    return !ec1 && !ec2 && pa == pb;
  }

  std::vector<Entry> inputs_, outputs_;
};

// ---- Writing ----------------------------------------------------------------------------------

/// Writes to standard output; a failed write is a data_file_error naming `what`.
inline void write_stdout(const std::string& what, const std::function<void(std::ostream&)>& write) {
  std::cout.flush();
  emcluster::detail::FdStreambuf buffer(STDOUT_FILENO);
  std::ostream out(&buffer);
  write(out);
  out.flush();
  if (!buffer.flush() || !out) {
    const int e = buffer.error();
    throw emcluster::data_file_error::at_file(
        "standard output",
        "cannot write " + what + (e != 0 ? ": " + std::string(std::strerror(e)) : std::string()));
  }
}

/// One output of a command: where it goes ("-" = standard output) and how to write it.
struct Output {
  std::string path;
  std::string what;  // for messages: "the labels", "the model"
  std::function<void(std::ostream&)> write;
};

/// Writes the outputs: every file to its temporary first, then each renamed over its target
/// (so that a failure in any write leaves every target as it was), then standard output.
inline void write_outputs(const std::vector<Output>& outputs) {
  std::vector<std::unique_ptr<OutputFile>> files;
  for (const Output& o : outputs) {
    if (o.path.empty() || o.path == "-") continue;
    files.push_back(std::make_unique<OutputFile>(o.path));
    OutputFile& f = *files.back();
    try {
      o.write(f.stream());
    } catch (const std::exception&) {
      // A stream error says little; the failed write(2)'s reason says what happened.
      if (f.error() != 0) {
        throw emcluster::data_file_error::at_file(
            o.path, "cannot write " + o.what + ": " + std::strerror(f.error()));
      }
      throw;
    }
  }
  for (auto& f : files) f->commit();
  for (const Output& o : outputs) {
    if (o.path == "-") write_stdout(o.what, o.write);
  }
}

}  // namespace emcluster_cli
