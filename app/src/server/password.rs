//! Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing is deliberately expensive, so it never runs on the async worker threads. It runs
//! on a pool of its own, as many threads as hashes may run at once (`hash_concurrency`). A
//! semaphore with as many permits lets a hash into the pool only when a thread is free; the
//! others wait in their request, so a request abandoned while waiting (its client gone)
//! never costs a hash. A burst of log-ins can neither exhaust memory nor starve the requests
//! that need no hash:
//! - a fixed set of threads keeps argon2's 19 MiB blocks in as many per-thread heaps of the
//!   allocator (on tokio's blocking pool each new thread kept its own 19 MiB: a flood of
//!   wrong passwords grew the server past 250 MB);
//! - the threads run under Linux's idle scheduling policy (`SCHED_IDLE`; nice 19 where that
//!   is refused): when the CPU is saturated, the calls that cost microseconds (every
//!   key-authenticated call) go first and password checks take the time that is left, so a
//!   flood of log-ins takes only the CPU the API leaves (it still costs the API some latency:
//!   see the README's log-in flood figures); the price is that log-ins wait while the machine
//!   is saturated. With the default key limits, saturating the CPU takes thousands of keys.

use super::error::{Error, Result};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::Argon2;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    pool: Arc<rayon::ThreadPool>,
    /// A real hash of a random password, verified against when the account does not exist
    /// so that a login for an unknown name takes as long as one for a known name.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").field("threads", &self.pool.current_num_threads()).finish()
    }
}

/// The niceness of the hashing threads (0 is normal, 19 the lowest priority).
const HASH_NICENESS: i32 = 19;

impl Passwords {
    /// `max_concurrent` hashes may run at once (at least one), each on a thread of its own.
    pub fn new(max_concurrent: usize) -> Result<Self> {
        let threads = max_concurrent.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("argon2-{i}"))
            .start_handler(|_| lower_priority())
            .build()
            .map_err(|e| Error::internal(format!("cannot start the password hashing threads: {e}")))?;
        let dummy = rand_password();
        let dummy_hash = hash_blocking(&dummy)?;
        Ok(Self { permits: Arc::new(Semaphore::new(threads)), pool: Arc::new(pool), dummy_hash: dummy_hash.into() })
    }

    /// Runs `work` on a hashing thread once one is free.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(|_| Error::internal("hasher closed"))?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let _ = done.send(work());
        });
        result.await.map_err(|_| Error::internal("a password hashing thread failed"))
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// True when `password` matches `phc`. With `phc == None` (no such account) a dummy
    /// hash is checked instead and the answer is always false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .run(move || {
                let parsed = PasswordHash::new(&phc).map_err(|e| Error::internal(format!("stored hash unreadable: {e}")))?;
                Ok::<_, Error>(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await??;
        Ok(known && ok)
    }
}

fn hash_blocking(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("hashing failed: {e}")))
}

/// Lowers the calling thread's scheduling priority: Linux's idle policy (`SCHED_IDLE`: the
/// thread runs only on a core no normal thread wants, and gives it up at once when one does),
/// or where that is refused, the lowest nice value ([`HASH_NICENESS`]). On Linux both belong
/// to the thread; elsewhere, or if both are refused, the thread keeps the normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_setscheduler reads the parameter struct it is given (pid 0: this
        // thread); gettid has no preconditions; setpriority only reads its integer arguments.
        let refused = unsafe {
            let idle = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &idle) != 0 && {
                let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                libc::setpriority(libc::PRIO_PROCESS, tid, HASH_NICENESS) != 0
            }
        };
        if refused {
            tracing::debug!("password hashing threads keep the normal priority");
        }
    }
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

    #[tokio::test]
    async fn hashing_runs_on_its_own_lower_priority_threads() {
        let p = Passwords::new(2).unwrap();
        // SAFETY: sched_getscheduler(0) asks about the calling thread and has no preconditions.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let (name, theirs) = p.run(move || (std::thread::current().name().map(str::to_owned), policy())).await.unwrap();
        assert!(name.is_some_and(|n| n.starts_with("argon2-")));
        assert_eq!(theirs, libc::SCHED_IDLE, "the idle policy (a Linux thread may always lower its own)");
        assert_ne!(policy(), libc::SCHED_IDLE, "this (tokio) thread keeps the normal policy");
        assert_eq!(p.pool.current_num_threads(), 2);
    }
}
