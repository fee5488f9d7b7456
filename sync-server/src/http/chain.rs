//! The chain's receipt details: the routes of [`crate::chain`].

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared_model::chain::{ChainInfo, GstNumber, LegalName, QstNumber};
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Acting, JsonBody};
use super::routes::{Policy, Routes};
use crate::identity::Staff;

pub fn routes() -> Routes {
    Routes::tagged("chain")
        .route(Policy::office(), routes!(get_settings))
        .route(Policy::office(), routes!(put_settings))
}

/// The chain's legal name and tax registration numbers, as receipts print them; `null` where
/// none is set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainView {
    pub legal_name: Option<String>,
    /// `123456789 RT 0001`.
    pub gst_number: Option<String>,
    /// `1234567890 TQ 0001`.
    pub qst_number: Option<String>,
}

impl From<ChainInfo> for ChainView {
    fn from(info: ChainInfo) -> Self {
        ChainView {
            legal_name: info.legal_name.map(String::from),
            gst_number: info.gst_number.map(String::from),
            qst_number: info.qst_number.map(String::from),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainInput {
    /// 1 to 100 characters: the name the chain is registered under.
    pub legal_name: String,
    /// 9 digits, RT, 4 digits (`123456789 RT 0001`); spaces and case do not matter. Empty or
    /// `null`: the chain has none, and receipts leave the line out.
    #[serde(default)]
    pub gst_number: Option<String>,
    /// 10 digits, TQ, 4 digits (`1234567890 TQ 0001`); spaces and case do not matter. Empty or
    /// `null`: none.
    #[serde(default)]
    pub qst_number: Option<String>,
}

/// A number typed in a field: none when blank, otherwise it must parse.
fn optional<T>(
    field: &'static str,
    text: Option<&str>,
    parse: fn(&str) -> Result<T, shared_model::Invalid>,
) -> ApiResult<Option<T>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse(text).map(Some).map_err(|e| ApiError::invalid(field, e)),
    }
}

/// The chain's legal name and GST and QST numbers (every head-office role).
#[utoipa::path(get, path = "/api/chain-settings", responses((status = 200, description = "What receipts print", body = ChainView)))]
pub async fn get_settings(State(state): State<AppState>, _staff: Staff) -> ApiResult<Json<ChainView>> {
    Ok(Json(crate::chain::settings(&state.db).await?.into()))
}

/// Set the chain's legal name and GST and QST numbers (admin). The numbers are stored in the
/// form receipts print; the change is audited and reaches every register at its next pull. A
/// bad value changes nothing.
#[utoipa::path(put, path = "/api/chain-settings", request_body = ChainInput, responses((status = 200, description = "Set, as stored", body = ChainView), (status = 422, description = "A bad legal name, GST or QST number (the problem's field names it)")))]
pub async fn put_settings(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(input): JsonBody<ChainInput>,
) -> ApiResult<Json<ChainView>> {
    acting.staff.require(&[])?;
    let info = ChainInfo {
        legal_name: Some(
            LegalName::parse(&input.legal_name).map_err(|e| ApiError::invalid("legal_name", e))?,
        ),
        gst_number: optional("gst_number", input.gst_number.as_deref(), GstNumber::parse)?,
        qst_number: optional("qst_number", input.qst_number.as_deref(), QstNumber::parse)?,
    };
    let saved = crate::chain::set(&state.db, &info, &acting.actor).await?;
    tracing::info!(by = acting.staff.username, "chain settings changed");
    Ok(Json(saved.into()))
}
