//! `tls_server_config` → a rustls `ServerConfig` (ring provider).
//!
//! Go's `client_auth_type` maps onto rustls client verifiers:
//! - `NoClientCert`: no certificate is asked for.
//! - `RequestClientCert`: one is asked for, not required, and not checked against a CA (any
//!   certificate whose signature over the handshake is valid passes).
//! - `RequireAnyClientCert`: as above, but a certificate is required.
//! - `VerifyClientCertIfGiven`: not required; one that is sent must chain to the client CA.
//! - `RequireAndVerifyClientCert`: required and must chain to the client CA.
//!
//! Differences from Go: rustls speaks TLS 1.2 and 1.3 only, so `min_version: TLS10`/`TLS11`
//! still means 1.2 (a `max_version` below TLS12 is an error); only the cipher suites rustls
//! implements can be named (the TLS 1.2 ECDHE AES-GCM and ChaCha20 ones; CBC and RSA key
//! exchange suites are an error naming them); as in Go, `cipher_suites` restricts TLS 1.2
//! only. `client_allowed_sans` is not supported yet and is an error. Curves: `X25519`,
//! `CurveP256`, `CurveP384` (`CurveP521` is an error).

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use sightline_config::web::{ClientAuth, TlsServerConfig};
use sightline_config::TlsVersion;

/// Builds the server configuration; every file is read now, so a change is picked up by
/// building again.
pub(super) fn server_config(t: &TlsServerConfig, http2: bool) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(provider(t)?);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| *v >= t.min_version && *v <= t.max_version)
    .map(|(_, p)| p)
    .collect();
    if versions.is_empty() {
        bail!(
            "max_version {} is below TLS12, the oldest version rustls speaks",
            t.max_version.as_str()
        );
    }
    let certs = match (&t.cert_file, &t.cert) {
        (Some(f), _) => pem_certs(&read(f)?, f)?,
        (None, Some(inline)) => pem_certs(inline.as_bytes(), "cert")?,
        (None, None) => bail!("missing cert_file or cert"),
    };
    let key = match (&t.key_file, &t.key) {
        (Some(f), _) => pem_key(&read(f)?, f)?,
        (None, Some(inline)) => pem_key(inline.expose().as_bytes(), "key")?,
        (None, None) => bail!("missing key_file or key"),
    };
    if !t.client_allowed_sans.is_empty() {
        bail!("client_allowed_sans is not supported yet");
    }
    let roots = || -> Result<Arc<RootCertStore>> {
        let pem = match (&t.client_ca_file, &t.client_ca) {
            (Some(f), _) => read(f)?,
            (None, Some(inline)) => inline.as_bytes().to_vec(),
            (None, None) => bail!(
                "client_ca_file or client_ca is required for {:?}",
                t.client_auth_type
            ),
        };
        let mut store = RootCertStore::empty();
        for c in pem_certs(&pem, t.client_ca_file.as_deref().unwrap_or("client_ca"))? {
            store.add(c).context("adding a client CA certificate")?;
        }
        Ok(Arc::new(store))
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .context("TLS versions and cipher suites do not fit together")?;
    let builder = match t.client_auth_type {
        ClientAuth::NoClientCert => builder.with_no_client_auth(),
        ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => builder
            .with_client_cert_verifier(Arc::new(AnyClientCert {
                provider: provider.clone(),
                required: t.client_auth_type == ClientAuth::RequireAnyClientCert,
            })),
        ClientAuth::VerifyClientCertIfGiven => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .allow_unauthenticated()
                .build()
                .context("building the client certificate verifier")?,
        ),
        ClientAuth::RequireAndVerifyClientCert => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .build()
                .context("building the client certificate verifier")?,
        ),
    };
    let mut c = builder
        .with_single_cert(certs, key)
        .context("the certificate and key do not match")?;
    c.ignore_client_order = t.prefer_server_cipher_suites;
    c.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(c)
}

