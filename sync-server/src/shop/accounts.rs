//! Shoppers' accounts and sign-ins.
//!
//! A sign-in gives a short-lived access token (a JWT signed with the chain's key, naming the
//! customer and the session) and a refresh token. A refresh token is used once: refreshing
//! answers a new pair and marks the old one used. A used refresh token presented again means
//! it was copied: the whole session is revoked, and with it every access token naming it.
//! Signing out revokes the session the same way. Access tokens are checked against their
//! session at each request, so a revoked one is refused at once, not when it expires.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::{Error, Result, Shop};
use crate::db::Db;
use crate::identity;
use crate::notify::{Language, Recipient};

/// Longest email (RFC 5321's path limit) and name read.
const MAX_EMAIL: usize = 254;
const MAX_NAME: usize = 100;
const MAX_PASSWORD: usize = 1_024;
/// The password rule, said the same way everywhere it is refused for its length.
pub const PASSWORD_RULE: &str =
    "a password has at least 12 characters and is hard to guess: a few uncommon words make a good one";
/// How many messages at most a shopper is sent in a day about sign-ups with their address:
/// whoever repeats them cannot fill the owner's mailbox.
const SIGN_UP_NOTICE_MS: i64 = 24 * 3_600_000;

/// The keys access tokens are signed and checked with.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

impl Keys {
    /// The chain's key: the first instance to start makes it, every other one reads it.
    pub async fn load(db: &Db) -> Result<Keys> {
        let fresh = identity::new_token();
        db.write(
            sqlx::query("INSERT INTO shop_keys (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                .bind(fresh),
        )
        .await?;
        let secret: String =
            sqlx::query_scalar("SELECT secret FROM shop_keys WHERE id = 1").fetch_one(db.pool()).await?;
        Ok(Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        })
    }
}

/// What an access token says.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The customer's id.
    sub: String,
    /// The session, checked at each request.
    sid: String,
    iat: i64,
    exp: i64,
    iss: String,
}

const ISSUER: &str = "caisse-shop";

/// A signed-in shopper, as an access token names them.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub customer: i64,
    pub session: String,
}

/// What signing in or refreshing answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds the access token is good for.
    pub expires_in: u64,
    pub refresh_token: String,
    pub customer: Customer,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Customer {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// fr or en: the language of the shopper's messages.
    pub language: String,
}

/// An email address, lower-cased: one `@`, a local part, and a domain with a dot.
pub fn parse_email(text: &str) -> Result<String> {
    let email = text.trim().to_lowercase();
    let malformed = || Error::invalid("email", "an email address looks like name@example.com");
    if email.chars().count() > MAX_EMAIL {
        return Err(Error::invalid("email", format!("an email address has at most {MAX_EMAIL} characters")));
    }
    let (local, domain) = email.split_once('@').ok_or_else(malformed)?;
    let fine = |part: &str| {
        !part.is_empty() && !part.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@')
    };
    if !fine(local)
        || !fine(domain)
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(malformed());
    }
    Ok(email)
}

/// A new password: 12 to 1,024 characters, and hard to guess knowing the shopper's email
/// address and name ([`identity::weakness`]).
async fn check_password(password: &str, email: &str, name: &str) -> Result<()> {
    let count = password.chars().count();
    if count > MAX_PASSWORD {
        return Err(Error::invalid("password", format!("a password has at most {MAX_PASSWORD} characters")));
    }
    if count < identity::MIN_PASSWORD {
        return Err(Error::invalid("password", PASSWORD_RULE));
    }
    match identity::weakness_off_thread(password, vec![email.to_owned(), name.to_owned()]).await? {
        Some(weakness) => Err(Error::invalid("password", weakness)),
        None => Ok(()),
    }
}

/// What signing up answers: the same whether the address was free or already had an account,
/// so that signing up cannot be used to find out who is a customer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignedUp {
    pub email: String,
    pub detail: String,
}

