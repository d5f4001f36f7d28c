//! `wasi:http/outgoing-handler` for plugins of any contract version, behind the same
//! `http.allowed_hosts` grant as the `http` interface: wasmtime-wasi-http builds the
//! request from the guest's resources, and its `send_request` hook hands it to
//! [`Outbound::send`], the one path of every outbound request (grant, `http_config`
//! profile, time limit, response cap, recording under `plugin test`).
//!
//! A denied request fails with wasi:http's `HTTP-request-denied` error code (and is logged
//! as a denied `http.send` is); a body over 16 MiB with `HTTP-response-body-size`.

use std::future::Future;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{
    Error as WasiHttpError, RequestOptions, WasiBody, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::http::{Outbound, RecordedRequest, SendError, MAX_RESPONSE_BYTES};
use crate::state::HostState;

/// Largest request body a guest may send through `wasi:http` (the `http` interface's is
/// bounded by the guest's memory).
const MAX_REQUEST_BYTES: usize = 16 << 20;

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        if self.net.hooks.is_none() {
            self.net.hooks = Some(self.outbound());
        }
        let HostState { net, table, .. } = self;
        let hooks: &mut dyn WasiHttpHooks = match &mut net.hooks {
            Some(h) => h,
            None => unreachable!("set above"),
        };
        WasiHttpCtxView {
            hooks,
            table,
            ctx: &mut net.wasi_http,
        }
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), WasiHttpError>> + Send>,
                ),
                WasiHttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for Outbound {
    /// The Host header comes from the URL when the request is sent (and is not recorded).
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), WasiHttpError>> + Send>,
    ) -> SendFuture {
        let out = self.clone();
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let body = http_body_util::Limited::new(body, MAX_REQUEST_BYTES)
                .collect()
                .await
                .map_err(|_| WasiHttpError::HttpRequestBodySize(None))?
                .to_bytes();
            let headers = parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let req = RecordedRequest {
                method: parts.method.to_string(),
                url: parts.uri.to_string(),
                headers,
                body_len: body.len(),
                body: body.to_vec(),
            };
            let resp = out.send(req).await.map_err(|e| match e {
                SendError::Denied(_) => WasiHttpError::HttpRequestDenied,
                SendError::Invalid(_) => WasiHttpError::HttpRequestUriInvalid,
                SendError::Timeout => WasiHttpError::HttpResponseTimeout,
                SendError::TooLarge => {
                    WasiHttpError::HttpResponseBodySize(Some(MAX_RESPONSE_BYTES as u64))
                }
                SendError::Transport(m) => WasiHttpError::InternalError(Some(m)),
            })?;
            let mut builder = http::Response::builder().status(resp.status);
            for (k, v) in &resp.headers {
                // The body is handed over whole: the framing headers no longer apply.
                if k.eq_ignore_ascii_case("transfer-encoding") {
                    continue;
                }
                builder = builder.header(k.as_str(), v.as_str());
            }
            let body = Full::new(Bytes::from(resp.body))
                .map_err(|never| match never {})
                .boxed_unsync();
            let response = builder
                .body(body)
                .map_err(|e| WasiHttpError::InternalError(Some(e.to_string())))?;
            let done: Box<dyn Future<Output = Result<(), WasiHttpError>> + Send> =
                Box::new(async { Ok(()) });
            Ok((response, done))
        })
    }
}
