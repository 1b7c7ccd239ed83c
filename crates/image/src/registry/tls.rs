//! TLS for one registry (rustls): the system's CA bundle (Mozilla's roots when there is
//! none), plus the registry's own CAs and client certificate from its certs.d directory, laid
//! out as Docker does: `<certs.d>/<host[:port]>/*.crt` are CAs, `NAME.cert` with `NAME.key` is a
//! client certificate. Insecure registries get a verifier that accepts any certificate (still
//! checking the handshake signatures), which is what Docker's insecure-registries means.

use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Where distributions keep their CA bundle; `SSL_CERT_FILE` first, as OpenSSL does.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
        for path in env
            .into_iter()
            .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
        {
            if let Ok(iter) = CertificateDer::pem_file_iter(&path) {
                let certs: Vec<_> = iter.filter_map(|c| c.ok()).collect();
                if !certs.is_empty() {
                    return certs;
                }
            }
        }
        Vec::new()
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn bad(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Registry(format!("certs.d: {}: {why}", path.display()))
}

/// Files in `dir` ending in `ext`, sorted; none when the directory does not exist.
fn files_with(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", dir, e)),
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    Ok(out)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(path, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(path, e))?;
    if certs.is_empty() {
        return Err(bad(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// The rustls configuration for the registry at `authority` (`host[:port]`), with CAs and a
/// client certificate from `certs_dir` (which may not exist). `verify: false` accepts any
/// server certificate (insecure registries).
pub fn client_config(certs_dir: &Path, verify: bool) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Registry(format!("TLS setup: {e}")))?;
    let builder = if verify {
        let mut roots = RootCertStore::empty();
        let system = system_roots();
        if system.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            roots.add_parsable_certificates(system.iter().cloned());
        }
        for path in files_with(certs_dir, "crt")? {
            for cert in read_certs(&path)? {
                roots.add(cert).map_err(|e| bad(&path, e))?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    };
    let client = files_with(certs_dir, "cert")?.into_iter().next();
    let config = match client {
        None => builder.with_no_client_auth(),
        Some(cert_path) => {
            let key_path = cert_path.with_extension("key");
            if !key_path.exists() {
                return Err(bad(
                    &cert_path,
                    format!("client certificate without its key {}", key_path.display()),
                ));
            }
            let chain = read_certs(&cert_path)?;
            let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| bad(&key_path, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad(&cert_path, e))?
        }
    };
    Ok(Arc::new(config))
}

/// Docker's `insecure-registries`: any certificate is taken, but the handshake is still
/// checked to be signed by its key (so the connection is at least not trivially spliced).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A certificate problem that failed a request.
pub enum CertProblem {
    /// The registry's certificate did not verify (unknown CA, wrong name, expired).
    Server(String),
    /// The registry refused the handshake: most likely it wants a client certificate.
    Client(String),
}

/// The certificate problem behind a failed request, if that is what failed it.
pub fn certificate_problem(e: &ureq::Error) -> Option<CertProblem> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let tls = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        match tls {
            Some(rustls::Error::InvalidCertificate(c)) => {
                return Some(CertProblem::Server(match c {
                    rustls::CertificateError::UnknownIssuer => {
                        "certificate signed by unknown authority".to_string()
                    }
                    other => format!("invalid certificate: {other:?}"),
                }))
            }
            Some(rustls::Error::AlertReceived(a))
                if matches!(
                    a,
                    rustls::AlertDescription::CertificateRequired
                        | rustls::AlertDescription::BadCertificate
                        | rustls::AlertDescription::UnknownCA
                        | rustls::AlertDescription::HandshakeFailure
                ) =>
            {
                return Some(CertProblem::Client(format!(
                    "the registry refused the TLS handshake ({a:?})"
                )))
            }
            Some(_) => return None,
            None => cur = err.source(),
        }
    }
    None
}
