//! The credential documents the container endpoint (ECS, EKS Pod Identity) and the EC2
//! instance metadata service answer with, parsed strictly: anything missing, mistyped or
//! already expired is an error, and no error message ever quotes a secret.

use super::iso8601::parse_utc;
use crate::access_keys::Credentials;
use serde_json::Value;

/// Parses `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", ["Code"]}`.
pub fn parse_credential_document(body: &[u8], now: u64) -> Result<Credentials, String> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| format!("credential document is not JSON ({e})"))?;
    let Value::Object(doc) = doc else {
        return Err("credential document is not a JSON object".into());
    };
    if let Some(code) = doc.get("Code") {
        if code.as_str() != Some("Success") {
            return Err(format!(
                "credential document has Code {code}, not \"Success\""
            ));
        }
    }
    let field = |name: &str| -> Result<String, String> {
        match doc.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(format!("credential document has an empty {name}")),
            Some(_) => Err(format!("credential document's {name} is not a string")),
            None => Err(format!("credential document has no {name}")),
        }
    };
    let access_key_id = field("AccessKeyId")?;
    let secret_access_key = field("SecretAccessKey")?;
    let session_token = field("Token")?;
    let expiration_text = field("Expiration")?;
    let expires_at = parse_utc(&expiration_text).ok_or_else(|| {
        format!("credential document's Expiration {expiration_text:?} is not an RFC 3339 UTC time")
    })?;
    if expires_at <= now {
        return Err(format!(
            "credential document expired already (Expiration {expiration_text})"
        ));
    }
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: Some(session_token),
        expires_at: Some(expires_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

    fn doc(fields: &str) -> Vec<u8> {
        format!("{{{fields}}}").into_bytes()
    }

    const GOOD: &str = r#""AccessKeyId":"ASIA1","SecretAccessKey":"SECRET","Token":"TOKEN","Expiration":"2015-08-30T13:36:00Z""#;

    #[test]
    fn parses_ecs_and_imds_documents() {
        let c = parse_credential_document(&doc(GOOD), NOW).unwrap();
        assert_eq!(c.access_key_id, "ASIA1");
        assert_eq!(c.session_token.as_deref(), Some("TOKEN"));
        assert_eq!(c.expires_at, Some(NOW + 3600));
        let imds = format!(r#""Code":"Success","Type":"AWS-HMAC",{GOOD}"#);
        assert!(parse_credential_document(&doc(&imds), NOW).is_ok());
    }

    #[test]
    fn rejects_bad_documents_without_quoting_secrets() {
        let cases = [
            "nope".as_bytes().to_vec(),
            b"[]".to_vec(),
            doc(r#""AccessKeyId":"A""#),
            doc(&GOOD.replace("\"Token\":\"TOKEN\",", "")),
            doc(&GOOD.replace("\"SECRET\"", "5")),
            doc(&GOOD.replace("\"SECRET\"", "\"\"")),
            doc(&GOOD.replace("2015-08-30T13:36:00Z", "2015-08-30T12:00:00Z")),
            doc(&GOOD.replace("2015-08-30T13:36:00Z", "tomorrow")),
            doc(&format!(r#""Code":"AssumeRoleUnauthorizedAccess",{GOOD}"#)),
        ];
        for body in cases {
            let err = parse_credential_document(&body, NOW).unwrap_err();
            assert!(!err.contains("SECRET") && !err.contains("TOKEN"), "{err}");
        }
    }
}
