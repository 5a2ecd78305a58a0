//! The AWS shared credentials file (`~/.aws/credentials`, `AWS_SHARED_CREDENTIALS_FILE`): one
//! profile's keys out of its INI text. The text comes through Envoy (`super::files`); the
//! `credentials_file` provider asks for it at each fetch.
//!
//! The rules are botocore's (`configloader.raw_config_parse` over Python's
//! `configparser.RawConfigParser`, read by `credentials.SharedCredentialProvider`), where it
//! and the AWS SDKs and Tools reference guide (docs.aws.amazon.com/sdkref/latest/guide/
//! file-format.html) agree, and stricter where a file could mean two things:
//!
//! - A section `[name]` is the profile `name`, spaces around the name ignored. The word
//!   `profile` belongs to the config file's headers (`[profile dev]`), not the credentials
//!   file's (the guide: do not use the word `profile` in the credentials file; botocore reads
//!   the credentials file without `build_profile_map`, so `[profile dev]` there is a profile
//!   named `profile dev`). A missing profile's message points out such a header.
//! - Profile names are case-sensitive; keys are not (configparser lowercases option names).
//! - `key = value` or `key: value` (configparser's two delimiters), split at the first;
//!   spaces around key and value dropped. Whole-line comments start with `#` or `;`; a `#`
//!   after a value is part of it (configparser has no inline comments by default).
//! - An indented line after a property continues its value (configparser's multi-line
//!   values): refused for the keys read here, since a key is one line.
//! - The session token is `aws_session_token`, or the older `aws_security_token`, which
//!   botocore reads first when both are given (`SharedCredentialProvider.TOKENS`).
//! - Duplicates: configparser (strict) refuses a section or key given twice, the whole file;
//!   the Rust SDK merges them. Here the profile read may appear once and set each key once;
//!   duplicates elsewhere are not this reader's business.
//!
//! - A value holding a control character (a lone carriage return, which Python's universal
//!   newlines would end the line at, a NUL) is refused.
//!
//! Errors name the profile, the key and the line, and never quote a value.

use crate::access_keys::Credentials;

const ACCESS_KEY_ID: &str = "aws_access_key_id";
const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
const SESSION_TOKEN: &str = "aws_session_token";
const SECURITY_TOKEN: &str = "aws_security_token";

/// A key read from the profile: its name, and once found its value and line.
#[derive(Clone, Copy)]
struct Key<'a> {
    name: &'static str,
    found: Option<(&'a str, usize)>,
}

/// The profile's keys (no expiry: the caller decides how long to keep them), or why not.
pub fn read_profile(text: &str, profile: &str) -> Result<Credentials, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut keys = [
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        SECURITY_TOKEN,
    ]
    .map(|name| Key { name, found: None });
    // The line of the profile's header, once seen; whether the current section is it.
    let mut header_line = None;
    let mut in_profile = false;
    // The indentation of the current property, and which key it is if one read here.
    let mut property: Option<(usize, Option<Key<'_>>)> = None;
    // A `[profile <name>]` header, for the hint when the profile is missing.
    let mut prefixed = None;

    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let content = line.trim();
        if content.is_empty() || content.starts_with(['#', ';']) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let Some((property_indent, key)) = property {
            if indent > property_indent {
                if let (true, Some(key)) = (in_profile, key) {
                    return Err(format!(
                        "profile {profile} of the shared credentials file: {} (line {}) \
                         continues on the indented line {number}; a key is one line",
                        key.name,
                        key.found.map_or(0, |(_, line)| line)
                    ));
                }
                continue;
            }
        }
        property = None;
        if let Some(header) = content.strip_prefix('[') {
            let Some((name, _)) = header.rsplit_once(']') else {
                return Err(format!(
                    "line {number} of the shared credentials file opens a section header \
                     with '[' and does not close it with ']'"
                ));
            };
            let name = name.trim();
            in_profile = name == profile;
            if in_profile {
                if let Some(first) = header_line {
                    return Err(format!(
                        "profile {profile} appears twice in the shared credentials file \
                         (lines {first} and {number}); give it once"
                    ));
                }
                header_line = Some(number);
            } else if name
                .strip_prefix("profile")
                .is_some_and(|rest| rest.starts_with([' ', '\t']) && rest.trim() == profile)
            {
                prefixed.get_or_insert(number);
            }
            continue;
        }
        let Some((key, value)) = content.split_once(['=', ':']) else {
            if in_profile {
                return Err(format!(
                    "line {number} of profile {profile} in the shared credentials file is \
                     not `key = value`, a [section] or a comment"
                ));
            }
            continue;
        };
        let key = key.trim();
        let slot = keys.iter_mut().find(|k| k.name.eq_ignore_ascii_case(key));
        let Some(slot) = slot.filter(|_| in_profile) else {
            property = Some((indent, None));
            continue;
        };
        if let Some((_, first)) = slot.found {
            return Err(format!(
                "profile {profile} of the shared credentials file sets {} twice \
                 (lines {first} and {number}); set it once",
                slot.name
            ));
        }
        let value = value.trim();
        // A lone carriage return (a line end to Python's universal newlines, not to
        // `lines`), a NUL, ...: no key holds one.
        if value.contains(char::is_control) {
            return Err(format!(
                "profile {profile} of the shared credentials file: {} (line {number}) holds \
                 a control character",
                slot.name
            ));
        }
        slot.found = Some((value, number));
        property = Some((indent, Some(*slot)));
    }

    if header_line.is_none() {
        let hint = match prefixed {
            Some(line) => format!(
                " (line {line} has [profile {profile}]: the credentials file names a profile \
                 without the word `profile`, which is the config file's form; write \
                 [{profile}])"
            ),
            None => String::new(),
        };
        return Err(format!(
            "profile {profile} is not in the shared credentials file{hint}"
        ));
    }
    let [access_key_id, secret_access_key, session_token, security_token] = keys;
    let required = |key: Key<'_>| match key.found {
        Some(("", line)) => Err(format!(
            "profile {profile} of the shared credentials file: {} is empty (line {line})",
            key.name
        )),
        Some((value, _)) => Ok(value.to_owned()),
        None => Err(format!(
            "profile {profile} of the shared credentials file has no {}",
            key.name
        )),
    };
    Ok(Credentials {
        access_key_id: required(access_key_id)?,
        secret_access_key: required(secret_access_key)?,
        session_token: [security_token, session_token]
            .into_iter()
            .filter_map(|key| key.found)
            .map(|(value, _)| value)
            .find(|value| !value.is_empty())
            .map(str::to_owned),
        expires_at: None,
    })
}

#[cfg(test)]
mod tests;
