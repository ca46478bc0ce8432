//! A small blocking HTTP/1.1 client over `std::net`: one request per connection, as a
//! script or a browser behind a load balancer would look to Tapeline. It reads bodies sent
//! with `Content-Length`, chunked, or until the connection closes.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// How a request authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    None,
    /// No credentials, from the site's own page: the `Origin` a browser sends.
    SameSite,
    /// The session cookie, with the same-site `Origin` a browser sends.
    Session(&'a str),
    /// An API key as a bearer token.
    Bearer(&'a str),
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// The problem document's `code`, or "" when the body is not one.
    pub fn code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The session token the response sets, if it sets a non-empty one.
    pub fn session_token(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .find_map(|(_, v)| v.strip_prefix("tapeline_session="))
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// Somewhere to send requests: one Tapeline process, or nginx in front of them all.
#[derive(Clone, Debug)]
pub struct Target {
    /// For messages: `process 1`, `nginx`.
    pub name: String,
    pub port: u16,
    /// The public URL every process is configured with: the `Origin` of same-site requests.
    pub origin: String,
}

impl Target {
    /// One request; `Err` when the connection fails or the answer is not HTTP.
    pub fn try_send(&self, method: &str, path: &str, auth: Auth<'_>, body: Option<&str>, content_type: &str) -> std::io::Result<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nAccept: application/json\r\n", self.port);
        match auth {
            Auth::None => {}
            Auth::SameSite => req.push_str(&format!("Origin: {}\r\n", self.origin)),
            Auth::Session(token) => req.push_str(&format!("Cookie: tapeline_session={token}\r\nOrigin: {}\r\n", self.origin)),
            Auth::Bearer(token) => req.push_str(&format!("Authorization: Bearer {token}\r\n")),
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse(&raw).ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {:?}", String::from_utf8_lossy(&raw))))
    }

    /// A REST call with an optional JSON body; panics when no answer comes.
    pub fn api(&self, method: &str, path: &str, auth: Auth<'_>, json: Option<serde_json::Value>) -> Response {
        let body = json.map(|j| j.to_string());
        self.try_send(method, path, auth, body.as_deref(), "application/json")
            .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", self.name))
    }

    /// A server function (`/ui/{name}`) called with form fields, as the browser's
    /// server-function client sends it (same-site `Origin` even without a session).
    pub fn server_fn(&self, name: &str, fields: &[(&str, &str)], session: Option<&str>) -> Response {
        let form = serde_urlencoded::to_string(fields).unwrap();
        let path = format!("/ui/{name}");
        let auth = session.map_or(Auth::SameSite, Auth::Session);
        self.try_send("POST", &path, auth, Some(&form), "application/x-www-form-urlencoded")
            .unwrap_or_else(|e| panic!("{path} on {}: {e}", self.name))
    }
}

/// Status line, headers, and the body (de-chunked when sent chunked).
fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(rest)? } else { rest.to_vec() };
    Some(Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).ok()?.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}
