//! The HTTP integration's prelude reader (`streaming::http_integration`): the function's output
//! pushed in any pieces (`split_pattern`) gives the same prelude, body and error as pushed
//! whole; the body is exactly what follows the prelude's first NUL and seven more; a prelude
//! read has a final HTTP status (200..=599), header names that are lower-case tokens, no
//! framing or pseudo header, and no value (or cookie) with a control byte (RFC 9110 5.5).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::event::result::FRAMING_HEADERS;
use mesh_lambda_core::streaming::http_integration::{
    HttpPrelude, PreludeError, PreludeReader, PRELUDE_LIMIT,
};
use mesh_lambda_fuzz::is_field_value;
use mesh_lambda_fuzz::split_pattern;

type Read = Result<Option<(HttpPrelude, Vec<u8>)>, PreludeError>;

fuzz_target!(|data: &[u8]| {
    let (pieces, output) = split_pattern(data);
    let whole = read(output, &[output.len()]);
    assert_eq!(read(output, &pieces.pieces(output.len())), whole);
    let Ok(Some((prelude, body))) = whole else {
        return;
    };
    let Some(end) = output.iter().position(|&b| b == 0) else {
        panic!("a prelude without a NUL");
    };
    assert!(end <= PRELUDE_LIMIT);
    assert_eq!(output.get(end..end + 8), Some(&[0u8; 8][..]));
    assert_eq!(body, output[end + 8..]);
    assert!((200..=599).contains(&prelude.status), "not a final status");
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    for (name, value) in prelude.response_headers() {
        assert!(!name.is_empty() && name.bytes().all(token), "{name:?}");
        assert_eq!(name, name.to_ascii_lowercase());
        assert!(!FRAMING_HEADERS.contains(&name), "the function set {name}");
        assert!(is_field_value(value), "{value:?}");
    }
});

/// What the reader makes of `output` in pieces; after the prelude, the rest is body.
fn read(output: &[u8], pieces: &[usize]) -> Read {
    let mut reader = PreludeReader::new();
    let mut rest = output;
    for &len in pieces {
        let (piece, after) = rest.split_at(len.min(rest.len()));
        rest = after;
        match reader.push(piece) {
            Ok(None) => {}
            Ok(Some((prelude, mut body))) => {
                body.extend_from_slice(rest);
                assert_eq!(reader.push(b"x"), Err(PreludeError::AlreadyRead));
                return Ok(Some((prelude, body)));
            }
            Err(e) => {
                assert_eq!(reader.push(b"x"), Err(e.clone()));
                let text = e.to_string();
                assert!(!text.contains(['\n', '\r']), "{text:?}");
                return Err(e);
            }
        }
    }
    Ok(None)
}
