//! Single sign-on with OpenID Connect: the authorization code flow with PKCE, state and nonce
//! (the `openidconnect` crate, its HTTP client built with redirects off).
//!
//! [`Sso::start`] discovers the provider (once), stores the sign-in's state (hashed), nonce and
//! PKCE verifier in `sso_flows`, and gives the provider's URL. [`Sso::finish`] takes that row
//! by the state the provider sent back (so a state works once, and for [`FLOW_LIFETIME`]),
//! exchanges the code with the verifier, and verifies the ID token: signature, issuer,
//! audience, expiry by the injected clock, and the nonce. Its `roles` or `groups` claim (as
//! configured) is mapped to a role and party by the first rule that matches; none, and the
//! person is refused. The account is found by the provider's subject, else by e-mail (then
//! linked), else made; its role, party and name follow the provider at every sign-in. Every
//! refusal is audited as `user.sign_in_failed`. [`Sso::sign_out_url`] is where a person
//! signing out of a session opened here goes next, so the provider ends its session too
//! (RP-Initiated Logout), when the provider has an end-session endpoint.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKey};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    TokenResponse,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use tokio::sync::Mutex;

use super::logout_token::{self, Expected};
use super::sessions::Via;
use super::{PeopleError, Session, hash_secret, principal, random_secret};
use crate::audit::{Event, Writer};
use crate::auth::Role;
use crate::clock::Clock;
use crate::inputs::PartyId;
use crate::store::entity::{sso_flow, user};
use crate::store::time::{parse, stamp};
use crate::text::error_chain;

/// How long a person may take at the provider before the sign-in must start again.
pub const FLOW_LIFETIME: SignedDuration = SignedDuration::from_mins(10);

/// How long the provider's discovery document and signing keys are kept before being read
/// again (by the app's clock), so keys the provider rotates are followed without a restart.
pub const DISCOVERY_TTL: SignedDuration = SignedDuration::from_hours(1);

/// Where the provider sends the person back, under the public URL.
pub const CALLBACK: &str = "/sign-in/sso/callback";

/// Where the provider sends the person after signing them out, under the public URL.
pub const SIGNED_OUT: &str = "/signed-out";

/// Where the provider posts a logout token when the person signs out there (its back-channel
/// logout URI), under the public URL.
pub const BACK_CHANNEL_LOGOUT: &str = "/sso/back-channel-logout";

/// A logout token no key verifies makes the provider's keys be read again (a key it rotated
/// in), but not more often than this, so forged tokens cannot make Accord hammer the provider.
pub const KEYS_READ_AGAIN_AFTER: SignedDuration = SignedDuration::from_mins(1);

/// The settings: the provider, this client, and how its claims become roles.
#[derive(Clone)]
pub struct SsoConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The claim holding the person's roles or groups (`roles`, `groups`).
    pub claim: String,
    /// The first rule whose value the claim holds gives the role (and party).
    pub rules: Vec<RoleRule>,
    /// The public URL (the callback is under it).
    pub public_url: String,
}

impl std::fmt::Debug for SsoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SsoConfig(issuer: {}, client: {}, secret redacted, claim: {}, {} rules)",
            self.issuer,
            self.client_id,
            self.claim,
            self.rules.len()
        )
    }
}

impl SsoConfig {
    /// The provider's origin (`https://login.example`), where a sign-out goes on to.
    pub fn origin(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.issuer).ok()?;
        url.has_host().then(|| url.origin().ascii_serialization())
    }
}

/// `value=role` or `value=role:party`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRule {
    pub value: String,
    pub role: Role,
    pub party: Option<String>,
}

impl RoleRule {
    /// Reads `value=role[:party],…`, as in `ACCORD_OIDC_ROLE_MAP`. Each rule must give a role a
    /// person may have, with a party exactly when the role acts for one.
    pub fn parse_all(text: &str) -> Result<Vec<RoleRule>, String> {
        let mut rules = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (value, target) = item
                .split_once('=')
                .ok_or_else(|| format!("'{item}' is not value=role or value=role:party"))?;
            let (role, party) = match target.split_once(':') {
                Some((r, p)) => (r, Some(p.trim().to_owned())),
                None => (target, None),
            };
            let role: Role = role.trim().parse()?;
            if !Role::PEOPLE.contains(&role) {
                return Err(format!("'{item}': role {role} is not for people"));
            }
            match (&party, role.needs_party()) {
                (None, true) => return Err(format!("'{item}': role {role} needs :party")),
                (Some(_), false) => return Err(format!("'{item}': role {role} takes no party")),
                (Some(p), true) if PartyId::parse(p).is_err() => {
                    return Err(format!("'{item}': '{p}' is not a party id"));
                }
                _ => {}
            }
            rules.push(RoleRule {
                value: value.trim().to_owned(),
                role,
                party,
            });
        }
        if rules.is_empty() {
            return Err("no rules: give value=role[:party],…".into());
        }
        Ok(rules)
    }
}

