//! AWS Signature Version 4, the parts this filter needs. The signing key comes from the
//! `aws-sigv4` crate (`generate_signing_key`, behind a check of the clock: `key`); the HMAC and
//! SHA-256 from RustCrypto's `hmac` and `sha2`, behind the non-generic functions of
//! `mesh-lambda-sha256` (`KeyedHmac`, `Sha256`). The canonical requests are built here: the
//! Invoke call's (`invoke::signer`) signs a small, fixed header set with per-second hash
//! states; `form_post` signs the STS calls of assume-role, a fixed shape; `general` signs any
//! request (the AWS test vectors, and the reference both are checked against).

pub mod canonical;
pub mod date;
pub mod encode;
pub mod form_post;
pub mod general;
pub mod key;

pub use key::{ClockOutOfRange, SigningKeyCache};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Lower-case hex of a SHA-256 digest, without allocating.
pub use mesh_lambda_sha256::hex as hex_digest;
