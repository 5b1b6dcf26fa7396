//! Who is calling, and whether their role may: bearer tokens checked against stored hashes,
//! and one `allow` per endpoint naming the roles that may call it (deny by default).

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use super::error::ApiError;

use crate::app::App;
use crate::auth::{Principal, Role};

/// `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check")]
pub struct Caller(pub Principal);

async fn check(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    Ok(principal_for(req, &bearer.token).await?)
}

/// The secret of an `Authorization: Bearer …` header (the scheme in any case), for the
/// endpoints the security scheme does not cover.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = req.header("authorization")?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
}

/// The caller a bearer secret belongs to, through the app's token cache; 401 if none.
pub async fn principal_for(req: &Request, secret: &str) -> Result<Principal, ApiError> {
    let app = req
        .data::<App>()
        .ok_or_else(|| super::error::internal(&"the app is missing from request data"))?;
    match app.tokens.authenticate(&app.db, secret).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(ApiError::Unauthorized),
        Err(e) => Err(super::error::internal(&e)),
    }
}

impl Caller {
    /// Fails with 403 unless the caller's role is one of `roles` ([`Principal::allow`]).
    pub fn allow(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        self.0.allow(roles).map_err(|d| ApiError::Forbidden(d.0))
    }
}

pub use crate::auth::{OFFICERS, READERS};
