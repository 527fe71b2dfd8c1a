// rtmp::http::request_parser: framing, strictness, limits, splitting,
// pipelining, keep-alive and percent-decoding.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "rtmp/error.hpp"
#include "rtmp/http/request_parser.hpp"

namespace {

using rtmp::http::parse_result;
using rtmp::http::parse_status;
using rtmp::http::request_limits;
using rtmp::http::request_parser;

// One parse outcome, comparable across feeding strategies.
struct outcome {
  parse_status state = parse_status::need_more;
  std::size_t used = 0;
  int status = 0;
  std::error_code error;
  rtmp::http::request req;
};

outcome whole(std::string_view text, request_limits limits = {}) {
  request_parser p(limits);
  const parse_result r = p.consume(text);
  outcome o{r.state, r.used, r.status, r.error, {}};
  if (r.state == parse_status::complete) o.req = p.request();
  return o;
}

outcome byte_at_a_time(std::string_view text, request_limits limits = {}) {
  request_parser p(limits);
  outcome o;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const parse_result r = p.consume(text.substr(i, 1));
    o.used += r.used;
    if (r.state != parse_status::need_more) {
      o.state = r.state;
      o.status = r.status;
      o.error = r.error;
      if (r.state == parse_status::complete) o.req = p.request();
      return o;
    }
    EXPECT_EQ(r.used, 1u);
  }
  return o;
}

void expect_same(const outcome& a, const outcome& b) {
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.used, b.used);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.req.method, b.req.method);
  EXPECT_EQ(a.req.target, b.req.target);
  EXPECT_EQ(a.req.path, b.req.path);
  EXPECT_EQ(a.req.query, b.req.query);
  EXPECT_EQ(a.req.headers, b.req.headers);
  EXPECT_EQ(a.req.body, b.req.body);
  EXPECT_EQ(a.req.keep_alive, b.req.keep_alive);
}

// Parses `text` both ways, checks they agree, and returns the outcome.
outcome parse(std::string_view text, request_limits limits = {}) {
  const outcome a = whole(text, limits);
  const outcome b = byte_at_a_time(text, limits);
  expect_same(a, b);
  return a;
}

int status_of(std::string_view text, request_limits limits = {}) {
  const outcome o = parse(text, limits);
  EXPECT_EQ(o.state, parse_status::error) << text;
  return o.status;
}

constexpr std::string_view get_metrics = "GET /metrics HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n";

TEST(http_request_parser, parses_a_simple_get) {
  const outcome o = parse(get_metrics);
  ASSERT_EQ(o.state, parse_status::complete);
  EXPECT_EQ(o.used, get_metrics.size());
  EXPECT_EQ(o.req.method, "GET");
  EXPECT_EQ(o.req.target, "/metrics");
  EXPECT_EQ(o.req.path, "/metrics");
  EXPECT_EQ(o.req.query, "");
  ASSERT_EQ(o.req.headers.size(), 3u);
  EXPECT_EQ(o.req.headers[0].first, "Host");
  EXPECT_EQ(o.req.headers[0].second, "localhost:8080");
  EXPECT_TRUE(o.req.body.empty());
  EXPECT_TRUE(o.req.keep_alive);
  EXPECT_EQ(o.req.version_minor, 1);
}

TEST(http_request_parser, parses_a_post_with_body_and_bearer_token) {
  const std::string text =
      "POST /api/streams/live/demo/kick HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cr3t\r\n"
      "Content-Length: 11\r\nContent-Type: application/json\r\n\r\n{\"why\":\"x\"}";
  const outcome o = parse(text);
  ASSERT_EQ(o.state, parse_status::complete);
  EXPECT_EQ(o.used, text.size());
  EXPECT_EQ(o.req.method, "POST");
  EXPECT_EQ(o.req.path, "/api/streams/live/demo/kick");
  EXPECT_EQ(o.req.body, "{\"why\":\"x\"}");
  EXPECT_EQ(o.req.header("authorization"), "Bearer s3cr3t");
}

