//! The changes a register pulls after its cursor, for its store.

use shared_model::protocol::{MAX_PULL, Message, PullRequest, PullResponse};

use crate::db::{Db, now_ms, to_i64};
use crate::feed;
use crate::identity::{self, Register};

use super::Error;

/// The changes after the cursor a register asks from, for its store.
#[tracing::instrument(skip_all)]
pub async fn pull(db: &Db, register: &Register, body: &[u8]) -> Result<PullResponse, Error> {
    let request = PullRequest::decode(body).map_err(|e| Error::Malformed {
        field: e.field().unwrap_or("pull").to_owned(),
        detail: e.to_string(),
    })?;
    if !(1..=MAX_PULL).contains(&request.limit) {
        return Err(Error::Malformed {
            field: "pull.limit".into(),
            detail: format!("limit must be between 1 and {MAX_PULL}"),
        });
    }
    to_i64("cursor", request.cursor.0)
        .map_err(|e| Error::Malformed { field: "pull.cursor".into(), detail: e.to_string() })?;
    let page = feed::read(db, register.store.as_str(), request.cursor, request.limit).await?;
    identity::note_pull(db, &register.id, page.next.0).await?;
    let response = PullResponse {
        changes: page.changes,
        next: page.next,
        more: page.more,
        // Exact: `now_ms` is never negative.
        server_time_ms: now_ms().unsigned_abs(),
    };
    Ok(response)
}
