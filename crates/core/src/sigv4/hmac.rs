//! HMAC-SHA256 with the key's two padded blocks hashed once. The signing key changes once a
//! day, so every request saves two of the SHA-256 blocks an HMAC costs. Checked against
//! `aws_sigv4::sign::v4::calculate_signature` in the tests.

use mesh_lambda_sha256::{digest, Sha256};

const BLOCK: usize = 64;

#[derive(Clone)]
pub struct KeyedHmac {
    inner: Sha256,
    outer: Sha256,
}

impl KeyedHmac {
    pub fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let digest = digest(key);
            for (b, k) in block.iter_mut().zip(digest.iter()) {
                *b = *k;
            }
        } else {
            for (b, k) in block.iter_mut().zip(key) {
                *b = *k;
            }
        }
        let pad = |byte: u8| -> Sha256 {
            let mut padded = block;
            for b in padded.iter_mut() {
                *b ^= byte;
            }
            let mut h = Sha256::new();
            h.update(&padded);
            h
        };
        Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// This key with `parts` already absorbed: `k.absorb(a).mac(b)` is `k.mac(a ++ b)`. A
    /// message prefix shared by many MACs is hashed once.
    pub fn absorb(&self, parts: &[&[u8]]) -> Self {
        let mut inner = self.inner.clone();
        for part in parts {
            inner.update(part);
        }
        Self {
            inner,
            outer: self.outer.clone(),
        }
    }

    /// The MAC of the concatenation of `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let inner = match parts {
            [one] => self.inner.digest_with(one),
            _ => {
                let mut inner = self.inner.clone();
                for part in parts {
                    inner.update(part);
                }
                inner.digest()
            }
        };
        self.outer.digest_with(&inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_aws_sigv4() {
        for key in [&b""[..], b"k", &[7u8; 32], &[9u8; 64], &[1u8; 100]] {
            let message = b"AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nhash";
            let ours = KeyedHmac::new(key).mac(&[&message[..10], &message[10..]]);
            let absorbed = KeyedHmac::new(key)
                .absorb(&[&message[..7]])
                .mac(&[&message[7..]]);
            assert_eq!(ours, absorbed);
            let theirs = aws_sigv4::sign::v4::calculate_signature(key, message);
            assert_eq!(
                std::str::from_utf8(&super::super::hex_digest(&ours)).unwrap(),
                theirs,
                "key of {} bytes",
                key.len()
            );
        }
    }
}
