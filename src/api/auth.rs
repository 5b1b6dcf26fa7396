//! Who is calling, and whether their role may: bearer tokens checked against stored hashes,
//! and one role set per endpoint naming the roles that may call it (deny by default). An
//! operation with a body takes its caller as [`Allowed`], which checks the role before anything
//! else of the request is read, so a caller who may not use it gets 403, never a verdict on
//! its body.

use std::marker::PhantomData;

use poem::{Request, RequestBody};
use poem_openapi::auth::Bearer;
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};

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

/// A set of roles, named by a type so an operation's signature says who may call it.
pub trait RoleSet: Send + Sync {
    const ROLES: &'static [Role];
}

macro_rules! role_sets {
    ($($name:ident = $roles:path;)*) => {$(
        #[doc = concat!("The roles of [`", stringify!($roles), "`].")]
        pub struct $name;
        impl RoleSet for $name {
            const ROLES: &'static [Role] = $roles;
        }
    )*};
}

role_sets! {
    Officers = crate::auth::OFFICERS;
    Readers = crate::auth::READERS;
    Requesters = crate::auth::REQUESTERS;
    Admins = crate::auth::ADMINS;
    Signers = crate::auth::SIGNERS;
    Contractors = crate::auth::CONTRACTORS;
    GateAskers = crate::auth::GATE_ASKERS;
    GateSenders = crate::auth::GATE_SENDERS;
}

/// A caller whose role is in `R`: the bearer token as [`Caller`] reads it, then 403 unless the
/// role is one of `R::ROLES`, before the operation reads its parameters or body. The same
/// security scheme in the OpenAPI document.
pub struct Allowed<R>(pub Principal, PhantomData<R>);

impl<'a, R: RoleSet> ApiExtractor<'a> for Allowed<R> {
    const TYPES: &'static [ApiExtractorType] = <Caller as ApiExtractor<'a>>::TYPES;

    type ParamType = <Caller as ApiExtractor<'a>>::ParamType;
    type ParamRawType = <Caller as ApiExtractor<'a>>::ParamRawType;

    fn register(registry: &mut Registry) {
        <Caller as ApiExtractor<'a>>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        <Caller as ApiExtractor<'a>>::security_schemes()
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let caller = <Caller as ApiExtractor<'a>>::from_request(request, body, param_opts).await?;
        caller.allow(R::ROLES)?;
        Ok(Allowed(caller.0, PhantomData))
    }
}
