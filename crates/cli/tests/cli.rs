//! The `mesh-lambda` binary as a user runs it.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesh-lambda"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version() {
    let help = run(&["--help"], b"");
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("check-config"));
    let version = run(&["--version"], b"");
    assert!(version.status.success());
    assert_eq!(
        text(&version.stdout),
        format!("mesh-lambda {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_valid_configuration_passes() {
    let dir = std::env::temp_dir().join(format!("mesh-lambda-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plugin.json");
    std::fs::write(&file, format!(r#"{{"arn":"{ARN}:live"}}"#)).unwrap();
    let out = run(&["check-config", file.to_str().unwrap()], b"");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!(
        "valid: invokes {ARN} (RequestResponse) via lambda.us-east-1.amazonaws.com"
    )));
}

#[test]
fn the_functions_form_is_checked_too() {
    let config = format!(
        r#"{{"functions":{{"auth":{{"arn":"{ARN}"}},
            "billing":{{"arn":"arn:aws:lambda:us-west-2:123456789012:function:billing"}}}}}}"#
    );
    let out = run(&["check-config", "-"], config.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("valid: 2 functions, by route"), "{stdout}");
    assert!(stdout.contains("  billing: invokes arn:aws:lambda:us-west-2:123456789012:function:billing (RequestResponse) via lambda.us-west-2.amazonaws.com"), "{stdout}");
    let out = run(&["check-config", "-"], br#"{"functions":{}}"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("invalid configuration: functions: names no function"));
}

#[test]
fn an_invalid_configuration_fails_with_the_filters_message() {
    let config = format!(r#"{{"arn":"{ARN}","invocation_mode":"sideways"}}"#);
    let out = run(&["check-config", "-"], config.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(
        "invalid configuration: invocation_mode: unknown value \"sideways\", expected one of"
    ));
}

#[test]
fn usage_and_input_errors_exit_2() {
    for (args, needle) in [
        (&[][..], "no command given"),
        (&["frobnicate"][..], "unknown command \"frobnicate\""),
        (&["check-config"][..], "takes one argument"),
        (
            &["check-config", "/nonexistent/plugin.json"][..],
            "cannot read",
        ),
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(needle), "{args:?}");
    }
}
