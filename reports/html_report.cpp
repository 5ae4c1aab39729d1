// report.html: one self-contained file (inline CSS and SVG, no script, no network) that reads well on a screen
// and on paper.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "invariant_list.h"
#include "page.h"
#include "common/text.h"
#include "reports/reports.h"

namespace pgchaos::reports {
namespace {

// " (19:25:19.136 UTC)": a moment of the run on the wall clock, for a tooltip; "" when the run's clock is unknown.
std::string utc_suffix(std::int64_t time_zero_wall_us, std::int64_t ns) {
  if (time_zero_wall_us == 0) return "";
  const std::string text = common::utc_millis(time_zero_wall_us + ns / 1000);  // 2026-12-06T19:25:19.136Z
  return " (" + text.substr(11, 12) + " UTC)";
}

struct Series {
  std::string name, color;
  std::vector<double> values;  // one per second; negative: no data that second (drawn as a gap)
};

// A line chart over the run's seconds with the fault windows shaded and labelled.
std::string chart(const std::string& title, const std::string& unit, const std::vector<Series>& series,
                  double duration_s, const std::vector<checker::FaultImpact>& faults, std::int64_t time_zero_wall_us) {
  constexpr double W = 960, H = 250, left = 56, right = 16, top = 28, bottom = 34;
  const double pw = W - left - right, ph = H - top - bottom;
  double y_max = 0;
  for (const auto& s : series)
    for (const double v : s.values) y_max = std::max(y_max, v);
  y_max = nice_ceiling(y_max * 1.05);
  const double x_max = std::max(1.0, duration_s);
  auto x = [&](double t) { return left + pw * std::clamp(t / x_max, 0.0, 1.0); };
  auto y = [&](double v) { return top + ph * (1 - std::clamp(v / y_max, 0.0, 1.0)); };

  std::string svg = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
      "<text x=\"{}\" y=\"18\" class=\"title\">{}</text>\n",
      W, H, escape_markup(title), left, escape_markup(title));
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const auto& f = faults[i].fault;
    const double start = static_cast<double>(f.start_ns) / 1e9;
    const double end = f.end_ns < 0 ? x_max : static_cast<double>(f.end_ns) / 1e9;
    const double x0 = x(start), x1 = std::max(x(end), x0 + 2);
    svg += fmt::format("<rect class=\"fault\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\"><title>{} on {}: {:.1f}–{:.1f} s{}</title></rect>\n",
                       x0, top, x1 - x0, ph, escape_markup(f.fault), escape_markup(f.target), start, end,
                       utc_suffix(time_zero_wall_us, f.start_ns));
    svg += fmt::format("<text class=\"fault-label\" x=\"{:.1f}\" y=\"{}\">{} {}</text>\n", x0 + 2,
                       top + 10 + static_cast<double>(i % 3) * 11, escape_markup(f.fault), escape_markup(f.target));
  }
  for (int i = 0; i <= 4; ++i) {
    const double v = y_max * i / 4;
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/><text class=\"axis\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
                       left, left + pw, y(v), y(v), left - 6, y(v) + 4, v);
  }
  const double x_step = nice_ceiling(x_max / 8);
  for (double t = 0; t <= x_max + 1e-9; t += x_step)
    svg += fmt::format("<text class=\"axis\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}s</text>\n", x(t), H - 14, t);
  svg += fmt::format("<text class=\"axis\" x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>\n",
                     top + ph / 2, top + ph / 2, escape_markup(unit));
  double legend_x = left + pw - 8;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    legend_x -= 9.0 * static_cast<double>(it->name.size()) + 24;
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"9\" width=\"12\" height=\"4\" fill=\"{}\"/><text class=\"axis\" x=\"{:.1f}\" y=\"16\">{}</text>\n",
                       legend_x, it->color, legend_x + 16, escape_markup(it->name));
  }
  // At most ~1500 points a line: long runs are reduced to the maximum of each stride, so spikes stay visible.
  // Seconds without data split the line, so an outage shows as a gap, not as zero latency.
  for (const auto& s : series) {
    const std::size_t stride = std::max<std::size_t>(1, s.values.size() / 1500);
    std::string points;
    auto flush = [&] {
      if (!points.empty())
        svg += fmt::format("<polyline class=\"series\" fill=\"none\" stroke=\"{}\" points=\"{}\"/>\n", s.color, points);
      points.clear();
    };
    for (std::size_t i = 0; i < s.values.size(); i += stride) {
      double v = -1;
      for (std::size_t j = i; j < std::min(s.values.size(), i + stride); ++j) v = std::max(v, s.values[j]);
      if (v < 0) {
        flush();
        continue;
      }
      points += fmt::format("{:.1f},{:.1f} ", x(static_cast<double>(i) + 0.5), y(v));
    }
    flush();
    if (s.values.size() <= 120)  // a short run: its few points are marked, so a single second still shows
      for (std::size_t i = 0; i < s.values.size(); ++i)
        if (s.values[i] >= 0) svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>", x(static_cast<double>(i) + 0.5),
                           y(s.values[i]), s.color);
  }
  svg += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n</svg>\n", left, top, pw, ph);
  return svg;
}