/// ring's provider, narrowed to the configured TLS 1.2 cipher suites and curves.
fn provider(t: &TlsServerConfig) -> Result<CryptoProvider> {
    let mut p = rustls::crypto::ring::default_provider();
    if !t.cipher_suites.is_empty() {
        let mut suites: Vec<rustls::SupportedCipherSuite> = p
            .cipher_suites
            .iter()
            .filter(|s| s.tls13().is_some())
            .copied()
            .collect();
        let mut unknown = Vec::new();
        for name in &t.cipher_suites {
            match p
                .cipher_suites
                .iter()
                .find(|s| s.tls13().is_none() && s.suite().as_str() == Some(name.as_str()))
            {
                Some(s) => suites.push(*s),
                None => unknown.push(name.as_str()),
            }
        }
        if !unknown.is_empty() {
            bail!(
                "unsupported cipher suites: {} (rustls implements: {})",
                unknown.join(", "),
                p.cipher_suites
                    .iter()
                    .filter(|s| s.tls13().is_none())
                    .filter_map(|s| s.suite().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        p.cipher_suites = suites;
    }
    if !t.curve_preferences.is_empty() {
        let all = p.kx_groups.clone();
        let mut groups = Vec::new();
        for name in &t.curve_preferences {
            let want = match name.as_str() {
                "X25519" => rustls::NamedGroup::X25519,
                "CurveP256" => rustls::NamedGroup::secp256r1,
                "CurveP384" => rustls::NamedGroup::secp384r1,
                other => bail!(
                    "unsupported curve {other:?} (rustls implements X25519, CurveP256, CurveP384)"
                ),
            };
            let g = all
                .iter()
                .find(|g| g.name() == want)
                .ok_or_else(|| anyhow!("unsupported curve {name:?}"))?;
            groups.push(*g);
        }
        p.kx_groups = groups;
    }
    Ok(p)
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {path}"))
}

fn pem_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificates in {what}"))?;
    if certs.is_empty() {
        bail!("no certificate found in {what}");
    }
    Ok(certs)
}

fn pem_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>> {
    rustls_pemfile::private_key(&mut &pem[..])
        .with_context(|| format!("parsing the private key in {what}"))?
        .ok_or_else(|| anyhow!("no private key found in {what}"))
}

/// Go's `RequestClientCert`/`RequireAnyClientCert`: a certificate is asked for (or
/// required) but not verified against a CA; the client must still prove it holds its key.
#[derive(Debug)]
struct AnyClientCert {
    provider: Arc<CryptoProvider>,
    required: bool,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
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

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_config::Secret;

    /// A self-signed certificate for localhost, inline, as the base of each case.
    fn base() -> (TlsServerConfig, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .pem();
        let c = TlsServerConfig {
            cert_file: None,
            key_file: None,
            cert: Some(cert.clone()),
            key: Some(Secret::new(key.serialize_pem())),
            client_ca_file: None,
            client_ca: None,
            client_auth_type: ClientAuth::NoClientCert,
            client_allowed_sans: Vec::new(),
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            cipher_suites: Vec::new(),
            curve_preferences: Vec::new(),
            prefer_server_cipher_suites: true,
        };
        (c, cert)
    }

    fn err(c: &TlsServerConfig) -> String {
        format!("{:#}", server_config(c, true).unwrap_err())
    }

    #[test]
    fn every_client_auth_type_builds() {
        let (mut c, ca) = base();
        c.client_ca = Some(ca);
        for t in [
            ClientAuth::NoClientCert,
            ClientAuth::RequestClientCert,
            ClientAuth::RequireAnyClientCert,
            ClientAuth::VerifyClientCertIfGiven,
            ClientAuth::RequireAndVerifyClientCert,
        ] {
            c.client_auth_type = t;
            let s = server_config(&c, true).unwrap_or_else(|e| panic!("{t:?}: {e:#}"));
            assert_eq!(s.alpn_protocols[0], b"h2");
        }
        let s = server_config(&c, false).unwrap();
        assert_eq!(s.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn cipher_suites_and_curves_rustls_has_are_accepted_others_named() {
        let (mut c, _) = base();
        c.cipher_suites = vec![
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into(),
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into(),
        ];
        c.curve_preferences = vec!["X25519".into(), "CurveP256".into()];
        server_config(&c, true).unwrap();
        c.cipher_suites = vec![
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into(),
            "TLS_RSA_WITH_AES_128_CBC_SHA".into(),
            "TLS_BOGUS".into(),
        ];
        let e = err(&c);
        assert!(
            e.contains("unsupported cipher suites: TLS_RSA_WITH_AES_128_CBC_SHA, TLS_BOGUS"),
            "{e}"
        );
        c.cipher_suites.clear();
        c.curve_preferences = vec!["CurveP521".into()];
        assert!(err(&c).contains("CurveP521"));
    }

    #[test]
    fn versions_map_onto_what_rustls_speaks() {
        let (mut c, _) = base();
        c.min_version = TlsVersion::Tls10;
        server_config(&c, true).unwrap();
        c.max_version = TlsVersion::Tls11;
        assert!(err(&c).contains("below TLS12"));
        c.min_version = TlsVersion::Tls13;
        c.max_version = TlsVersion::Tls13;
        server_config(&c, true).unwrap();
    }

    #[test]
    fn unreadable_and_mismatched_material_is_named() {
        let (mut c, _) = base();
        c.cert = None;
        c.cert_file = Some("/nonexistent/server.pem".into());
        assert!(err(&c).contains("/nonexistent/server.pem"));
        let (mut c, _) = base();
        let (other, _) = base();
        c.key = other.key;
        assert!(err(&c).contains("do not match"), "{}", err(&c));
        let (mut c, _) = base();
        c.client_allowed_sans = vec!["client".into()];
        assert!(err(&c).contains("client_allowed_sans"));
    }
}
