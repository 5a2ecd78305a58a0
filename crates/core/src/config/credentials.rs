//! The `credentials` block: which providers, through which clusters, refreshed when.

use super::fields::{Choice, Fields};
use super::ConfigError;
use crate::arn::FunctionArn;
use crate::credentials::chain::{
    ChainSettings, Provider, DEFAULT_CREDENTIALS_FILE_REFRESH_SECONDS,
};

/// The `credentials` block: which providers, through which clusters, refreshed when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSettings {
    pub chain: ChainSettings,
    /// Refresh this long before the credentials expire.
    pub refresh_margin_seconds: u64,
    /// How long a request waits for credentials that are being fetched.
    pub max_wait_ms: u64,
    /// Timeout of each metadata callout.
    pub fetch_timeout_ms: u64,
}

impl Default for CredentialSettings {
    fn default() -> Self {
        Self {
            chain: ChainSettings::default(),
            refresh_margin_seconds: 300,
            max_wait_ms: 5000,
            fetch_timeout_ms: 2000,
        }
    }
}

impl Choice for Provider {
    const WHAT: &'static str = "provider";
    fn names() -> Vec<&'static str> {
        Provider::ALL.iter().map(|p| p.name()).collect()
    }
    fn from_name(name: &str) -> Option<Self> {
        Provider::parse(name)
    }
}

