//! The container credentials endpoint: ECS task roles (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`,
//! on 169.254.170.2) and EKS Pod Identity (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`, or the token's file in
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, which the kubelet rotates). One GET, answered with
//! a credential document; with a token file, first a GET of the file's current contents
//! through Envoy (`credentials::files`: the VM reads no file), at every fetch.

use super::{detail, from_document, CredentialProvider, ProviderStep};
use crate::credentials::chain::{Callout, ChainSettings};
use crate::credentials::environment::ProxyEnvironment;
use crate::credentials::files::{self, WatchedFile};

const ECS_HOST: &str = "169.254.170.2";

pub struct Container {
    cluster: String,
    files_cluster: String,
    /// The proxy's environment, read once at start; the request is made from it at each
    /// fetch (cheaper in code than keeping a prepared request to clone).
    env: ProxyEnvironment,
    phase: Phase,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Asking Envoy for the authorization token's file.
    TokenFile,
    /// The GET of the credentials endpoint is out.
    Endpoint,
}

impl Container {
    pub fn new(settings: &ChainSettings, env: &ProxyEnvironment) -> Self {
        Self {
            cluster: settings.container_cluster.clone(),
            files_cluster: settings.files_cluster.clone(),
            env: env.clone(),
            phase: Phase::Endpoint,
        }
    }

    fn endpoint_call(&mut self, file_token: Option<String>) -> ProviderStep {
        self.phase = Phase::Endpoint;
        match request(&self.cluster, &self.env, file_token) {
            Ok(callout) => ProviderStep::Call(callout),
            Err(reason) => ProviderStep::Failed(reason),
        }
    }
}

impl CredentialProvider for Container {
    fn start(&mut self, _now: u64) -> ProviderStep {
        // The token itself wins over its file, as in the SDKs (botocore's
        // ContainerProvider: AWS_CONTAINER_AUTHORIZATION_TOKEN first).
        let from_file = self.env.container_authorization_token.is_none()
            && self.env.container_authorization_token_file.is_some();
        let full_uri_only =
            self.env.container_relative_uri.is_none() && self.env.container_full_uri.is_some();
        if from_file && full_uri_only {
            self.phase = Phase::TokenFile;
            return ProviderStep::Call(files::request(
                &self.files_cluster,
                WatchedFile::PodIdentityToken,
            ));
        }
        self.endpoint_call(None)
    }

    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        if self.phase == Phase::TokenFile {
            let file = WatchedFile::PodIdentityToken;
            return match files::token_answer(file, &self.files_cluster, status, body) {
                Ok(token) => self.endpoint_call(Some(token)),
                Err(reason) => ProviderStep::Failed(reason),
            };
        }
        match status {
            200 => from_document(body, now),
            _ => ProviderStep::Failed(format!(
                "HTTP {status} from the credentials endpoint{}",
                detail(body)
            )),
        }
    }

    fn on_failure(&mut self, reason: &str, _now: u64) -> ProviderStep {
        ProviderStep::Failed(match self.phase {
            Phase::TokenFile => files::no_answer(&self.files_cluster, reason),
            Phase::Endpoint => reason.to_owned(),
        })
    }
}

/// The GET the environment describes; the relative URI wins over the full one, as in the SDKs.
/// `file_token`: the authorization token read from its file.
fn request(
    cluster: &str,
    env: &ProxyEnvironment,
    file_token: Option<String>,
) -> Result<Callout, String> {
    let (authority, path) = match (&env.container_relative_uri, &env.container_full_uri) {
        (Some(relative), _) => {
            if !relative.starts_with('/') {
                return Err("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'".into());
            }
            (ECS_HOST.to_owned(), relative.clone())
        }
        (None, Some(full)) => split_http_uri(full)
            .ok_or_else(|| "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http:// URI".to_owned())?,
        (None, None) => {
            return Err("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set".into())
        }
    };
    let mut headers = vec![("accept", "application/json".to_owned())];
    match (
        &env.container_authorization_token,
        &env.container_authorization_token_file,
    ) {
        (Some(token), _) if token.contains(|c: char| c.is_ascii_control()) => {
            return Err(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a control character \
                        (a line break, say), which a header cannot carry"
                    .into(),
            )
        }
        (Some(token), _) => headers.push(("authorization", token.clone())),
        (None, Some(_)) => {
            if let Some(token) = file_token {
                headers.push(("authorization", token));
            }
        }
        (None, None) => {}
    }
    Ok(Callout {
        cluster: cluster.to_owned(),
        method: "GET",
        path,
        authority,
        headers,
        body: Vec::new(),
    })
}

/// `http://host[:port]/path` into (`host[:port]`, `/path`).
fn split_http_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    (!authority.is_empty() && !authority.contains('@'))
        .then(|| (authority.to_owned(), path.to_owned()))
}

#[cfg(test)]
mod tests;
