//! STS's answers to `AssumeRole` and `AssumeRoleWithWebIdentity` (Query API, XML): the assumed credentials, or why STS
//! refused (its error `Code` and `Message`), as a reason fit for a log line and the caller's
//! 503. No reason ever holds a secret: the credentials of an answer are never quoted, and the
//! caller's own secret and token are cut out of STS's message (a signature error's message
//! can quote the canonical request, and with it the `x-amz-security-token` header).

use super::iso8601::parse_utc;
use crate::access_keys::Credentials;
use crate::redact::redact;
use crate::xml::{find, read_leaves, Leaves};

/// STS's error document is `ErrorResponse/Error`; moto's (and other Query APIs') wraps the
/// `Error` in `Errors`. Both are read: `(code, message)` paths.
const ERRORS: [(&str, &str); 2] = [
    ("ErrorResponse/Error/Code", "ErrorResponse/Error/Message"),
    (
        "ErrorResponse/Errors/Error/Code",
        "ErrorResponse/Errors/Error/Message",
    ),
];
/// STS's message is quoted up to this many characters.
const MESSAGE_LIMIT: usize = 200;

/// The credentials of a `200` answer, or the reason there are none. `hidden` are the secrets
/// the call was signed with (secret key, session token): never repeated in a reason.
pub fn parse_assume_role_answer(
    status: u32,
    body: &[u8],
    now: u64,
    hidden: &[&str],
) -> Result<Credentials, String> {
    parse_sts_answer("AssumeRole", status, body, now, hidden)
}

/// As `parse_assume_role_answer`, for the answer to `action` (its credentials are at
/// `<action>Response/<action>Result/Credentials`).
pub fn parse_sts_answer(
    action: &str,
    status: u32,
    body: &[u8],
    now: u64,
    hidden: &[&str],
) -> Result<Credentials, String> {
    let leaves = read_leaves(body);
    if status != 200 {
        return Err(refusal(status, body, leaves.ok().as_ref(), hidden));
    }
    let leaves = leaves.map_err(|e| format!("STS's answer is not XML that can be read ({e})"))?;
    if leaves.root() == Some("ErrorResponse") {
        return Err(refusal(status, body, Some(&leaves), hidden));
    }
    credentials(&leaves, action, now)
}

fn credentials(leaves: &Leaves, action: &str, now: u64) -> Result<Credentials, String> {
    let field = |name: &str| -> Result<String, String> {
        let path = format!("{action}Response/{action}Result/Credentials/{name}");
        match leaves.get(&path)? {
            Some(text) if text.trim().is_empty() => {
                Err(format!("STS's answer has an empty {name}"))
            }
            // A header carries them, and a signature hashes them: printable ASCII only.
            Some(text) if !text.bytes().all(|b| b.is_ascii_graphic()) => Err(format!(
                "STS's answer has a {name} with characters other than printable ASCII"
            )),
            Some(text) => Ok(text.to_owned()),
            None => Err(format!("STS's answer has no {path}")),
        }
    };
    let access_key_id = field("AccessKeyId")?;
    let secret_access_key = field("SecretAccessKey")?;
    let session_token = field("SessionToken")?;
    let expiration = field("Expiration")?;
    let expires_at = parse_utc(&expiration)
        .ok_or("STS's answer has an Expiration that is not an RFC 3339 UTC time")?;
    if expires_at <= now {
        return Err(format!(
            "STS's answer expired already (Expiration {expiration})"
        ));
    }
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: Some(session_token),
        expires_at: Some(expires_at),
    })
}

/// Why STS refused: its code and message when the answer is STS's error document, else the
/// status and the start of the text (an answer Envoy made, say "upstream connect error", is
/// the reason the call failed), unless the text may hold credentials.
fn refusal(status: u32, body: &[u8], leaves: Option<&Leaves>, hidden: &[&str]) -> String {
    let error = leaves.and_then(|l| {
        ERRORS.iter().find_map(|(code, message)| {
            let code = l.get(code).ok().flatten()?;
            Some((code, l.get(message).ok().flatten().unwrap_or("")))
        })
    });
    match error {
        Some((code, message)) => {
            let code = quoted(code, 64, hidden);
            let message = quoted(message, MESSAGE_LIMIT, hidden);
            if message.is_empty() {
                format!("STS refused (HTTP {status}): {code}")
            } else {
                format!("STS refused (HTTP {status}): {code}: {message}")
            }
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let holds_credentials = [&b"SecretAccessKey"[..], b"SessionToken"]
                .iter()
                .any(|marker| find(body, marker).is_some());
            let text = if holds_credentials {
                "(not quoted: it may hold credentials)".to_owned()
            } else {
                quoted(&text, MESSAGE_LIMIT, hidden)
            };
            if text.is_empty() {
                format!("STS answered HTTP {status} with no error document")
            } else {
                format!("STS answered HTTP {status} with no error document: {text}")
            }
        }
    }
}

/// `text`'s first line, control characters dropped, the `hidden` strings cut out, at most
/// `limit` characters (with `...` when cut). Cut out after the control characters are gone:
/// a secret with control characters inside it would come back whole when they went (found
/// by the `sts_answer` fuzz target).
fn quoted(text: &str, limit: usize, hidden: &[&str]) -> String {
    let line = text.trim().split('\n').next().unwrap_or("");
    let mut out: String = line.chars().filter(|c| !c.is_control()).collect();
    for secret in hidden {
        out = String::from_utf8_lossy(&redact(out.as_bytes(), secret.as_bytes())).into_owned();
    }
    if let Some((cut, _)) = out.char_indices().nth(limit) {
        out.truncate(cut);
        out.push_str("...");
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests;
