//! Where messages go: an SMTP server, or a folder of `.eml` files.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::Outgoing;

/// Why a message did not go out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Try again later: the server is down, busy, or did not answer.
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help (the address is refused): given up, head office told.
    #[error("{0}")]
    Permanent(String),
}

/// Where messages go.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError>;
}

/// The email a message becomes.
fn email(from: &Mailbox, message: &Outgoing) -> Result<Message, SendError> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| SendError::Permanent(format!("the address {} is refused: {e}", message.recipient)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(format!("<{}@caisse>", message.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|e| SendError::Permanent(format!("the message cannot be written: {e}")))
}

/// Sends over SMTP.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `url` (`smtp://host:port`, `smtps://user:password@host`, or
    /// `smtp://host?tls=required` for STARTTLS), sending as `from`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> anyhow::Result<SmtpMailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("the SMTP URL {url:?} is refused: {e}"))?
            .timeout(Some(timeout))
            .build();
        let from =
            from.parse().map_err(|e| anyhow::anyhow!("the sender address {from:?} is refused: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError> {
        let email = email(&self.from, message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// Writes each message to `folder/<id>.eml`: the demo's mailbox. Writing one again replaces
/// its file, so a retried message is still there once.
#[derive(Debug, Clone)]
pub struct FolderMailer {
    folder: PathBuf,
    from: Mailbox,
}

impl FolderMailer {
    pub fn new(folder: PathBuf, from: &str) -> anyhow::Result<FolderMailer> {
        std::fs::create_dir_all(&folder)
            .map_err(|e| anyhow::anyhow!("cannot create the mail folder {}: {e}", folder.display()))?;
        let from =
            from.parse().map_err(|e| anyhow::anyhow!("the sender address {from:?} is refused: {e}"))?;
        Ok(FolderMailer { folder, from })
    }
}

#[async_trait::async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError> {
        let email = email(&self.from, message)?;
        // Written beside and renamed, so a reader never sees half a message.
        let file = self.folder.join(format!("{}.eml", message.id));
        let part = self.folder.join(format!(".{}.eml.part", message.id));
        tokio::fs::write(&part, email.formatted())
            .await
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", part.display())))?;
        tokio::fs::rename(&part, &file)
            .await
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", file.display())))
    }
}
