//! Files the VM cannot read, through Envoy: the loopback listener of `envoy/files.yaml` serves
//! each file's current contents (an SDS generic secret Envoy re-reads when Kubernetes swaps the
//! file's `..data` symlink) at `/<name>`, as `{"contents": "..."}`. A provider that needs a
//! file asks with `request` and reads the answer with `contents`. docs/src/token-file.md.

use super::chain::Callout;

/// The files, by the name of their route and SDS secret in `envoy/files.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchedFile {
    /// IRSA's projected service-account token (`AWS_WEB_IDENTITY_TOKEN_FILE`).
    WebIdentityToken,
    /// EKS Pod Identity's token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
    PodIdentityToken,
    /// The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`).
    AwsCredentials,
}

impl WatchedFile {
    /// The route and the SDS secret's name.
    pub fn name(self) -> &'static str {
        match self {
            WatchedFile::WebIdentityToken => "web-identity-token",
            WatchedFile::PodIdentityToken => "pod-identity-token",
            WatchedFile::AwsCredentials => "aws-credentials",
        }
    }

    /// The variable naming the file in the SDKs, for messages.
    fn variable(self) -> &'static str {
        match self {
            WatchedFile::WebIdentityToken => "AWS_WEB_IDENTITY_TOKEN_FILE",
            WatchedFile::PodIdentityToken => "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            WatchedFile::AwsCredentials => "AWS_SHARED_CREDENTIALS_FILE",
        }
    }
}

/// The cluster reaching the listener of `envoy/files.yaml`.
pub const DEFAULT_FILES_CLUSTER: &str = "mesh_lambda_files";

/// The authority of the GET (the listener answers any).
const AUTHORITY: &str = "mesh-lambda-files";

/// The largest answer read: a token is 1-2 KiB, a credentials file a few.
const MAX_CONTENTS: usize = 64 * 1024;

/// The GET for `file`'s current contents.
pub fn request(cluster: &str, file: WatchedFile) -> Callout {
    Callout {
        cluster: cluster.to_owned(),
        method: "GET",
        path: format!("/{}", file.name()),
        authority: AUTHORITY.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// The file's contents from the listener's answer, or why there are none. Never quotes a
/// 200's body (it is the secret); other answers are Envoy's own short texts.
pub fn contents(
    file: WatchedFile,
    cluster: &str,
    status: u32,
    body: &[u8],
) -> Result<String, String> {
    let name = file.name();
    match status {
        200 => {}
        // credential_injector's answer when its secret has no value.
        401 => {
            return Err(format!(
                "the file of {} is missing or empty (Envoy's SDS secret {name} has no value)",
                file.variable()
            ))
        }
        404 => {
            return Err(format!(
                "the listener behind cluster {cluster} serves no /{name} \
                 (add its route, injector and SDS file: envoy/files.yaml)"
            ))
        }
        _ => {
            return Err(format!(
                "HTTP {status} from the files listener (cluster {cluster}){}",
                super::providers::detail(body)
            ))
        }
    }
    if body.len() > MAX_CONTENTS {
        return Err(format!(
            "the file of {} is larger than {MAX_CONTENTS} bytes",
            file.variable()
        ));
    }
    let answer: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    match answer.as_ref().and_then(|a| a.get("contents")?.as_str()) {
        Some("") => Err(format!("the file of {} is empty", file.variable())),
        Some(text) => Ok(text.to_owned()),
        None => Err(format!(
            "the files listener (cluster {cluster}) answered /{name} with a body that is not \
             {{\"contents\": \"...\"}} (its local_reply_config: envoy/files.yaml)"
        )),
    }
}

/// The token in the listener's answer for `file`: `contents`, then `token`.
pub fn token_answer(
    file: WatchedFile,
    cluster: &str,
    status: u32,
    body: &[u8],
) -> Result<String, String> {
    contents(file, cluster, status, body).and_then(|text| token(file, &text))
}

/// Why a provider has no file when its callout to the listener got no answer.
pub fn no_answer(cluster: &str, reason: &str) -> String {
    format!("no answer from the files listener (cluster \"{cluster}\"): {reason}")
}

/// A token from a file: without surrounding whitespace (a file written by `echo` ends in a
/// newline; Envoy 1.40 trims it, 1.36 does not), and fit for a header or a form field.
fn token(file: WatchedFile, text: &str) -> Result<String, String> {
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("the file of {} is empty", file.variable()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "the file of {} holds characters other than printable ASCII (a token has none)",
            file.variable()
        ));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = DEFAULT_FILES_CLUSTER;

    #[test]
    fn asks_the_listener_for_the_file_by_name() {
        let callout = request("files", WatchedFile::PodIdentityToken);
        assert_eq!(callout.cluster, "files");
        assert_eq!(callout.method, "GET");
        assert_eq!(callout.path, "/pod-identity-token");
        assert!(callout.body.is_empty());
    }

    #[test]
    fn reads_the_contents_of_a_200() {
        let body = br#"{"contents":"[default]\naws_access_key_id = A\n\"q\" \\ "}"#;
        assert_eq!(
            contents(WatchedFile::AwsCredentials, CLUSTER, 200, body).unwrap(),
            "[default]\naws_access_key_id = A\n\"q\" \\ "
        );
    }

    #[test]
    fn says_why_there_are_no_contents_without_quoting_a_secret() {
        let file = WatchedFile::WebIdentityToken;
        let cases: [(u32, &[u8], &str); 7] = [
            (401, b"Failed to inject credential.", "missing or empty"),
            (404, b"", "serves no /web-identity-token"),
            (503, b"upstream connect error", "HTTP 503 from the files listener (cluster mesh_lambda_files) (upstream connect error)"),
            (200, br#"{"contents":""}"#, "is empty"),
            (200, br#"{"token":"secret-abc"}"#, "not {\"contents\""),
            (200, b"secret-abc", "not {\"contents\""),
            (200, br#"{"contents":7}"#, "not {\"contents\""),
        ];
        for (status, body, needle) in cases {
            let reason = contents(file, CLUSTER, status, body).unwrap_err();
            assert!(reason.contains(needle), "{status}: {reason}");
            assert!(!reason.contains("secret-abc"), "{reason}");
            assert!(reason.contains("AWS_WEB_IDENTITY_TOKEN_FILE") || status != 401);
        }
        let big = format!(r#"{{"contents":"{}"}}"#, "a".repeat(MAX_CONTENTS));
        assert!(contents(file, CLUSTER, 200, big.as_bytes())
            .unwrap_err()
            .contains("larger than"));
    }

    #[test]
    fn a_token_is_trimmed_and_printable() {
        let file = WatchedFile::WebIdentityToken;
        assert_eq!(token(file, "eyJ.a.b\n").unwrap(), "eyJ.a.b");
        assert!(token(file, " \n").unwrap_err().contains("empty"));
        assert!(token(file, "a\nb").unwrap_err().contains("printable"));
        assert!(token(file, "a\u{e9}").unwrap_err().contains("printable"));
    }
}
