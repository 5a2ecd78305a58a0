use super::*;

const SEPARATOR: &[u8] = &[0; 8];

fn output(prelude: &str, body: &[u8]) -> Vec<u8> {
    [prelude.as_bytes(), SEPARATOR, body].concat()
}

/// Pushes `bytes` in pieces of the given lengths (the rest last) the way the caller will:
/// once the prelude is back, the pieces after it are body, not pushed.
fn read_in_pieces(
    bytes: &[u8],
    pieces: impl IntoIterator<Item = usize>,
) -> Result<Option<(HttpPrelude, Vec<u8>)>, PreludeError> {
    let mut reader = PreludeReader::new();
    let mut rest = bytes;
    for len in pieces.into_iter().chain([usize::MAX]) {
        let (piece, after) = rest.split_at(len.min(rest.len()));
        rest = after;
        if let Some((prelude, mut body)) = reader.push(piece)? {
            body.extend_from_slice(rest);
            assert_eq!(reader.push(b"more"), Err(PreludeError::AlreadyRead));
            return Ok(Some((prelude, body)));
        }
    }
    Ok(None)
}

fn read(bytes: &[u8]) -> Result<Option<(HttpPrelude, Vec<u8>)>, PreludeError> {
    read_in_pieces(bytes, [])
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

const FULL: &str = r#"{"statusCode":201,"headers":{"Content-Type":"text/plain","X-Custom":"a b"},"cookies":["a=1; Path=/","b=2"]}"#;

fn full_prelude() -> HttpPrelude {
    HttpPrelude {
        status: 201,
        headers: headers(&[("content-type", "text/plain"), ("x-custom", "a b")]),
        cookies: vec!["a=1; Path=/".into(), "b=2".into()],
    }
}

#[test]
fn reads_the_prelude_and_returns_the_body_after_it() {
    let (prelude, body) = read(&output(FULL, b"hello\0world")).unwrap().unwrap();
    assert_eq!(prelude, full_prelude());
    assert_eq!(body, b"hello\0world");
    assert_eq!(
        prelude.response_headers().collect::<Vec<_>>(),
        [
            ("content-type", "text/plain"),
            ("x-custom", "a b"),
            ("set-cookie", "a=1; Path=/"),
            ("set-cookie", "b=2"),
        ]
    );
}

#[test]
fn reads_the_same_split_at_every_byte_boundary() {
    // The body starts with NUL bytes itself: the prelude ends at the first NUL, plus eight.
    let bytes = output(FULL, b"\0\0body");
    let expected = (full_prelude(), b"\0\0body".to_vec());
    for cut in 0..=bytes.len() {
        assert_eq!(
            read_in_pieces(&bytes, [cut]).unwrap(),
            Some(expected.clone()),
            "cut at {cut}"
        );
    }
    assert_eq!(
        read_in_pieces(&bytes, vec![1; bytes.len()]).unwrap(),
        Some(expected)
    );
}

#[test]
fn waits_for_the_whole_separator() {
    let mut reader = PreludeReader::new();
    assert_eq!(reader.push(b"{}"), Ok(None));
    assert_eq!(reader.push(&[0; 7]), Ok(None));
    let (prelude, body) = reader.push(&[0]).unwrap().unwrap();
    assert_eq!((prelude.status, body), (200, Vec::new()));
}

#[test]
fn status_defaults_to_200_and_must_be_an_http_status() {
    let status = |json: &str| read(&output(json, b"")).map(|r| r.unwrap().0.status);
    assert_eq!(status("{}"), Ok(200));
    assert_eq!(status(r#"{"statusCode":null}"#), Ok(200));
    assert_eq!(status(r#"{"statusCode":"404"}"#), Ok(404));
    assert_eq!(status(r#" { "statusCode" : 599 } "#), Ok(599));
    for bad in [
        "600", "99", "100", "103", "199", "-1", "\"abc\"", "2.5", "true",
    ] {
        let error = status(&format!(r#"{{"statusCode":{bad}}}"#)).unwrap_err();
        assert!(
            matches!(error, PreludeError::Malformed(_)),
            "{bad}: {error:?}"
        );
    }
}

#[test]
fn framing_and_pseudo_headers_are_dropped() {
    let json = r#"{"headers":{"Content-Length":"5","transfer-encoding":"chunked","Connection":"close",":status":"500","x-kept":"1"}}"#;
    let (prelude, _) = read(&output(json, b"")).unwrap().unwrap();
    assert_eq!(prelude.headers, headers(&[("x-kept", "1")]));
}

#[test]
fn headers_and_cookies_http_cannot_carry_are_refused() {
    for json in [
        r#"{"headers":{"bad name":"v"}}"#,
        r#"{"headers":{"":"v"}}"#,
        r#"{"headers":{"x":"a\r\nx-injected: 1"}}"#,
        r#"{"headers":{"x":"a\u0000b"}}"#,
        r#"{"headers":{"x":1}}"#,
        r#"{"headers":["x"]}"#,
        r#"{"cookies":["a=1\nb"]}"#,
        r#"{"cookies":"a=1"}"#,
        r#"{"cookies":[1]}"#,
    ] {
        let error = read(&output(json, b"")).unwrap_err();
        assert!(
            matches!(error, PreludeError::Malformed(_)),
            "{json}: {error:?}"
        );
        assert!(error.to_string().starts_with("streamed HTTP integration: the response prelude is refused: the function's result has"), "{error}");
    }
}

#[test]
fn a_prelude_that_is_not_a_json_object_is_refused() {
    for json in ["", "not json", "[]", "\"text\"", "{\"a\":"] {
        let error = read(&output(json, b"body")).unwrap_err();
        assert!(
            matches!(error, PreludeError::NotJson(_)),
            "{json}: {error:?}"
        );
    }
}

#[test]
fn a_first_nul_not_followed_by_seven_more_is_refused() {
    let bytes = b"{}\0\0\0\0\0\0\0body";
    for cut in 0..=bytes.len() {
        assert_eq!(
            read_in_pieces(bytes, [cut]),
            Err(PreludeError::NoSeparator),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_prelude_over_the_limit_is_refused_without_waiting_for_its_end() {
    let padded = |len: usize| {
        let mut json = "{".to_owned() + &" ".repeat(len - 2) + "}";
        json.truncate(len);
        json
    };
    // At the limit: read.
    let at_limit = output(&padded(PRELUDE_LIMIT), b"x");
    assert_eq!(read(&at_limit).unwrap().unwrap().1, b"x");
    assert!(read_in_pieces(&at_limit, vec![1000; 100])
        .unwrap()
        .is_some());
    // One byte over: refused, whole or in pieces, with its NUL or before it arrives.
    let over = output(&padded(PRELUDE_LIMIT + 1), b"x");
    let too_long = Err(PreludeError::TooLong {
        limit: PRELUDE_LIMIT,
    });
    assert_eq!(read(&over), too_long);
    assert_eq!(read_in_pieces(&over, vec![1000; 100]), too_long);
    let mut reader = PreludeReader::new();
    assert_eq!(reader.push(&vec![b' '; PRELUDE_LIMIT]), Ok(None));
    assert_eq!(reader.push(b" "), too_long);
    // And it stays refused.
    assert_eq!(reader.push(b"{}\0\0\0\0\0\0\0\0"), too_long);
}
