//! Server-sent events for head office's pages: a page keeps `/api/events` open and fetches
//! again what a change touched, so the dashboard moves while registers sync, without a reload.
//!
//! Handlers announce a change after it is committed. The announcement says what kind of
//! thing changed, never the data: the page reads that through the ordinary routes, which
//! check the reader's role. Announcements reach the pages connected to this instance; with
//! several instances, a page on another one sees the change at its next announcement or
//! keep-alive refresh (DESIGN §7: instances share nothing in memory).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use serde::Serialize;
use tokio::sync::broadcast;

use super::AppState;
use crate::identity::Staff;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Records arrived from a register: sales, returns, stock, perhaps alerts.
    Sales,
    Alerts,
    Stock,
    Catalogue,
    /// A register pulled, was added, enrolled or revoked.
    Registers,
    Replenishment,
    Orders,
    /// A claim was filed or changed.
    Claims,
}

/// The announcements of this instance.
#[derive(Debug)]
pub struct Events {
    sender: broadcast::Sender<Topic>,
    /// True once the server is stopping: every stream ends, so that an open page does not
    /// hold the graceful shutdown (and the registers waiting behind it) forever.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Events {
    fn default() -> Self {
        // A page that falls this far behind misses some announcements and is told to refresh.
        Events { sender: broadcast::channel(256).0, closing: tokio::sync::watch::channel(false).0 }
    }
}

impl Events {
    /// Announces a committed change to the pages connected now (none: nothing to do).
    pub fn send(&self, topic: Topic) {
        let _ = self.sender.send(topic);
    }

    /// Ends every stream (the server is stopping); a page reconnects to another instance.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/events", get(stream))
}

/// How often an idle stream sends a comment, so proxies keep it open and a dead page is found.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Changes as they are committed (every role): `change` events with `{"topic": …}`.
#[utoipa::path(get, path = "/api/events", responses((status = 200, description = "text/event-stream of `change` events, each {\"topic\": \"sales\"|\"alerts\"|\"stock\"|\"catalogue\"|\"registers\"|\"replenishment\"|\"orders\"|\"claims\"}")))]
pub async fn stream(
    State(state): State<AppState>,
    _staff: Staff,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.events.sender.subscribe();
    let closing = state.events.closing.subscribe();
    let events =
        futures_util::stream::unfold((receiver, closing), |(mut receiver, mut closing)| async move {
            if *closing.borrow() {
                return None;
            }
            let topic = tokio::select! {
                received = receiver.recv() => match received {
                    Ok(topic) => Some(topic),
                    // Fell behind: whatever was missed, a refresh of everything covers it.
                    Err(broadcast::error::RecvError::Lagged(_)) => None,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = closing.wait_for(|closing| *closing) => return None,
            };
            let data = match topic {
                Some(topic) => serde_json::json!({ "topic": topic }),
                None => serde_json::json!({ "topic": "all" }),
            };
            Some((Ok(Event::default().event("change").data(data.to_string())), (receiver, closing)))
        });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
