// rtmp::http::response: serialization, header hygiene, JSON escaping, and
// responses read back with a small client-side parser.

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rtmp/http/request_parser.hpp"
#include "rtmp/http/response.hpp"

namespace {

using rtmp::http::json_escape;
using rtmp::http::response;
using rtmp::http::serialize;

// A parsed response (client side), strict: CRLF lines, one status line,
// "name: value" fields, body of exactly Content-Length bytes.
struct parsed_response {
  std::string version;
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    std::optional<std::string> found;
    for (const auto& [n, v] : headers) {
      if (rtmp::http::iequals(n, name)) {
        EXPECT_FALSE(found.has_value()) << "duplicate header " << name;
        found = v;
      }
    }
    return found;
  }
};

std::optional<parsed_response> parse_response(std::string_view in) {
  parsed_response r;
  const std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  std::string_view head = in.substr(0, head_end + 2);
  std::string_view body = in.substr(head_end + 4);
  auto next_line = [&]() {
    const std::size_t e = head.find("\r\n");
    const std::string_view line = head.substr(0, e);
    head.remove_prefix(e + 2);
    return line;
  };
  const std::string_view status_line = next_line();
  if (status_line.size() < 13 || status_line[8] != ' ' || status_line[12] != ' ') return std::nullopt;
  r.version = std::string(status_line.substr(0, 8));
  r.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  r.reason = std::string(status_line.substr(13));
  while (!head.empty()) {
    const std::string_view line = next_line();
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) return std::nullopt;
    const std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos) return std::nullopt;
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
  }
  if (const auto cl = r.header("content-length")) {
    if (std::to_string(body.size()) != *cl) return std::nullopt;
  } else if (!body.empty()) {
    return std::nullopt;
  }
  r.body = std::string(body);
  return r;
}

TEST(http_response, serializes_status_line_and_framing_headers) {
  response r = rtmp::http::make_text(200, "ok\n");
  const std::string s = serialize(r);
  EXPECT_EQ(s,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Connection: keep-alive\r\n"
            "Cache-Control: no-store\r\n"
            "\r\n"
            "ok\n");
  r.keep_alive = false;
  const auto p = parse_response(serialize(r));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header("connection"), "close");
}

TEST(http_response, serialized_responses_parse_back) {
  for (int status : {200, 201, 400, 401, 404, 405, 413, 414, 431, 500, 501, 503, 505}) {
    response r = rtmp::http::make_json(status, "{\"streams\": []}");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    r.headers.emplace_back("Allow", "GET, POST");
    const auto p = parse_response(serialize(r));
    ASSERT_TRUE(p) << status;
    EXPECT_EQ(p->version, "HTTP/1.1");
    EXPECT_EQ(p->status, status);
    EXPECT_EQ(p->reason, rtmp::http::reason_phrase(status));
    EXPECT_FALSE(p->reason.empty());
    EXPECT_EQ(p->header("content-type"), "application/json");
    EXPECT_EQ(p->header("cache-control"), "no-store");
    EXPECT_EQ(p->header("connection"), "keep-alive");
    EXPECT_EQ(p->header("www-authenticate"), "Bearer");
    EXPECT_EQ(p->header("allow"), "GET, POST");
    EXPECT_EQ(p->body, "{\"streams\": []}");
  }
}

