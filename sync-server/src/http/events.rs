//! Server-sent events for head office's pages: a page keeps `/api/events` open and fetches
//! again what a change touched, so the dashboard moves while registers sync, without a reload.
//!
//! Handlers announce a change after it is committed. The announcement says what kind of
//! thing changed, never the data: the page reads that through the ordinary routes, which
//! check the reader's role. With several instances on one PostgreSQL, each announcement is
//! also sent to the others through `LISTEN/NOTIFY` ([`Events::relay`]), so a page sees a change
//! whichever instance it is connected to, and another instance's catalogue cache is cleared
//! at once. A notification lost while an instance's listening connection is down is made up
//! for: on reconnecting, the instance tells its pages to refresh everything.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa_axum::routes;

use super::AppState;
use super::routes::{Policy, Routes};
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
    /// `None` stands for "everything": the page refreshes all it shows.
    sender: broadcast::Sender<Option<Topic>>,
    /// Tells this instance's own notifications from the others'.
    instance: String,
    /// The database to tell the other instances through, once [`Events::relay`] is running.
    relay: std::sync::OnceLock<crate::db::Db>,
    /// True once the server is stopping: every stream ends, so that an open page does not
    /// hold the graceful shutdown (and the registers waiting behind it) forever.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Events {
    fn default() -> Self {
        // A page that falls this far behind misses some announcements and is told to refresh.
        Events {
            sender: broadcast::channel(256).0,
            instance: uuid::Uuid::now_v7().simple().to_string(),
            relay: std::sync::OnceLock::new(),
            closing: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Events {
    /// Announces a committed change to the pages connected now (none: nothing to do), and to
    /// the other instances.
    pub fn send(&self, topic: Topic) {
        let _ = self.sender.send(Some(topic));
        if let Some(db) = self.relay.get() {
            let (db, payload) = (db.clone(), format!("{} {}", self.instance, topic.as_str()));
            tokio::spawn(async move {
                if let Err(e) = db.notify(CHANNEL, &payload).await {
                    tracing::warn!(error = %e, "a change could not be told to the other instances");
                }
            });
        }
    }

    /// Relays announcements between this instance and the others on the same PostgreSQL:
    /// sends this one's, and passes the others' on to this instance's pages and to
    /// `on_remote` (which clears what this instance caches). Nothing to do on SQLite.
    pub fn relay(
        self: &std::sync::Arc<Self>,
        db: crate::db::Db,
        on_remote: impl Fn(Option<Topic>) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let events = self.clone();
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let listener = match db.listen(CHANNEL).await {
                    Ok(Some(listener)) => listener,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for the other instances' changes; trying again");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                };
                let _ = events.relay.set(db.clone());
                if !first {
                    // Changes told while this instance was not listening are lost: refresh all.
                    on_remote(None);
                    let _ = events.sender.send(None);
                }
                first = false;
                let mut listener = listener;
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            let Some((from, topic)) = notification.payload().split_once(' ') else {
                                continue;
                            };
                            if from == events.instance {
                                continue;
                            }
                            let topic = Topic::parse(topic);
                            on_remote(topic);
                            let _ = events.sender.send(topic);
                        }
                        // The connection dropped: listen again on a new one.
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the other instances' changes; listening again");
                            break;
                        }
                    }
                }
            }
        })
    }

    /// Ends every stream (the server is stopping); a page reconnects to another instance.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// The PostgreSQL channel instances tell each other their changes on.
const CHANNEL: &str = "caisse_changes";

impl Topic {
    const ALL: [Topic; 8] = [
        Topic::Sales,
        Topic::Alerts,
        Topic::Stock,
        Topic::Catalogue,
        Topic::Registers,
        Topic::Replenishment,
        Topic::Orders,
        Topic::Claims,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Sales => "sales",
            Topic::Alerts => "alerts",
            Topic::Stock => "stock",
            Topic::Catalogue => "catalogue",
            Topic::Registers => "registers",
            Topic::Replenishment => "replenishment",
            Topic::Orders => "orders",
            Topic::Claims => "claims",
        }
    }

    /// `None` for a topic this instance does not know (a newer instance's): refresh all.
    pub fn parse(text: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

pub fn routes() -> Routes {
    Routes::tagged("events").route(Policy::office(), routes!(stream))
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
                    Ok(topic) => topic,
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
