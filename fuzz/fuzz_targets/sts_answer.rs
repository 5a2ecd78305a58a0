//! STS's answers to `AssumeRole` and the XML reader under them. The first byte picks the
//! status (200, 400, 403, 500), the rest is the body. Accepted credentials are complete,
//! printable and unexpired, and are the answer's own text; a reason is one short line that
//! never holds the secrets the call was signed with nor the answer's own secret or token; the
//! reader's leaves are within its bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::credentials::sts_answer::parse_assume_role_answer;
use mesh_lambda_core::xml::read_leaves;

/// 2015-08-30T12:36:00Z
const NOW: u64 = 1_440_938_160;
/// The base credentials' secret and token: an answer quoting them must not pass them on.
const HIDDEN: [&str; 2] = ["HIDDEN-SECRET-KEY", "HIDDEN-TOKEN"];
const CREDENTIALS: &str = "AssumeRoleResponse/AssumeRoleResult/Credentials";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = [200, 400, 403, 500][usize::from(selector % 4)];
    let leaves = read_leaves(body);
    if let Ok(leaves) = &leaves {
        let _ = leaves.root();
    }
    let field = |name: &str| {
        leaves
            .as_ref()
            .ok()
            .and_then(|l| l.get(&format!("{CREDENTIALS}/{name}")).ok().flatten())
            .map(str::to_owned)
    };
    match parse_assume_role_answer(status, body, NOW, &HIDDEN) {
        Ok(c) => {
            assert_eq!(status, 200);
            for (value, name) in [
                (&c.access_key_id, "AccessKeyId"),
                (&c.secret_access_key, "SecretAccessKey"),
            ] {
                assert!(!value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic()));
                assert_eq!(Some(value), field(name).as_ref(), "{name}");
            }
            assert_eq!(c.session_token, field("SessionToken"));
            assert!(c.expires_at.is_some_and(|at| at > NOW));
        }
        Err(reason) => {
            // STS's code (64 characters at most) and message (200), or the text (200), and
            // a short prefix.
            let length = reason.chars().count();
            assert!(length > 0 && length < 350, "{length}: {reason:?}");
            assert!(!reason.chars().any(char::is_control), "{reason:?}");
            for secret in HIDDEN {
                assert!(!reason.contains(secret), "{reason:?}");
            }
            for name in ["SecretAccessKey", "SessionToken"] {
                if let Some(secret) = field(name).filter(|s| s.len() >= 8) {
                    assert!(!reason.contains(&secret), "{name} quoted: {reason:?}");
                }
            }
        }
    }
});
