//! The key the handle's transactions sign audit entries with. It lives with the handle, which
//! carries it into every transaction; the trail that uses it is `crate::audit`'s.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The shortest key accepted: HMAC-SHA256's own output length.
const KEY_MIN_BYTES: usize = 32;

/// Head office's audit key. Its bytes never print: `Debug` shows only [`AuditKey::id`].
#[derive(Clone)]
pub struct AuditKey(Arc<[u8]>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.id())
    }
}

impl AuditKey {
    /// A new random key of 32 bytes.
    pub fn random() -> AuditKey {
        AuditKey(Arc::from(rand::random::<[u8; 32]>().as_slice()))
    }

    /// A key from its hex spelling (`openssl rand -hex 32`), at least 32 bytes.
    pub fn from_hex(text: &str) -> anyhow::Result<AuditKey> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| anyhow::anyhow!("the audit key must be written in hex (openssl rand -hex 32)"))?;
        anyhow::ensure!(
            bytes.len() >= KEY_MIN_BYTES,
            "the audit key must be at least {KEY_MIN_BYTES} bytes ({} hex digits), not {}",
            KEY_MIN_BYTES * 2,
            bytes.len()
        );
        Ok(AuditKey(Arc::from(bytes.as_slice())))
    }

    /// A name for the key that says nothing of it: the start of a hash of it, to tell two keys
    /// apart in a log.
    pub fn id(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"caisse audit key id\0");
        hasher.update(&self.0);
        hex::encode(&hasher.finalize()[..4])
    }

    /// The key's hex spelling, as [`AuditKey::from_hex`] reads it: only for writing the key file.
    pub(crate) fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}
