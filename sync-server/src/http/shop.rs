//! The online shop's routes, under `/api/shop/…` for shoppers and `/api/fulfilment/…` for the
//! logistics centre: the HTTP face of [`crate::shop`].

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ClientAddr, JsonBody, QueryParams, bearer, declared_for};
use super::routes::{Caller, Policy, Routes};
use crate::gateway::keys::Scope;
use crate::identity::{Role, Staff};
use crate::shop::accounts::{self, Customer, Shopper, Tokens};
use crate::shop::cart::{self, CartView};
use crate::shop::checkout::{self, Placed};
use crate::shop::orders::{self, OrderView, Page};
use crate::shop::payments::CardNumber;
use crate::shop::{self, catalogue as shop_catalogue};

/// The shop's API: its pages on another origin may call it, and a partner's server with a key
/// of the shop's scope. Without a logistics centre the shop is closed.
const SHOP: Policy = Policy::anyone().key(Scope::Shop).shop_pages();

/// What a signed-in shopper does (counted against the shopper's limit).
pub const SHOPPER: Policy = Policy { caller: Caller::Shopper, ..SHOP }
    .answers(&[("503", "Busy, or the shop is closed: see Retry-After")]);

/// The shop's catalogue, open to anyone.
const CATALOGUE: Policy =
    SHOP.answers(&[("503", "The shop is closed: the chain has no logistics centre yet")]);

/// Opening an account hashes a password, counted with the sign-ins.
const SIGN_UP: Policy = SHOP.sign_in().answers(&[
    ("429", "Too many failed attempts: see Retry-After"),
    ("503", "Too many passwords being checked, or the shop is closed: see Retry-After"),
]);

/// A shopper's sign-in: a password checked, every try counted against the client's address.
const SIGN_IN: Policy = SHOP.sign_in().answers(&[
    ("401", "Wrong email or password"),
    ("429", "Too many failed attempts: see Retry-After"),
    ("503", "Too many sign-ins being checked, or the shop is closed: see Retry-After"),
]);

/// A refresh token tried, counted with the sign-ins.
const REFRESH: Policy = SHOP.sign_in().answers(&[
    ("401", "The refresh token is unknown, used, expired or revoked"),
    ("503", "Busy, or the shop is closed: see Retry-After"),
]);

pub fn routes() -> Routes {
    Routes::tagged("shop")
        .route(SIGN_UP, routes!(sign_up))
        .route(SIGN_IN, routes!(sign_in))
        .route(REFRESH, routes!(refresh))
        .route(CATALOGUE, routes!(browse))
        .route(CATALOGUE, routes!(product))
        .route(SHOPPER, routes!(sign_out))
        .route(SHOPPER, routes!(me))
        .route(SHOPPER, routes!(view_cart))
        .route(SHOPPER, routes!(add_line))
        .route(SHOPPER, routes!(set_line))
        .route(SHOPPER, routes!(remove_line))
        .route(SHOPPER, routes!(checkout_cart))
        .route(SHOPPER, routes!(history))
        .route(SHOPPER, routes!(order))
        .route(SHOPPER, routes!(cancel))
        .route(Policy::office(), routes!(fulfilment_list))
        .route(Policy::office(), routes!(fulfilment_advance))
        .route(Policy::register(), routes!(order_for_return))
}

/// A signed-in shopper, from the access token.
impl<S> FromRequestParts<S> for Shopper
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        declared_for(parts, Caller::Shopper)?;
        let state = AppState::from_ref(state);
        let token = bearer(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in first: send Authorization: Bearer <access_token from POST /api/shop/sessions>"
                    .into(),
            )
        })?;
        let shopper = accounts::authenticate(&state.shop, &state.db, token).await?;
        let slot = parts.extensions.get::<super::gateway::QuotaSlot>();
        super::gateway::limit_shopper(&state, slot, shopper.customer)?;
        Ok(shopper)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub email: String,
    pub name: String,
    /// At least 12 characters, and hard to guess (zxcvbn's score 3 or more, knowing the email
    /// address and name).
    pub password: String,
    /// fr (the default) or en: the language of the shopper's messages.
    pub language: Option<String>,
}

