//! Registry credentials, looked up in this order:
//! 1. `MESH_LAMBDA_REGISTRY_USERNAME` and `MESH_LAMBDA_REGISTRY_PASSWORD`, for the registry
//!    `MESH_LAMBDA_REGISTRY_HOST` names (required with them: credentials belong to one
//!    registry, as a docker config keys them by host);
//! 2. `REGISTRY_AUTH_FILE` (the containers/podman/skopeo auth file), when set, then the docker
//!    config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`); in a file:
//!    `credHelpers[host]`, then the `auths` entry for the host (keys may carry a scheme, e.g.
//!    `https://host`): its `auth` (base64 user:password), `username`/`password` or
//!    `identitytoken`, then `credsStore`. A helper is `docker-credential-<name> get` with the
//!    host on standard input;
//! 3. none: anonymous.
//!
//! Credentials found for a host are only ever sent to that host (see `authorize` for token
//! services). Secrets never appear in a message: only where the credentials came from does.

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const USERNAME_VARIABLE: &str = "MESH_LAMBDA_REGISTRY_USERNAME";
pub const PASSWORD_VARIABLE: &str = "MESH_LAMBDA_REGISTRY_PASSWORD";
pub const HOST_VARIABLE: &str = "MESH_LAMBDA_REGISTRY_HOST";
/// A token service on another host than the registry that may receive the password.
pub const TOKEN_SERVICE_VARIABLE: &str = "MESH_LAMBDA_REGISTRY_TOKEN_SERVICE";

/// Credentials and where they came from (for messages).
pub struct Credentials {
    pub auth: RegistryAuth,
    pub source: String,
}

impl Credentials {
    fn anonymous() -> Self {
        Self {
            auth: RegistryAuth::Anonymous,
            source: "none found (anonymous)".into(),
        }
    }
}

/// What a config file says about a registry.
#[derive(Debug, PartialEq)]
pub enum Entry {
    Auth(Secret),
    Helper(String),
}

/// A secret found in a file or given by a helper; Debug never shows it.
#[derive(PartialEq)]
pub enum Secret {
    Basic(String, String),
    IdentityToken(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic(user, _) => write!(f, "Basic({user}, <redacted>)"),
            Self::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Secret {
    fn into_auth(self) -> RegistryAuth {
        match self {
            Self::Basic(user, password) => RegistryAuth::Basic(user, password),
            // Sent as the bearer token: oci-client has no refresh-token exchange.
            Self::IdentityToken(token) => RegistryAuth::Bearer(token),
        }
    }
}

/// The credentials for `registry` (`host[:port]`), from the process environment.
pub fn for_registry(registry: &str) -> Result<Credentials, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(user), Some(password)) = (var(USERNAME_VARIABLE), var(PASSWORD_VARIABLE)) {
        let Some(host) = var(HOST_VARIABLE) else {
            return Err(format!(
                "{USERNAME_VARIABLE} and {PASSWORD_VARIABLE} are set but {HOST_VARIABLE} is \
                 not; set it to the registry (host[:port]) they are for: they are sent to no \
                 other"
            ));
        };
        if key_host(&host).eq_ignore_ascii_case(key_host(registry)) {
            return Ok(Credentials {
                auth: RegistryAuth::Basic(user, password),
                source: format!("{USERNAME_VARIABLE}/{PASSWORD_VARIABLE}"),
            });
        }
    }
    let docker_config = match (var("DOCKER_CONFIG"), var("HOME")) {
        (Some(dir), _) => Some(PathBuf::from(dir).join("config.json")),
        (None, Some(home)) => Some(PathBuf::from(home).join(".docker").join("config.json")),
        (None, None) => None,
    };
    let files = var("REGISTRY_AUTH_FILE")
        .map(PathBuf::from)
        .into_iter()
        .chain(docker_config);
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let here = |e: String| format!("{}: {e}", file.display());
        match entry_for(&bytes, registry).map_err(here)? {
            Some(Entry::Auth(secret)) => {
                return Ok(Credentials {
                    auth: secret.into_auth(),
                    source: file.display().to_string(),
                })
            }
            Some(Entry::Helper(name)) => {
                let source = format!("docker-credential-{name} (named in {})", file.display());
                return Ok(
                    match run_helper(&name, registry).map_err(|e| format!("{source}: {e}"))? {
                        Some(secret) => Credentials {
                            auth: secret.into_auth(),
                            source,
                        },
                        None => Credentials::anonymous(),
                    },
                );
            }
            None => {}
        }
    }
    Ok(Credentials::anonymous())
}

/// The host a config key names: `https://host:port/v1/` and `host:port` both give
/// `host:port`. Docker Hub's keys and names are one registry.
fn key_host(key: &str) -> &str {
    let without_scheme = key.split_once("://").map_or(key, |(_, rest)| rest);
    let host = without_scheme.split('/').next().unwrap_or("");
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        other => other,
    }
}

/// What the config file `bytes` (docker's config.json or containers' auth.json) says about
/// `registry`.
pub fn entry_for(bytes: &[u8], registry: &str) -> Result<Option<Entry>, String> {
    let config: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let wanted = key_host(registry);
    let matching = |section: &str| {
        config
            .get(section)
            .and_then(Value::as_object)
            .and_then(|map| map.iter().find(|(key, _)| key_host(key) == wanted))
            .map(|(_, value)| value)
    };
    if let Some(helper) = matching("credHelpers").and_then(Value::as_str) {
        return Ok(Some(Entry::Helper(helper.into())));
    }
    if let Some(secret) = matching("auths").map(secret_of).transpose()?.flatten() {
        return Ok(Some(Entry::Auth(secret)));
    }
    Ok(config
        .get("credsStore")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|store| Entry::Helper(store.into())))
}

