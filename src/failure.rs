//! What kind of failure a use case met. Every domain error says its [`Kind`] in one place (its
//! `Failure` impl), and both the API's answer and the console's page take their status from
//! [`Kind::status`], so the two never disagree about the same failure. Pure.

/// A kind of failure, as the people and programs calling Accord need to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// What was sent is wrong in itself.
    BadRequest,
    /// The caller may not do this.
    Forbidden,
    /// There is no such thing.
    NotFound,
    /// Not now: the thing's state does not allow it.
    Conflict,
    /// Too big (an attachment, a body).
    TooLarge,
    /// A kind of content that is not taken.
    Unsupported,
    /// What was sent was read, but some of it needs changing (every problem is given).
    Invalid,
    /// Too many attempts; try again later.
    TooMany,
    /// Something Accord depends on did not answer; try again.
    Unavailable,
    /// A fault of the server, logged; its detail is never shown.
    Internal,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::BadRequest,
        Kind::Forbidden,
        Kind::NotFound,
        Kind::Conflict,
        Kind::TooLarge,
        Kind::Unsupported,
        Kind::Invalid,
        Kind::TooMany,
        Kind::Unavailable,
        Kind::Internal,
    ];

    /// The HTTP status of this kind of failure, in the API and in the console alike.
    pub fn status(self) -> u16 {
        match self {
            Kind::BadRequest => 400,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::Conflict => 409,
            Kind::TooLarge => 413,
            Kind::Unsupported => 415,
            Kind::Invalid => 422,
            Kind::TooMany => 429,
            Kind::Unavailable => 503,
            Kind::Internal => 500,
        }
    }
}

/// A domain error's kind.
pub trait Failure {
    fn kind(&self) -> Kind;
}
