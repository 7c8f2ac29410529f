//! Human-readable output of a stored event: the end-of-run summary the CLI prints and
//! `report.md` (written by `eods export` and `plan --out`, downloaded from the event page).

use eods_domain::artifact::{ArtifactType, CatalogType, Envelope, Payload};
use eods_domain::catalog::audit::ways_out;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::{BudgetBaseline, BudgetDecision, CostModel, figures};
use eods_domain::catalog::execution::{IncidentLog, Postmortem, Runbook};
use eods_domain::catalog::logistics::{Schedule, VendorContracts};
use eods_domain::catalog::planning::{Requirements, RiskRegister, TaskRegister, Timeline};
use eods_domain::catalog::venue::{VenueLeads, VenueScorecard, VenueShortlist};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::RunStatus;
use eods_store::Store;
use std::fmt::Write;

type Result<T> = std::result::Result<T, eods_store::StoreError>;

/// The typed payload of the current artifact of type `T`, if present and readable.
pub fn get<T: CatalogType + Clone>(all: &[Envelope]) -> Option<T> {
    let e = all.iter().find(|e| e.artifact_type == T::TYPE)?;
    let p = Payload::from_value(T::TYPE, e.payload.clone()).ok()?;
    T::from_payload(&p).cloned()
}

fn metrics_table(pm: &Postmortem, out: &mut String) {
    let _ = writeln!(out, "| metric | value | target | met |\n|---|---|---|---|");
    for m in &pm.metrics {
        let name = m.name.as_str();
        let value = m.value.map_or("not measured".into(), |v| format!("{v:.3}"));
        let met = match m.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "n/a",
        };
        let _ = writeln!(out, "| {name} | {value} | {} | {met} |", m.target);
    }
}

/// A brief text the constraint recogniser did not understand: (where, text, hint).
pub struct NotUnderstood {
    pub source: String,
    pub text: String,
    pub hint: String,
}

