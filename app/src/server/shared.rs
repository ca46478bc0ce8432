//! State shared by several Tapeline processes at request speed: Redis (or a compatible server
//! such as Valkey), when the operator gives `TAPELINE_REDIS_URL`.
//!
//! Every use is one Lua script, so one round trip, atomic across processes. When Redis does
//! not answer (within [`RESPONSE_TIMEOUT`]) the callers fall back to their per-process state
//! and keep serving; the first failure is logged once as a warning, the recovery once as
//! information, `/healthz` and the metrics say which state it is in, and the connection
//! manager reconnects by itself.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long one request waits for Redis before falling back to per-process limits.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// While Redis does not answer, requests do not wait for it: one call at most every this
/// many milliseconds tries it again (`/healthz` always does).
const RETRY_EVERY_MS: i64 = 1000;

/// The shared store: a reconnecting connection to Redis, and whether it answered last time.
#[derive(Clone)]
pub struct Shared {
    client: redis::Client,
    connection: ConnectionManager,
    up: Arc<AtomicBool>,
    /// While down: when (Unix ms) a request may try Redis again.
    retry_at: Arc<AtomicI64>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Shared").field("up", &self.is_up()).finish()
    }
}

/// The metric that says whether Redis answers (1) or not (0).
pub const REDIS_UP_METRIC: &str = "tapeline_redis_up";

impl Shared {
    /// Prepares the connection to `url` without waiting for Redis: a process starts (on
    /// per-process limits) even while Redis is down. A URL that is not one is an error.
    pub fn connect(url: &str) -> Result<Shared, String> {
        // The error is not shown: it could repeat the URL, password included.
        let client = redis::Client::open(url)
            .map_err(|_| "not a Redis URL (expected redis://[[user]:password@]host[:port][/db])".to_owned())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let connection =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(|e| format!("cannot use Redis: {e}"))?;
        Ok(Shared { client, connection, up: Arc::new(AtomicBool::new(true)), retry_at: Arc::new(AtomicI64::new(0)) })
    }

    /// Whether Redis answered the last call.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Runs `invocation`; `None` when Redis did not answer (already logged, once) — or, while
    /// it is down, without asking it, except for one call a second.
    pub async fn run<T: redis::FromRedisValue>(&self, invocation: &redis::ScriptInvocation<'_>) -> Option<T> {
        if !self.is_up() {
            let now = now_ms();
            let at = self.retry_at.load(Ordering::Relaxed);
            if now < at || self.retry_at.compare_exchange(at, now + RETRY_EVERY_MS, Ordering::Relaxed, Ordering::Relaxed).is_err() {
                return None;
            }
        }
        self.answered(self.reconnecting(|mut c| async move { invocation.invoke_async::<T>(&mut c).await })).await
    }

    /// A PING, for `/healthz`: whether Redis answers now.
    pub async fn ping(&self) -> bool {
        self.answered(self.reconnecting(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await }))
            .await
            .is_some()
    }

    /// Runs `call`, and once more when it failed on the connection itself. The connection
    /// manager answers the first call after an outage with the error of its last failed
    /// attempt to connect, and only then connects again: without the second call, the first
    /// request after Redis is back would be refused its shared limits for another second
    /// (and a process that tried Redis during the outage would need two tries to come back).
    async fn reconnecting<T, F, Fut>(&self, call: F) -> redis::RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        match call(self.connection.clone()).await {
            Err(e) if e.is_io_error() || e.is_unrecoverable_error() => call(self.connection.clone()).await,
            answer => answer,
        }
    }

    /// Publishes `message` on `channel`, for the other processes' [`Shared::subscribe`];
    /// dropped (with the same logging as any call) when Redis does not answer.
    pub async fn publish(&self, channel: &str, message: &str) {
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(message);
        let command = &command;
        self.answered(self.reconnecting(|mut c| async move { command.query_async::<i64>(&mut c).await })).await;
    }

    /// Calls `on_message` for every message on `channel`, until the process stops. While the
    /// subscription is down (Redis unreachable) it retries every second, and calls
    /// `on_message` once on each (re)subscription, since messages may have been missed.
    pub async fn subscribe(&self, channel: &str, on_message: impl Fn()) {
        use futures_util::StreamExt;
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(channel).await {
                    Ok(()) => {
                        on_message();
                        let mut messages = pubsub.on_message();
                        while messages.next().await.is_some() {
                            on_message();
                        }
                        tracing::debug!(channel, "Redis subscription ended; subscribing again");
                    }
                    Err(e) => tracing::debug!(channel, error = %e, "cannot subscribe in Redis"),
                },
                Err(e) => tracing::debug!(channel, error = %e, "cannot reach Redis to subscribe"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Waits for `call`'s answer (at most twice the response timeout) and records whether
    /// Redis answered; `None` when it did not.
    async fn answered<T>(&self, call: impl std::future::Future<Output = redis::RedisResult<T>>) -> Option<T> {
        match tokio::time::timeout(RESPONSE_TIMEOUT * 2, call).await {
            Ok(Ok(value)) => {
                self.mark(true, None);
                Some(value)
            }
            Ok(Err(e)) => {
                self.mark(false, Some(e.to_string()));
                None
            }
            Err(_) => {
                self.mark(false, Some("no answer in time".to_owned()));
                None
            }
        }
    }

    fn mark(&self, up: bool, why: Option<String>) {
        if !up {
            self.retry_at.store(now_ms() + RETRY_EVERY_MS, Ordering::Relaxed);
        }
        let was = self.up.swap(up, Ordering::Relaxed);
        if was != up {
            metrics::gauge!(REDIS_UP_METRIC).set(if up { 1.0 } else { 0.0 });
            match up {
                true => tracing::info!("Redis answers again: limits are shared across processes again"),
                false => tracing::warn!(
                    error = why.as_deref().unwrap_or(""),
                    "Redis does not answer: each process enforces the limits on its own until it does"
                ),
            }
        }
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
