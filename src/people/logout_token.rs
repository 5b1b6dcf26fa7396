//! An OpenID Connect back-channel logout token (OpenID Connect Back-Channel Logout 1.0, §2.4
//! and §2.6), verified: a JWS signed with one of the provider's published keys (never `none`,
//! never a shared-secret MAC), from the configured issuer, for this client, issued recently, with
//! the back-channel logout event, naming a person (`sub`) or a provider session (`sid`), and
//! with no `nonce` (which would make it an ID token). Pure: the keys, the settings and the time
//! are parameters, so every rule is tested without a provider.

use jiff::{SignedDuration, Timestamp};
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The longest logout token read (bytes): a signed token naming a person and a session is
/// well under 4 KiB with any provider's key.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The event a logout token carries.
pub const BACK_CHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How old a logout token may be (its `iat`): the provider sends it as the person signs out.
pub const MAX_AGE: SignedDuration = SignedDuration::from_mins(5);

/// How far in the future `iat` may be, for clocks apart.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(60);

/// The longest `sub` or `sid` taken.
const MAX_ID: usize = 255;

/// Whose sessions an identity provider's back-channel logout ends, as its verified token says.
#[derive(Debug, Clone)]
pub struct ProviderLogout {
    /// The account's provider subject (`issuer|sub`), when the logout names the person.
    pub subject: Option<String>,
    /// The provider's session (`sid`), when the logout names one.
    pub sid: Option<String>,
    /// When the provider issued it. A session opened later (beyond
    /// `sessions::PROVIDER_CLOCK_LEEWAY`) is not touched, so a replayed logout cannot end a sign-in
    /// made after it.
    pub issued_at: Timestamp,
}

/// What the token must match.
pub struct Expected<'a> {
    /// The provider's issuer, exactly as configured.
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub now: Timestamp,
}

/// Why a logout token was refused. The messages say what was wrong with the token, never
/// what it held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    #[error("the logout token is not a signed JWT")]
    NotAJwt,
    #[error("the logout token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the logout token's algorithm is not one of a provider's signing keys")]
    Algorithm,
    #[error("no key the provider publishes verifies the logout token's signature")]
    Signature,
    #[error("the logout token's claims are wrong: {0}")]
    Claims(&'static str),
}

impl LogoutTokenError {
    /// Whether another read of the provider's keys might verify it (a key rotated in).
    pub fn may_be_a_new_key(&self) -> bool {
        matches!(self, LogoutTokenError::Signature)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: CoreJwsSigningAlgorithm,
    kid: Option<String>,
    typ: Option<String>,
}

/// Verifies `token` against the provider's `keys`, then says whose sessions it ends.
pub fn verify(
    token: &str,
    keys: &[CoreJsonWebKey],
    expected: &Expected<'_>,
) -> Result<ProviderLogout, LogoutTokenError> {
    use LogoutTokenError::*;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(NotAJwt);
    };
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| NotAJwt)?;
    // Only the provider's published (public) keys can verify it: no `none`, and no MAC, whose
    // key would be the client's own secret.
    if matches!(
        header.alg,
        CoreJwsSigningAlgorithm::None
            | CoreJwsSigningAlgorithm::HmacSha256
            | CoreJwsSigningAlgorithm::HmacSha384
            | CoreJwsSigningAlgorithm::HmacSha512
    ) {
        return Err(Algorithm);
    }
    // §2.4: "logout+jwt" is recommended; a plain JWT is allowed.
    if let Some(typ) = &header.typ {
        let typ = typ.to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        if typ != "logout+jwt" && typ != "jwt" {
            return Err(NotAJwt);
        }
    }
    let signature = decode(signature)?;
    let signed = &token[..header_and_payload_len(token)];
    let verified = keys
        .iter()
        .filter(|k| match (&header.kid, k.key_id()) {
            (Some(kid), Some(id)) => kid == id.as_str(),
            _ => true,
        })
        .any(|k| {
            k.verify_signature(&header.alg, signed.as_bytes(), &signature)
                .is_ok()
        });
    if !verified {
        return Err(Signature);
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&decode(payload)?).map_err(|_| NotAJwt)?;
    check_claims(&claims, expected)
}

/// `header.payload`'s length: what the signature covers.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn decode(part: &str) -> Result<Vec<u8>, LogoutTokenError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| LogoutTokenError::NotAJwt)
}

fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<ProviderLogout, LogoutTokenError> {
    use LogoutTokenError::Claims;
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(Claims("it is not from the configured provider (iss)"));
    }
    let for_us = match claims.get("aud") {
        Some(Value::String(a)) => a == expected.client_id,
        Some(Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(expected.client_id)),
        _ => false,
    };
    if !for_us {
        return Err(Claims("it is not for this client (aud)"));
    }
    let time = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .and_then(|s| Timestamp::from_second(s).ok())
    };
    let issued_at = time("iat").ok_or(Claims("it has no issue time (iat)"))?;
    if issued_at > expected.now + CLOCK_SKEW {
        return Err(Claims("it was issued in the future (iat)"));
    }
    if issued_at < expected.now - MAX_AGE {
        return Err(Claims("it is too old (iat)"));
    }
    match (claims.get("exp"), time("exp")) {
        (None, _) => {}
        (Some(_), Some(exp)) if exp + CLOCK_SKEW > expected.now => {}
        (Some(_), _) => return Err(Claims("it has expired (exp)")),
    }
    if !claims.get("jti").is_some_and(Value::is_string) {
        return Err(Claims("it has no identifier (jti)"));
    }
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|e| e.get(BACK_CHANNEL_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(Claims("it carries no back-channel logout event (events)"));
    }
    if claims.contains_key("nonce") {
        return Err(Claims("it carries a nonce, as an ID token does"));
    }
    let id = |name: &str| -> Result<Option<String>, LogoutTokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID => Ok(Some(s.clone())),
            Some(_) => Err(Claims("a sub or sid that is not a short text")),
        }
    };
    let (sub, sid) = (id("sub")?, id("sid")?);
    if sub.is_none() && sid.is_none() {
        return Err(Claims(
            "it names neither a person (sub) nor a session (sid)",
        ));
    }
    Ok(ProviderLogout {
        // As accounts record it: the issuer, then the provider's subject.
        subject: sub.map(|s| format!("{}|{s}", expected.issuer)),
        sid,
        issued_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://login.example";

    fn expected(now: Timestamp) -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: "accord",
            now,
        }
    }

    fn good(now: Timestamp) -> Map<String, Value> {
        json!({
            "iss": ISSUER, "aud": "accord", "iat": now.as_second(), "jti": "j1",
            "events": { BACK_CHANNEL_EVENT: {} }, "sub": "priya", "sid": "s1",
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn the_claims_name_whose_sessions_end() {
        let now: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
        let out = check_claims(&good(now), &expected(now)).unwrap();
        assert_eq!(out.subject.as_deref(), Some("https://login.example|priya"));
        assert_eq!(out.sid.as_deref(), Some("s1"));
        assert_eq!(out.issued_at, now);
        let mut only_sid = good(now);
        only_sid.remove("sub");
        assert_eq!(
            check_claims(&only_sid, &expected(now)).unwrap().subject,
            None
        );
        let mut listed = good(now);
        listed.insert("aud".into(), json!(["other", "accord"]));
        assert!(check_claims(&listed, &expected(now)).is_ok());
    }

    #[test]
    fn each_wrong_claim_is_refused() {
        let now: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
        let cases: Vec<(&str, Value)> = vec![
            ("iss", json!("https://elsewhere.example")),
            ("aud", json!("another-client")),
            ("aud", json!(["another-client"])),
            ("iat", json!(now.as_second() + 120)),
            ("iat", json!(now.as_second() - 301)),
            ("iat", json!("yesterday")),
            ("exp", json!(now.as_second() - 61)),
            ("exp", json!("later")),
            ("jti", json!(7)),
            (
                "events",
                json!({ "http://schemas.openid.net/event/other": {} }),
            ),
            ("events", json!({ BACK_CHANNEL_EVENT: "yes" })),
            ("nonce", json!("n")),
            ("sub", json!(12)),
            ("sid", json!("x".repeat(256))),
        ];
        for (name, value) in cases {
            let mut claims = good(now);
            claims.insert(name.into(), value.clone());
            assert!(
                matches!(
                    check_claims(&claims, &expected(now)),
                    Err(LogoutTokenError::Claims(_))
                ),
                "{name}: {value}"
            );
        }
        for name in ["iss", "aud", "iat", "jti", "events"] {
            let mut claims = good(now);
            claims.remove(name);
            assert!(check_claims(&claims, &expected(now)).is_err(), "{name}");
        }
        let mut nobody = good(now);
        nobody.remove("sub");
        nobody.remove("sid");
        assert!(check_claims(&nobody, &expected(now)).is_err());
    }

    #[test]
    fn what_is_not_a_signed_jwt_is_refused_before_any_key() {
        use base64::Engine;
        let now = Timestamp::UNIX_EPOCH;
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let claims = b64(Value::Object(good(now)));
        for (token, error) in [
            ("".to_owned(), LogoutTokenError::NotAJwt),
            ("a.b".to_owned(), LogoutTokenError::NotAJwt),
            ("a.b.c.d".to_owned(), LogoutTokenError::NotAJwt),
            ("!!.!!.!!".to_owned(), LogoutTokenError::NotAJwt),
            (
                format!("{}.{claims}.", b64(json!({"alg": "none"}))),
                LogoutTokenError::Algorithm,
            ),
            (
                format!("{}.{claims}.c2ln", b64(json!({"alg": "HS256"}))),
                LogoutTokenError::Algorithm,
            ),
            (
                format!(
                    "{}.{claims}.c2ln",
                    b64(json!({"alg": "RS256", "typ": "at+jwt"}))
                ),
                LogoutTokenError::NotAJwt,
            ),
            (
                format!("{}.{claims}.c2ln", b64(json!({"alg": "RS256"}))),
                LogoutTokenError::Signature,
            ),
            ("x".repeat(MAX_TOKEN_BYTES + 1), LogoutTokenError::TooLarge),
        ] {
            assert_eq!(
                verify(&token, &[], &expected(now)).err(),
                Some(error.clone()),
                "{token:.60}"
            );
        }
    }
}
