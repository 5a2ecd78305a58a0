//! CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the checksum of the event-stream
//! prelude and message. Written here rather than linked: no CRC crate is in the filter's
//! dependency tree, and a byte-at-a-time table is 1 KiB of data and a few instructions, where
//! the event stream's messages are small and already copied once.

/// The 256 remainders of one byte, computed at compile time (so an index out of bounds
/// would fail the build, not panic).
#[allow(clippy::indexing_slicing)]
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
};

/// A running CRC-32: `update` with the bytes in order, `finish` for the checksum.
#[derive(Debug, Clone, Copy)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    pub const fn new() -> Self {
        Self { state: !0 }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.state;
        for &byte in bytes {
            // The index is a u8, so it is always inside the 256-entry table.
            let index = usize::from((crc as u8) ^ byte);
            crc = (crc >> 8) ^ TABLE.get(index).copied().unwrap_or_default();
        }
        self.state = crc;
    }

    pub const fn finish(self) -> u32 {
        !self.state
    }
}

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::{crc32, Crc32};

    #[test]
    fn matches_the_published_check_values() {
        // The "check" value of CRC-32/ISO-HDLC (the catalogue of parametrised CRC algorithms).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"a"), 0xE8B7_BE43);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        // The prelude of aws-c-event-stream's "no headers" test message: 00 00 00 1D, 00 00 00 00.
        assert_eq!(crc32(&[0, 0, 0, 0x1D, 0, 0, 0, 0]), 0xFD52_8C5A);
    }

    #[test]
    fn running_crc_is_the_same_over_any_split() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let whole = crc32(&data);
        for cut in [0, 1, 7, 255, 256, 999, 1000] {
            let (a, b) = data.split_at(cut);
            let mut crc = Crc32::new();
            crc.update(a);
            crc.update(b);
            assert_eq!(crc.finish(), whole, "cut at {cut}");
        }
    }

    #[test]
    fn agrees_with_crc32fast() {
        // crc32fast (a dev-dependency through aws-smithy-eventstream): an implementation
        // nobody here wrote, over inputs of every length up to 300.
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        for end in 0..=data.len() {
            let bytes = &data[..end];
            assert_eq!(crc32(bytes), crc32fast::hash(bytes), "length {end}");
        }
    }
}
