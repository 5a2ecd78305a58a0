//! The `mesh-lambda` binary as a user runs it.

#![allow(clippy::unwrap_used)]

mod common;

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
    // The workspace's version, which the image annotation (tests/oci.rs) and the filter's
    // start line (crates/core's vm::START_LINE) carry too.
    assert_eq!(
        text(&version.stdout),
        format!("mesh-lambda {}\n", common::workspace_version())
    );
}

#[test]
fn the_filter_logs_the_version_the_command_gives() {
    // The module's start line (Envoy's log: integration/harness_checks checks it there too);
    // the image annotation is checked in tests/oci.rs.
    assert_eq!(
        mesh_lambda_core::vm::START_LINE,
        format!("mesh-lambda {} starting", common::workspace_version())
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
    for (args, needles) in [
        // No command: the help, listing the commands, on standard error.
        (
            &[][..],
            &["Usage: mesh-lambda <COMMAND>", "check-config"][..],
        ),
        (
            &["frobnicate"][..],
            &["unrecognized subcommand 'frobnicate'"][..],
        ),
        // The missing argument is named.
        (
            &["check-config"][..],
            &["required arguments were not provided", "<FILE>"][..],
        ),
        (
            &["check-config", "a.json", "b.json"][..],
            &["unexpected argument 'b.json'"][..],
        ),
        (
            &["check-config", "/nonexistent/plugin.json"][..],
            &["cannot read"][..],
        ),
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        for needle in needles {
            assert!(
                text(&out.stderr).contains(needle),
                "{args:?}: {}",
                text(&out.stderr)
            );
        }
    }
}

/// Every command, as a user types it before `--help`.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["check-config"],
    &["consul"],
    &["consul", "generate"],
    &["oci"],
    &["oci", "package"],
    &["oci", "push"],
    &["oci", "pull"],
    &["istio"],
    &["istio", "generate"],
    &["envoy-gateway"],
    &["envoy-gateway", "generate"],
    &["gateway"],
    &["gateway", "generate"],
    &["completions"],
    &["man"],
];

#[test]
fn every_command_has_its_own_help() {
    for command in COMMANDS {
        let args = [*command, &["--help"]].concat();
        let out = run(&args, b"");
        let help = text(&out.stdout);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let usage = format!(
            "Usage: {}",
            ["mesh-lambda"]
                .iter()
                .chain(*command)
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(help.contains(&usage), "{args:?}: {help}");
        // Examples of the command itself, and the exit statuses.
        assert!(help.contains("Examples:\n"), "{args:?}: {help}");
        assert!(
            help.contains(&format!("\n  {}", usage.trim_start_matches("Usage: "))),
            "{args:?}: {help}"
        );
        assert!(
            help.contains("Exit status:\n  0  done\n  1  refused"),
            "{args:?}: {help}"
        );
    }
    // `help <command>` is the same text.
    let out = run(&["help", "oci", "pull"], b"");
    assert_eq!(
        text(&out.stdout),
        text(&run(&["oci", "pull", "--help"], b"").stdout)
    );
}

#[test]
fn a_mistyped_command_or_option_gets_the_nearest_one() {
    for (args, tip) in [
        (
            &["chek-config", "x"][..],
            "a similar subcommand exists: 'check-config'",
        ),
        (
            &["consl", "generate"][..],
            "a similar subcommand exists: 'consul'",
        ),
        (
            &["oci", "pul"][..],
            "some similar subcommands exist: 'push', 'pull'",
        ),
        (&["oci", "pusj"][..], "a similar subcommand exists: 'push'"),
        (
            &["envoy-gateway", "generat"][..],
            "a similar subcommand exists: 'generate'",
        ),
        (
            &["oci", "push", "dir", "r:1", "--plain-htp"][..],
            "a similar argument exists: '--plain-http'",
        ),
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(tip),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn bash_completion_names_every_command() {
    let out = run(&["completions", "bash"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    for word in [
        "check-config",
        "consul",
        "generate",
        "oci",
        "package",
        "push",
        "pull",
        "istio",
        "envoy-gateway",
        "gateway",
        "completions",
        "man",
        "--plain-http",
        "--wasm-variant",
    ] {
        assert!(script.contains(word), "{word} is not completed");
    }
    assert!(script.contains("complete -F _mesh__lambda"), "{script}");
    // Bash itself parses it, where bash is installed.
    match Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut bash) => {
            bash.stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            let checked = bash.wait_with_output().unwrap();
            assert!(
                checked.status.success(),
                "bash -n: {}",
                text(&checked.stderr)
            );
        }
        Err(e) => eprintln!("bash -n skipped: {e}"),
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell], b"");
        assert!(out.status.success(), "{shell}");
        assert!(text(&out.stdout).contains("envoy-gateway"), "{shell}");
    }
    let out = run(&["completions", "tcsh"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'tcsh'"));
}

#[test]
fn the_manual_pages_are_written() {
    let page = run(&["man"], b"");
    assert!(page.status.success(), "{}", text(&page.stderr));
    let page = text(&page.stdout);
    assert!(page.contains(".TH mesh-lambda 1"), "{page}");
    assert!(page.contains(&format!("mesh-lambda {}", env!("CARGO_PKG_VERSION"))));
    assert!(page.contains("mesh\\-lambda\\-oci(1)"), "{page}");
    let dir = std::env::temp_dir().join(format!("mesh-lambda-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = run(&["man", "--out", dir.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in [
        "mesh-lambda.1",
        "mesh-lambda-check-config.1",
        "mesh-lambda-consul-generate.1",
        "mesh-lambda-oci-pull.1",
        "mesh-lambda-gateway-generate.1",
        "mesh-lambda-completions.1",
    ] {
        let file = dir.join(name);
        assert!(
            text(&out.stdout).contains(&format!("wrote {}", file.display())),
            "{name}"
        );
        assert!(
            std::fs::read_to_string(&file).unwrap().starts_with(".ie"),
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("mesh-lambda.1")).unwrap(),
        page
    );
    assert!(!dir.join("mesh-lambda-help.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
