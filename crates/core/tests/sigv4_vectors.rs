//! The SigV4 signer checked against the AWS signing test suite (header signing, `v4/` cases),
//! vendored under `tests/data/aws-signing-test-suite/` (see the README there for its origin).
//!
//! For every case the canonical request, the string to sign and the signature are compared
//! separately with the expected files, so a mismatch says which step went wrong. Cases that need
//! a feature the signer does not have are skipped with the reason printed (run with
//! `-- --nocapture` to see it); at least `MIN_CASES_RUN` cases must run, so a broken directory
//! walk cannot pass silently.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mesh_lambda_core::access_keys::Credentials;
use mesh_lambda_core::sigv4::date::amz_date;
use mesh_lambda_core::sigv4::general::{sha256_hex, Payload, Request as Signable, Signed, Signer};
use std::fs;
use std::path::{Path, PathBuf};

/// The suite has 40 `v4/` cases; a few are skipped (see the output).
const MIN_CASES_RUN: usize = 30;

/// Cases whose expected files cannot be matched by this signer for a reason no `context.json`
/// flag says.
const SKIP_BY_NAME: &[(&str, &str)] = &[(
    "get-space-normalized",
    "expects the already-encoded wire path `/example%20space/` to be used as-is (single URI \
     encoding, as for S3); this signer URI-encodes the wire path once more, as every other \
     service (and Lambda) requires, giving `/example%2520space/`. The upstream CRT request line \
     is `/example space/`; aws-sigv4 rewrote it to `%20` and ignores this case too. The same \
     expected files are checked through `get-space-unnormalized`.",
)];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-signing-test-suite/v4")
}

/// A file of a case, line endings made `\n` (a Windows checkout may turn them into `\r\n`).
fn read(case: &Path, file: &str) -> Option<String> {
    let path = case.join(file);
    path.exists().then(|| {
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
            .replace("\r\n", "\n")
    })
}

/// An expected value: the file without its final line end, if it has one (some files end in a
/// newline, some do not; none of the values does).
fn expected(case: &Path, file: &str) -> Option<String> {
    read(case, file).map(|s| s.strip_suffix('\n').map_or(s.clone(), str::to_owned))
}

// ---------------------------------------------------------------------------------------------
// request.txt

#[derive(Debug, Clone, PartialEq)]
struct Request {
    method: String,
    /// The path as on the wire (not decoded).
    path: String,
    /// The query as on the wire, without `?`.
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }
}

