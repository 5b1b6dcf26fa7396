//! `/api/v1/agreements`: upload, list, fetch (JSON and YAML), diff, sign, and the officer's
//! controls (suspend, reinstate, terminate).

use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiRequest, ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use super::auth::{Allowed, Caller, Officers, Signers};
use super::document::{Document, DocumentKind};
use std::sync::Arc;

use super::error::{ApiError, Errors, S400, S401, S403, S404, S409, S413, S415, S422, internal};
use super::text::{NonBlank, ReasonText, reason};
use crate::agreement::lifecycle::Control;
use crate::agreement::vocab::SignatureRole;
use crate::auth::ReadScope;
use crate::clock::Clock;
use crate::dpia::{self, Renderer};
use crate::inputs::SignerName;
use crate::registry::Registry;
use crate::registry::control::ControlState;
use crate::registry::queries::{
    AgreementPage, AgreementSummary, ListFilter, Paging, VersionDocument,
};
use crate::registry::stored::VersionInfo;
use crate::registry::versions::{Added, Origin};

pub struct AgreementsApi {
    pub registry: Registry,
    pub clock: Arc<dyn Clock>,
    /// DPIA renderers (HTML, Markdown), loaded once from the templates folder.
    pub dpia: Arc<(Renderer, Renderer)>,
}

/// The format of a generated DPIA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum DpiaFormat {
    Html,
    Md,
}

/// The DPIA as HTML (print-ready to A4, with the data-flow diagram) or as Markdown.
pub struct Dpia;

impl DocumentKind for Dpia {
    const DESCRIPTION: &'static str =
        "The DPIA: HTML (`format=html`, the default) or Markdown (`format=md`).";
}

/// An agreement as YAML.
#[derive(ApiRequest)]
pub enum Upload {
    #[oai(content_type = "application/yaml")]
    Yaml(Binary<Vec<u8>>),
    #[oai(content_type = "text/yaml")]
    TextYaml(Binary<Vec<u8>>),
    #[oai(content_type = "text/plain")]
    Text(Binary<Vec<u8>>),
}

#[derive(ApiResponse)]
pub enum Uploaded {
    /// A new version of the agreement (a draft until every party has signed).
    #[oai(status = 201)]
    Created(Json<VersionInfo>),
    /// The same content is already a version of this agreement.
    #[oai(status = 200)]
    Existing(Json<VersionInfo>),
}

#[derive(ApiResponse)]
pub enum YamlSource {
    /// The YAML exactly as received.
    #[oai(status = 200, content_type = "application/yaml; charset=utf-8")]
    Ok(YamlText),
}

/// A YAML document as text. Its schema is any value: a reader of the document parses YAML
/// (an agreement, not a string).
pub struct YamlText(pub String);

impl poem_openapi::payload::Payload for YamlText {
    const CONTENT_TYPE: &'static str = "application/yaml; charset=utf-8";

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(
            poem_openapi::registry::MetaSchema::ANY,
        ))
    }
}

impl IntoResponse for YamlText {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(<Self as poem_openapi::payload::Payload>::CONTENT_TYPE)
            .body(self.0)
    }
}

#[derive(ApiResponse)]
pub enum DiffText {
    /// A unified diff of the two versions' YAML.
    #[oai(status = 200, content_type = "text/x-diff; charset=utf-8")]
    Ok(PlainText<String>),
}

/// Why an officer acts.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReasonGiven {
    pub reason: ReasonText,
}

/// A signature for the signer's own party.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SignBody {
    /// The person signing, as they sign.
    pub name: NonBlank<{ SignerName::MAX }>,
    /// `senior_officer` (signs the agreement; the default) or `dpo` (records the DPO's review).
    #[oai(nullable)]
    pub role: Option<SignAs>,
}

/// In what capacity a signatory signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SignAs {
    SeniorOfficer,
    Dpo,
}

impl From<SignAs> for SignatureRole {
    fn from(role: SignAs) -> SignatureRole {
        match role {
            SignAs::SeniorOfficer => SignatureRole::SeniorOfficer,
            SignAs::Dpo => SignatureRole::Dpo,
        }
    }
}

