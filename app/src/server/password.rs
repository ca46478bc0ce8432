//! Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing is deliberately expensive, so it never runs on the async worker threads: each
//! hash runs in `spawn_blocking`, and a semaphore bounds how many run at once so that a
//! burst of logins cannot exhaust memory or starve the blocking pool.

use super::error::{Error, Result};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::Argon2;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the account does not exist
    /// so that a login for an unknown name takes as long as one for a known name.
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// `max_concurrent` hashes may run at once (at least one).
    pub fn new(max_concurrent: usize) -> Result<Self> {
        let dummy = rand_password();
        let dummy_hash = hash_blocking(&dummy)?;
        Ok(Self { permits: Arc::new(Semaphore::new(max_concurrent.max(1))), dummy_hash: dummy_hash.into() })
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String> {
        let _permit = self.permits.acquire().await.map_err(|_| Error::internal("hasher closed"))?;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|e| Error::internal(format!("hash task failed: {e}")))?
    }

    /// True when `password` matches `phc`. With `phc == None` (no such account) a dummy
    /// hash is checked instead and the answer is always false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool> {
        let _permit = self.permits.acquire().await.map_err(|_| Error::internal("hasher closed"))?;
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&phc).map_err(|e| Error::internal(format!("stored hash unreadable: {e}")))?;
            Ok::<_, Error>(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|e| Error::internal(format!("verify task failed: {e}")))??;
        Ok(known && ok)
    }
}

fn hash_blocking(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("hashing failed: {e}")))
}

fn rand_password() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_owasp_and_verify() {
        let p = Passwords::new(2).unwrap();
        let h = p.hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p.verify("correct horse".into(), Some(h.clone())).await.unwrap());
        assert!(!p.verify("wrong horse".into(), Some(h)).await.unwrap());
        assert!(!p.verify("anything".into(), None).await.unwrap());
    }
}
