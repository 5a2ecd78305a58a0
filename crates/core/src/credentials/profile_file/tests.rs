//! The reader against files as the AWS CLI writes them and as people edit them.

use super::*;

fn keys(text: &str, profile: &str) -> (String, String, Option<String>) {
    let c = read_profile(text, profile).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.expires_at, None);
    (c.access_key_id, c.secret_access_key, c.session_token)
}

fn refused(text: &str, profile: &str) -> String {
    let reason = read_profile(text, profile).expect_err("refused");
    for secret in ["SECRET", "TOKEN"] {
        assert!(!reason.contains(secret), "{reason}");
    }
    reason
}

const TWO: &str = "\
# written by aws configure
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = SECRET/default+1

[dev]
aws_access_key_id=AKIADEV
aws_secret_access_key=SECRET-dev
aws_session_token = TOKEN-dev==
";

#[test]
fn reads_the_profile_asked_for() {
    assert_eq!(
        keys(TWO, "default"),
        ("AKIADEFAULT".into(), "SECRET/default+1".into(), None)
    );
    assert_eq!(
        keys(TWO, "dev"),
        (
            "AKIADEV".into(),
            "SECRET-dev".into(),
            Some("TOKEN-dev==".into())
        )
    );
}

#[test]
fn comments_blanks_spaces_case_and_line_ends() {
    // The first key indented is a key (no property to continue); the next, indented as
    // much, is too (configparser continues a value only on a line indented further).
    let text = "\u{feff}; a comment\r\n  [ ops ]  \r\n\r\n# another\r\n\
                \tAWS_Access_Key_ID :   AKIAOPS  \r\n\taws_secret_access_key= SECRET#not-a-comment\r\n";
    assert_eq!(
        keys(text, "ops"),
        ("AKIAOPS".into(), "SECRET#not-a-comment".into(), None)
    );
    // Profile names are case-sensitive.
    assert!(refused(text, "OPS").contains("profile OPS is not in"));
}

/// botocore's `SharedCredentialProvider.TOKENS` is `['aws_security_token',
/// 'aws_session_token']`: the first found wins.
#[test]
fn the_older_security_token_name_is_read_and_wins_as_in_botocore() {
    let base = "[p]\naws_access_key_id=A\naws_secret_access_key=SECRET\n";
    let older = format!("{base}aws_security_token=TOKEN-old\n");
    assert_eq!(keys(&older, "p").2.as_deref(), Some("TOKEN-old"));
    let both = format!("{base}aws_session_token=TOKEN-new\naws_security_token=TOKEN-old\n");
    assert_eq!(keys(&both, "p").2.as_deref(), Some("TOKEN-old"));
    let empty = format!("{base}aws_session_token=\n");
    assert_eq!(keys(&empty, "p").2, None);
}

#[test]
fn other_profiles_and_unknown_keys_do_not_matter() {
    let text = "garbage before any section\n[other]\nnot a property\n\
                aws_access_key_id = 1\naws_access_key_id = 2\n[p]\nregion = us-east-1\n\
                aws_access_key_id = A\naws_secret_access_key = SECRET\noutput=json\n  more\n";
    assert_eq!(keys(text, "p").0, "A");
}

#[test]
fn the_config_files_profile_prefix_is_not_a_profile_here() {
    let text = "[profile dev]\naws_access_key_id = A\naws_secret_access_key = SECRET\n";
    let reason = refused(text, "dev");
    assert!(reason.starts_with("profile dev is not in the shared credentials file"));
    assert!(reason.contains("line 1 has [profile dev]"), "{reason}");
    assert!(reason.contains("write [dev]"), "{reason}");
    // It is a profile named "profile dev", as in botocore.
    assert_eq!(keys(text, "profile dev").0, "A");
    assert!(!refused(text, "other").contains("has [profile"));
}

#[test]
fn refusals_name_the_profile_the_key_and_the_line() {
    let cases = [
        (
            "[p]\naws_secret_access_key = SECRET\n",
            "profile p of the shared credentials file has no aws_access_key_id",
        ),
        (
            "[p]\naws_access_key_id = A\n",
            "has no aws_secret_access_key",
        ),
        (
            "[p]\naws_access_key_id =\naws_secret_access_key = SECRET\n",
            "aws_access_key_id is empty (line 2)",
        ),
        (
            "[p]\naws_access_key_id = A\naws_secret_access_key = SECRET\n[q]\n[p]\n",
            "profile p appears twice in the shared credentials file (lines 1 and 5)",
        ),
        (
            "[p]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID = B\n",
            "sets aws_access_key_id twice (lines 2 and 3)",
        ),
        (
            "[p]\naws_access_key_id = A\naws_secret_access_key = SECRET\n  SECRET2\n",
            "aws_secret_access_key (line 3) continues on the indented line 4",
        ),
        (
            "[p]\naws_access_key_id A\n",
            "line 2 of profile p in the shared credentials file is not `key = value`",
        ),
        (
            "[p\naws_access_key_id = A\n",
            "line 1 of the shared credentials file opens a section header",
        ),
        ("", "profile p is not in the shared credentials file"),
        // Found by the credentials_file fuzz target.
        (
            "[p]\naws_access_key_id = A\naws_secret_access_key = SEC\rRET\n",
            "aws_secret_access_key (line 3) holds a control character",
        ),
    ];
    for (text, needle) in cases {
        let reason = refused(text, "p");
        assert!(reason.contains(needle), "{text:?}: {reason}");
    }
}

#[test]
fn any_input_gives_an_answer() {
    for text in [
        "[",
        "]",
        "[]",
        "=",
        ":",
        "[p]\n=",
        "[p]\n\u{0}=\u{0}",
        "[p]\n \u{a0}x",
        "[\u{e9}]",
    ] {
        let _ = read_profile(text, "p");
        let _ = read_profile(text, "");
    }
}