#[OpenApi(prefix_path = "/agreements", tag = "ApiTags::Agreements")]
impl AgreementsApi {
    /// Upload an agreement (YAML). 422 with every finding if it has errors.
    #[oai(path = "/", method = "post")]
    async fn upload(
        &self,
        caller: Allowed<Officers>,
        body: Upload,
    ) -> Result<Uploaded, Errors<(S400, S401, S403, S409, S413, S415, S422)>> {
        let who = &caller.0;
        let bytes = match body {
            Upload::Yaml(b) | Upload::TextYaml(b) | Upload::Text(b) => b.0,
        };
        let added = self
            .registry
            .add_version(&bytes, &who.actor(), Origin::Upload)
            .await
            .map_err(ApiError::from)?;
        Ok(match added {
            Added::Created(v) => Uploaded::Created(Json(v)),
            Added::Existing(v) => Uploaded::Existing(Json(v)),
        })
    }

    /// List agreements with their current status, by id. A signatory sees its own party's.
    /// Page by number (`page`), or by key: pass the last page's `next_after` as `after`.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        caller: Caller,
        status: Query<Option<crate::openapi_types::Status>>,
        party: Query<Option<String>>,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000000")))] page: Query<
            Option<u64>,
        >,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<
            Option<u64>,
        >,
    ) -> Result<Json<AgreementPage>, Errors<(S400, S401, S403)>> {
        let party = match caller
            .0
            .read_scope()
            .map_err(|d| ApiError::Forbidden(d.0))?
        {
            ReadScope::Everything => party.0,
            ReadScope::Party(own) => Some(own.to_owned()),
        };
        let paging = Paging::new(page.0, per_page.0);
        let found = self
            .registry
            .agreements(
                &ListFilter {
                    status: status.0.map(Into::into),
                    party: party.as_deref(),
                    ..Default::default()
                },
                after.as_deref(),
                paging,
            )
            .await;
        Ok(Json(found.map_err(ApiError::from)?))
    }

    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        caller: Caller,
        id: Path<String>,
    ) -> Result<Json<AgreementSummary>, Errors<(S401, S403, S404)>> {
        self.readable(&caller, &id, None).await?;
        Ok(Json(
            self.registry.agreement(&id).await.map_err(ApiError::from)?,
        ))
    }

    #[oai(path = "/:id/versions", method = "get")]
    async fn versions(
        &self,
        caller: Caller,
        id: Path<String>,
    ) -> Result<Json<Vec<VersionInfo>>, Errors<(S401, S403, S404)>> {
        self.readable(&caller, &id, None).await?;
        Ok(Json(
            self.registry.versions(&id).await.map_err(ApiError::from)?,
        ))
    }

    /// One version with its agreement as JSON.
    #[oai(path = "/:id/versions/:number", method = "get")]
    async fn version(
        &self,
        caller: Caller,
        id: Path<String>,
        number: Path<i32>,
    ) -> Result<Json<VersionDocument>, Errors<(S400, S401, S403, S404)>> {
        self.readable(&caller, &id, Some(number.0)).await?;
        Ok(Json(
            self.registry
                .version_document(&id, number.0)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// One version's YAML, exactly as received.
    #[oai(path = "/:id/versions/:number/source", method = "get")]
    async fn source(
        &self,
        caller: Caller,
        id: Path<String>,
        number: Path<i32>,
    ) -> Result<YamlSource, Errors<(S400, S401, S403, S404)>> {
        self.readable(&caller, &id, Some(number.0)).await?;
        let text = self
            .registry
            .version_source(&id, number.0)
            .await
            .map_err(ApiError::from)?;
        Ok(YamlSource::Ok(YamlText(text)))
    }

    /// What changed between two versions.
    #[oai(path = "/:id/diff", method = "get")]
    async fn diff(
        &self,
        caller: Caller,
        id: Path<String>,
        from: Query<i32>,
        to: Query<i32>,
    ) -> Result<DiffText, Errors<(S400, S401, S403, S404)>> {
        self.readable(&caller, &id, Some(from.0)).await?;
        self.readable(&caller, &id, Some(to.0)).await?;
        let text = self
            .registry
            .diff(&id, from.0, to.0)
            .await
            .map_err(ApiError::from)?;
        Ok(DiffText::Ok(PlainText(text)))
    }

    /// The DPIA generated from the agreement (ICO template structure, screening, risk register,
    /// data-flow diagram): of `version`, or else the current version.
    #[oai(path = "/:id/dpia", method = "get")]
    async fn dpia(
        &self,
        caller: Caller,
        id: Path<String>,
        format: Query<Option<DpiaFormat>>,
        version: Query<Option<i32>>,
    ) -> Result<Document<Dpia>, Errors<(S400, S401, S403, S404)>> {
        self.readable(&caller, &id, version.0).await?;
        let (number, agreement) = self
            .registry
            .agreement_at(&id, version.0)
            .await
            .map_err(ApiError::from)?;
        let today = self.clock.today();
        let doc = dpia::generate(&agreement, today).in_register(number);
        let (html, md) = &*self.dpia;
        Ok(match format.0.unwrap_or(DpiaFormat::Html) {
            DpiaFormat::Html => Document::html(html.render(&doc).map_err(|e| internal(&e))?),
            DpiaFormat::Md => Document::markdown(md.render(&doc).map_err(|e| internal(&e))?),
        })
    }

    /// Sign a draft version for the signatory's own party. The version becomes active when
    /// every party has signed.
    #[oai(path = "/:id/versions/:number/signatures", method = "post")]
    async fn sign(
        &self,
        caller: Allowed<Signers>,
        id: Path<String>,
        number: Path<i32>,
        body: Json<SignBody>,
    ) -> Result<Json<VersionInfo>, Errors<(S400, S401, S403, S404, S409, S413, S415)>> {
        let who = &caller.0;
        let name = SignerName::parse(&body.name)
            .map_err(|p| ApiError::BadRequest(p.message("the signer's name")))?;
        let info = self
            .registry
            .sign(
                &id,
                number.0,
                who,
                &name,
                body.role.unwrap_or(SignAs::SeniorOfficer).into(),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Json(info))
    }

    /// Suspend an agreement: the gate refuses its flows until it is reinstated.
    #[oai(path = "/:id/suspend", method = "post")]
    async fn suspend(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<ControlState>, ControlErrors> {
        self.control(&caller, &id, &body, Control::Suspended).await
    }

    #[oai(path = "/:id/reinstate", method = "post")]
    async fn reinstate(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<ControlState>, ControlErrors> {
        self.control(&caller, &id, &body, Control::Open).await
    }

    /// Terminate an agreement for good.
    #[oai(path = "/:id/terminate", method = "post")]
    async fn terminate(
        &self,
        caller: Allowed<Officers>,
        id: Path<String>,
        body: Json<ReasonGiven>,
    ) -> Result<Json<ControlState>, ControlErrors> {
        self.control(&caller, &id, &body, Control::Terminated).await
    }
}

/// What an officer's control of an agreement may answer with.
type ControlErrors = Errors<(S400, S401, S403, S404, S409, S413, S415)>;

impl AgreementsApi {
    /// Moves the agreement's control, for an officer, with the reason given.
    async fn control(
        &self,
        caller: &Allowed<Officers>,
        id: &str,
        body: &ReasonGiven,
        to: Control,
    ) -> Result<Json<ControlState>, ControlErrors> {
        let actor = caller.0.actor();
        let state = self
            .registry
            .set_control(id, to, &reason(&body.reason)?, &actor)
            .await;
        Ok(Json(state.map_err(ApiError::from)?))
    }

    /// 403 unless the caller may read agreement `id` (as a whole, or its version `number`).
    /// A party's reader gets 403 for an agreement that does not exist, too; readers of
    /// everything get the 404 from the read that follows.
    async fn readable(
        &self,
        caller: &Caller,
        id: &str,
        number: Option<i32>,
    ) -> Result<(), ApiError> {
        Ok(self.registry.readable(&caller.0, id, number).await?)
    }
}
