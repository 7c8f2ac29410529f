//! Server-rendered, accessible inline SVG charts for the web pages, drawn from artifact payloads:
//! a Gantt timeline (task register + timeline), budget allocations (baseline), a risk heatmap
//! (risk register) and a generic horizontal bar chart. Owns only the SVG markup: pure functions
//! returning `String`, no I/O, no HTTP, no JavaScript. Every text taken from data is XML-escaped;
//! each chart is a `role="img"` SVG labelled by its own `<title>` and `<desc>` (ids derived from
//! the caller's prefix, so several charts can share a page), drawn on white with dark text on
//! white or light fills (contrast ≥ 4.5:1) and `<title>` tooltips on the marks.

use chrono::{Datelike, Months, NaiveDate};
use eods_domain::catalog::budget::BudgetFigures;
use eods_domain::catalog::planning::{Risk, RiskRegister, Task, TaskRegister, Timeline};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::HashSet;

const TEXT: &str = "#1b1f24";
const CRITICAL: &str = "#a40e26";
const NORMAL: &str = "#0b5cad";
const SLACK: &str = "#9aa4ae";
const GOOD: &str = "#116329";
const GRID: &str = "#d0d7de";
const STRIPE: &str = "#f6f8fa";
const LOW: &str = "#cdeed5";
const MEDIUM: &str = "#ffe8a3";
const HIGH: &str = "#ffc7ce";
const BAR_H: f64 = 14.0;
const ROW: f64 = 22.0;

/// XML-escapes `s` for text and attribute values (`& < > " '`); drops control characters XML
/// 1.0 cannot carry.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The caller's id prefix made safe for `id`/`aria-labelledby` (no spaces, no markup).
fn ident(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "chart".to_owned() } else { s }
}

/// At most `max` characters, an ellipsis marking a cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.truncate(t.trim_end().len());
    t.push('…');
    t
}

