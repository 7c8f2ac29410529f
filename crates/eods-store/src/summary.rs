//! The event row's view of its brief, written inside a commit's transaction: the summary columns
//! (a derived index of the current event_brief revision, for lists and the inbox) and the draft
//! (an incomplete brief, kept only while the event has no event_brief revision). Deriving the
//! summary here, from the revision the same transaction inserts, is what keeps the two from ever
//! disagreeing: no caller can write a revision and forget its summary. This module decides
//! nothing about the brief; it copies fields.

use crate::rows::BriefSummary;
use crate::{Commit, StoreError};
use chrono::NaiveDate;
use eods_domain::artifact::ArtifactType;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::instruction::Level;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, Transaction, Type};

/// Rows an UPDATE changed, for either backend.
pub(crate) trait RowsAffected {
    fn rows(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

/// What a commit changes of the event row's brief columns.
#[derive(Debug, Clone, PartialEq)]
enum BriefColumns {
    /// A new event_brief revision: its title and summary, and no draft.
    Revision {
        title: String,
        summary: BriefSummary,
    },
    /// A draft (still incomplete): its title if it has one, its partial summary, the draft.
    Draft {
        title: Option<String>,
        summary: BriefSummary,
        draft: Value,
    },
}

/// The brief columns `c` writes, if any. The newest event_brief revision in the commit wins; a
/// commit carrying both a revision and a draft is a caller's mistake and refused.
fn brief_columns(c: &Commit) -> Result<Option<BriefColumns>, StoreError> {
    let revision = c
        .artifacts
        .iter()
        .filter(|a| a.artifact_type == ArtifactType::EventBrief)
        .max_by_key(|a| a.revision);
    match (revision, &c.draft) {
        (Some(_), Some(_)) => Err(StoreError::Conflict(format!(
            "commit {} carries an event_brief revision and a draft: a draft exists only while there is no revision",
            c.step_key
        ))),
        (Some(a), None) => {
            let b: EventBrief = serde_json::from_value(a.payload.clone()).map_err(|e| {
                StoreError::Corrupt(format!(
                    "event_brief revision {} cannot be summarised: {e}",
                    a.revision
                ))
            })?;
            Ok(Some(BriefColumns::Revision {
                title: b.title.clone(),
                summary: BriefSummary::of_brief(&b),
            }))
        }
        (None, Some(d)) => {
            let (title, summary) = BriefSummary::of_value(d);
            Ok(Some(BriefColumns::Draft {
                title,
                summary,
                draft: d.clone(),
            }))
        }
        (None, None) => Ok(None),
    }
}

/// Writes the event row's brief columns for commit `c` inside its transaction, after its
/// artifacts were inserted. With an event_brief revision in `c.artifacts`: title and summary from
/// the newest one, draft cleared. With `c.draft`: the draft and its partial summary, refused with
/// [`StoreError::Conflict`] when the event already has an event_brief revision. With `c.level`:
/// the level. Otherwise nothing. The SQL, for a caller writing it elsewhere:
///
/// ```sql
/// -- a revision
/// UPDATE events SET title = $1, city = $2, country = $3, start_date = $4, end_date = $5,
///   audience_size = $6, currency = $7, budget_total = $8, brief_draft = NULL,
///   level = COALESCE($9, level) WHERE id = $10;
/// -- a draft (0 rows: the event has a revision, refuse)
/// UPDATE events SET title = COALESCE($1, title), city = $2, …, budget_total = $8,
///   brief_draft = $9, level = COALESCE($10, level) WHERE id = $11
///   AND NOT EXISTS (SELECT 1 FROM artifacts WHERE event_id = $11 AND artifact_type = 'event_brief');
/// -- only a level
/// UPDATE events SET level = $1 WHERE id = $2;
/// ```
///
/// `row` is what the transaction knows the columns hold (the event row it inserted, if any);
/// a revision that would write the same values is not written again, and `row` follows every
/// write (it is cleared when a write is not known in full).
pub(crate) async fn write_brief_columns<DB>(
    tx: &mut Transaction<'_, DB>,
    keys: &crate::keys::Keyring,
    c: &Commit,
    row: &mut Option<(String, BriefSummary, Level)>,
) -> Result<(), StoreError>
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> String: Encode<'e, DB> + Type<DB>,
    for<'e> Option<String>: Encode<'e, DB> + Type<DB>,
    for<'e> Option<NaiveDate>: Encode<'e, DB> + Type<DB>,
    for<'e> Option<i64>: Encode<'e, DB> + Type<DB>,
    for<'e> Json<Value>: Encode<'e, DB> + Type<DB>,
{
    let event = c.event_id.to_string();
    let level = c.level.map(|l| l.as_str().to_owned());
    let columns = brief_columns(c)?;
    if let (Some(BriefColumns::Revision { title, summary }), Some((t, s, l))) = (&columns, &*row)
        && title == t
        && summary == s
        && c.level.is_none_or(|n| n == *l)
    {
        return Ok(());
    }
    *row = match (&columns, &*row) {
        (Some(BriefColumns::Revision { title, summary }), Some((_, _, l))) => {
            Some((title.clone(), summary.clone(), c.level.unwrap_or(*l)))
        }
        (None, Some((t, s, l))) => Some((t.clone(), s.clone(), c.level.unwrap_or(*l))),
        _ => None,
    };
    let Some(columns) = columns else {
        if let Some(level) = level {
            sqlx::query::<DB>("UPDATE events SET level = $1 WHERE id = $2")
                .bind(level)
                .bind(event)
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::query("update level", e))?;
        }
        return Ok(());
    };
    match columns {
        BriefColumns::Revision { title, summary } => {
            let q = sqlx::query::<DB>("UPDATE events SET title = $1, city = $2, country = $3, start_date = $4, end_date = $5, audience_size = $6, currency = $7, budget_total = $8, brief_draft = NULL, level = COALESCE($9, level) WHERE id = $10")
                .bind(title);
            bind_summary(q, summary)
                .bind(level)
                .bind(event)
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::query("update brief summary", e))?;
        }
        BriefColumns::Draft {
            title,
            summary,
            draft,
        } => {
            let q = sqlx::query::<DB>("UPDATE events SET title = COALESCE($1, title), city = $2, country = $3, start_date = $4, end_date = $5, audience_size = $6, currency = $7, budget_total = $8, brief_draft = $9, level = COALESCE($10, level) WHERE id = $11 AND NOT EXISTS (SELECT 1 FROM artifacts WHERE event_id = $11 AND artifact_type = 'event_brief')")
                .bind(title);
            let draft = keys.seal(&draft, &crate::keys::draft_context(&event))?;
            let done = bind_summary(q, summary)
                .bind(Json(draft))
                .bind(level)
                .bind(event.clone())
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::query("update brief draft", e))?;
            if done.rows() != 1 {
                return Err(StoreError::Conflict(format!(
                    "event {event} has an event_brief revision: an incomplete brief cannot replace it (amend the current revision instead)"
                )));
            }
        }
    }
    Ok(())
}

