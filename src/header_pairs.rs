//! The proxy-wasm serialized header map, read in place: `u32` count, then a `u32` name size
//! and value size per pair, then each name and value followed by a NUL byte (all little
//! endian). Reading it without allocating a `String` per header keeps the one full read of
//! the request headers cheap; values stay bytes (they need not be UTF-8).

/// The pairs of a serialized map, borrowed from it; `None` if it is malformed.
pub fn parse(buffer: &[u8]) -> Option<Vec<(&str, &[u8])>> {
    let count = usize::try_from(read_u32(buffer, 0)?).ok()?;
    let sizes_end = count.checked_mul(8)?.checked_add(4)?;
    let mut pairs = Vec::with_capacity(count.min(256));
    let mut data = sizes_end;
    for i in 0..count {
        let name_size = usize::try_from(read_u32(buffer, 4 + i * 8)?).ok()?;
        let value_size = usize::try_from(read_u32(buffer, 8 + i * 8)?).ok()?;
        let name = buffer.get(data..data.checked_add(name_size)?)?;
        data = data.checked_add(name_size + 1)?;
        let value = buffer.get(data..data.checked_add(value_size)?)?;
        data = data.checked_add(value_size + 1)?;
        pairs.push((std::str::from_utf8(name).ok()?, value));
    }
    (data <= buffer.len()).then_some(pairs)
}

/// Serializes `pairs` in the same format, in one allocation of the exact size; `None` if a
/// size does not fit the format's `u32`.
pub fn serialize(pairs: &[(&str, &[u8])]) -> Option<Vec<u8>> {
    let data: usize = pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(4 + pairs.len() * 8 + data);
    out.extend_from_slice(&u32::try_from(pairs.len()).ok()?.to_le_bytes());
    for (name, value) in pairs {
        out.extend_from_slice(&u32::try_from(name.len()).ok()?.to_le_bytes());
        out.extend_from_slice(&u32::try_from(value.len()).ok()?.to_le_bytes());
    }
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
    Some(out)
}

fn read_u32(buffer: &[u8], at: usize) -> Option<u32> {
    let bytes = buffer.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn serialize(pairs: &[(&str, &[u8])]) -> Vec<u8> {
        super::serialize(pairs).unwrap()
    }

    #[test]
    fn round_trips() {
        let pairs: Vec<(&str, &[u8])> = vec![
            (":method", b"POST"),
            ("x-bin", &[0xff, 0x00, 0x41]),
            ("empty", b""),
        ];
        assert_eq!(parse(&serialize(&pairs)), Some(pairs));
        assert_eq!(parse(&serialize(&[])), Some(vec![]));
    }

    #[test]
    fn rejects_malformed_buffers_without_panicking() {
        let good = serialize(&[("a", b"b"), ("c", b"d")]);
        for cut in 0..good.len() {
            assert_eq!(parse(&good[..cut]), None, "cut at {cut}");
        }
        let mut huge = good.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&huge), None);
        let mut bad_name = serialize(&[("a", b"b")]);
        bad_name[12] = 0xff;
        assert_eq!(parse(&bad_name), None);
    }
}
