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
}

/// The announcements of this instance.
#[derive(Debug)]
pub struct Events {
    sender: broadcast::Sender<Topic>,
}

impl Default for Events {
    fn default() -> Self {
        // A page that falls this far behind misses some announcements and is told to refresh.
        Events { sender: broadcast::channel(256).0 }
    }
}

impl Events {
    /// Announces a committed change to the pages connected now (none: nothing to do).
    pub fn send(&self, topic: Topic) {
        let _ = self.sender.send(topic);
    }

    fn subscribe(&self) -> broadcast::Receiver<Topic> {
        self.sender.subscribe()
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/events", get(stream))
}

/// How often an idle stream sends a comment, so proxies keep it open and a dead page is found.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Changes as they are committed (every role): `change` events with `{"topic": …}`.
#[utoipa::path(get, path = "/api/events", responses((status = 200, description = "text/event-stream of `change` events, each {\"topic\": \"sales\"|\"alerts\"|\"stock\"|\"catalogue\"|\"registers\"|\"replenishment\"|\"orders\"}")))]
pub async fn stream(
    State(state): State<AppState>,
    _staff: Staff,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.events.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let topic = match receiver.recv().await {
            Ok(topic) => Some(topic),
            // Fell behind: whatever was missed, a refresh of everything covers it.
            Err(broadcast::error::RecvError::Lagged(_)) => None,
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        let data = match topic {
            Some(topic) => serde_json::json!({ "topic": topic }),
            None => serde_json::json!({ "topic": "all" }),
        };
        Some((Ok(Event::default().event("change").data(data.to_string())), receiver))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
