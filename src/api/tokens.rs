//! `/api/v1/tokens`: list and revoke API tokens (admin only). Minting stays on the command line
//! (`accord token create`), where the secret can be shown once to the person who runs it.

use std::sync::Arc;

use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::ApiTags;
use super::auth::{Admins, Allowed};
use super::error::{ApiError, Errors, S400, S401, S403, S404, S409};
use crate::auth::{Revoker, TokenCache, TokenInfo, list, revoke};
use crate::clock::Clock;
use sea_orm::DatabaseConnection;

pub struct TokensApi {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub cache: Arc<TokenCache>,
}

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Every token: who it is for, its role and party, when minted and revoked. Never secrets.
    #[oai(path = "/tokens", method = "get")]
    async fn list(
        &self,
        _caller: Allowed<Admins>,
    ) -> Result<Json<Vec<TokenInfo>>, Errors<(S401, S403)>> {
        Ok(Json(list(&self.db).await.map_err(ApiError::from)?))
    }

    /// Revoke a token (when a contractor leaves, or a secret leaks). It stops working on this
    /// instance at once, and on others within 2 seconds. 409 for the caller's own token, and for
    /// the last administrator token in force: either would lock every administrator out.
    #[oai(path = "/tokens/:id/revoke", method = "post")]
    async fn revoke(
        &self,
        caller: Allowed<Admins>,
        id: Path<Uuid>,
    ) -> Result<Json<TokenInfo>, Errors<(S400, S401, S403, S404, S409)>> {
        let who = &caller.0;
        let now = self.clock.now();
        let done = revoke(&self.db, now, id.0, Revoker::Api(who)).await;
        self.cache.forget_all();
        Ok(Json(done.map_err(ApiError::from)?))
    }
}
