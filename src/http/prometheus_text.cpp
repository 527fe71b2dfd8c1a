#include "http/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace rtmp::http {

void prometheus_text::family(std::string_view name, std::string_view help, metric_type type) {
  page_ += "# HELP ";
  page_ += name;
  page_ += ' ';
  page_ += help;
  page_ += "\n# TYPE ";
  page_ += name;
  page_ += type == metric_type::counter ? " counter\n" : " gauge\n";
}

void prometheus_text::sample(std::string_view name, std::string_view labels, std::uint64_t value) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  page_ += name;
  page_ += labels;
  page_ += ' ';
  page_.append(buf, end);
  page_ += '\n';
}

void prometheus_text::sample_double(std::string_view name, std::string_view labels, double value) {
  page_ += name;
  page_ += labels;
  page_ += ' ';
  if (std::isnan(value)) {
    page_ += "NaN";
  } else if (std::isinf(value)) {
    page_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    page_.append(buf, end);
  }
  page_ += '\n';
}

std::string prometheus_text::label_set(
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  std::string out = "{";
  for (const auto& [key, value] : labels) {
    if (out.size() > 1) out += ',';
    out += key;
    out += "=\"";
    for (const char c : value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace rtmp::http
