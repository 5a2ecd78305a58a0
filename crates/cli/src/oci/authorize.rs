//! What requests to a registry carry as `Authorization`, found the way the distribution token
//! protocol describes (distribution `docs/spec/auth/token.md`): an anonymous `GET /v2/`; a
//! `401` with a `Bearer realm=...,service=...` challenge sends the client to the realm for a
//! token scoped to the repository (the credentials go there, as HTTP Basic); a `Basic`
//! challenge takes the credentials on every request to the registry.
//!
//! Credentials belong to one registry host[:port]: docker looks them up by the registry's
//! host (docker/cli `cli/config/configfile/file.go` `GetAuthConfig`, keys compared through
//! `cli/config/credentials/file_store.go` `ConvertToHostname`), oras-go by the request's host
//! (`registry/remote/auth/client.go`, `Client.Do`), and oci-client authenticates only requests
//! to the registry itself (`targets_credential_registry`, after CVE-2020-15157); reqwest drops
//! `Authorization` on a redirect to another host (`redirect.rs`, `remove_sensitive_headers`).
//! All three send the password to whatever token realm the registry names (oras-go
//! `fetchDistributionToken`, oci-client `_auth`): this command does the token exchange itself
//! and is stricter there (`realm_is_allowed`).

use super::auth::TOKEN_SERVICE_VARIABLE;
use super::body::read_capped;
use super::problem::Problem;
use oci_client::secrets::RegistryAuth;
use oci_client::token_cache::RegistryToken;
use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Client, StatusCode, Url};

/// A token answer larger than this is refused (tokens are a few kB).
const MAX_TOKEN_ANSWER_BYTES: u64 = 1024 * 1024;

/// What the registry's requests carry.
pub enum Authorization {
    Anonymous,
    Basic(String, String),
    Bearer(String),
}

impl Authorization {
    /// The same, as oci-client takes it (for pushes).
    pub fn to_client(&self) -> RegistryAuth {
        match self {
            Self::Anonymous => RegistryAuth::Anonymous,
            Self::Basic(user, password) => RegistryAuth::Basic(user.clone(), password.clone()),
            Self::Bearer(token) => RegistryAuth::Bearer(token.clone()),
        }
    }

    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Self::Anonymous => request,
            Self::Basic(user, password) => request.basic_auth(user, Some(password)),
            Self::Bearer(token) => request.bearer_auth(token),
        }
    }
}

/// The registry and what the token is for.
pub struct Target<'a> {
    /// `http(s)://host[:port]`
    pub base: &'a Url,
    pub repository: &'a str,
    pub push: bool,
    pub plain_http: bool,
    /// A token service on another host that the user trusts with the password
    /// (`host[:port]`, from `MESH_LAMBDA_REGISTRY_TOKEN_SERVICE`): Docker Hub's is
    /// `auth.docker.io`.
    pub trusted_token_service: Option<&'a str>,
}

pub async fn authorize(
    client: &Client,
    target: &Target<'_>,
    credentials: &RegistryAuth,
) -> Result<Authorization, Problem> {
    let (user, password) = match credentials {
        // An identity token is sent to the registry as it is.
        RegistryAuth::Bearer(token) => return Ok(Authorization::Bearer(token.clone())),
        RegistryAuth::Basic(user, password) => (Some(user), Some(password)),
        RegistryAuth::Anonymous => (None, None),
    };
    let version = target
        .base
        .join("/v2/")
        .map_err(|e| Problem::Other(e.to_string()))?;
    let answer = client.get(version).send().await?;
    if answer.status() != StatusCode::UNAUTHORIZED {
        return Ok(Authorization::Anonymous);
    }
    let challenge = answer
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(bearer_challenge);
    let Some((realm, service)) = challenge else {
        return Ok(match (user, password) {
            (Some(user), Some(password)) => Authorization::Basic(user.clone(), password.clone()),
            _ => Authorization::Anonymous,
        });
    };
    let mut realm = Url::parse(&realm).map_err(|e| {
        Problem::Other(format!(
            "the registry's token realm \"{realm}\" is not a URL: {e}"
        ))
    })?;
    realm_is_allowed(&realm, target, user.is_some()).map_err(Problem::Refused)?;
    let scope = format!(
        "repository:{}:{}",
        target.repository,
        if target.push { "pull,push" } else { "pull" }
    );
    {
        let mut query = realm.query_pairs_mut();
        query.append_pair("scope", &scope);
        if let Some(service) = &service {
            query.append_pair("service", service);
        }
    }
    let mut request = client.get(realm);
    if let (Some(user), Some(password)) = (user, password) {
        request = request.basic_auth(user, Some(password));
    }
    let mut answer = request.send().await?;
    let status = answer.status();
    if !status.is_success() {
        return Err(Problem::Status(status.as_u16()));
    }
    let body = read_capped(&mut answer, MAX_TOKEN_ANSWER_BYTES, "the token answer").await?;
    let token: RegistryToken = serde_json::from_slice(&body)
        .map_err(|e| Problem::Other(format!("the token answer is not a token: {e}")))?;
    Ok(Authorization::Bearer(token.token().to_owned()))
}

