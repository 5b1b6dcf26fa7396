//! API tokens and roles. A token is 256 random bits shown once when minted; only its SHA-256
//! is stored, so a copy of the database yields no usable token.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{Event, Writer};
use crate::inputs::PartyId;
use crate::store::entity::api_token;
use crate::store::time::stamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including minting tokens.
    Admin,
    /// Drafts, approves, suspends; reads everything.
    IgOfficer,
    /// Signs for its own party.
    Signatory,
    /// A partner system asking the gate; bound to one party.
    GateClient,
    /// Reads everything, changes nothing.
    Auditor,
    /// Records handover for its own party.
    Contractor,
    /// Reads the service's metrics (`/metrics`) and nothing else: the token a Prometheus
    /// server scrapes with.
    Monitor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::IgOfficer,
        Role::Signatory,
        Role::GateClient,
        Role::Auditor,
        Role::Contractor,
        Role::Monitor,
    ];

    /// The roles a person's account may have: every role but a monitoring system's (the last).
    pub const PEOPLE: &[Role] = Role::ALL.split_at(Role::ALL.len() - 1).0;

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::IgOfficer => "ig_officer",
            Role::Signatory => "signatory",
            Role::GateClient => "gate_client",
            Role::Auditor => "auditor",
            Role::Contractor => "contractor",
            Role::Monitor => "monitor",
        }
    }

    /// Roles that act for one party, and so must be bound to one.
    pub fn needs_party(self) -> bool {
        matches!(self, Role::Signatory | Role::GateClient | Role::Contractor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role '{s}'; expected one of: {}", names.join(", "))
            })
    }
}

/// Who is calling: the token's identity, never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The token's id, or the person's (web console) id.
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// Read only through [`Principal::bound_party`], which fails closed.
    party: Option<String>,
}

impl Principal {
    /// A caller: a token's or a person's id, their name and role, and the party a
    /// party-bound role acts for.
    pub fn new(id: Uuid, name: String, role: Role, party: Option<String>) -> Principal {
        Principal {
            id,
            name,
            role,
            party,
        }
    }

    /// Whether this caller may read the handover of `party`'s engagements: readers, and the
    /// contractor bound to that party.
    pub fn may_read_handover_of(&self, party: &str) -> bool {
        self.allow(READERS).is_ok()
            || (self.role == Role::Contractor && self.bound_party() == Ok(party))
    }

    /// The one party this caller acts for. `Err` when it acts for none: a role not bound to a
    /// party (admin, officer, auditor), or a party-bound role ([`Role::needs_party`]) whose
    /// token names no party. [`mint`] never makes the latter, so it would be a damaged row;
    /// asking here, rather than reading `party`, makes every such caller fail closed.
    pub fn bound_party(&self) -> Result<&str, Unbound> {
        match self.party.as_deref() {
            Some(p) if self.role.needs_party() => Ok(p),
            _ => Err(Unbound(self.role)),
        }
    }

    /// How this caller appears in the audit log.
    pub fn actor(&self) -> String {
        match &self.party {
            Some(p) => format!("{} ({}, {p})", self.name, self.role),
            None => format!("{} ({})", self.name, self.role),
        }
    }
}

/// Roles that read everything.
pub const READERS: &[Role] = &[Role::Admin, Role::IgOfficer, Role::Auditor];
/// Roles that may make an access request: any token but a monitoring system's.
pub const REQUESTERS: &[Role] = Role::PEOPLE;
/// Roles that read the service's metrics.
pub const MONITORS: &[Role] = &[Role::Admin, Role::Monitor];
/// Roles that change agreements and parties.
pub const OFFICERS: &[Role] = &[Role::Admin, Role::IgOfficer];
/// Roles that may ask the gate whether a flow may happen (a gate client only about its own
/// party's flows).
pub const GATE_ASKERS: &[Role] = &[Role::GateClient, Role::Admin, Role::IgOfficer];
/// Roles that send records through the gate.
pub const GATE_SENDERS: &[Role] = &[Role::GateClient];
/// Roles that sign agreements, each for its own party.
pub const SIGNERS: &[Role] = &[Role::Signatory];
/// Roles that hand over, each for its own party.
pub const CONTRACTORS: &[Role] = &[Role::Contractor];
/// Roles that manage API tokens.
pub const ADMINS: &[Role] = &[Role::Admin];
/// Roles that open the handover pages: readers, and contractors (their own party's only, by
/// [`Principal::may_read_handover_of`]).
pub const HANDOVER_READERS: &[Role] = &[
    Role::Admin,
    Role::IgOfficer,
    Role::Auditor,
    Role::Contractor,
];

