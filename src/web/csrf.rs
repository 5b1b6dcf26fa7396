//! CSRF tokens bound to a secret only the browser holds: the session's id, or before sign-in
//! the visit cookie's value. A token is HMAC-SHA256(secret, "accord csrf"), hex; nothing is
//! stored, a token from another session never matches, and checking is constant-time.

//!
//! Every urlencoded form of the console is read through [`Checked`]: the person (or visit)
//! first, then the form, then its token, before any handler sees a field. A form that fails
//! the check is answered 403 and never posted again.

use std::future::Future;
use std::pin::Pin;

use hmac::{Hmac, Mac};
use poem::web::Form;
use poem::{FromRequest, Request, RequestBody};
use serde::de::DeserializeOwned;
use sha2::Sha256;

use super::errors::WebError;

/// A request read in part (the person, or the form), boxed: `Checked` reads each part through
/// one, so its own reading is the same for every kind of person and form.
pub type Reading<'a, T> = Pin<Box<dyn Future<Output = poem::Result<T>> + Send + 'a>>;

/// Who can post a form: a signed-in person (`Viewer`) or any visit (`Visitor`), each with
/// the secret its tokens are bound to.
pub trait GuardsForms: Sized + Send {
    fn read<'a>(req: &'a Request, body: &'a mut RequestBody) -> Reading<'a, Self>;
    fn check_csrf(&self, given: &str) -> Result<(), WebError>;
}

/// A form's body that carries a CSRF token: a urlencoded [`Form`] of a type declared with
/// [`carries_csrf!`], a form read as its fields in order, or an upload's
/// [`Parts`](super::multipart::Parts).
pub trait CarriesCsrf: Sized + Send {
    fn read<'a>(req: &'a Request, body: &'a mut RequestBody) -> Reading<'a, Self>;
    fn csrf(&self) -> &str;
}

/// A urlencoded form's type whose token is its `csrf` field ([`carries_csrf!`]).
pub trait CsrfField {
    fn csrf_field(&self) -> &str;
}

/// Declares that each form type carries its token in a field named `csrf`.
macro_rules! carries_csrf {
    ($($form:ty),+ $(,)?) => {$(
        impl $crate::web::csrf::CsrfField for $form {
            fn csrf_field(&self) -> &str {
                &self.csrf
            }
        }
    )+};
}
pub(crate) use carries_csrf;

/// A form posted by `W`, read as `B` (a urlencoded [`Form`], or an upload's
/// [`Parts`](super::multipart::Parts)), and its token checked before any handler sees a field:
/// `Checked(viewer, Form(form))`.
pub struct Checked<W, B>(pub W, pub B);

impl<'a, W: GuardsForms, B: CarriesCsrf> FromRequest<'a> for Checked<W, B> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let who = W::read(req, body).await?;
        let form = B::read(req, body).await?;
        who.check_csrf(form.csrf()).map_err(WebError::into_poem)?;
        Ok(Checked(who, form))
    }
}

impl<T: DeserializeOwned + CsrfField + Send + 'static> CarriesCsrf for Form<T> {
    fn read<'a>(req: &'a Request, body: &'a mut RequestBody) -> Reading<'a, Self> {
        Box::pin(Form::<T>::from_request(req, body))
    }

    fn csrf(&self) -> &str {
        self.0.csrf_field()
    }
}

/// A form read as its fields in order (the access request's steps, sign-in): its token is the
/// first `csrf` field.
impl CsrfField for Vec<(String, String)> {
    fn csrf_field(&self) -> &str {
        self.iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str())
    }
}

const PURPOSE: &[u8] = b"accord csrf";

/// A form that carries only its token (a button).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// A form with its token and one message (a question, an answer, a note).
#[derive(serde::Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub message: String,
}

/// The token forms carry for this secret.
pub fn token(secret: &str) -> String {
    hex::encode(mac(secret).finalize().into_bytes())
}

/// Whether `given` is the token for `secret`.
pub fn valid(secret: &str, given: &str) -> bool {
    match hex::decode(given.trim()) {
        Ok(bytes) => mac(secret).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

carries_csrf!(CsrfOnly, MessageForm);

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    m.update(PURPOSE);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_own_secret_only() {
        let t = token("one session");
        assert!(valid("one session", &t));
        assert!(!valid("another session", &t));
        assert!(!valid("one session", ""));
        assert!(!valid("one session", "zz"));
        assert!(!valid("one session", &t[..t.len() - 2]));
    }
}
