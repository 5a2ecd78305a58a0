//! sha256 digests as OCI writes them (`sha256:<64 lowercase hex>`), and the check that bytes
//! are what their descriptor says.

use sha2::{Digest as _, Sha256};

pub const PREFIX: &str = "sha256:";

/// The lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("{PREFIX}{}", sha256_hex(bytes))
}

/// Whether `hex` is a sha256 in lowercase hex (what `sha256sum` prints).
pub fn is_sha256_hex(hex: &str) -> bool {
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks `bytes` against a digest and size: `what` names them in the message.
pub fn verify(what: &str, digest: &str, size: u64, bytes: &[u8]) -> Result<(), String> {
    check(what, digest, size, &digest_of(bytes), bytes.len() as u64)
}

/// Checks a digest and size computed on the way against the expected ones.
pub fn check(
    what: &str,
    digest: &str,
    size: u64,
    actual: &str,
    actual_size: u64,
) -> Result<(), String> {
    if actual != digest {
        return Err(format!(
            "digest mismatch: {what} should be {digest} but its bytes hash to {actual}; \
             the copy is corrupt or was tampered with, do not use it"
        ));
    }
    if actual_size != size {
        return Err(format!(
            "size mismatch: {what} ({digest}) should be {size} bytes but is {actual_size}"
        ));
    }
    Ok(())
}

/// sha256 over bytes as they go by.
#[derive(Default)]
pub struct Running {
    sha: Sha256,
    pub bytes: u64,
}

impl Running {
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// `sha256:<hex>`
    pub fn digest(self) -> String {
        let hex: String = self
            .sha
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{PREFIX}{hex}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_empty_string_hashes_to_the_known_value() {
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_hex(&sha256_hex(b"x")));
        assert!(!is_sha256_hex("E3B0"));
    }

    #[test]
    fn verify_names_the_blob_and_both_digests() {
        let digest = digest_of(b"abc");
        assert!(verify("layer", &digest, 3, b"abc").is_ok());
        let error = verify("layer", &digest, 3, b"abd").unwrap_err();
        assert!(error.starts_with("digest mismatch: layer should be sha256:"));
        assert!(error.contains(&digest_of(b"abd")));
        assert!(verify("layer", &digest, 4, b"abc")
            .unwrap_err()
            .starts_with("size mismatch"));
    }
}
