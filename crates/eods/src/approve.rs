//! Approvers for the CLI: `--approve auto` approves as the named user and records it;
//! `--approve prompt` asks on the terminal for approve / reject / request changes and a comment.

use eods_domain::lifecycle::{ApprovalDecision, ApprovalGate};
use eods_engine::{Answer, Approver, PendingApproval};
use std::io::{BufRead, Write};

/// Approves everything as `user`.
pub struct AutoApprover {
    pub user: String,
}

impl Approver for AutoApprover {
    fn decide(&mut self, request: &PendingApproval) -> Answer {
        Answer {
            decision: ApprovalDecision::Approve,
            comment: format!(
                "auto-approved {} revision {} from the CLI",
                request.gate, request.artifact_revision
            ),
            by: self.user.clone(),
        }
    }
}

/// Asks on standard input.
pub struct PromptApprover<R: BufRead, W: Write> {
    pub user: String,
    pub input: R,
    pub output: W,
}

impl<R: BufRead, W: Write> PromptApprover<R, W> {
    fn ask(&mut self, question: &str) -> Option<String> {
        let _ = write!(self.output, "{question}");
        let _ = self.output.flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_owned()),
        }
    }
}

impl<R: BufRead, W: Write> Approver for PromptApprover<R, W> {
    fn refused(&mut self, request: &PendingApproval, reason: &str) -> bool {
        let _ = writeln!(
            self.output,
            "  Not recorded: {reason}\n  Asking again about {} (revision {}).",
            request.gate, request.artifact_revision
        );
        true
    }

    fn decide(&mut self, request: &PendingApproval) -> Answer {
        let _ = writeln!(
            self.output,
            "\nApproval requested: {} (revision {})\n  {}",
            request.gate, request.artifact_revision, request.summary
        );
        loop {
            let Some(answer) = self.ask("  [a]pprove, [r]eject or request [c]hanges? ") else {
                let _ = writeln!(
                    self.output,
                    "\nno answer on standard input: stopping (the run resumes with `eods resume`)"
                );
                std::process::exit(2);
            };
            let decision = match answer.to_lowercase().as_str() {
                "a" | "approve" => ApprovalDecision::Approve,
                "r" | "reject" => ApprovalDecision::Reject,
                "c" | "changes" | "request changes" => ApprovalDecision::RequestChanges,
                other => {
                    let _ = writeln!(self.output, "  `{other}` is not an answer: type a, r or c");
                    continue;
                }
            };
            let comment = self
                .ask(
                    if request.gate == ApprovalGate::BudgetDecision
                        && decision != ApprovalDecision::Approve
                    {
                        "  Comment (an amount sets the cap, e.g. `cap at 1500`; none: 5% less): "
                    } else {
                        "  Comment: "
                    },
                )
                .unwrap_or_default();
            return Answer {
                decision,
                comment,
                by: self.user.clone(),
            };
        }
    }
}
