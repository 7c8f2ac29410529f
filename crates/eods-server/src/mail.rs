//! E-mail for the notifications people read: approval requested, approval escalated, task
//! reminder, task overdue. Each goes, as one plain-text message, to the recipients its payload
//! names (the stakeholders of the brief whose contact is an e-mail address: the approvers of the
//! gate, a task's owner, the backups an escalation goes to), with links to the page that acts on
//! it. Sent over SMTP (lettre), configured by URL (`smtp://host:port`, `smtps://…`,
//! `smtp://…?tls=required`, with `user:password@` when the server wants a login); off when unset.
//! Delivery shares the outbox loop of [`crate::webhook`]: at least once, retried with backoff,
//! given up at once when the server refuses for good.

use crate::webhook::{self, Failure};
use eods_store::{Channel, OutboxKind, OutboxRow, Store};
use futures_util::future::BoxFuture;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::watch;

/// Notifications older than this when mail first tries them are not sent (mail was off when
/// they were written; a week-old reminder helps nobody).
pub const MAX_AGE: chrono::TimeDelta = chrono::TimeDelta::days(3);

/// Where and as whom e-mail is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct MailConfig {
    /// The SMTP server's URL.
    pub url: String,
    /// The sender, e.g. `EODS <eods@example.org>`.
    pub from: String,
    /// Attempts before a message is given up.
    pub attempts: u32,
}

/// The SMTP transport for `url`, or why the URL is not one.
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|b| b.timeout(Some(Duration::from_secs(20))).build())
        .map_err(|e| {
            format!(
                "--smtp-url: `{}` is not an SMTP URL ({e}); write smtp://host:port, smtps://host or smtp://user:password@host:587?tls=required",
                redact(url)
            )
        })
}

/// The sender mailbox, or why it is not one.
pub fn sender(from: &str) -> Result<Mailbox, String> {
    from.parse().map_err(|e| {
        format!(
            "--mail-from: `{from}` is not a mailbox ({e}); write e.g. `EODS <eods@example.org>`"
        )
    })
}

/// `url` without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
    clock: std::sync::Arc<dyn eods_engine::Clock>,
}

impl webhook::Send for Smtp {
    fn send<'a>(&'a self, n: &'a OutboxRow) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            if n.attempts == 0 && self.clock.now() - n.created_at > MAX_AGE {
                return Err(Failure {
                    message: format!(
                        "not mailed: written {} while mail was off, more than {} days before mail first tried it",
                        n.created_at.format("%Y-%m-%d %H:%M UTC"),
                        MAX_AGE.num_days()
                    ),
                    permanent: true,
                });
            }
            let m = message(n, &self.from, &self.public_url).map_err(|message| Failure {
                message,
                permanent: true,
            })?;
            match self.transport.send(m).await {
                Ok(_) => Ok(()),
                Err(e) => Err(Failure {
                    message: format!("SMTP: {e}"),
                    permanent: e.is_permanent(),
                }),
            }
        })
    }
}

/// Mails due notifications until `shutdown` turns true.
pub async fn deliver(
    store: Store,
    clock: std::sync::Arc<dyn eods_engine::Clock>,
    config: MailConfig,
    public_url: String,
    owner: String,
    shutdown: watch::Receiver<bool>,
) {
    let (transport, from) = match (transport(&config.url), sender(&config.from)) {
        (Ok(t), Ok(f)) => (t, f),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "mail is off; notifications stay in the outbox");
            return;
        }
    };
    let smtp = Smtp {
        transport,
        from,
        public_url: public_url.trim_end_matches('/').to_owned(),
        clock: clock.clone(),
    };
    webhook::run(
        &store,
        &*clock,
        Channel::Mail,
        &smtp,
        &owner,
        config.attempts,
        shutdown,
    )
    .await;
}

fn text<'a>(p: &'a Value, key: &str) -> &'a str {
    p[key].as_str().unwrap_or("")
}

