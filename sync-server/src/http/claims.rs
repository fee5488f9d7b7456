//! After-sales claims: the shopper's routes (file, list, read, reopen) and head office's (the
//! queue, filing for a receipt, a claim's page and its commands, statistics); the routes of
//! [`crate::claims`]. And the audit trail's search and check ([`crate::audit`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use shared_model::RecordId;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::events::Topic;
use super::extract::{Acting, JsonBody, QueryParams, RequestId};
use super::routes::{Policy, Routes};
use super::shop::SHOPPER;
use crate::audit::{self, Actor};
use crate::claims::commands::{self, ClaimDetail, Command, Filing};
use crate::claims::model::{Kind, Outcome};
use crate::claims::projections::{self, QueueFilter, QueuePage, ShopperClaims, Statistics};
use crate::claims::purchase::LineInput;
use crate::identity::{Role, Staff};
use crate::notify::{Language, Recipient};
use crate::shop::accounts::Shopper;

pub fn routes() -> Routes {
    Routes::tagged("claims")
        .route(SHOPPER, routes!(shopper_list))
        .route(SHOPPER, routes!(shopper_file))
        .route(SHOPPER, routes!(shopper_get))
        .route(SHOPPER, routes!(shopper_reopen))
        .route(Policy::office(), routes!(queue))
        .route(Policy::office(), routes!(file_for_receipt))
        .route(Policy::office(), routes!(statistics))
        .route(Policy::office(), routes!(get_claim))
        .route(Policy::office(), routes!(act))
        .route(Policy::office(), routes!(audit_search))
        .route(Policy::office(), routes!(audit_verify))
        .route(Policy::office(), routes!(audit_head))
}

/// Who handles claims at head office.
const AGENTS: &[Role] = &[Role::Manager];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    /// The line's number in the order or on the receipt, counted from 1 as the register
    /// prints them; 0 is refused (lines were once counted from 0).
    #[schema(minimum = 1, required = true)]
    #[serde(default)]
    pub line_number: Option<u32>,
    pub quantity: u32,
    /// The old name, counted from 0: taken only to be refused with a sentence, since reading
    /// `{"line":1}` from an old client as line 1 would claim its second line as the first.
    #[serde(default)]
    #[schema(ignore)]
    line: Option<serde::de::IgnoredAny>,
}

fn kind_of(text: &str) -> ApiResult<Kind> {
    Kind::parse(text).ok_or_else(|| {
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::invalid("kind", format!("kind is one of {}", kinds.join(", ")))
    })
}

fn filing(kind: &str, lines: &[LineIn], description: String) -> ApiResult<Filing> {
    let kind = kind_of(kind)?;
    let mut named = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if l.line.is_some() {
            return Err(ApiError::invalid(
                format!("lines[{i}].line"),
                "lines are now named by line_number, counted from 1 as on the receipt",
            ));
        }
        let Some(line) = l.line_number else {
            return Err(ApiError::invalid(
                format!("lines[{i}].line_number"),
                "name the line by line_number, counted from 1 as on the receipt",
            ));
        };
        named.push(LineInput { line, quantity: l.quantity });
    }
    Ok(Filing { kind, lines: named, description })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopperFiling {
    /// The order's number.
    pub order: i64,
    /// damaged_item, missing_item, wrong_charge, delivery or other.
    #[schema(pattern = "^(damaged_item|missing_item|wrong_charge|delivery|other)$")]
    pub kind: String,
    pub lines: Vec<LineIn>,
    pub description: String,
}

/// File a claim about one of the shopper's orders.
#[utoipa::path(post, path = "/api/shop/claims", request_body = ShopperFiling, responses((status = 201, description = "The claim, submitted", body = ClaimDetail), (status = 404, description = "The shopper has no such order"), (status = 409, description = "The order cannot be claimed about (not paid)")))]
pub async fn shopper_file(
    State(state): State<AppState>,
    shopper: Shopper,
    RequestId(request): RequestId,
    JsonBody(input): JsonBody<ShopperFiling>,
) -> ApiResult<(StatusCode, Json<ClaimDetail>)> {
    let filing = filing(&input.kind, &input.lines, input.description)?;
    let claim =
        commands::file_online(&state.shop, &state.db, shopper.customer, input.order, filing, request).await?;
    state.wake.all();
    state.events.send(Topic::Claims);
    Ok((StatusCode::CREATED, Json(claim)))
}

