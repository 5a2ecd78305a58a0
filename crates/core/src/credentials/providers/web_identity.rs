//! `web_identity` (IRSA on EKS): the pod's projected service-account token, exchanged with STS
//! `AssumeRoleWithWebIdentity` for the credentials of `AWS_ROLE_ARN`. The VM cannot read the
//! token's file (`AWS_WEB_IDENTITY_TOKEN_FILE`), so each fetch first asks Envoy for its current
//! contents (`credentials::files`: the kubelet rotates the token), then makes the STS call.
//! The call is not signed: the token is the proof (STS API reference,
//! AssumeRoleWithWebIdentity: "Calling AssumeRoleWithWebIdentity does not require the use of
//! AWS security credentials"). Its answer is read by the same strict reader as `AssumeRole`'s.

use super::assume_role::CONTENT_TYPE;
use super::{CredentialProvider, ProviderStep, NO_FETCH_UNDER_WAY};
use crate::arn::partition_of_region;
use crate::credentials::chain::{Callout, ChainSettings, DEFAULT_STS_CLUSTER};
use crate::credentials::environment::ProxyEnvironment;
use crate::credentials::files::{self, WatchedFile};
use crate::credentials::sts_answer::parse_sts_answer;
use crate::sigv4::encode::uri_encode;

const ACTION: &str = "AssumeRoleWithWebIdentity";
const STS_VERSION: &str = "2011-06-15";
/// STS's global endpoint: where a call goes with no region, or with
/// `AWS_STS_REGIONAL_ENDPOINTS=legacy` in the `aws` partition.
const GLOBAL_STS_HOST: &str = "sts.amazonaws.com";

pub struct WebIdentity {
    files_cluster: String,
    /// What the environment gives, checked once; `Err` is why this source cannot be used.
    setup: Result<Setup, String>,
    phase: Phase,
}

struct Setup {
    role_arn: String,
    /// `AWS_ROLE_SESSION_NAME`; without it one is made per fetch.
    session_name: Option<String>,
    sts_host: String,
}

enum Phase {
    Idle,
    /// Asking Envoy for the token.
    Token,
    /// The STS call is out with this token (never repeated in a reason).
    Sts(String),
}

impl WebIdentity {
    pub fn new(settings: &ChainSettings, env: &ProxyEnvironment) -> Self {
        Self {
            files_cluster: settings.files_cluster.clone(),
            setup: setup(env),
            phase: Phase::Idle,
        }
    }

    fn sts_call(&self, setup: &Setup, token: &str, now: u64) -> Callout {
        let session_name = match &setup.session_name {
            Some(name) => name.clone(),
            None => format!("mesh-lambda-{now}"),
        };
        let body = format!(
            "Action={ACTION}&Version={STS_VERSION}&RoleArn={}&RoleSessionName={}&WebIdentityToken={}",
            uri_encode(&setup.role_arn),
            uri_encode(&session_name),
            uri_encode(token),
        )
        .into_bytes();
        Callout {
            cluster: DEFAULT_STS_CLUSTER.to_owned(),
            method: "POST",
            path: "/".into(),
            authority: setup.sts_host.clone(),
            headers: vec![
                ("content-type", CONTENT_TYPE.to_owned()),
                ("content-length", body.len().to_string()),
                ("accept", "text/xml".to_owned()),
            ],
            body,
        }
    }
}

/// The role, the session name and STS's host from the environment, or why they cannot be
/// used.
fn setup(env: &ProxyEnvironment) -> Result<Setup, String> {
    let (Some(_), Some(role_arn)) = (&env.web_identity_token_file, &env.role_arn) else {
        return Err(match (&env.web_identity_token_file, &env.role_arn) {
            (None, None) => "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set".into(),
            (None, _) => "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not".into(),
            _ => "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".into(),
        });
    };
    let role_arn = role_arn.trim();
    // arn:<partition>:iam::<account>:role/<path/name>
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let is_role = matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()))
        && role_arn.bytes().all(|b| b.is_ascii_graphic());
    if !is_role {
        return Err(
            "AWS_ROLE_ARN is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)".into(),
        );
    }
    let session_name = match &env.role_session_name {
        None => None,
        // STS's RoleSessionName: 2 to 64 of [\w+=,.@-] (AssumeRoleWithWebIdentity API reference).
        Some(name)
            if (2..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)) =>
        {
            Some(name.clone())
        }
        Some(_) => {
            return Err(
                "AWS_ROLE_SESSION_NAME is not a session name STS accepts (2 to 64 of letters, \
                 digits and _+=,.@-)"
                    .into(),
            )
        }
    };
    Ok(Setup {
        role_arn: role_arn.to_owned(),
        session_name,
        sts_host: sts_host(env)?,
    })
}

/// STS in `AWS_REGION` (regional endpoints, the SDKs' default), the global endpoint with no
/// region, or with `AWS_STS_REGIONAL_ENDPOINTS=legacy` in the `aws` partition.
fn sts_host(env: &ProxyEnvironment) -> Result<String, String> {
    let legacy = match env.sts_regional_endpoints.as_deref().map(str::trim) {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("regional") => false,
        Some(v) if v.eq_ignore_ascii_case("legacy") => true,
        Some(_) => return Err("AWS_STS_REGIONAL_ENDPOINTS is neither regional nor legacy".into()),
    };
    let Some(region) = env.region.as_deref().map(str::trim) else {
        return Ok(GLOBAL_STS_HOST.into());
    };
    let Some(partition) = partition_of_region(region) else {
        return Err("AWS_REGION (or AWS_DEFAULT_REGION) is not a region name".into());
    };
    Ok(if legacy && partition.id == "aws" {
        GLOBAL_STS_HOST.into()
    } else {
        partition.endpoint("sts", region)
    })
}

impl CredentialProvider for WebIdentity {
    fn start(&mut self, _now: u64) -> ProviderStep {
        match &self.setup {
            Ok(_) => {
                self.phase = Phase::Token;
                ProviderStep::Call(files::request(
                    &self.files_cluster,
                    WatchedFile::WebIdentityToken,
                ))
            }
            Err(reason) => ProviderStep::Failed(reason.clone()),
        }
    }

    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        let Ok(setup) = &self.setup else {
            return ProviderStep::Failed(NO_FETCH_UNDER_WAY.into());
        };
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Token => {
                let file = WatchedFile::WebIdentityToken;
                let token = files::token_answer(file, &self.files_cluster, status, body);
                match token {
                    Ok(token) => {
                        let call = self.sts_call(setup, &token, now);
                        self.phase = Phase::Sts(token);
                        ProviderStep::Call(call)
                    }
                    Err(reason) => ProviderStep::Failed(reason),
                }
            }
            Phase::Sts(token) => {
                match parse_sts_answer(ACTION, status, body, now, &[token.as_str()]) {
                    Ok(credentials) => ProviderStep::Done(credentials),
                    Err(reason) => {
                        ProviderStep::Failed(format!("{reason} (role {})", setup.role_arn))
                    }
                }
            }
            Phase::Idle => ProviderStep::Failed(NO_FETCH_UNDER_WAY.into()),
        }
    }

    fn on_failure(&mut self, reason: &str, _now: u64) -> ProviderStep {
        let host = self.setup.as_ref().map_or("", |s| s.sts_host.as_str());
        ProviderStep::Failed(match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Token => files::no_answer(&self.files_cluster, reason),
            Phase::Sts(_) => {
                format!("no answer from STS ({host}, cluster \"{DEFAULT_STS_CLUSTER}\"): {reason}")
            }
            Phase::Idle => reason.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
