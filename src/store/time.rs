//! Instants as stored: RFC 3339 in UTC with exactly six fractional digits, so that text order is
//! time order on every backend.

use jiff::Timestamp;

pub fn stamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_fixed_width_and_round_trip() {
        let a: Timestamp = "2026-11-21T05:00:00Z".parse().unwrap();
        let b: Timestamp = "2026-11-21T05:00:00.123456789Z".parse().unwrap();
        assert_eq!(stamp(a), "2026-11-21T05:00:00.000000Z");
        assert_eq!(stamp(b), "2026-11-21T05:00:00.123456Z");
        assert!(stamp(a) < stamp(b));
        assert_eq!(parse(&stamp(a)), Some(a));
    }
}
