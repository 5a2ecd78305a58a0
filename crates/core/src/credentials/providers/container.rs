//! The container credentials endpoint: ECS task roles (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`,
//! on 169.254.170.2) and EKS Pod Identity (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`). One GET, answered with a credential document.

use super::{detail, from_document, CredentialProvider, ProviderStep};
use crate::credentials::chain::{Callout, ChainSettings};
use crate::credentials::environment::ProxyEnvironment;

const ECS_HOST: &str = "169.254.170.2";

pub struct Container {
    cluster: String,
    /// The proxy's environment, read once at start; the request is made from it at each
    /// fetch (cheaper in code than keeping a prepared request to clone).
    env: ProxyEnvironment,
}

impl Container {
    pub fn new(settings: &ChainSettings, env: &ProxyEnvironment) -> Self {
        Self {
            cluster: settings.container_cluster.clone(),
            env: env.clone(),
        }
    }
}

impl CredentialProvider for Container {
    fn start(&mut self, _now: u64) -> ProviderStep {
        match request(&self.cluster, &self.env) {
            Ok(callout) => ProviderStep::Call(callout),
            Err(reason) => ProviderStep::Failed(reason),
        }
    }

    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        match status {
            200 => from_document(body, now),
            _ => ProviderStep::Failed(format!(
                "HTTP {status} from the credentials endpoint{}",
                detail(body)
            )),
        }
    }
}

/// The GET the environment describes; the relative URI wins over the full one, as in the SDKs.
fn request(cluster: &str, env: &ProxyEnvironment) -> Result<Callout, String> {
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
            return Err(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read from inside \
                        the VM; pass the token in AWS_CONTAINER_AUTHORIZATION_TOKEN"
                    .into(),
            )
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
