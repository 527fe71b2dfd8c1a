#pragma once
/// @file config_file.hpp
/// rtmp-server's configuration file: TOML 1.0, read with toml++ behind
/// CLI11's configuration interface, so the file and the command line set
/// the same settings; and the file `--print-config` writes, with secrets
/// redacted.

#include <CLI/CLI.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rtmp::server_app {

/// The TOML reader and writer CLI11 uses for `--config` and `config_to_str`.
///
/// Reading: every valid TOML document is accepted. Top-level keys are
/// settings: a string, integer, float or boolean gives one value; an array
/// (on one line or many) one value per element; an inline table, for the
/// `APP=VALUE` settings, one `KEY=VALUE` value per entry (an array value
/// joined with ','), so `record = { live = "all", talks = "audio" }` is
/// `record = ["live=all", "talks=audio"]`. A syntax error, a `[section]`
/// and a nested table throw `CLI::ConfigError` with "LINE:COLUMN: what".
///
/// Writing: every configurable option as `key=value`, with its description
/// as a comment, in the order of `--help`; secrets are written as
/// "<redacted>" unless `show_secrets(true)` (see `redact`).
class toml_config final : public CLI::Config {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;

  /// The line on which `key` was set in the file read last, if it was.
  std::optional<std::size_t> line_of(std::string_view key) const;

  /// The keys of the file read last, in the order of their lines.
  std::vector<std::string> keys_in_order() const;

  /// Writes secrets as they are (true) or redacted (false, the default).
  void show_secrets(bool on) noexcept { show_secrets_ = on; }

 private:
  mutable std::map<std::string, std::size_t, std::less<>> lines_;
  bool show_secrets_ = false;
};

/// The text written for a secret.
inline constexpr std::string_view redacted = "<redacted>";

/// `value` of setting `key` as `--print-config` shows it without
/// `--show-secrets`: the HTTP token whole; a token after `APP=`; the query
/// of a callback URL; the stream key and query of a push URL. Other values
/// are returned as they are.
std::string redact(std::string_view key, std::string_view value);

/// The access rules of `s` in the order given (for settings::access_order):
/// on the command line as parsed (`app.parse_order()`), then those of the
/// file (`file.keys_in_order()`) for the access keys the command line left.
std::vector<std::string> order_access_rules(const CLI::App& app, const toml_config& file);

/// The name among `candidates` nearest to `typed` (edit distance), when it
/// is near enough to be a likely typo; for "did you mean" hints.
std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace rtmp::server_app
