//! One DevTools protocol connection: a WebSocket to Chromium on loopback, commands with ids,
//! and the events that arrive in between kept in order for whoever waits for them.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

use super::Error;

/// How long one blocking read on the socket may take before the caller's deadline is checked
/// again: short, so that every wait stays bounded by its own deadline.
const READ_SLICE: Duration = Duration::from_millis(25);

pub(crate) struct Conn {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Conn {
    /// Connects to `ws://127.0.0.1:<port><path>`. The upgrade request is written by hand (it is
    /// one fixed request to our own Chromium on loopback), so tungstenite needs no handshake
    /// feature and brings no SHA-1 or HTTP crates; the answer must be `101`.
    pub(crate) fn connect(port: u16, path: &str, timeout: Duration) -> Result<Conn, Error> {
        let addr = format!("127.0.0.1:{port}");
        let mut s = TcpStream::connect_timeout(
            &addr
                .parse()
                .map_err(|e| Error::Protocol(format!("{addr}: {e}")))?,
            timeout,
        )?;
        s.set_write_timeout(Some(timeout))?;
        s.set_read_timeout(Some(timeout))?;
        s.set_nodelay(true)?;
        // The key is a nonce the server echoes hashed; any 16 bytes in base64 will do.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id());
        let key = base64_16(&nonce.to_le_bytes());
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes())?;
        // Read the response head byte by byte, so nothing after it is consumed.
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 16 * 1024 || s.read(&mut b)? == 0 {
                return Err(Error::Protocol(format!(
                    "WebSocket upgrade to {addr}{path} failed: {}",
                    String::from_utf8_lossy(&head)
                )));
            }
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        if !head.starts_with("HTTP/1.1 101") {
            return Err(Error::Protocol(format!(
                "WebSocket upgrade to {addr}{path} refused: {head}"
            )));
        }
        s.set_read_timeout(Some(READ_SLICE))?;
        Ok(Conn {
            ws: WebSocket::from_raw_socket(s, Role::Client, None),
            next_id: 1,
            events: VecDeque::new(),
        })
    }

    /// Sends a command and waits for its answer, keeping the events that arrive meanwhile.
    /// A protocol error is an `Err`.
    pub(crate) fn call(
        &mut self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"id": id, "method": method, "params": params});
        self.ws.send(Message::text(msg.to_string()))?;
        let deadline = Instant::now() + timeout;
        loop {
            let Some(v) = self.read(deadline)? else {
                return Err(Error::Timeout(format!(
                    "no answer to {method} within {timeout:?}"
                )));
            };
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    return Err(Error::Protocol(format!("{method}: {e}")));
                }
                return Ok(v["result"].clone());
            }
            if v.get("method").is_some() {
                self.events.push_back(v);
            }
        }
    }

    /// The next event, from those kept or from the socket, or None at `deadline`.
    pub(crate) fn next_event(&mut self, deadline: Instant) -> Result<Option<Value>, Error> {
        if let Some(v) = self.events.pop_front() {
            return Ok(Some(v));
        }
        loop {
            match self.read(deadline)? {
                Some(v) if v.get("method").is_some() => return Ok(Some(v)),
                // A late answer to a command that timed out: nobody waits for it.
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// One JSON message, or None at `deadline`.
    fn read(&mut self, deadline: Instant) -> Result<Option<Value>, Error> {
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    return serde_json::from_str(t.as_str())
                        .map(Some)
                        .map_err(|e| Error::Protocol(format!("bad JSON from Chromium: {e}")));
                }
                Ok(Message::Close(f)) => {
                    return Err(Error::Protocol(format!(
                        "Chromium closed the DevTools connection: {f:?}"
                    )))
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Standard base64 of 16 bytes (24 characters with padding).
fn base64_16(b: &[u8; 16]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
