//! Register sync and dead letters: the routes of [`crate::sync`], and enrolment.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use shared_model::protocol::{Enrolment, Message, SaleForReturn};
use shared_model::{ReceiptNumber, RecordId, RegisterId};
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ClientAddr, JsonBody, QueryParams, WireBody};
use super::routes::{Policy, Routes};
use crate::identity::{self, Register, Role, Staff};
use crate::sync::{self, Pushed};

/// Enrolment: a one-time code checked in place of a password.
const ENROL: Policy = Policy::anyone().answers(&[
    ("401", "The enrolment code is wrong, used or expired"),
    ("429", "Too many failed attempts: see Retry-After"),
    ("503", "Too many codes being checked: see Retry-After"),
]);

pub fn routes() -> Routes {
    Routes::tagged("sync")
        .route(ENROL, routes!(enrol))
        .route(Policy::register(), routes!(push))
        .route(Policy::register(), routes!(pull))
        .route(Policy::register(), routes!(sale_for_return))
        .route(Policy::office(), routes!(dead_letters))
}

/// Exchange an enrolment code for a register's device secret. A till that names its register
/// is slowed down only by wrong codes tried for that register from its address.
#[utoipa::path(post, path = "/api/registers/enrol", request_body = Object, responses((status = 200, description = "The register's id, store and device secret"), (status = 422, description = "Unknown, used or expired code, or one for another register"), (status = 429, description = "Too many wrong codes from this address for this register: see Retry-After")))]
pub async fn enrol(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    JsonBody(body): JsonBody<EnrolInput>,
) -> ApiResult<Json<Enrolment>> {
    let register = body
        .register
        .as_deref()
        .map(RegisterId::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("register", e))?;
    Ok(Json(identity::enrol_as(&state.db, address, register.as_ref(), &body.code).await?))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolInput {
    pub code: String,
    /// The register the code is for (STORE-NN), if the till knows it.
    #[serde(default)]
    pub register: Option<String>,
}

/// Push a batch of records (a register, with its device secret). Body: the versioned wire form
/// of `PushBatch`; answer: `PushResponse`, or a problem naming each refused record.
#[utoipa::path(post, path = "/api/sync/push", request_body(content = Object, description = "{\"format\":1,\"push\":{\"records\":[…]}}"), responses((status = 200, description = "Verdicts and what the server holds"), (status = 403, description = "A record for another register or store"), (status = 413, description = "Batch too large"), (status = 422, description = "Refused records, named")))]
pub async fn push(
    State(state): State<AppState>,
    register: Register,
    WireBody(body): WireBody,
) -> ApiResult<Response> {
    match sync::push(&state.db, &register, &body, state.settings.skew_bound_ms).await? {
        Pushed::Held(response) => {
            // A retry of records already held changes nothing a page shows.
            if response.verdicts.iter().any(|v| v.outcome == shared_model::protocol::Outcome::Accepted) {
                state.events.send(super::events::Topic::Sales);
            }
            Ok(wire_response(response.encode()))
        }
        Pushed::Refused { detail, field, answer } => {
            let serde_json::Value::Object(extra) =
                serde_json::to_value(&answer).map_err(|e| ApiError::Internal(e.into()))?
            else {
                return Err(ApiError::Internal(anyhow::anyhow!("a refused push's answer is not an object")));
            };
            Err(ApiError::Unprocessable { detail, field: Some(field), extra })
        }
    }
}

fn wire_response(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Pull the changes after a cursor (a register, with its device secret).
#[utoipa::path(post, path = "/api/sync/pull", request_body(content = Object, description = "{\"format\":1,\"pull\":{\"cursor\":0,\"limit\":1000}}"), responses((status = 200, description = "Changes and the next cursor")))]
pub async fn pull(
    State(state): State<AppState>,
    register: Register,
    WireBody(body): WireBody,
) -> ApiResult<Response> {
    let page = sync::pull(&state.db, &register, &body).await?;
    // Only a pull that handed changes moves what the pages show (how far a product has
    // reached); registers pull every few seconds, mostly for nothing.
    if !page.changes.is_empty() {
        state.events.send(super::events::Topic::Registers);
    }
    Ok(wire_response(page.encode()))
}

/// A sale from any store, for a return at another store (a register, online). `id` is the
/// sale's record id (the receipt's long number, under its QR code) or the receipt's short
/// number, `VMTL-01-000123` (its register and sequence number).
#[utoipa::path(get, path = "/api/sync/sales/{id}", params(("id" = String, Path, description = "A record id, or a receipt's short number like VMTL-01-000123")), responses((status = 200, description = "The sale and what was returned of it"), (status = 404, description = "Not at head office (yet)")))]
pub async fn sale_for_return(
    State(state): State<AppState>,
    _register: Register,
    Path(id): Path<String>,
) -> ApiResult<Json<SaleForReturn>> {
    let id = match RecordId::parse(&id) {
        Ok(id) => id,
        Err(_) => {
            let number = ReceiptNumber::parse(&id).map_err(|_| {
                ApiError::bad(
                    "id",
                    "expected a record id (a UUID) or a receipt's short number like VMTL-01-000123",
                )
            })?;
            sync::sale_of_number(&state.db, &number).await?
        }
    };
    Ok(Json(sync::sale_for_return(&state.db, &id).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    /// Only letters older than this id (the last id of the previous page).
    pub before: Option<i64>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    /// Only this register's.
    pub register: Option<String>,
}

/// Records refused at push, with their reason, newest first, a page at a time (admin, manager).
#[utoipa::path(get, path = "/api/dead-letters", params(DeadLetterQuery), security(("session" = [])), responses((status = 200, description = "Newest first", body = [sync::DeadLetter])))]
pub async fn dead_letters(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(query): QueryParams<DeadLetterQuery>,
) -> ApiResult<Json<Vec<sync::DeadLetter>>> {
    staff.require(&[Role::Manager])?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is between 1 and 200"));
    }
    let register = match &query.register {
        Some(id) => Some(RegisterId::parse(id).map_err(|e| ApiError::invalid("register", e))?),
        None => None,
    };
    Ok(Json(sync::dead_letters(&state.db, query.before, limit, register.as_ref()).await?))
}