/// Whose agreements a caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadScope<'a> {
    Everything,
    /// Only what `Registry::party_may_read` lets this party read.
    Party(&'a str),
}

/// A role that may not do what it asked (the API answers 403; the web console shows a page
/// saying so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Principal {
    /// `Err` unless this caller's role is one of `roles`: the one role rule of the API and the
    /// web console (deny by default).
    pub fn allow(&self, roles: &[Role]) -> Result<&Principal, Denied> {
        if roles.contains(&self.role) {
            Ok(self)
        } else {
            Err(Denied(format!("role {} may not do this", self.role)))
        }
    }

    /// The one place that decides whose agreements a caller reads: readers everything; a
    /// signatory its own party's (denied if bound to no party, so it fails closed, never
    /// open); every other role nothing.
    pub fn read_scope(&self) -> Result<ReadScope<'_>, Denied> {
        if self.role != Role::Signatory {
            self.allow(READERS)?;
            return Ok(ReadScope::Everything);
        }
        self.bound_party()
            .map(ReadScope::Party)
            .map_err(|e| Denied(e.to_string()))
    }
}

/// A caller that acts for no party (see [`Principal::bound_party`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this {0} token acts for no party")]
pub struct Unbound(pub Role);

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("role {0} acts for one party: give --party")]
    PartyRequired(Role),
    #[error("role {0} is not bound to a party: leave out --party")]
    PartyNotAllowed(Role),
    #[error("'{0}' is not a party id (lower-case letters, digits and hyphens)")]
    BadParty(String),
    #[error("the token name must not be empty")]
    EmptyName,
    #[error("cannot draw random bytes for the token: {0}")]
    Random(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Mints a token and records it in the audit log; returns the secret (shown once) and who it is.
pub async fn mint(
    db: &DatabaseConnection,
    now: Timestamp,
    role: Role,
    name: &str,
    party: Option<&str>,
    actor: &str,
) -> Result<(String, Principal), MintError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(MintError::EmptyName);
    }
    match (role.needs_party(), party) {
        (true, None) => return Err(MintError::PartyRequired(role)),
        (false, Some(_)) => return Err(MintError::PartyNotAllowed(role)),
        (_, Some(p)) if PartyId::parse(p).is_err() => {
            return Err(MintError::BadParty(p.to_owned()));
        }
        _ => {}
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| MintError::Random(e.to_string()))?;
    let secret = format!("acc_{}", hex::encode(bytes));
    let principal = Principal {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        role,
        party: party.map(str::to_owned),
    };
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let row = api_token::ActiveModel {
        id: Set(principal.id),
        name: Set(principal.name.clone()),
        role: Set(role.as_str().to_owned()),
        party_id: Set(principal.party.clone()),
        token_hash: Set(hash_secret(&secret)),
        created_at: Set(stamp(now)),
        revoked_at: Set(None),
    };
    api_token::Entity::insert(row)
        .exec_without_returning(&txn)
        .await?;
    let event = Event {
        actor,
        action: "token.created",
        subject: format!("token:{}", principal.id),
        details: serde_json::json!({ "name": principal.name, "role": role, "party": principal.party }),
    };
    log.append(now, event);
    log.commit(txn).await?;
    Ok((secret, principal))
}

