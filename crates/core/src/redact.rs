//! Secrets cut out of text that reaches someone who must not see them. Lambda's (and STS's)
//! signature errors quote what they were sent: `InvalidSignatureException` and
//! `SignatureDoesNotMatch` carry the canonical request, with the `x-amz-security-token`
//! header in it; an answer that echoes the request carries the `authorization` header (the
//! access key id, which names the account, and the signature). `Echoed` is what of one signed
//! call must not reach the caller.

use crate::header_pairs;
use crate::xml::find;

/// What replaces a secret.
const REDACTED: &[u8] = b"<redacted>";

/// `text` with each occurrence of `secret` (unless empty) replaced by `<redacted>`. A UTF-8
/// `secret` matches only at character boundaries, so UTF-8 text stays UTF-8.
pub fn redact(text: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find(rest, secret).filter(|_| !secret.is_empty()) {
        let (Some(before), Some(after)) = (rest.get(..at), rest.get(at + secret.len()..)) else {
            break;
        };
        out.extend_from_slice(before);
        out.extend_from_slice(REDACTED);
        rest = after;
    }
    out.extend_from_slice(rest);
    out
}

/// The secrets of one signed call: its session token, its signature and its access key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Echoed {
    secrets: Vec<Vec<u8>>,
}

impl Echoed {
    /// From the call's `authorization` and `x-amz-security-token` values.
    pub fn of_call(authorization: Option<&[u8]>, session_token: Option<&[u8]>) -> Self {
        let mut secrets = Vec::new();
        if let Some(token) = session_token.filter(|t| !t.is_empty()) {
            // A JSON writer may escape `/` as `\/` (JSON allows it): the token would pass
            // unmatched in a JSON error body.
            if token.contains(&b'/') {
                let escaped = token.iter().fold(Vec::new(), |mut out, &b| {
                    if b == b'/' {
                        out.push(b'\\');
                    }
                    out.push(b);
                    out
                });
                secrets.push(escaped);
            }
            secrets.push(token.to_vec());
        }
        if let Some(authorization) = authorization {
            for (name, end) in [(&b"Signature="[..], &b","[..]), (b"Credential=", b"/")] {
                let Some(at) = find(authorization, name) else {
                    continue;
                };
                let value = authorization.get(at + name.len()..).unwrap_or_default();
                let value = match find(value, end) {
                    Some(cut) => value.get(..cut).unwrap_or_default(),
                    None => value,
                };
                if !value.trim_ascii().is_empty() {
                    secrets.push(value.trim_ascii().to_vec());
                }
            }
        }
        Self { secrets }
    }

    /// From a serialized header map holding the signed call's headers.
    pub fn of_headers(serialized: &[u8]) -> Self {
        let [authorization, token] =
            header_pairs::find_each(serialized, ["authorization", "x-amz-security-token"]);
        Self::of_call(authorization, token)
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `body` with every secret of the call cut out.
    pub fn redact(&self, body: &[u8]) -> Vec<u8> {
        self.secrets
            .iter()
            .fold(body.to_vec(), |text, secret| redact(&text, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTHORIZATION: &[u8] = b"AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    #[test]
    fn redact_cuts_every_occurrence_and_keeps_the_rest() {
        assert_eq!(
            redact(b"xSECRETxSECRET", b"SECRET"),
            b"x<redacted>x<redacted>"
        );
        assert_eq!(redact(b"nothing", b"SECRET"), b"nothing");
        assert_eq!(redact(b"empty secret", b""), b"empty secret");
        assert_eq!(
            redact("éxé".as_bytes(), "é".as_bytes()),
            b"<redacted>x<redacted>"
        );
    }

    /// Lambda's `InvalidSignatureException` quotes the canonical request: the token is in it
    /// (JSON may write its `/` as `\/`); an echo of the request carries the authorization.
    #[test]
    fn a_signed_calls_token_signature_and_key_id_are_cut_out() {
        let echoed = Echoed::of_call(Some(AUTHORIZATION), Some(b"Fwo/GZXIvYXdz+token=="));
        let body = format!(
            "{{\"message\":\"x-amz-security-token:Fwo\\/GZXIvYXdz+token==\\n\",\"echo\":\"{} Fwo/GZXIvYXdz+token==\"}}",
            std::str::from_utf8(AUTHORIZATION).unwrap()
        );
        let redacted = String::from_utf8(echoed.redact(body.as_bytes())).unwrap();
        for secret in [
            "GZXIvYXdz",
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            "ASIAEXAMPLE",
        ] {
            assert!(!redacted.contains(secret), "{secret}: {redacted}");
        }
        assert!(
            redacted.contains("Credential=<redacted>/20150830/us-east-1"),
            "{redacted}"
        );
        assert!(redacted.contains("Signature=<redacted>"), "{redacted}");
    }

    #[test]
    fn without_a_token_the_signature_and_key_id_are_still_cut_out() {
        let headers =
            header_pairs::serialize(&[(":status", &b"403"[..]), ("authorization", AUTHORIZATION)])
                .unwrap();
        let echoed = Echoed::of_headers(&headers);
        assert!(!echoed.is_empty());
        assert_eq!(echoed.redact(b"key ASIAEXAMPLE"), b"key <redacted>");
        assert!(Echoed::of_headers(&header_pairs::serialize(&[]).unwrap()).is_empty());
    }
}
