// The Prometheus text builder behind /metrics: family headers, integer
// samples printed exactly, doubles in their shortest form, label escaping.
#include "http/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace rtmp::http {
namespace {

TEST(prometheus_text, families_and_samples_in_the_exposition_format) {
  prometheus_text page;
  page.family("a_total", "Things counted.", metric_type::counter);
  page.sample("a_total", R"({k="v"})", std::uint64_t{42});
  page.family("b", "A level.", metric_type::gauge);
  page.sample_double("b", "", 0.5);
  EXPECT_EQ(page.take(),
            "# HELP a_total Things counted.\n# TYPE a_total counter\na_total{k=\"v\"} 42\n"
            "# HELP b A level.\n# TYPE b gauge\nb 0.5\n");
  EXPECT_EQ(page.take(), "") << "take() empties the builder";
}

TEST(prometheus_text, integers_are_exact_and_doubles_shortest) {
  prometheus_text page;
  page.sample("big", "", std::numeric_limits<std::uint64_t>::max());
  page.sample_double("whole", "", 640.0);
  page.sample_double("third", "", 1.0 / 3.0);
  page.sample_double("nan", "", std::nan(""));
  page.sample_double("inf", "", std::numeric_limits<double>::infinity());
  EXPECT_EQ(page.take(),
            "big 18446744073709551615\nwhole 640\nthird 0.3333333333333333\nnan NaN\ninf +Inf\n");
}

TEST(prometheus_text, label_values_are_escaped) {
  EXPECT_EQ(prometheus_text::label_set({{"app", "live"}, {"stream", "a\"b\\c\nd"}}),
            R"({app="live",stream="a\"b\\c\nd"})");
  EXPECT_EQ(prometheus_text::label_set({}), "{}");
}

}  // namespace
}  // namespace rtmp::http