/// A token as listed: never its secret, nor its hash.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    #[oai(nullable)]
    pub party: Option<String>,
    pub created_at: String,
    #[oai(nullable)]
    pub revoked_at: Option<String>,
}

/// Every token, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<TokenInfo>, DbErr> {
    use sea_orm::QueryOrder;
    let rows = api_token::Entity::find()
        .order_by_asc(api_token::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(token_info).collect())
}

/// Who asks for a revocation, for the rules that keep an instance administrable.
#[derive(Debug, Clone, Copy)]
pub enum Revoker<'a> {
    /// An administrator through the API: may not revoke the token it is calling with, nor the
    /// last administrator token in force (either would leave nobody able to administer
    /// Accord over HTTP).
    Api(&'a Principal),
    /// The operator, on the command line with the database: the way back in, so unrestricted.
    Cli,
}

impl Revoker<'_> {
    fn actor(&self) -> String {
        match self {
            Revoker::Api(p) => p.actor(),
            Revoker::Cli => "cli".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("no token {0}")]
    NotFound(Uuid),
    #[error(
        "this is the token you are calling with; ask another administrator to revoke it, or \
         use `accord token revoke` on the server"
    )]
    OwnToken,
    #[error(
        "this is the last administrator token in force; mint another first \
         (`accord token create --role admin`), or use `accord token revoke` on the server"
    )]
    LastAdmin,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl crate::failure::Failure for RevokeError {
    fn kind(&self) -> crate::failure::Kind {
        use crate::failure::Kind;
        match self {
            RevokeError::NotFound(_) => Kind::NotFound,
            RevokeError::OwnToken | RevokeError::LastAdmin => Kind::Conflict,
            RevokeError::Db(_) => Kind::Internal,
        }
    }
}

/// Revokes a token (audited). Revoking twice changes nothing the second time. The last-admin
/// rule is checked under the writers' lock, so two administrators revoking each other at once
/// cannot both succeed.
pub async fn revoke(
    db: &DatabaseConnection,
    now: Timestamp,
    id: Uuid,
    by: Revoker<'_>,
) -> Result<TokenInfo, RevokeError> {
    let txn = db.begin().await?;
    let mut log = Writer::begin(&txn).await?;
    let Some(row) = api_token::Entity::find_by_id(id).one(&txn).await? else {
        return Err(RevokeError::NotFound(id));
    };
    if row.revoked_at.is_some() {
        return Ok(token_info(row));
    }
    if let Revoker::Api(caller) = by {
        if caller.id == id {
            return Err(RevokeError::OwnToken);
        }
        if row.role == Role::Admin.as_str() {
            let admins = api_token::Entity::find()
                .filter(api_token::Column::Role.eq(Role::Admin.as_str()))
                .filter(api_token::Column::RevokedAt.is_null())
                .count(&txn)
                .await?;
            if admins <= 1 {
                return Err(RevokeError::LastAdmin);
            }
        }
    }
    let row = mark_revoked(&txn, &mut log, now, row, &by.actor(), None).await?;
    log.commit(txn).await?;
    Ok(token_info(row))
}

/// Revokes every token in force bound to `party`, inside the caller's transaction, each with
/// its `token.revoked` record giving `reason` (a contractor's engagement ended). Returns how
/// many were revoked.
pub async fn revoke_party_tokens(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    now: Timestamp,
    party: &str,
    actor: &str,
    reason: &str,
) -> Result<usize, DbErr> {
    let live = api_token::Entity::find()
        .filter(api_token::Column::PartyId.eq(party))
        .filter(api_token::Column::RevokedAt.is_null())
        .all(txn)
        .await?;
    let n = live.len();
    for row in live {
        mark_revoked(txn, log, now, row, actor, Some(reason)).await?;
    }
    Ok(n)
}

