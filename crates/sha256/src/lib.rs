//! SHA-256 and HMAC-SHA256 (`KeyedHmac`) for the request path, compiled at opt-level 3 (`Cargo.toml`'s release profile).
//!
//! The `sha2`, `digest` and `block-buffer` crates are already built at opt-level 3, but most
//! of their code is generic: it is compiled in the crate that uses it, at that crate's
//! opt-level, and the core is optimized for size ("z"). So a request's buffering, padding,
//! state copies and hex went through size-optimized code (measured: the core at opt-level 3
//! saves about 9 k instructions per 100 B request, but adds 45 KB to the module). The
//! functions here are not generic: the generic code is compiled here, once, for speed, and
//! the core calls it (they are not inlined into their size-optimized callers).

mod hmac;

pub use hmac::KeyedHmac;
use sha2::Digest;

/// A SHA-256 state: absorb bytes with `update`, read the digest of what it holds with
/// `digest` (the state stays usable: a prefix hashed once serves many messages).
#[derive(Clone, Default)]
pub struct Sha256(sha2::Sha256);

impl std::fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256")
    }
}

impl Sha256 {
    pub fn new() -> Self {
        Self::default()
    }

    /// A state that has absorbed `prefix`.
    pub fn with_prefix(prefix: &[u8]) -> Self {
        let mut state = Self::new();
        state.update(prefix);
        state
    }

    #[inline(never)]
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything absorbed so far.
    #[inline(never)]
    pub fn digest(&self) -> [u8; 32] {
        self.0.clone().finalize().into()
    }

    /// The digest of everything absorbed so far followed by `tail` (the state is unchanged).
    #[inline(never)]
    pub fn digest_with(&self, tail: &[u8]) -> [u8; 32] {
        let mut state = self.0.clone();
        state.update(tail);
        state.finalize().into()
    }
}

/// The SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::with_prefix(bytes).digest()
}

/// Lower-case hex of a SHA-256 digest, without allocating.
#[inline(never)]
pub fn hex(digest: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(digest) {
        if let [high, low] = pair {
            *high = DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            *low = DIGITS.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_in_hex() {
        let hex_of = |d: [u8; 32]| String::from_utf8(hex(&d).to_vec()).unwrap();
        assert_eq!(
            hex_of(digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex_of(digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_state_hashes_the_same_in_parts_and_stays_usable() {
        let message: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 500, 1000] {
            let (a, b) = message.split_at(split);
            let mut state = Sha256::with_prefix(a);
            let prefix_digest = state.digest();
            assert_eq!(prefix_digest, digest(a), "the prefix's digest at {split}");
            state.update(b);
            assert_eq!(state.digest(), digest(&message), "split at {split}");
            assert_eq!(state.digest(), digest(&message), "digest does not consume");
            let mut again = Sha256::with_prefix(a);
            assert_eq!(
                again.digest_with(b),
                digest(&message),
                "digest_with at {split}"
            );
            again.update(b);
            assert_eq!(
                again.digest(),
                digest(&message),
                "digest_with does not consume"
            );
        }
    }
}