/// Reads the block (`fields` is its reader); what is not given keeps its default.
/// `function` is the function's ARN (STS's default endpoint is in its region).
pub(super) fn read(
    mut fields: Fields<'_>,
    function: &FunctionArn,
) -> Result<CredentialSettings, ConfigError> {
    // As at the top level: every read, then `finish`, then the values in field order.
    let provider = fields.one_of::<Provider>("provider");
    let providers = fields.list_of::<Provider>("providers");
    let container_cluster = fields.string("container_cluster");
    let instance_metadata_cluster = fields.string("instance_metadata_cluster");
    let files_cluster = fields.string("files_cluster");
    let profile = fields.string("profile");
    let refresh_margin_seconds = fields.whole_number("refresh_margin_seconds", 1..=43_200);
    let credentials_file_refresh_seconds =
        fields.whole_number("credentials_file_refresh_seconds", 10..=86_400);
    let max_wait_ms = fields.whole_number("max_wait_ms", 1..=600_000);
    let fetch_timeout_ms = fields.whole_number("fetch_timeout_ms", 1..=60_000);
    let imds_token_ttl_seconds = fields.whole_number("imds_token_ttl_seconds", 1..=21_600);
    let assume_role = fields.object("assume_role");
    fields.finish()?;

    let mut settings = CredentialSettings::default();
    // Both given is the first thing wrong, whatever their values.
    if !matches!(provider, Ok(None)) && !matches!(providers, Ok(None)) {
        return Err(fields.error(
            "provider",
            "give either provider (one source) or providers (a list), not both",
        ));
    }
    if let Some(one) = provider? {
        settings.chain.providers = vec![one];
        settings.chain.providers_given = true;
    }
    if let Some(list) = providers? {
        settings.chain.providers = list;
        settings.chain.providers_given = true;
    }
    for (name, read, target) in [
        (
            "container_cluster",
            container_cluster,
            &mut settings.chain.container_cluster,
        ),
        (
            "instance_metadata_cluster",
            instance_metadata_cluster,
            &mut settings.chain.instance_metadata_cluster,
        ),
        (
            "files_cluster",
            files_cluster,
            &mut settings.chain.files_cluster,
        ),
    ] {
        if let Some(cluster) = read? {
            if cluster.trim().is_empty() {
                return Err(fields.error(name, "must not be empty"));
            }
            cluster.clone_into(target);
        }
    }
    for (read, target) in [
        (refresh_margin_seconds, &mut settings.refresh_margin_seconds),
        (max_wait_ms, &mut settings.max_wait_ms),
        (fetch_timeout_ms, &mut settings.fetch_timeout_ms),
        (
            imds_token_ttl_seconds,
            &mut settings.chain.imds_token_ttl_seconds,
        ),
    ] {
        if let Some(n) = read? {
            *target = n;
        }
    }
    // Keys from the file are held for the interval plus the margin: their refresh, planned
    // the margin before that, comes when the interval has passed (providers/credentials_file).
    settings.chain.credentials_file_hold_seconds = credentials_file_refresh_seconds?
        .unwrap_or(DEFAULT_CREDENTIALS_FILE_REFRESH_SECONDS)
        + settings.refresh_margin_seconds;
    if let Some(name) = profile? {
        if name.trim().is_empty() || name.contains(|c: char| c.is_control() || c == ']') {
            return Err(fields.error(
                "profile",
                "must be a profile name (not empty, no control character or ']')",
            ));
        }
        settings.chain.profile = Some(name.to_owned());
    }
    if let Some(block) = assume_role? {
        settings.chain.assume_role = Some(super::assume_role::read(block, function)?);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{err, parse, ARN};

    #[test]
    fn credentials_block() {
        let c = parse(&format!(r#"{{"arn":"{ARN}"}}"#)).unwrap().credentials;
        assert_eq!(c, CredentialSettings::default());
        assert_eq!(c.chain.providers, Provider::ALL.to_vec());
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"provider":"instance_metadata",
                "instance_metadata_cluster":"imds","refresh_margin_seconds":60,"max_wait_ms":250,
                "fetch_timeout_ms":900,"imds_token_ttl_seconds":120,"files_cluster":"files"}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(c.chain.providers, vec![Provider::InstanceMetadata]);
        assert_eq!(c.chain.instance_metadata_cluster, "imds");
        assert_eq!(c.chain.files_cluster, "files");
        assert_eq!(
            (
                c.refresh_margin_seconds,
                c.max_wait_ms,
                c.fetch_timeout_ms,
                c.chain.imds_token_ttl_seconds
            ),
            (60, 250, 900, 120)
        );
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"providers":["container","environment"]}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(
            c.chain.providers,
            vec![Provider::Container, Provider::Environment]
        );
    }

    /// `credentials_file` is in the default chain (asked only when something points at the
    /// file: the provider's tests) or named; its keys are held for the re-read interval plus
    /// the refresh margin.
    #[test]
    fn credentials_file_block() {
        let c = parse(&format!(r#"{{"arn":"{ARN}"}}"#)).unwrap().credentials;
        assert!(c.chain.providers.contains(&Provider::CredentialsFile));
        assert!(!c.chain.providers_given);
        assert_eq!(c.chain.credentials_file_hold_seconds, 300 + 300);
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"provider":"credentials_file","profile":"dev",
                "credentials_file_refresh_seconds":10,"refresh_margin_seconds":60}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(c.chain.providers, vec![Provider::CredentialsFile]);
        assert!(c.chain.providers_given);
        assert_eq!(c.chain.profile.as_deref(), Some("dev"));
        assert_eq!(c.chain.credentials_file_hold_seconds, 70);
        for bad in ["9", "86401", "\"10\""] {
            let msg = err(&format!(
                r#"{{"arn":"{ARN}","credentials":{{"credentials_file_refresh_seconds":{bad}}}}}"#
            ));
            assert!(
                msg.contains("credentials.credentials_file_refresh_seconds:"),
                "{msg}"
            );
        }
    }

    #[test]
    fn credentials_errors() {
        let cases: &[(&str, &[&str])] = &[
            (r#""credentials":5"#, &["credentials:", "5"]),
            (
                r#""credentials":{"provider":"file"}"#,
                &["credentials.provider:", "\"file\""],
            ),
            (
                r#""credentials":{"providers":[]}"#,
                &["credentials.providers:", "[]"],
            ),
            (
                r#""credentials":{"providers":["container","container"]}"#,
                &["twice"],
            ),
            (
                r#""credentials":{"provider":"container","providers":["container"]}"#,
                &["not both"],
            ),
            (
                r#""credentials":{"max_wait_ms":0}"#,
                &["credentials.max_wait_ms:", "0"],
            ),
            (
                r#""credentials":{"container_cluster":7}"#,
                &["credentials.container_cluster:", "7"],
            ),
            (
                r#""credentials":{"secret":"x"}"#,
                &["credentials.secret:", "unknown field"],
            ),
        ];
        for (fields, needles) in cases {
            let msg = err(&format!(r#"{{"arn":"{ARN}",{fields}}}"#));
            for n in *needles {
                assert!(msg.contains(n), "{fields}: {msg:?} lacks {n:?}");
            }
        }
    }

    #[test]
    fn credential_errors_in_field_order() {
        let cases = [
            (
                r#"{"provider":"file","providers":["container"]}"#,
                "credentials.provider: give either provider (one source) or providers (a list), not both",
            ),
            (
                r#"{"provider":"file"}"#,
                r#"credentials.provider: unknown provider "file", expected one of environment, web_identity, credentials_file, container, instance_metadata"#,
            ),
            (
                r#"{"providers":["container",5]}"#,
                "credentials.providers: unknown provider 5, expected one of environment, web_identity, credentials_file, container, instance_metadata",
            ),
            (
                r#"{"providers":"container"}"#,
                r#"credentials.providers: expected a non-empty list of provider names, got "container""#,
            ),
            (
                r#"{"providers":["container","container"]}"#,
                r#"credentials.providers: "container" is listed twice"#,
            ),
            (
                r#"{"container_cluster":" ","max_wait_ms":0}"#,
                "credentials.container_cluster: must not be empty",
            ),
            (
                r#"{"max_wait_ms":0,"typo":1}"#,
                r#"credentials.typo: unknown field "typo", expected one of provider, providers, container_cluster, instance_metadata_cluster, files_cluster, profile, refresh_margin_seconds, credentials_file_refresh_seconds, max_wait_ms, fetch_timeout_ms, imds_token_ttl_seconds, assume_role"#,
            ),
            // Found by fuzzing (`plugin_config`): the name of an unknown field went into the
            // path as it was, line break and all.
            (
                "{\"ty\\npo\":1}",
                r#"credentials."ty\npo": unknown field "ty\npo", expected one of provider, providers, container_cluster, instance_metadata_cluster, files_cluster, profile, refresh_margin_seconds, credentials_file_refresh_seconds, max_wait_ms, fetch_timeout_ms, imds_token_ttl_seconds, assume_role"#,
            ),
            (
                r#"{"imds_token_ttl_seconds":21601}"#,
                "credentials.imds_token_ttl_seconds: expected a whole number from 1 to 21600, got 21601",
            ),
        ];
        for (block, message) in cases {
            assert_eq!(
                err(&format!(r#"{{"arn":"{ARN}","credentials":{block}}}"#)),
                format!("invalid configuration: {message}")
            );
        }
    }

    #[test]
    fn null_is_not_given() {
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"provider":null,"providers":null,
                "container_cluster":null,"instance_metadata_cluster":null,
                "refresh_margin_seconds":null,"max_wait_ms":null,"fetch_timeout_ms":null,
                "imds_token_ttl_seconds":null}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(c, CredentialSettings::default());
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"provider":null,"providers":["container"]}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(c.chain.providers, vec![Provider::Container]);
    }
}
