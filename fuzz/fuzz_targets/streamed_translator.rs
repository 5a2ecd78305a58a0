//! The streamed answer's translator (`streaming::Translator`) on its own: never a panic; the
//! body pushed in the pieces `split_pattern` gives, whole, or a byte at a time, gives the same
//! opening, the same caller's headers (once, and only for a function-URL answer), the same
//! payload, or the same kind of failure; after a failure every call returns it; a failure's
//! reason is one line.
//!
//! The input is a `StreamedInput` (as `streamed_answer`'s): when it frames its payloads as a
//! good stream and declares no prelude, the payloads come out, in order, and nothing fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::header_pairs;
use mesh_lambda_core::streaming::{Failure, Opening, Translator};
use mesh_lambda_fuzz::StreamedInput;

fuzz_target!(|data: &[u8]| {
    let Some(input) = StreamedInput::read(data) else {
        return;
    };
    let (prelude, body) = (input.prelude, &input.body);
    let content_type = input.content_type();
    let Some(lambda) =
        header_pairs::serialize(&[(":status", &b"200"[..]), ("content-type", content_type)])
    else {
        panic!("Lambda's headers did not serialize");
    };
    let whole = translate(&lambda, body, &[body.len()]);
    assert_eq!(
        translate(&lambda, body, &input.pattern.pieces(body.len())),
        whole
    );
    assert_eq!(translate(&lambda, body, &vec![1; body.len()]), whole);
    assert_eq!(matches!(whole.opening, Opening::AwaitPrelude), prelude);
    if let Some(payloads) = input.payloads.filter(|_| !prelude) {
        assert_eq!(whole.result, Ok((Vec::new(), payloads.concat())));
    }
});

/// What the caller gets of an answer: on a failure, its kind only (its reason may say where
/// the cut fell, and what passed before it depends on the cuts).
#[derive(Debug, PartialEq)]
struct Outcome {
    opening: Opening,
    /// The headers the pushes gave, and the payload.
    result: Result<(Vec<Vec<u8>>, Vec<u8>), &'static str>,
}

fn translate(lambda: &[u8], body: &[u8], pieces: &[usize]) -> Outcome {
    let (mut translator, opening) = Translator::open(lambda.to_vec(), false);
    let Ok(opening) = opening else {
        panic!("a 200 with a body refused at once: {opening:?}");
    };
    let (mut headers, mut payload) = (Vec::new(), Vec::new());
    let mut rest = body;
    let mut failure = None;
    for &size in pieces {
        let (piece, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        match translator.push(piece) {
            Ok(translated) => {
                headers.extend(translated.headers);
                payload.extend(translated.payload);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let failure = failure.or_else(|| translator.finish().err());
    if let Some(failure) = failure {
        assert!(!failure.to_string().contains('\n'), "{failure:?}");
        assert_eq!(translator.push(b"more").as_ref(), Err(&failure));
        assert_eq!(translator.finish().as_ref(), Err(&failure));
        let kind = match failure {
            Failure::Function(_) => "function",
            Failure::Broken(_) => "broken",
        };
        return Outcome {
            opening,
            result: Err(kind),
        };
    }
    let awaited = usize::from(opening == Opening::AwaitPrelude);
    assert_eq!(
        headers.len(),
        awaited,
        "the prelude's headers not given once"
    );
    assert!(!translator.awaits_prelude());
    assert!(translator.is_complete());
    Outcome {
        opening,
        result: Ok((headers, payload)),
    }
}