/// `METHOD PATH[?QUERY] HTTP/1.1`, then `Name:value` lines (a line starting with whitespace
/// continues the previous value), then a blank line and the body, if any.
fn parse_request(text: &str) -> Request {
    let (head, body) = match text.split_once("\n\n") {
        Some((head, body)) => (head, body),
        None => (text.trim_end_matches('\n'), ""),
    };
    let mut lines = head.split('\n');
    let request_line = lines.next().expect("empty request");
    let (method, rest) = request_line.split_once(' ').expect("no request target");
    // The target may hold a raw space (get-space-unnormalized), so the version is split off the end.
    let (target, version) = rest.rsplit_once(' ').expect("no HTTP version");
    assert!(
        version.starts_with("HTTP/"),
        "bad request line {request_line:?}"
    );
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers
                .last_mut()
                .expect("continuation line before any header");
            value.push(' ');
            value.push_str(line.trim());
        } else {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {line:?}"));
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// context.json

#[derive(Debug, Clone)]
struct Context {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
    region: String,
    service: String,
    /// `2015-08-30T12:36:00Z`
    timestamp: String,
    normalize: bool,
    /// In the suite, `sign_body: true` means the SDK adds and signs
    /// `X-Amz-Content-Sha256: <hex SHA-256 of the body>` (aws-sigv4's
    /// `PayloadChecksumKind::XAmzSha256`); `false` means no such header. Either way the last line
    /// of the canonical request is the body's SHA-256 (`e3b0…` for the empty bodies), as the
    /// expected files show. aws-sigv4 defaults it to `true` when absent.
    sign_body: bool,
}

/// The context of a case, or why the case needs a feature the signer does not have.
fn parse_context(json: &str) -> Result<Context, String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("context.json is not JSON");
    let obj = v.as_object().expect("context.json is not an object");
    let mut unknown = Vec::new();
    for key in obj.keys() {
        match key.as_str() {
            "credentials" | "region" | "service" | "timestamp" | "normalize" | "sign_body"
            | "omit_session_token" => {}
            // The lifetime of a presigned URL (X-Amz-Expires): query signing only.
            "expiration_in_seconds" => {}
            other => unknown.push(other.to_owned()),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "context.json has flags this test does not know: {unknown:?}"
        ));
    }
    let creds = obj["credentials"].as_object().expect("credentials");
    if let Some(k) = creds
        .keys()
        .find(|k| !["access_key_id", "secret_access_key", "token"].contains(&k.as_str()))
    {
        return Err(format!(
            "credentials have a field this test does not know: {k}"
        ));
    }
    let string = |o: &serde_json::Map<String, serde_json::Value>, k: &str| -> String {
        o.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{k} missing or not a string"))
            .to_owned()
    };
    let flag = |k: &str, default: bool| -> bool {
        obj.get(k).map_or(default, |v| {
            v.as_bool().unwrap_or_else(|| panic!("{k} is not a bool"))
        })
    };
    let token = creds
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    if flag("omit_session_token", false) && token.is_some() {
        return Err(
            "omit_session_token: the token must be left out of the signature (and added \
                    after signing); this signer always signs X-Amz-Security-Token"
                .to_owned(),
        );
    }
    Ok(Context {
        access_key_id: string(creds, "access_key_id"),
        secret_access_key: string(creds, "secret_access_key"),
        token,
        region: string(obj, "region"),
        service: string(obj, "service"),
        timestamp: string(obj, "timestamp"),
        normalize: obj
            .get("normalize")
            .and_then(|v| v.as_bool())
            .expect("normalize missing or not a bool"),
        sign_body: flag("sign_body", true),
    })
}

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SSZ`.
fn unix_seconds(timestamp: &str) -> u64 {
    let b = timestamp.as_bytes();
    assert!(
        b.len() == 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z',
        "unsupported timestamp {timestamp:?}"
    );
    let num = |r: std::ops::Range<usize>| -> u64 { timestamp[r].parse().unwrap() };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil), independent of the crate's code.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19)
}

// ---------------------------------------------------------------------------------------------
// signing with the crate's public API

/// Signs `req` as an SDK would: `X-Amz-Date` (and, with a token, `X-Amz-Security-Token`) set
/// by the signer, `X-Amz-Content-Sha256` with `sign_body`, every header of the request signed.
fn sign(req: &Request, ctx: &Context, failures: &mut Vec<String>, case: &str) -> Signed {
    let unix = unix_seconds(&ctx.timestamp);
    let x_amz_date = amz_date(unix);
    let compact: String = ctx
        .timestamp
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    if x_amz_date != compact {
        failures.push(format!(
            "{case}: amz_date({unix}) = {x_amz_date}, expected {compact}"
        ));
    }

    let mut req = req.clone();
    // The signer signs its own X-Amz-Date: one the request brings must be the same.
    if let Some(d) = req.header("x-amz-date") {
        if d.trim() != x_amz_date {
            failures.push(format!(
                "{case}: the request's X-Amz-Date {d} is not the signing time {x_amz_date}"
            ));
        }
    }
    if ctx.sign_body && req.header("x-amz-content-sha256").is_none() {
        req.set_header("X-Amz-Content-Sha256", &sha256_hex(&req.body));
    }

    let credentials = Credentials {
        access_key_id: ctx.access_key_id.clone(),
        secret_access_key: ctx.secret_access_key.clone(),
        session_token: ctx.token.clone(),
        expires_at: None,
    };
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    Signer {
        credentials: &credentials,
        region: &ctx.region,
        service: &ctx.service,
        unix_seconds: unix,
        normalize_path: ctx.normalize,
    }
    .sign(&Signable {
        method: &req.method,
        wire_path: &req.path,
        wire_query: &req.query,
        headers: &headers,
        payload: Payload::Body(&req.body),
    })
}

/// Records a mismatch (or a missing expected file) naming the case and the step.
fn check(failures: &mut Vec<String>, case: &str, what: &str, expected: Option<&str>, actual: &str) {
    match expected {
        None => failures.push(format!("{case}: {what}: expected file missing")),
        Some(e) if e != actual => failures.push(format!(
            "{case}: {what} differs\n--- expected\n{e}\n--- actual\n{actual}\n---"
        )),
        Some(_) => {}
    }
}

/// The signature and the whole `Authorization` value against a signed request's header.
fn check_authorization(failures: &mut Vec<String>, case: &str, expected: Option<&str>, s: &Signed) {
    let signature = expected.and_then(signature_of);
    check(failures, case, "signature", signature, &s.signature);
    check(failures, case, "authorization", expected, &s.authorization);
}

/// The `Authorization` value of a case's `header-signed-request.txt` (read line by line: the
/// request line of `double-url-encode`'s has no HTTP version).
fn expected_authorization(case: &Path) -> Option<String> {
    read(case, "header-signed-request.txt")?
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("authorization")
                .then(|| value.trim().to_owned())
        })
}

fn signature_of(authorization: &str) -> Option<&str> {
    authorization.rsplit_once("Signature=").map(|(_, s)| s)
}

// ---------------------------------------------------------------------------------------------
// the two old-format cases, which have no context.json

/// The example secret of every `context.json` in the suite.
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn legacy_context(
    access_key_id: &str,
    secret: &str,
    region: &str,
    service: &str,
    timestamp: &str,
) -> Context {
    Context {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: secret.to_owned(),
        token: None,
        region: region.to_owned(),
        service: service.to_owned(),
        timestamp: timestamp.to_owned(),
        // aws-sigv4's defaults (SigningSettings::default()); the paths have no dot segments.
        normalize: true,
        sign_body: false,
    }
}

/// Runs an old-format case; `false` when the case is unknown.
fn run_legacy(name: &str, case: &Path, failures: &mut Vec<String>) -> bool {
    let req = parse_request(&read(case, "request.txt").expect("request.txt"));
    let authorization = expected_authorization(case);
    match name {
        // Lambda's own shape: the ARN's `:` arrive as `%3A` and are encoded again. The signed
        // request's Authorization names AKIDEXAMPLE, 20210511, us-east-2 and lambda; the date is
        // the request's X-Amz-Date; the secret is the suite's example secret.
        "double-url-encode" => {
            let ctx = legacy_context(
                "AKIDEXAMPLE",
                EXAMPLE_SECRET,
                "us-east-2",
                "lambda",
                "2021-05-11T15:40:45Z",
            );
            let s = sign(&req, &ctx, failures, name);
            check(
                failures,
                name,
                "canonical request",
                expected(case, "header-canonical-request.txt").as_deref(),
                &s.canonical_request,
            );
            check(
                failures,
                name,
                "string to sign",
                expected(case, "header-string-to-sign.txt").as_deref(),
                &s.string_to_sign,
            );
            check_authorization(failures, name, authorization.as_deref(), &s);
            true
        }
        // This case's files disagree on the date: request.txt (and the signed request) carry
        // X-amz-date 20150830T123600Z, while header-canonical-request.txt has 20210511T154045Z,
        // because aws-sigv4 checks the two in different unit tests with different signing times
        // (an SDK overwrites a stale X-Amz-Date with the signing time). Both are matched here,
        // each with the settings of the aws-sigv4 test that made it; there is no
        // header-string-to-sign.txt for this case.
        "double-encode-path" => {
            // aws-sigv4 `canonical_request::tests::test_double_url_encode_path`: signed at
            // 20210511T154045Z (region, service and credentials do not enter the canonical request).
            let ctx = legacy_context(
                "ANOTREAL",
                "notrealrnrELgWzOk3IfjzDKtFBhDby",
                "test-region",
                "testservicename",
                "2021-05-11T15:40:45Z",
            );
            let mut overwritten = req.clone();
            overwritten.set_header("X-Amz-Date", &amz_date(unix_seconds(&ctx.timestamp)));
            let s = sign(&overwritten, &ctx, failures, name);
            let expected_creq = expected(case, "header-canonical-request.txt");
            check(
                failures,
                name,
                "canonical request",
                expected_creq.as_deref(),
                &s.canonical_request,
            );

            // aws-sigv4 `sign::tests::test_sign_url_escape`: signed at the request's own date with
            // `Credentials::for_tests()` (aws-credential-types: ANOTREAL /
            // notrealrnrELgWzOk3IfjzDKtFBhDby), us-east-1, service.
            let ctx = legacy_context(
                "ANOTREAL",
                "notrealrnrELgWzOk3IfjzDKtFBhDby",
                "us-east-1",
                "service",
                "2015-08-30T12:36:00Z",
            );
            let s = sign(&req, &ctx, failures, name);
            let creq_at_request_date = expected_creq
                .map(|c| c.replace("x-amz-date:20210511T154045Z", "x-amz-date:20150830T123600Z"));
            check(
                failures,
                name,
                "canonical request (at the request's date)",
                creq_at_request_date.as_deref(),
                &s.canonical_request,
            );
            check_authorization(failures, name, authorization.as_deref(), &s);
            true
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn aws_sigv4_test_suite() {
    let dir = suite_dir();
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();

    let mut ran = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if let Some((_, reason)) = SKIP_BY_NAME.iter().find(|(n, _)| *n == name) {
            skipped.push((name, (*reason).to_owned()));
            continue;
        }
        let Some(context) = read(case, "context.json") else {
            if run_legacy(&name, case, &mut failures) {
                ran.push(name);
            } else {
                skipped.push((
                    name,
                    "no context.json, and no built-in context for it".to_owned(),
                ));
            }
            continue;
        };
        let ctx = match parse_context(&context) {
            Ok(ctx) => ctx,
            Err(reason) => {
                skipped.push((name, reason));
                continue;
            }
        };
        let req = parse_request(&read(case, "request.txt").expect("request.txt"));
        let s = sign(&req, &ctx, &mut failures, &name);
        check(
            &mut failures,
            &name,
            "canonical request",
            expected(case, "header-canonical-request.txt").as_deref(),
            &s.canonical_request,
        );
        check(
            &mut failures,
            &name,
            "string to sign",
            expected(case, "header-string-to-sign.txt").as_deref(),
            &s.string_to_sign,
        );
        check(
            &mut failures,
            &name,
            "signature",
            expected(case, "header-signature.txt").as_deref(),
            &s.signature,
        );
        ran.push(name);
    }

    println!("SigV4 test suite: {} cases run, {} skipped (header signing only; query signing is not checked)", ran.len(), skipped.len());
    for (name, reason) in &skipped {
        println!("  skipped {name}: {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(ran.len() + skipped.len(), cases.len());
    assert!(
        ran.len() >= MIN_CASES_RUN,
        "only {} cases ran (at least {MIN_CASES_RUN} expected) in {}",
        ran.len(),
        dir.display()
    );
}

#[test]
fn parses_folded_headers_and_body() {
    let req =
        parse_request("POST /a b/c?x=1&y HTTP/1.1\nHost:h\nMy:v1\n  v2\n\tv3\nEmpty:\n\nbody\n");
    assert_eq!(
        req,
        Request {
            method: "POST".to_owned(),
            path: "/a b/c".to_owned(),
            query: "x=1&y".to_owned(),
            headers: vec![
                ("Host".to_owned(), "h".to_owned()),
                ("My".to_owned(), "v1 v2 v3".to_owned()),
                ("Empty".to_owned(), String::new()),
            ],
            body: b"body\n".to_vec(),
        }
    );
    assert!(parse_request("GET / HTTP/1.1\nHost:h\n").body.is_empty());
}

#[test]
fn timestamps() {
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), 0);
    assert_eq!(unix_seconds("2015-08-30T12:36:00Z"), 1_440_938_160);
    assert_eq!(unix_seconds("2000-02-29T00:00:00Z"), 951_782_400);
    assert_eq!(unix_seconds("2021-05-11T15:40:45Z"), 1_620_747_645);
}
