//! `assume_role`: credentials of a role (often in the functions' account, not the mesh's),
//! assumed through STS with the credentials of the configured providers. A fetch runs the
//! base chain to its end, then makes one `AssumeRole` call (STS's Query API: a form POST
//! signed with SigV4 for `sts`, by `sigv4::form_post`), and its answer's credentials are the
//! fetch's result. They
//! then go the way of any provider's: shared, refreshed ahead of `Expiration`.

use super::{CredentialProvider, ProviderStep, NO_FETCH_UNDER_WAY};
use crate::access_keys::Credentials;
use crate::credentials::chain::{AssumeRoleSettings, Callout, CredentialChain, Step};
use crate::credentials::sts_answer::parse_assume_role_answer;
use crate::sigv4::encode::uri_encode;
use crate::sigv4::form_post::sign_form_post;
use crate::sigv4::ClockOutOfRange;

pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
const STS_VERSION: &str = "2011-06-15";

pub struct AssumeRole {
    settings: AssumeRoleSettings,
    /// The configured providers, walked for the credentials that sign the STS call.
    base: CredentialChain,
    /// The call the fetch is at.
    phase: Phase,
}

enum Phase {
    Idle,
    /// A callout of the base chain is out.
    Base,
    /// The STS call is out, signed with these base credentials (kept so STS's message cannot
    /// repeat their secret or token).
    Sts(Credentials),
}

impl AssumeRole {
    pub fn new(settings: AssumeRoleSettings, base: CredentialChain) -> Self {
        Self {
            settings,
            base,
            phase: Phase::Idle,
        }
    }

    /// Follows the base chain: its callouts go out as they are; its credentials start the
    /// STS call.
    fn after_base(&mut self, step: Step, now: u64) -> ProviderStep {
        match step {
            Step::Call(callout) => {
                self.phase = Phase::Base;
                ProviderStep::Call(callout)
            }
            Step::Done(_, base) => match sts_callout(&self.settings, &base, now) {
                Ok(callout) => {
                    self.phase = Phase::Sts(base);
                    ProviderStep::Call(callout)
                }
                Err(refused) => {
                    self.phase = Phase::Idle;
                    ProviderStep::Failed(format!("cannot sign the STS call: {refused}"))
                }
            },
            Step::Failed(reason) => {
                self.phase = Phase::Idle;
                ProviderStep::Failed(reason)
            }
        }
    }
}

impl CredentialProvider for AssumeRole {
    fn start(&mut self, now: u64) -> ProviderStep {
        let step = self.base.start(now);
        self.after_base(step, now)
    }

    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Base => {
                let step = self.base.on_response(status, body, now);
                self.after_base(step, now)
            }
            Phase::Sts(base) => {
                let hidden = [
                    base.secret_access_key.as_str(),
                    base.session_token.as_deref().unwrap_or(""),
                ];
                match parse_assume_role_answer(status, body, now, &hidden) {
                    Ok(credentials) => ProviderStep::Done(credentials),
                    Err(reason) => ProviderStep::Failed(reason),
                }
            }
            Phase::Idle => ProviderStep::Failed(NO_FETCH_UNDER_WAY.into()),
        }
    }

    fn on_failure(&mut self, reason: &str, now: u64) -> ProviderStep {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Base => {
                let step = self.base.on_failure(reason, now);
                self.after_base(step, now)
            }
            Phase::Sts(_) => ProviderStep::Failed(format!(
                "no answer from STS ({}, cluster \"{}\"): {reason}",
                self.settings.sts_host, self.settings.sts_cluster
            )),
            Phase::Idle => ProviderStep::Failed(reason.to_owned()),
        }
    }
}

/// The form body of the call.
pub fn form_body(settings: &AssumeRoleSettings) -> String {
    let mut body = format!(
        "Action=AssumeRole&Version={STS_VERSION}&RoleArn={}&RoleSessionName={}&DurationSeconds={}",
        uri_encode(&settings.role_arn),
        uri_encode(&settings.session_name),
        settings.duration_seconds
    );
    if let Some(external_id) = &settings.external_id {
        body.push_str("&ExternalId=");
        body.push_str(&uri_encode(external_id));
    }
    body
}

/// The `AssumeRole` call, signed at `now` with the base credentials (refused past the year
/// 9999).
pub fn sts_callout(
    settings: &AssumeRoleSettings,
    base: &Credentials,
    now: u64,
) -> Result<Callout, ClockOutOfRange> {
    let body = form_body(settings).into_bytes();
    let signed = sign_form_post(
        base,
        &settings.region,
        "sts",
        &settings.sts_host,
        CONTENT_TYPE,
        &body,
        now,
    )?;
    let mut headers = vec![
        ("content-type", CONTENT_TYPE.to_owned()),
        ("content-length", body.len().to_string()),
        ("accept", "text/xml".to_owned()),
    ];
    headers.extend(signed.headers);
    headers.push(("authorization", signed.authorization));
    Ok(Callout {
        cluster: settings.sts_cluster.clone(),
        method: "POST",
        path: "/".into(),
        authority: settings.sts_host.clone(),
        headers,
        body,
    })
}

#[cfg(test)]
mod tests;
