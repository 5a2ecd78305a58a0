//! A small, strict reader of the XML that STS answers with: the text of each leaf element,
//! by its path from the root (`AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId`).
//!
//! Written here rather than taken from a crate: the answers are a few hundred bytes of
//! elements and text, and an XML crate would add more to the .wasm than the whole signer.
//! What it does not need it refuses instead of half-supporting: DTDs (so no entity can
//! expand), comments, CDATA, processing instructions after the declaration, mixed content,
//! unknown entities. It is bounded in size, depth and element count, so hostile input costs
//! at most one linear pass over 64 KiB.

/// The longest answer read; a real AssumeRole answer is under 3 KiB.
pub const MAX_BYTES: usize = 64 * 1024;
/// Nesting deeper than this is refused (STS's answers nest four deep). The messages say
/// these limits as literals, not formatted (every `format!` costs the .wasm).
const MAX_DEPTH: usize = 16;
/// More elements than this are refused.
const MAX_ELEMENTS: usize = 512;

/// The leaf elements of a document, in document order: (path, decoded text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaves(Vec<(String, String)>);

impl Leaves {
    /// The text at `path`; `Err` when it appears more than once (an answer that says two
    /// things is not guessed at).
    pub fn get(&self, path: &str) -> Result<Option<&str>, &'static str> {
        let mut found = self.0.iter().filter(|(p, _)| p == path).map(|(_, t)| t);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(text), None) => Ok(Some(text)),
            (Some(_), Some(_)) => Err("an element it reads appears more than once"),
        }
    }

    /// The root element's name.
    pub fn root(&self) -> Option<&str> {
        self.0.first().and_then(|(p, _)| p.split('/').next())
    }
}

/// Reads `body` as one XML document; the reason when it is not one this reader accepts.
/// Reasons describe the structure only, never quote text (the text may be a secret).
pub fn read_leaves(body: &[u8]) -> Result<Leaves, &'static str> {
    if body.len() > MAX_BYTES {
        return Err("XML longer than 64 KiB");
    }
    let text = std::str::from_utf8(body).map_err(|_| "XML is not UTF-8")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Reader {
        rest: text.trim_start(),
        stack: Vec::new(),
        path: String::new(),
        leaves: Vec::new(),
        elements: 0,
    }
    .document()
}

struct Reader<'a> {
    rest: &'a str,
    /// The open elements: name, and whether a child element was seen.
    stack: Vec<(&'a str, bool)>,
    /// Their names joined by `/`.
    path: String,
    leaves: Vec<(String, String)>,
    elements: usize,
}

