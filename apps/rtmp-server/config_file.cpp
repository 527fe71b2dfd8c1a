// The TOML configuration file (see config_file.hpp).
#include "config_file.hpp"

#include "config.hpp"
#include "rtmp/net/relay.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

namespace rtmp::server_app {

namespace {

// One TOML value as a setting's text (strings unquoted).
std::optional<std::string> scalar_text(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out << f->get();
    return out.str();
  }
  return std::nullopt;  // date, time, array, table
}

[[noreturn]] void fail_at(const toml::node& node, std::string_view key, const std::string& what) {
  const auto& begin = node.source().begin;
  throw CLI::ConfigError(std::to_string(begin.line) + ":" + std::to_string(begin.column) + ": " + std::string(key) +
                         ": " + what);
}

std::string scalar_or_fail(const toml::node& node, std::string_view key) {
  auto text = scalar_text(node);
  if (!text) fail_at(node, key, "a date or time is not a setting value");
  return *text;
}

// An array's elements (scalars) as setting values.
void array_inputs(const toml::array& array, std::string_view key, std::vector<std::string>& out) {
  for (const auto& element : array) {
    if (element.is_array() || element.is_table()) fail_at(element, key, "an array here holds strings or numbers");
    out.push_back(scalar_or_fail(element, key));
  }
}

// An inline table's entries as "KEY=VALUE" values (an array value joined with ',').
void table_inputs(const toml::table& table, std::string_view key, std::vector<std::string>& out) {
  for (const auto& [entry_key, value] : table) {
    std::string text(entry_key.str());
    text += '=';
    if (const auto* array = value.as_array()) {
      std::vector<std::string> parts;
      array_inputs(*array, key, parts);
      for (std::size_t i = 0; i < parts.size(); ++i) text += (i > 0 ? "," : "") + parts[i];
    } else if (value.is_table()) {
      fail_at(value, key, "a table inside a table is not a setting value");
    } else {
      text += scalar_or_fail(value, key);
    }
    out.push_back(std::move(text));
  }
}

// A callback URL with its query (which may carry a token) redacted.
std::string redact_query(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q + 1)) + std::string(redacted);
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char hex[] = "0123456789ABCDEF";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// A setting's value as TOML: an integer option's value bare, everything
// else a string; several values as an array.
std::string toml_value(const std::vector<std::string>& values, bool integer) {
  const auto one = [integer](const std::string& v) {
    const bool digits = !v.empty() && std::all_of(v.begin() + (v[0] == '-' ? 1 : 0), v.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
    return integer && digits && v != "-" ? v : toml_string(v);
  };
  if (values.size() == 1) return one(values.front());
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i > 0 ? ", " : "") + one(values[i]);
  return out + "]";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<CLI::ConfigItem> toml_config::from_config(std::istream& input) const {
  lines_.clear();
  const std::string text((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  toml::table doc;
  try {
    doc = toml::parse(text);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    throw CLI::ConfigError(std::to_string(begin.line) + ":" + std::to_string(begin.column) + ": " +
                           std::string(e.description()));
  }
  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, node] : doc) {
    const std::string name(key.str());
    lines_[name] = node.source().begin.line;
    CLI::ConfigItem item;
    item.name = name;
    if (const auto* table = node.as_table()) {
      if (!table->is_inline()) fail_at(node, name, "unknown section [" + name + "] (keys go at the top level)");
      table_inputs(*table, name, item.inputs);
    } else if (const auto* array = node.as_array()) {
      array_inputs(*array, name, item.inputs);
    } else {
      item.inputs.push_back(scalar_or_fail(node, name));
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<std::string> toml_config::keys_in_order() const {
  std::vector<std::pair<std::size_t, std::string>> by_line;
  for (const auto& [key, line] : lines_) by_line.emplace_back(line, key);
  std::sort(by_line.begin(), by_line.end());
  std::vector<std::string> keys;
  for (auto& [line, key] : by_line) keys.push_back(std::move(key));
  return keys;
}

std::vector<std::string> order_access_rules(const CLI::App& app, const toml_config& file) {
  std::vector<std::string> ordered;
  std::map<const CLI::Option*, std::size_t> taken;  // results used so far, per option
  const auto action_of = [&](const CLI::Option* opt) -> const char* {
    for (const auto& k : access_keys) {
      if (opt == app.get_option_no_throw(std::string("--") + k.key)) return k.action;
    }
    return nullptr;
  };
  for (const CLI::Option* opt : app.parse_order()) {
    const char* action = action_of(opt);
    if (action == nullptr) continue;
    const std::size_t i = taken[opt]++;
    if (i < opt->results().size()) ordered.push_back(std::string(action) + " " + opt->results()[i]);
  }
  for (const auto& key : file.keys_in_order()) {
    const CLI::Option* opt = app.get_option_no_throw("--" + key);
    const char* action = opt != nullptr ? action_of(opt) : nullptr;
    if (action == nullptr || taken.contains(opt)) continue;  // the command line's values replaced the file's
    for (const auto& value : opt->results()) {
      if (!value.empty()) ordered.push_back(std::string(action) + " " + value);
    }
  }
  return ordered;
}

std::optional<std::size_t> toml_config::line_of(std::string_view key) const {
  const auto it = lines_.find(key);
  if (it == lines_.end()) return std::nullopt;
  return it->second;
}

std::string toml_config::to_config(const CLI::App* app, bool default_also, bool write_description,
                                   std::string prefix) const {
  std::ostringstream out;
  if (write_description) out << "# " << CLI::detail::fix_newlines("# ", app->get_description()) << '\n';
  for (const CLI::Option* opt : app->get_options({})) {
    if (!opt->get_configurable()) continue;
    const std::string name = prefix + opt->get_single_name();
    std::vector<std::string> values = opt->reduced_results();
    if (values.empty()) {
      if (!default_also) continue;
      values.push_back(opt->get_default_str());
    }
    if (!show_secrets_) {
      for (auto& v : values) v = redact(name, v);
    }
    const std::string value = toml_value(values, opt->get_type_name() == "INT");
    if (write_description && opt->has_description()) {
      out << "\n# " << CLI::detail::fix_newlines("# ", opt->get_description()) << '\n';
    }
    out << name << '=' << value << '\n';
  }
  return out.str();
}

std::string redact(std::string_view key, std::string_view value) {
  if (value.empty()) return std::string(value);
  if (key == "http-token") return std::string(redacted);
  if (key == "publish-token" || key == "play-token") {
    const auto eq = value.find('=');
    return eq == std::string_view::npos ? std::string(redacted)
                                        : std::string(value.substr(0, eq + 1)) + std::string(redacted);
  }
  if (key == "on-publish" || key == "on-play" || key == "on-connect" || key == "on-record-done") {
    return redact_query(value);
  }
  if (key == "push") {
    const auto eq = value.find('=');
    if (eq == std::string_view::npos) return net::redact_stream_key(value);
    return std::string(value.substr(0, eq + 1)) + net::redact_stream_key(value.substr(eq + 1));
  }
  return std::string(value);
}

std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(typed, c);
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // A typo: a few edits, and fewer than half the name.
  if (!best || best_distance == 0 || best_distance > 3 || best_distance * 2 > typed.size()) return std::nullopt;
  return best;
}

}  // namespace rtmp::server_app
