//! A private `redis-server` for one test, on a free port, in its own directory, keeping
//! nothing on disk; stopped (and restartable on the same port) by the test. Never the
//! machine's shared Redis.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = RedisServer { child: None, port, dir: tempfile::tempdir().unwrap() };
        server.resume();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port, and waits until it answers.
    pub fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server) is installed");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it (its data is gone: it keeps nothing on disk).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How many connections of `redis` are subscribed to `channel` (`PUBSUB NUMSUB`).
pub fn subscribers(redis: &RedisServer, channel: &str) -> u64 {
    let out = Command::new("redis-cli").args(["-p", &redis.port.to_string(), "PUBSUB", "NUMSUB", channel]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().nth(1).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}
