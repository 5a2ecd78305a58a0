//! JSON values written as block-style YAML, for the Kubernetes resources: easier to read and
//! review than JSON (which is valid YAML too). A string is written plain when YAML reads it
//! back as the same string, otherwise double-quoted with JSON's escapes (valid YAML).

use serde_json::Value;

/// `value` (an object) as a YAML document's lines.
pub fn document(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                push_indent(out, indent);
                out.push_str(&scalar_string(key));
                out.push(':');
                write_child(out, item, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                push_indent(out, indent);
                out.push('-');
                match item {
                    // The item's first key on the dash's line, the others under it.
                    Value::Object(map) if !map.is_empty() => {
                        let mut nested = String::new();
                        write_value(&mut nested, item, indent + 2);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                    }
                    _ => write_child(out, item, indent),
                }
            }
        }
        other => {
            push_indent(out, indent);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// After `key:` or `-`: a scalar or empty collection on the same line, a collection below.
fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_value(out, value, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_value(out, value, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => scalar_string(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

/// Plain when unambiguous: starts with a letter or `/`, holds only letters, digits and
/// `-._/:@`, does not end with `:` and is none of YAML 1.1's booleans or null.
fn scalar_string(s: &str) -> String {
    let plain = s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'/')
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/' | b':' | b'@')
        })
        && !s.ends_with(':')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml() {
        let value = json!({
            "apiVersion": "networking.istio.io/v1",
            "spec": {
                "hosts": ["a.lambda.internal"],
                "ports": [{"number": 80, "name": "http"}, {"number": 443}],
                "empty": {},
                "none": [],
                "nested": [[1, 2], {"@type": "x", "on": "on", "n": "8080", "q": "a \"b\"\n"}],
            },
        });
        assert_eq!(
            document(&value),
            "\
apiVersion: networking.istio.io/v1
spec:
  empty: {}
  hosts:
    - a.lambda.internal
  nested:
    -
      - 1
      - 2
    - \"@type\": x
      \"n\": \"8080\"
      \"on\": \"on\"
      q: \"a \\\"b\\\"\\n\"
  none: []
  ports:
    - name: http
      number: 80
    - number: 443
"
        );
    }
}
