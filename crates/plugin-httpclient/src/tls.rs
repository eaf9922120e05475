//! Turning [`TlsOptions`] into a rustls client configuration (ring provider).
//!
//! Errors name the settings key they come from (`tlsCACert`,
//! `tlsClientCert`, `tlsClientKey`) and never include the PEM itself.

use std::sync::{Arc, OnceLock};

use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, WebPkiSupportedAlgorithms},
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject};

use crate::{
    error::Error,
    options::{TlsOptions, TlsVersion},
};

/// The crypto provider every TLS configuration of this crate uses.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system's trust roots, loaded once. Certificates the platform store
/// holds but rustls cannot parse are skipped, as Go's `SystemCertPool` does.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            for error in &loaded.errors {
                tracing::debug!(%error, "skipping unreadable system trust root");
            }
            let mut roots = RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
            tracing::debug!(added, ignored, "loaded system trust roots");
            Arc::new(roots)
        })
        .clone()
}

/// The client configuration for `options`, or for system defaults when
/// `None`. ALPN offers HTTP/1.1 only, matching the connector.
pub(crate) fn client_config(options: &TlsOptions) -> Result<ClientConfig, Error> {
    let versions = protocol_versions(options)?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|error| Error::invalid_setting("tlsMinVersion", error.to_string()))?;

    let builder = if options.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCertificate(
                provider().signature_verification_algorithms,
            )))
    } else {
        let roots = match &options.ca_certificate {
            Some(pem) if !pem.trim().is_empty() => Arc::new(parse_roots("tlsCACert", pem)?),
            _ => system_roots(),
        };
        builder.with_root_certificates(roots)
    };

    let mut config = match (&options.client_certificate, &options.client_key) {
        (Some(certificate), Some(key)) if !certificate.is_empty() && !key.is_empty() => {
            let chain = parse_certificates("tlsClientCert", certificate)?;
            let key = PrivateKeyDer::from_pem_slice(key.expose().as_bytes()).map_err(|error| {
                Error::invalid_setting(
                    "tlsClientKey",
                    format!("no valid PEM private key: {}", describe(&error)),
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|error| {
                Error::invalid_setting(
                    "tlsClientKey",
                    format!("does not match the client certificate: {error}"),
                )
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The default client configuration: system roots, TLS 1.2 and 1.3.
pub(crate) fn default_client_config() -> Result<ClientConfig, Error> {
    client_config(&TlsOptions::default())
}

fn protocol_versions(
    options: &TlsOptions,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, Error> {
    let min = options.min_version.unwrap_or(TlsVersion::Tls12);
    let max = options.max_version.unwrap_or(TlsVersion::Tls13);
    if min > max {
        return Err(Error::invalid_setting(
            "tlsMinVersion",
            format!("minimum {min:?} is above maximum {max:?}"),
        ));
    }
    Ok([
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(version, _)| (min..=max).contains(version))
    .map(|(_, supported)| supported)
    .collect())
}

pub(crate) fn parse_certificates(
    key: &str,
    pem: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            Error::invalid_setting(
                key,
                format!("invalid PEM certificate: {}", describe(&error)),
            )
        })?;
    if certificates.is_empty() {
        return Err(Error::invalid_setting(key, "no PEM certificate found"));
    }
    Ok(certificates)
}

pub(crate) fn parse_roots(key: &str, pem: &str) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for certificate in parse_certificates(key, pem)? {
        roots.add(certificate).map_err(|error| {
            Error::invalid_setting(key, format!("unusable CA certificate: {error}"))
        })?;
    }
    Ok(roots)
}

/// Describes a PEM error without echoing the input (which may be a key).
fn describe(error: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error as Pem;
    match error {
        Pem::MissingSectionEnd { .. } => "a section has no END line".to_owned(),
        Pem::IllegalSectionStart { .. } => "malformed BEGIN line".to_owned(),
        Pem::Base64Decode(_) => "the base64 content is corrupt".to_owned(),
        Pem::NoItemsFound => "nothing found".to_owned(),
        Pem::Io(error) => error.to_string(),
        _ => "unreadable PEM".to_owned(),
    }
}

/// `tlsSkipVerify`: accepts any certificate but still checks that the
/// server holds its key, as Go's `InsecureSkipVerify` does.
#[derive(Debug)]
struct AcceptAnyServerCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_bounds_are_validated() {
        let options = TlsOptions {
            min_version: Some(TlsVersion::Tls13),
            max_version: Some(TlsVersion::Tls12),
            ..TlsOptions::default()
        };
        assert!(matches!(
            client_config(&options),
            Err(Error::InvalidSetting { .. })
        ));
        let tls13 = TlsOptions {
            min_version: Some(TlsVersion::Tls13),
            ..TlsOptions::default()
        };
        assert_eq!(protocol_versions(&tls13).unwrap().len(), 1);
    }

    #[test]
    fn empty_pem_is_an_error_naming_the_key() {
        let error = parse_roots("tlsCACert", "hello").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid data source setting `tlsCACert`: no PEM certificate found"
        );
    }
}
