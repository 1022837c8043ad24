// Progress on stderr for the emcluster command: what the command is doing now (a phase: reading
// a file, seeding, an iteration, a candidate) with the time it has run, shown by a ticker
// thread for every phase once the command has run a second, so a long phase is never silent;
// nothing with --quiet. On a terminal one live line, rewritten in place with '\r' ten times a
// second; otherwise plain lines, when the phase changes (at most once a second) and every five
// seconds while it lasts. Lines that stay (summaries, notes) clear the live line first.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace emcluster_cli {

class Progress {
 public:
  explicit Progress(bool quiet)
      : quiet_(quiet), tty_(isatty(fileno(stderr)) == 1), start_(Clock::now()) {
    if (!quiet_) ticker_ = std::thread([this] { tick(); });
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() {
    if (ticker_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      ticker_.join();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    clear_locked();
  }

  /// Seconds since construction.
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  /// What is being done now (shown by the ticker while it lasts).
  void update(const std::string& text) {
    if (quiet_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (text != phase_) {
      phase_ = text;
      changed_ = true;
    }
  }

  /// A line that stays (the summary, a note): the live line is cleared first.
  void say(const std::string& text) {
    if (quiet_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    clear_locked();
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }

  /// Removes the live line, if one is shown, and forgets the phase.
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    clear_locked();
    phase_.clear();
  }

  bool quiet() const { return quiet_; }

 private:
  using Clock = std::chrono::steady_clock;

  void tick() {
    std::unique_lock<std::mutex> lock(mutex_);
    double last_line = -1e9;
    const auto period = std::chrono::milliseconds(tty_ ? 100 : 250);
    while (!stop_) {
      wake_.wait_for(lock, period);
      if (stop_ || phase_.empty()) continue;
      const double t = elapsed();
      if (t < 1.0) continue;
      char time[32];
      std::snprintf(time, sizeof(time), " [%.1f s]", t);
      const std::string line = phase_ + time;
      if (tty_) {
        const std::size_t shown = line.size();
        std::string padded = line;
        if (padded.size() < width_) padded.append(width_ - padded.size(), ' ');
        width_ = shown;
        std::fprintf(stderr, "\r%s", padded.c_str());
        live_ = true;
      } else {
        // A plain line when the phase changed (at most once a second), and every 5 s.
        if (!((changed_ && t - last_line >= 1.0) || t - last_line >= 5.0)) continue;
        std::fprintf(stderr, "%s\n", line.c_str());
        last_line = t;
      }
      changed_ = false;
      std::fflush(stderr);
    }
  }

  void clear_locked() {
    if (!live_) return;
    std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
    std::fflush(stderr);
    live_ = false;
    width_ = 0;
  }

  bool quiet_;
  bool tty_;
  Clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread ticker_;
  bool stop_ = false;
  std::string phase_;
  bool changed_ = false;
  bool live_ = false;
  std::size_t width_ = 0;
};

}  // namespace emcluster_cli
