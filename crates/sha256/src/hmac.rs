//! HMAC-SHA256 (RustCrypto's `hmac`) with the key's two padded blocks hashed once: a
//! `KeyedHmac` is made once per signing key (which changes once a day) and cloned per
//! message, so a MAC costs the message's blocks and the outer hash's one, not two more for the
//! key. Behind non-generic functions, like `Sha256`, so that `hmac`'s generic code is compiled
//! here at opt-level 3 and not in its size-optimized callers.

use ::hmac::{Hmac, KeyInit, Mac};

type HmacSha256 = Hmac<sha2::Sha256>;

/// SHA-256's block: a key is padded (or first hashed) to it.
const BLOCK: usize = 64;

/// An HMAC-SHA256 keyed once, with a message prefix optionally absorbed (`absorb`).
#[derive(Clone)]
pub struct KeyedHmac(HmacSha256);

impl std::fmt::Debug for KeyedHmac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyedHmac")
    }
}

impl KeyedHmac {
    /// Keyed with `key`, of any length (RFC 2104: a key longer than a block is hashed first).
    #[inline(never)]
    pub fn new(key: &[u8]) -> Self {
        // The key as HMAC pads it, so that the infallible `KeyInit::new` takes it: zeros after
        // a short key are what HMAC appends anyway.
        let mut block = [0u8; BLOCK];
        let hashed;
        let key = if key.len() > BLOCK {
            hashed = crate::digest(key);
            hashed.as_slice()
        } else {
            key
        };
        for (b, k) in block.iter_mut().zip(key) {
            *b = *k;
        }
        Self(HmacSha256::new(&block.into()))
    }

    /// This key with `parts` already absorbed: `k.absorb(a).mac(b)` is `k.mac(a ++ b)`. A
    /// message prefix shared by many MACs is hashed once.
    #[inline(never)]
    pub fn absorb(&self, parts: &[&[u8]]) -> Self {
        let mut state = self.0.clone();
        for part in parts {
            state.update(part);
        }
        Self(state)
    }

    /// The MAC of what was absorbed followed by the concatenation of `parts` (the state is
    /// unchanged).
    #[inline(never)]
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut state = self.0.clone();
        for part in parts {
            state.update(part);
        }
        state.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(d: [u8; 32]) -> String {
        String::from_utf8(crate::hex(&d).to_vec()).unwrap()
    }

    /// RFC 4231's test cases 1, 2 and 6 (a key longer than a block).
    #[test]
    fn rfc_4231_vectors() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, message, expected) in cases {
            assert_eq!(hex_of(KeyedHmac::new(key).mac(&[message])), expected);
        }
    }

    #[test]
    fn parts_and_absorbed_prefixes_give_the_same_mac() {
        let message = b"AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nhash";
        for key in [
            &b""[..],
            b"k",
            &[7u8; 32],
            &[9u8; 64],
            &[1u8; 65],
            &[1u8; 100],
        ] {
            let whole = KeyedHmac::new(key).mac(&[message]);
            let keyed = KeyedHmac::new(key);
            for split in [0, 7, 10, message.len()] {
                let (a, b) = message.split_at(split);
                assert_eq!(keyed.mac(&[a, b]), whole, "key of {}", key.len());
                assert_eq!(keyed.absorb(&[a]).mac(&[b]), whole, "key of {}", key.len());
            }
            assert_eq!(
                keyed.mac(&[message]),
                whole,
                "mac leaves the state as it was"
            );
        }
    }
}
