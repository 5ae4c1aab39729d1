// What every page of pgchaos shares: its style and a bar chart.
#include "page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "invariant_list.h"

namespace pgchaos::reports {

const char* const kPageStyle = R"(
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:16px 0 4px}
.meta{color:#5b6475;font-size:13px}
.verdict{border-radius:8px;padding:16px 20px;margin:16px 0;color:#fff;font-size:19px;font-weight:600}
.verdict small{display:block;font-weight:400;font-size:14px;opacity:.95;margin-top:4px}
.valid{background:#1f7a44}.invalid{background:#b3261e}.unknown{background:#9a6700}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:20px}.card span{color:#5b6475;font-size:12px}
.bad b{color:#b3261e}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #dde1e7;padding:5px 8px;text-align:left;vertical-align:top}th{background:#eef1f5}
.pass{color:#1f7a44;font-weight:600}.fail{color:#b3261e;font-weight:600}.report{color:#9a6700;font-weight:600}.not_checked{color:#5b6475;font-weight:600}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid #dde1e7;border-radius:8px;margin:6px 0}
svg .title{font-size:14px;font-weight:600;fill:#1d2330}svg .axis{font-size:11px;fill:#5b6475}
svg .grid{stroke:#e6e9ee}svg .frame{fill:none;stroke:#c4cad3}svg .series{stroke-width:1.6}
svg .fault{fill:#f2b8b5;opacity:.45}svg .fault-label{font-size:10px;fill:#8c1d18}
svg .split{fill:#d50000;opacity:.35}svg .lane-label{font-size:11px;fill:#fff}svg .promotion{font-size:12px;fill:#1d2330}
.banner{border-radius:8px;padding:10px 16px;margin:-8px 0 16px;background:#fff4e5;border:1px solid #f0c36d;color:#6b4500;font-weight:600}
.refused{color:#9a6700;font-weight:600}
.strip{display:flex;gap:2px;flex-wrap:wrap;margin:6px 0}.strip a,.strip span{display:block;width:14px;height:22px;border-radius:2px}
.flag{color:#b3261e;font-weight:600}
td.cycle{font-family:ui-monospace,monospace;font-size:12px;white-space:nowrap}
.ids{font-family:ui-monospace,monospace;font-size:12px;word-break:break-word;background:#fff;border:1px solid #dde1e7;padding:8px;border-radius:6px}
pre{background:#fff;border:1px solid #dde1e7;padding:10px;border-radius:6px;overflow:auto;font-size:12px}
)";

const char* cause_color(const std::string& cause) {
  if (cause == "unexplained") return "#b3261e";
  if (cause == "split-brain") return "#7b1fa2";
  if (cause == "isolated-primary") return "#c2410c";
  if (cause == "async-lag") return "#9a6700";
  if (cause == "cancelled-sync-wait") return "#0e7490";
  return "#000";
}

const char* verdict_class(checker::Verdict verdict) {
  return verdict == checker::Verdict::valid ? "pass" : verdict == checker::Verdict::invalid ? "fail" : "report";
}

const char* verdict_color(checker::Verdict verdict) {
  return verdict == checker::Verdict::valid ? "#1f7a44" : verdict == checker::Verdict::invalid ? "#b3261e" : "#9a6700";
}

std::string cause_legend(const LostByCause& causes) {
  std::string html = "<p class=\"meta\">";
  for (const auto& [cause, n] : causes)
    if (n > 0) html += fmt::format("<span style=\"color:{}\">■</span> {} ({}) &nbsp; ", cause_color(cause), escape_markup(cause), n);
  return html + "</p>\n";
}

double nice_ceiling(double value) {
  if (value <= 0) return 1;
  const double magnitude = std::pow(10, std::floor(std::log10(value)));
  for (const double step : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

std::string bar_chart(const std::string& title, const std::string& unit, const std::vector<Bar>& bars) {
  constexpr double W = 960, H = 220, left = 56, right = 16, top = 28, bottom = 40;
  const double pw = W - left - right, ph = H - top - bottom;
  // Stacked bars: the height of a bar is the sum of its parts.
  double high = 0;
  for (const auto& b : bars) {
    double sum = 0;
    for (const auto& part : b.stack) sum += std::max(0.0, part.first);
    high = std::max(high, sum);
  }
  const double ceiling = nice_ceiling(high);
  std::string svg = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\"><text class=\"title\" x=\"{}\" "
      "y=\"18\">{}</text>\n",
      W, H, escape_markup(title), left, escape_markup(title));
  for (int i = 0; i <= 4; ++i) {
    const double y = top + ph - ph * i / 4;
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/><text class=\"axis\" "
                       "x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
                       left, W - right, y, y, left - 6, y + 4, ceiling * i / 4);
  }
  svg += fmt::format("<text class=\"axis\" x=\"12\" y=\"{:.1f}\" transform=\"rotate(-90 12 {:.1f})\" "
                     "text-anchor=\"middle\">{}</text>\n",
                     top + ph / 2, top + ph / 2, escape_markup(unit));
  const double slot = bars.empty() ? pw : pw / static_cast<double>(bars.size());
  const std::size_t label_every = std::max<std::size_t>(1, bars.size() / 24);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double x = left + slot * static_cast<double>(i) + slot * 0.15;
    double y = top + ph;
    for (const auto& [value, color] : bars[i].stack) {
      if (value <= 0) continue;
      const double h = ph * value / ceiling;
      y -= h;
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: "
                         "{:g} {}</title></rect>\n",
                         x, y, slot * 0.7, h, color, escape_markup(bars[i].label), value, escape_markup(unit));
    }
    if (i % label_every == 0)
      svg += fmt::format("<text class=\"axis\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                         x + slot * 0.35, top + ph + 14, escape_markup(bars[i].label));
  }
  svg += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></svg>\n", left, top, pw, ph);
  return svg;
}

std::string page_start(const std::string& title, const std::string& heading) {
  return fmt::format("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{}</style>"
                     "</head><body><main>\n<h1>{}</h1>\n",
                     escape_markup(title), kPageStyle, escape_markup(heading));
}

}  // namespace pgchaos::reports
