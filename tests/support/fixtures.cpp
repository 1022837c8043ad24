#include "fixtures.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace emcluster_test {

namespace {

std::ifstream open(const std::string& name) {
  std::ifstream in(data_path(name));
  if (!in) throw std::runtime_error("cannot open " + data_path(name));
  return in;
}

void expect(bool ok, const std::string& file, const std::string& what) {
  if (!ok) throw std::runtime_error(file + ": " + what);
}

}  // namespace

std::string data_path(const std::string& name) {
  return std::string(EMCLUSTER_TEST_DATA_DIR) + "/" + name;
}

Eigen::MatrixXd read_csv(const std::string& name) {
  std::ifstream in = open(name);
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    std::vector<double> row;
    double v = 0;
    while (fields >> v) row.push_back(v);
    rows.push_back(row);
  }
  expect(!rows.empty(), name, "no rows");
  Eigen::MatrixXd M(static_cast<Eigen::Index>(rows.size()),
                    static_cast<Eigen::Index>(rows[0].size()));
  for (Eigen::Index i = 0; i < M.rows(); ++i) {
    const auto& row = rows[static_cast<std::size_t>(i)];
    expect(static_cast<Eigen::Index>(row.size()) == M.cols(), name,
           "row " + std::to_string(i) + " is ragged");
    for (Eigen::Index j = 0; j < M.cols(); ++j) M(i, j) = row[static_cast<std::size_t>(j)];
  }
  return M;
}

std::vector<KMeansCase> read_kmeans_cases(Eigen::Index n) {
  const std::string file = "kmeans_sklearn_cases.txt";
  std::ifstream in = open(file);
  std::vector<KMeansCase> cases;
  std::string token;
  auto read_matrix = [&](Eigen::Index rows, Eigen::Index cols) {
    Eigen::MatrixXd M(rows, cols);
    for (Eigen::Index i = 0; i < rows; ++i) {
      for (Eigen::Index j = 0; j < cols; ++j) in >> M(i, j);
    }
    return M;
  };
  auto key = [&](const char* expected) {
    std::string k;
    in >> k;
    expect(k == expected, file, "expected '" + std::string(expected) + "', read '" + k + "'");
  };
  while (in >> token) {
    if (token == "#") {
      std::getline(in, token);
      continue;
    }
    expect(token == "case", file, "expected 'case', read '" + token + "'");
    KMeansCase c;
    Eigen::Index k = 0, d = 0;
    int weighted = 0;
    in >> c.name;
    key("weighted");
    in >> weighted;
    key("tol");
    in >> c.tol;
    key("k");
    in >> k;
    key("d");
    in >> d;
    c.weighted = weighted != 0;
    key("init");
    c.init = read_matrix(k, d);
    key("centers");
    c.centers = read_matrix(k, d);
    key("inertia");
    in >> c.inertia;
    key("n_iter");
    in >> c.n_iter;
    key("labels");
    c.labels.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) in >> c.labels(i);
    key("end");
    expect(bool(in), file, "case " + c.name + " is cut short");
    cases.push_back(c);
  }
  return cases;
}

std::vector<MixtureCase> read_mixture_cases() {
  const std::string file = "gmm_sklearn_cases.txt";
  std::ifstream in = open(file);
  std::vector<MixtureCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string key;
    ss >> key;
    if (key == "case") {
      cases.emplace_back();
      std::string k, v;
      ss >> v;
      cases.back().header["name"] = v;
      while (ss >> k >> v) cases.back().header[k] = v;
    } else if (key != "end") {
      expect(!cases.empty(), file, "'" + key + "' before the first case");
      std::vector<double> nums;
      std::string tok;
      while (ss >> tok) nums.push_back(std::stod(tok));
      cases.back().values[key] = nums;
    }
  }
  return cases;
}

emcluster::CovarianceType parse_covariance_type(const std::string& s) {
  using emcluster::CovarianceType;
  if (s == "full") return CovarianceType::full;
  if (s == "tied") return CovarianceType::tied;
  if (s == "diag") return CovarianceType::diagonal;
  if (s == "spherical") return CovarianceType::spherical;
  throw std::runtime_error("unknown covariance type '" + s + "'");
}

Eigen::MatrixXd sklearn_block(const std::vector<double>& v, emcluster::CovarianceType type,
                              Eigen::Index d, Eigen::Index j) {
  using emcluster::CovarianceType;
  const double* p = v.data() + 1;  // v[0] is the count
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(d, d);
  switch (type) {
    case CovarianceType::full:
      p += j * d * d;
      [[fallthrough]];
    case CovarianceType::tied:
      for (Eigen::Index r = 0; r < d; ++r) {
        for (Eigen::Index c = 0; c < d; ++c) out(r, c) = p[r * d + c];
      }
      break;
    case CovarianceType::diagonal:
      for (Eigen::Index r = 0; r < d; ++r) out(r, r) = p[j * d + r];
      break;
    case CovarianceType::spherical:
      for (Eigen::Index r = 0; r < d; ++r) out(r, r) = p[j];
      break;
  }
  return out;
}

std::vector<Eigen::MatrixXd> compact_precisions(const std::vector<double>& v,
                                                emcluster::CovarianceType type, Eigen::Index k,
                                                Eigen::Index d) {
  using emcluster::CovarianceType;
  std::vector<Eigen::MatrixXd> out;
  switch (type) {
    case CovarianceType::full:
      for (Eigen::Index j = 0; j < k; ++j) out.push_back(sklearn_block(v, type, d, j));
      break;
    case CovarianceType::tied:
      out.push_back(sklearn_block(v, type, d, 0));
      break;
    case CovarianceType::diagonal:
      for (Eigen::Index j = 0; j < k; ++j) out.push_back(sklearn_block(v, type, d, j).diagonal());
      break;
    case CovarianceType::spherical:
      for (Eigen::Index j = 0; j < k; ++j)
        out.push_back(Eigen::MatrixXd::Constant(1, 1, v[1 + static_cast<std::size_t>(j)]));
      break;
  }
  return out;
}

Eigen::MatrixXd as_matrix(const std::vector<double>& v, Eigen::Index rows, Eigen::Index cols) {
  Eigen::MatrixXd out(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < cols; ++c) out(r, c) = v[static_cast<std::size_t>(r * cols + c)];
  }
  return out;
}

}  // namespace emcluster_test
