#pragma once
// A page in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): each
// family's HELP and TYPE lines, then its samples. No I/O.

#include <cstdint>
#include <string>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace rtmp::http {

/// The kind of a metric family.
enum class metric_type { counter, gauge };

/// Builds one /metrics page. Call `family` once per metric name, then
/// `sample` for each of its series before the next family: the format wants
/// a family's samples together.
class prometheus_text {
 public:
  /// Starts family `name` of `type` with its one-line `help`.
  void family(std::string_view name, std::string_view help, metric_type type);

  /// A sample with an integer value, printed exactly. `labels` is empty or
  /// a `{k="v",...}` set made with `label_set`.
  void sample(std::string_view name, std::string_view labels, std::uint64_t value);

  /// A sample with a floating-point value (shortest form that reads back the same).
  void sample_double(std::string_view name, std::string_view labels, double value);

  /// The page so far; the builder is empty afterwards.
  std::string take() noexcept { return std::move(page_); }

  /// `{k1="v1",k2="v2"}` from name/value pairs, the values escaped
  /// (backslash, double quote, newline).
  static std::string label_set(std::initializer_list<std::pair<std::string_view, std::string_view>> labels);

 private:
  std::string page_;
};

}  // namespace rtmp::http
