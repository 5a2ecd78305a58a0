//! Talking to a registry for one image reference: pushing an image (oci-client), fetching a
//! manifest and blobs (this command's own requests, so that every body is bounded and layers
//! stream to disk). Requests carry what `authorize` found; the registry's failures become
//! one-line messages that say what to do.

use super::auth::{self, Credentials, TOKEN_SERVICE_VARIABLE};
use super::authorize::{authorize, Authorization, Target};
use super::body::{read_capped, stream_verified};
use super::image::{Descriptor, Image};
use super::problem::{explain, Problem, FETCHING_MANIFEST};
use super::reference::ImageRef;
use crate::usage::Failure;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::{Client, RegistryOperation};
use reqwest::header::ACCEPT;
use reqwest::Url;
use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach the registry.
pub struct Transport<'a> {
    pub plain_http: bool,
    pub ca_file: Option<&'a Path>,
}

/// A registry session for one image reference.
pub struct Session {
    http: reqwest::Client,
    base: Url,
    reference: ImageRef,
    credentials: Credentials,
    authorization: Authorization,
    runtime: tokio::runtime::Runtime,
    plain_http: bool,
    ca: Option<Vec<u8>>,
}

fn failure(message: String) -> Failure {
    Failure { status: 1, message }
}

impl Session {
    /// A session authorized to pull (or, with `push`, to push too).
    pub fn open(reference: &ImageRef, transport: &Transport, push: bool) -> Result<Self, Failure> {
        // reqwest is built without a default crypto provider (see Cargo.toml): install ring.
        // An error only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = match transport.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| Failure {
                status: 2,
                message: format!("cannot read the CA file {}: {e}", path.display()),
            })?),
            None => None,
        };
        let mut builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
        if let Some(pem) = &ca {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| failure(format!("the CA file holds no PEM certificate: {e}")))?;
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder
            .build()
            .map_err(|e| failure(format!("cannot set up HTTPS: {e}")))?;
        let scheme = if transport.plain_http {
            "http"
        } else {
            "https"
        };
        // Where the registry answers (docker.io's is index.docker.io), as oci-client goes.
        let host = reference.to_client().resolve_registry().to_owned();
        let base = Url::parse(&format!("{scheme}://{host}"))
            .map_err(|e| failure(format!("{reference}: not a registry address: {e}")))?;
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
        let mut session = Self {
            http,
            base,
            reference: reference.clone(),
            credentials,
            authorization: Authorization::Anonymous,
            runtime,
            plain_http: transport.plain_http,
            ca,
        };
        let trusted_token_service = std::env::var(TOKEN_SERVICE_VARIABLE)
            .ok()
            .filter(|v| !v.is_empty());
        let target = Target {
            base: &session.base,
            repository: &reference.repository,
            push,
            plain_http: transport.plain_http,
            trusted_token_service: trusted_token_service.as_deref(),
        };
        session.authorization = session.block_on(
            "authenticating",
            authorize(&session.http, &target, &session.credentials.auth),
        )?;
        Ok(session)
    }

    fn block_on<T>(
        &self,
        what: &str,
        work: impl Future<Output = Result<T, Problem>>,
    ) -> Result<T, Failure> {
        self.runtime
            .block_on(work)
            .map_err(|problem| failure(explain(what, &self.reference, &self.credentials, &problem)))
    }

    /// An oci-client for pushes, carrying what `authorize` found.
    fn push_client(&self) -> Client {
        let mut config = ClientConfig {
            protocol: if self.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        if let Some(data) = &self.ca {
            config.extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data: data.clone(),
            });
        }
        Client::new(config)
    }

    /// Pushes the image's blobs (those the registry lacks) and its manifest, tagged.
    pub fn push(&self, image: &Image) -> Result<(), Failure> {
        let client = self.push_client();
        let reference = self.reference.to_client();
        let oci = |e: oci_client::errors::OciDistributionError| Problem::from(&e);
        self.block_on("authenticating", async {
            client
                .auth(
                    &reference,
                    &self.authorization.to_client(),
                    RegistryOperation::Push,
                )
                .await
                .map_err(oci)
        })?;
        for blob in &image.blobs {
            let digest = &blob.descriptor.digest;
            let present = self.block_on("checking a blob", async {
                client.blob_exists(&reference, digest).await.map_err(oci)
            })?;
            if !present {
                self.block_on(&format!("pushing blob {digest}"), async {
                    client
                        .push_blob(&reference, blob.bytes.clone(), digest)
                        .await
                        .map_err(oci)
                })?;
            }
        }
        let content_type = image.manifest_media_type.parse().map_err(|_| {
            failure(format!(
                "bad manifest media type {}",
                image.manifest_media_type
            ))
        })?;
        self.block_on("pushing the manifest", async {
            client
                .push_manifest_raw(&reference, image.manifest.clone(), content_type)
                .await
                .map_err(oci)
        })
        .map(|_| ())
    }

    fn url(&self, path: &str) -> Result<Url, Failure> {
        let path = format!("/v2/{}/{path}", self.reference.repository);
        self.base
            .join(&path)
            .map_err(|e| failure(format!("{}: bad address {path}: {e}", self.reference)))
    }

    async fn get(&self, url: Url, accept: Option<&str>) -> Result<reqwest::Response, Problem> {
        let mut request = self.authorization.apply(self.http.get(url));
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let response = request.send().await?;
        match response.status() {
            status if status.is_success() => Ok(response),
            status => Err(Problem::Status(status.as_u16())),
        }
    }

    /// The manifest's bytes, as the registry sent them (at most `cap`), and the digest it gave
    /// them (`Docker-Content-Digest`), if it did.
    pub fn manifest(
        &self,
        accepted: &[&str],
        cap: u64,
    ) -> Result<(Vec<u8>, Option<String>), Failure> {
        let reference = &self.reference;
        let at = reference
            .digest
            .as_deref()
            .or(reference.tag.as_deref())
            .unwrap_or_default();
        let url = self.url(&format!("manifests/{at}"))?;
        self.block_on(FETCHING_MANIFEST, async {
            let mut response = self.get(url, Some(&accepted.join(", "))).await?;
            let digest = response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let what = format!("the manifest of {reference}");
            let bytes = read_capped(&mut response, cap, &what).await?;
            Ok((bytes, digest))
        })
    }

    /// Streams a blob into `into`, its size and digest checked against `descriptor`.
    pub fn blob(
        &self,
        descriptor: &Descriptor,
        what: &str,
        into: &mut impl Write,
    ) -> Result<(), Failure> {
        let url = self.url(&format!("blobs/{}", descriptor.digest))?;
        self.block_on(&format!("fetching {what}"), async {
            let mut response = self.get(url, None).await?;
            stream_verified(&mut response, descriptor, into, what).await
        })
    }
}
