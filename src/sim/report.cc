// Markdown / JSON / CSV writers for simulation reports. JSON is written by hand: the shape is
// small and fixed, and it keeps number formatting (and so byte-identical output per seed) under
// our control.
#include "sim/report.h"

#include <fmt/format.h>

#include <cmath>

namespace sheepdog::sim {
namespace {

// Scale for display: success rate as a percentage.
double display_scale(Metric m) { return m == Metric::kSuccessRate ? 100.0 : 1.0; }

std::string number(double v) {
  if (!std::isfinite(v)) {
    return "null";
  }
  return fmt::format("{:.10g}", v);
}

std::string markdown_cell(const StrategySummary& s, const MetricInfo& info) {
  const std::optional<Stat>& stat = s.stats[size_t(info.metric)];
  if (info.metric == Metric::kRecovery) {
    if (!s.has_outage) {
      return "n/a";
    }
    if (!stat) {
      return "never";
    }
  }
  if (!stat) {
    return "-";
  }
  const double k = display_scale(info.metric);
  std::string cell = fmt::format("{:.{}f}", stat->mean * k, info.decimals);
  if (s.runs > 1) {
    cell += fmt::format(" ± {:.{}f}", stat->stddev * k, info.decimals);
  }
  if (info.metric == Metric::kRecovery && s.never_recovered > 0) {
    cell += fmt::format(" ({} never)", s.never_recovered);
  }
  return cell;
}

std::string runs_text(uint64_t seed, int runs) {
  if (runs == 1) {
    return fmt::format("seed {}", seed);
  }
  return fmt::format("seeds {}..{} ({} runs, mean ± sample stddev)", seed,
                     seed + uint64_t(runs) - 1, runs);
}

bool has_tool_calls(const Report& r) {
  for (const StrategySummary& s : r.strategies) {
    if (s.has_tool_calls) {
      return true;
    }
  }
  return false;
}

// The invalid-passed column, shown right after success % in tool-call scenarios.
std::string invalid_passed_cell(const StrategySummary& s) {
  if (!s.invalid_passed) {
    return "-";
  }
  std::string cell = fmt::format("{:.2f}", s.invalid_passed->mean * 100);
  if (s.runs > 1) {
    cell += fmt::format(" ± {:.2f}", s.invalid_passed->stddev * 100);
  }
  return cell;
}

std::string markdown(const Report& r) {
  const bool tools = has_tool_calls(r);
  std::string out = fmt::format(
      "## SIMULATED results: scenario `{}`, {}, {} requests per run\n\n"
      "Virtual-time simulation driving the gateway's own retry, backoff, breaker and budget "
      "objects; not a measurement of real traffic.\n\n| strategy |",
      r.scenario, runs_text(r.seed, r.runs), r.requests);
  std::string rule = "|---|";
  for (const MetricInfo& info : all_metrics()) {
    out += fmt::format(" {} |", info.header);
    rule += "---:|";
    if (tools && info.metric == Metric::kSuccessRate) {
      out += " invalid passed % |";
      rule += "---:|";
    }
  }
  out += "\n" + rule + "\n";
  for (const StrategySummary& s : r.strategies) {
    out += fmt::format("| {} |", s.strategy);
    for (const MetricInfo& info : all_metrics()) {
      out += fmt::format(" {} |", markdown_cell(s, info));
      if (tools && info.metric == Metric::kSuccessRate) {
        out += fmt::format(" {} |", invalid_passed_cell(s));
      }
    }
    out += "\n";
  }
  if (tools) {
    out +=
        "\nTool calls: success % counts valid answers delivered; invalid passed %: answers "
        "returned although they fail validation (pass mode), not successes. attempts/req "
        "includes resample and repair requests; cost $ charges repair requests their longer "
        "prompt. Validation decisions by the gateway's own ToolCallState.\n";
  }
  out +=
      "\nLatency is end to end over all requests, failed ones included. backoff s: total time "
      "spent waiting between attempts, summed over requests. attempts/req: upstream attempts per "
      "request. cost $: served attempts x price. trips: breaker openings.";
  out += r.strategies.empty() || !r.strategies[0].has_outage
             ? " recovery s: n/a (no outage in this scenario).\n"
             : " recovery s: from the outage's end until a 1 s window of completions is >= 95% "
               "successful.\n";
  return out;
}

std::string json_stat(const std::optional<Stat>& stat, double scale) {
  if (!stat) {
    return "null";
  }
  return fmt::format(R"({{"mean": {}, "stddev": {}, "min": {}, "max": {}}})",
                     number(stat->mean * scale), number(stat->stddev * scale),
                     number(stat->min * scale), number(stat->max * scale));
}

std::string json(const Report& r) {
  const bool tools = has_tool_calls(r);
  std::string out = fmt::format(
      "{{\n  \"simulated\": true,\n  \"scenario\": {},\n  \"seed\": {},\n  \"runs\": {},\n"
      "  \"requests\": {},\n  \"strategies\": [",
      json_quote(r.scenario), r.seed, r.runs, r.requests);
  for (size_t i = 0; i < r.strategies.size(); ++i) {
    const StrategySummary& s = r.strategies[i];
    out += fmt::format("{}\n    {{\n      \"name\": {},\n      \"metrics\": {{", i ? "," : "",
                       json_quote(s.strategy));
    bool first = true;
    for (const MetricInfo& info : all_metrics()) {
      out += fmt::format("{}\n        \"{}\": {}", first ? "" : ",", info.key,
                         json_stat(s.stats[size_t(info.metric)], 1.0));
      first = false;
      if (tools && info.metric == Metric::kSuccessRate) {
        out +=
            fmt::format(",\n        \"invalid_passed_rate\": {}", json_stat(s.invalid_passed, 1.0));
      }
    }
    out += fmt::format(
        "\n      }},\n      \"never_recovered\": {},\n"
        "      \"retries_refused\": {},\n",
        s.never_recovered, s.retries_refused);
    if (tools) {
      out +=
          fmt::format("      \"invalid_answers_per_run\": {},\n", number(s.invalid_answers_mean));
    }
    out += "      \"give_ups_per_run\": {";
    first = true;
    for (size_t k = 1; k < (tools ? kGiveUpReasonCount : kTransportGiveUpCount); ++k) {
      out += fmt::format("{}\"{}\": {}", first ? "" : ", ", give_up_name(k),
                         number(s.give_ups_mean[k]));
      first = false;
    }
    out += "}\n    }";
  }
  out += "\n  ]\n}\n";
  return out;
}

// RFC 4180: quote a field that holds a comma, quote or line break (names come from YAML files).
std::string csv_text(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (const char c : text) {
    out += c == '"' ? "\"\"" : std::string(1, c);
  }
  return out + "\"";
}

std::string csv_field(const std::optional<Stat>& stat, double Stat::*field) {
  return stat ? number((*stat).*field) : std::string();
}

std::string csv(const Report& r) {
  const bool tools = has_tool_calls(r);
  std::string out = "simulated,scenario,seed,runs,strategy,metric,mean,stddev,min,max\n";
  for (const StrategySummary& s : r.strategies) {
    auto line = [&](std::string_view key, const std::optional<Stat>& st) {
      out += fmt::format("true,{},{},{},{},{},{},{},{},{}\n", csv_text(r.scenario), r.seed, r.runs,
                         csv_text(s.strategy), key, csv_field(st, &Stat::mean),
                         csv_field(st, &Stat::stddev), csv_field(st, &Stat::min),
                         csv_field(st, &Stat::max));
    };
    for (const MetricInfo& info : all_metrics()) {
      line(info.key, s.stats[size_t(info.metric)]);
      if (tools && info.metric == Metric::kSuccessRate) {
        line("invalid_passed_rate", s.invalid_passed);
      }
    }
  }
  return out;
}

const ContentionRow* find_row(const ContentionReport& r, std::string_view variant) {
  for (const ContentionRow& row : r.rows) {
    if (row.variant == variant) {
      return &row;
    }
  }
  return nullptr;
}

std::string contention_markdown(const ContentionReport& r) {
  std::string out = fmt::format(
      "## SIMULATED results: scenario `aws-contention`, {}\n\n"
      "{} clients, one optimistic-concurrency write each to a single row (read, then "
      "conditional write); network delay |N({:g} ms, {:g} ms)| per message; backoff base {:g} "
      "ms, cap {:g} s; the engine's own Backoff objects. calls = writes sent.\n\n"
      "| backoff | calls | completion ms | calls vs full jitter | time vs full jitter |\n"
      "|---|---:|---:|---:|---:|\n",
      runs_text(r.seed, r.runs), r.config.clients, to_ms(r.config.net_delay_mean),
      to_ms(r.config.net_delay_sd), to_ms(r.config.base_delay), to_seconds(r.config.max_delay));
  const ContentionRow* full = find_row(r, "full-jitter");
  for (const ContentionRow& row : r.rows) {
    std::string calls = fmt::format("{:.0f}", row.calls.mean);
    std::string time = fmt::format("{:.0f}", row.completion_ms.mean);
    if (r.runs > 1) {
      calls += fmt::format(" ± {:.0f}", row.calls.stddev);
      time += fmt::format(" ± {:.0f}", row.completion_ms.stddev);
    }
    if (row.incomplete_runs > 0) {
      time += fmt::format(" ({} runs incomplete)", row.incomplete_runs);
    }
    std::string calls_ratio = "-";
    std::string time_ratio = "-";
    if (full != nullptr && full->calls.mean > 0 && full->completion_ms.mean > 0) {
      calls_ratio = fmt::format("{:.2f}x", row.calls.mean / full->calls.mean);
      time_ratio = fmt::format("{:.2f}x", row.completion_ms.mean / full->completion_ms.mean);
    }
    out += fmt::format("| {} | {} | {} | {} | {} |\n", row.variant, calls, time, calls_ratio,
                       time_ratio);
  }
  return out;
}

std::string contention_json(const ContentionReport& r) {
  std::string out = fmt::format(
      "{{\n  \"simulated\": true,\n  \"scenario\": \"aws-contention\",\n  \"seed\": {},\n"
      "  \"runs\": {},\n  \"clients\": {},\n  \"net_delay_mean_ms\": {},\n  \"variants\": [",
      r.seed, r.runs, r.config.clients, number(to_ms(r.config.net_delay_mean)));
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const ContentionRow& row = r.rows[i];
    out += fmt::format(
        "{}\n    {{\"name\": {}, \"calls\": {}, \"completion_ms\": {}, \"incomplete_runs\": {}}}",
        i ? "," : "", json_quote(row.variant), json_stat(row.calls, 1.0),
        json_stat(row.completion_ms, 1.0), row.incomplete_runs);
  }
  out += "\n  ]\n}\n";
  return out;
}

std::string contention_csv(const ContentionReport& r) {
  std::string out = "simulated,scenario,seed,runs,variant,metric,mean,stddev,min,max\n";
  for (const ContentionRow& row : r.rows) {
    for (const auto& [name, stat] :
         {std::pair{"calls", row.calls}, std::pair{"completion_ms", row.completion_ms}}) {
      out += fmt::format("true,aws-contention,{},{},{},{},{},{},{},{}\n", r.seed, r.runs,
                         row.variant, name, number(stat.mean), number(stat.stddev),
                         number(stat.min), number(stat.max));
    }
  }
  return out;
}

}  // namespace

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string format_report(const Report& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::kJson:
      return json(report);
    case ReportFormat::kCsv:
      return csv(report);
    case ReportFormat::kMarkdown:
      break;
  }
  return markdown(report);
}

std::string format_contention(const ContentionReport& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::kJson:
      return contention_json(report);
    case ReportFormat::kCsv:
      return contention_csv(report);
    case ReportFormat::kMarkdown:
      break;
  }
  return contention_markdown(report);
}

}  // namespace sheepdog::sim
