//! The translator on its own, no host: answers written by the AWS SDK's event-stream encoder
//! (`test_frames`), pushed whole, at every byte boundary, and a byte at a time.

use super::*;
use crate::header_pairs;
use crate::streaming::test_frames::{chunk, complete, exception};

/// What a streamed answer (after its 200) gave the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    opening: Result<Opening, Failure>,
    /// The headers the pushes gave (a prelude's, once).
    headers: Vec<Vec<u8>>,
    /// The payload passed on before the end or the first failure.
    payload: Vec<u8>,
    /// The first failure of a push, or of the end.
    failure: Option<Failure>,
}

fn serialized(pairs: &[(&str, &str)]) -> Vec<u8> {
    let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    header_pairs::serialize(&pairs).unwrap()
}

fn text(headers: &[u8]) -> Vec<(String, String)> {
    header_pairs::parse(headers)
        .unwrap()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), String::from_utf8(v.to_vec()).unwrap()))
        .collect()
}

/// `answer` after Lambda's `lambda` headers, pushed in the pieces between `cuts`, then ended.
fn translate(lambda: &[(&str, &str)], answer: &[u8], cuts: &[usize]) -> Outcome {
    let (mut translator, opening) = Translator::open(serialized(lambda), false);
    let mut outcome = Outcome {
        opening,
        headers: Vec::new(),
        payload: Vec::new(),
        failure: None,
    };
    let mut from = 0;
    for &to in cuts.iter().chain([&answer.len()]) {
        match translator.push(&answer[from..to]) {
            Ok(translated) => {
                outcome.headers.extend(translated.headers);
                outcome.payload.extend(translated.payload);
            }
            Err(failure) => {
                outcome.failure = Some(failure);
                return outcome;
            }
        }
        from = to;
    }
    outcome.failure = translator.finish().err();
    outcome
}

/// The outcome of every way of cutting `answer` in two, and of one-byte pieces.
fn every_split(lambda: &[(&str, &str)], answer: &[u8]) -> Vec<(String, Outcome)> {
    let mut outcomes: Vec<(String, Outcome)> = (0..=answer.len())
        .map(|cut| (format!("cut at {cut}"), translate(lambda, answer, &[cut])))
        .collect();
    let bytes: Vec<usize> = (1..answer.len()).collect();
    outcomes.push(("byte by byte".into(), translate(lambda, answer, &bytes)));
    outcomes
}

const OK: [(&str, &str); 4] = [
    (":status", "200"),
    ("content-type", "text/event-stream"),
    ("content-length", "999"),
    ("x-amz-executed-version", "$LATEST"),
];

const HTTP_INTEGRATION: [(&str, &str); 3] = [
    (":status", "200"),
    (
        "content-type",
        "application/vnd.awslambda.http-integration-response",
    ),
    ("x-amzn-requestid", "r-1"),
];

/// Lambda's headers, as pairs.
type Lambda = &'static [(&'static str, &'static str)];

fn failure_kind(failure: &Failure) -> &'static str {
    match failure {
        Failure::Function(_) => "function",
        Failure::Broken(_) => "broken",
    }
}

#[test]
fn payload_split_anywhere_comes_out_whole_and_the_headers_at_once() {
    let answer = [
        chunk(b"hello, "),
        chunk(b""),
        chunk(b"streaming world"),
        complete("{}"),
    ]
    .concat();
    let caller = serialized(&[
        (":status", "200"),
        ("x-amz-executed-version", "$LATEST"),
        ("content-type", "text/event-stream"),
    ]);
    for (how, outcome) in every_split(&OK, &answer) {
        assert_eq!(
            outcome,
            Outcome {
                opening: Ok(Opening::Headers(caller.clone())),
                headers: Vec::new(),
                payload: b"hello, streaming world".to_vec(),
                failure: None,
            },
            "{how}"
        );
    }
}

#[test]
fn the_event_stream_type_never_reaches_the_caller() {
    for declared in [Some("application/vnd.amazon.eventstream"), Some(" "), None] {
        let mut lambda = vec![(":status", "200")];
        lambda.extend(declared.map(|t| ("content-type", t)));
        let (_, opening) = Translator::open(serialized(&lambda), false);
        let caller = serialized(&[
            (":status", "200"),
            ("content-type", "application/octet-stream"),
        ]);
        assert_eq!(opening, Ok(Opening::Headers(caller)), "{declared:?}");
    }
}