fn secret_of(entry: &Value) -> Result<Option<Secret>, String> {
    let text = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(token) = text("identitytoken") {
        return Ok(Some(Secret::IdentityToken(token.into())));
    }
    if let Some(encoded) = text("auth") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or("an auths entry's \"auth\" is not base64 of user:password")?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or("an auths entry's \"auth\" does not decode to user:password")?;
        return Ok(Some(Secret::Basic(user.into(), password.into())));
    }
    Ok(match (text("username"), text("password")) {
        (Some(user), Some(password)) => Some(Secret::Basic(user.into(), password.into())),
        _ => None,
    })
}

/// `docker-credential-<name> get` for `registry`; None when it has no credentials for it.
fn run_helper(name: &str, registry: &str) -> Result<Option<Secret>, String> {
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e} (is it on PATH?)"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(registry.as_bytes())
            .map_err(|e| format!("cannot write to {program}: {e}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{program} failed: {e}"))?;
    if !output.status.success() {
        // The helpers' protocol: this message on standard output means "no credentials".
        if String::from_utf8_lossy(&output.stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("{program} get failed ({})", output.status));
    }
    helper_answer(&output.stdout).map(Some).ok_or(format!(
        "{program} get did not answer {{\"Username\", \"Secret\"}}"
    ))
}

/// A helper's answer; the user name `<token>` marks an identity token.
fn helper_answer(stdout: &[u8]) -> Option<Secret> {
    let answer: Value = serde_json::from_slice(stdout).ok()?;
    let user = answer.get("Username")?.as_str()?;
    let secret = answer.get("Secret")?.as_str()?.to_owned();
    Some(if user == "<token>" {
        Secret::IdentityToken(secret)
    } else {
        Secret::Basic(user.into(), secret)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn basic(user: &str, password: &str) -> Option<Entry> {
        Some(Entry::Auth(Secret::Basic(user.into(), password.into())))
    }

    #[test]
    fn auths_match_the_host_with_or_without_a_scheme() {
        // "alice:s3cret"
        let file = br#"{"auths":{"https://reg.example.com:5000/v1/":{"auth":"YWxpY2U6czNjcmV0"},
            "other.example.com":{"username":"bob","password":"pw:with:colons"}}}"#;
        assert_eq!(
            entry_for(file, "reg.example.com:5000").unwrap(),
            basic("alice", "s3cret")
        );
        assert_eq!(
            entry_for(file, "other.example.com").unwrap(),
            basic("bob", "pw:with:colons")
        );
        assert_eq!(entry_for(file, "reg.example.com").unwrap(), None);
        assert_eq!(entry_for(file, "elsewhere.example.com").unwrap(), None);
    }

    #[test]
    fn an_identity_token_wins_over_a_password() {
        let file =
            br#"{"auths":{"reg.example.com":{"auth":"YWxpY2U6czNjcmV0","identitytoken":"tok"}}}"#;
        assert_eq!(
            entry_for(file, "reg.example.com").unwrap(),
            Some(Entry::Auth(Secret::IdentityToken("tok".into())))
        );
    }

    #[test]
    fn helpers_come_first_and_the_store_last() {
        let file = br#"{"auths":{"a.example.com":{"auth":"YWxpY2U6czNjcmV0"},"b.example.com":{}},
            "credHelpers":{"a.example.com":"ecr-login"},"credsStore":"desktop"}"#;
        assert_eq!(
            entry_for(file, "a.example.com").unwrap(),
            Some(Entry::Helper("ecr-login".into()))
        );
        assert_eq!(
            entry_for(file, "b.example.com").unwrap(),
            Some(Entry::Helper("desktop".into()))
        );
        assert_eq!(
            entry_for(br#"{"auths":{}}"#, "b.example.com").unwrap(),
            None
        );
    }

    #[test]
    fn docker_hub_names_match_each_other() {
        let file = br#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6czNjcmV0"}}}"#;
        assert_eq!(
            entry_for(file, "docker.io").unwrap(),
            basic("alice", "s3cret")
        );
    }

    #[test]
    fn bad_files_are_errors_that_do_not_show_the_secret() {
        assert!(entry_for(b"{", "a").unwrap_err().starts_with("not JSON"));
        let not_base64 = br#"{"auths":{"a.example.com":{"auth":"s3cret!!"}}}"#;
        let error = entry_for(not_base64, "a.example.com").unwrap_err();
        assert!(error.contains("not base64") && !error.contains("s3cret"));
        // "alice" without a colon
        let no_colon = br#"{"auths":{"a.example.com":{"auth":"YWxpY2U="}}}"#;
        assert!(entry_for(no_colon, "a.example.com")
            .unwrap_err()
            .contains("user:password"));
        assert!(!format!("{:?}", Secret::Basic("u".into(), "s3cret".into())).contains("s3cret"));
    }

    #[test]
    fn helper_answers_are_read() {
        assert_eq!(
            helper_answer(br#"{"ServerURL":"a","Username":"u","Secret":"p"}"#),
            Some(Secret::Basic("u".into(), "p".into()))
        );
        assert_eq!(
            helper_answer(br#"{"Username":"<token>","Secret":"t"}"#),
            Some(Secret::IdentityToken("t".into()))
        );
        assert_eq!(helper_answer(b"nope"), None);
    }
}