impl<'a> Reader<'a> {
    fn document(mut self) -> Result<Leaves, &'static str> {
        if let Some(after) = self.rest.strip_prefix("<?xml") {
            let end = find(after.as_bytes(), b"?>").ok_or("XML declaration without its end")?;
            self.rest = after.get(end + 2..).unwrap_or("").trim_start();
        }
        if !self.rest.starts_with('<') {
            return Err("XML does not start with an element");
        }
        loop {
            let text_end = self.rest.find('<').unwrap_or(self.rest.len());
            let (text, rest) = self.rest.split_at(text_end);
            self.rest = rest;
            let closing_leaf = self.rest.starts_with("</")
                && self.stack.last().is_some_and(|&(_, has_child)| !has_child);
            if closing_leaf {
                let decoded = decode(text)?;
                self.leaves.push((self.path.clone(), decoded));
            } else if !text.trim().is_empty() {
                return Err(if self.stack.is_empty() {
                    "text outside the root element"
                } else {
                    "text beside child elements (mixed content)"
                });
            }
            if self.rest.is_empty() {
                return match self.stack.last() {
                    Some(_) => Err("an element is not closed"),
                    None => Ok(Leaves(self.leaves)),
                };
            }
            if !self.stack.is_empty() || self.elements == 0 {
                self.tag()?;
            } else {
                return Err("more than one root element");
            }
        }
    }

    /// One tag at `rest` (which starts with `<`).
    fn tag(&mut self) -> Result<(), &'static str> {
        let after = self.rest.get(1..).unwrap_or("");
        if let Some(closing) = after.strip_prefix('/') {
            let (name, rest) = split_name(closing)?;
            let rest = rest.trim_start();
            self.rest = rest.strip_prefix('>').ok_or("closing tag without '>'")?;
            return match self.stack.pop() {
                Some((open, _)) if open == name => {
                    self.path
                        .truncate(self.path.len().saturating_sub(name.len() + 1));
                    Ok(())
                }
                _ => Err("a closing tag that does not match the open element"),
            };
        }
        if after.starts_with(['!', '?']) {
            return Err("comments, CDATA, DTDs and processing instructions are not accepted");
        }
        let (name, mut rest) = split_name(after)?;
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err("more than 512 elements");
        }
        if let Some((_, has_child)) = self.stack.last_mut() {
            *has_child = true;
        }
        // Attributes (the namespace, in practice): skipped, but each must be well formed.
        loop {
            let trimmed = rest.trim_start();
            if let Some(after_close) = trimmed.strip_prefix("/>") {
                self.rest = after_close;
                self.check_depth()?;
                let mut path = self.path.clone();
                push_name(&mut path, name);
                self.leaves.push((path, String::new()));
                return Ok(());
            }
            if let Some(after_close) = trimmed.strip_prefix('>') {
                self.rest = after_close;
                self.check_depth()?;
                self.stack.push((name, false));
                push_name(&mut self.path, name);
                return Ok(());
            }
            if trimmed.len() == rest.len() {
                return Err("a tag with something other than a space, '>' or '/>' after a name");
            }
            let (_, after_name) = split_name(trimmed)?;
            let value = after_name
                .trim_start()
                .strip_prefix('=')
                .ok_or("an attribute without '='")?
                .trim_start();
            let quote = value
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\''))
                .ok_or("an attribute value not quoted")?;
            let inner = value.get(1..).unwrap_or("");
            let end = inner.find(quote).ok_or("an attribute value not closed")?;
            if inner.get(..end).unwrap_or("").contains('<') {
                return Err("'<' in an attribute value");
            }
            rest = inner.get(end + 1..).unwrap_or("");
        }
    }

    /// Whether one more element may open.
    fn check_depth(&self) -> Result<(), &'static str> {
        if self.stack.len() >= MAX_DEPTH {
            Err("elements nested more than 16 deep")
        } else {
            Ok(())
        }
    }
}

fn push_name(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('/');
    }
    path.push_str(name);
}

/// Where `needle` (not empty) first occurs in `haystack`. A byte loop: `str::find` with a
/// string pattern would bring the two-way searcher into the .wasm (2,138 bytes of code here).
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An element name at the start of `text` (letters, digits, `_ - . :`, not starting with a
/// digit, `-` or `.`), and what follows it.
fn split_name(text: &str) -> Result<(&str, &str), &'static str> {
    let end = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b"_-.:".contains(&b)))
        .unwrap_or(text.len());
    let (name, rest) = text.split_at(end);
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => Ok((name, rest)),
        _ => Err("expected an element or attribute name"),
    }
}

/// Text with its five predefined entities and character references decoded.
fn decode(text: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let after = rest.get(amp + 1..).unwrap_or("");
        let semi = after
            .get(..after.len().min(12))
            .and_then(|head| head.find(';'))
            .ok_or("'&' that starts no entity")?;
        let entity = after.get(..semi).unwrap_or("");
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                // No NUL or other control character but the whitespace XML allows.
                character_reference(entity)
                    .and_then(char::from_u32)
                    .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
                    .ok_or("unknown entity")?
            }
        };
        out.push(c);
        rest = after.get(semi + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// The number of `#65` or `#x41`: digits only, no sign, no overflow.
fn character_reference(entity: &str) -> Option<u32> {
    let (digits, radix) = match entity.strip_prefix("#x") {
        Some(hex) => (hex, 16),
        None => (entity.strip_prefix('#')?, 10),
    };
    if digits.is_empty() {
        return None;
    }
    digits.chars().try_fold(0u32, |n, c| {
        n.checked_mul(radix)?.checked_add(c.to_digit(radix)?)
    })
}

#[cfg(test)]
mod tests;