#[test]
fn headers_that_cannot_be_read_are_left_as_they_are() {
    let (mut translator, opening) = Translator::open(b"\x01".to_vec(), false);
    assert!(matches!(opening, Ok(Opening::Unwritable(_))), "{opening:?}");
    // The body is translated all the same.
    let answer = [chunk(b"x"), complete("{}")].concat();
    assert_eq!(translator.push(&answer).unwrap().payload, b"x");
    assert_eq!(translator.finish(), Ok(()));
}

#[test]
fn a_prelude_split_anywhere_gives_its_status_and_headers_once() {
    // Lambda's request id replaced by the function's, its framing dropped, the status given
    // as a string.
    let prelude = br#"{"statusCode":"202","headers":{"Content-Type":"application/json","Transfer-Encoding":"chunked","X-Amzn-RequestId":"from-function"},"cookies":["id=7; HttpOnly"]}"#;
    let output = [&prelude[..], &[0; 8], b"\0{}"].concat();
    let answer = [chunk(&output[..30]), chunk(&output[30..]), complete("{}")].concat();
    let expected = [
        (":status", "202"),
        ("content-type", "application/json"),
        ("x-amzn-requestid", "from-function"),
        ("set-cookie", "id=7; HttpOnly"),
    ];
    for (how, outcome) in every_split(&HTTP_INTEGRATION, &answer) {
        assert_eq!(outcome.opening, Ok(Opening::AwaitPrelude), "{how}");
        assert_eq!(outcome.failure, None, "{how}");
        assert_eq!(outcome.headers, [serialized(&expected)], "{how}");
        assert_eq!(outcome.payload, b"\0{}", "{how}");
    }
}

#[test]
fn the_caller_waits_until_the_prelude_is_read() {
    let (mut translator, _) = Translator::open(serialized(&HTTP_INTEGRATION), false);
    let output = br#"{"statusCode":404}"#;
    let first = translator.push(&chunk(output)).unwrap();
    assert_eq!(first, Translated::default());
    assert!(translator.awaits_prelude());
    let second = translator.push(&chunk(&[0; 8])).unwrap();
    assert!(!translator.awaits_prelude());
    assert_eq!(second.payload, b"");
    // No content type in the prelude: the default one.
    assert_eq!(
        text(&second.headers.unwrap()),
        [
            (":status".into(), "404".into()),
            ("x-amzn-requestid".into(), "r-1".into()),
            ("content-type".into(), "application/octet-stream".into()),
        ]
    );
}

