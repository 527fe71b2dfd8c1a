#include "rtmp/http/response.hpp"

#include <algorithm>

#include "rtmp/http/request_parser.hpp"

namespace rtmp::http {
namespace {

bool is_managed_header(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "content-type") || iequals(name, "connection") ||
         iequals(name, "transfer-encoding") || iequals(name, "cache-control");
}

// RFC 9110 section 5.5: a field value holds VCHAR, obs-text, SP and HTAB only.
bool is_safe_value(std::string_view value) noexcept {
  return std::all_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7F);
  });
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// RFC 9110 section 6.4.1: 1xx, 204 and 304 responses have no content.
bool has_no_content(int status) noexcept { return status < 200 || status == 204 || status == 304; }

// Length of the valid UTF-8 sequence at the start of `s` (Unicode 15, table
// 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view s) noexcept {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return {};
  }
}

std::string serialize(const response& r) {
  const int status = (r.status >= 100 && r.status <= 599) ? r.status : 500;
  const bool no_content = has_no_content(status);
  std::string out;
  out.reserve(128 + r.content_type.size() + (no_content ? 0 : r.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  if (!r.content_type.empty() && is_safe_value(r.content_type)) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\n";
  }
  // RFC 9110 section 8.6: no Content-Length in 1xx and 204 responses; for 304
  // it would describe the selected representation, which we do not know.
  if (!no_content) {
    out += "Content-Length: ";
    out += std::to_string(r.body.size() + r.shared_body.size());
    out += "\r\n";
  }
  out += r.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "Cache-Control: ";
  out += is_safe_value(r.cache_control) && !r.cache_control.empty() ? r.cache_control : std::string("no-store");
  out += "\r\n";
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name) || is_managed_header(name) || !is_safe_value(value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  if (!no_content) out += r.body;
  return out;
}

std::string json_escape(std::string_view in) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() + in.size() / 8 + 2);
  while (!in.empty()) {
    const auto c = static_cast<unsigned char>(in.front());
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(in);
      if (n == 0) {
        out += "\\ufffd";
        in.remove_prefix(1);
      } else {
        out.append(in.substr(0, n));
        in.remove_prefix(n);
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    in.remove_prefix(1);
  }
  return out;
}

namespace {

response make_body(int status, std::string_view content_type, std::string body) {
  response r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

}  // namespace

response make_text(int status, std::string body) {
  return make_body(status, "text/plain; charset=utf-8", std::move(body));
}

response make_json(int status, std::string body) { return make_body(status, "application/json", std::move(body)); }

response make_error(int status, std::string_view message) {
  return make_json(status, "{\"error\": \"" + json_escape(message) + "\"}\n");
}

}  // namespace rtmp::http
