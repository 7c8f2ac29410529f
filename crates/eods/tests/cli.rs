//! The `eods` binary as a user runs it: real child processes, a real database file (and
//! PostgreSQL when EODS_TEST_DATABASE_URL is set), files read back from disk.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod support;
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use support::{databases, eods, text};

#[path = "../../../testing/machine.rs"]
mod machine;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("eods.db").display())
}

fn event_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("event "))
        .and_then(|l| l.split(':').next())
        .unwrap()
        .to_owned()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

/// Blanks ids, timestamps and what is measured from them, so two runs can be compared.
fn blank(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if matches!(
                    k.as_str(),
                    "id" | "event_id"
                        | "at"
                        | "created_at"
                        | "correlation_id"
                        | "seconds"
                        | "started_at"
                        | "finished_at"
                        | "duration_ms"
                ) {
                    *x = Value::Null;
                } else {
                    blank(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(blank),
        _ => {}
    }
}

/// Every JSON file of an output directory, blanked, by file name.
fn outputs(dir: &Path) -> BTreeMap<String, Value> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let mut v = read(&p);
            blank(&mut v);
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect()
}

const CORE: [&str; 23] = [
    "event_brief",
    "requirements",
    "stakeholder_map",
    "timeline",
    "task_register",
    "risk_register",
    "communications_plan",
    "venue_criteria",
    "venue_leads",
    "venue_shortlist",
    "venue_scorecard",
    "venue_availability",
    "venue_negotiation_notes",
    "budget_baseline",
    "cost_model",
    "budget_decision",
    "logistics_plan",
    "schedule",
    "resource_roster",
    "contingency_plan",
    "vendor_contracts",
    "change_log",
    "decision_log",
];

#[test]
fn plan_writes_every_artifact_valid_with_an_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s01");
    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--approve",
        "auto",
        "--out",
        out.to_str().unwrap(),
        "--database",
        &sqlite(dir.path()),
        "--user",
        "ada",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for state in [
        "initiate → plan",
        "confirm → execute",
        "run completed",
        "postmortem (completed)",
    ] {
        assert!(
            stdout.contains(state),
            "progress lacks `{state}`:\n{stdout}"
        );
    }
    for t in CORE {
        let doc = read(&out.join(format!("{t}.json")));
        assert_eq!(doc["type"], t);
    }
    let traces = read(&out.join("agent_trace.json"));
    assert_eq!(
        traces.as_array().unwrap().len(),
        7,
        "one trace per agent step"
    );

    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let v = eods(&args);
    assert!(v.status.success(), "{}", text(&v));
    assert!(text(&v).contains("0 invalid"));

    // DecisionLog: one entry per agent step with agent, level and instruction-set version;
    // the three approvals come before Confirm → Execute.
    let log = read(&out.join("decision_log.json"));
    let entries = log["payload"]["entries"].as_array().unwrap();
    let steps: Vec<&Value> = entries
        .iter()
        .filter(|e| e["decision_type"] == "agent_step")
        .collect();
    assert_eq!(steps.len(), 7);
    for s in &steps {
        assert_eq!(s["instruction_set"]["level"], "beginner");
        // The version and hash of the bundled file the agent ran.
        let agent = s["instruction_set"]["agent"].as_str().unwrap();
        let path = format!(
            "{}/../eods-agents/instructions/{agent}.beginner.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let file = std::fs::read(&path).unwrap();
        assert_eq!(
            s["instruction_set"]["version"],
            serde_json::from_slice::<Value>(&file).unwrap()["version"]
        );
        assert_eq!(
            s["instruction_set"]["hash"].as_str().unwrap(),
            sha2::Sha256::digest(&file)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        assert!(
            s["owner"]
                .as_str()
                .unwrap()
                .ends_with(s["instruction_set"]["agent"].as_str().unwrap())
        );
    }
    let confirm = entries
        .iter()
        .position(|e| e["description"] == "confirm → execute")
        .unwrap();
    let approvals: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e["decision_type"] == "approval")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(approvals.len(), 3);
    assert!(approvals.iter().all(|i| *i < confirm));
    assert!(entries[approvals[0]]["owner"] == "user:ada");
    // ChangeLog: every revision written is recorded.
    let changes = read(&out.join("change_log.json"));
    let touched: Vec<(String, u64)> = changes["payload"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["artifacts"].as_array().unwrap().iter().map(|a| {
                (
                    a["type"].as_str().unwrap().to_owned(),
                    a["revision"].as_u64().unwrap(),
                )
            })
        })
        .collect();
    for t in CORE.iter().filter(|t| !t.ends_with("_log")) {
        let doc = read(&out.join(format!("{t}.json")));
        for r in 1..=doc["revision"].as_u64().unwrap() {
            assert!(
                touched.contains(&((*t).to_owned(), r)),
                "{t}@{r} not in the ChangeLog"
            );
        }
    }
    // Calendar: RFC 5545 shape — CRLF lines of at most 75 octets, one VEVENT per milestone and session.
    let ics = std::fs::read_to_string(out.join("calendar.ics")).unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.trim_end().ends_with("END:VCALENDAR"));
    assert!(
        ics.split("\r\n")
            .all(|l| l.len() <= 75 && !l.contains('\n')),
        "unfolded line"
    );
    let sessions = read(&out.join("schedule.json"))["payload"]["sessions"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 5 + sessions);
    // The schedule as frab XML, valid against the c3voc XSD.
    machine::assert_valid_frab_xml(&out.join("schedule.xml"));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Postmortem") && report.contains("| budget_variance |"));
    // Contract terms and contacts: readable by the owner only.
    #[cfg(unix)]
    for file in ["vendor_contracts.json", "event_brief.json", "report.md"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
}

