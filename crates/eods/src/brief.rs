//! `eods validate --brief`: checks brief files without planning anything and says how EODS reads
//! each one — the event's days and window, the hours it will schedule in on each day, and
//! (where it was read) every free-text constraint as understood or not understood.

use chrono::{DateTime, Utc};
use eods_agents::Tools;
use eods_agents::instructions::LogisticsParams;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::instruction::{AgentKind, Level};
use eods_domain::intake::{parse_brief, past_dates};
use std::fmt::Write as _;
use std::path::Path;

/// What checking one brief file gave: its report, and whether it is valid.
pub struct Checked {
    pub valid: bool,
    pub report: String,
}

/// Checks one brief file; `now` decides whether its dates are past.
pub fn check_file(path: &Path, allow_past: bool, now: DateTime<Utc>, tools: &Tools) -> Checked {
    let name = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return Checked {
                valid: false,
                report: format!("{name}: cannot read: {e}"),
            };
        }
    };
    let brief = match parse_brief(&text) {
        Ok(b) => b,
        Err(e) => {
            return Checked {
                valid: false,
                report: format!("{name}: {e}"),
            };
        }
    };
    if let Some(v) = past_dates(&brief, now).filter(|_| !allow_past) {
        return Checked {
            valid: false,
            report: format!("{name}: the brief is invalid:\n  {v}"),
        };
    }
    Checked {
        valid: true,
        report: format!("{name}: valid\n{}", describe(&brief, tools)),
    }
}

/// How the planners will read a valid brief, in plain words.
pub fn describe(b: &EventBrief, tools: &Tools) -> String {
    let mut s = String::new();
    let level = Level::for_audience(b.audience_size);
    let _ = writeln!(
        s,
        "  event: {} ({}), {} people in {}, {}",
        b.title,
        serde_json::to_value(b.event_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        b.audience_size,
        b.location.city,
        b.location.country
    );
    let _ = writeln!(
        s,
        "  dates: {} to {} ({} day(s)) in {}; from {} to {}",
        b.first_day(),
        b.last_day(),
        b.days(),
        b.timezone,
        b.date_range.start,
        b.date_range.end
    );
    let _ = writeln!(
        s,
        "  budget: {} {} ({})",
        b.budget.total,
        b.budget.currency,
        if eods_domain::constraints::budget_is_fixed(b) {
            "fixed: never exceeded"
        } else {
            "variable"
        }
    );
    let params = tools
        .instructions
        .get(AgentKind::LogisticsCoordinator, level)
        .and_then(|set| set.params::<LogisticsParams>());
    match params {
        Err(e) => {
            let _ = writeln!(s, "  hours: cannot read the instruction set: {e}");
        }
        Ok(p) => match eods_agents::logistics::frame(b, &p) {
            Err(e) => {
                let _ = writeln!(s, "  hours: no session fits: {e}");
            }
            Ok(frame) => {
                let _ = writeln!(
                    s,
                    "  hours (sessions only inside; {level} defaults where the brief says nothing):"
                );
                for d in &frame.days {
                    let mut line = format!(
                        "    {} {}–{}",
                        d.date,
                        d.start.format("%H:%M"),
                        d.end.format("%H:%M")
                    );
                    if let Some(doors) = d.doors {
                        let _ = write!(line, ", doors {}", doors.format("%H:%M"));
                    }
                    for br in &d.breaks {
                        let _ = write!(
                            line,
                            ", {} {}–{}",
                            br.label.to_lowercase(),
                            br.start.format("%H:%M"),
                            br.end.format("%H:%M")
                        );
                    }
                    let _ = writeln!(s, "{line}");
                }
            }
        },
    }
    let fixed: Vec<String> = b
        .program
        .iter()
        .filter(|p| p.start.is_some() || p.plenary)
        .map(|p| {
            format!(
                "    {}{}{}",
                p.title,
                p.start
                    .map(|t| format!(" at {t} on {}", p.day.unwrap_or_else(|| b.first_day())))
                    .unwrap_or_default(),
                if p.plenary {
                    " (plenary: largest room, nothing in parallel)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if !fixed.is_empty() {
        let _ = writeln!(s, "  fixed sessions:\n{}", fixed.join("\n"));
    }
    s
}
