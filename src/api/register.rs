//! `/api/v1/register`: the Article 30 record of processing, as JSON and as CSV.

use poem::Body;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::{Allowed, Readers};
use super::error::{ApiError, Errors, S401, S403};
use crate::registry::Registry;
use crate::registry::register::{RegisterEntry, csv_chunks};

pub struct RegisterApi {
    pub registry: Registry,
}

#[derive(ApiResponse)]
pub enum CsvFile {
    /// One row per active agreement; UTF-8 with a byte-order mark for spreadsheets. Streamed:
    /// rows are written as they are sent.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Body>, #[oai(header = "content-disposition")] String),
}

#[OpenApi(tag = "ApiTags::Register")]
impl RegisterApi {
    /// The register: an Article 30 record for each active agreement.
    #[oai(path = "/register", method = "get")]
    async fn register(
        &self,
        _caller: Allowed<Readers>,
    ) -> Result<Json<Vec<RegisterEntry>>, Errors<(S401, S403)>> {
        Ok(Json(
            self.registry.register().await.map_err(ApiError::from)?,
        ))
    }

    /// The register as CSV.
    #[oai(path = "/register.csv", method = "get")]
    async fn register_csv(
        &self,
        _caller: Allowed<Readers>,
    ) -> Result<CsvFile, Errors<(S401, S403)>> {
        let entries = self
            .registry
            .register_entries()
            .await
            .map_err(ApiError::from)?;
        let chunks = csv_chunks(entries).map(|chunk| {
            chunk.map_err(|e| {
                tracing::error!(error = %e, "the register's CSV could not be written");
                std::io::Error::other(e)
            })
        });
        let body = Body::from_bytes_stream(futures_util::stream::iter(chunks));
        let name = "attachment; filename=\"accord-register.csv\"".to_owned();
        Ok(CsvFile::Ok(Binary(body), name))
    }
}
