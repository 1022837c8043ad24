/// @file detail/io/atomic_file.hpp
/// @brief AtomicFile: a file that is replaced whole or not at all, for every writer of
/// emcluster (save_model, write_csv, write_npy, the emcluster command).
///
/// The bytes go to a new temporary file in the target's directory (`.NAME.tmp-PID-N`, created
/// exclusively, with the permissions a new file gets, or the existing target's); commit()
/// flushes it, `fsync`s it, closes it and renames it over the target, then `fsync`s the
/// directory. Until that rename the target is untouched; after it, the target is the whole new
/// file. So a reader sees the old file or the new one, never a part: after a kill at any moment
/// (a SIGKILL leaves the temporary behind; the target is still whole), a full disk (the write or
/// the fsync fails, the temporary is removed, the target kept), or two writers (each renames its
/// own complete file; the last rename wins).
///
/// A target that is a symbolic link is resolved: the file it points to is replaced and the link
/// kept. A target that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
/// written directly, since there is nothing to replace. A directory is an error.
///
/// Without POSIX (`<unistd.h>`), the temporary is written by std::ofstream and renamed by
/// std::filesystem::rename, without the fsyncs.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <string>
#include <system_error>
#include <utility>

#if defined(__unix__) || defined(__unix) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#define EMCLUSTER_POSIX_FILES 1
#else
#include <fstream>
#endif

#include "../../exceptions.hpp"

namespace emcluster::detail {

#if defined(EMCLUSTER_POSIX_FILES)

/// A std::streambuf writing to a POSIX file descriptor with write(2): 64 KiB buffered, EINTR
/// retried, the first failure's errno kept (error()) and every later write refused. It never
/// closes the descriptor.
class FdStreambuf : public std::streambuf {
 public:
  explicit FdStreambuf(int fd = -1) : fd_(fd) { setp(buffer_, buffer_ + sizeof(buffer_)); }
  FdStreambuf(const FdStreambuf&) = delete;
  FdStreambuf& operator=(const FdStreambuf&) = delete;
  ~FdStreambuf() override = default;