#[test]
fn failures_are_typed_wherever_the_answer_is_cut() {
    let mut corrupt = chunk(b"abc");
    let last = corrupt.len() - 5;
    corrupt[last] ^= 1;
    let function_error = complete(r#"{"ErrorCode":"Unhandled","ErrorDetails":"secret details"}"#);
    let cases: [(&str, Lambda, Vec<u8>, Failure); 10] = [
        (
            "function error",
            &OK,
            [chunk(b"part"), function_error.clone()].concat(),
            Failure::Function("the function failed mid-stream: Unhandled".into()),
        ),
        (
            "exception",
            &OK,
            [
                chunk(b"part"),
                exception("ServiceException", r#"{"message":"no"}"#),
            ]
            .concat(),
            Failure::Function("Lambda ended the stream with exception ServiceException".into()),
        ),
        ("corrupt", &OK, corrupt, Failure::Broken(String::new())),
        (
            "cut",
            &OK,
            chunk(b"no end"),
            Failure::Broken("the answer ended without InvokeComplete".into()),
        ),
        (
            "cut in a message",
            &OK,
            [chunk(b"first"), chunk(b"second")[..9].to_vec()].concat(),
            Failure::Broken("the answer ended without InvokeComplete".into()),
        ),
        (
            "a message after the end",
            &OK,
            [complete("{}"), chunk(b"late")].concat(),
            Failure::Broken(String::new()),
        ),
        (
            "bytes after the end",
            &OK,
            [complete("{}"), b"x".to_vec()].concat(),
            Failure::Broken("bytes after InvokeComplete".into()),
        ),
        (
            "a prelude that never ends",
            &HTTP_INTEGRATION,
            [chunk(br#"{"statusCode":200}"#), complete("{}")].concat(),
            Failure::Broken("the answer ended before its prelude did".into()),
        ),
        (
            "a prelude that is not JSON, then a function error",
            &HTTP_INTEGRATION,
            [chunk(b"not json\0\0\0\0\0\0\0\0"), function_error.clone()].concat(),
            Failure::Broken(String::new()),
        ),
        (
            "a prelude that is not JSON",
            &HTTP_INTEGRATION,
            [chunk(b"not json\0\0\0\0\0\0\0\0body"), complete("{}")].concat(),
            Failure::Broken(String::new()),
        ),
    ];
    for (what, lambda, answer, expected) in cases {
        for (how, outcome) in every_split(lambda, &answer) {
            let failure = outcome.failure.expect(what);
            assert_eq!(
                failure_kind(&failure),
                failure_kind(&expected),
                "{what}, {how}"
            );
            if !expected.to_string().is_empty() {
                assert_eq!(failure, expected, "{what}, {how}");
            }
            assert!(!failure.to_string().contains("secret"), "{what}");
            // A prelude's answer is never given headers when it fails.
            if lambda == HTTP_INTEGRATION {
                assert!(outcome.headers.is_empty(), "{what}, {how}");
            }
        }
    }
}

#[test]
fn an_error_later_in_a_piece_comes_after_the_events_before_it() {
    let answer = [
        chunk(b"part"),
        complete(r#"{"ErrorCode":"Unhandled","ErrorDetails":""}"#),
        b"garbage that is no message".to_vec(),
    ]
    .concat();
    for (how, outcome) in every_split(&OK, &answer) {
        assert_eq!(
            outcome.failure,
            Some(Failure::Function(
                "the function failed mid-stream: Unhandled".into()
            )),
            "{how}"
        );
    }
}

#[test]
fn a_200_without_a_body_is_broken() {
    let (mut translator, opening) = Translator::open(serialized(&OK), true);
    let failure = Failure::Broken("Lambda's 200 had no body".into());
    assert_eq!(opening, Err(failure.clone()));
    assert_eq!(translator.push(b""), Err(failure.clone()));
    assert_eq!(translator.finish(), Err(failure));
}

#[test]
fn after_a_failure_every_call_returns_it() {
    let (mut translator, _) = Translator::open(serialized(&OK), false);
    let failure = translator.push(&[0; 16]).unwrap_err();
    assert!(matches!(failure, Failure::Broken(_)), "{failure:?}");
    let good = [chunk(b"x"), complete("{}")].concat();
    assert_eq!(translator.push(&good), Err(failure.clone()));
    assert_eq!(translator.finish(), Err(failure));
    assert!(!translator.is_complete());
}

#[test]
fn the_function_s_error_code_is_quoted_short_and_printable() {
    let code = format!("Bad\nCode{}", "x".repeat(100));
    let answer = complete(&format!(
        r#"{{"ErrorCode":"{}"}}"#,
        code.replace('\n', "\\n")
    ));
    let (mut translator, _) = Translator::open(serialized(&OK), false);
    let Err(Failure::Function(why)) = translator.push(&answer) else {
        panic!("not a function error");
    };
    let quoted = why
        .strip_prefix("the function failed mid-stream: ")
        .unwrap();
    assert_eq!(quoted.chars().count(), 64);
    assert!(quoted.starts_with("Bad?Code"), "{quoted}");
}

#[test]
fn complete_is_known_once_invoke_complete_arrives() {
    let (mut translator, _) = Translator::open(serialized(&OK), false);
    translator.push(&chunk(b"x")).unwrap();
    assert!(!translator.is_complete());
    translator.push(&complete("{}")).unwrap();
    assert!(translator.is_complete());
    assert_eq!(translator.push(b""), Ok(Translated::default()));
    assert_eq!(translator.finish(), Ok(()));
}
