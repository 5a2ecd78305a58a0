//! The proxy-wasm serialized header map, read in place: `u32` count, then a `u32` name size
//! and value size per pair, then each name and value followed by a NUL byte (all little
//! endian). Reading it without allocating a `String` per header keeps the one full read of
//! the request headers cheap; values stay bytes (they need not be UTF-8).
//!
//! Its own crate so that it is compiled at opt-level 3 while the rest of the filter is
//! optimized for size: every request walks two maps and writes one. The functions are not
//! generic (generic code is compiled where it is used, at that crate's opt-level).

#![forbid(unsafe_code)]

/// The pairs of a serialized map, borrowed from it; `None` if it is malformed.
pub fn parse(buffer: &[u8]) -> Option<Vec<(&str, &[u8])>> {
    let pairs = Pairs::new(buffer)?;
    let mut out = Vec::with_capacity(pairs.count.min(256));
    for pair in pairs {
        let (name, value) = pair?;
        out.push((std::str::from_utf8(name).ok()?, value));
    }
    Some(out)
}

/// The value of the first pair named `name`, read without building the list; `None` if there
/// is none (or the map is malformed up to it).
pub fn find<'a>(buffer: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let mut found = [None];
    find_into(buffer, &[name], &mut found);
    let [value] = found;
    value
}

/// The values of the first pairs named `names`, in one pass over the map (the request path
/// looks for several names; the module is size-optimized, so a pass costs, in V8, about a
/// hundred instructions per pair); `None` for a name not there (or past a malformed pair).
pub fn find_each<'a, const N: usize>(buffer: &'a [u8], names: [&str; N]) -> [Option<&'a [u8]>; N] {
    let mut found = [None; N];
    find_into(buffer, &names, &mut found);
    found
}

/// `find_each`, not generic: `found[i]` gets the value of `names[i]`.
#[inline(never)]
pub fn find_into<'a>(buffer: &'a [u8], names: &[&str], found: &mut [Option<&'a [u8]>]) {
    let n = names.len().min(found.len());
    let Some(mut pairs) = Pairs::new(buffer) else {
        return;
    };
    let mut missing = n;
    while missing > 0 && pairs.index < pairs.count {
        let Some((name, value)) = pairs.next_pair() else {
            break;
        };
        pairs.index += 1;
        let mut i = 0;
        while i < n {
            if let (Some(slot @ None), Some(wanted)) = (found.get_mut(i), names.get(i)) {
                if name == wanted.as_bytes() {
                    *slot = Some(value);
                    missing -= 1;
                }
            }
            i += 1;
        }
    }
}

/// The pairs in order; an item is `None` where the map turns out malformed (and is the last).
/// Every slice is bounds-checked, so a pair that is returned lies inside the buffer.
struct Pairs<'a> {
    buffer: &'a [u8],
    count: usize,
    /// The next pair's number.
    index: usize,
    /// Where the next name starts.
    data: usize,
}

impl<'a> Pairs<'a> {
    fn new(buffer: &'a [u8]) -> Option<Self> {
        let count = usize::try_from(read_u32(buffer, 0)?).ok()?;
        Some(Self {
            buffer,
            count,
            index: 0,
            data: count.checked_mul(8)?.checked_add(4)?,
        })
    }

    fn next_pair(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let sizes = 4 + self.index * 8;
        let name_size = usize::try_from(read_u32(self.buffer, sizes)?).ok()?;
        let value_size = usize::try_from(read_u32(self.buffer, sizes + 4)?).ok()?;
        let name = self.terminated(name_size)?;
        let value = self.terminated(value_size)?;
        Some((name, value))
    }

    /// The next `size` bytes, which must be followed by their NUL terminator; moves past both.
    fn terminated(&mut self, size: usize) -> Option<&'a [u8]> {
        let end = self.data.checked_add(size)?;
        let bytes = self.buffer.get(self.data..end)?;
        self.buffer.get(end)?;
        self.data = end + 1;
        Some(bytes)
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Option<(&'a [u8], &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.count {
            return None;
        }
        let pair = self.next_pair();
        // After a malformed pair, nothing more.
        self.index = if pair.is_some() {
            self.index + 1
        } else {
            self.count
        };
        Some(pair)
    }
}

/// Serializes `pairs` in the same format, in one allocation of the exact size; `None` if a
/// size does not fit the format's `u32`.
#[inline(never)]
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
    fn finds_a_value_without_parsing_everything() {
        let map = serialize(&[(":path", b"/"), ("content-length", b"12"), ("x", b"")]);
        assert_eq!(super::find(&map, "content-length"), Some(&b"12"[..]));
        assert_eq!(super::find(&map, "x"), Some(&b""[..]));
        assert_eq!(super::find(&map, "absent"), None);
        for cut in 0..map.len() {
            let _ = super::find(&map[..cut], "x");
        }
        let twice = serialize(&[("a", b"1"), ("b", b"2"), ("a", b"3")]);
        assert_eq!(
            super::find_each(&twice, ["b", "absent", "a"]),
            [Some(&b"2"[..]), None, Some(&b"1"[..])],
            "the first of each"
        );
        assert_eq!(super::find_each(&twice, ["a", "a"]), [Some(&b"1"[..]); 2]);
        for cut in 0..twice.len() {
            let found = super::find_each(&twice[..cut], ["a", "b"]);
            assert!(
                found.iter().flatten().all(|v| *v == b"1" || *v == b"2"),
                "cut at {cut}"
            );
        }
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