/// A coordinate: two decimals at most, no trailing zeros.
fn n(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

fn plural(k: u64, word: &str) -> String {
    if k == 1 {
        format!("1 {word}")
    } else {
        format!("{k} {word}s")
    }
}

/// `12345.678` → `12,345.68`.
pub(crate) fn amount(d: Decimal) -> String {
    let s = format!("{:.2}", d.round_dp(2));
    let (sign, body) = s.strip_prefix('-').map_or(("", s.as_str()), |b| ("-", b));
    let (int, frac) = body.split_once('.').unwrap_or((body, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// The opening `<svg>` with its accessible name and description, on a white background.
fn open(id: &str, class: &str, w: f64, h: f64, title: &str, desc: &str) -> String {
    let (w, h) = (n(w), n(h));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart {class}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {w} {h}\" width=\"100%\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\" fill=\"{TEXT}\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <rect class=\"background\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>",
        esc(title),
        esc(desc)
    )
}

/// Tick dates and labels for an axis from `lo` to `hi`: a few days apart for a month, weekly
/// (Mondays) up to four months, otherwise months; never more than about 13 labels.
fn ticks(lo: NaiveDate, hi: NaiveDate) -> Vec<(NaiveDate, String)> {
    let span = (hi - lo).num_days() + 1;
    let mut out = Vec::new();
    let (mut d, step_days) = if span <= 31 {
        (Some(lo), (span + 9) / 10)
    } else if span <= 120 {
        let to_monday = (7 - u64::from(lo.weekday().num_days_from_monday())) % 7;
        (
            lo.checked_add_days(chrono::Days::new(to_monday)),
            if span <= 84 { 7 } else { 14 },
        )
    } else {
        let step = Months::new(u32::try_from(span / 365 + 1).unwrap_or(u32::MAX));
        let mut m = NaiveDate::from_ymd_opt(lo.year(), lo.month(), 1);
        if lo.day() != 1 {
            m = m.and_then(|m| m.checked_add_months(Months::new(1)));
        }
        while let Some(day) = m.filter(|m| *m <= hi) {
            out.push((day, day.format("%b %Y").to_string()));
            m = day.checked_add_months(step);
        }
        return out;
    };
    let step = chrono::Days::new(u64::try_from(step_days.max(1)).unwrap_or(1));
    while let Some(day) = d.filter(|d| *d <= hi) {
        out.push((day, day.format("%b %d").to_string()));
        d = day.checked_add_days(step);
    }
    out
}

/// A Gantt timeline: one row per task (by start date, register order on ties), bars from start
/// to end inclusive, critical-path tasks in the critical colour (class `critical`, others
/// `normal`), slack as a hatched extension (class `slack`), milestones as diamonds with dashed
/// lines, and a legend.
///
/// Long because: one SVG drawn top to bottom (axis, rows, bars, slack, milestones, legend), every
/// part on the same scale and layout.
pub fn gantt(id: &str, tasks: &TaskRegister, timeline: &Timeline) -> String {
    const GUTTER: f64 = 290.0;
    const PLOT: f64 = 720.0;
    const TOP: f64 = 44.0;
    let id = ident(id);
    let mut rows: Vec<&Task> = tasks.tasks.iter().collect();
    rows.sort_by_key(|t| t.start);
    let critical: HashSet<&str> = timeline.critical_path.iter().map(|t| t.as_str()).collect();
    let (lo, hi) = rows
        .iter()
        .flat_map(|t| [t.start, t.end])
        .chain(timeline.milestones.iter().map(|m| m.date))
        .fold(
            (timeline.plan_start, timeline.project_end),
            |(lo, hi), d| (lo.min(d), hi.max(d)),
        );
    let span = (hi - lo).num_days() + 1;
    let day = PLOT / span as f64;
    let x = |d: NaiveDate| GUTTER + (d - lo).num_days() as f64 * day;
    let bottom = TOP + rows.len().max(1) as f64 * ROW;
    let (width, height) = (GUTTER + PLOT + 60.0, bottom + 36.0);

    let path: Vec<&str> = timeline.critical_path.iter().map(|t| t.as_str()).collect();
    let milestones: Vec<String> = timeline
        .milestones
        .iter()
        .map(|m| format!("{} {} ({})", m.id, m.name, m.date))
        .collect();
    let desc = format!(
        "{} from {lo} to {hi}. Critical path: {}. Milestones: {}.",
        plural(rows.len() as u64, "task"),
        if path.is_empty() {
            "none".to_owned()
        } else {
            path.join(" → ")
        },
        if milestones.is_empty() {
            "none".to_owned()
        } else {
            milestones.join("; ")
        },
    );
    let mut s = open(
        &id,
        "gantt",
        width,
        height,
        "Task timeline (Gantt chart)",
        &desc,
    );
    s.push_str(&format!(
        "<defs><pattern id=\"{id}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{SLACK}\" stroke-width=\"3\"/></pattern></defs>"
    ));
    for (i, _) in rows.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        s.push_str(&format!(
            "<rect class=\"stripe\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{ROW}\" fill=\"{STRIPE}\"/>",
            n(TOP + i as f64 * ROW),
            n(width)
        ));
    }
    for (d, label) in ticks(lo, hi) {
        let tx = n(x(d));
        s.push_str(&format!(
            "<line class=\"tick\" x1=\"{tx}\" y1=\"18\" x2=\"{tx}\" y2=\"{}\" stroke=\"{GRID}\"/>\
             <text x=\"{}\" y=\"13\" font-size=\"11\">{}</text>",
            n(bottom),
            n(x(d) + 2.0),
            esc(&label)
        ));
    }
    for m in &timeline.milestones {
        let cx = x(m.date) + day / 2.0;
        s.push_str(&format!(
            "<g class=\"milestone\"><title>{}</title><line x1=\"{c}\" y1=\"34\" x2=\"{c}\" y2=\"{}\" \
             stroke=\"{GOOD}\" stroke-dasharray=\"4 3\"/><path d=\"M{c} 22l6 6-6 6-6-6z\" fill=\"{GOOD}\"/></g>",
            esc(&format!("Milestone {} {}: {}", m.id, m.name, m.date)),
            n(bottom),
            c = n(cx)
        ));
    }
    for (i, t) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let label = format!("{} {}", t.id, t.title);
        let short = truncate(&label, 40);
        let tip = if short == label {
            String::new()
        } else {
            format!("<title>{}</title>", esc(&label))
        };
        s.push_str(&format!(
            "<text x=\"6\" y=\"{}\">{tip}{}</text>",
            n(y + 15.0),
            esc(&short)
        ));

        let end = t.end.max(t.start);
        let days = (end - t.start).num_days() + 1;
        let is_critical = critical.contains(t.id.as_str());
        let (class, fill) = if is_critical {
            ("critical", CRITICAL)
        } else {
            ("normal", NORMAL)
        };
        let x0 = x(t.start);
        let w = (days as f64 * day).max(2.0);
        let tip = format!(
            "{label}: {} → {}, {}, slack {}{}",
            t.start,
            t.end,
            plural(days.unsigned_abs(), "day"),
            plural(u64::from(t.slack.0), "day"),
            if is_critical { ", critical" } else { "" }
        );
        s.push_str(&format!(
            "<rect class=\"bar {class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR_H}\" rx=\"2\" \
             fill=\"{fill}\"><title>{}</title></rect>",
            n(x0),
            n(y + 4.0),
            n(w),
            esc(&tip)
        ));
        if t.slack.0 > 0 {
            let sx = x0 + w;
            let sw = (f64::from(t.slack.0) * day)
                .min(GUTTER + PLOT - sx)
                .max(0.0);
            s.push_str(&format!(
                "<rect class=\"slack\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR_H}\" \
                 fill=\"url(#{id}-hatch)\" stroke=\"{SLACK}\"><title>{}</title></rect>",
                n(sx),
                n(y + 4.0),
                n(sw),
                esc(&format!(
                    "{}: slack {}",
                    t.id,
                    plural(u64::from(t.slack.0), "day")
                ))
            ));
        }
    }
    if rows.is_empty() {
        s.push_str(&format!(
            "<text x=\"6\" y=\"{}\">No tasks</text>",
            n(TOP + 15.0)
        ));
    }
    let ly = bottom + 14.0;
    let key = |x: f64, swatch: String, label: &str| {
        format!(
            "{swatch}<text x=\"{}\" y=\"{}\">{label}</text>",
            n(x + 18.0),
            n(ly + 11.0)
        )
    };
    let rect = |x: f64, fill: &str| {
        format!(
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{fill}\" stroke=\"{SLACK}\"/>",
            n(x),
            n(ly + 1.0)
        )
    };
    s.push_str(&format!(
        "<g class=\"legend\">{}",
        key(GUTTER, rect(GUTTER, CRITICAL), "Critical path")
    ));
    s.push_str(&key(GUTTER + 130.0, rect(GUTTER + 130.0, NORMAL), "Task"));
    s.push_str(&key(
        GUTTER + 210.0,
        rect(GUTTER + 210.0, &format!("url(#{id}-hatch)")),
        "Slack",
    ));
    let diamond = format!(
        "<path d=\"M{} {}l6 6-6 6-6-6z\" fill=\"{GOOD}\"/>",
        n(GUTTER + 297.0),
        n(ly + 1.0)
    );
    s.push_str(&key(GUTTER + 290.0, diamond, "Milestone"));
    s.push_str("</g></svg>");
    s
}

/// A horizontal bar chart of `(label, value, value text)` rows: bar length proportional to the
/// value (negative or non-finite values draw no bar), the value text after the bar.
pub fn bars(id: &str, title: &str, rows: &[(String, f64, String)]) -> String {
    const GUTTER: f64 = 200.0;
    const PLOT: f64 = 480.0;
    const TOP: f64 = 8.0;
    let id = ident(id);
    let max = rows
        .iter()
        .map(|r| r.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let desc = if rows.is_empty() {
        "No data.".to_owned()
    } else {
        let items: Vec<String> = rows.iter().map(|(l, _, t)| format!("{l}: {t}")).collect();
        format!(
            "{}. {}.",
            plural(rows.len() as u64, "bar"),
            items.join("; ")
        )
    };
    let height = 2.0 * TOP + rows.len().max(1) as f64 * ROW;
    let mut s = open(&id, "bars", GUTTER + PLOT + 200.0, height, title, &desc);
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let w = if max > 0.0 && value.is_finite() && *value > 0.0 {
            (value / max * PLOT).max(1.0)
        } else {
            0.0
        };
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{ty}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" x=\"{GUTTER}\" y=\"{}\" width=\"{}\" height=\"{BAR_H}\" rx=\"2\" \
             fill=\"{NORMAL}\"><title>{}</title></rect><text x=\"{}\" y=\"{ty}\">{}</text>",
            n(GUTTER - 8.0),
            esc(&truncate(label, 28)),
            n(y + 4.0),
            n(w),
            esc(&format!("{label}: {text}")),
            n(GUTTER + w + 6.0),
            esc(&truncate(text, 32)),
            ty = n(y + 15.0),
        ));
    }
    if rows.is_empty() {
        s.push_str(&format!(
            "<text x=\"{GUTTER}\" y=\"{}\">No data</text>",
            n(TOP + 15.0)
        ));
    }
    s.push_str("</svg>");
    s
}

