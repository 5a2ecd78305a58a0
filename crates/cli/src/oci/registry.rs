//! Talking to a registry with oci-client: pushing an image's blobs and manifest, fetching a
//! manifest and blobs. Everything fetched is returned as bytes for the caller to verify; the
//! registry's failures become one-line messages that say what to do.

use super::auth::{self, Credentials};
use super::image::{Descriptor, Image};
use super::reference::ImageRef;
use crate::Failure;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::{Client, RegistryOperation};
use std::future::Future;
use std::path::Path;
use std::time::Duration;

const FETCHING_MANIFEST: &str = "fetching the manifest";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach the registry.
pub struct Transport<'a> {
    pub plain_http: bool,
    pub ca_file: Option<&'a Path>,
}

/// A registry session for one image reference.
pub struct Session {
    client: Client,
    reference: ImageRef,
    credentials: Credentials,
    runtime: tokio::runtime::Runtime,
}

fn failure(message: String) -> Failure {
    Failure { status: 1, message }
}

impl Session {
    pub fn open(reference: &ImageRef, transport: &Transport) -> Result<Self, Failure> {
        // reqwest is built without a default crypto provider (see Cargo.toml): install ring.
        // An error only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut config = ClientConfig {
            protocol: if transport.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            // An index is refused (a wasm plugin is one image manifest), not resolved.
            platform_resolver: None,
            ..ClientConfig::default()
        };
        if let Some(path) = transport.ca_file {
            let data = std::fs::read(path).map_err(|e| Failure {
                status: 2,
                message: format!("cannot read the CA file {}: {e}", path.display()),
            })?;
            config.extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let credentials = auth::for_registry(&reference.registry).map_err(|e| {
            failure(format!(
                "cannot read the credentials for {}: {e}",
                reference.registry
            ))
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| failure(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Self {
            client: Client::new(config),
            reference: reference.clone(),
            credentials,
            runtime,
        })
    }

    fn block_on<T>(
        &self,
        what: &str,
        work: impl Future<Output = Result<T, OciDistributionError>>,
    ) -> Result<T, Failure> {
        self.runtime
            .block_on(work)
            .map_err(|e| failure(explain(what, &self.reference, &self.credentials, &e)))
    }

    fn authenticate(&self, operation: RegistryOperation) -> Result<(), Failure> {
        let reference = self.reference.to_client();
        self.block_on(
            "authenticating",
            self.client
                .auth(&reference, &self.credentials.auth, operation),
        )
        .map(|_| ())
    }

    /// Pushes the image's blobs (those the registry lacks) and its manifest, tagged.
    pub fn push(&self, image: &Image) -> Result<(), Failure> {
        self.authenticate(RegistryOperation::Push)?;
        let reference = self.reference.to_client();
        for blob in &image.blobs {
            let digest = &blob.descriptor.digest;
            let present = self.block_on(
                "checking a blob",
                self.client.blob_exists(&reference, digest),
            )?;
            if !present {
                self.block_on(
                    &format!("pushing blob {digest}"),
                    self.client
                        .push_blob(&reference, blob.bytes.clone(), digest),
                )?;
            }
        }
        let content_type = image.manifest_media_type.parse().map_err(|_| {
            failure(format!(
                "bad manifest media type {}",
                image.manifest_media_type
            ))
        })?;
        self.block_on(
            "pushing the manifest",
            self.client
                .push_manifest_raw(&reference, image.manifest.clone(), content_type),
        )
        .map(|_| ())
    }

    /// The manifest's bytes, as the registry sent them, and the digest it gave them
    /// (`Docker-Content-Digest`, else the reference's).
    pub fn manifest(&self, accepted: &[&str]) -> Result<(Vec<u8>, String), Failure> {
        self.authenticate(RegistryOperation::Pull)?;
        let reference = self.reference.to_client();
        let auth = &self.credentials.auth;
        let (bytes, digest) = self.block_on(
            FETCHING_MANIFEST,
            self.client.pull_manifest_raw(&reference, auth, accepted),
        )?;
        Ok((bytes.to_vec(), digest))
    }

    /// A blob's bytes, as the registry sent them.
    pub fn blob(&self, descriptor: &Descriptor) -> Result<Vec<u8>, Failure> {
        let reference = self.reference.to_client();
        let oci = oci_client::manifest::OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: i64::try_from(descriptor.size).unwrap_or(i64::MAX),
            ..Default::default()
        };
        let mut bytes = Vec::new();
        self.block_on(
            &format!("fetching blob {}", descriptor.digest),
            self.client.pull_blob(&reference, &oci, &mut bytes),
        )?;
        Ok(bytes)
    }
}

/// The innermost cause of an error (e.g. "Connection refused (os error 111)").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn explain(
    what: &str,
    reference: &ImageRef,
    credentials: &Credentials,
    error: &OciDistributionError,
) -> String {
    let host = &reference.registry;
    let credentials_hint = || {
        format!(
            "the registry {host} refused the credentials (401 unauthorized; credentials: {}) \
             while {what}; check the user name and password, or set {} and {}",
            credentials.source,
            auth::USERNAME_VARIABLE,
            auth::PASSWORD_VARIABLE
        )
    };
    let missing = || {
        format!(
            "{reference}: no such image in the registry (manifest unknown); check the \
             repository and the tag or digest"
        )
    };
    let status = match error {
        OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Some(401),
        OciDistributionError::ImageManifestNotFoundError(_) => Some(404),
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().find_map(|e| match e.code {
                OciErrorCode::Unauthorized | OciErrorCode::Denied => Some(401),
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown => Some(404),
                _ => None,
            })
        }
        _ => None,
    };
    match (error, status) {
        (OciDistributionError::RequestError(e), _) if e.is_connect() || e.is_timeout() => format!(
            "cannot reach the registry {host} while {what}: {}; check the address and that the \
             registry runs (a registry without TLS needs --plain-http; one with a private CA \
             needs --ca-file)",
            root_cause(e)
        ),
        (_, Some(401 | 403)) => credentials_hint(),
        (_, Some(404)) if what == FETCHING_MANIFEST => missing(),
        (OciDistributionError::DigestError(e), _) => format!(
            "digest mismatch while {what} from {reference}: {e}; the registry's copy is corrupt \
             or was tampered with, do not use it"
        ),
        (other, _) => format!("{what} at {host} failed: {other}"),
    }
}