/// Marks one token revoked and appends its audit record.
async fn mark_revoked(
    txn: &DatabaseTransaction,
    log: &mut Writer,
    now: Timestamp,
    row: api_token::Model,
    actor: &str,
    reason: Option<&str>,
) -> Result<api_token::Model, DbErr> {
    let id = row.id;
    let mut revoked: api_token::ActiveModel = row.into();
    revoked.revoked_at = Set(Some(stamp(now)));
    let row = api_token::Entity::update(revoked).exec(txn).await?;
    let mut details =
        serde_json::json!({ "name": row.name, "role": row.role, "party": row.party_id });
    if let Some(r) = reason {
        details["reason"] = r.into();
    }
    log.append(
        now,
        Event {
            actor,
            action: "token.revoked",
            subject: format!("token:{id}"),
            details,
        },
    );
    Ok(row)
}

fn token_info(r: api_token::Model) -> TokenInfo {
    TokenInfo {
        id: r.id,
        name: r.name,
        role: r.role,
        party: r.party_id,
        created_at: r.created_at,
        revoked_at: r.revoked_at,
    }
}

/// The caller a bearer secret belongs to, if any token (not revoked) has it.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &str,
) -> Result<Option<Principal>, DbErr> {
    find_by_hash(db, &hash_secret(secret)).await
}

/// The caller whose token (not revoked) has this hash, if any.
async fn find_by_hash(db: &DatabaseConnection, hash: &str) -> Result<Option<Principal>, DbErr> {
    let row = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(row.and_then(|r| {
        Some(Principal {
            id: r.id,
            role: r.role.parse().ok()?,
            name: r.name,
            party: r.party_id,
        })
    }))
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Recently seen tokens, so that a busy gate does not read the database on every request.
/// Only successful look-ups are kept, keyed by the secret's hash, for [`TokenCache::TTL`]:
/// a token revoked anywhere (the API of another instance, `accord token revoke`, an
/// engagement's end) stops working on every instance within that time. A busy caller costs
/// one indexed read per TTL, not one per request.
#[derive(Default)]
pub struct TokenCache {
    seen: std::sync::Mutex<std::collections::HashMap<String, (Principal, std::time::Instant)>>,
}

impl TokenCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(2);
    const MAX_ENTRIES: usize = 10_000;

    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        secret: &str,
    ) -> Result<Option<Principal>, DbErr> {
        let key = hash_secret(secret);
        if let Some(p) = self.fresh(&key) {
            return Ok(Some(p));
        }
        let found = find_by_hash(db, &key).await?;
        if let Some(p) = &found {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() >= Self::MAX_ENTRIES {
                seen.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            }
            seen.insert(key, (p.clone(), std::time::Instant::now()));
        }
        Ok(found)
    }

    /// Forgets every cached token, so a revocation made here takes effect at once.
    pub fn forget_all(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn fresh(&self, key: &str) -> Option<Principal> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (p, at) = seen.get(key)?;
        (at.elapsed() < Self::TTL).then(|| p.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, party: Option<&str>) -> Principal {
        Principal {
            id: Uuid::nil(),
            name: "t".into(),
            role,
            party: party.map(str::to_owned),
        }
    }

    #[test]
    fn only_a_party_bound_token_with_its_party_acts_for_one() {
        let signatory = principal(Role::Signatory, Some("camden"));
        assert_eq!(signatory.bound_party(), Ok("camden"));
        let gate = principal(Role::GateClient, Some("foodbank"));
        assert_eq!(gate.bound_party(), Ok("foodbank"));
        for role in [Role::Signatory, Role::GateClient, Role::Contractor] {
            assert_eq!(principal(role, None).bound_party(), Err(Unbound(role)));
        }
        for role in [Role::Admin, Role::IgOfficer, Role::Auditor] {
            assert_eq!(principal(role, None).bound_party(), Err(Unbound(role)));
            assert_eq!(
                principal(role, Some("camden")).bound_party(),
                Err(Unbound(role)),
                "a party on a role that takes none binds it to nothing"
            );
        }
    }
}