/// The budget's allocations as bars (`12,345.00 EUR (24.7%)`): one per category, the reserve
/// and the unallocated rest included, from [`figures`](eods_domain::catalog::budget::figures)
/// like the table next to it.
pub fn allocations(id: &str, f: &BudgetFigures) -> String {
    let cur = &f.currency;
    let rows: Vec<(String, f64, String)> = f
        .rows
        .iter()
        .filter(|r| !r.allocated.is_zero())
        .map(|r| {
            let share = if r.share.is_finite() {
                r.share * 100.0
            } else {
                0.0
            };
            (
                r.category.label().to_owned(),
                r.allocated.to_f64().unwrap_or(0.0),
                format!("{} {cur} ({share:.1}%)", amount(r.allocated)),
            )
        })
        .collect();
    let title = format!(
        "Budget allocation by category (total {} {cur})",
        amount(f.total)
    );
    bars(id, &title, &rows)
}

/// The band of a probability × impact score: name and fill. High starts where the domain's
/// high-risk rating does (`Risk::HIGH_RATING`), so the chart and the gates agree.
fn band(score: u8) -> (&'static str, &'static str) {
    if score >= Risk::HIGH_RATING {
        ("high", HIGH)
    } else if score >= 5 {
        ("medium", MEDIUM)
    } else {
        ("low", LOW)
    }
}

