//! Messages to customers: an order confirmed, shipped or refunded; a claim received, resolved or
//! rejected; a refund sent.
//!
//! A change writes its message to the outbox in its own transaction ([`enqueue`]), so a change
//! that commits always has its message and one that rolls back has none. [`deliver_due`] sends
//! what is waiting, at least once: a failed attempt is tried again later, each wait twice the
//! one before up to a ceiling, and a message whose acceptance was lost on the way may be sent a
//! second time. Each message's id is made from the change it tells of, so the same change
//! never writes two messages, and it travels as the email's `Message-ID`, which mail systems
//! deduplicate by: the customer sees each message once.
//!
//! Messages go out over SMTP ([`SmtpMailer`], by `lettre`) or, for the demo and for a machine
//! with no mail server, into a folder, one `.eml` file per message id ([`FolderMailer`]).
//!
//! | module | holds |
//! |---|---|
//! | [`message`] | what a customer is told of ([`Notice`]), in their language: subject and body |
//! | [`outbox`] | owns the outbox table: messages written by changes, claimed, marked sent or deferred |
//! | [`mailer`] | where messages go: SMTP or a folder of `.eml` files |
//! | [`delivery`] | the sender: retries with backoff, the background loop |

pub mod delivery;
pub mod mailer;
pub mod message;
pub mod outbox;

pub use delivery::{Delivered, Delivery, deliver_due, spawn};
pub use mailer::{FolderMailer, Mailer, SendError, SmtpMailer};
pub use message::{Language, Notice, Recipient, Remedy};
pub use outbox::{Outgoing, enqueue, recent};