/// Why a sign-in through the provider was refused.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("this sign-in is not one Accord started, or it has been used or has expired")]
    UnknownState,
    #[error("the identity provider did not sign you in: {0}")]
    Provider(String),
    #[error("the identity provider's answer could not be verified: {0}")]
    Invalid(String),
    #[error("your account at the identity provider has no role in Accord")]
    NoRole,
    #[error("your Accord account is disabled")]
    Disabled,
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    People(#[from] PeopleError),
}

impl From<sea_orm::DbErr> for SsoError {
    fn from(e: sea_orm::DbErr) -> SsoError {
        SsoError::People(PeopleError::Db(e))
    }
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery found: the provider's client, its end-session endpoint if it has one, and
/// its signing keys (which verify logout tokens too).
#[derive(Clone)]
struct Provider {
    client: Arc<Client>,
    end_session: Option<EndSessionUrl>,
    keys: Arc<Vec<CoreJsonWebKey>>,
}

/// The provider as discovered, and when (by the app's clock) its discovery document was read.
type Discovered = Option<(Provider, Timestamp)>;

/// The sign-in service; cheap to clone.
#[derive(Clone)]
pub struct Sso {
    config: Arc<SsoConfig>,
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    http: openidconnect::reqwest::Client,
    /// The provider's client and when its discovery document was read.
    client: Arc<Mutex<Discovered>>,
}

impl Sso {
    pub fn new(config: SsoConfig, db: DatabaseConnection, clock: Arc<dyn Clock>) -> Sso {
        // Redirects off: a provider's endpoint that redirects is refused, not followed.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Sso {
            config: Arc::new(config),
            db,
            clock,
            http,
            client: Arc::new(Mutex::new(None)),
        }
    }

    /// The provider's client and where it ends its sessions (when it says), from its
    /// discovery document and keys, read again once they are older than [`DISCOVERY_TTL`].
    async fn client(&self) -> Result<Provider, SsoError> {
        self.client_read_within(DISCOVERY_TTL).await
    }