TEST(http_response, reason_phrases) {
  EXPECT_EQ(rtmp::http::reason_phrase(200), "OK");
  EXPECT_EQ(rtmp::http::reason_phrase(404), "Not Found");
  EXPECT_EQ(rtmp::http::reason_phrase(413), "Content Too Large");
  EXPECT_EQ(rtmp::http::reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(rtmp::http::reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(rtmp::http::reason_phrase(299), "");
  // Unknown code: "HTTP/1.1 299 " with the space (RFC 9112 section 4).
  response r;
  r.status = 299;
  EXPECT_EQ(serialize(r).rfind("HTTP/1.1 299 \r\n", 0), 0u);
  // Out of range: 500.
  r.status = 42;
  EXPECT_EQ(serialize(r).rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u);
  r.status = 1000;
  EXPECT_EQ(serialize(r).rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST(http_response, no_content_statuses_have_no_body_or_length) {
  response r = rtmp::http::make_text(204, "ignored");
  const std::string s = serialize(r);
  EXPECT_EQ(s.find("Content-Length"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 4), "\r\n\r\n");
  EXPECT_EQ(s.find("ignored"), std::string::npos);
  r.status = 304;
  EXPECT_EQ(serialize(r).find("ignored"), std::string::npos);
}

TEST(http_response, empty_body_has_content_length_zero) {
  response r;
  r.status = 200;
  const auto p = parse_response(serialize(r));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header("content-length"), "0");
  EXPECT_FALSE(p->header("content-type").has_value());
}

TEST(http_response, unsafe_and_managed_extra_headers_are_left_out) {
  response r = rtmp::http::make_text(200, "x");
  r.headers = {
      {"X-Ok", "fine"},
      {"X-Split", "a\r\nSet-Cookie: evil=1"},
      {"X-Lf", "a\nb"},
      {std::string("X-Nul"), std::string("a\0b", 3)},
      {"Bad Name", "v"},
      {"", "v"},
      {"Content-Length", "999"},
      {"connection", "upgrade"},
      {"Transfer-Encoding", "chunked"},
      {"Cache-Control", "max-age=60"},
      {"Content-Type", "text/html"},
      {"X-Tab", "a\tb"},
  };
  const std::string s = serialize(r);
  EXPECT_EQ(s.find("evil"), std::string::npos);
  EXPECT_EQ(s.find("X-Split"), std::string::npos);
  EXPECT_EQ(s.find("X-Lf"), std::string::npos);
  EXPECT_EQ(s.find("X-Nul"), std::string::npos);
  EXPECT_EQ(s.find("Bad Name"), std::string::npos);
  EXPECT_EQ(s.find("999"), std::string::npos);
  EXPECT_EQ(s.find("upgrade"), std::string::npos);
  EXPECT_EQ(s.find("chunked"), std::string::npos);
  EXPECT_EQ(s.find("max-age"), std::string::npos);
  EXPECT_EQ(s.find("text/html"), std::string::npos);
  const auto p = parse_response(s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header("x-ok"), "fine");
  EXPECT_EQ(p->header("x-tab"), "a\tb");
  EXPECT_EQ(p->header("content-length"), "1");

  response bad_type = rtmp::http::make_text(200, "x");
  bad_type.content_type = "text/plain\r\nX-Injected: 1";
  EXPECT_EQ(serialize(bad_type).find("X-Injected"), std::string::npos);
}

TEST(http_response, json_escape_handles_specials_and_controls) {
  EXPECT_EQ(json_escape(""), "");
  EXPECT_EQ(json_escape("plain text /path"), "plain text /path");
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
  EXPECT_EQ(json_escape(std::string_view("\0\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
  EXPECT_EQ(json_escape("</script>"), "</script>");
}

TEST(http_response, json_escape_keeps_valid_utf8_and_replaces_invalid) {
  EXPECT_EQ(json_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5");
  EXPECT_EQ(json_escape("\xef\xbf\xbf"), "\xef\xbf\xbf");        // U+FFFF is a valid scalar value
  EXPECT_EQ(json_escape("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");  // U+10FFFF
  EXPECT_EQ(json_escape("\x80"), "\\ufffd");                      // stray continuation byte
  EXPECT_EQ(json_escape("a\xc3"), "a\\ufffd");                    // truncated
  EXPECT_EQ(json_escape("\xc0\xaf"), "\\ufffd\\ufffd");           // overlong '/'
  EXPECT_EQ(json_escape("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd"); // overlong
  EXPECT_EQ(json_escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd"); // surrogate D800
  EXPECT_EQ(json_escape("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  EXPECT_EQ(json_escape("\xff\xfe"), "\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("\xe2\x82"), "\\ufffd\\ufffd");           // truncated 3-byte sequence
}

TEST(http_response, make_error_builds_an_escaped_json_body) {
  const response r = rtmp::http::make_error(404, "no stream \"live/x\"\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{\"error\": \"no stream \\\"live/x\\\"\\n\"}\n");
  EXPECT_TRUE(r.keep_alive);
  const auto p = parse_response(serialize(r));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 404);
  EXPECT_EQ(p->reason, "Not Found");
  EXPECT_EQ(p->body, r.body);
}

TEST(http_response, parser_errors_become_error_responses) {
  rtmp::http::request_parser parser;
  const auto res = parser.consume(std::string_view("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_EQ(res.state, rtmp::http::parse_status::error);
  response r = rtmp::http::make_error(res.status, res.detail);
  r.keep_alive = false;
  const auto p = parse_response(serialize(r));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 501);
  EXPECT_EQ(p->reason, "Not Implemented");
  EXPECT_EQ(p->header("connection"), "close");
  EXPECT_NE(p->body.find("not supported"), std::string::npos);
}

TEST(http_response, make_text_and_make_json) {
  const response t = rtmp::http::make_text(200, "# HELP x\n");
  EXPECT_EQ(t.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(t.body, "# HELP x\n");
  const response j = rtmp::http::make_json(201, "{}");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(j.body, "{}");
}

}  // namespace
