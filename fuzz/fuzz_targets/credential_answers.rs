//! The credential chain fed what the container endpoint, instance metadata and the files
//! listener (`providers=credentials_file`, `AWS_PROFILE=...`) answer, in any order: the
//! proxy's environment, then answers. Input, segments split by a `--` line:
//!
//! ```text
//! AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x   <- the environment, and
//! providers=container,instance_metadata                     <- optionally the providers
//! assume_role=arn:aws:iam::123456789012:role/r               <- optionally a role to assume
//! --
//! 200                                                       <- an answer: status, body
//! {"AccessKeyId":...}
//! --
//! !upstream connect error                                   <- a call that got no answer
//! --
//! start                                                     <- the next fetch, an hour on
//! ```
//!
//! Every call it asks for is one HTTP can carry; credentials it settles on round-trip through
//! the record the VMs share.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::credentials::chain::{
    AssumeRoleSettings, Callout, ChainSettings, CredentialChain, Provider, Step,
};
use mesh_lambda_core::credentials::environment::ProxyEnvironment;
use mesh_lambda_core::credentials::shared::SharedRecord;

/// 2015-08-30T12:36:00Z
const NOW: u64 = 1_440_938_160;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut segments = text.split("\n--\n");
    let setup = segments.next().unwrap_or_default();
    let value = |key: &str| {
        setup.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k == key).then(|| v.to_owned())
        })
    };
    let env = ProxyEnvironment::load(value);
    let mut settings = ChainSettings::default();
    if let Some(list) = value("providers") {
        settings.providers = list.split(',').filter_map(Provider::parse).collect();
    }
    settings.assume_role = value("assume_role").map(|role_arn| AssumeRoleSettings {
        role_arn,
        external_id: value("external_id"),
        session_name: "mesh-lambda".into(),
        duration_seconds: 3600,
        sts_cluster: "sts".into(),
        sts_host: "sts.us-east-1.amazonaws.com".into(),
        region: "us-east-1".into(),
    });
    let mut chain = CredentialChain::new(settings, env);
    let mut now = NOW;
    check(chain.start(now), now);
    for segment in segments {
        let step = if segment == "start" {
            now += 3600;
            chain.start(now)
        } else if let Some(reason) = segment.strip_prefix('!') {
            chain.on_failure(reason, now)
        } else {
            let (status, body) = segment.split_once('\n').unwrap_or((segment, ""));
            let status = status.trim().parse().unwrap_or(0);
            let _ = SharedRecord::decode(body.as_bytes());
            chain.on_response(status, body.as_bytes(), now)
        };
        check(step, now);
    }
});

fn check(step: Step, now: u64) {
    match step {
        Step::Call(callout) => check_callout(&callout),
        Step::Done(provider, credentials) => {
            assert!(!credentials.access_key_id.trim().is_empty());
            assert!(!credentials.secret_access_key.trim().is_empty());
            assert!(credentials.expires_at.is_none_or(|at| at > now));
            let record = SharedRecord::succeeded(provider.name(), credentials, now * 1000, 300);
            assert_eq!(SharedRecord::decode(&record.encode()), Some(record));
        }
        Step::Failed(reason) => assert!(!reason.is_empty()),
    }
}

fn check_callout(callout: &Callout) {
    assert!(matches!(callout.method, "GET" | "PUT" | "POST"));
    assert_eq!(
        callout.method == "POST",
        !callout.body.is_empty(),
        "{callout:?}"
    );
    assert!(callout.path.starts_with('/'), "{callout:?}");
    assert!(!callout.authority.is_empty() && !callout.cluster.is_empty());
    for (name, value) in &callout.headers {
        assert!(
            !value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0),
            "header {name} cannot carry {value:?}"
        );
    }
}
