//! Where a request stands, and which moves each state allows. Pure.
//!
//! ```text
//! draft → submitted → in_review ⇄ info_requested → approved | rejected
//!   any state before a decision → withdrawn (by the requester)
//! ```
//!
//! `approved` may carry conditions (the decision's text); it is still `approved`.

use std::fmt;

use serde::Serialize;

/// A request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being filled in by the requester; nobody else sees it.
    Draft,
    /// Sent, waiting for an officer to pick it up.
    Submitted,
    /// An officer is reviewing it.
    InReview,
    /// The officer asked the requester something; waiting for their answer.
    InfoRequested,
    Approved,
    Rejected,
    /// The requester withdrew it.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Draft,
        Status::Submitted,
        Status::InReview,
        Status::InfoRequested,
        Status::Approved,
        Status::Rejected,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::InfoRequested => "info_requested",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// The stored spelling back. Unknown text is `None`: the caller fails closed.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Submitted => "Submitted",
            Status::InReview => "In review",
            Status::InfoRequested => "Waiting for the requester",
            Status::Approved => "Approved",
            Status::Rejected => "Rejected",
            Status::Withdrawn => "Withdrawn",
        }
    }

    /// Decided or withdrawn: nothing moves it again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Approved | Status::Rejected | Status::Withdrawn
        )
    }

    /// Whether the requester is the one who must act next (their clock, not the officers').
    pub fn with_requester(self) -> bool {
        matches!(self, Status::Draft | Status::InfoRequested)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that moves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The requester sends a complete draft.
    Submit,
    /// An officer picks it up.
    StartReview,
    /// An officer asks the requester a question.
    AskRequester,
    /// The requester answers; the request goes back to review.
    Answer,
    Approve,
    Reject,
    /// The requester withdraws it.
    Withdraw,
}

impl Move {
    pub fn as_str(self) -> &'static str {
        match self {
            Move::Submit => "submit",
            Move::StartReview => "start_review",
            Move::AskRequester => "ask",
            Move::Answer => "answer",
            Move::Approve => "approve",
            Move::Reject => "reject",
            Move::Withdraw => "withdraw",
        }
    }
}

/// The state `mv` leads to from `from`, or `None` when the state does not allow it.
pub fn next(from: Status, mv: Move) -> Option<Status> {
    use Status::*;
    match (from, mv) {
        (Draft, Move::Submit) => Some(Submitted),
        (Submitted, Move::StartReview) => Some(InReview),
        // Asking starts the review if nobody had.
        (Submitted | InReview, Move::AskRequester) => Some(InfoRequested),
        (InfoRequested, Move::Answer) => Some(InReview),
        // An officer may decide a submitted request without a separate "start review" step.
        (Submitted | InReview, Move::Approve) => Some(Approved),
        (Submitted | InReview | InfoRequested, Move::Reject) => Some(Rejected),
        (s, Move::Withdraw) if !s.is_final() => Some(Withdrawn),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVES: [Move; 7] = [
        Move::Submit,
        Move::StartReview,
        Move::AskRequester,
        Move::Answer,
        Move::Approve,
        Move::Reject,
        Move::Withdraw,
    ];

    #[test]
    fn the_review_cycle_and_decisions() {
        use Status::*;
        let mut s = Draft;
        for (mv, to) in [
            (Move::Submit, Submitted),
            (Move::StartReview, InReview),
            (Move::AskRequester, InfoRequested),
            (Move::Answer, InReview),
            (Move::AskRequester, InfoRequested),
            (Move::Answer, InReview),
            (Move::Approve, Approved),
        ] {
            s = next(s, mv).unwrap_or_else(|| panic!("{s} refused {mv:?}"));
            assert_eq!(s, to);
        }
    }

    #[test]
    fn final_states_take_no_move() {
        for s in [Status::Approved, Status::Rejected, Status::Withdrawn] {
            for mv in MOVES {
                assert_eq!(next(s, mv), None, "{s} {mv:?}");
            }
        }
    }

    #[test]
    fn refused_moves() {
        use Status::*;
        assert_eq!(next(Draft, Move::Approve), None, "a draft is not reviewed");
        assert_eq!(next(Draft, Move::AskRequester), None);
        assert_eq!(
            next(InfoRequested, Move::Approve),
            None,
            "waiting on an answer"
        );
        assert_eq!(next(Submitted, Move::Submit), None, "a double submit");
        assert_eq!(next(InReview, Move::Answer), None, "nothing was asked");
        assert_eq!(next(Draft, Move::Withdraw), Some(Withdrawn));
    }

    #[test]
    fn spellings_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("approved "), None);
    }
}
