//! Basic auth as exporter-toolkit checks it: bcrypt hashes, a fixed dummy hash for unknown
//! users (so response times do not reveal which users exist), one bcrypt at a time, and a
//! small cache of outcomes keyed by a hash of user, stored hash and password, because bcrypt
//! is slow on purpose.

use std::collections::{BTreeMap, HashMap};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// exporter-toolkit's stand-in hash for unknown users (bcrypt of "fakepassword").
const FAKE_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Cached outcomes at most (exporter-toolkit keeps 100).
const CACHE_SIZE: usize = 100;

#[derive(Default)]
pub(super) struct Authenticator {
    cache: parking_lot::Mutex<HashMap<[u8; 32], bool>>,
    /// Serialises bcrypt, as exporter-toolkit's `bcryptMtx` does: a flood of guesses costs
    /// one core, not all of them.
    bcrypt: tokio::sync::Mutex<()>,
}

impl Authenticator {
    /// Forgets cached outcomes (the users changed).
    pub(super) fn clear(&self) {
        self.cache.lock().clear();
    }

    /// Whether a request with this `Authorization` header may pass. Everyone may when no
    /// users are configured.
    pub(super) async fn allows(
        &self,
        users: &BTreeMap<String, String>,
        authorization: Option<&HeaderValue>,
    ) -> bool {
        if users.is_empty() {
            return true;
        }
        let Some((user, pass)) = authorization.and_then(parse_basic) else {
            return false;
        };
        let (hash, known) = match users.get(&user) {
            Some(h) => (h.clone(), true),
            None => (FAKE_HASH.to_string(), false),
        };
        let key = cache_key(&user, &hash, &pass);
        let cached = self.cache.lock().get(&key).copied();
        let ok = match cached {
            Some(ok) => ok,
            None => {
                let _one = self.bcrypt.lock().await;
                // bcrypt::verify compares the digests in constant time.
                let ok = tokio::task::spawn_blocking(move || {
                    bcrypt::verify(pass.as_bytes(), &hash).unwrap_or(false)
                })
                .await
                .unwrap_or(false);
                let mut c = self.cache.lock();
                if c.len() >= CACHE_SIZE {
                    c.clear();
                }
                c.insert(key, ok);
                ok
            }
        };
        ok && known
    }
}

/// Length-prefixed parts, so that no two (user, hash, password) triples share a key.
fn cache_key(user: &str, hash: &str, pass: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [user, hash, pass] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// Go's `Request.BasicAuth`: `Basic ` (any case), base64, user and password split at the
/// first colon.
fn parse_basic(v: &HeaderValue) -> Option<(String, String)> {
    let v = v.to_str().ok()?;
    let (scheme, rest) = v.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Prometheus' 401: `WWW-Authenticate: Basic` and Go's `http.Error` body.
pub(super) fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Basic"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "Unauthorized\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn basic_header_parsing_follows_go() {
        let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            parse_basic(&hv(&format!("Basic {}", b("al:ice:x")))),
            Some(("al".into(), "ice:x".into()))
        );
        assert_eq!(
            parse_basic(&hv(&format!("bAsIc {}", b("a:")))),
            Some(("a".into(), String::new()))
        );
        assert_eq!(parse_basic(&hv(&format!("Basic {}", b("nocolon")))), None);
        assert_eq!(parse_basic(&hv("Bearer xyz")), None);
        assert_eq!(parse_basic(&hv("Basic !!!")), None);
    }

    #[tokio::test]
    async fn bcrypt_users_and_cache() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users: BTreeMap<String, String> = [("alice".to_string(), hash)].into();
        let a = Authenticator::default();
        let b = |s: &str| {
            hv(&format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            ))
        };
        assert!(!a.allows(&users, None).await);
        assert!(a.allows(&users, Some(&b("alice:s3cret"))).await);
        // Cached, and still right.
        assert!(a.allows(&users, Some(&b("alice:s3cret"))).await);
        assert!(!a.allows(&users, Some(&b("alice:wrong"))).await);
        assert!(!a.allows(&users, Some(&b("bob:s3cret"))).await);
        // The fake hash's own password does not let an unknown user in.
        assert!(!a.allows(&users, Some(&b("bob:fakepassword"))).await);
        assert!(a.allows(&BTreeMap::new(), None).await);
        assert!(a.cache.lock().len() >= 3);
    }
}
