//! The crate's one error type. Its variants that answer a request carry Grafana's words and
//! status codes (`pkg/services/dashboards/errors.go`, `pkg/api/datasources.go`).

use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything that can go wrong in the web crate.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The request body is not what the endpoint takes.
    #[error("bad request data")]
    BadRequest,
    /// A dashboard without a title.
    #[error("Dashboard title cannot be empty")]
    EmptyTitle,
    /// A uid with characters other than `[a-zA-Z0-9_-]`.
    #[error("uid contains illegal characters")]
    InvalidUid,
    /// A uid over 40 characters.
    #[error("uid too long, max 40 characters")]
    UidTooLong,
    /// No dashboard with that uid (a read or a delete).
    #[error("Dashboard not found")]
    NotFound,
    /// A save naming an `id` no dashboard has (the service's error, which carries a status).
    #[error("Dashboard not found")]
    SaveNotFound,
    /// A save's `message` over 500 characters.
    #[error("message too long, max 500 characters")]
    MessageTooLong,
    /// The posted version is not the stored one and `overwrite` is false.
    #[error("The dashboard has been changed by someone else")]
    VersionMismatch,
    /// Another dashboard in the folder has the title.
    #[error("A dashboard with the same name in the folder already exists")]
    NameExists,
    /// Saving over a dashboard a plugin provides.
    #[error("Cannot save provisioned dashboard")]
    ProvisionedSave,
    /// Deleting a dashboard a plugin provides.
    #[error("provisioned dashboard cannot be deleted")]
    ProvisionedDelete,
    /// A data source of that name exists.
    #[error("data source with the same name already exists")]
    DatasourceExists,
    /// A data source without a name or type.
    #[error("{0}")]
    DatasourceInvalid(&'static str),
}

impl WebError {
    /// The HTTP status Grafana answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::NotFound | WebError::SaveNotFound => StatusCode::NOT_FOUND,
            WebError::VersionMismatch | WebError::NameExists => StatusCode::PRECONDITION_FAILED,
            WebError::DatasourceExists => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Grafana's `status` word, for the errors whose `DashboardErr` has one.
    fn status_word(&self) -> Option<&'static str> {
        match self {
            WebError::VersionMismatch => Some("version-mismatch"),
            WebError::NameExists => Some("name-exists"),
            WebError::EmptyTitle => Some("empty-name"),
            WebError::SaveNotFound => Some("not-found"),
            _ => None,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let code = self.status();
        let body = match (&self, self.status_word()) {
            (_, Some(word)) => json!({"message": self.to_string(), "status": word}),
            // The cause stays in the log: Grafana answers 500s with a generic message.
            (WebError::Io { .. }, _) => {
                tracing::error!(error = %self, "dashboard store");
                json!({"message": "Failed to save dashboard"})
            }
            _ => json!({"message": self.to_string()}),
        };
        (code, axum::Json(body)).into_response()
    }
}