/// Risk ids that fit in about `max` characters, `+N` for the rest.
fn id_list(ids: &[&str], max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for id in ids {
        let next = if out.is_empty() {
            (*id).to_owned()
        } else {
            format!("{out} {id}")
        };
        if next.chars().count() > max {
            break;
        }
        out = next;
        shown += 1;
    }
    if let (0, Some(first)) = (shown, ids.first()) {
        out = truncate(first, max.saturating_sub(3));
        shown = 1;
    }
    if shown < ids.len() {
        out.push_str(&format!(" +{}", ids.len() - shown));
    }
    out
}

/// A 5×5 heatmap of the risks: probability 1–5 across, impact 1–5 up, cells filled by the
/// probability × impact band (≤ 4 low, 5–7 medium, ≥ 8 high, as the domain rates risks) with the count and ids of the risks
/// there. Ratings outside 1–5 are clamped into the grid.
pub fn risk_heatmap(id: &str, risks: &RiskRegister) -> String {
    const LEFT: f64 = 64.0;
    const TOP: f64 = 12.0;
    const CW: f64 = 120.0;
    const CH: f64 = 64.0;
    let id = ident(id);
    let mut cells: Vec<Vec<&Risk>> = vec![Vec::new(); 25];
    for r in &risks.risks {
        let (p, i) = (r.probability.clamp(1, 5), r.impact.clamp(1, 5));
        cells[usize::from((p - 1) * 5 + (i - 1))].push(r);
    }
    let mut counts = [0usize; 3];
    let mut listed = Vec::new();
    for p in 1..=5u8 {
        for i in (1..=5u8).rev() {
            let here = &cells[usize::from((p - 1) * 5 + (i - 1))];
            counts[match band(p * i).0 {
                "low" => 0,
                "medium" => 1,
                _ => 2,
            }] += here.len();
            if !here.is_empty() {
                let ids: Vec<&str> = here.iter().map(|r| r.id.as_str()).collect();
                listed.push(format!("probability {p}, impact {i}: {}", ids.join(", ")));
            }
        }
    }
    let desc = format!(
        "{} by probability (1–5) and impact (1–5): {} high (probability × impact ≥ 10), {} medium, \
         {} low.{}",
        plural(risks.risks.len() as u64, "risk"),
        counts[2],
        counts[1],
        counts[0],
        if listed.is_empty() {
            String::new()
        } else {
            format!(" {}.", listed.join("; "))
        }
    );
    let grid_bottom = TOP + 5.0 * CH;
    let mut s = open(
        &id,
        "heatmap",
        LEFT + 5.0 * CW + 16.0,
        grid_bottom + 72.0,
        "Risk heatmap",
        &desc,
    );
    for p in 1..=5u8 {
        for i in 1..=5u8 {
            let here = &cells[usize::from((p - 1) * 5 + (i - 1))];
            let (name, fill) = band(p * i);
            let (x, y) = (LEFT + f64::from(p - 1) * CW, TOP + f64::from(5 - i) * CH);
            let mut tip = format!(
                "Probability {p}, impact {i} ({name}, score {}): {}",
                p * i,
                plural(here.len() as u64, "risk")
            );
            for r in here {
                tip.push_str(&format!("\n{}: {}", r.id, truncate(&r.description, 120)));
            }
            s.push_str(&format!(
                "<g class=\"cell {name}\" data-probability=\"{p}\" data-impact=\"{i}\"><title>{}</title>\
                 <rect x=\"{}\" y=\"{}\" width=\"{CW}\" height=\"{CH}\" fill=\"{fill}\" stroke=\"#ffffff\" \
                 stroke-width=\"2\"/>",
                esc(&tip),
                n(x),
                n(y)
            ));
            if !here.is_empty() {
                let ids: Vec<&str> = here.iter().map(|r| r.id.as_str()).collect();
                let cx = n(x + CW / 2.0);
                s.push_str(&format!(
                    "<text class=\"count\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"20\" \
                     font-weight=\"bold\">{}</text><text class=\"ids\" x=\"{cx}\" y=\"{}\" \
                     text-anchor=\"middle\" font-size=\"11\">{}</text>",
                    n(y + 30.0),
                    here.len(),
                    n(y + 50.0),
                    esc(&id_list(&ids, 14))
                ));
            }
            s.push_str("</g>");
        }
    }
    for k in 1..=5u8 {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{k}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{k}</text>",
            n(LEFT + (f64::from(k) - 0.5) * CW),
            n(grid_bottom + 16.0),
            n(LEFT - 10.0),
            n(TOP + (5.5 - f64::from(k)) * CH + 4.0)
        ));
    }
    let mid_x = n(LEFT + 2.5 * CW);
    s.push_str(&format!(
        "<text x=\"{mid_x}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">Probability</text>\
         <text transform=\"rotate(-90)\" x=\"{}\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">Impact</text>",
        n(grid_bottom + 34.0),
        n(-(TOP + 2.5 * CH))
    ));
    s.push_str("<g class=\"legend\">");
    let ly = grid_bottom + 48.0;
    for (k, (fill, label)) in [
        (LOW, "Low (1–4)"),
        (MEDIUM, "Medium (5–7)"),
        (HIGH, "High (8–25)"),
    ]
    .into_iter()
    .enumerate()
    {
        let lx = LEFT + k as f64 * 150.0;
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{fill}\" stroke=\"{TEXT}\" \
             stroke-width=\"0.5\"/><text x=\"{}\" y=\"{}\">{label}</text>",
            n(lx),
            n(ly + 1.0),
            n(lx + 18.0),
            n(ly + 11.0)
        ));
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use eods_domain::catalog::budget::BudgetBaseline;
    use serde_json::json;

    /// Tags balance, quotes pair up, no raw `<` in text, every `&` starts a known entity.
    fn assert_well_formed(svg: &str) {
        assert_eq!(svg.matches("<svg").count(), 1);
        assert_eq!(svg.matches("</svg>").count(), 1);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        for (at, _) in svg.match_indices('&') {
            let rest = &svg[at..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "raw & at {at}: {}",
                &rest[..rest.len().min(20)]
            );
        }
        let mut stack = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            assert!(!rest[..start].contains('>'), "raw > in text");
            let end = start + rest[start..].find('>').expect("unclosed tag");
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "< inside tag {tag}");
            assert_eq!(tag.matches('"').count() % 2, 0, "unpaired quote in {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched close {name}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
    }

    /// The `attr` values of the `<rect` elements whose class starts with `class`.
    fn rect_attr(svg: &str, class: &str, attr: &str) -> Vec<f64> {
        svg.split(&format!("<rect class=\"{class}"))
            .skip(1)
            .map(|part| {
                let tag = &part[..part.find('>').unwrap()];
                let v = tag.split(&format!(" {attr}=\"")).nth(1).unwrap();
                v[..v.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    fn task(id: &str, title: &str, start: &str, end: &str, slack: &str) -> serde_json::Value {
        json!({"id": id, "title": title, "owner": "stakeholder-1", "status": "not_started",
               "start": start, "end": end, "duration": "P1D", "depends_on": [],
               "milestone_id": "milestone-1", "slack": slack})
    }

    fn plan() -> (TaskRegister, Timeline) {
        let tasks = serde_json::from_value(json!({"tasks": [
            task("T3", "Book <venue> & co", "2026-01-05", "2026-01-19", "P0D"),
            task("T1", "Draft brief", "2026-01-01", "2026-01-04", "P0D"),
            task("T2", "Order 'swag'", "2026-01-10", "2026-01-10", "P5D"),
        ]}))
        .unwrap();
        let timeline = serde_json::from_value(json!({
            "plan_start": "2026-01-01", "phases": [], "dependencies": [],
            "milestones": [{"id": "M1", "name": "Venue \"booked\" <now>", "date": "2026-01-20",
                            "depends_on": []}],
            "critical_path": ["T1", "T3"], "project_end": "2026-02-28"}))
        .unwrap();
        (tasks, timeline)
    }

    #[test]
    fn esc_escapes_markup_and_drops_controls() {
        assert_eq!(esc("a<b>&\"c'\u{0}d\n"), "a&lt;b&gt;&amp;&quot;c&#39;d\n");
        assert_eq!(ident("x y\"<"), "x-y--");
    }

    #[test]
    fn gantt_marks_critical_tasks_and_escapes_data() {
        let (tasks, timeline) = plan();
        let svg = gantt("plan", &tasks, &timeline);
        assert_well_formed(&svg);
        assert!(svg.contains("aria-labelledby=\"plan-title plan-desc\""));
        assert!(
            svg.contains("<title id=\"plan-title\">") && svg.contains("<desc id=\"plan-desc\">")
        );
        assert!(svg.contains("T3 Book &lt;venue&gt; &amp; co") && !svg.contains("<venue>"));
        assert!(svg.contains("Venue &quot;booked&quot; &lt;now&gt;"));
        assert_eq!(rect_attr(&svg, "bar ", "width").len(), tasks.tasks.len());
        assert_eq!(svg.matches("class=\"bar critical\"").count(), 2);
        assert_eq!(svg.matches("class=\"bar normal\"").count(), 1);
        // T2 (not on the critical path) is drawn normal, with its slack; T3's tooltip.
        let t2 = svg
            .split("<rect class=\"bar ")
            .find(|p| p.contains("<title>T2 "))
            .unwrap();
        assert!(t2.starts_with("normal\""), "{t2}");
        assert_eq!(svg.matches("<rect class=\"slack\"").count(), 1);
        assert!(svg.contains(
            "<title>T3 Book &lt;venue&gt; &amp; co: 2026-01-05 → 2026-01-19, 15 days, slack 0 days, critical</title>"
        ));
        // Rows by start date: T1, T3, T2; the 1-day task T2 has a positive width.
        let widths = rect_attr(&svg, "bar ", "width");
        assert!(widths[2] > 0.0, "{widths:?}");
        assert!(widths[1] > widths[0] && widths[0] > widths[2]);
        let order: Vec<usize> = ["T1 ", "T3 ", "T2 "]
            .iter()
            .map(|t| svg.find(&format!("<title>{t}")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn gantt_handles_empty_and_long_plans() {
        let (_, timeline) = plan();
        let empty = gantt("e", &TaskRegister { tasks: vec![] }, &timeline);
        assert_well_formed(&empty);
        assert!(empty.contains("No tasks"));
        let many: Vec<_> = (0..60)
            .map(|k| {
                task(
                    &format!("task-{k}"),
                    &"long title ".repeat(8),
                    "2026-01-01",
                    "2028-06-30",
                    "P0D",
                )
            })
            .collect();
        let tasks: TaskRegister = serde_json::from_value(json!({ "tasks": many })).unwrap();
        let svg = gantt("long", &tasks, &timeline);
        assert_well_formed(&svg);
        assert_eq!(rect_attr(&svg, "bar ", "width").len(), 60);
        assert!(svg.matches("<line class=\"tick\"").count() <= 16);
        assert!(svg.contains('…'));
    }

    #[test]
    fn ticks_stay_few() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (lo, hi) in [
            ("2026-01-01", "2026-01-01"),
            ("2026-01-01", "2026-01-31"),
            ("2026-01-01", "2026-04-30"),
            ("2026-01-15", "2026-12-31"),
            ("2020-01-01", "2035-01-01"),
        ] {
            let t = ticks(d(lo), d(hi));
            assert!(!t.is_empty() && t.len() <= 16, "{lo}..{hi}: {}", t.len());
            assert!(t.iter().all(|(x, _)| *x >= d(lo) && *x <= d(hi)));
        }
        assert_eq!(ticks(d("2026-01-15"), d("2026-12-31"))[0].1, "Feb 2026");
    }

    fn baseline(with_contingency: bool) -> BudgetBaseline {
        let mut allocations = vec![
            json!({"category": "venue", "amount": "20000", "share": 0.4}),
            json!({"category": "av", "amount": "12345.678", "share": 0.2469}),
            json!({"category": "catering", "amount": "12654.32", "share": 0.2531}),
        ];
        if with_contingency {
            allocations.push(json!({"category": "contingency", "amount": "5000", "share": 0.1}));
        }
        serde_json::from_value(json!({"total": "50000", "currency": "EUR",
            "allocations": allocations, "reserve": "5000", "assumptions": []}))
        .unwrap()
    }

    #[test]
    fn allocations_scale_bars_and_add_the_reserve() {
        let f = |b: &BudgetBaseline| eods_domain::catalog::budget::figures(b, None);
        let svg = allocations("budget", &f(&baseline(false)));
        assert_well_formed(&svg);
        let widths = rect_attr(&svg, "bar", "width");
        assert_eq!(widths.len(), 4);
        let longest = widths.iter().cloned().fold(0.0, f64::max);
        assert_eq!(widths[0], longest);
        assert!(widths.iter().skip(1).all(|w| *w < longest));
        assert!(svg.contains(">20,000.00 EUR (40.0%)</text>"));
        assert!(svg.contains(">12,345.68 EUR (24.7%)</text>"));
        assert!(svg.contains(">av</text>") && svg.contains(">reserve</text>"));
        assert!(svg.contains(">5,000.00 EUR (10.0%)</text>"));
        assert!(svg.contains("total 50,000.00 EUR"));

        let with = allocations("budget", &f(&baseline(true)));
        assert_eq!(rect_attr(&with, "bar", "width").len(), 4);
        assert!(with.contains(">reserve</text>") && !with.contains(">contingency</text>"));

        // Money no category needs is its own bar, never reserve.
        let mut spare = baseline(true);
        spare.allocations.push(
            serde_json::from_value(
                json!({"category": "unallocated", "amount": "2500", "share": 0.05}),
            )
            .unwrap(),
        );
        spare.total = Decimal::from(52_500);
        let svg = allocations("budget", &f(&spare));
        assert_eq!(rect_attr(&svg, "bar", "width").len(), 5);
        assert!(svg.contains(">unallocated</text>") && svg.contains(">2,500.00 EUR (4.8%)</text>"));
        assert!(svg.contains(">5,000.00 EUR (9.5%)</text>"));
    }

    #[test]
    fn bars_survive_odd_values() {
        let rows = vec![
            ("a <b>".to_owned(), 10.0, "10 & more".to_owned()),
            ("neg".to_owned(), -5.0, "-5".to_owned()),
            ("nan".to_owned(), f64::NAN, "?".to_owned()),
        ];
        let svg = bars("b", "Spend <planned>", &rows);
        assert_well_formed(&svg);
        assert_eq!(rect_attr(&svg, "bar", "width"), vec![480.0, 0.0, 0.0]);
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("10 &amp; more"));
        let empty = bars("b", "Nothing", &[]);
        assert_well_formed(&empty);
        assert!(empty.contains("No data"));
    }

    #[test]
    fn amounts_are_grouped() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(amount(d("12345")), "12,345.00");
        assert_eq!(amount(d("-1234567.891")), "-1,234,567.89");
        assert_eq!(amount(d("999.5")), "999.50");
        assert_eq!(amount(d("0")), "0.00");
    }

    fn risk(id: &str, p: u8, i: u8, desc: &str) -> serde_json::Value {
        json!({"id": id, "description": desc, "category": "venue", "probability": p,
               "impact": i, "rating": p * i, "cost_impact": {"amount": "100", "currency": "EUR"},
               "owner": "stakeholder-1", "mitigation": [], "status": "open"})
    }

    fn cell(svg: &str, p: u8, i: u8) -> &str {
        let marker = format!("data-probability=\"{p}\" data-impact=\"{i}\"");
        let start = svg.find(&marker).unwrap();
        let g = &svg[start..];
        &g[..g.find("</g>").unwrap()]
    }

    #[test]
    fn heatmap_counts_clamps_and_bands() {
        let risks: RiskRegister =
            serde_json::from_value(json!({"rating_method": "p × i", "risks": [
                risk("R1", 4, 5, "Venue <double> booked & lost"),
                risk("R4", 4, 5, "Keynote cancels"),
                risk("R2", 9, 0, "Out of range"),
                risk("R3", 1, 1, "Minor"),
            ]}))
            .unwrap();
        let svg = risk_heatmap("risks", &risks);
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<g class=\"cell ").count(), 25);
        let high = cell(&svg, 4, 5);
        assert!(svg.contains("<g class=\"cell high\" data-probability=\"4\" data-impact=\"5\""));
        assert!(high.contains(">2</text>") && high.contains(">R1 R4</text>"));
        assert!(high.contains("R1: Venue &lt;double&gt; booked &amp; lost"));
        let clamped = cell(&svg, 5, 1);
        assert!(clamped.contains(">1</text>") && clamped.contains(">R2</text>"));
        assert!(svg.contains("<g class=\"cell medium\" data-probability=\"5\" data-impact=\"1\""));
        assert!(svg.contains("<g class=\"cell low\" data-probability=\"1\" data-impact=\"1\""));
        assert!(!cell(&svg, 3, 3).contains("class=\"count\""));
        assert!(svg.contains("Probability</text>") && svg.contains("Impact</text>"));
    }

    #[test]
    fn id_lists_fit() {
        assert_eq!(id_list(&["R1", "R4"], 14), "R1 R4");
        assert_eq!(
            id_list(&["risk-1", "risk-2", "risk-3", "risk-4"], 14),
            "risk-1 risk-2 +2"
        );
        assert_eq!(id_list(&["a-very-long-risk-id", "b"], 14), "a-very-lon… +1");
    }

    /// WCAG 2 contrast ratio of two `#rrggbb` colours.
    fn contrast(a: &str, b: &str) -> f64 {
        let lum = |c: &str| {
            let ch = |k: usize| {
                let v =
                    f64::from(u8::from_str_radix(&c[1 + 2 * k..3 + 2 * k], 16).unwrap()) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * ch(0) + 0.7152 * ch(1) + 0.0722 * ch(2)
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn text_contrast_is_at_least_4_5() {
        for bg in ["#ffffff", STRIPE, LOW, MEDIUM, HIGH] {
            assert!(contrast(TEXT, bg) >= 4.5, "{bg}: {}", contrast(TEXT, bg));
        }
        for mark in [CRITICAL, NORMAL, GOOD] {
            assert!(contrast(mark, "#ffffff") >= 4.5, "{mark}");
        }
    }
}
