//! Static keys (and a session token) from a profile of the shared credentials file
//! (`AWS_SHARED_CREDENTIALS_FILE`), which the VM cannot read: Envoy serves its current text
//! (`crate::credentials::files`), one loopback GET at each fetch, and `profile_file` reads it.
//!
//! The profile is `credentials.profile`, else `AWS_PROFILE`, else `default`, as the native
//! filter's `credentials_profile` and the SDKs choose it.
//!
//! Keys from the file do not expire, but the file may change (a rotated Kubernetes secret),
//! and the shared record never refetches credentials without an expiry. So they are handed
//! out as expiring `hold_seconds` after the read: the re-read interval plus the refresh
//! margin (`ChainSettings::credentials_file_hold_seconds`), which plans the next fetch one
//! interval after this one and leaves the keys in use for the margin should that re-read
//! fail. Envoy's native provider re-reads its file when an hour has passed (its
//! `REFRESH_INTERVAL`), or at every use when its data source is a watched directory
//! (`CredentialsFileCredentialsProvider::needsRefresh`).

use super::{CredentialProvider, ProviderStep};
use crate::credentials::chain::ChainSettings;
use crate::credentials::environment::ProxyEnvironment;
use crate::credentials::files::{self, WatchedFile};
use crate::credentials::profile_file::read_profile;

const FILE: WatchedFile = WatchedFile::AwsCredentials;

pub struct CredentialsFile {
    cluster: String,
    profile: String,
    hold_seconds: u64,
    /// Why the default chain does not ask: nothing points at a credentials file.
    absent: Option<&'static str>,
}

/// The default chain's reason to skip the file. The SDKs look for `~/.aws/credentials`; a
/// sidecar rarely has one, and the filter can only ask the files listener, so the default
/// chain asks when a variable or the setting says there is a file.
const NOTHING_POINTS_AT_A_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE and \
     credentials.profile not set (name credentials_file in providers to read the file anyway)";

impl CredentialsFile {
    pub fn new(settings: &ChainSettings, env: &ProxyEnvironment) -> Self {
        let profile = settings.profile.as_ref().or(env.profile.as_ref());
        Self {
            cluster: settings.files_cluster.clone(),
            // Trimmed as the reader trims section names.
            profile: profile.map_or("default", |p| p.trim()).to_owned(),
            hold_seconds: settings.credentials_file_hold_seconds,
            absent: (!settings.providers_given
                && profile.is_none()
                && env.shared_credentials_file.is_none())
            .then_some(NOTHING_POINTS_AT_A_FILE),
        }
    }
}

impl CredentialProvider for CredentialsFile {
    fn start(&mut self, _now: u64) -> ProviderStep {
        if let Some(reason) = self.absent {
            return ProviderStep::Failed(reason.to_owned());
        }
        ProviderStep::Call(files::request(&self.cluster, FILE))
    }

    fn on_response(&mut self, status: u32, body: &[u8], now: u64) -> ProviderStep {
        let read = files::contents(FILE, &self.cluster, status, body)
            .and_then(|text| read_profile(&text, &self.profile));
        match read {
            Ok(mut credentials) => {
                credentials.expires_at = Some(now.saturating_add(self.hold_seconds));
                ProviderStep::Done(credentials)
            }
            Err(reason) => ProviderStep::Failed(reason),
        }
    }
}

#[cfg(test)]
mod tests;