// One lane per node over the run: primary / replica / down / unreachable with timeline numbers; fault windows,
// split-brain intervals in red, promotions, and lost ops as ticks coloured by cause.
std::string swimlanes(const checker::CheckResult& r, std::int64_t time_zero_wall_us) {
  if (r.lanes.empty()) return "<p>No watcher observations (no nodes configured): the cluster's story is not known.</p>\n";
  constexpr double W = 960, left = 70, right = 16, top = 24, lane_h = 26, gap = 8;
  const double pw = W - left - right;
  const double lanes_h = static_cast<double>(r.lanes.size()) * (lane_h + gap);
  const double ticks_y = top + lanes_h + 4, H = ticks_y + 40;
  const double x_max = std::max(1.0, r.duration_s);
  auto x = [&](std::int64_t ns) { return left + pw * std::clamp(static_cast<double>(ns) / 1e9 / x_max, 0.0, 1.0); };
  std::string svg = fmt::format(
      "<svg class=\"chart lanes\" viewBox=\"0 0 {} {:.0f}\" role=\"img\" aria-label=\"nodes over time\" xmlns=\"http://www.w3.org/2000/svg\">\n"
      "<text x=\"{}\" y=\"16\" class=\"title\">Nodes over time (watcher)</text>\n",
      W, H, left);
  for (const auto& f : r.faults) {
    const double x0 = x(f.fault.start_ns), x1 = std::max(x(f.fault.end_ns < 0 ? static_cast<std::int64_t>(x_max * 1e9) : f.fault.end_ns), x0 + 2);
    svg += fmt::format("<rect class=\"fault\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.0f}\"><title>fault {}: {} on {}{}</title></rect>\n",
                       x0, top - 4, x1 - x0, lanes_h + 4, f.fault.id, escape_markup(f.fault.fault), escape_markup(f.fault.target),
                       utc_suffix(time_zero_wall_us, f.fault.start_ns));
  }
  static constexpr std::pair<const char*, const char*> kStateColors[] = {
      {"primary", "#1f7a44"}, {"replica", "#2f6fdf"}, {"down", "#8a93a3"}, {"unreachable", "#d4d8df"}};
  for (std::size_t i = 0; i < r.lanes.size(); ++i) {
    const auto& lane = r.lanes[i];
    const double y = top + static_cast<double>(i) * (lane_h + gap);
    svg += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, y + lane_h / 2 + 4,
                       escape_markup(lane.node));
    for (const auto& sgm : lane.segments) {
      const char* color = "#d4d8df";
      for (const auto& [state, c] : kStateColors)
        if (sgm.state == state) color = c;
      const double x0 = x(sgm.start_ns), w = std::max(1.0, x(sgm.end_ns) - x0);
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"><title>{} {}, timeline {}: {:.1f}–{:.1f} s</title></rect>",
                         x0, y, w, lane_h, color, escape_markup(lane.node), sgm.state, sgm.timeline,
                         static_cast<double>(sgm.start_ns) / 1e9, static_cast<double>(sgm.end_ns) / 1e9);
      if (w > 18 && sgm.timeline > 0)
        svg += fmt::format("<text class=\"lane-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", x0 + 3, y + lane_h / 2 + 4,
                           sgm.timeline);
      svg += "\n";
    }
  }
  for (const auto& b : r.split_brains) {
    const double x0 = x(b.start_ns), x1 = std::max(x(b.end_ns), x0 + 3);
    svg += fmt::format("<rect class=\"split\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.0f}\"><title>{}</title></rect>\n", x0,
                       top - 4, x1 - x0, lanes_h + 4, escape_markup(b.text));
  }
  for (const auto& p : r.promotions)
    svg += fmt::format("<text class=\"promotion\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">▼<title>{} promoted at {:.1f} s{} (timeline {})</title></text>\n",
                       x(p.at_ns), top - 6, escape_markup(p.node), static_cast<double>(p.at_ns) / 1e9,
                       utc_suffix(time_zero_wall_us, p.at_ns), p.timeline);
  svg += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">lost</text>\n", left - 6, ticks_y + 12);
  const std::size_t stride = std::max<std::size_t>(1, r.lost_ops.size() / 2000);  // at most ~2000 ticks
  for (std::size_t i = 0; i < r.lost_ops.size(); i += stride) {
    const auto& l = r.lost_ops[i];
    svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"><title>op {4}: {5}</title></line>", x(l.acknowledged_ns),
                       ticks_y, ticks_y + 16, cause_color(checker::to_string(l.cause)), l.op, checker::to_string(l.cause));
  }
  double legend_x = left;
  for (const auto& [state, color] : kStateColors) {
    svg += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"12\" height=\"8\" fill=\"{}\"/><text class=\"axis\" x=\"{:.0f}\" y=\"{:.0f}\">{}</text>",
                       legend_x, H - 14, color, legend_x + 16, H - 6, state);
    legend_x += 95;
  }
  for (const auto cause : checker::kLossCauses) {
    if (r.count_lost(cause) == 0) continue;
    svg += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"3\" height=\"10\" fill=\"{}\"/><text class=\"axis\" x=\"{:.0f}\" y=\"{:.0f}\">{}</text>",
                       legend_x, H - 15, cause_color(checker::to_string(cause)), legend_x + 7, H - 6, checker::to_string(cause));
    legend_x += 120;
  }
  svg += "\n</svg>\n";
  return svg;
}