  /// Writes to fd from now on (the buffer must be empty); clears the error.
  void reset(int fd) {
    fd_ = fd;
    error_ = 0;
    setp(buffer_, buffer_ + sizeof(buffer_));
  }
  /// The errno of the first failed write (0: none).
  int error() const { return error_; }
  /// Writes out what is buffered; false (error() set) when that fails.
  bool flush() { return sync() == 0; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n >= static_cast<std::streamsize>(sizeof(buffer_))) {
      // Large pieces bypass the buffer (a model file is written in one piece).
      if (!drain() || !write_all(s, static_cast<std::size_t>(n))) return 0;
      return n;
    }
    return std::streambuf::xsputn(s, n);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const auto n = static_cast<std::size_t>(pptr() - pbase());
    setp(buffer_, buffer_ + sizeof(buffer_));
    return write_all(buffer_, n);
  }
  bool write_all(const char* p, std::size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      if (w == 0) {
        error_ = EIO;
        return false;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  int fd_;
  int error_ = 0;
  char buffer_[1 << 16];
};

#endif

/// A file written to a temporary beside `target` and renamed over it by commit() (see the
/// file's description). Not copyable or movable; the destructor removes the temporary of an
/// AtomicFile that was not committed. Errors are data_file_error naming the target.
class AtomicFile {
 public:
  /// Resolves the target and creates its temporary (so a directory that does not exist or
  /// cannot be written is an error now, before anything is computed).
  explicit AtomicFile(std::string target) : target_(std::move(target)) {
    if (target_.empty()) fail("an empty file name");
    open();
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { abandon(); }

  /// Where the bytes go until commit().
  std::ostream& stream() { return stream_; }
  /// The target as given.
  const std::string& target() const { return target_; }
  /// The temporary file's path (empty when the target is written directly, or after commit()).
  const std::string& temporary_path() const { return temporary_; }
  /// The errno of the first failed write to stream() (0: none so far).
  int error() const {
#if defined(EMCLUSTER_POSIX_FILES)
    return buffer_.error();
#else
    return 0;
#endif
  }

  /// Makes the written bytes the target's: flush, fsync, close, rename, fsync the directory.
  /// On failure the temporary is removed, the target left as it was, and data_file_error
  /// thrown with the reason (a full disk: "No space left on device").
  void commit() {
    if (committed_) return;
#if defined(EMCLUSTER_POSIX_FILES)
    stream_.flush();
    if (!buffer_.flush() || !stream_) fail_and_abandon("write failed", buffer_.error());
    if (!direct_ && ::fsync(fd_) != 0 && errno != EINVAL && errno != ENOTSUP) {
      fail_and_abandon("write failed (fsync)", errno);
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && errno != EINTR) {
      fail_and_abandon("write failed (close)", errno);
    }
    if (!direct_) {
      if (::rename(temporary_.c_str(), final_.c_str()) != 0) {
        fail_and_abandon("cannot replace the file", errno);
      }
      temporary_.clear();
      const std::string dir = directory_of(final_);
      const int dfd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);  // the rename on disk; some file systems refuse it (harmless)
        ::close(dfd);
      }
    }
#else
    stream_.flush();
    if (!stream_) fail_and_abandon("write failed", 0);
    stream_.close();
    if (!stream_) fail_and_abandon("write failed (close)", 0);
    std::error_code ec;
    std::filesystem::rename(temporary_, final_, ec);
    if (ec) fail_and_abandon("cannot replace the file: " + ec.message(), 0);
    temporary_.clear();
#endif
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(const std::string& what, int error = 0) const {
    throw data_file_error::at_file(target_, error != 0 ? what + ": " + std::strerror(error) : what);
  }
  [[noreturn]] void fail_and_abandon(const std::string& what, int error) {
    abandon();
    fail(what, error);
  }

  static std::string directory_of(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
  }

  /// A name for the temporary, unique in this process (the pid makes it unique among
  /// processes).
  std::string temporary_name(unsigned attempt) const {
    static std::atomic<std::uint64_t> counter{0};
    const std::filesystem::path p(final_);
    std::string name = "." + p.filename().string() + ".tmp-";
#if defined(EMCLUSTER_POSIX_FILES)
    name += std::to_string(static_cast<long long>(::getpid())) + "-";
#endif
    name += std::to_string(counter.fetch_add(1) + attempt);
    return (p.parent_path() / name).string();
  }

  /// The file the rename must replace: the target, or where its symbolic links lead.
  void resolve() {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status link = fs::symlink_status(target_, ec);
    final_ = target_;
    if (!ec && fs::is_symlink(link)) {
      const fs::path real = fs::canonical(target_, ec);
      if (ec) fail("a symbolic link to a file or directory that does not exist");
      final_ = real.string();
    }
    const fs::file_status status = fs::status(final_, ec);
    if (!ec && fs::is_directory(status)) fail("is a directory, not a file");
    direct_ = !ec && fs::exists(status) && !fs::is_regular_file(status);
    if (!direct_) {
      const fs::path dir = fs::path(final_).parent_path();
      if (!dir.empty() && !fs::is_directory(dir, ec)) {
        fail(fs::exists(dir, ec) ? dir.string() + " is not a directory"
                                 : "the directory " + dir.string() + " does not exist");
      }
    }
  }

#if defined(EMCLUSTER_POSIX_FILES)
  void open() {
    resolve();
    if (direct_) {
      // A device or a FIFO: written as it is (nothing to replace).
      fd_ = ::open(final_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0) fail("cannot open for writing", errno);
    } else {
      struct stat existing;
      const bool replace = ::stat(final_.c_str(), &existing) == 0;
      for (unsigned attempt = 0; fd_ < 0; ++attempt) {
        temporary_ = temporary_name(attempt);
        fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd_ < 0 && (errno != EEXIST || attempt >= 100)) {
          const int error = errno;
          temporary_.clear();
          fail("cannot create a file in " + directory_of(final_), error);
        }
      }
      if (replace) {
        // The replaced file's permissions and (where allowed) owner.
        (void)::fchmod(fd_, existing.st_mode & 07777);
        if (::fchown(fd_, existing.st_uid, existing.st_gid) != 0) {
          (void)::fchmod(fd_, existing.st_mode & 0777);
        }
      }
    }
    buffer_.reset(fd_);
    stream_.rdbuf(&buffer_);
    stream_.clear();
  }

  void abandon() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!temporary_.empty()) {
      ::unlink(temporary_.c_str());
      temporary_.clear();
    }
  }

  int fd_ = -1;
  FdStreambuf buffer_;
  std::ostream stream_{nullptr};
#else
  void open() {
    resolve();
    if (direct_) {
      stream_.open(final_, std::ios::binary);
    } else {
      temporary_ = temporary_name(0);
      stream_.open(temporary_, std::ios::binary | std::ios::trunc);
    }
    if (!stream_) {
      temporary_.clear();
      fail("cannot open for writing", errno);
    }
  }

  void abandon() noexcept {
    if (stream_.is_open()) stream_.close();
    if (!temporary_.empty()) {
      std::error_code ec;
      std::filesystem::remove(temporary_, ec);
      temporary_.clear();
    }
  }

  std::ofstream stream_;
#endif

  std::string target_;
  std::string final_;
  std::string temporary_;
  bool direct_ = false;
  bool committed_ = false;
};

/// Writes a file whole or not at all: `write(std::ostream&)` fills an AtomicFile of `path`,
/// which is then committed.
template <typename Write>
void write_file_atomically(const std::string& path, Write&& write) {
  AtomicFile file(path);
  write(file.stream());
  file.commit();
}

}  // namespace emcluster::detail