    /// [`Sso::client`], read again when what is kept is older than `max_age` (or the clock
    /// has gone back past when it was read).
    async fn client_read_within(&self, max_age: SignedDuration) -> Result<Provider, SsoError> {
        let mut cached = self.client.lock().await;
        let now = self.clock.now();
        if let Some((provider, read)) = cached.as_ref()
            && (SignedDuration::ZERO..max_age).contains(&now.duration_since(*read))
        {
            return Ok(provider.clone());
        }
        let c = &self.config;
        let issuer =
            IssuerUrl::new(c.issuer.clone()).map_err(|e| SsoError::Unreachable(e.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::Unreachable(error_chain(&e)))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let keys = Arc::new(metadata.jwks().keys().clone());
        let redirect = format!("{}{CALLBACK}", c.public_url.trim_end_matches('/'));
        let redirect =
            RedirectUrl::new(redirect).map_err(|e| SsoError::Unreachable(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(c.client_id.clone()),
            Some(ClientSecret::new(c.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let provider = Provider {
            client: Arc::new(client),
            end_session,
            keys,
        };
        *cached = Some((provider.clone(), now));
        Ok(provider)
    }

    /// Where to send a person signing out of a session opened here, so that the provider
    /// ends its session too (OpenID Connect RP-Initiated Logout: this client's id, and
    /// [`SIGNED_OUT`] to come back to, which must be registered with the provider). `None`
    /// when the provider names no end-session endpoint (Google's, for one), or names one away
    /// from its issuer's origin.
    pub async fn sign_out_url(&self) -> Result<Option<String>, SsoError> {
        let Some(end_session) = self.client().await?.end_session else {
            return Ok(None);
        };
        let back = format!(
            "{}{SIGNED_OUT}",
            self.config.public_url.trim_end_matches('/')
        );
        let back =
            PostLogoutRedirectUrl::new(back).map_err(|e| SsoError::Unreachable(e.to_string()))?;
        let url = LogoutRequest::from(end_session)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(back)
            .http_get_url();
        // The pages let their sign-out form lead only to the issuer's origin (crate::web's
        // policy); a browser would stop anywhere else.
        if Some(url.origin().ascii_serialization()) != self.config.origin() {
            return Ok(None);
        }
        Ok(Some(url.to_string()))
    }

    /// Ends the sessions opened here that the provider's back-channel logout `token` names
    /// (see `logout_token.rs` for what is checked; `sessions::end_for_provider` for which
    /// end). A token no kept key verifies has the keys read again, at most once a
    /// [`KEYS_READ_AGAIN_AFTER`]. Returns how many sessions ended.
    pub async fn back_channel_logout(&self, token: &str) -> Result<u64, SsoError> {
        let now = self.clock.now();
        let expected = Expected {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            now,
        };
        let keys = self.client().await?.keys;
        let logout = match logout_token::verify(token, &keys, &expected) {
            Err(e) if e.may_be_a_new_key() => {
                let keys = self.client_read_within(KEYS_READ_AGAIN_AFTER).await?.keys;
                logout_token::verify(token, &keys, &expected)
            }
            verified => verified,
        }
        .map_err(|e| SsoError::Invalid(e.to_string()))?;
        Ok(super::sessions::end_for_provider(&self.db, now, &logout).await?)
    }

    /// Starts a sign-in that returns to `next`: the provider's URL to send the person to, and
    /// the state, which the browser keeps (a cookie) so that only it can finish the sign-in.
    pub async fn start(&self, next: &str) -> Result<(String, String), SsoError> {
        let client = self.client().await?.client;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_secret()?;
        let state_for_url = state.clone();
        let (url, _, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_for_url),
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let now = self.clock.now();
        // Sign-ins never finished are cleared as new ones start.
        sso_flow::Entity::delete_many()
            .filter(sso_flow::Column::CreatedAt.lt(stamp(now - FLOW_LIFETIME)))
            .exec(&self.db)
            .await?;
        sso_flow::Entity::insert(sso_flow::ActiveModel {
            state_hash: Set(hash_secret(&state)),
            nonce: Set(nonce.secret().clone()),
            pkce_verifier: Set(verifier.secret().clone()),
            next: Set(next.to_owned()),
            created_at: Set(stamp(now)),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok((url.to_string(), state))
    }

    /// Finishes the sign-in the provider sent back (`state`, `code`) from `address`: the
    /// session, and where to go.
    pub async fn finish(
        &self,
        state: &str,
        code: &str,
        address: &str,
    ) -> Result<(Session, String), SsoError> {
        let result = self.finish_inner(state, code, address).await;
        if let Err(e) = &result
            && !matches!(e, SsoError::People(PeopleError::Db(_)))
        {
            self.refused(address, &e.to_string()).await?;
        }
        result
    }

    async fn finish_inner(
        &self,
        state: &str,
        code: &str,
        address: &str,
    ) -> Result<(Session, String), SsoError> {
        let now = self.clock.now();
        let flow = self.take_flow(state, now).await?;
        let client = self.client().await?.client;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| SsoError::Provider(error_chain(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| SsoError::Invalid("no ID token".into()))?;
        let at = chrono::DateTime::from_timestamp(now.as_second(), now.subsec_nanosecond() as u32)
            .unwrap_or_default();
        let verifier = client.id_token_verifier().set_time_fn(move || at);
        let claims = id_token
            .claims(&verifier, &Nonce::new(flow.nonce.clone()))
            .map_err(|e| SsoError::Invalid(e.to_string()))?;
        // The roles claim is not one the crate's core types carry: read it from the payload
        // of the token just verified (its signature covers exactly these bytes).
        let values = claim_values(&id_token.to_string(), &self.config.claim);
        let rule = self
            .config
            .rules
            .iter()
            .find(|r| values.contains(&r.value))
            .ok_or(SsoError::NoRole)?;
        let subject = format!("{}|{}", claims.issuer().as_str(), claims.subject().as_str());
        let email = claims
            .email()
            .map(|e| e.as_str().to_lowercase())
            .ok_or_else(|| SsoError::Invalid("the ID token names no e-mail address".into()))?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .unwrap_or_else(|| email.clone());
        // The provider's session, when it names one: a back-channel logout names it too.
        let sid = claim_values(&id_token.to_string(), "sid")
            .into_iter()
            .next()
            .filter(|s| s.len() <= 255);
        let opened = (Via::SingleSignOn, sid.as_deref());
        let row = self.account(&subject, &email, &name, rule, now).await?;
        let principal = principal(&row).ok_or(SsoError::NoRole)?;
        let details = serde_json::json!({
            "email": row.email, "address": address, "method": "sso",
            "role": rule.role.as_str(), "party": rule.party,
        });
        let session =
            super::sessions::open(&self.db, now, &row, principal, opened, details).await?;
        Ok((session, flow.next))
    }

    /// The flow `state` started, taken so it works once; refused when unknown or expired.
    async fn take_flow(&self, state: &str, now: Timestamp) -> Result<sso_flow::Model, SsoError> {
        let key = hash_secret(state);
        let flow = sso_flow::Entity::find_by_id(key.clone())
            .one(&self.db)
            .await?
            .ok_or(SsoError::UnknownState)?;
        let taken = sso_flow::Entity::delete_by_id(key).exec(&self.db).await?;
        let fresh = parse(&flow.created_at).is_some_and(|t| now < t + FLOW_LIFETIME);
        if taken.rows_affected == 1 && fresh {
            Ok(flow)
        } else {
            Err(SsoError::UnknownState)
        }
    }

    /// The account for the provider's `subject`: linked already, else by e-mail (linked now),
    /// else new and SSO-only; its role, party and name set from this sign-in.
    async fn account(
        &self,
        subject: &str,
        email: &str,
        name: &str,
        rule: &RoleRule,
        now: Timestamp,
    ) -> Result<user::Model, SsoError> {
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        let by_subject = user::Entity::find()
            .filter(user::Column::SsoSubject.eq(subject))
            .one(&txn)
            .await?;
        let found = match by_subject {
            Some(r) => Some(r),
            None => {
                user::Entity::find()
                    .filter(user::Column::Email.eq(email))
                    .one(&txn)
                    .await?
            }
        };
        let role = rule.role.as_str().to_owned();
        let row = match found {
            Some(r) if r.disabled_at.is_some() => return Err(SsoError::Disabled),
            Some(r) => {
                let changed = r.role != role || r.party_id != rule.party;
                let mut am: user::ActiveModel = r.clone().into();
                am.sso_subject = Set(Some(subject.to_owned()));
                am.role = Set(role.clone());
                am.party_id = Set(rule.party.clone());
                am.name = Set(name.to_owned());
                let row = am.update(&txn).await?;
                if changed || r.sso_subject.is_none() {
                    log.append(
                        now,
                        Event {
                            actor: "single sign-on",
                            action: "user.role_from_provider",
                            subject: format!("user:{}", row.id),
                            details: serde_json::json!({ "email": row.email, "role": role, "party": rule.party, "was": { "role": r.role, "party": r.party_id } }),
                        },
                    );
                }
                row
            }
            None => {
                let row = user::Model {
                    id: uuid::Uuid::now_v7(),
                    email: email.to_owned(),
                    name: name.to_owned(),
                    role: role.clone(),
                    party_id: rule.party.clone(),
                    password_hash: None,
                    created_at: stamp(now),
                    password_set_at: None,
                    disabled_at: None,
                    sso_subject: Some(subject.to_owned()),
                    sso_only: true,
                };
                user::Entity::insert(user::ActiveModel::from(row.clone()))
                    .exec_without_returning(&txn)
                    .await?;
                log.append(
                    now,
                    Event {
                        actor: "single sign-on",
                        action: "user.created",
                        subject: format!("user:{}", row.id),
                        details: serde_json::json!({ "email": row.email, "role": role, "party": rule.party, "sso": true }),
                    },
                );
                row
            }
        };
        log.commit(txn).await?;
        Ok(row)
    }

    async fn refused(&self, address: &str, why: &str) -> Result<(), SsoError> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let mut log = Writer::begin(&txn).await?;
        log.append(
            now,
            Event {
                actor: "anonymous",
                action: "user.sign_in_failed",
                subject: "sso".into(),
                details: serde_json::json!({ "address": address, "method": "sso", "reason": why }),
            },
        );
        log.commit(txn).await?;
        Ok(())
    }
}

/// The strings of `claim` (a string or a list of strings) in a JWT's payload.
fn claim_values(jwt: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let payload = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    match payload.as_ref().and_then(|p| p.get(claim)) {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_rules() {
        let rules = RoleRule::parse_all("accord-officers=ig_officer, camden-sign=signatory:camden")
            .unwrap();
        assert_eq!(rules[0].role, Role::IgOfficer);
        assert_eq!(rules[1].party.as_deref(), Some("camden"));
        for bad in [
            "",
            "x",
            "x=wizard",
            "x=signatory",
            "x=auditor:camden",
            "x=monitor",
            "x=signatory:Camden Council",
        ] {
            assert!(RoleRule::parse_all(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn claim_values_read_a_string_or_a_list() {
        use base64::Engine;
        let enc = |v: serde_json::Value| {
            let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("h.{p}.s")
        };
        let jwt = enc(serde_json::json!({"roles": ["a", "b", 3], "groups": "g"}));
        assert_eq!(claim_values(&jwt, "roles"), vec!["a", "b"]);
        assert_eq!(claim_values(&jwt, "groups"), vec!["g"]);
        assert!(claim_values(&jwt, "other").is_empty());
        assert!(claim_values("not a jwt", "roles").is_empty());
    }
}
