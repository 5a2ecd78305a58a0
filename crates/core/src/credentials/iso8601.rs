//! The `Expiration` timestamps of credential documents: `2026-11-21T13:00:00Z`, optionally
//! with fractional seconds or a `+00:00` offset. Returns seconds since the Unix epoch.

/// Parses an RFC 3339 UTC timestamp; `None` for anything else.
pub fn parse_utc(text: &str) -> Option<u64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', 't'])?;
    let mut d = date.splitn(3, '-');
    let year: u64 = number(d.next()?, 4)?;
    let month: u64 = number(d.next()?, 2)?;
    let day: u64 = number(d.next()?, 2)?;
    let time = time
        .strip_suffix(['Z', 'z'])
        .or_else(|| time.strip_suffix("+00:00"))?;
    let time = time.split_once('.').map_or(time, |(whole, fraction)| {
        if fraction.bytes().all(|b| b.is_ascii_digit()) && !fraction.is_empty() {
            whole
        } else {
            "invalid"
        }
    });
    let mut t = time.splitn(3, ':');
    let hour: u64 = number(t.next()?, 2)?;
    let minute: u64 = number(t.next()?, 2)?;
    let second: u64 = number(t.next()?, 2)?;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn number(s: &str, digits: usize) -> Option<u64> {
    (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_utc;

    #[test]
    fn parses_what_aws_sends() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2015-08-30T12:36:00Z"), Some(1_440_938_160));
        assert_eq!(parse_utc("2015-08-30T12:36:00.123Z"), Some(1_440_938_160));
        assert_eq!(parse_utc("2015-08-30T12:36:00+00:00"), Some(1_440_938_160));
        assert_eq!(parse_utc("2024-02-29T23:59:59Z"), Some(1_709_251_199));
    }

    #[test]
    fn rejects_the_rest() {
        for bad in [
            "",
            "2015-08-30",
            "2015-08-30T12:36:00",
            "2015-08-30T12:36:00+02:00",
            "2015-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2015-13-01T00:00:00Z",
            "2015-08-30T24:00:00Z",
            "15-08-30T12:36:00Z",
            "2015-08-30T12:36:00.Z",
            "2015-08-30T12:36:0xZ",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}
