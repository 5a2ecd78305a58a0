//! The shared credentials file's reader (`credentials::profile_file`): the input's first line
//! is the profile, the rest the file. Accepted keys are whole values of the file; an error
//! is the same whatever the values are (so it never quotes one), and no input panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::credentials::profile_file::read_profile;

fuzz_target!(|input: &str| {
    let (profile, text) = input.split_once('\n').unwrap_or((input, ""));
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match read_profile(text, profile) {
        Ok(c) => {
            assert_eq!(c.expires_at, None);
            for value in [Some(&c.access_key_id), Some(&c.secret_access_key)]
                .into_iter()
                .chain([c.session_token.as_ref()])
                .flatten()
            {
                assert!(!value.is_empty() && value.trim() == value);
                assert!(!value.contains(['\n', '\r']));
                assert!(text.contains(value.as_str()));
            }
        }
        Err(reason) => assert_eq!(read_profile(&masked(text), profile), Err(reason)),
    }
});

/// The text with every character of every value replaced but spaces and control characters:
/// lines keep their kind, indentation, emptiness and refusals, so only a message quoting a
/// value could change.
fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_start();
        let split = match content.chars().next() {
            Some('[' | '#' | ';') | None => None,
            _ => content.find(['=', ':']),
        };
        match split {
            Some(at) => {
                let start = line.len() - content.len() + at + 1;
                out.push_str(&line[..start]);
                out.extend(line[start..].chars().map(|c| {
                    if c.is_whitespace() || c.is_control() {
                        c
                    } else {
                        'x'
                    }
                }));
            }
            None => out.push_str(line),
        }
    }
    out
}
