//! The client side of prometheus/common's `tls_config` (v0.38, what Alertmanager 0.25 links)
//! as a rustls configuration, shared by plugins' outbound HTTP (`http_profile.rs`) and
//! SMTP (`smtp.rs`).
//!
//! Differences from Go, all because rustls is not crypto/tls: TLS 1.0 and 1.1 do not exist
//! here (`min_version: TLS10` or `TLS11` means TLS 1.2, a `max_version` below TLS 1.2 is
//! refused), and for HTTP `server_name` changes the name the certificate is verified
//! against but not the SNI the client sends (the connection's URL host; SMTP sends it too).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// PEM text given inline (`ca`, `cert`, `key`) or as a file (`ca_file`, ...).
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// The PEM text itself.
    Inline(String),
    /// A file holding it, read when the configuration loads (and, for SMTP, for every
    /// message, as Alertmanager builds its TLS configuration per notification).
    File(PathBuf),
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Inline PEM may be a private key.
            Pem::Inline(_) => f.write_str("Inline(<secret>)"),
            Pem::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

impl Pem {
    fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Pem::Inline(s) => Ok(s.as_bytes().to_vec()),
            Pem::File(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Pem::Inline(_) => "<inline>".to_string(),
            Pem::File(p) => p.display().to_string(),
        }
    }
}

/// `tls_config`: how the client verifies the server and presents itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ca` / `ca_file`: the only roots trusted (the built-in web roots otherwise).
    pub ca: Option<Pem>,
    /// `cert` / `cert_file`: the client certificate chain.
    pub cert: Option<Pem>,
    /// `key` / `key_file`: its private key.
    pub key: Option<Pem>,
    /// `server_name`: the name the server's certificate must carry.
    pub server_name: Option<String>,
    /// `insecure_skip_verify`: accept any server certificate.
    pub insecure_skip_verify: bool,
    /// `min_version`: `TLS10` .. `TLS13`.
    pub min_version: Option<String>,
    /// `max_version`: `TLS12` or `TLS13`.
    pub max_version: Option<String>,
}

fn version_rank(v: &str) -> Result<u8, String> {
    match v {
        "TLS10" => Ok(10),
        "TLS11" => Ok(11),
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        other => Err(format!("unknown TLS version: {other}")),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration. `verify_name` overrides the name the server's
/// certificate is checked against (HTTP's `server_name`; SMTP passes the name to the
/// connection instead and gives `None`).
pub(crate) fn client_config(
    s: &TlsSettings,
    verify_name: Option<&str>,
) -> Result<rustls::ClientConfig, String> {
    let min = s.min_version.as_deref().map(version_rank).transpose()?;
    let max = s.max_version.as_deref().map(version_rank).transpose()?;
    if let (Some(min), Some(max)) = (min, max) {
        if min > max {
            return Err(format!(
                "max_version must be greater than or equal to min_version, got min_version {} and max_version {}",
                s.min_version.as_deref().unwrap_or_default(),
                s.max_version.as_deref().unwrap_or_default()
            ));
        }
    }
    if max.is_some_and(|m| m < 12) {
        return Err(format!(
            "max_version {} is not supported: Sightline speaks TLS 1.2 and 1.3 only",
            s.max_version.as_deref().unwrap_or_default()
        ));
    }
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if min.unwrap_or(12) <= 12 && max.unwrap_or(13) >= 12 {
        versions.push(&rustls::version::TLS12);
    }
    if max.unwrap_or(13) >= 13 {
        versions.push(&rustls::version::TLS13);
    }
    let provider = provider();
    let mut roots = rustls::RootCertStore::empty();
    match &s.ca {
        Some(ca) => {
            let pem = ca
                .read()
                .map_err(|e| format!("unable to load specified CA cert {}: {e}", ca.describe()))?;
            let certs = certs_from_pem(&pem);
            let mut added = 0;
            for c in certs {
                if roots.add(c).is_ok() {
                    added += 1;
                }
            }
            if added == 0 {
                return Err(format!("unable to use specified CA cert {}", ca.describe()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let webpki = if s.insecure_skip_verify {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("building the certificate verifier: {e}"))?,
        )
    };
    let name = verify_name
        .map(|n| ServerName::try_from(n.to_string()).map_err(|e| format!("server_name {n:?}: {e}")))
        .transpose()?;
    let verifier = Arc::new(Verifier {
        webpki,
        name,
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&s.cert, &s.key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(c), None) => {
            return Err(format!(
                "client cert file {:?} specified without client key file",
                c.describe()
            ))
        }
        (None, Some(k)) => {
            return Err(format!(
                "client key file {:?} specified without client cert file",
                k.describe()
            ))
        }
        (Some(c), Some(k)) => {
            let fail = |e: String| {
                format!(
                    "unable to use specified client cert ({}) & key ({}): {e}",
                    c.describe(),
                    k.describe()
                )
            };
            let chain = certs_from_pem(&c.read().map_err(fail)?);
            if chain.is_empty() {
                return Err(fail("no certificate found".to_string()));
            }
            let key_pem = k.read().map_err(fail)?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &key_pem[..])
                .map_err(|e| fail(e.to_string()))?
                .ok_or_else(|| fail("no private key found".to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| fail(e.to_string()))?
        }
    };
    Ok(config)
}

fn certs_from_pem(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut &pem[..])
        .filter_map(std::result::Result::ok)
        .collect()
}

/// webpki verification against the configured roots and, when set, a fixed name; or no
/// verification at all for `insecure_skip_verify` (the handshake signatures are still
/// checked, as Go does).
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    name: Option<ServerName<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.webpki {
            None => Ok(ServerCertVerified::assertion()),
            Some(v) => v.verify_server_cert(
                end_entity,
                intermediates,
                self.name.as_ref().unwrap_or(server_name),
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
