//! A 0.1.0 receiver that makes its request with `wasi:http/outgoing-handler` (the way a
//! language's own HTTP client does) instead of Sightline's `http` interface. Config:
//! `target` (an absolute http URL), `method` (default POST), `body` (default "hello"),
//! `body_bytes` (a body of that many `x` instead). It always fails with a line describing
//! the outcome, so the test reads what happened from the error:
//! `status <code> body <len> <first 64 bytes>` or `error <wasi:http error code>`.

use sightline_sdk::{config, AlertGroup, Receiver};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

struct G;

fn split(url: &str) -> Result<(Scheme, String, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or("target is not absolute")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok((scheme, authority.to_string(), path.to_string()))
}

fn run() -> Result<String, String> {
    let target = config::get("target").ok_or("no target")?;
    let (scheme, authority, path) = split(&target)?;
    let body: Vec<u8> = match config::get("body_bytes").and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => vec![b'x'; n],
        None => config::get("body").unwrap_or_else(|| "hello".to_string()).into_bytes(),
    };
    let headers = Fields::new();
    headers
        .append("content-type", b"text/plain")
        .map_err(|e| format!("header: {e:?}"))?;
    headers
        .append("x-guest", b"wasi-http")
        .map_err(|e| format!("header: {e:?}"))?;
    let req = OutgoingRequest::new(headers);
    let method = match config::get("method").as_deref() {
        Some("GET") => Method::Get,
        _ => Method::Post,
    };
    req.set_method(&method).map_err(|_| "method")?;
    req.set_scheme(Some(&scheme)).map_err(|_| "scheme")?;
    req.set_authority(Some(&authority)).map_err(|_| "authority")?;
    req.set_path_with_query(Some(&path)).map_err(|_| "path")?;
    let out_body = req.body().map_err(|_| "body")?;
    let future = match outgoing_handler::handle(req, None) {
        Ok(f) => f,
        Err(e) => return Ok(format!("error {e:?}")),
    };
    {
        let stream = out_body.write().map_err(|_| "body stream")?;
        for chunk in body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(out_body, None);
    future.subscribe().block();
    let resp = match future.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(e))) => return Ok(format!("error {e:?}")),
        Some(Err(())) => return Err("response taken twice".to_string()),
        None => return Err("not ready after block".to_string()),
    };
    let status = resp.status();
    let incoming = resp.consume().map_err(|_| "consume")?;
    let stream = incoming.stream().map_err(|_| "stream")?;
    let mut got = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 << 10) {
        got.extend_from_slice(&chunk);
    }
    let head = String::from_utf8_lossy(&got[..got.len().min(64)]).into_owned();
    Ok(format!("status {status} body {} {head}", got.len()))
}

impl Receiver for G {
    fn notify(_group: AlertGroup) -> Result<(), String> {
        Err(run().unwrap_or_else(|e| format!("guest failed: {e}")))
    }
}

sightline_sdk::export_receiver!(G);