#[test]
fn the_same_brief_twice_gives_the_same_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for n in 0..2 {
        let out = dir.path().join(format!("run{n}"));
        let o = eods(&[
            "plan",
            example("s02-conference.json").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--database",
            &sqlite(dir.path()),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        runs.push(outputs(&out));
    }
    assert_eq!(runs[0].len(), 27);
    for (name, v) in &runs[0] {
        assert_eq!(Some(v), runs[1].get(name), "{name} differs");
    }
}

#[test]
fn a_run_killed_mid_way_resumes_to_the_same_end_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    for (i, db) in databases(dir.path(), "cli").iter().enumerate() {
        let reference = dir.path().join(format!("reference{i}"));
        let o = eods(&[
            "plan",
            example("s01-meetup.json").to_str().unwrap(),
            "--out",
            reference.to_str().unwrap(),
            "--database",
            db,
        ]);
        assert!(o.status.success(), "{}", text(&o));

        // Halt after the 9th commit (mid-Research), then SIGKILL.
        let mut child = support::command()
            .args([
                "plan",
                example("s01-meetup.json").to_str().unwrap(),
                "--database",
                db,
            ])
            .env("EODS_FAILPOINT", "halt-after-commit:9")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let id = event_id(&first);
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let halted = stderr
            .lines()
            .map_while(Result::ok)
            .any(|l| l.contains("failpoint: halted after commit 9"));
        assert!(halted, "the child did not reach the failpoint");
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success());

        let partial = dir.path().join(format!("partial{i}"));
        let o = eods(&[
            "export",
            &id,
            "--database",
            db,
            "--out",
            partial.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            !partial.join("postmortem.json").exists(),
            "the run was not interrupted"
        );

        let resumed = dir.path().join(format!("resumed{i}"));
        let o = eods(&[
            "resume",
            &id,
            "--database",
            db,
            "--out",
            resumed.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("postmortem (completed)"));

        let (a, b) = (outputs(&reference), outputs(&resumed));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (name, v) in &a {
            assert_eq!(Some(v), b.get(name), "{db}: {name} differs after resume");
        }
        // No duplicated log entry: ids are unique and numbered without gaps.
        for log in ["decision_log.json", "change_log.json"] {
            let entries = read(&resumed.join(log))["payload"]["entries"]
                .as_array()
                .unwrap()
                .clone();
            let ids: Vec<String> = entries
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect();
            let expected: Vec<String> = (1..=ids.len())
                .map(|n| format!("{}-{n}", ids[0].split('-').next().unwrap()))
                .collect();
            assert_eq!(ids, expected, "{log}");
        }
        // The audit chain holds across the kill: every log run and artifact revision checks out,
        // and the heads saved now are still reached by a later check.
        let heads = dir.path().join(format!("heads{i}.json"));
        let o = eods(&[
            "audit",
            "verify",
            "--database",
            db,
            "--save-heads",
            heads.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            out.contains("2 event(s)") && out.ends_with("audit chain intact\n"),
            "{out}"
        );
        let o = eods(&[
            "audit",
            "verify",
            "--database",
            db,
            "--heads",
            heads.to_str().unwrap(),
            "--event",
            &id,
            "--json",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (
                report["events"].as_u64(),
                report["breaks"].as_array().map(Vec::len)
            ),
            (Some(1), Some(0))
        );
        assert!(
            report["artifacts_checked"].as_u64().unwrap() > 20,
            "{report}"
        );
        // Bad input names the flag.
        std::fs::write(&heads, "not json").unwrap();
        let o = eods(&[
            "audit",
            "verify",
            "--database",
            db,
            "--heads",
            heads.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--heads"), "{}", text(&o));
        let o = eods(&["audit", "verify", "--database", db, "--event", "nope"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }
}

#[test]
fn bad_input_gets_exit_2_and_names_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"title\": \"x\",\n  \"audience_size\": ,\n}").unwrap();
    let o = eods(&["plan", broken.to_str().unwrap(), "--database", &db]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("line 3, column"), "{}", text(&o));

    let o = eods(&[
        "plan",
        example("invalid/incomplete-brief.json").to_str().unwrap(),
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("run status needs_input"), "{t}");
    assert!(
        t.contains("missing fields: title, location.city, budget.total"),
        "{t}"
    );
    // Each missing field with its pointer and the expected form.
    for line in [
        "  /location/city: required; expected the city, such as Lisbon",
        "  /budget/total: required; expected the amount as a plain number, such as 12000",
    ] {
        assert!(t.contains(line), "lacks `{line}`:\n{t}");
    }

    let o = eods(&[
        "plan",
        example("invalid/unknown-enum.json").to_str().unwrap(),
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains(
            "/event_type: unknown value `hackathon`: allowed values are meetup, conference"
        ),
        "{}",
        text(&o)
    );

    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--level",
        "expert",
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("allowed values are beginner, intermediate, advanced"),
        "{}",
        text(&o)
    );

    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--database",
        "mysql://x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("--database") && text(&o).contains("sqlite://PATH"),
        "{}",
        text(&o)
    );

    // A document with two faults: both are reported, each with its pointer.
    let mut doc = read(&example(
        "../crates/eods-domain/tests/fixtures/task_register.json",
    ));
    doc["payload"]["tasks"][0]["duration"] = Value::from("P99D");
    doc["payload"]["tasks"][1]["depends_on"] = serde_json::json!(["task-404"]);
    let bad = dir.path().join("task_register.json");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let o = eods(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("/payload/tasks/0/duration: duration P99D"),
        "{t}"
    );
    assert!(
        t.contains("/payload/tasks/1/depends_on/0: unknown task `task-404`"),
        "{t}"
    );
}

/// A brief as organisers write it: the spec's date-time form plans; bad briefs exit 2 naming
/// the field and the expected form; `validate --brief` checks without planning and says how the
/// brief will be read; a past date is refused unless intended.
#[test]
fn briefs_in_organisers_forms_are_read_or_refused_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let mut brief = read(&example("s01-meetup.json"));
    brief["date_range"] = serde_json::json!({
        "start": "2027-03-11T18:30:00+01:00", "end": "2027-03-11T21:30:00+01:00"
    });
    brief["hours"] = serde_json::json!({"doors": "18:30", "start": "19:00", "end": "21:00"});
    let good = dir.path().join("good.json");
    std::fs::write(&good, brief.to_string()).unwrap();
    let o = eods(&["validate", "--brief", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("good.json: valid"), "{t}");
    assert!(t.contains("2027-03-11 19:00–21:00, doors 18:30"), "{t}");

    let out = dir.path().join("out");
    let o = eods(&[
        "plan",
        good.to_str().unwrap(),
        "--database",
        &db,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let schedule = read(&out.join("schedule.json"));
    for s in schedule["payload"]["sessions"].as_array().unwrap() {
        let (start, end) = (s["start"].as_str().unwrap(), s["end"].as_str().unwrap());
        assert!(
            &start[11..16] >= "19:00" && &end[11..16] <= "21:00",
            "{start}–{end}"
        );
    }

    // Each bad brief: exit 2, the pointer, the expected form; nothing planned.
    let cases: &[(&str, Value, &str)] = &[
        (
            "/date_range/start",
            serde_json::json!("08/04/2027"),
            "/date_range/start: `08/04/2027` is not a date: expected YYYY-MM-DD or an ISO 8601 date-time with offset, such as 2027-05-20 or 2027-05-20T09:00:00-03:00",
        ),
        (
            "/date_range",
            serde_json::json!({"start": "2027-03-11T21:00:00+01:00", "end": "2027-03-11T18:00:00+01:00"}),
            "/date_range/end: the event ends (2027-03-11T18:00:00+01:00) before it starts (2027-03-11T21:00:00+01:00)",
        ),
        (
            "/budget/total",
            serde_json::json!("12,000"),
            "/budget/total: `12,000` is not an amount: write the amount as a plain number, such as 12000",
        ),
        (
            "/budget/currency",
            serde_json::json!("XYZ"),
            "/budget/currency: `XYZ` is not",
        ),
        (
            "/hours/start",
            serde_json::json!("7pm"),
            "/hours/start: `7pm` is not a time: expected a time of day as HH:MM",
        ),
        (
            "/date_range",
            serde_json::json!({"start": "2024-05-20", "end": "2024-05-20"}),
            "/date_range/start: the event starts on 2024-05-20, which is in the past",
        ),
    ];
    for (i, (pointer, value, expected)) in cases.iter().enumerate() {
        let mut b = read(&example("s01-meetup.json"));
        if *pointer == "/hours/start" {
            b["hours"] = serde_json::json!({"start": value});
        } else {
            *b.pointer_mut(pointer).unwrap() = value.clone();
        }
        let f = dir.path().join(format!("bad-{i}.json"));
        std::fs::write(&f, b.to_string()).unwrap();
        for args in [
            vec!["validate", "--brief", f.to_str().unwrap()],
            vec!["plan", f.to_str().unwrap(), "--database", &db],
        ] {
            let o = eods(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
            assert!(
                text(&o).contains(expected),
                "{args:?}: expected `{expected}` in {}",
                text(&o)
            );
        }
    }
    // A past event is planned when that is intended.
    let mut past = read(&example("s01-meetup.json"));
    past["date_range"] = serde_json::json!({"start": "2024-05-20", "end": "2024-05-20"});
    let f = dir.path().join("past.json");
    std::fs::write(&f, past.to_string()).unwrap();
    let o = eods(&["validate", "--brief", "--allow-past", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // "Today" is the clock's: the day after S-01 it is in the past, the day before it is not; a
    // value that is no instant is refused naming the variable and the forms it takes.
    let s01 = example("s01-meetup.json");
    let start = read(&s01)["date_range"]["start"]
        .as_str()
        .unwrap()
        .parse::<chrono::NaiveDate>()
        .unwrap();
    let validate_on =
        |day: &str| eods(&["validate", "--brief", "--now", day, s01.to_str().unwrap()]);
    let after = (start + chrono::Duration::days(1)).to_string();
    let o = validate_on(&after);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "which is in the past (today is {after} in Europe/Berlin)"
        )),
        "{}",
        text(&o)
    );
    let o = validate_on(&(start - chrono::Duration::days(1)).to_string());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = support::command()
        .args(["validate", "--brief", s01.to_str().unwrap()])
        .env("EODS_NOW", "next tuesday")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o)
            .contains("EODS_NOW: `next tuesday` is not an instant: expected a date-time such as"),
        "{}",
        text(&o)
    );
    // Unknown fields are named; missing ones listed.
    let mut extra = read(&example("s01-meetup.json"));
    extra["venue_notes"] = Value::from("near the river");
    let f = dir.path().join("extra.json");
    std::fs::write(&f, extra.to_string()).unwrap();
    let o = eods(&["validate", "--brief", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("/venue_notes: unknown field `venue_notes`"),
        "{}",
        text(&o)
    );
    let o = eods(&["schema", "brief"]);
    assert_eq!(o.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["title"], "EODS event brief");
    assert!(schema["properties"]["hours"].is_object());
}

/// Briefs for real cities written as organisers write them (examples/organisers: date-times,
/// windows only as free text, USD, JPY, BRL, INR, CHF) plan to the postmortem, and the
/// independent checker `scripts/check-plan.py` finds every session inside every stated window,
/// fixed totals kept, sums and conversions consistent.
#[test]
fn organisers_briefs_plan_and_pass_the_independent_checker() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let briefs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/organisers");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&briefs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let mut outs = Vec::new();
    for brief in &names {
        let out = dir.path().join(brief.file_stem().unwrap());
        let o = eods(&[
            "plan",
            brief.to_str().unwrap(),
            "--database",
            &db,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            brief.display(),
            text(&o)
        );
        assert!(text(&o).contains("postmortem (completed)"), "{}", text(&o));
        let cost = read(&out.join("cost_model.json"));
        let brief_json = read(brief);
        assert_eq!(
            cost["payload"]["currency"],
            brief_json["budget"]["currency"]
        );
        outs.push(out);
    }
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-plan.py");
    let mut args = vec![checker.to_str().unwrap().to_owned()];
    args.extend(outs.iter().map(|o| o.to_str().unwrap().to_owned()));
    let o = machine::PYTHON3.output(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        text(&o).matches(": ok (").count(),
        names.len(),
        "{}",
        text(&o)
    );
}

#[test]
fn the_readme_quick_start_for_a_city_outside_the_demo_set_plans_to_the_postmortem() {
    // README, "Quick start for a city outside the demo set": the sample Nairobi files go in with
    // the brief, and `--approve auto` (as `--user`) approves every first proposal built on them.
    let dir = tempfile::tempdir().unwrap();
    let nairobi = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/nairobi");
    let path = |name: &str| nairobi.join(name).to_str().unwrap().to_owned();
    let out = dir.path().join("out");
    let o = eods(&[
        "plan",
        &path("brief.json"),
        "--venues",
        &path("venues.csv"),
        "--rate-cards",
        &path("rate_cards.csv"),
        "--database",
        &sqlite(dir.path()),
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("postmortem (completed)"), "{t}");
    assert_eq!(
        read(&out.join("cost_model.json"))["payload"]["currency"],
        "KES"
    );
}

#[test]
fn validate_checks_references_between_the_files_of_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--database",
        &sqlite(dir.path()),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // Each file stays valid on its own, but the timeline now names a task the register lacks,
    // and a contingency scenario answers a risk that does not exist.
    let mut timeline = read(&out.join("timeline.json"));
    timeline["payload"]["critical_path"][0] = Value::from("task-404");
    std::fs::write(out.join("timeline.json"), timeline.to_string()).unwrap();
    let mut plan = read(&out.join("contingency_plan.json"));
    plan["payload"]["scenarios"][0]["risk_id"] = Value::from("risk-404");
    std::fs::write(out.join("contingency_plan.json"), plan.to_string()).unwrap();
    let args: Vec<String> = [
        "timeline",
        "task_register",
        "contingency_plan",
        "risk_register",
    ]
    .iter()
    .map(|t| out.join(format!("{t}.json")).display().to_string())
    .collect();
    let mut argv = vec!["validate"];
    argv.extend(args.iter().map(String::as_str));
    let o = eods(&argv);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("/payload/critical_path/0: unknown task `task-404`"),
        "{t}"
    );
    assert!(
        t.contains("/payload/scenarios/0/risk_id: unknown risk `risk-404`"),
        "{t}"
    );
    assert!(t.contains("task_register.json: valid"), "{t}");
    // On its own, the timeline has nothing to be checked against.
    assert!(eods(&["validate", &args[0]]).status.success());
}

#[test]
fn an_instruction_set_file_changes_behaviour_without_recompiling_and_is_recorded_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let sets = dir.path().join("sets");
    std::fs::create_dir(&sets).unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../eods-agents/instructions/venue_researcher.beginner.json");
    let edited = std::fs::read_to_string(&bundled)
        .unwrap()
        .replace("\"holds\": 1", "\"holds\": 2")
        .replace("\"version\": \"1.0.0\"", "\"version\": \"1.1.0\"");
    std::fs::write(sets.join("venue_researcher.beginner.json"), &edited).unwrap();

    let list = eods(&[
        "instruction-sets",
        "list",
        "--instructions",
        sets.to_str().unwrap(),
    ]);
    assert!(list.status.success(), "{}", text(&list));
    let line = String::from_utf8_lossy(&list.stdout)
        .lines()
        .find(|l| l.starts_with("venue_researcher       beginner"))
        .unwrap()
        .to_owned();
    assert!(
        line.contains("1.2.0") && line.contains("sets/venue_researcher.beginner.json"),
        "{line}"
    );

    let out = dir.path().join("out");
    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--instructions",
        sets.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--database",
        &sqlite(dir.path()),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let holds = read(&out.join("venue_availability.json"))["payload"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["hold"]["status"] == "held")
        .count();
    assert_eq!(holds, 2, "the edited set asks for two holds");
    let log = read(&out.join("decision_log.json"));
    let research = log["payload"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["instruction_set"]["agent"] == "venue_researcher")
        .unwrap()
        .clone();
    assert_eq!(research["instruction_set"]["version"], "1.2.0");
    let digest = sha2::Sha256::digest(edited.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(research["instruction_set"]["hash"], digest);

    // A bad file is refused before anything runs, naming the file and the field.
    std::fs::write(
        sets.join("venue_researcher.beginner.json"),
        edited.replace("\"min_leads\"", "\"min_leadz\""),
    )
    .unwrap();
    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--instructions",
        sets.to_str().unwrap(),
        "--database",
        &sqlite(dir.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("sets/venue_researcher.beginner.json: /parameters: \"min_leads\" is a required property; /parameters: Additional properties are not allowed ('min_leadz' was unexpected)"),
        "{t}"
    );
    let v = eods(&[
        "instruction-sets",
        "validate",
        sets.join("venue_researcher.beginner.json")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(v.status.code(), Some(2));
}

#[test]
fn import_frab_reports_the_published_programs_problems() {
    let fosdem = machine::shared_data("frab/fosdem-2025.xml");
    let o = eods(&["import", "frab", fosdem.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("943 events in 40 rooms over 2 day(s), zone Europe/Brussels"),
        "{t}"
    );
    assert!(
        t.contains("same-room overlaps: 0") && t.contains("person clashes: 1"),
        "{t}"
    );
    assert!(t.contains("person 4347"), "{t}");
    let o = eods(&[
        "import",
        "frab",
        example("s01-meetup.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("frab XML at line"), "{}", text(&o));
}

/// Imports a published program, re-schedules it, exports frab XML, checks the file against the
/// c3voc XSD with xmllint and reads it back: no room or person is double-booked.
fn round_trip(name: &str, zone: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schedule.xml");
    let input = machine::shared_data(&format!("frab/{name}"));
    let mut args = vec![
        "import",
        "frab",
        input.to_str().unwrap(),
        "--reschedule",
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(z) = zone {
        args.extend(["--timezone", z]);
    }
    let o = eods(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(": 0 room conflicts, 0 person conflicts"),
        "{}",
        text(&o)
    );
    machine::assert_valid_frab_xml(&out);
    let back = eods(&["import", "frab", out.to_str().unwrap()]);
    let t = text(&back);
    assert!(back.status.success(), "{t}");
    for clean in [
        "duplicate event ids: 0",
        "duplicate guids: 0",
        "same-room overlaps: 0",
        "person clashes: 0",
    ] {
        assert!(t.contains(clean), "{clean} not in {t}");
    }
    text(&o)
}

#[test]
fn fosdem_2025_round_trips_through_the_scheduler_into_valid_frab_xml() {
    let t = round_trip("fosdem-2025.xml", None);
    // The one published clash costs a swap of two sessions, and the solver proves no fewer do.
    assert!(t.contains("2 session(s) moved (proven optimal)"), "{t}");
}

#[test]
fn the_dirty_36c3_program_round_trips_without_conflicts() {
    let t = round_trip("36c3.xml", Some("Europe/Berlin"));
    assert!(t.contains("first-fit placement"), "{t}");
}

#[test]
fn a_closed_pipe_ends_the_output_without_a_panic() {
    let mut child = support::command()
        .args(["schema"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: the rest of the output meets a closed pipe.
    let o = child.wait_with_output().unwrap();
    assert_eq!(first.trim(), "{");
    assert_eq!(
        o.status.code(),
        Some(141),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

#[test]
fn schema_prints_the_json_schema_of_a_type() {
    let o = eods(&["schema", "task_register"]);
    assert!(o.status.success());
    let schema: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["properties"]["type"]["const"], "task_register");
    assert!(schema["$defs"].get("Task").is_some());
    let o = eods(&["schema", "budget_sheet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("allowed values are event_brief"));
}

#[test]
fn prompt_mode_rejects_a_venue_and_the_next_one_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = support::command()
        .args([
            "plan",
            example("s01-meetup.json").to_str().unwrap(),
            "--approve",
            "prompt",
            "--out",
            out.to_str().unwrap(),
            "--database",
            &sqlite(dir.path()),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"r\ntoo small\na\n\na\n\na\n\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert_eq!(
        t.matches("Approval requested: venue_selection").count(),
        2,
        "{t}"
    );
    let card = read(&out.join("venue_scorecard.json"));
    assert_eq!(card["revision"], 2);
    assert_eq!(card["payload"]["excluded"].as_array().unwrap().len(), 1);
    assert_ne!(
        card["payload"]["selected_candidate_id"],
        card["payload"]["excluded"][0]
    );
}

/// Runs `eods ARGS` with `stdin` as its standard input.
fn eods_with_input(args: &[&str], stdin: &str) -> Output {
    let mut child = support::command()
        .args(args)
        .env_remove("EODS_FAILPOINT")
        .env_remove("EODS_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Prompt mode on S-01 (a fixed 500 EUR): an unreadable cap is refused and asked again; the
/// budget rejected with a cap below the proposal comes back within the cap; rejected again with the same cap it is asked again (the run does
/// not block); input ends, and `eods resume --approve prompt` asks about the budget again and
/// ends with an approved plan within the cap.
#[test]
fn prompt_mode_revises_a_rejected_budget_within_the_cap_and_resume_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    // The plan as proposed, and its cheapest way to fit (from an unattended run).
    let first = dir.path().join("first");
    std::fs::create_dir_all(&first).unwrap();
    let out0 = dir.path().join("out0");
    let o = eods(&[
        "plan",
        example("s01-meetup.json").to_str().unwrap(),
        "--out",
        out0.to_str().unwrap(),
        "--database",
        &sqlite(&first),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let decision = read(&out0.join("budget_decision.json"));
    let money = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
    let proposal = money(&decision["payload"]["approved_total"]);
    assert!(proposal <= 500.0, "{proposal}");
    let cap = decision["payload"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            let d = o["description"].as_str().unwrap();
            d.starts_with("Cheaper:") || d.starts_with("Recommended:")
        })
        .map(|o| money(&o["total"]))
        .fold(f64::INFINITY, f64::min);
    assert!(cap < proposal, "a cheaper plan exists: {decision}");

    let db = sqlite(dir.path());
    let comment = format!("no more than {cap:.2} €");
    let o = eods_with_input(
        &[
            "plan",
            example("s01-meetup.json").to_str().unwrap(),
            "--approve",
            "prompt",
            "--database",
            &db,
        ],
        &format!("a\n\nr\nbetween 1 and 2\nr\n{comment}\nr\n{comment}\n"),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "input ended: {t}");
    // An unreadable cap is not recorded: the prompt says why and asks again.
    assert!(
        t.contains("Not recorded: ") && t.contains("none is marked as the cap"),
        "{t}"
    );
    assert_eq!(
        t.matches("Approval requested: budget_decision").count(),
        4,
        "asked, asked again after the refusal, revised, asked again: {t}"
    );
    assert!(t.contains("no answer on standard input"), "{t}");
    let id = event_id(&String::from_utf8_lossy(&o.stdout));

    let out = dir.path().join("out");
    let o = eods_with_input(
        &[
            "resume",
            &id,
            "--approve",
            "prompt",
            "--database",
            &db,
            "--out",
            out.to_str().unwrap(),
        ],
        "a\n\na\n\n",
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Approval requested: budget_decision"), "{t}");
    let d = read(&out.join("budget_decision.json"));
    assert_eq!(d["payload"]["status"], "approved");
    assert!(money(&d["payload"]["approved_total"]) <= cap, "{d}");
    assert_eq!(money(&d["payload"]["cap"]), cap);
    let cost = read(&out.join("cost_model.json"));
    let total = money(&cost["payload"]["total"]);
    assert!(total <= cap);
    // report.md shows the figures the Budget tab shows: the plan's total and its reserve row.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains(&format!("planned {total:.2} EUR")),
        "{report}"
    );
    assert!(report.contains("| reserve | "), "{report}");
    assert!(
        t.contains("budget:") && t.contains(&format!("approver cap {cap:.2} EUR")),
        "{t}"
    );
}

/// The benchmark runs every agent at every level on S-01..S-03, the three lifecycles through
/// the engine to Postmortem, and re-schedules FOSDEM; its report has a row for each (the
/// figures themselves are for the notes, not for assertions).
#[test]
fn bench_reports_every_agent_level_and_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("bench.md");
    let fosdem = machine::shared_data("frab/fosdem-2025.xml");
    let scheduling = machine::shared_data("scheduling");
    let o = eods(&[
        "bench",
        "--runs",
        "1",
        "--examples",
        example("").to_str().unwrap(),
        "--database",
        &sqlite(dir.path()),
        "--frab",
        fosdem.to_str().unwrap(),
        "--scheduling",
        scheduling.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(&report).unwrap();
    // Every published instance is solved to proven optimality without a violation.
    for name in [
        "fosdem2025-full",
        "fosdem2025-sat-20r",
        "fosdem2025-sat-8r",
        "pyconuk2016-3r2d",
        "pyconuk2016-tutorial",
    ] {
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with(&format!("| {name} |")))
            .collect();
        assert!(!rows.is_empty(), "{name}:\n{md}");
        for row in rows {
            assert!(row.contains("| optimal |"), "{row}");
        }
    }
    assert_eq!(md.trim(), String::from_utf8_lossy(&o.stdout).trim());
    for scenario in [
        "s01-meetup.json",
        "s02-conference.json",
        "s03-large-event.json",
    ] {
        for level in ["beginner", "intermediate", "advanced"] {
            let row = md
                .lines()
                .find(|l| {
                    l.starts_with(&format!("| {scenario} | {level} | "))
                        && l.matches('|').count() == 9
                })
                .unwrap_or_else(|| panic!("no agent row for {scenario} {level}:\n{md}"));
            assert!(!row.contains("blocked"), "{row}");
        }
    }
    assert_eq!(md.matches("postmortem (completed)").count(), 3, "{md}");
    assert!(md.contains("943 sessions, 40 rooms, 2 day(s)"), "{md}");
}

/// `eods bench --events`: every lifecycle completes with its two transactions and 18 durable
/// steps, on SQLite (its one writer) and PostgreSQL (the pool size asked for), and the JSON holds
/// the figures the README names (their values are for the notes). A pool of no connections is
/// refused naming the flag.
#[test]
fn the_throughput_benchmark_completes_every_event_and_reports_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let examples = example("");
    for url in databases(dir.path(), "bench_throughput") {
        let o = eods(&[
            "bench",
            "--events",
            "4",
            "--concurrency",
            "2",
            "--connections",
            "2",
            "--json",
            "--examples",
            examples.to_str().unwrap(),
            "--database",
            &url,
        ]);
        assert!(o.status.success(), "{url}: {}", text(&o));
        let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let sqlite = url.starts_with("sqlite:");
        assert_eq!(
            t["backend"],
            if sqlite { "sqlite" } else { "postgres" },
            "{t}"
        );
        assert_eq!(t["events"], 4, "{t}");
        assert_eq!(t["concurrency"], 2, "{t}");
        assert_eq!(t["connections"], if sqlite { 1 } else { 2 }, "{t}");
        // The submission is written with the run's first transaction; the approvals are stored
        // before they are answered, in the second.
        assert_eq!(t["commits_per_event"], 2.0, "{t}");
        assert_eq!(t["steps_per_event"], 18.0, "{t}");
        for figure in [
            "events_per_s",
            "p50_ms",
            "p95_ms",
            "cpu_ms_per_event",
            "peak_rss_mb",
        ] {
            let x = t[figure].as_f64().unwrap_or(-1.0);
            assert!(x >= 0.0 && x.is_finite(), "{figure}: {t}");
        }
        assert!(t["p50_ms"].as_f64() <= t["p95_ms"].as_f64(), "{t}");
    }
    let refused = eods(&[
        "bench",
        "--events",
        "1",
        "--connections",
        "0",
        "--database",
        &sqlite(dir.path()),
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("--connections must be at least 1"),
        "{}",
        text(&refused)
    );
}

/// A tool the tests run that is missing from the machine is named with its Debian package and
/// the command that installs it, not reported as a bare `NotFound`.
#[test]
fn a_missing_tool_is_named_with_its_package_and_the_install_command() {
    let missing = machine::Tool {
        program: "eods-test-no-such-tool",
        package: "eods-test-no-such-package",
    };
    let message = missing.try_output(["--version"]).unwrap_err();
    assert_eq!(
        message,
        "this test runs `eods-test-no-such-tool`, which is not installed (not found on PATH). It is \
         in the Debian package eods-test-no-such-package: install it with `apt-get update && \
         apt-get install -y eods-test-no-such-package` (as root), or run the tests with \
         `scripts/test`, which installs it."
    );
}

/// `eods plan BRIEF --approve auto --out OUT` on a new SQLite database in `dir`.
fn plan_auto(brief: &Path, out: &Path, dir: &Path) -> Output {
    eods(&[
        "plan",
        brief.to_str().unwrap(),
        "--approve",
        "auto",
        "--out",
        out.to_str().unwrap(),
        "--database",
        &sqlite(dir),
    ])
}

/// Asserts that `text` (the summary, or the file `what`) holds every line.
#[track_caller]
fn assert_lines<S: AsRef<str>>(what: &str, text: &str, lines: &[S]) {
    for line in lines {
        let line = line.as_ref();
        assert!(text.contains(line), "{what} lacks `{line}`:\n{text}");
    }
}

#[test]
fn plan_lists_the_constraints_it_did_not_understand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lisbon");
    let o = plan_auto(&example("lisbon-open-data-workshop.json"), &out, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_lines(
        "the summary",
        &stdout,
        &[
            "  not understood (2; not honoured by the plan):",
            "    brief.constraints[5]: \"Participants fly in on the morning of the workshop\"",
            "      hint: use `hours.start`/`hours.end` for daily program hours",
            "    brief.constraints[6]: \"A photographer for the whole day\"",
        ],
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_lines(
        "report.md",
        &report,
        &[
            "## Not understood",
            "| brief.constraints[6] | A photographer for the whole day | not a form EODS recognises",
            "| brief.constraints[0] | Sessions 9h30 to 17h, lunch 12:30-13:30 with no sessions | sessions only between 09:30 and 17:00; lunch 12:30–13:30, no sessions |",
            "| brief.constraints[4] | Interpretation booths for Portuguese and English | venue must have interpretation booths |",
        ],
    );
    // The requirements artifact records the same.
    let req = read(&out.join("requirements.json"));
    let photographer = req["payload"]["nonfunctional"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "brief.constraints[6]")
        .unwrap();
    assert!(
        photographer["not_understood"]
            .as_str()
            .unwrap()
            .starts_with("not a form EODS recognises")
    );
    // The booths are rented into the venue's cost (sample rate cards).
    let shortlist = read(&out.join("venue_shortlist.json"));
    let rentals = shortlist["payload"]["candidates"][0]["rentals"]
        .as_array()
        .unwrap();
    assert!(
        rentals[0]
            .as_str()
            .unwrap()
            .starts_with("interpretation booths rented from"),
        "{rentals:?}"
    );
}

#[test]
fn a_blocked_plan_shows_why_and_the_ways_out_in_the_summary_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blocked");
    let mut brief = read(&example("s01-meetup.json"));
    brief["constraints"]
        .as_array_mut()
        .unwrap()
        .push("Needs an induction loop for hearing aids".into());
    let file = dir.path().join("brief.json");
    std::fs::write(&file, brief.to_string()).unwrap();
    let o = plan_auto(&file, &out, dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let id = event_id(&stdout);
    assert_lines(
        "the summary",
        &stdout,
        &[
            "state:      research (blocked)".to_owned(),
            "  ways out (best first; edit the brief and run `eods plan` again, or change this event through `eods serve`".to_owned(),
            "    1. Add venues in Berlin you know that have wifi and a projector and a hearing loop".into(),
            format!("(PUT /api/v1/events/{id}/venues queues the run again"),
            "Drop the need for a hearing loop (the brief says \"Needs an induction loop for hearing aids\")".into(),
        ],
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_lines(
        "report.md",
        &report,
        &[
            "## Blocked in research",
            "require a hearing loop",
            "| # | option | for | against |",
            "| 1 | Add venues in Berlin you know",
        ],
    );
}

#[test]
fn organiser_files_go_in_with_plan_and_quote_and_a_bad_row_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    // Sample organiser files (fictional venues and prices).
    let bad = file(
        "venues.csv",
        "name,city,country,capacity,day_rate,currency,notes\nSample Hall,Berlin,DE,120,900,EUR,sample\nSample Loft,Berlin,DE,lots,500,EUR,sample\nSample Barn,Berlin,DE,200,700,EURO,sample\n",
    );
    let brief = example("s01-meetup.json");
    let o = eods(&[
        "plan",
        brief.to_str().unwrap(),
        "--venues",
        &bad,
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("2 bad row(s); nothing was created"), "{t}");
    assert!(t.contains("venues.csv line 3, column capacity: "), "{t}");
    assert!(t.contains("venues.csv line 4, column currency: "), "{t}");
    assert!(!t.contains("planning"), "no event was submitted: {t}");

    // A budget too small for any venue: the run stops before Execute, so quotes can still come.
    let mut small: Value = read(&brief);
    small["budget"]["total"] = serde_json::json!(300);
    let small = file("small.json", &small.to_string());
    let venues = file(
        "good-venues.csv",
        "name,city,country,capacity,day_rate,currency,notes\nSample Hall,Berlin,DE,120,900,EUR,sample\nSample Studio,Berlin,DE,,,,sample\n",
    );
    let rates = file(
        "rate_cards.csv",
        "supplier,service,city,country,currency,item,unit,price,notes\nSample Catering,catering,Berlin,DE,EUR,lunch,per_head,18.50,sample\n",
    );
    let o = eods(&[
        "plan",
        &small,
        "--venues",
        &venues,
        "--rate-cards",
        &rates,
        "--approve",
        "auto",
        "--database",
        &db,
    ]);
    let t = text(&o);
    // The run stops (blocked or waiting for quotes); the files went in with the event.
    assert!(t.contains("run "), "{t}");
    assert!(
        t.contains("organiser data: 2 venue(s), 1 rate-card row(s), 0 quote(s)"),
        "{t}"
    );
    let id = event_id(&String::from_utf8_lossy(&o.stdout));

    let quotes = file(
        "quotes.csv",
        "venue,capacity,day_rate,currency,valid_until,notes\nSample Studio,60,450,EUR,2027-02-01,sample quote\n",
    );
    let o = eods(&["quote", &id, &quotes, "--database", &db]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "event {id}: 1 quote(s) stored (organiser_data revision 2)"
        )),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!("the run continues with: eods resume {id}")),
        "{}",
        text(&o)
    );
    let bad_quotes = file(
        "bad-quotes.csv",
        "venue,capacity,day_rate,currency\nSample Hall,100,300,\n",
    );
    let o = eods(&["quote", &id, &bad_quotes, "--database", &db]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("bad-quotes.csv line 2, column currency: "),
        "{}",
        text(&o)
    );
    let o = eods(&[
        "quote",
        "0190e0a0-0000-7000-8000-000000000000",
        &quotes,
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no event"), "{}", text(&o));
}

/// `plan --live` stops after Confirm, says when Execute begins and leaves the event in the
/// database; each later process (a restart) takes it up only once its time has come: before the
/// start nothing moves, after it Execute runs and waits for the end, after the end the postmortem
/// completes, and nothing in the outputs is simulated.
#[test]
fn a_live_plan_waits_for_its_day_and_later_processes_carry_it_through() {
    let dir = tempfile::tempdir().unwrap();
    for db in support::databases(dir.path(), "live") {
        let s01 = example("s01-meetup.json");
        let o = eods(&["plan", s01.to_str().unwrap(), "--live", "--database", &db]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("state:      confirm (running)"), "{out}");
        assert!(out.contains("mode:       live"), "{out}");
        // The next timer is the first task reminder (task-1 is due 2029-01-05; two days before,
        // 09:00 in Berlin).
        assert!(
            out.contains(&format!(
                "next: the event waits in {db}; its next timer is at 2029-01-03T08:00:00+00:00"
            )),
            "{out}"
        );
        assert!(!out.contains("metrics:"), "{out}");
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("Summary of event "))
            .unwrap()
            .trim()
            .to_owned();
        let resume_at = |now: &str, out: Option<&Path>| {
            let mut c = support::command();
            c.args(["resume", &id, "--database", &db])
                .env("EODS_NOW", now);
            if let Some(o) = out {
                c.arg("--out").arg(o);
            }
            c.output().unwrap()
        };
        // A task recorded done, one blocked: each says what is at risk; a block needs a reason.
        let task = |args: &[&str]| {
            let mut all = vec!["task", id.as_str()];
            all.extend_from_slice(args);
            all.extend_from_slice(&["--database", &db]);
            eods(&all)
        };
        let o = task(&["task-1", "--status", "done"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("not started → done on 2026-12-01"),
            "{}",
            text(&o)
        );
        assert!(text(&o).contains("(runbook revision 1)"), "{}", text(&o));
        let o = task(&["task-2", "--status", "blocked"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--reason"), "{}", text(&o));
        let o = task(&[
            "task-2",
            "--status",
            "blocked",
            "--reason",
            "no floor plan yet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("blocked: task-2"), "{}", text(&o));
        let o = task(&["task-2", "--status", "finished"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("use done, in_progress, not_started or blocked"),
            "{}",
            text(&o)
        );
        // An hour before the start (midnight in Berlin): nothing moves.
        let o = resume_at("2029-03-07T22:00:00Z", None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("state:      confirm (running)"),
            "{}",
            text(&o)
        );
        // During the event: Execute, waiting for the end.
        let o = resume_at("2029-03-08T10:00:00Z", None);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("confirm → execute"), "{out}");
        assert!(out.contains("state:      execute (running)"), "{out}");
        assert!(
            out.contains("its next timer is at 2029-03-08T23:00:00+00:00"),
            "{out}"
        );
        // The day after: the postmortem, from what was recorded.
        let files = dir.path().join(format!("out-{}", db.len()));
        let o = resume_at("2029-03-09T10:00:00Z", Some(&files));
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("state:      postmortem (completed)"), "{out}");
        assert!(!out.contains("simulated"), "{out}");
        let runbook = read(&files.join("runbook.json"));
        assert!(runbook["payload"]["simulation_seed"].is_null(), "{runbook}");
        assert_eq!(
            runbook["payload"]["entries"][0]["status"], "done",
            "{runbook}"
        );
        assert_eq!(
            runbook["payload"]["entries"][1]["note"],
            "no floor plan yet"
        );
        assert_eq!(runbook["payload"]["event_ended"], true);
        let report = std::fs::read_to_string(files.join("report.md")).unwrap();
        assert!(!report.contains("Simulated"), "{report}");
        // Every task not recorded done was escalated once on the way; task-1 was done.
        let log = std::fs::read_to_string(files.join("decision_log.json")).unwrap();
        assert_eq!(log.matches("\"task-2 overdue\"").count(), 1, "{log}");
        assert!(!log.contains("task-1 overdue"), "{log}");
        assert!(report.contains("not measured"), "{report}");
    }
}

/// A rehearsal (the default) says it is simulated wherever its Execute and postmortem show.
#[test]
fn a_rehearsal_is_labelled_simulated() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("e.db").display());
    let files = dir.path().join("out");
    let s01 = example("s01-meetup.json");
    let o = eods(&[
        "plan",
        s01.to_str().unwrap(),
        "--database",
        &db,
        "--out",
        files.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("mode:       simulate"), "{out}");
    assert!(
        out.contains("metrics: (simulated with seed 42: a rehearsal, not a record)"),
        "{out}"
    );
    let report = std::fs::read_to_string(files.join("report.md")).unwrap();
    assert!(report.contains("**Simulated** (seed 42)"), "{report}");
    assert_eq!(
        read(&files.join("runbook.json"))["payload"]["simulation_seed"],
        42
    );
}

/// `eods retention` as an operator uses it (issue 15, item 10): a year and a half after two
/// rehearsals, a dry run lists both and changes nothing, a legal hold keeps one, the purge removes
/// the other and says what it removed, `list` shows the hold and the purge, and the audit check
/// against heads saved before accepts the purged event's heads from its record.
#[test]
fn retention_purges_what_expired_keeps_what_is_held_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path(), "retention") {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let o = eods(&[
                "plan",
                example("s01-meetup.json").to_str().unwrap(),
                "--database",
                &db,
            ]);
            assert!(o.status.success(), "{}", text(&o));
            ids.push(event_id(&String::from_utf8_lossy(&o.stdout)));
        }
        let heads = dir.path().join("heads.json");
        let o = eods(&[
            "audit",
            "verify",
            "--database",
            &db,
            "--save-heads",
            heads.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let later = |args: &[&str]| {
            support::command()
                .env("EODS_NOW", "2028-06-01T09:00:00Z")
                .args(args)
                .output()
                .unwrap()
        };
        let o = later(&[
            "retention",
            "hold",
            &ids[0],
            "--reason",
            "insurance claim",
            "--database",
            &db,
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let o = later(&["retention", "purge", "--dry-run", "--database", &db]);
        let out = text(&o);
        assert!(o.status.success(), "{out}");
        assert!(out.contains(&format!("would purge: {}", ids[1])), "{out}");
        assert!(
            out.contains(&format!("kept (legal hold: insurance claim): {}", ids[0])),
            "{out}"
        );
        assert!(out.contains("nothing changed"), "{out}");
        let o = later(&[
            "retention",
            "purge",
            "--retention-days",
            "100",
            "--database",
            &db,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--retention-days"), "{}", text(&o));
        // A year and a half on is still inside a 1,000-day retention: nothing goes.
        let o = later(&[
            "retention",
            "purge",
            "--retention-days",
            "1000",
            "--database",
            &db,
        ]);
        assert!(text(&o).contains("0 event(s) purged"), "{}", text(&o));
        let o = later(&["retention", "purge", "--database", &db]);
        let out = text(&o);
        assert!(o.status.success(), "{out}");
        assert!(
            out.contains(&format!("purged: {}", ids[1])) && out.contains("\"artifact_revisions\":"),
            "{out}"
        );
        assert!(
            out.contains("1 event(s) purged and recorded, 1 kept by legal holds"),
            "{out}"
        );
        let o = eods(&[
            "export",
            &ids[1],
            "--database",
            &db,
            "--out",
            dir.path().join("x").to_str().unwrap(),
        ]);
        assert!(
            o.status.code() == Some(2) && text(&o).contains(&format!("no event {}", ids[1])),
            "the purged event is gone: {}",
            text(&o)
        );
        let o = eods(&["retention", "list", "--json", "--database", &db]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["holds"][0]["reason"], "insurance claim");
        assert_eq!(v["purges"][0]["event"], ids[1].as_str());
        assert_eq!(v["purges"][0]["retention_days"], 365);
        let o = eods(&[
            "audit",
            "verify",
            "--database",
            &db,
            "--heads",
            heads.to_str().unwrap(),
        ]);
        let out = text(&o);
        assert!(o.status.success(), "{out}");
        assert!(
            out.contains("3 saved head(s) belong to events removed by a retention purge"),
            "{out}"
        );
        let o = later(&["retention", "release", &ids[0], "--database", &db]);
        assert!(o.status.success(), "{}", text(&o));
        let o = later(&["retention", "release", &ids[0], "--database", &db]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }
}

/// Encryption at rest as an operator meets it (issue 15, item 9): a plan of S-02 under a key file
/// leaves no contract term, negotiation note, target price or e-mail address in the SQLite
/// files; `eods keys rotate` re-wraps the data key under a new master key, after which the new
/// key alone reads everything back and the old one alone is refused, naming the key it needs;
/// the audit check needs neither.
#[test]
fn a_plan_is_sealed_at_rest_and_a_key_rotation_keeps_it_readable() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let file = |name: &str| dir.path().join(name);
    let with_key = |key: &Path, args: &[&str]| {
        support::command()
            .env("EODS_ENCRYPTION_KEY_FILE", key)
            .args(args)
            .output()
            .unwrap()
    };
    for k in ["k1", "k2"] {
        let o = eods(&["keys", "generate", "--out", file(k).to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let out = file("out");
    let o = with_key(
        &file("k1"),
        &[
            "plan",
            example("s02-conference.json").to_str().unwrap(),
            "--approve",
            "auto",
            "--out",
            out.to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let id = event_id(&String::from_utf8_lossy(&o.stdout));
    // What must not be stored in plaintext, taken from what the plan wrote out.
    let mut secrets: Vec<String> =
        vec!["\"cancellation_policy\"".into(), "\"target_price\"".into()];
    let brief = read(&example("s02-conference.json"));
    for s in brief["stakeholders"].as_array().unwrap() {
        secrets.push(s["contact"].as_str().unwrap().to_owned());
    }
    let contracts = read(&out.join("vendor_contracts.json"));
    for v in contracts["payload"]["vendors"].as_array().unwrap() {
        secrets.push(v["cancellation_policy"].as_str().unwrap().to_owned());
        secrets.push(v["terms"]["payment_terms"].as_str().unwrap().to_owned());
    }
    let notes = read(&out.join("venue_negotiation_notes.json"));
    for n in notes["payload"]["entries"].as_array().unwrap() {
        secrets.push(n["terms"].as_str().unwrap().to_owned());
        for c in n["concessions"].as_array().unwrap() {
            secrets.push(c.as_str().unwrap().to_owned());
        }
    }
    assert!(secrets.len() > 10, "{secrets:?}");
    let mut stored = std::fs::read(file("eods.db")).unwrap();
    stored.extend(std::fs::read(file("eods.db-wal")).unwrap_or_default());
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        stored.contains("CloudData Summit"),
        "the search reads the database"
    );
    for s in &secrets {
        assert!(!stored.contains(s.as_str()), "`{s}` is stored in plaintext");
    }
    // Rotation: the new key first, the old one after it.
    let both = file("k21");
    let k1 = std::fs::read_to_string(file("k1")).unwrap();
    let k2 = std::fs::read_to_string(file("k2")).unwrap();
    std::fs::write(&both, format!("{k2}{k1}")).unwrap();
    let o = with_key(&both, &["keys", "rotate", "--database", &db]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("re-wrapped 1 data key(s)"),
        "{}",
        text(&o)
    );
    let ex = file("ex");
    let o = with_key(
        &file("k2"),
        &[
            "export",
            &id,
            "--out",
            ex.to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        read(&ex.join("vendor_contracts.json"))["payload"],
        contracts["payload"]
    );
    let o = with_key(&file("k2"), &["keys", "status", "--database", &db]);
    assert!(o.status.success(), "{}", text(&o));
    let new_id = text(&o)
        .split_whitespace()
        .find(|w| w.starts_with("m-"))
        .map(|w| w.trim_end_matches(',').to_owned())
        .unwrap();
    let o = with_key(
        &file("k1"),
        &[
            "export",
            &id,
            "--out",
            file("ex2").to_str().unwrap(),
            "--database",
            &db,
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(&new_id), "{}", text(&o));
    let o = with_key(&file("k1"), &["keys", "status", "--database", &db]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("NOT CONFIGURED"), "{}", text(&o));
    let o = with_key(&file("k1"), &["audit", "verify", "--database", &db]);
    assert!(o.status.success(), "{}", text(&o));
}

/// `eods replay` re-runs a planned event offline from its record and finds every revision as
/// recorded (a demo event, and a real city's, which stops where the organiser must supply
/// venues); an event not in the database is bad input.
#[test]
fn replay_reproduces_planned_events_from_their_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    for brief in ["s03-large-event.json", "lisbon-open-data-workshop.json"] {
        let o = plan_auto(&example(brief), &dir.path().join(brief), dir.path());
        let id = event_id(&String::from_utf8_lossy(&o.stdout));
        let o = eods(&["replay", &id, "--database", &db]);
        assert!(o.status.success(), "{brief}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("identical: all "), "{out}");
        let o = eods(&["replay", &id, "--database", &db, "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["first_difference"], Value::Null, "{report}");
        assert_eq!(report["event_id"], id.as_str());
        assert!(report["revisions"].as_u64().unwrap() >= 2, "{report}");
    }
    let o = eods(&[
        "replay",
        "01a2357e-36cb-776b-a6b3-4a15ccd79369",
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no event 01a2357e-36cb-776b-a6b3-4a15ccd79369"));
}

/// `eods drafts` (issue 16): writes an event's message drafts from its plan, shows them, approves
/// one on the revision read, refuses an unknown draft or a stale revision with exit 2, and the
/// event still replays exactly.
#[test]
fn drafts_are_written_shown_and_approved_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path());
    let mut brief: Value =
        serde_json::from_str(&std::fs::read_to_string(example("s02-conference.json")).unwrap())
            .unwrap();
    brief["language"] = json!("de");
    let path = dir.path().join("brief.json");
    std::fs::write(&path, brief.to_string()).unwrap();
    let o = plan_auto(&path, &dir.path().join("out"), dir.path());
    let id = event_id(&String::from_utf8_lossy(&o.stdout));

    let o = eods(&["drafts", &id, "--database", &db]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no drafts yet"));
    let o = eods(&["drafts", &id, "--write", "--database", &db]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("message_drafts revision 1 written"), "{out}");
    assert!(
        out.contains("attendees  attendee_announcement to Teilnehmende"),
        "{out}"
    );
    assert!(out.contains("Liebe Teilnehmende"), "{out}");
    // The selected venue is named once approved (`--approve auto` approved it).
    assert!(out.contains("Veranstaltungsort ist "), "{out}");

    let o = eods(&[
        "drafts",
        &id,
        "--approve",
        "nobody",
        "--revision",
        "1",
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no draft `nobody`"), "{}", text(&o));
    let o = eods(&[
        "drafts",
        &id,
        "--approve",
        "attendees",
        "--revision",
        "1",
        "--database",
        &db,
        "--user",
        "bob",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("draft attendees approved by user:bob (message_drafts revision 2): it names no e-mail address"),
        "{out}"
    );
    let o = eods(&[
        "drafts",
        &id,
        "--approve",
        "speaker-1",
        "--revision",
        "1",
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not the current one (current: 2)"));

    let o = eods(&["drafts", &id, "--json", "--database", &db]);
    let shown: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown["revision"], 2);
    let approved: Vec<&Value> = shown["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "approved")
        .collect();
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["approved_by"], "user:bob");

    let o = eods(&["replay", &id, "--database", &db]);
    assert!(o.status.success(), "{}", text(&o));
}