/// Every brief text that was not understood: from the Requirements artifact when the Event
/// Planner has written it, else read from the brief with the same recogniser.
pub fn not_understood(all: &[Envelope]) -> Vec<NotUnderstood> {
    if let Some(r) = get::<Requirements>(all) {
        return r
            .not_understood()
            .into_iter()
            .map(|r| NotUnderstood {
                source: r.source.clone(),
                text: r.description.clone(),
                hint: r.not_understood.clone().unwrap_or_default(),
            })
            .collect();
    }
    get::<EventBrief>(all)
        .map(|b| {
            eods_domain::constraints::read_brief(&b)
                .into_iter()
                .filter_map(|r| {
                    r.not_understood.map(|hint| NotUnderstood {
                        source: r.pointer,
                        text: r.text,
                        hint,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The summary printed at the end of `eods plan` / `eods resume`.
pub async fn summary_text(store: &Store, id: EventId) -> Result<String> {
    let mut s = String::new();
    let Some(ev) = store.event(id).await? else {
        return Ok(format!("event {id} not found"));
    };
    let all = store.current_artifacts(id).await?;
    let approvals = store.approvals(id).await?;
    let decision_log = store.decision_log(id).await?;
    let decisions = decision_log.len();
    let changes = store.change_log(id).await?.len();
    let _ = writeln!(s, "\nSummary of event {id}");
    let _ = writeln!(s, "  state:      {} ({})", ev.state, ev.run_status);
    if let Some(d) = &ev.status_detail {
        let _ = writeln!(s, "  detail:     {d}");
    }
    let _ = writeln!(s, "  mode:       {}", mode_words(&ev.options));
    if ev.run_status == RunStatus::Blocked
        && let Some(e) = ways_out(&decision_log, &id.to_string())
        && !e.alternatives.is_empty()
    {
        let _ = writeln!(
            s,
            "  ways out (best first; edit the brief and run `eods plan` again, or change this event through `eods serve`: PATCH its brief or PUT its venues, and the run is queued again):"
        );
        for (i, a) in e.alternatives.iter().enumerate() {
            let _ = writeln!(s, "    {}. {a}", i + 1);
        }
    }
    let types = all
        .iter()
        .filter(|e| e.artifact_type != ArtifactType::AgentTrace)
        .count();
    let revisions: u32 = all
        .iter()
        .filter(|e| e.artifact_type != ArtifactType::AgentTrace)
        .map(|e| e.revision)
        .sum();
    let traces = all
        .iter()
        .find(|e| e.artifact_type == ArtifactType::AgentTrace)
        .map_or(0, |e| e.revision);
    let _ = writeln!(
        s,
        "  artifacts:  {types} types, {revisions} revisions, {traces} agent traces; {decisions} decisions, {changes} changes logged"
    );
    for a in &approvals {
        let _ = writeln!(
            s,
            "  approval:   {:<17} revision {:<2} {:<17} {}",
            a.gate.as_str(),
            a.artifact_revision,
            a.status.as_str(),
            a.decided_by.as_deref().unwrap_or("")
        );
    }
    let missed = not_understood(&all);
    if !missed.is_empty() {
        let _ = writeln!(
            s,
            "  not understood ({}; not honoured by the plan):",
            missed.len()
        );
        for m in &missed {
            let _ = writeln!(
                s,
                "    {}: \"{}\"\n      hint: {}",
                m.source, m.text, m.hint
            );
        }
    }
    if let (Some(b), Some(d)) = (get::<BudgetBaseline>(&all), get::<BudgetDecision>(&all)) {
        let f = figures(&b, get::<CostModel>(&all).as_ref());
        let cur = &f.currency;
        let _ = writeln!(
            s,
            "  budget:     {:.2} {cur} {} (spend {:.2} + reserve {:.2}); {:.2} {cur} unallocated of {:.2} {cur}{}",
            f.planned_total,
            format!("{:?}", d.status).to_lowercase(),
            f.spend,
            f.reserve,
            f.unallocated,
            f.total,
            d.cap
                .map(|c| format!("; approver cap {c:.2} {cur}"))
                .unwrap_or_default(),
        );
    }
    if let Some(pm) = get::<Postmortem>(&all) {
        let _ = writeln!(
            s,
            "  metrics:{}",
            simulated(get::<Runbook>(&all).as_ref())
                .map(|seed| format!(" (simulated with seed {seed}: a rehearsal, not a record)"))
                .unwrap_or_default()
        );
        for m in &pm.metrics {
            let name = m.name.as_str();
            let met = match m.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "n/a",
            };
            let _ = writeln!(
                s,
                "    {name:<27} {:>12} target {:<7} {met}",
                m.value.map_or("-".into(), |v| format!("{v:.3}")),
                m.target
            );
        }
    }
    Ok(s)
}

/// The seed of the simulation behind a runbook, if one drove it.
fn simulated(runbook: Option<&Runbook>) -> Option<u64> {
    runbook.and_then(|r| r.simulation_seed)
}

/// What a run does after Confirm, in words.
fn mode_words(o: &eods_domain::run::RunOptions) -> &'static str {
    match o.mode {
        eods_domain::run::RunMode::Simulate => {
            "simulate (Execute and the postmortem are a seeded rehearsal, labelled simulated)"
        }
        eods_domain::run::RunMode::Live => {
            "live (Execute begins when the event starts; the postmortem follows its end)"
        }
    }
}

/// The Markdown report written to `report.md`.
/// The exchange rates the cost model used: each rate once with its date and source, then the
/// lines it converted (as quoted, and in the event's currency).
fn exchange_rates(cm: &CostModel, contracts: bool, s: &mut String) {
    if cm.conversions.is_empty() {
        let _ = writeln!(
            s,
            "\nEvery price was quoted in {}: no exchange rate was used.",
            cm.currency
        );
        return;
    }
    let mut rates: Vec<&eods_domain::money::ExchangeRate> = Vec::new();
    for c in &cm.conversions {
        if !rates.contains(&&c.rate) {
            rates.push(&c.rate);
        }
    }
    let _ = writeln!(
        s,
        "\n### Exchange rates\n\nPrices quoted in other currencies were converted into {} through the euro.\n\n| from | to | rate | date | source |\n|---|---|---|---|---|",
        cm.currency
    );
    for r in rates {
        let _ = writeln!(
            s,
            "| 1 {} | {} | {} | {} | {} |",
            r.from, r.to, r.rate, r.date, r.source
        );
    }
    let _ = writeln!(
        s,
        "\n| line | quoted unit | rate | converted unit |\n|---|---|---|---|"
    );
    for c in &cm.conversions {
        let line = cm
            .line_items
            .iter()
            .find(|l| l.id == c.line_item)
            .map_or_else(|| c.line_item.to_string(), |l| l.description.clone());
        let (quoted, converted) = if contracts {
            (
                c.quoted_unit_cost.to_string(),
                eods_domain::money::Money::new(c.converted_unit_cost, &cm.currency).to_string(),
            )
        } else {
            ("withheld".to_owned(), "withheld".to_owned())
        };
        let _ = writeln!(s, "| {line} | {quoted} | {} | {converted} |", c.rate.rate);
    }
}

/// The event's report in Markdown: the brief and its constraints, then timeline, venue, budget,
/// schedule, risks, vendors, approvals, incidents and postmortem.
///
/// Long because: the sections in reading order, each a few `writeln!`s of one artifact's fields.
///
/// `contracts`: whether the reader may see contract amounts (the contracts permission); without
/// it the vendors' costs are withheld and the report says so.
pub async fn report_md(store: &Store, id: EventId, contracts: bool) -> Result<String> {
    let all = store.current_artifacts(id).await?;
    let ev = store.event(id).await?;
    let mut s = String::new();
    let brief = get::<EventBrief>(&all);
    let title = brief.as_ref().map_or("Event".into(), |b| b.title.clone());
    let _ = writeln!(s, "# {title}\n");
    if let (Some(b), Some(ev)) = (&brief, &ev) {
        let _ = writeln!(
            s,
            "{} for {} people in {}, {} to {} ({}). Budget {} {} ({:?}). Level **{}**; lifecycle **{}**, run **{}**.\n",
            serde_json::to_value(b.event_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            b.audience_size,
            b.location.city,
            b.first_day(),
            b.last_day(),
            b.timezone,
            b.budget.total,
            b.budget.currency,
            b.budget.flexibility,
            ev.level,
            ev.state,
            ev.run_status
        );
    }
    if let Some(r) = get::<Requirements>(&all) {
        let understood: Vec<_> = r
            .functional
            .iter()
            .chain(&r.nonfunctional)
            .chain(&r.nice_to_have)
            .filter(|q| !q.understood_as.is_empty())
            .collect();
        if !understood.is_empty() {
            let _ = writeln!(
                s,
                "## Constraints understood\n\n| source | text | understood as |\n|---|---|---|"
            );
            for q in understood {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} |",
                    q.source,
                    md_cell(&q.description),
                    md_cell(&q.understood_as.join("; "))
                );
            }
            let _ = writeln!(s);
        }
    }
    if let Some(ev) = ev.as_ref().filter(|e| e.run_status == RunStatus::Blocked) {
        let log = store.decision_log(id).await?;
        let _ = writeln!(
            s,
            "## Blocked in {}\n\n{}\n",
            ev.state,
            md_cell(ev.status_detail.as_deref().unwrap_or("no reason recorded"))
        );
        if let Some(e) = ways_out(&log, &id.to_string()).filter(|e| !e.alternatives.is_empty()) {
            let _ = writeln!(
                s,
                "Ways out, best first (edit the brief and plan again, or change this event through the API: PATCH its brief or PUT its venues, and the run is queued again):\n\n| # | option | for | against |\n|---|---|---|---|"
            );
            for (i, a) in e.alternatives.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    i + 1,
                    md_cell(&a.option),
                    md_cell(&a.pros.join("; ")),
                    md_cell(&a.cons.join("; "))
                );
            }
            let _ = writeln!(s);
        }
    }
    let missed = not_understood(&all);
    if !missed.is_empty() {
        let _ = writeln!(
            s,
            "## Not understood\n\nThese brief texts were not understood and are not honoured by the plan; use the field named instead.\n\n| source | text | what to do |\n|---|---|---|"
        );
        for m in &missed {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                m.source,
                md_cell(&m.text),
                md_cell(&m.hint)
            );
        }
        let _ = writeln!(s);
    }
    if let (Some(t), Some(tasks)) = (get::<Timeline>(&all), get::<TaskRegister>(&all)) {
        let _ = writeln!(
            s,
            "## Timeline\n\nPlanning from {} to {}. Critical path: {}.\n",
            t.plan_start,
            t.project_end,
            t.critical_path
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" → ")
        );
        let _ = writeln!(s, "| milestone | date |\n|---|---|");
        for m in &t.milestones {
            let _ = writeln!(s, "| {} | {} |", m.name, m.date);
        }
        let _ = writeln!(
            s,
            "\n| task | owner | start | end | slack |\n|---|---|---|---|---|"
        );
        for x in &tasks.tasks {
            let _ = writeln!(
                s,
                "| {} {} | {} | {} | {} | {} |",
                x.id,
                x.title,
                x.owner,
                x.start,
                x.end,
                String::from(x.slack)
            );
        }
    }
    if let (Some(sc), Some(sl)) = (get::<VenueScorecard>(&all), get::<VenueShortlist>(&all)) {
        let _ = writeln!(
            s,
            "\n## Venue\n\n{}\n\n| candidate | venue | capacity | cost | score |\n|---|---|---|---|---|",
            sc.selection_rationale
        );
        for c in &sl.candidates {
            let mark = if c.id == sc.selected_candidate_id {
                " (selected)"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "| {}{mark} | {} | {} | {} | {:.3} |",
                c.id, c.name, c.capacity, c.cost_estimate, c.score
            );
        }
    }
    if let Some(leads) = get::<VenueLeads>(&all) {
        venue_sources(&leads, &mut s);
    }
    if let (Some(cm), Some(d)) = (get::<CostModel>(&all), get::<BudgetDecision>(&all)) {
        let cur = &cm.currency;
        let _ = writeln!(
            s,
            "\n## Budget\n\nStatus **{:?}**, total {}.",
            d.status,
            eods_domain::money::Money::new(d.approved_total, &d.currency)
        );
        // The Budget tab's figures, from the same computation.
        if let Some(b) = get::<BudgetBaseline>(&all) {
            let f = figures(&b, Some(&cm));
            let _ = writeln!(
                s,
                "\nBudget {:.2} {cur}: planned {:.2} {cur} (spend {:.2} + reserve {:.2}), unallocated {:.2} {cur}.\n\n| category | allocated | planned | share |\n|---|---|---|---|",
                f.total,
                f.planned_total,
                f.spend,
                f.reserve,
                f.unallocated,
                cur = f.currency
            );
            for r in &f.rows {
                let _ = writeln!(
                    s,
                    "| {} | {:.2} | {:.2} | {:.1}% |",
                    r.category.label(),
                    r.allocated,
                    r.planned,
                    r.share * 100.0
                );
            }
        }
        let _ = writeln!(
            s,
            "\n| item | category | qty | unit ({cur}) | total ({cur}) | supplier |\n|---|---|---|---|---|---|"
        );
        for l in &cm.line_items {
            // Without the contracts permission: what each supplier is paid is withheld; the
            // categories above say where the money goes.
            let (unit, total) = if contracts || !l.is_supplier_line() {
                (l.unit_cost.to_string(), l.total.to_string())
            } else {
                ("withheld".to_owned(), "withheld".to_owned())
            };
            let _ = writeln!(
                s,
                "| {} | {:?} | {} | {unit} | {total} | {} |",
                l.description, l.category, l.qty, l.vendor_option
            );
        }
        exchange_rates(&cm, contracts, &mut s);
    }
    if let Some(sch) = get::<Schedule>(&all) {
        let _ = writeln!(
            s,
            "\n## Schedule ({})\n\n| start | end | room | track | session |\n|---|---|---|---|---|",
            sch.timezone
        );
        for x in &sch.sessions {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                x.start.format("%Y-%m-%d %H:%M"),
                x.end.format("%H:%M"),
                x.room,
                x.track,
                x.title
            );
        }
    }
    if let Some(r) = get::<RiskRegister>(&all) {
        let _ = writeln!(
            s,
            "\n## Risks\n\n| risk | rating | status | mitigation |\n|---|---|---|---|"
        );
        for x in &r.risks {
            let _ = writeln!(
                s,
                "| {} {} | {} | {:?} | {} |",
                x.id,
                x.description,
                x.rating,
                x.status,
                x.mitigation.join("; ")
            );
        }
    }
    if let Some(v) = get::<VendorContracts>(&all) {
        let _ = writeln!(
            s,
            "\n## Vendors\n\n| vendor | service | cost | backup |\n|---|---|---|---|"
        );
        for x in &v.vendors {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                x.name,
                x.service,
                if contracts {
                    x.terms.total_cost.to_string()
                } else {
                    "withheld (needs the contracts permission)".to_owned()
                },
                x.backup.as_ref().map_or("-", |b| b.name.as_str())
            );
        }
    }
    let approvals = store.approvals(id).await?;
    let _ = writeln!(
        s,
        "\n## Approvals\n\n| gate | revision | status | by | comment |\n|---|---|---|---|---|"
    );
    for a in &approvals {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            a.gate.as_str(),
            a.artifact_revision,
            a.status.as_str(),
            a.decided_by.as_deref().unwrap_or("-"),
            a.comment.as_deref().unwrap_or("")
        );
    }
    if let Some(inc) = get::<IncidentLog>(&all)
        && !inc.incidents.is_empty()
    {
        let _ = writeln!(s, "\n## Incidents\n");
        for i in &inc.incidents {
            let _ = writeln!(
                s,
                "- {} {}: {:?}, {}",
                i.id,
                i.kind.as_str(),
                i.status,
                i.response.join("; ")
            );
        }
    }
    if let Some(pm) = get::<Postmortem>(&all) {
        let _ = writeln!(s, "\n## Postmortem\n");
        if let Some(seed) = simulated(get::<Runbook>(&all).as_ref()) {
            let _ = writeln!(
                s,
                "**Simulated** (seed {seed}): Execute and these figures come from a seeded rehearsal of the plan, not from the event.\n"
            );
        }
        metrics_table(&pm, &mut s);
        let _ = writeln!(s, "\n### Insights\n");
        for i in &pm.insights {
            let _ = writeln!(s, "- {i}");
        }
    }
    Ok(s)
}

