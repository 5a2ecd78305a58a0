//! The configuration's one error: the path of the field and what is wrong with it.

use serde_json::Value;
use std::fmt;

/// Values are quoted up to this many characters, so an error stays one short log line.
const QUOTE_LIMIT: usize = 80;

/// A configuration error: which field (`arn`, `credentials.max_wait_ms`), and what is wrong
/// with it, quoting the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The value as JSON, shortened so a log line stays a line.
pub(crate) fn quote(value: &Value) -> String {
    let mut text = value.to_string();
    if let Some((cut, _)) = text.char_indices().nth(QUOTE_LIMIT) {
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// A string as `quote` shows it: in double quotes, escaped as in JSON, shortened.
pub(crate) fn quote_str(text: &str) -> String {
    quote(&Value::from(text))
}

/// A field name as an error's path shows it: as it is when it is a plain name, else as
/// `quote_str` shows it (an unknown field's name is the configuration's, and may be long or
/// hold a line break), so the error stays one short line.
pub(crate) fn path_name(name: &str) -> String {
    let plain = name.chars().count() <= QUOTE_LIMIT && !name.chars().any(char::is_control);
    if plain {
        name.to_owned()
    } else {
        quote_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_field() {
        let e = ConfigError::new("credentials.max_wait_ms", "expected a number, got \"x\"");
        assert_eq!(
            e.to_string(),
            "invalid configuration: credentials.max_wait_ms: expected a number, got \"x\""
        );
    }

    #[test]
    fn quotes_as_json_and_cuts_long_values() {
        assert_eq!(quote(&Value::from(5)), "5");
        assert_eq!(quote_str("sideways"), "\"sideways\"");
        assert_eq!(quote_str("a\"b\nc"), r#""a\"b\nc""#);
        let long = quote_str(&"x".repeat(500));
        assert_eq!(long, format!("\"{}...", "x".repeat(79)));
        // Cut on a character, never inside one.
        let wide = quote_str(&"é".repeat(100));
        assert_eq!(wide, format!("\"{}...", "é".repeat(79)));
        let exact = quote_str(&"x".repeat(78));
        assert_eq!(exact.chars().count(), 80);
        assert!(!exact.ends_with("..."));
    }

    #[test]
    fn path_names_are_plain_or_quoted() {
        assert_eq!(path_name("max_wait_ms"), "max_wait_ms");
        assert_eq!(path_name("a\nb"), r#""a\nb""#);
        assert_eq!(
            path_name(&"k".repeat(500)),
            format!("\"{}...", "k".repeat(79))
        );
    }
}