std::string ids_block(const char* title, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return "";
  return fmt::format("<h3>{} ({})</h3><p class=\"ids\">{}</p>\n", title, ids.size(), escape_markup(first_ids(ids, 1000)));
}


}  // namespace

// "replay of DIR by node", from run.json, or "".
std::string replay_note(const std::string& run_json) {
  const auto j = nlohmann::json::parse(run_json, nullptr, false);
  if (!j.is_object() || !j.contains("replay") || !j["replay"].is_object()) return "";
  return fmt::format(" · replay of {} by {}", j["replay"].value("of", "?"), j["replay"].value("by", "role"));
}

namespace {

// The list-append workload's anomalies: a table per kind, each cycle as its chain of transactions and dependencies.
std::string isolation_section(const checker::IsolationCheck& c) {
  std::string html = fmt::format(
      "<h2>Isolation</h2>\n<p class=\"meta\">{} transactions ({} reads, {} appends on {} keys), {} dependencies; asked "
      "for <b>{}</b>; the history is consistent with <b>{}</b> at most (orders of sessions and real time aside).</p>\n",
      c.transactions, c.reads, c.appends, c.keys, c.edges, escape_markup(c.isolation), escape_markup(c.strongest_level));
  if (c.anomaly_counts.empty()) html += "<p class=\"pass\">No anomaly.</p>\n";
  for (const auto& [kind, n] : c.anomaly_counts) {
    std::size_t shown = 0;
    const auto judgement = c.judged(kind);
    const bool fails = judgement.fails > 0, from_loss = judgement.from_loss > 0;
    const bool ordering = kind.find("-process") != std::string::npos || kind.find("-realtime") != std::string::npos;
    const std::string judged = fails ? "forbidden at " + c.isolation
                               : from_loss ? "forbidden at " + c.isolation + ", but each follows from a lost commit: judged as that loss is"
                               : ordering  ? "reported: an order of sessions or real time, which no isolation level promises"
                                           : "reported: " + c.isolation + " allows it";
    html += fmt::format("<h3 id=\"anomaly-{0}\">{0}: {1} <span class=\"{2}\">({3})</span></h3>\n<table class=\"anomalies\">"
                        "<tr><th>transactions</th><th>dependencies</th><th>what it means</th></tr>\n",
                        escape_markup(kind), n, fails ? "fail" : "report", escape_markup(judged));
    for (const auto& a : c.anomalies) {
      if (a.kind != kind) continue;
      ++shown;
      // A long cycle shows its first steps; report.json has it whole.
      constexpr std::size_t kShown = 12;
      std::string chain, transactions;
      for (std::size_t i = 0; i < a.edges.size() && i < kShown; ++i) chain += (i ? "<br>" : "") + escape_markup(a.edges[i]);
      if (a.edges.size() > kShown) chain += fmt::format("<br>… {} more", a.edges.size() - kShown);
      for (std::size_t i = 0; i < a.transactions.size() && i < kShown; ++i)
        transactions += fmt::format("{}T{}", i ? " → " : "", a.transactions[i]);
      if (a.transactions.size() > kShown) transactions += fmt::format(" → … ({} in all)", a.transactions.size());
      else if (!a.edges.empty() && !a.transactions.empty()) transactions += fmt::format(" → T{}", a.transactions.front());
      html += fmt::format("<tr><td>{}</td><td class=\"cycle\">{}</td><td>{}</td></tr>\n", escape_markup(transactions),
                          chain.empty() ? "—" : chain, escape_markup(a.explanation));
    }
    html += "</table>\n";
    if (static_cast<std::int64_t>(shown) < n) html += fmt::format("<p class=\"meta\">{} more of this kind, counted, not kept (report.json keeps 50 of each kind).</p>\n", n - static_cast<std::int64_t>(shown));
  }
  if (c.replica.reads > 0) {
    const auto& rr = c.replica;
    html += fmt::format("<h3 id=\"staleness\">Reads from the replicas</h3>\n<p class=\"meta\">{} reads, {} stale (missing an "
                        "append acknowledged before they began): p50 {:.3f} s, p99 {:.3f} s, max {:.3f} s; {} monotonic-reads "
                        "violations; {} diverged. {}</p>\n",
                        rr.reads, rr.stale_reads, rr.p50_s, rr.p99_s, rr.max_s, rr.monotonic_violations, rr.diverged,
                        escape_markup(rr.stalest.empty() ? "" : "The stalest: " + rr.stalest));
    std::vector<Bar> bars;
    for (const auto& [second, stale] : rr.per_second) bars.push_back({std::to_string(second), {{stale, stale > 0 ? "#b3261e" : "#3949ab"}}});
    html += bar_chart("Staleness of replica reads over time (the stalest read begun in each second of the run)", "s", bars);
    html += "<table><tr><th>node</th><th>reads</th><th>stale</th></tr>\n";
    for (const auto& [node, n] : rr.reads_by_node) {
      std::int64_t stale = 0;
      for (const auto& [name, k] : rr.stale_by_node)
        if (name == node) stale = k;
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", escape_markup(node), n, stale);
    }
    html += "</table>\n";
    for (const auto& e : rr.examples) html += fmt::format("<p class=\"meta\">{}</p>\n", escape_markup(e));
  }
  if (!c.lost_appends.empty()) {
    html += "<h3>Lost appends</h3>\n<table><tr><th>op</th><th>key</th><th>element</th><th>cause</th></tr>\n";
    for (std::size_t i = 0; i < c.lost_appends.size() && i < 50; ++i) {
      const auto& l = c.lost_appends[i];
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", l.op, l.key, l.element, escape_markup(l.cause));
    }
    html += "</table>\n";
  }
  return html;
}

}  // namespace