TEST(http_request_parser, needs_more_until_the_body_is_complete) {
  request_parser p;
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
  auto r = p.consume(head);
  EXPECT_EQ(r.state, parse_status::need_more);
  EXPECT_EQ(r.used, head.size());
  r = p.consume(std::string_view("abc"));
  EXPECT_EQ(r.state, parse_status::need_more);
  EXPECT_EQ(r.used, 3u);
  r = p.consume(std::string_view("deGET"));
  EXPECT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.used, 2u);  // "GET" stays for the next request
  EXPECT_EQ(p.request().body, "abcde");
}

TEST(http_request_parser, header_lookup_is_case_insensitive_and_values_are_trimmed) {
  const outcome o = parse("GET / HTTP/1.1\r\nhOsT: \t example \t\r\nX-Empty:\r\nX-Dup: a\r\nx-dup: b\r\n\r\n");
  ASSERT_EQ(o.state, parse_status::complete);
  EXPECT_EQ(o.req.header("HOST"), "example");
  EXPECT_EQ(o.req.header("host"), "example");
  EXPECT_EQ(o.req.header("x-empty"), "");
  EXPECT_EQ(o.req.header("X-DUP"), "a");  // the first one
  EXPECT_FALSE(o.req.header("missing").has_value());
  EXPECT_FALSE(o.req.header("hos").has_value());
  EXPECT_EQ(o.req.headers[0].first, "hOsT");  // names kept as sent
}

TEST(http_request_parser, byte_at_a_time_equals_whole_for_many_inputs) {
  const std::vector<std::string> inputs = {
      std::string(get_metrics),
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
      "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\nHost: x\n\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET /%zz HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n",
      "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n",
  };
  for (const auto& in : inputs) {
    SCOPED_TRACE(in.substr(0, 60));
    parse(in);  // compares both ways
  }
}

TEST(http_request_parser, pipelined_requests_leave_the_rest_unconsumed) {
  const std::string first = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "POST /api/streams/live/a/kick HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok";
  const std::string third = "GET /api/streams HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string all = first + second + third;

  request_parser p;
  std::string_view rest = all;
  std::vector<rtmp::http::request> got;
  while (!rest.empty()) {
    const auto r = p.consume(rest);
    ASSERT_EQ(r.state, parse_status::complete);
    got.push_back(p.take_request());
    rest.remove_prefix(r.used);
    // Sticky until reset: nothing more is used.
    const auto again = p.consume(rest);
    EXPECT_EQ(again.state, parse_status::complete);
    EXPECT_EQ(again.used, 0u);
    p.reset();
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].path, "/healthz");
  EXPECT_EQ(got[1].path, "/api/streams/live/a/kick");
  EXPECT_EQ(got[1].body, "ok");
  EXPECT_EQ(got[2].path, "/api/streams");
  EXPECT_TRUE(got[1].keep_alive);
  EXPECT_FALSE(got[2].keep_alive);

  // The same stream fed one byte at a time gives the same requests.
  request_parser q;
  std::vector<rtmp::http::request> got2;
  for (const char c : all) {
    const auto r = q.consume(std::string_view(&c, 1));
    ASSERT_NE(r.state, parse_status::error);
    ASSERT_EQ(r.used, 1u);
    if (r.state == parse_status::complete) {
      got2.push_back(q.take_request());
      q.reset();
    }
  }
  ASSERT_EQ(got2.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].path, got2[i].path);
    EXPECT_EQ(got[i].headers, got2[i].headers);
    EXPECT_EQ(got[i].body, got2[i].body);
  }
}

