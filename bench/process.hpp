/// @file bench/process.hpp
/// @brief The driver's side of running workers: starting a worker through the shell and
/// reading its RESULT line, files and directories, and how busy the rest of the machine is
/// (other processes' CPU time during a run, waiting for quiet, the load average).
#pragma once

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker.hpp"

namespace emcluster_bench {

// ---- processes and files ----

/// `s` in single quotes for the shell (the paths used here contain no quotes).
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Runs a shell command and returns its stdout; its stderr is appended to the file `log`.
/// `status` receives pclose's status (-1 when the command could not be started).
inline std::string capture(const std::string& cmd, const std::string& log, int& status) {
  const std::string full = "{ " + cmd + " ; } 2>>" + quote(log);
  FILE* p = popen(full.c_str(), "r");
  std::string out;
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, got);
  status = pclose(p);
  return out;
}

/// The last line of a worker's output that starts with "RESULT ", or "" when there is none.
inline std::string result_line(const std::string& out) {
  std::istringstream in(out);
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.compare(0, 7, "RESULT ") == 0) found = line;
  }
  return found;
}

/// The value of key in a "RESULT k=v k=v" line, or "" when absent.
inline std::string field(const std::string& line, const std::string& key) {
  std::istringstream in(line);
  std::string tok;
  while (in >> tok) {
    if (tok.compare(0, key.size() + 1, key + "=") == 0) return tok.substr(key.size() + 1);
  }
  return "";
}

/// The path of the running program (from /proc/self/exe).
inline std::string self_exe() {
  char buf[4096];
  const ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (len <= 0) return "emcluster_compare";
  buf[len] = 0;
  return buf;
}

inline std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

inline bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// A new directory under $TMPDIR (or /tmp).
inline std::string make_temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string templ = std::string(tmp ? tmp : "/tmp") + "/emcluster-bench-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back(0);
  if (!mkdtemp(buf.data())) throw std::runtime_error("cannot create a temporary directory");
  return buf.data();
}

// ---- how busy the machine is ----

/// CPU seconds the whole machine has been busy (all cores, from /proc/stat).
inline double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// CPU seconds used by this process and its waited-for children (the workers).
inline double own_cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    total += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  return total;
}

/// Measures how much CPU other processes used while the benchmark ran: busy time of the
/// machine minus our own (driver + workers), as cores on average.
struct OtherLoad {
  double wall0 = now_seconds(), busy0 = machine_busy_seconds(), own0 = own_cpu_seconds();
  double wall() const { return now_seconds() - wall0; }
  double cpu_seconds() const {
    return std::max(0.0, (machine_busy_seconds() - busy0) - (own_cpu_seconds() - own0));
  }
  double cores() const { return wall() > 0 ? cpu_seconds() / wall() : 0.0; }
};

/// Other processes using more than this many cores during a run make its time suspect.
constexpr double kBusy = 0.1;

/// Waits (up to max_seconds) until other processes use less than kBusy cores over a second.
inline void wait_until_idle(double max_seconds) {
  const double start = now_seconds();
  while (now_seconds() - start < max_seconds) {
    const OtherLoad others;
    usleep(1000000);
    if (others.cores() < kBusy) return;
  }
}

/// The 1, 5 and 15 minute load averages, as "0.12 0.34 0.56".
inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  in >> one >> five >> fifteen;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%.2f %.2f %.2f", one, five, fifteen);
  return buf;
}

/// The CPU's model name from /proc/cpuinfo, "unknown" if absent.
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 10, "model name") == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace emcluster_bench
