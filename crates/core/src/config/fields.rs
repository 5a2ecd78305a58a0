//! The field reader: one JSON object of the configuration, read one field at a time.
//!
//! Each getter reads a field by name, records the name as known, and gives `Ok(None)` when
//! the field is absent or `null` (the default applies), the typed value when it is well
//! formed, and otherwise an error that names the field's path and quotes the value. `finish`
//! then refuses any field no getter asked for, listing the names that were asked for: the
//! list of known fields is the list of reads, so adding a field is adding its read.
//!
//! The way to use it: bind every read's result, call `finish()?`, then take the results
//! with `?` in field order. An unknown field is then reported before anything else, as a
//! misspelt name is the likely cause of other errors (a required field missing).

use super::error::{path_name, quote, quote_str, ConfigError};
use serde_json::{Map, Value};
use std::ops::RangeInclusive;

/// A field that takes one of a fixed set of names (an enum in the configuration).
pub trait Choice: Copy + PartialEq {
    /// What one is called in an error: "unknown {WHAT} \"x\", expected one of ...".
    const WHAT: &'static str;
    /// The names an error lists, in order.
    fn names() -> Vec<&'static str>;
    /// The value with this name, if any.
    fn from_name(name: &str) -> Option<Self>;
}

/// One JSON object of the configuration, and the path of its fields (`""` at the top,
/// `"credentials."` inside the `credentials` block).
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
    /// The names read so far, in the order read.
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// The configuration's top-level object.
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Self::nested(object, String::new())
    }

    fn nested(object: &'a Map<String, Value>, prefix: String) -> Self {
        Self {
            object,
            prefix,
            known: Vec::new(),
        }
    }

    /// An error about the field `name` of this object.
    pub fn error(&self, name: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(format!("{}{name}", self.prefix), message)
    }

    /// Records `name` as known; its value unless absent or `null`.
    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        self.object.get(name).filter(|v| !v.is_null())
    }

    pub fn string(&mut self, name: &'static str) -> Result<Option<&'a str>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.error(name, format!("expected a string, got {}", quote(other))))
            }
        }
    }

    pub fn bool(&mut self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(
                name,
                format!("expected true or false, got {}", quote(other)),
            )),
        }
    }

    /// A whole number within `range`.
    pub fn whole_number(
        &mut self,
        name: &'static str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        match value.as_u64() {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(self.error(
                name,
                format!(
                    "expected a whole number from {} to {}, got {}",
                    range.start(),
                    range.end(),
                    quote(value)
                ),
            )),
        }
    }

    /// A nested object, read with its own reader (whose paths start with `name.`), which
    /// the caller finishes.
    pub fn object(&mut self, name: &'static str) -> Result<Option<Fields<'a>>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(object)) => Ok(Some(Fields::nested(
                object,
                format!("{}{name}.", self.prefix),
            ))),
            Some(other) => {
                Err(self.error(name, format!("expected an object, got {}", quote(other))))
            }
        }
    }

    /// A list of objects, each read with its own reader (paths `name[0].`, `name[1].`, ...),
    /// which the caller finishes.
    pub fn objects(&mut self, name: &'static str) -> Result<Option<Vec<Fields<'a>>>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.error(
                name,
                format!("expected a list of objects, got {}", quote(value)),
            ));
        };
        let mut readers = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let Value::Object(object) = item else {
                return Err(self.error(
                    &format!("{name}[{index}]"),
                    format!("expected an object, got {}", quote(item)),
                ));
            };
            readers.push(Fields::nested(
                object,
                format!("{}{name}[{index}].", self.prefix),
            ));
        }
        Ok(Some(readers))
    }

    /// The field's JSON value as it is, for a caller that checks it itself.
    pub fn value(&mut self, name: &'static str) -> Option<&'a Value> {
        self.get(name)
    }

    /// One of the names of `T`.
    pub fn one_of<T: Choice>(&mut self, name: &'static str) -> Result<Option<T>, ConfigError> {
        self.get(name)
            .map(|value| self.choice(name, value))
            .transpose()
    }

    /// A non-empty list of names of `T`, each at most once, in the order given.
    pub fn list_of<T: Choice>(
        &mut self,
        name: &'static str,
    ) -> Result<Option<Vec<T>>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let items = match value {
            Value::Array(items) if !items.is_empty() => items,
            other => {
                return Err(self.error(
                    name,
                    format!(
                        "expected a non-empty list of {} names, got {}",
                        T::WHAT,
                        quote(other)
                    ),
                ))
            }
        };
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            let choice = self.choice(name, item)?;
            if list.contains(&choice) {
                return Err(self.error(name, format!("{} is listed twice", quote(item))));
            }
            list.push(choice);
        }
        Ok(Some(list))
    }

    fn choice<T: Choice>(&self, name: &str, value: &Value) -> Result<T, ConfigError> {
        value.as_str().and_then(T::from_name).ok_or_else(|| {
            self.error(
                name,
                format!(
                    "unknown {} {}, expected one of {}",
                    T::WHAT,
                    quote(value),
                    T::names().join(", ")
                ),
            )
        })
    }

    /// Fails on the first field (in name order) that no getter read.
    pub fn finish(&self) -> Result<(), ConfigError> {
        match self
            .object
            .keys()
            .find(|key| !self.known.contains(&key.as_str()))
        {
            None => Ok(()),
            Some(unknown) => Err(self.error(
                &path_name(unknown),
                format!(
                    "unknown field {}, expected one of {}",
                    quote_str(unknown),
                    self.known.join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Colour {
        Red,
        Blue,
    }

    impl Choice for Colour {
        const WHAT: &'static str = "colour";
        fn names() -> Vec<&'static str> {
            vec!["red", "blue"]
        }
        fn from_name(name: &str) -> Option<Self> {
            match name {
                "red" => Some(Colour::Red),
                "blue" => Some(Colour::Blue),
                _ => None,
            }
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn message(e: ConfigError) -> String {
        e.to_string()
    }

    #[test]
    fn absent_and_null_are_none() {
        let map = object(json!({"s": null, "b": null, "n": null, "o": null, "c": null, "l": null}));
        let mut f = Fields::new(&map);
        assert_eq!(f.string("s").unwrap(), None);
        assert_eq!(f.bool("b").unwrap(), None);
        assert_eq!(f.whole_number("n", 1..=5).unwrap(), None);
        assert!(f.object("o").unwrap().is_none());
        assert_eq!(f.one_of::<Colour>("c").unwrap(), None);
        assert_eq!(f.list_of::<Colour>("l").unwrap(), None);
        assert_eq!(f.string("missing").unwrap(), None);
        f.finish().unwrap();
    }

    #[test]
    fn typed_values() {
        let map = object(json!({
            "s": "text", "b": false, "n": 5, "c": "blue", "l": ["blue", "red"]
        }));
        let mut f = Fields::new(&map);
        assert_eq!(f.string("s").unwrap(), Some("text"));
        assert_eq!(f.bool("b").unwrap(), Some(false));
        assert_eq!(f.whole_number("n", 1..=5).unwrap(), Some(5));
        assert_eq!(f.one_of("c").unwrap(), Some(Colour::Blue));
        assert_eq!(
            f.list_of("l").unwrap(),
            Some(vec![Colour::Blue, Colour::Red])
        );
        f.finish().unwrap();
    }

    #[test]
    fn wrong_types_name_the_field_and_quote_the_value() {
        let map = object(json!({"v": [1, "two"]}));
        let mut f = Fields::new(&map);
        assert_eq!(
            message(f.string("v").unwrap_err()),
            r#"invalid configuration: v: expected a string, got [1,"two"]"#
        );
        assert_eq!(
            message(f.bool("v").unwrap_err()),
            r#"invalid configuration: v: expected true or false, got [1,"two"]"#
        );
        assert_eq!(
            message(f.whole_number("v", 1..=9).unwrap_err()),
            r#"invalid configuration: v: expected a whole number from 1 to 9, got [1,"two"]"#
        );
        assert_eq!(
            message(f.object("v").err().unwrap()),
            r#"invalid configuration: v: expected an object, got [1,"two"]"#
        );
        assert_eq!(
            message(f.one_of::<Colour>("v").unwrap_err()),
            r#"invalid configuration: v: unknown colour [1,"two"], expected one of red, blue"#
        );
    }

    #[test]
    fn whole_numbers_stay_in_range() {
        let map = object(json!({"zero": 0, "ten": 10, "neg": -1, "frac": 1.5, "big": 1e30}));
        let mut f = Fields::new(&map);
        for (name, shown) in [
            ("zero", "0"),
            ("ten", "10"),
            ("neg", "-1"),
            ("frac", "1.5"),
            ("big", "1e+30"),
        ] {
            assert_eq!(
                message(f.whole_number(name, 1..=9).unwrap_err()),
                format!(
                    "invalid configuration: {name}: expected a whole number from 1 to 9, got {shown}"
                )
            );
        }
        let map = object(json!({"max": u64::MAX}));
        let mut f = Fields::new(&map);
        assert_eq!(f.whole_number("max", 0..=u64::MAX).unwrap(), Some(u64::MAX));
    }

    #[test]
    fn choices() {
        let map = object(
            json!({"c": "green", "e": [], "s": "red", "l": ["red", 7], "d": ["red", "blue", "red"]}),
        );
        let mut f = Fields::new(&map);
        assert_eq!(
            message(f.one_of::<Colour>("c").unwrap_err()),
            r#"invalid configuration: c: unknown colour "green", expected one of red, blue"#
        );
        assert_eq!(
            message(f.list_of::<Colour>("e").unwrap_err()),
            "invalid configuration: e: expected a non-empty list of colour names, got []"
        );
        assert_eq!(
            message(f.list_of::<Colour>("s").unwrap_err()),
            r#"invalid configuration: s: expected a non-empty list of colour names, got "red""#
        );
        assert_eq!(
            message(f.list_of::<Colour>("l").unwrap_err()),
            "invalid configuration: l: unknown colour 7, expected one of red, blue"
        );
        assert_eq!(
            message(f.list_of::<Colour>("d").unwrap_err()),
            r#"invalid configuration: d: "red" is listed twice"#
        );
    }

    #[test]
    fn finish_refuses_what_was_not_read_and_lists_what_was() {
        let map = object(json!({"b": 1, "a": 2, "zz": 3, "c": 4}));
        let mut f = Fields::new(&map);
        f.whole_number("b", 0..=9).unwrap();
        f.string("absent").unwrap();
        f.whole_number("a", 0..=9).unwrap();
        f.whole_number("b", 0..=9).unwrap();
        assert_eq!(
            message(f.finish().unwrap_err()),
            r#"invalid configuration: c: unknown field "c", expected one of b, absent, a"#
        );
        f.whole_number("c", 0..=9).unwrap();
        assert_eq!(
            message(f.finish().unwrap_err()),
            r#"invalid configuration: zz: unknown field "zz", expected one of b, absent, a, c"#
        );
        f.whole_number("zz", 0..=9).unwrap();
        f.finish().unwrap();
    }

    #[test]
    fn a_field_read_with_the_wrong_type_is_still_known() {
        let map = object(json!({"n": "x"}));
        let mut f = Fields::new(&map);
        assert!(f.whole_number("n", 0..=1).is_err());
        f.finish().unwrap();
    }

    #[test]
    fn nested_objects_extend_the_path() {
        let map = object(json!({"outer": {"inner": {"n": true, "typo": 1}}}));
        let mut top = Fields::new(&map);
        let mut outer = top.object("outer").unwrap().unwrap();
        let mut inner = outer.object("inner").unwrap().unwrap();
        assert_eq!(
            message(inner.whole_number("n", 1..=2).unwrap_err()),
            "invalid configuration: outer.inner.n: expected a whole number from 1 to 2, got true"
        );
        assert_eq!(
            message(inner.finish().unwrap_err()),
            r#"invalid configuration: outer.inner.typo: unknown field "typo", expected one of n"#
        );
        assert_eq!(
            message(outer.error("x", "is wrong")),
            "invalid configuration: outer.x: is wrong"
        );
        // The nested fields are the nested reader's: the outer ones are all read.
        outer.finish().unwrap();
        top.finish().unwrap();
    }

    #[test]
    fn lists_of_objects_name_each_item() {
        let o = object(json!({"items": [{"a": 1}, {"b": "x"}], "bad": [{"a": 1}, 5]}));
        let mut f = Fields::new(&o);
        let mut items = f.objects("items").unwrap().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].whole_number("a", 1..=9).unwrap(), Some(1));
        assert!(items[0].finish().is_ok());
        let e = items[1].finish().unwrap_err();
        assert_eq!(e.field, "items[1].b");
        let e = f.objects("bad").err().unwrap();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("bad[1]", "expected an object, got 5")
        );
        assert_eq!(f.value("missing"), None);
    }

    #[test]
    fn long_values_are_cut() {
        let map = object(json!({"s": "x".repeat(500), &"k".repeat(300): 1}));
        let mut f = Fields::new(&map);
        let e = message(f.bool("s").unwrap_err());
        assert!(e.ends_with(&format!("got \"{}...", "x".repeat(79))), "{e}");
        assert!(e.len() < 200, "{e}");
        f.string("s").unwrap();
        let e = f.finish().unwrap_err();
        assert!(e.message.len() < 200, "{e}");
    }
}