/// The realm and service of the first Bearer challenge in a `WWW-Authenticate` value.
fn bearer_challenge(value: &HeaderValue) -> Option<(String, Option<String>)> {
    let text = value.to_str().ok()?;
    http_auth::parser::ChallengeParser::new(text)
        .filter_map(Result::ok)
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case("Bearer"))
        .and_then(|challenge| {
            let param = |name: &str| {
                challenge
                    .params
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.to_unescaped())
            };
            Some((param("realm")?, param("service")))
        })
}

/// Where a token request may go: over https (http only with `--plain-http`), and, when it
/// carries a password, only to the registry's own host and port. The password was given for
/// that registry (docker's config keys credentials by registry host); a realm elsewhere would
/// receive it for a host it was never given for.
pub fn realm_is_allowed(realm: &Url, target: &Target, with_password: bool) -> Result<(), String> {
    let registry = authority(target.base);
    let origin = |url: &Url| {
        (
            url.host_str().map(str::to_ascii_lowercase),
            url.port_or_known_default(),
        )
    };
    if realm.scheme() != "https" && !(realm.scheme() == "http" && target.plain_http) {
        return Err(format!(
            "the registry {registry} sends token requests to {realm}, which is not https; \
             refusing (only --plain-http allows a plain-http token service)"
        ));
    }
    let trusted = target
        .trusted_token_service
        .is_some_and(|t| t.eq_ignore_ascii_case(&authority(realm)));
    if with_password && origin(realm) != origin(target.base) && !trusted {
        return Err(format!(
            "the registry {registry} sends token requests to {}, another host; the password \
             given for {registry} is not sent there (set {TOKEN_SERVICE_VARIABLE}={} to trust it)",
            authority(realm),
            authority(realm)
        ));
    }
    Ok(())
}

/// `host[:port]` as the URL names it.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn check(base: &str, realm: &str, plain_http: bool, with_password: bool) -> Result<(), String> {
        let base = Url::parse(base).unwrap();
        let target = Target {
            base: &base,
            repository: "r",
            push: false,
            plain_http,
            trusted_token_service: None,
        };
        realm_is_allowed(&Url::parse(realm).unwrap(), &target, with_password)
    }

    /// Docker Hub's token service is on another host (`auth.docker.io`): the password goes
    /// there only when the user names that host, and never to a third one.
    #[test]
    fn a_named_token_service_on_another_host_is_trusted() {
        let base = Url::parse("https://registry-1.docker.io").unwrap();
        let target = Target {
            base: &base,
            repository: "r",
            push: true,
            plain_http: false,
            trusted_token_service: Some("auth.docker.io"),
        };
        let realm = |r: &str| realm_is_allowed(&Url::parse(r).unwrap(), &target, true);
        assert!(realm("https://auth.docker.io/token").is_ok());
        assert!(realm("https://AUTH.docker.io:443/token").is_ok());
        assert!(realm("https://evil.example.com/token").is_err());
        assert!(realm("https://auth.docker.io:8443/token").is_err());
        assert!(realm("http://auth.docker.io/token").is_err());
    }

    #[test]
    fn a_password_goes_only_to_the_registry_itself_over_https() {
        assert!(check(
            "https://reg.example.com",
            "https://reg.example.com/token",
            false,
            true
        )
        .is_ok());
        assert!(check(
            "https://reg.example.com:443",
            "https://REG.example.com/t",
            false,
            true
        )
        .is_ok());
        let elsewhere = check(
            "https://reg.example.com",
            "https://auth.example.com/t",
            false,
            true,
        );
        assert!(elsewhere.unwrap_err().contains("another host"));
        assert!(check(
            "https://reg.example.com",
            "https://reg.example.com:8443/t",
            false,
            true
        )
        .is_err());
        // Anonymous token requests may go to another host.
        assert!(check(
            "https://reg.example.com",
            "https://auth.example.com/t",
            false,
            false
        )
        .is_ok());
    }

    #[test]
    fn a_plain_http_realm_needs_plain_http() {
        let error = check(
            "https://reg.example.com",
            "http://reg.example.com/t",
            false,
            true,
        );
        assert!(error.unwrap_err().contains("not https"));
        assert!(check(
            "https://reg.example.com",
            "http://reg.example.com/t",
            false,
            false
        )
        .is_err());
        assert!(check(
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5000/t",
            true,
            true
        )
        .is_ok());
        assert!(check(
            "http://127.0.0.1:5000",
            "ftp://127.0.0.1:5000/t",
            true,
            true
        )
        .is_err());
    }

    #[test]
    fn the_bearer_challenge_is_read() {
        let value = HeaderValue::from_static(
            r#"Basic realm="x", Bearer realm="https://auth.example.com/token",service="reg""#,
        );
        assert_eq!(
            bearer_challenge(&value),
            Some(("https://auth.example.com/token".into(), Some("reg".into())))
        );
        assert_eq!(
            bearer_challenge(&HeaderValue::from_static(r#"Basic realm="x""#)),
            None
        );
    }
}
