// Progress on stderr for the emcluster command: a live line (rewritten in place with '\r')
// when stderr is a terminal, plain lines otherwise, nothing with --quiet. Updates within the
// first second are not shown (a short fit prints only its summary); after that the live line
// is redrawn at most ten times a second and plain lines are written at most once a second.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace emcluster_cli {

class Progress {
 public:
  explicit Progress(bool quiet)
      : quiet_(quiet), tty_(isatty(fileno(stderr)) == 1), start_(Clock::now()) {}
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { clear(); }

  /// Seconds since construction.
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  /// A new state of the running computation (shown when due).
  void update(const std::string& text) {
    if (quiet_) return;
    const double t = elapsed();
    if (t < 1.0) return;
    if (t - last_ < (tty_ ? 0.1 : 1.0)) return;
    last_ = t;
    char time[32];
    std::snprintf(time, sizeof(time), " [%.1f s]", t);
    std::string line = text + time;
    if (tty_) {
      const std::size_t shown = line.size();
      if (line.size() < width_) line.append(width_ - line.size(), ' ');
      width_ = shown;
      std::fprintf(stderr, "\r%s", line.c_str());
      live_ = true;
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

  /// A line that stays (the summary, a note): the live line is cleared first.
  void say(const std::string& text) {
    if (quiet_) return;
    clear();
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }

  /// Removes the live line, if one is shown.
  void clear() {
    if (!live_) return;
    std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
    std::fflush(stderr);
    live_ = false;
    width_ = 0;
  }

  bool quiet() const { return quiet_; }

 private:
  using Clock = std::chrono::steady_clock;
  bool quiet_;
  bool tty_;
  Clock::time_point start_;
  double last_ = -1.0;
  bool live_ = false;
  std::size_t width_ = 0;
};

}  // namespace emcluster_cli
