use super::*;
use crate::credentials::files::DEFAULT_FILES_CLUSTER;
use crate::credentials::providers::tests::{call, done, failed, served, NOW};

const FILE_TEXT: &str = "[default]\naws_access_key_id = AKIADEFAULT\n\
    aws_secret_access_key = SECRET-default\n\n[dev]\naws_access_key_id = AKIADEV\n\
    aws_secret_access_key = SECRET-dev\naws_session_token = TOKEN-dev\n";

/// Named in `providers` (the default chain's own rule is tested below).
fn provider(profile: Option<&str>, aws_profile: Option<&str>) -> CredentialsFile {
    let settings = ChainSettings {
        profile: profile.map(str::to_owned),
        providers_given: true,
        ..ChainSettings::default()
    };
    let env = ProxyEnvironment {
        profile: aws_profile.map(str::to_owned),
        ..Default::default()
    };
    CredentialsFile::new(&settings, &env)
}

fn key_id(mut p: CredentialsFile) -> String {
    call(p.start(NOW));
    done(p.on_response(200, &served(FILE_TEXT), NOW)).access_key_id
}

#[test]
fn asks_the_files_listener_for_the_credentials_file() {
    let c = call(provider(None, None).start(NOW));
    assert_eq!(
        (c.cluster.as_str(), c.method, c.path.as_str()),
        (DEFAULT_FILES_CLUSTER, "GET", "/aws-credentials")
    );
    let settings = ChainSettings {
        files_cluster: "files".into(),
        providers_given: true,
        ..ChainSettings::default()
    };
    let mut p = CredentialsFile::new(&settings, &ProxyEnvironment::default());
    assert_eq!(call(p.start(NOW)).cluster, "files");
}

#[test]
fn the_setting_then_aws_profile_then_default_choose_the_profile() {
    assert_eq!(key_id(provider(None, None)), "AKIADEFAULT");
    assert_eq!(key_id(provider(None, Some("dev"))), "AKIADEV");
    assert_eq!(
        key_id(provider(Some("default"), Some("dev"))),
        "AKIADEFAULT"
    );
    assert_eq!(key_id(provider(Some("dev"), None)), "AKIADEV");
}

#[test]
fn keys_are_held_for_the_configured_time_then_read_again() {
    let mut p = provider(Some("dev"), None);
    call(p.start(NOW));
    let c = done(p.on_response(200, &served(FILE_TEXT), NOW));
    assert_eq!(c.session_token.as_deref(), Some("TOKEN-dev"));
    let hold = ChainSettings::default().credentials_file_hold_seconds;
    assert_eq!(c.expires_at, Some(NOW + hold));
    // The next fetch reads the file again: the new text's keys.
    call(p.start(NOW + hold));
    let rotated = FILE_TEXT.replace("AKIADEV", "AKIADEV2");
    let c = done(p.on_response(200, &served(&rotated), NOW + hold));
    assert_eq!(c.access_key_id, "AKIADEV2");
}

#[test]
fn says_why_without_quoting_the_file() {
    let cases: [(u32, Vec<u8>, &str); 4] = [
        (
            401,
            b"Failed to inject credential.".to_vec(),
            "the file of AWS_SHARED_CREDENTIALS_FILE is missing or empty",
        ),
        (404, Vec::new(), "serves no /aws-credentials"),
        (
            200,
            served(FILE_TEXT.replace("[dev]", "[ops]").as_str()),
            "profile dev is not in the shared credentials file",
        ),
        (
            200,
            served("[dev]\naws_access_key_id = A\n"),
            "profile dev of the shared credentials file has no aws_secret_access_key",
        ),
    ];
    for (status, body, needle) in cases {
        let mut p = provider(Some("dev"), None);
        call(p.start(NOW));
        let reason = failed(p.on_response(status, &body, NOW));
        assert!(reason.contains(needle), "{reason}");
        assert!(
            !reason.contains("SECRET") && !reason.contains("TOKEN"),
            "{reason}"
        );
    }
}

#[test]
fn the_default_chain_asks_only_when_something_points_at_a_file() {
    let default = ChainSettings::default();
    let reason = failed(CredentialsFile::new(&default, &ProxyEnvironment::default()).start(NOW));
    assert!(
        reason.contains("AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE and credentials.profile not set"),
        "{reason}"
    );
    let pointed = [
        ProxyEnvironment {
            shared_credentials_file: Some("/etc/aws/credentials".into()),
            ..Default::default()
        },
        ProxyEnvironment {
            profile: Some("dev".into()),
            ..Default::default()
        },
    ];
    for env in pointed {
        call(CredentialsFile::new(&default, &env).start(NOW));
    }
    let with_setting = ChainSettings {
        profile: Some("dev".into()),
        ..ChainSettings::default()
    };
    call(CredentialsFile::new(&with_setting, &ProxyEnvironment::default()).start(NOW));
}
