//! API v1's `POST /api/v1/alerts`: Alertmanager 0.25 still serves v1 (deprecated), and a
//! Prometheus configured with `api_version: v1` posts there. The alert handling is v2's;
//! only the decoding errors and the envelope differ
//! (`{"status":"error","errorType":"bad_data","error":"..."}`).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{insert_alerts, models, Backend, InsertError, MAX_BODY_BYTES};

fn respond(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    super::cors::v1_headers(&mut resp);
    resp
}

fn error(status: StatusCode, kind: &str, msg: &str) -> Response {
    respond(
        status,
        serde_json::json!({"status": "error", "errorType": kind, "error": msg}),
    )
}

pub(super) async fn post_alerts(State(b): State<Backend>, body: Body) -> Response {
    let bad = |msg: &str| error(StatusCode::BAD_REQUEST, "bad_data", msg);
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return bad(&format!(
            "request body is larger than {MAX_BODY_BYTES} bytes"
        ));
    };
    // `json.Decoder.Decode` into `[]*types.Alert`: an empty body is `EOF`.
    let value = match models::decode_body(&body) {
        Ok(Some(v)) => v,
        Ok(None) => return bad("EOF"),
        Err(e) => return bad(&e),
    };
    let items = match value {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(items) => items,
        other => {
            let kind = match other {
                serde_json::Value::Object(_) => "object",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Number(_) => "number",
                _ => "bool",
            };
            return bad(&format!(
                "json: cannot unmarshal {kind} into Go value of type []*types.Alert"
            ));
        }
    };
    let posted = match items
        .iter()
        .map(|i| models::posted_alert(i, "types.Alert", models::parse_go_time))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(p) => p,
        Err(e) => return bad(&e),
    };
    match insert_alerts(&b, posted).await {
        Ok(()) => respond(StatusCode::OK, serde_json::json!({"status": "success"})),
        Err(InsertError::Invalid(e)) => bad(&e),
        Err(InsertError::Internal(e)) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e)
        }
        Err(InsertError::Response(r)) => r,
    }
}