/// The shopper's claims, newest first (a read model: `freshness` says how far behind it is).
#[utoipa::path(get, path = "/api/shop/claims", responses((status = 200, description = "Claims", body = ShopperClaims)))]
pub async fn shopper_list(State(state): State<AppState>, shopper: Shopper) -> ApiResult<Json<ShopperClaims>> {
    Ok(Json(projections::of_shopper(&state.db, shopper.customer).await?))
}

/// One of the shopper's claims, with its history.
#[utoipa::path(get, path = "/api/shop/claims/{id}", responses((status = 200, description = "The claim", body = ClaimDetail)))]
pub async fn shopper_get(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
) -> ApiResult<Json<ClaimDetail>> {
    Ok(Json(commands::get(&state.db, &id, Some(shopper.customer)).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reopening {
    pub reason: String,
    /// The claim's version as read; refused with 409 if it changed since.
    pub expected_version: Option<i64>,
}

/// Reopen one of the shopper's claims, within 30 days of its closing.
#[utoipa::path(post, path = "/api/shop/claims/{id}/reopen", request_body = Reopening, responses((status = 200, description = "Reopened", body = ClaimDetail), (status = 409, description = "Not closed, closed too long ago, or changed since read")))]
pub async fn shopper_reopen(
    State(state): State<AppState>,
    shopper: Shopper,
    RequestId(request): RequestId,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Reopening>,
) -> ApiResult<Json<ClaimDetail>> {
    let actor = Actor::new(format!("customer:{}", shopper.customer), request);
    let command = Command::Reopen { reason: input.reason };
    let claim =
        commands::act(&state.db, &actor, &id, input.expected_version, command, Some(shopper.customer))
            .await?;
    state.wake.all();
    state.events.send(Topic::Claims);
    Ok(Json(claim))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct QueueQuery {
    /// submitted, assigned, in_progress, resolved, rejected or closed.
    pub state: Option<String>,
    /// Only open claims (submitted, assigned, in progress).
    pub open: Option<bool>,
    pub kind: Option<String>,
    /// A location code.
    pub store: Option<String>,
    /// An agent's username.
    pub assignee: Option<String>,
    /// Only claims filed at least this many hours ago.
    pub min_age_hours: Option<u32>,
    /// 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// The agents' queue and search, oldest first (admin, manager).
#[utoipa::path(get, path = "/api/claims", params(QueueQuery), responses((status = 200, description = "Claims, with how far behind the read model is", body = QueuePage)))]
pub async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(q): QueryParams<QueueQuery>,
) -> ApiResult<Json<QueuePage>> {
    staff.require(AGENTS)?;
    if let Some(s) = q.state.as_deref().filter(|s| crate::claims::model::State::parse(s).is_none()) {
        return Err(ApiError::invalid("state", format!("no claim state {s:?}")));
    }
    if let Some(k) = q.kind.as_deref() {
        kind_of(k).map_err(|_| ApiError::invalid("kind", format!("no claim kind {k:?}")))?;
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is between 1 and 500"));
    }
    let filter = QueueFilter {
        state: q.state,
        open: q.open.unwrap_or(false),
        kind: q.kind,
        store: q.store,
        assignee: q.assignee,
        filed_before_ms: q.min_age_hours.map(|h| crate::db::now_ms() - i64::from(h) * 3_600_000),
        limit,
    };
    Ok(Json(projections::queue_search(&state.db, &filter).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    pub email: String,
    pub name: String,
    /// fr (default) or en.
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFiling {
    /// The receipt's number as printed (`VMTL-01-000123`), or the sale's record id (its QR code).
    pub receipt: String,
    pub kind: String,
    pub lines: Vec<LineIn>,
    pub description: String,
    /// Where to write to the customer; none: they are not written to.
    pub contact: Option<ContactIn>,
}

/// File a claim for a store customer about a receipt (admin, manager).
#[utoipa::path(post, path = "/api/claims", request_body = ReceiptFiling, responses((status = 201, description = "The claim, submitted", body = ClaimDetail), (status = 404, description = "Head office has no sale with this receipt (yet)")))]
pub async fn file_for_receipt(
    State(state): State<AppState>,
    acting: Acting,
    JsonBody(input): JsonBody<ReceiptFiling>,
) -> ApiResult<(StatusCode, Json<ClaimDetail>)> {
    acting.staff.require(AGENTS)?;
    // The number printed on the receipt (VMTL-01-000123), or the UUID of its QR code.
    let receipt = match RecordId::parse(&input.receipt) {
        Ok(id) => id,
        Err(e) => match shared_model::ReceiptNumber::parse(&input.receipt) {
            Ok(number) => crate::sync::sale_of_number(&state.db, &number).await?,
            Err(_) => return Err(ApiError::invalid("receipt", e)),
        },
    };
    let contact = match input.contact {
        None => None,
        Some(c) => {
            let email = crate::shop::accounts::parse_email(&c.email).map_err(|_| {
                ApiError::invalid("contact.email", "an email address looks like name@example.com")
            })?;
            let name = c.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(ApiError::invalid("contact.name", "a name has 1 to 200 characters"));
            }
            let language = match c.language.as_deref() {
                None => Language::Fr,
                Some(l) => {
                    Language::parse(l).ok_or_else(|| ApiError::invalid("contact.language", "fr or en"))?
                }
            };
            Some(Recipient { email, name, language })
        }
    };
    let filing = filing(&input.kind, &input.lines, input.description)?;
    let claim = commands::file_for_receipt(&state.db, &acting.actor, &receipt, filing, contact).await?;
    state.wake.all();
    state.events.send(Topic::Claims);
    Ok((StatusCode::CREATED, Json(claim)))
}

/// A claim, its history and the commands its state allows (admin, manager).
#[utoipa::path(get, path = "/api/claims/{id}", responses((status = 200, description = "The claim", body = ClaimDetail)))]
pub async fn get_claim(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ClaimDetail>> {
    staff.require(AGENTS)?;
    Ok(Json(commands::get(&state.db, &id, None).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ActionInput {
    /// The claim's version as read; the command is refused with 409 if it changed since.
    pub expected_version: Option<i64>,
    /// assign: the agent's username.
    pub agent: Option<String>,
    /// resolve: `{"type": "refund", "amount_cents": 1250}`, `{"type": "replacement"}`,
    /// `{"type": "store_credit", "amount_cents": …}` or `{"type": "nothing"}`.
    pub outcome: Option<Outcome>,
    /// resolve, reject, reopen: why.
    pub reason: Option<String>,
}

/// Act on a claim: assign, start, resolve, reject, close or reopen (admin, manager). A
/// transition its state does not allow, or a claim changed since read, is a 409.
#[utoipa::path(post, path = "/api/claims/{id}/{action}", request_body = ActionInput, responses((status = 200, description = "The claim after", body = ClaimDetail), (status = 409, description = "Not allowed in its state, or changed since read")))]
pub async fn act(
    State(state): State<AppState>,
    acting: Acting,
    Path((id, action)): Path<(String, String)>,
    JsonBody(input): JsonBody<ActionInput>,
) -> ApiResult<Json<ClaimDetail>> {
    acting.staff.require(AGENTS)?;
    let reason = || input.reason.clone().ok_or_else(|| ApiError::invalid("reason", "say why"));
    let command = match action.as_str() {
        "assign" => {
            Command::Assign { agent: input.agent.clone().unwrap_or_else(|| acting.staff.username.clone()) }
        }
        "start" => Command::Start,
        "resolve" => Command::Resolve {
            outcome: input
                .outcome
                .ok_or_else(|| ApiError::invalid("outcome", "say what the resolution gives"))?,
            reason: reason()?,
        },
        "reject" => Command::Reject { reason: reason()? },
        "close" => Command::Close,
        "reopen" => Command::Reopen { reason: reason()? },
        other => {
            return Err(ApiError::NotFound(format!(
                "no claim action {other:?}: assign, start, resolve, reject, close or reopen"
            )));
        }
    };
    let refund = matches!(command, Command::Resolve { outcome: Outcome::Refund { .. }, .. });
    let mut claim =
        commands::act(&state.db, &acting.actor, &id, input.expected_version, command, None).await?;
    if refund {
        // Asked at once, claims' refunds only (a store return's unclear answer must not stop
        // this one); a lost answer is asked again by the refunds loop with the same key.
        match crate::refunds::settle_kinds(&state.refunds, &state.db, &[crate::refunds::Kind::Claim]).await {
            Ok(_) => claim = commands::get(&state.db, &id, None).await?,
            Err(e) => tracing::warn!(error = %e, claim = id, "the refund is asked again later"),
        }
    }
    state.wake.all();
    state.events.send(Topic::Claims);
    tracing::info!(claim = id, action, by = acting.staff.username, "claim changed");
    Ok(Json(claim))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct WeeksQuery {
    /// The first week, as 2026-W01.
    pub from: Option<String>,
    /// The last week.
    pub to: Option<String>,
}

fn check_week(field: &str, week: Option<&str>) -> ApiResult<()> {
    let Some(week) = week else { return Ok(()) };
    let fine = week.len() == 8
        && week[..4].chars().all(|c| c.is_ascii_digit())
        && &week[4..6] == "-W"
        && week[6..].parse::<u32>().is_ok_and(|w| (1..=53).contains(&w));
    if fine { Ok(()) } else { Err(ApiError::invalid(field, "a week is written 2026-W07")) }
}

/// Claims per kind, location and week, and the median time to a decision (admin, manager).
#[utoipa::path(get, path = "/api/claims/statistics", params(WeeksQuery), responses((status = 200, description = "Statistics", body = Statistics)))]
pub async fn statistics(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(q): QueryParams<WeeksQuery>,
) -> ApiResult<Json<Statistics>> {
    staff.require(AGENTS)?;
    check_week("from", q.from.as_deref())?;
    check_week("to", q.to.as_deref())?;
    Ok(Json(projections::statistics_of(&state.db, q.from.as_deref(), q.to.as_deref()).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditQuery {
    /// Whose actions (a username, `system`, or `customer:ID`).
    pub actor: Option<String>,
    /// An object (`claim:R-ABCD-EFGH`, `product:CAF-ESP-250`) or its start (`claim:`).
    pub object: Option<String>,
    /// From this time (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Up to this time.
    pub to_ms: Option<i64>,
    /// Entries numbered below this one (the previous page's last).
    pub before: Option<i64>,
    /// 1 to 500 (default 100).
    pub limit: Option<u32>,
}

/// Search the audit trail, newest first (admin, manager).
#[utoipa::path(get, path = "/api/audit", params(AuditQuery), responses((status = 200, description = "Entries", body = [audit::Entry])))]
pub async fn audit_search(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<Vec<audit::Entry>>> {
    staff.require(&[Role::Manager])?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is between 1 and 500"));
    }
    if let (Some(from), Some(to)) = (q.from_ms, q.to_ms)
        && from > to
    {
        return Err(ApiError::invalid("to_ms", "the period ends before it starts"));
    }
    let filter = audit::Filter {
        actor: q.actor.filter(|a| !a.is_empty()),
        object: q.object.filter(|o| !o.is_empty()),
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        before: q.before,
        limit,
    };
    Ok(Json(audit::search(&state.db, &filter).await?))
}

/// Check the audit trail's chain (admin): the first entry that breaks it, or its head.
#[utoipa::path(get, path = "/api/audit/verify", responses((status = 200, description = "What the check found", body = audit::Verification)))]
pub async fn audit_verify(
    State(state): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<audit::Verification>> {
    staff.require(&[])?;
    Ok(Json(audit::verify(&state.db).await?))
}

/// The audit trail's last entry (admin): its number, hash and time, to write down outside the
/// database, so that removing the newest entries shows.
#[utoipa::path(get, path = "/api/audit/head", responses((status = 200, description = "The last entry (number 0 when the trail is empty)", body = audit::Head)))]
pub async fn audit_head(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<audit::Head>> {
    staff.require(&[])?;
    Ok(Json(audit::head(&state.db).await?))
}