/// Opens an account. An address that already has one gets the same answer, and its owner is
/// told by email (at most once a day) instead; the password is hashed either way, so the two
/// cases also take the same time.
#[tracing::instrument(skip_all)]
pub async fn sign_up(
    shop: &Shop,
    db: &Db,
    email: &str,
    name: &str,
    password: &str,
    language: Option<&str>,
) -> Result<SignedUp> {
    let email = parse_email(email)?;
    let language = match language {
        None => Language::Fr,
        Some(text) => {
            Language::parse(text).ok_or_else(|| Error::invalid("language", "language is fr or en"))?
        }
    };
    let name = name.trim();
    shared_model::text::check_required("name", name, MAX_NAME).map_err(|e| Error::invalid("name", e))?;
    check_password(password, &email, name).await?;
    let hash = shop.passwords.hash(password).await?;
    let now = db.now_ms();
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO customers (email, name, password_hash, created_ms, language) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(&email)
    .bind(name)
    .bind(hash)
    .bind(now)
    .bind(language.as_str())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        let owner: Option<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(owner) = owner
            && let Some(to) = contact(&mut tx, owner).await?
        {
            // One message a day at most: the id names the day, and the outbox keeps one per id.
            let id = format!("customer-{owner}-sign-up-{}", now / SIGN_UP_NOTICE_MS);
            crate::notify::enqueue(&mut tx, &id, &to, &crate::notify::Notice::SignUpWithYourAddress).await?;
        }
    }
    tx.commit().await?;
    Ok(SignedUp {
        detail: format!(
            "if {email} had no account, it has one now: sign in with your password. \
             If it had one, its owner has been sent an email."
        ),
        email,
    })
}

/// Where and how to write to customer `id`.
pub(crate) async fn contact(conn: &mut sqlx::AnyConnection, id: i64) -> sqlx::Result<Option<Recipient>> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT email, name, language FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(email, name, language)| Recipient {
        email,
        name,
        language: Language::parse(&language).unwrap_or(Language::Fr),
    }))
}

