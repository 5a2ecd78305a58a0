//! URI encoding as SigV4 defines it: every byte but the RFC 3986 unreserved set
//! (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` with upper-case hex.

/// The hex digit of the low four bits of `n`, upper or lower case.
pub fn hex_digit(n: u8, upper: bool) -> char {
    let n = n & 0x0f;
    let base = if upper { b'A' } else { b'a' };
    char::from(if n < 10 { b'0' + n } else { base + n - 10 })
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `input` URI-encoded to `out`; `/` is kept when `keep_slash`.
pub fn uri_encode_into(out: &mut String, input: &str, keep_slash: bool) {
    uri_encode_bytes_into(out, input.as_bytes(), keep_slash);
}

/// Appends the bytes URI-encoded to `out` (they need not be UTF-8).
pub fn uri_encode_bytes_into(out: &mut String, input: &[u8], keep_slash: bool) {
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4, true));
            out.push(hex_digit(b, true));
        }
    }
}

/// `input` URI-encoded (`/` encoded too).
pub fn uri_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3 / 2);
    uri_encode_into(&mut out, input, false);
    out
}

/// Decodes `%XX` escapes (and nothing else); malformed escapes stay as they are.
pub fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|&h| char::from(h).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(uri_encode("arn:aws:lambda"), "arn%3Aaws%3Alambda");
        assert_eq!(uri_encode("a-._~Z9"), "a-._~Z9");
        assert_eq!(uri_encode("$LATEST"), "%24LATEST");
        assert_eq!(uri_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(uri_encode("ሴ"), "%E1%88%B4");
    }

    #[test]
    fn decodes_escapes_only() {
        assert_eq!(percent_decode("a%3Ab%2f%zz+"), b"a:b/%zz+");
        assert_eq!(percent_decode("%"), b"%");
        assert_eq!(percent_decode("%4"), b"%4");
    }
}