/// Binds the seven summary columns in [`crate::SUMMARY_COLUMNS`] order.
fn bind_summary<'q, DB>(
    q: sqlx::query::Query<'q, DB, DB::Arguments>,
    s: BriefSummary,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'e> Option<String>: Encode<'e, DB> + Type<DB>,
    for<'e> Option<NaiveDate>: Encode<'e, DB> + Type<DB>,
    for<'e> Option<i64>: Encode<'e, DB> + Type<DB>,
{
    q.bind(s.city)
        .bind(s.country)
        .bind(s.start_date)
        .bind(s.end_date)
        .bind(s.audience_size.map(i64::from))
        .bind(s.currency)
        .bind(s.budget_total)
}

#[cfg(test)]
mod tests {
    use super::{BriefColumns, brief_columns};
    use crate::Commit;
    use eods_domain::artifact::{ArtifactType, Envelope};
    use eods_domain::ids::{ArtifactId, EventId};
    use serde_json::json;

    fn brief(title: &str, total: &str) -> serde_json::Value {
        json!({
            "title": title, "event_type": "meetup",
            "date_range": {"start": "2031-05-20", "end": "2031-05-21"},
            "timezone": "Europe/Berlin", "audience_size": 40,
            "location": {"city": "Berlin", "country": "DE"},
            "budget": {"total": total, "currency": "EUR"}
        })
    }

    fn envelope(revision: u32, payload: serde_json::Value) -> Envelope {
        Envelope {
            id: ArtifactId(uuid::Uuid::now_v7()),
            event_id: EventId(uuid::Uuid::nil()),
            artifact_type: ArtifactType::EventBrief,
            revision,
            schema_version: "1".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            created_by: "user:test".into(),
            correlation_id: "c".into(),
            derived_from: vec![],
            payload,
        }
    }

    #[test]
    fn the_newest_revision_is_summarised_and_a_draft_next_to_one_is_refused() {
        let c = Commit {
            artifacts: vec![
                envelope(2, brief("Old", "50000")),
                envelope(3, brief("New", "80000")),
            ],
            ..Commit::default()
        };
        let Some(BriefColumns::Revision { title, summary }) = brief_columns(&c).unwrap() else {
            panic!("a revision");
        };
        assert_eq!(title, "New");
        assert_eq!(summary.budget_total.as_deref(), Some("80000"));
        assert_eq!(summary.city.as_deref(), Some("Berlin"));
        assert_eq!(summary.audience_size, Some(40));
        assert_eq!(
            summary.start_date,
            chrono::NaiveDate::from_ymd_opt(2031, 5, 20)
        );

        let both = Commit {
            draft: Some(json!({"title": "x"})),
            ..c
        };
        assert!(brief_columns(&both).is_err());
    }

    #[test]
    fn a_draft_keeps_what_it_has() {
        let c = Commit {
            draft: Some(
                json!({"title": "Draft", "location": {"city": "Oslo"}, "audience_size": "many"}),
            ),
            ..Commit::default()
        };
        let Some(BriefColumns::Draft { title, summary, .. }) = brief_columns(&c).unwrap() else {
            panic!("a draft");
        };
        assert_eq!(title.as_deref(), Some("Draft"));
        assert_eq!(summary.city.as_deref(), Some("Oslo"));
        assert_eq!(summary.country, None);
        assert_eq!(
            summary.audience_size, None,
            "a value of the wrong form is left out"
        );
        assert_eq!(brief_columns(&Commit::default()).unwrap(), None);
    }
}