pub async fn customer(db: &Db, id: i64) -> Result<Customer> {
    sqlx::query_as("SELECT id, email, name, language FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::Unauthorized("this account no longer exists".into()))
}

#[derive(FromRow)]
struct Credentials {
    id: i64,
    password_hash: String,
}

/// Checks a password and opens a session. Failed attempts are slowed down per account and
/// per address (the same rule as head office's sign-ins), and the answer says for how long.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    shop: &Shop,
    db: &Db,
    address: Option<std::net::IpAddr>,
    email: &str,
    password: &str,
) -> Result<Tokens> {
    let email = parse_email(email)?;
    if password.chars().count() > MAX_PASSWORD {
        return Err(Error::invalid("password", format!("a password has at most {MAX_PASSWORD} characters")));
    }
    let attempt = identity::start_attempt(db, &format!("shopper:{email}"), address).await?;
    let known: Option<Credentials> =
        sqlx::query_as("SELECT id, password_hash FROM customers WHERE email = $1")
            .bind(&email)
            .fetch_optional(db.pool())
            .await?;
    let hash = known.as_ref().map_or_else(|| identity::decoy_hash().to_owned(), |c| c.password_hash.clone());
    let verified = shop.passwords.verify(password, &hash).await?;
    let Some(credentials) = known.filter(|_| verified) else {
        return Err(Error::Unauthorized("wrong email or password".into()));
    };
    identity::attempt_succeeded(db, attempt).await?;
    let now = db.now_ms();
    let session = uuid::Uuid::now_v7().to_string();
    let expires = now.saturating_add(super::millis("the refresh token lifetime", shop.settings.refresh_ttl)?);
    db.write(
        sqlx::query(
            "INSERT INTO shop_sessions (id, customer_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(&session)
        .bind(credentials.id)
        .bind(now)
        .bind(expires),
    )
    .await?;
    tokens(shop, db, credentials.id, &session).await
}

/// A new access token and refresh token for `session`.
async fn tokens(shop: &Shop, db: &Db, customer: i64, session: &str) -> Result<Tokens> {
    let keys = shop.keys(db).await?;
    let now = db.now_ms();
    let claims = Claims {
        sub: customer.to_string(),
        sid: session.to_owned(),
        iat: now / 1000,
        exp: now.saturating_add(super::millis("the access token lifetime", shop.settings.access_ttl)?) / 1000,
        iss: ISSUER.into(),
    };
    let access_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
        .map_err(|e| Error::Internal(e.into()))?;
    let refresh_token = identity::new_token();
    db.write(
        sqlx::query(
            "INSERT INTO shop_refresh_tokens (token_hash, session_id, expires_ms) VALUES ($1, $2, $3)",
        )
        .bind(identity::hash_secret(&refresh_token))
        .bind(session)
        .bind(now.saturating_add(super::millis("the refresh token lifetime", shop.settings.refresh_ttl)?)),
    )
    .await?;
    Ok(Tokens {
        access_token,
        token_type: "Bearer",
        expires_in: shop.settings.access_ttl.as_secs(),
        refresh_token,
        customer: self::customer(db, customer).await?,
    })
}

#[derive(FromRow)]
struct RefreshRow {
    session_id: String,
    expires_ms: i64,
    used_ms: Option<i64>,
    customer_id: i64,
    revoked_ms: Option<i64>,
}

/// Trades a refresh token for a new pair. A token already used revokes its session: one of
/// the two holders is not the shopper.
#[tracing::instrument(skip_all)]
pub async fn refresh(shop: &Shop, db: &Db, refresh_token: &str) -> Result<Tokens> {
    let refused = || Error::Unauthorized("this refresh token is not valid: sign in again".into());
    let hash = identity::hash_secret(refresh_token.trim());
    let row: RefreshRow = sqlx::query_as(
        "SELECT t.session_id, t.expires_ms, t.used_ms, s.customer_id, s.revoked_ms
         FROM shop_refresh_tokens t JOIN shop_sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(refused)?;
    let now = db.now_ms();
    if row.revoked_ms.is_some() || row.expires_ms <= now {
        return Err(refused());
    }
    // Used once, atomically: of two requests racing with one token, one wins.
    let taken = db
        .write(
            sqlx::query(
                "UPDATE shop_refresh_tokens SET used_ms = $1 WHERE token_hash = $2 AND used_ms IS NULL",
            )
            .bind(now)
            .bind(&hash),
        )
        .await?
        .rows_affected();
    if row.used_ms.is_some() || taken == 0 {
        revoke(db, &row.session_id).await?;
        tracing::warn!(session = row.session_id, "a used refresh token was presented again: session revoked");
        return Err(Error::Unauthorized(
            "this refresh token was already used, so it may have been copied: the session is closed, sign in again"
                .into(),
        ));
    }
    tokens(shop, db, row.customer_id, &row.session_id).await
}

async fn revoke(db: &Db, session: &str) -> sqlx::Result<()> {
    db.write(
        sqlx::query("UPDATE shop_sessions SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL")
            .bind(db.now_ms())
            .bind(session),
    )
    .await?;
    Ok(())
}

/// Ends the shopper's session: its refresh token and every access token naming it stop working.
#[tracing::instrument(skip_all)]
pub async fn sign_out(db: &Db, shopper: &Shopper) -> Result<()> {
    Ok(revoke(db, &shopper.session).await?)
}

#[derive(FromRow)]
struct SessionRow {
    customer_id: i64,
    expires_ms: i64,
    revoked_ms: Option<i64>,
}

/// The shopper an access token names, if it is genuine, unexpired and its session open.
#[tracing::instrument(skip_all)]
pub async fn authenticate(shop: &Shop, db: &Db, token: &str) -> Result<Shopper> {
    let keys = shop.keys(db).await?;
    let mut validation = Validation::new(Algorithm::HS256);
    // The expiry is checked below, by the server's clock (which tests move), not the system's.
    validation.validate_exp = false;
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation)
        .map_err(|_| Error::Unauthorized("the access token is not valid: sign in again".into()))?
        .claims;
    if claims.exp.saturating_mul(1000) <= db.now_ms() {
        return Err(Error::Unauthorized("the access token has expired: refresh it or sign in again".into()));
    }
    let customer: i64 = claims
        .sub
        .parse()
        .map_err(|_| Error::Unauthorized("the access token is not valid: sign in again".into()))?;
    let session: Option<SessionRow> =
        sqlx::query_as("SELECT customer_id, expires_ms, revoked_ms FROM shop_sessions WHERE id = $1")
            .bind(&claims.sid)
            .fetch_optional(db.pool())
            .await?;
    match session {
        Some(s) if s.customer_id == customer && s.revoked_ms.is_none() && s.expires_ms > db.now_ms() => {
            Ok(Shopper { customer, session: claims.sid })
        }
        _ => Err(Error::Unauthorized("this session has ended: sign in again".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(parse_email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@@example.com",
            "ana@.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[tokio::test]
    async fn weak_passwords_are_refused_with_the_reason() {
        let error = check_password("short", "ana@example.com", "Ana").await.unwrap_err();
        assert!(error.to_string().contains("at least 12 characters"), "{error}");
        for weak in ["aaaaaaaaaaaaaaaa", "121212121212121", "password1234", "ana@example.com"] {
            let error = check_password(weak, "ana@example.com", "Ana Tremblay").await.unwrap_err();
            assert!(error.to_string().contains("too easy to guess"), "{weak}: {error}");
        }
        assert!(check_password("correct horse battery", "ana@example.com", "Ana").await.is_ok());
    }
}