/// Opens a shopper's account. The answer is the same whether the address was free or already
/// had an account (whose owner is then told by email): it tells nobody who is a customer.
#[utoipa::path(post, path = "/api/shop/accounts", request_body = SignUp, responses((status = 201, description = "Taken in: the account is open, unless the address had one already", body = accounts::SignedUp), (status = 422, description = "A bad email, name or language, or a password too short or too easy to guess")))]
pub async fn sign_up(
    State(state): State<AppState>,
    JsonBody(input): JsonBody<SignUp>,
) -> ApiResult<(StatusCode, Json<accounts::SignedUp>)> {
    let answer = accounts::sign_up(
        &state.shop,
        &state.db,
        &input.email,
        &input.name,
        &input.password,
        input.language.as_deref(),
    )
    .await?;
    // A message to the owner of an address already taken goes out now, not at the next round.
    state.wake.mail.notify_one();
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// Signs in: a short-lived access token and a refresh token.
#[utoipa::path(post, path = "/api/shop/sessions", request_body = SignIn, responses((status = 200, description = "Tokens", body = Tokens)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    JsonBody(input): JsonBody<SignIn>,
) -> ApiResult<Json<Tokens>> {
    Ok(Json(accounts::sign_in(&state.shop, &state.db, address, &input.email, &input.password).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

/// Trades a refresh token for a new pair; a used one presented again ends the session.
#[utoipa::path(post, path = "/api/shop/sessions/refresh", request_body = Refresh, responses((status = 200, description = "New tokens", body = Tokens)))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(input): JsonBody<Refresh>,
) -> ApiResult<Json<Tokens>> {
    Ok(Json(accounts::refresh(&state.shop, &state.db, &input.refresh_token).await?))
}

/// Signs out: the session's tokens stop working at once.
#[utoipa::path(delete, path = "/api/shop/sessions/current", responses((status = 204, description = "Signed out")))]
pub async fn sign_out(State(state): State<AppState>, shopper: Shopper) -> ApiResult<StatusCode> {
    accounts::sign_out(&state.db, &shopper).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in shopper.
#[utoipa::path(get, path = "/api/shop/me", responses((status = 200, description = "The account", body = Customer)))]
pub async fn me(State(state): State<AppState>, shopper: Shopper) -> ApiResult<Json<Customer>> {
    Ok(Json(accounts::customer(&state.db, shopper.customer).await?))
}

/// The catalogue as shoppers see it: search by name, category and price, with online
/// availability; no sign-in needed.
#[utoipa::path(get, path = "/api/shop/products", params(shop_catalogue::Search), responses((status = 200, description = "A page of products", body = shop_catalogue::ProductPage)))]
pub async fn browse(
    State(state): State<AppState>,
    QueryParams(search): QueryParams<shop_catalogue::Search>,
) -> ApiResult<Json<shop_catalogue::ProductPage>> {
    Ok(Json(shop_catalogue::search(&state.shop, &state.db, &state.listing, &search).await?))
}

/// One product, with its online availability.
#[utoipa::path(get, path = "/api/shop/products/{sku}", responses((status = 200, description = "The product", body = shop_catalogue::ShopProduct)))]
pub async fn product(
    State(state): State<AppState>,
    Path(sku): Path<String>,
) -> ApiResult<Json<shop_catalogue::ShopProduct>> {
    Ok(Json(shop_catalogue::one(&state.shop, &state.db, &sku).await?))
}

/// The shopper's cart, priced now.
#[utoipa::path(get, path = "/api/shop/cart", responses((status = 200, description = "The cart", body = CartView)))]
pub async fn view_cart(State(state): State<AppState>, shopper: Shopper) -> ApiResult<Json<CartView>> {
    Ok(Json(cart::view(&state.shop, &state.db, &shopper).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    pub sku: String,
    pub quantity: i64,
}

/// Adds units of a product to the cart.
#[utoipa::path(post, path = "/api/shop/cart/lines", request_body = NewLine, responses((status = 200, description = "The cart", body = CartView)))]
pub async fn add_line(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(input): JsonBody<NewLine>,
) -> ApiResult<Json<CartView>> {
    Ok(Json(cart::put_line(&state.shop, &state.db, &shopper, &input.sku, input.quantity, true).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    pub quantity: i64,
}

/// Sets a line's quantity.
#[utoipa::path(put, path = "/api/shop/cart/lines/{sku}", request_body = LineQuantity, responses((status = 200, description = "The cart", body = CartView)))]
pub async fn set_line(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(sku): Path<String>,
    JsonBody(input): JsonBody<LineQuantity>,
) -> ApiResult<Json<CartView>> {
    Ok(Json(cart::put_line(&state.shop, &state.db, &shopper, &sku, input.quantity, false).await?))
}

/// Takes a line out of the cart.
#[utoipa::path(delete, path = "/api/shop/cart/lines/{sku}", responses((status = 200, description = "The cart", body = CartView)))]
pub async fn remove_line(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(sku): Path<String>,
) -> ApiResult<Json<CartView>> {
    Ok(Json(cart::remove_line(&state.shop, &state.db, &shopper, &sku).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// The card number, passed to the card processor and never stored.
    pub card_number: String,
}

/// Checks the cart out: reserves the stock, takes the payment, confirms the order. Send an
/// `Idempotency-Key` header: retried with the same key, it answers the same order.
#[utoipa::path(post, path = "/api/shop/checkout", request_body = Payment,
    params(("Idempotency-Key" = String, Header, description = "The same for every retry of one checkout")),
    responses(
        (status = 201, description = "Paid and confirmed", body = OrderView),
        (status = 202, description = "The payment is being confirmed: ask for the order again", body = OrderView),
        (status = 402, description = "The card was declined: nothing charged, nothing reserved"),
        (status = 409, description = "Not enough stock, the key was used for another cart, or this version of the cart is already checked out (field `cart`): nothing ordered, nothing charged"),
        (status = 502, description = "The card processor failed: nothing charged"),
    ))]
pub async fn checkout_cart(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    JsonBody(input): JsonBody<Payment>,
) -> ApiResult<Response> {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map_err(|_| ApiError::bad("Idempotency-Key", "the key must be visible ASCII")))
        .transpose()?
        .ok_or_else(|| {
            ApiError::bad(
                "Idempotency-Key",
                "send an Idempotency-Key header (a UUID), the same for every retry",
            )
        })?;
    let card = CardNumber::parse(&input.card_number).map_err(|e| ApiError::invalid("card_number", e))?;
    let placed = checkout::checkout(&state.shop, &state.db, &shopper, key, &card).await?;
    state.events.send(super::events::Topic::Orders);
    Ok(match placed {
        Placed::Confirmed(order) => (StatusCode::CREATED, Json(order)).into_response(),
        Placed::Pending(order) => (StatusCode::ACCEPTED, Json(order)).into_response(),
    })
}

/// The shopper's orders, newest first.
#[utoipa::path(get, path = "/api/shop/orders", params(Page), responses((status = 200, description = "Orders", body = [OrderView])))]
pub async fn history(
    State(state): State<AppState>,
    shopper: Shopper,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Json<Vec<OrderView>>> {
    Ok(Json(orders::history(&state.db, &shopper, &page).await?))
}

/// One of the shopper's orders.
#[utoipa::path(get, path = "/api/shop/orders/{number}", responses((status = 200, description = "The order", body = OrderView)))]
pub async fn order(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(number): Path<i64>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(orders::get(&state.db, shopper.customer, number).await?))
}

/// Cancels a paid order before it is picked: the payment is refunded.
#[utoipa::path(post, path = "/api/shop/orders/{number}/cancel", responses((status = 200, description = "The order, cancelled (or cancelling while the refund is confirmed)", body = OrderView), (status = 409, description = "Already picked, shipped, or still being paid"), (status = 502, description = "The card processor refused the refund")))]
pub async fn cancel(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(number): Path<i64>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(orders::cancel(&state.shop, &state.db, &shopper, number).await?))
}

/// Orders for the logistics centre to pick and ship, oldest first (admin, logistics).
#[utoipa::path(get, path = "/api/fulfilment/orders", params(Page), responses((status = 200, description = "Orders", body = [OrderView])))]
pub async fn fulfilment_list(
    State(state): State<AppState>,
    staff: Staff,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Json<Vec<OrderView>>> {
    staff.require(&[Role::Logistics])?;
    Ok(Json(orders::for_fulfilment(&state.db, &page).await?))
}

/// Marks an order picked, shipped or delivered (admin, logistics).
#[utoipa::path(post, path = "/api/fulfilment/orders/{number}/{step}", params(("number" = i64, Path), ("step" = String, Path, description = "picked, shipped or delivered")), responses((status = 200, description = "The order", body = OrderView), (status = 409, description = "Not in the step before")))]
pub async fn fulfilment_advance(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, step)): Path<(i64, String)>,
) -> ApiResult<Json<OrderView>> {
    staff.require(&[Role::Logistics])?;
    let order = orders::advance(&state.db, number, &step).await?;
    state.events.send(super::events::Topic::Orders);
    Ok(Json(order))
}

/// An online order with what was returned of it, for its return at a store (a register, online).
#[utoipa::path(get, path = "/api/sync/orders/{number}", params(("number" = String, Path, description = "W-123, or 123")), responses((status = 200, description = "The order's lines, their amounts and what came back of each"), (status = 404, description = "No such order")))]
pub async fn order_for_return(
    State(state): State<AppState>,
    _register: crate::identity::Register,
    Path(number): Path<String>,
) -> ApiResult<Json<shared_model::protocol::OrderForReturn>> {
    let number = shared_model::OrderNumber::parse(&number).map_err(|e| ApiError::bad("number", e))?;
    Ok(Json(shop::store_returns::order_for_return(&state.db, number).await?))
}

impl From<shop::Error> for ApiError {
    fn from(error: shop::Error) -> Self {
        use shop::Error as E;
        match error {
            E::Invalid { field, detail } => ApiError::invalid(field, detail),
            E::Unauthorized(detail) => ApiError::Unauthorized(detail),
            E::NotFound(detail) => ApiError::NotFound(detail),
            E::Conflict { field, detail } => ApiError::Refused {
                status: StatusCode::CONFLICT,
                slug: "conflict",
                detail,
                field,
                extra: serde_json::Map::new(),
            },
            E::OutOfStock { ref sku, available, wanted } => {
                let mut extra = serde_json::Map::new();
                extra.insert("sku".into(), sku.clone().into());
                extra.insert("available".into(), available.into());
                extra.insert("wanted".into(), wanted.into());
                ApiError::Refused {
                    status: StatusCode::CONFLICT,
                    slug: "out-of-stock",
                    detail: error.to_string(),
                    field: Some("cart".into()),
                    extra,
                }
            }
            E::Declined(_) => ApiError::Refused {
                status: StatusCode::PAYMENT_REQUIRED,
                slug: "card-declined",
                detail: error.to_string(),
                field: Some("card_number".into()),
                extra: serde_json::Map::new(),
            },
            E::PaymentFailed(detail) => ApiError::Refused {
                status: StatusCode::BAD_GATEWAY,
                slug: "payment-failed",
                detail,
                field: None,
                extra: serde_json::Map::new(),
            },
            E::Throttled { detail, retry_after_s } => ApiError::TooManyRequests { detail, retry_after_s },
            E::Busy { detail, retry_after_s } => ApiError::Unavailable { detail, retry_after_s },
            E::Unavailable(detail) => ApiError::Unavailable { detail, retry_after_s: 60 },
            E::Database(e) => e.into(),
            E::Internal(e) => ApiError::Internal(e),
        }
    }
}