std::string html_report(const RunInfo& run, const checker::CheckResult& r) {
  const std::string verdict = checker::to_string(r.verdict);
  std::string html = page_start(fmt::format("pgchaos run {}: {}", run.run_id, verdict), fmt::format("pgchaos run {}", run.run_id));
  html += fmt::format(
      "<div class=\"meta\">seed {} · {} commit{} · {} · {:.1f} s{}</div>\n"
      "<div class=\"verdict {}\" id=\"verdict\">{}<small>{}</small></div>\n",
      run.seed, r.commit.text(),
      escape_markup(replay_note(run.run_json)), escape_markup(run.directory.string()), r.duration_s,
      run.time_zero_wall_us == 0 ? "" : " from " + common::utc_millis(run.time_zero_wall_us), verdict, escape_markup(r.headline),
      escape_markup(r.reasons.empty() ? "every invariant holds" : fmt::format("{}", fmt::join(r.reasons, " · "))));

  if (r.verdict == checker::Verdict::valid && !r.lost.empty()) {
    // Valid and yet commits are gone: said in words, so the green verdict cannot be misread.
    std::string causes;
    for (const auto& [cause, n] : r.lost_by_cause)
      if (n > 0) causes += fmt::format("{}{} {}", causes.empty() ? "" : ", ", checker::to_string(cause), n);
    html += fmt::format("<div class=\"banner\" id=\"loss-banner\">{} acknowledged commits lost — allowed in {} mode{}{}</div>\n",
                        r.lost.size(), r.commit.text(), causes.empty() ? "" : " — by cause: ",
                        escape_markup(causes));
  }
  auto card = [](const std::string& label, const std::string& value, bool bad) {
    return fmt::format("<div class=\"card{}\"><b>{}</b><span>{}</span></div>", bad ? " bad" : "", value, label);
  };
  html += "<div class=\"cards\">";
  html += card("acknowledged commits", std::to_string(r.acknowledged), false);
  html += card("lost", std::to_string(r.lost.size()), !r.lost.empty());
  html += card("phantom", std::to_string(r.phantom.size()), !r.phantom.empty());
  html += card("unknown → committed", std::to_string(r.unknown_committed.size()), false);
  html += card("unknown → not committed", std::to_string(r.unknown_not_committed.size()), false);
  html += card("failed attempts", std::to_string(r.failed_attempts), false);
  html += card("ops/s", fmt::format("{:.0f}", r.ops_per_s), false);
  html += card("p99 latency", fmt::format("{:.1f} ms", r.latency.p99_ms), false);
  html += card("seed formula", fmt::format("{:.2f}", static_cast<double>(r.original_formula_cents) / 100), r.original_formula_cents != 0);
  html += "</div>\n";

  std::vector<double> ok, p50, p99;
  for (const auto& s : r.per_second) {
    ok.push_back(static_cast<double>(s.ok));
    p50.push_back(s.ok > 0 ? s.latency.p50_ms : -1);  // no commit that second: a gap, not 0 ms
    p99.push_back(s.ok > 0 ? s.latency.p99_ms : -1);
  }
  html += "<h2>Over time</h2>\n";
  html += chart("Throughput: acknowledged commits per second", "commits/s", {{"commits/s", "#2f6fdf", ok}}, r.duration_s, r.faults,
                run.time_zero_wall_us);
  html += chart("Latency of acknowledged commits", "ms", {{"p50", "#1f7a44", p50}, {"p99", "#c2410c", p99}}, r.duration_s, r.faults,
                run.time_zero_wall_us);

  html += "<h2>What the cluster did</h2>\n" + swimlanes(r, run.time_zero_wall_us);
  html += "<h2>Faults</h2>\n";
  if (r.faults.empty()) {
    html += "<p>No faults were injected in this run.</p>\n";
  } else {
    auto secs = [](std::int64_t ns) { return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9); };
    html += "<table id=\"faults\"><tr><th>#</th><th>fault</th><th>target</th><th>window</th><th>what the cluster did</th>"
            "<th>unavailable (probe)</th><th>unavailable (workload)</th><th>lost</th><th>unknown</th></tr>\n";
    for (const auto& f : r.faults) {
      const bool too_long = f.over_limit();
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1f} – {}</td><td{}>{}</td><td{}>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          f.fault.id, escape_markup(f.fault.fault), escape_markup(f.fault.target), static_cast<double>(f.fault.start_ns) / 1e9,
                          f.fault.end_ns < 0 ? "never healed" : fmt::format("{:.1f} s", static_cast<double>(f.fault.end_ns) / 1e9),
                          f.refused || f.fault.exit_status < 0 ? " class=\"refused\"" : "", escape_markup(f.story),
                          too_long ? " class=\"fail\"" : "", f.probe_outage_text("–"),
                          f.limit_ns > 0 ? fmt::format(" (max {:.1f} s)", static_cast<double>(f.limit_ns) / 1e9) : "",
                          f.unavailable_ns < 0 ? "until the end" : secs(f.unavailable_ns), f.lost.size(), f.unknown.size());
    }
    html += "</table>\n";
  }
  if (!r.split_brains.empty()) {
    html += "<h2>Split brain</h2>\n<table id=\"split-brain\"><tr><th>kind</th><th>nodes</th><th>window</th><th>timeline</th><th>acknowledged in it</th><th>what happened</th></tr>\n";
    for (const auto& b : r.split_brains)
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.1f} – {:.1f} s</td><td>{}</td><td>{} (ops {})</td><td class=\"fail\">{}</td></tr>\n",
                          escape_markup(b.kind), escape_markup(fmt::format("{}", fmt::join(b.nodes, ", "))),
                          static_cast<double>(b.start_ns) / 1e9, static_cast<double>(b.end_ns) / 1e9, b.timeline, b.acknowledged,
                          escape_markup(first_ids(b.ops, 10, b.acknowledged)), escape_markup(b.text));
    html += "</table>\n";
  }
  if (!r.lost_ops.empty()) {
    html += "<h2>Why commits were lost</h2>\n<table id=\"loss-causes\"><tr><th>cause</th><th>lost</th><th>what it means</th><th>ops</th></tr>\n";
    for (const auto& [cause, n] : r.lost_by_cause) {
      if (n == 0) continue;
      std::vector<std::int64_t> ops;
      for (const auto& l : r.lost_ops)
        if (l.cause == cause && ops.size() < 10) ops.push_back(l.op);
      html += fmt::format("<tr><td style=\"color:{}\"><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td></tr>\n", cause_color(checker::to_string(cause)),
                          checker::to_string(cause), n, escape_markup(checker::explain(cause)), escape_markup(first_ids(ops, 10, n)));
    }
    html += "</table>\n";
  }

  if (r.isolation.checked) html += isolation_section(r.isolation);

  if (!run.forensics.empty()) {
    html += "<h2>Forensics: the log lines that matter</h2>\n<p class=\"meta\">Collected as each window closed; everything "
            "raw is in forensics/ of the run directory (Patroni's /history and /cluster, logs, pg_controldata).</p>\n";
    for (const auto& [window, lines] : run.forensics)
      html += fmt::format("<details><summary>{}</summary><pre>{}</pre></details>\n", escape_markup(window),
                          escape_markup(lines.empty() ? "(nothing but routine lines)" : lines));
  }
  if (!r.findings.empty()) {
    html += "<h2>Findings</h2>\n";
    for (const auto& f : r.findings) html += fmt::format("<pre class=\"finding\">{}</pre>\n", escape_markup(f));
  }
  if (!r.unconfirmed_findings.empty()) {
    html += "<h2>Unconfirmed findings</h2>\n<p class=\"meta\">The run was interrupted: the wait that would have settled "
            "these was cut short, so they leave the verdict unknown.</p>\n";
    for (const auto& f : r.unconfirmed_findings) html += fmt::format("<pre class=\"finding\">{}</pre>\n", escape_markup(f));
  }
  html += "<h2>Invariants</h2>\n<table id=\"invariants\"><tr><th>invariant</th><th>result</th><th>detail</th></tr>\n";
  for (const auto& i : invariant_results(r))
    html += fmt::format("<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n", escape_markup(i.name), to_string(i.status),
                        to_string(i.status), escape_markup(i.detail));
  html += "</table>\n";
  if (!r.longest_gaps.empty()) {
    html += "<h3>Longest stretches without an acknowledged commit</h3><table><tr><th>from</th><th>to</th><th>length</th></tr>";
    for (const auto& g : r.longest_gaps)
      html += fmt::format("<tr><td>{:.3f} s</td><td>{:.3f} s</td><td>{:.3f} s</td></tr>", static_cast<double>(g.start_ns) / 1e9,
                          static_cast<double>(g.end_ns) / 1e9, static_cast<double>(g.end_ns - g.start_ns) / 1e9);
    html += "</table>\n";
  }

  html += "<h2>Operations</h2>\n";
  html += ids_block("Lost: acknowledged, absent from the primary", r.lost);
  html += ids_block("Phantom: reported failed, present", r.phantom);
  html += ids_block("Unknown, resolved as committed", r.unknown_committed);
  html += ids_block("Unknown, resolved as not committed", r.unknown_not_committed);
  if (r.lost.empty() && r.phantom.empty() && r.unknown_committed.empty() && r.unknown_not_committed.empty())
    html += "<p>No lost, phantom or in-doubt operations.</p>\n";

  html += "<h2>Nodes</h2>\n<table><tr><th>node</th><th>role</th><th>address</th><th>timeline (current)</th><th>LSN</th><th>caught up</th><th>ledger rows</th><th>note</th></tr>\n";
  for (const auto& s : run.topology) {
    // The watcher's last look is the current timeline; a replica's own reading may be its last checkpoint's.
    int timeline = s.timeline;
    for (const auto& lane : r.lanes)
      if (lane.node == s.name && !lane.segments.empty() && lane.segments.back().timeline != 0) timeline = lane.segments.back().timeline;
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        escape_markup(s.name), escape_markup(s.role), escape_markup(s.node), timeline, escape_markup(s.lsn), s.caught_up ? "yes" : "no",
                        s.ledger_rows, escape_markup(s.error));
  }
  html += "</table>\n";
  html += fmt::format("<h2>Configuration</h2>\n<pre>{}</pre>\n", escape_markup(run.run_json));
  html += "</main></body></html>\n";
  return html;
}

}  // namespace pgchaos::reports