/// Text made safe for one Markdown table cell.
/// Where the venues came from (with the OpenStreetMap attribution and the demo label) and the
/// requests for quote still open.
fn venue_sources(leads: &VenueLeads, s: &mut String) {
    let _ = writeln!(
        s,
        "\n### Venue sources\n\nLeads from: {}.",
        md_cell(&leads.sources.join("; "))
    );
    for a in &leads.attributions {
        let _ = writeln!(s, "\nVenue data {}.", md_cell(a));
    }
    if !leads.consulted.is_empty() {
        let _ = writeln!(
            s,
            "\n| source | outcome | venues | detail |\n|---|---|---|---|"
        );
        for c in &leads.consulted {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md_cell(&c.source),
                c.outcome,
                c.found,
                md_cell(&c.detail)
            );
        }
    }
    let open: Vec<_> = leads
        .leads
        .iter()
        .filter_map(|l| l.request_for_quote.as_ref().map(|r| (l, r)))
        .collect();
    if !open.is_empty() {
        let _ = writeln!(
            s,
            "\n### Requests for quote\n\n| venue | source | asks | owner | due |\n|---|---|---|---|---|"
        );
        for (l, r) in open {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                md_cell(&l.name),
                md_cell(
                    &l.provenance
                        .as_ref()
                        .map_or_else(|| l.source.clone(), |p| p.cite())
                ),
                r.asks.join(", "),
                r.owner,
                r.due
            );
        }
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