/// The message of notification `n`: its recipients, a subject and a plain-text body with the
/// links (under `public_url`) to act on it.
pub fn message(n: &OutboxRow, from: &Mailbox, public_url: &str) -> Result<Message, String> {
    let p = &n.payload;
    let event = format!("{public_url}/ui/events/{}", n.event_id);
    let title = text(p, "event_title");
    let gate = text(p, "gate").replace('_', " ");
    let (subject, body) = match n.kind {
        OutboxKind::ApprovalRequested => (
            format!("Approval requested: {gate} for {title}"),
            format!(
                "Your decision is requested on the {gate} of {title} (revision {}).\n\n{}\n\n\
                 {} approval(s) are needed by {}.\n\nReview and decide: {public_url}/ui/approvals/{}\n\
                 The event: {event}\n",
                p["artifact_revision"],
                text(p, "summary"),
                p["required_approvals"],
                deadline(p),
                text(p, "approval_id"),
            ),
        ),
        OutboxKind::ApprovalEscalated => (
            format!("Overdue approval escalated to you: {gate} for {title}"),
            format!(
                "{}.\n\nReview and decide: {public_url}/ui/approvals/{}\nThe event: {event}\n",
                text(p, "message"),
                text(p, "approval_id"),
            ),
        ),
        OutboxKind::TaskReminder => (
            format!(
                "Reminder: \"{}\" for {title} is due {}",
                text(p, "title"),
                text(p, "due")
            ),
            format!(
                "{}.\n\nRecord its status on the task board: {event}#task-board\n",
                text(p, "message")
            ),
        ),
        OutboxKind::TaskOverdue => (
            format!(
                "Overdue: \"{}\" for {title} was due {}",
                text(p, "title"),
                text(p, "due")
            ),
            format!(
                "{}.\n\nRecord its status or a new date on the task board: {event}#task-board\n",
                text(p, "message")
            ),
        ),
        OutboxKind::Incident => (
            format!(
                "Incident at {title}: {}",
                text(p, "incident").replace('_', " ")
            ),
            format!(
                "{}.\n\nThe prepared response and its status: {event}#incidents\n\
                 Record how it was resolved there once it is.\n",
                text(p, "message")
            ),
        ),
        // An approved draft: the organiser's own words, as a person approved them.
        OutboxKind::Message => (text(p, "subject").to_owned(), text(p, "body").to_owned()),
        OutboxKind::RunStopped => return Err("run_stopped notifications are not mailed".into()),
    };
    let mut b = Message::builder()
        .from(from.clone())
        .subject(subject)
        .message_id(Some(format!("<{}@eods>", n.id)))
        .header(ContentType::TEXT_PLAIN);
    let mut any = false;
    for r in p["recipients"].as_array().into_iter().flatten() {
        let email = text(r, "email");
        let Ok(address) = email.parse() else {
            continue;
        };
        let name = text(r, "name");
        b = b.to(Mailbox::new(
            (!name.is_empty()).then(|| name.to_owned()),
            address,
        ));
        any = true;
    }
    if !any {
        return Err("no recipient with an e-mail address".into());
    }
    let body = if n.kind == OutboxKind::Message {
        body
    } else {
        format!(
            "{body}\n-- \nSent by EODS for {title}. You get this because the brief names you as a stakeholder.\n"
        )
    };
    b.body(body)
        .map_err(|e| format!("the message could not be built: {e}"))
}

/// An approval deadline as people read it.
fn deadline(p: &Value) -> String {
    p["deadline"]
        .as_str()
        .and_then(|d| d.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .map_or_else(
            || text(p, "deadline").to_owned(),
            |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn row(kind: OutboxKind, payload: Value) -> OutboxRow {
        OutboxRow {
            id: uuid::Uuid::nil(),
            event_id: eods_domain::ids::EventId(uuid::Uuid::nil()),
            kind,
            dedupe_key: "k".into(),
            payload,
            created_at: chrono::Utc::now(),
            status: eods_store::OutboxStatus::Pending,
            attempts: 0,
            next_attempt_ms: 0,
            delivered_at: None,
            last_error: None,
        }
    }

    #[test]
    fn a_message_goes_to_the_named_recipients_with_the_link_to_act() {
        let n = row(
            OutboxKind::ApprovalRequested,
            serde_json::json!({
                "event_title": "Meetup", "gate": "budget_decision", "approval_id": "a1",
                "artifact_revision": 2, "required_approvals": 1,
                "deadline": "2027-03-01T09:00:00Z", "summary": "Budget 500 EUR",
                "recipients": [{"name": "Jana", "email": "jana@example.org"},
                               {"name": "Phone only", "email": "+49 30 123"}],
            }),
        );
        let from = sender("EODS <eods@example.org>").unwrap();
        let m = message(&n, &from, "https://eods.example.org").unwrap();
        let to: Vec<String> = m.envelope().to().iter().map(ToString::to_string).collect();
        assert_eq!(to, ["jana@example.org"]);
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("Subject: Approval requested: budget decision for Meetup"));
        assert!(
            text.contains("https://eods.example.org/ui/approvals/a1"),
            "{text}"
        );
        assert!(text.contains("2027-03-01 09:00 UTC"));
    }

    #[test]
    fn an_incident_goes_to_the_owner_with_the_link_to_its_log() {
        let n = row(
            OutboxKind::Incident,
            serde_json::json!({
                "event_title": "Meetup", "incident": "av_failure", "number": 1,
                "message": "Incident 1 (av failure) reported by user:malik on Meetup: projector died",
                "recipients": [{"name": "Jana", "email": "jana@example.org"}],
            }),
        );
        let from = sender("eods@example.org").unwrap();
        let m = message(&n, &from, "https://eods.example.org").unwrap();
        // The body is quoted-printable: join its soft line breaks.
        let text = String::from_utf8(m.formatted())
            .unwrap()
            .replace("=\r\n", "")
            .replace("=\n", "");
        assert!(
            text.contains("Subject: Incident at Meetup: av failure"),
            "{text}"
        );
        assert!(text.contains("projector died"), "{text}");
        assert!(
            text.contains(
                "https://eods.example.org/ui/events/00000000-0000-0000-0000-000000000000#incidents"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_notification_without_an_address_is_refused_and_urls_are_checked() {
        let n = row(
            OutboxKind::TaskOverdue,
            serde_json::json!({"recipients": [{"name": "x", "email": "not an address"}]}),
        );
        let from = sender("eods@example.org").unwrap();
        assert!(message(&n, &from, "http://x").is_err());
        assert!(transport("smtp://127.0.0.1:2525").is_ok());
        let e = transport("http://user:secret@host").err().unwrap();
        assert!(e.contains("--smtp-url") && !e.contains("secret"), "{e}");
        assert!(sender("nobody").unwrap_err().contains("--mail-from"));
    }
}
