//! What went wrong talking to a registry, from oci-client (pushes) or from this command's own
//! requests (pulls, tokens), and the one-line message that says what to do about it.

use super::auth::{self, Credentials};
use super::reference::ImageRef;
use oci_client::errors::{OciDistributionError, OciErrorCode};

pub const FETCHING_MANIFEST: &str = "fetching the manifest";

#[derive(Debug)]
pub enum Problem {
    /// No connection (refused, timed out, TLS not trusted): its innermost cause.
    Unreachable(String),
    /// The registry (or its token service) answered with this status.
    Status(u16),
    /// Refused here: the whole message, naming what was refused.
    Refused(String),
    Other(String),
}

impl From<reqwest::Error> for Problem {
    fn from(error: reqwest::Error) -> Self {
        if error.is_connect() || error.is_timeout() {
            Self::Unreachable(root_cause(&error))
        } else if let Some(status) = error.status() {
            Self::Status(status.as_u16())
        } else {
            Self::Other(root_cause(&error))
        }
    }
}

impl From<&OciDistributionError> for Problem {
    fn from(error: &OciDistributionError) -> Self {
        let status = match error {
            OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
                return Self::Unreachable(root_cause(e))
            }
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
            OciDistributionError::DigestError(e) => {
                return Self::Refused(format!(
                    "digest mismatch: {e}; the registry's copy is corrupt or was tampered \
                     with, do not use it"
                ))
            }
            _ => None,
        };
        match status {
            Some(status) => Self::Status(status),
            None => Self::Other(error.to_string()),
        }
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

pub fn explain(
    what: &str,
    reference: &ImageRef,
    credentials: &Credentials,
    problem: &Problem,
) -> String {
    let host = &reference.registry;
    match problem {
        Problem::Unreachable(cause) => format!(
            "cannot reach the registry {host} while {what}: {cause}; check the address and \
             that the registry runs (a registry without TLS needs --plain-http; one with a \
             private CA needs --ca-file)"
        ),
        Problem::Status(401 | 403) => format!(
            "the registry {host} refused the credentials (401 unauthorized; credentials: {}) \
             while {what}; check the user name and password, or set {}, {} and {}",
            credentials.source,
            auth::HOST_VARIABLE,
            auth::USERNAME_VARIABLE,
            auth::PASSWORD_VARIABLE
        ),
        Problem::Status(404) if what == FETCHING_MANIFEST => format!(
            "{reference}: no such image in the registry (manifest unknown); check the \
             repository and the tag or digest"
        ),
        Problem::Status(status) => {
            format!("{what} at {host} failed: the registry answered HTTP {status}")
        }
        Problem::Refused(why) => why.clone(),
        Problem::Other(why) => format!("{what} at {host} failed: {why}"),
    }
}