TEST(http_request_parser, keep_alive_rules) {
  auto ka = [](std::string_view text) {
    const outcome o = parse(text);
    EXPECT_EQ(o.state, parse_status::complete) << text;
    return o.req.keep_alive;
  };
  EXPECT_TRUE(ka("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(ka("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(ka("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n"));
}

TEST(http_request_parser, percent_decodes_the_path_but_not_the_query) {
  const outcome o = parse("GET /api/streams/li%76e/my%20stream?x=%41&y=b+c HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(o.state, parse_status::complete);
  EXPECT_EQ(o.req.target, "/api/streams/li%76e/my%20stream?x=%41&y=b+c");
  EXPECT_EQ(o.req.path, "/api/streams/live/my stream");
  EXPECT_EQ(o.req.query, "x=%41&y=b+c");

  const outcome q = parse("GET /a?b?c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(q.req.path, "/a");
  EXPECT_EQ(q.req.query, "b?c");

  const outcome e = parse("GET /?  HTTP/1.1\r\nHost: x\r\n\r\n");  // two spaces: malformed
  EXPECT_EQ(e.state, parse_status::error);

  const outcome u = parse("GET /%c3%A9t%C3%a9 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(u.req.path, "/\xc3\xa9t\xc3\xa9");
}

TEST(http_request_parser, rejects_bad_percent_escapes_and_non_absolute_paths) {
  for (const char* target : {"/%00", "/a%0", "/a%", "/%G1", "/%1G", "/a%2Fb", "/a%2fb", "*", "a/b",
                             "http://host/metrics", "host:80", "/a#frag", "/\x7f", "/\x80"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(status_of(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  }
}

TEST(http_request_parser, percent_decode_function) {
  using rtmp::http::percent_decode;
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("%41%62%7e+"), "Ab~+");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%ff"), "\xff");
  EXPECT_FALSE(percent_decode("%00").has_value());
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%4").has_value());
  EXPECT_FALSE(percent_decode("%4g").has_value());
  EXPECT_FALSE(percent_decode("a%2Fb", true).has_value());
  EXPECT_EQ(percent_decode("a%2Fb", false), "a/b");
}

TEST(http_request_parser, malformed_requests_get_400) {
  const std::vector<std::string> bad = {
      "GET / HTTP/1.1\nHost: x\n\n",                              // bare LF
      "GET / HTTP/1.1\r\nHost: x\n\r\n",                          // bare LF in a header line
      "GET / HTTP/1.1\r\nHost: x\r\r\n\r\n",                      // bare CR
      "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n",                      // bare CR in the request line
      "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",                       // double space
      "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",                       // trailing space
      " GET / HTTP/1.1\r\nHost: x\r\n\r\n",                       // leading space
      "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",                       // tab separator
      "GET /\r\n\r\n",                                            // HTTP/0.9 style
      "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",                        // method not a token
      "GET / http/1.1\r\nHost: x\r\n\r\n",                        // version is case-sensitive
      "GET / HTTP/1.10\r\nHost: x\r\n\r\n",                       // malformed version
      "GET / HTTP/1\r\nHost: x\r\n\r\n",                          // malformed version
      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",             // obs-fold
      "GET / HTTP/1.1\r\nHost: x\r\n\tfolded\r\n\r\n",            // obs-fold with tab
      "GET / HTTP/1.1\r\n Host: x\r\n\r\n",                       // whitespace before the first field
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",                       // space before colon
      "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",             // no colon
      "GET / HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",        // empty name
      "GET / HTTP/1.1\r\nHost: x\r\nBad\"Name: v\r\n\r\n",        // name not a token
      std::string("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 36),  // NUL in value
      "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01" "b\r\n\r\n",       // CTL in value
      "GET / HTTP/1.1\r\n\r\n",                                   // HTTP/1.1 without Host
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",             // two Host fields
      "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",             // two Host fields (1.0)
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3,\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const auto& in : bad) {
    SCOPED_TRACE(in);
    const outcome o = parse(in);
    EXPECT_EQ(o.state, parse_status::error);
    EXPECT_EQ(o.status, 400);
    EXPECT_EQ(o.error, rtmp::errc::http_malformed);
    EXPECT_EQ(o.error, rtmp::condition::protocol_violation);
  }
}

TEST(http_request_parser, identical_duplicate_content_lengths_are_one_value) {
  const outcome a = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc");
  ASSERT_EQ(a.state, parse_status::complete);
  EXPECT_EQ(a.req.body, "abc");
  const outcome b = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\ncontent-length: 003\r\n\r\nabc");
  ASSERT_EQ(b.state, parse_status::complete);
  EXPECT_EQ(b.req.body, "abc");
}

TEST(http_request_parser, ignores_empty_lines_before_the_request_line) {
  const outcome o = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(o.state, parse_status::complete);
  EXPECT_EQ(o.req.path, "/");
  request_limits l;
  l.max_request_line = 14;  // "GET / HTTP/1.0"; empty lines may add up to as much
  std::string seven;
  for (int i = 0; i < 7; ++i) seven += "\r\n";
  EXPECT_EQ(parse(seven + "GET / HTTP/1.0\r\n\r\n", l).state, parse_status::complete);
  EXPECT_EQ(status_of(seven + "\r\nGET / HTTP/1.0\r\n\r\n", l), 400);
}

TEST(http_request_parser, transfer_encoding_gets_501) {
  for (const char* te : {"chunked", "gzip, chunked", "identity"}) {
    const outcome o = parse(std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + te + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(o.state, parse_status::error);
    EXPECT_EQ(o.status, 501);
    EXPECT_EQ(o.error, rtmp::errc::http_transfer_coding_unsupported);
  }
  request_parser p;
  const auto r = p.consume(std::string_view("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_NE(r.detail.find("chunked"), std::string_view::npos);
  EXPECT_NE(r.detail.find("not supported"), std::string_view::npos);
}

TEST(http_request_parser, other_versions_get_505) {
  for (const char* v : {"HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0", "HTTP/9.9"}) {
    const outcome o = parse(std::string("GET / ") + v + "\r\nHost: x\r\n\r\n");
    EXPECT_EQ(o.status, 505) << v;
    EXPECT_EQ(o.error, rtmp::errc::http_version_unsupported);
  }
}

TEST(http_request_parser, huge_content_length_gets_413_at_once) {
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n";
  request_parser p;
  const auto r = p.consume(head);  // no body bytes at all: decided from the header
  EXPECT_EQ(r.state, parse_status::error);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.error, rtmp::errc::http_body_too_large);
  EXPECT_EQ(r.error, rtmp::condition::resource_limit);
  // Larger than 64 bits: still 413, not 400.
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999999\r\n\r\n"), 413);
}

TEST(http_request_parser, body_limit_exactly_and_one_over) {
  request_limits l;
  l.max_body = 16;
  const outcome ok = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n" + std::string(16, 'b'), l);
  ASSERT_EQ(ok.state, parse_status::complete);
  EXPECT_EQ(ok.req.body.size(), 16u);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'b'), l), 413);
  // Default: 65536.
  const outcome d = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" + std::string(65536, 'b'));
  EXPECT_EQ(d.state, parse_status::complete);
  EXPECT_EQ(whole("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n").status, 413);
}

TEST(http_request_parser, request_line_limit_exactly_and_one_over) {
  const request_limits l;  // 8192
  const std::string fixed = "GET / HTTP/1.1";  // 14 bytes; pad the target
  const std::string at = "GET /" + std::string(l.max_request_line - fixed.size(), 'a') + " HTTP/1.1";
  ASSERT_EQ(at.size(), l.max_request_line);
  const outcome ok = parse(at + "\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.state, parse_status::complete);
  const std::string over = "GET /" + std::string(l.max_request_line - fixed.size() + 1, 'a') + " HTTP/1.1";
  const outcome o = parse(over + "\r\nHost: x\r\n\r\n");
  EXPECT_EQ(o.status, 414);
  EXPECT_EQ(o.error, rtmp::errc::http_uri_too_long);

  // Detected before the line ends: an endless line is refused early, and the
  // parser never buffers more than the limit plus CRLF.
  request_parser p;
  const std::string endless(100000, 'a');
  const auto r = p.consume(endless);
  EXPECT_EQ(r.state, parse_status::error);
  EXPECT_EQ(r.status, 414);
  EXPECT_EQ(r.used, l.max_request_line + 1);  // the first byte over
}

TEST(http_request_parser, header_bytes_limit_exactly_and_one_over) {
  request_limits l;
  l.max_header_bytes = 64;
  // "Host: x\r\n" is 9 bytes; "X: " + value + "\r\n" fills the rest to exactly 64.
  const std::string at = "Host: x\r\nX: " + std::string(64 - 9 - 5, 'v') + "\r\n";
  ASSERT_EQ(at.size(), 64u);
  const outcome ok = parse("GET / HTTP/1.1\r\n" + at + "\r\n", l);
  EXPECT_EQ(ok.state, parse_status::complete);
  const std::string over = "Host: x\r\nX: " + std::string(64 - 9 - 5 + 1, 'v') + "\r\n";
  const outcome o = parse("GET / HTTP/1.1\r\n" + over + "\r\n", l);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(o.error, rtmp::errc::http_headers_too_large);
  // One more field line of one byte after the full section: over as well.
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n" + at + "Y\r\n\r\n", l), 431);

  // Default limit: 16384 bytes.
  const request_limits d;
  const std::string big = "Host: x\r\nX: " + std::string(d.max_header_bytes - 9 - 5, 'v') + "\r\n";
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n" + big + "\r\n").state, parse_status::complete);
  const std::string bigger = "Host: x\r\nX: " + std::string(d.max_header_bytes - 9 - 5 + 1, 'v') + "\r\n";
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n" + bigger + "\r\n"), 431);
}

TEST(http_request_parser, header_count_limit_exactly_and_one_over) {
  const request_limits l;  // 64 fields
  std::string at = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (std::size_t i = 1; i < l.max_headers; ++i) at += "X-" + std::to_string(i) + ": v\r\n";
  const outcome ok = parse(at + "\r\n");
  ASSERT_EQ(ok.state, parse_status::complete);
  EXPECT_EQ(ok.req.headers.size(), l.max_headers);
  const outcome o = parse(at + "X-last: v\r\n\r\n");
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(o.error, rtmp::errc::http_headers_too_large);
}

TEST(http_request_parser, errors_are_sticky_until_reset) {
  request_parser p;
  auto r = p.consume(std::string_view("GET / HTTP/2.0\r\n"));
  ASSERT_EQ(r.state, parse_status::error);
  r = p.consume(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(r.state, parse_status::error);
  EXPECT_EQ(r.status, 505);
  EXPECT_EQ(r.used, 0u);
  p.reset();
  r = p.consume(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(r.state, parse_status::complete);
}

TEST(http_request_parser, obs_text_in_values_and_any_token_method) {
  const outcome o = parse("PURGE /x HTTP/1.1\r\nHost: x\r\nX-Name: caf\xc3\xa9 \x80\xff\r\n\r\n");
  ASSERT_EQ(o.state, parse_status::complete);
  EXPECT_EQ(o.req.method, "PURGE");
  EXPECT_EQ(o.req.header("x-name"), "caf\xc3\xa9 \x80\xff");
}

TEST(http_request_parser, error_codes_have_messages) {
  for (auto e : {rtmp::errc::http_malformed, rtmp::errc::http_body_too_large, rtmp::errc::http_uri_too_long,
                 rtmp::errc::http_headers_too_large, rtmp::errc::http_transfer_coding_unsupported,
                 rtmp::errc::http_version_unsupported}) {
    const std::string m = std::error_code(e).message();
    EXPECT_EQ(m.rfind("HTTP: ", 0), 0u) << m;
  }
}

}  // namespace
