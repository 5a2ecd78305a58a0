//! The top-level modules of `crates/core` and `crates/cli` are layered: each names (through a
//! `crate::` path) only modules below it, so no two modules use each other and a new piece of
//! code has an obvious place. The order is declared once per crate below (bottom first, one
//! module per layer: a strict total order); ARCHITECTURE.md draws it.
//!
//! Read from the source, no dependencies: every `crate::x` path (`use crate::{a, b::c}` groups
//! too), `crate::m!` and `use crate::m` of an exported macro (counted as the module that
//! defines it), and `super::` chains that climb to the crate root. Test code (`#[cfg(test)]`
//! items, and files declared by `#[cfg(test)] mod x;`) may reach anywhere: a test sets up what
//! it checks with whatever it needs. Comments and string literals are not code. A module not
//! in its crate's list fails, so a new one gets placed.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// `crates/core`, bottom first.
const CORE: &[&str] = &[
    // The log-line macros (`vm_log!`, `stream_log!`).
    "logging",
    // The serialized header map (its own crate, re-exported).
    "header_pairs",
    // Text, time and name primitives.
    "recent",
    "arn",
    "local_reply",
    // Settings types shared by the layers above.
    "invocation_mode",
    // Parsing and hiding secrets.
    "xml",
    "redact",
    // Who called (the mesh caller's identity).
    "caller",
    // Signing.
    "access_keys",
    "sigv4",
    // Where credentials come from (sans-IO: callouts out, credentials in).
    "credentials",
    // The host traits (their callout is the credential chain's) and their error.
    "host",
    // The metrics, defined and flushed through the host.
    "metrics",
    // What goes to Lambda and comes back, as bytes.
    "event",
    "streaming",
    "response",
    // The configuration, read into the types above.
    "config",
    // The Invoke call for a configured function.
    "invoke",
    // A request's way through the filter.
    "request",
    // The VM: configure, the credential agent.
    "vm",
];

/// `crates/cli`, bottom first.
const CLI: &[&str] = &[
    // A command's failure, and what every command's --help ends with (examples, exit statuses).
    "usage",
    // Writing files.
    "out_dir",
    "yaml",
    // The description: what its names may be, its `.wasm` sources, its types.
    "names",
    "wasm_source",
    "description",
    "gateway_settings",
    // What the reader takes from other systems and checks with.
    "consul_catalog",
    "clusters",
    "reader",
    // Reading a description and writing what a generator made.
    "output",
    // The generators' parts, then the generators.
    "wasm_filter",
    "local_replies",
    "kubernetes",
    "consul",
    "gateway",
    "istio",
    "envoy_gateway",
    "oci",
];

#[test]
fn core_modules_use_only_modules_below_them() {
    check("crates/core/src", CORE);
}

#[test]
fn cli_modules_use_only_modules_below_them() {
    check("crates/cli/src", CLI);
}

fn check(src: &str, order: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_tree(&root.join(src), "", &mut files);
    let problems = violations(src, &files, order);
    assert!(
        problems.is_empty(),
        "{}\n\n{src}'s layers, bottom first (tests/layers.rs): {}",
        problems.join("\n"),
        order.join(", ")
    );
}

#[test]
fn the_scan_finds_what_is_there() {
    // Guards the scan: if it stopped finding paths, the tests above would pass on nothing.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_tree(&root.join("crates/core/src"), "", &mut files);
    let macros = macros_of(&files);
    let edges: BTreeSet<(String, String)> = files
        .iter()
        .flat_map(|(path, source)| edges_of(path, source, &macros))
        .map(|(from, to, _)| (from, to))
        .collect();
    for (from, to) in [
        ("request", "invoke"),
        ("vm", "request"),
        ("sigv4", "access_keys"),
        ("request", "logging"),
    ] {
        assert!(
            edges.contains(&(from.to_owned(), to.to_owned())),
            "{from} -> {to} not found"
        );
    }
}

#[test]
fn an_upward_edge_is_named_with_its_file() {
    let files = vec![
        ("lib.rs".to_owned(), "mod low; mod high;".to_owned()),
        (
            "low/mod.rs".to_owned(),
            "//! Not code: crate::high\n#[macro_export]\nmacro_rules! say { () => {} }\n\
             mod inner;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod more { use crate::high::X; }\n\
             const S: &str = \"crate::high\";\nconst C: char = '{';\nfn f<'a>(x: &'a str) {}"
                .to_owned(),
        ),
        (
            "low/inner.rs".to_owned(),
            "use super::super::high::Y;".to_owned(),
        ),
        ("low/tests.rs".to_owned(), "use crate::high::Z;".to_owned()),
        (
            "high.rs".to_owned(),
            "use crate::{low::{a, b}, say};\nfn g() { crate::say!(); }".to_owned(),
        ),
        ("stray.rs".to_owned(), String::new()),
    ];
    let problems = violations("src", &files, &["low", "high"]);
    assert_eq!(
        problems,
        [
            "src/low/inner.rs: low -> high points up the order",
            "src/stray.rs: module stray is not in the list of layers; place it",
        ]
    );
}

/// Every `.rs` file under `dir`, as (path relative to the crate's `src`, text).
fn read_tree(dir: &Path, prefix: &str, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().into_string().unwrap();
        let path = format!("{prefix}{name}");
        if entry.file_type().unwrap().is_dir() {
            read_tree(&entry.path(), &format!("{path}/"), files);
        } else if name.ends_with(".rs") {
            files.push((path, fs::read_to_string(entry.path()).unwrap()));
        }
    }
}

/// The problems of one crate's files: each path to a module at or above its own layer (or to
/// an item of the crate root), and each module not placed.
fn violations(src: &str, files: &[(String, String)], order: &[&str]) -> Vec<String> {
    let macros = macros_of(files);
    let tests = test_files(files);
    let mut problems = Vec::new();
    let mut unplaced = BTreeSet::new();
    for (path, source) in files {
        if tests.iter().any(|t| is_within(path, t)) {
            continue;
        }
        let Some(module) = top_module(path) else {
            continue;
        };
        let Some(rank) = order.iter().position(|m| *m == module) else {
            if unplaced.insert(module.clone()) {
                problems.push(format!(
                    "{src}/{path}: module {module} is not in the list of layers; place it"
                ));
            }
            continue;
        };
        for (_, target, _) in edges_of(path, source, &macros) {
            let up = order
                .iter()
                .position(|m| *m == target)
                .is_none_or(|target_rank| target_rank >= rank);
            let line = if order.contains(&target.as_str()) {
                format!("{src}/{path}: {module} -> {target} points up the order")
            } else {
                // Not a module: an item of the crate root, which is above every layer.
                format!("{src}/{path}: {module} -> crate::{target} (the crate root's) points up the order")
            };
            if up && !problems.contains(&line) {
                problems.push(line);
            }
        }
    }
    problems
}

/// The top-level module a file belongs to; `None` for the crate root (`lib.rs`, `main.rs`),
/// which declares the modules and is above them all.
fn top_module(path: &str) -> Option<String> {
    let first = path.split('/').next()?;
    match first {
        "lib.rs" | "main.rs" => None,
        _ => Some(first.trim_end_matches(".rs").to_owned()),
    }
}

/// The module path of a file, from the crate root (`a/b.rs` and `a/b/mod.rs`: `[a, b]`).
fn module_path(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    let last = parts.pop().unwrap_or_default();
    if !matches!(last.as_str(), "mod.rs" | "lib.rs" | "main.rs") {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The folder a file's `mod x;` declarations are in.
fn child_dir(path: &str) -> String {
    let module = module_path(path);
    module.iter().map(|m| format!("{m}/")).collect()
}

fn is_within(path: &str, module_file: &str) -> bool {
    path == module_file
        || module_file
            .strip_suffix(".rs")
            .is_some_and(|stem| path.starts_with(&format!("{}/", stem.trim_end_matches("/mod"))))
}

/// Files declared by `#[cfg(test)] mod x;`: `x.rs` or `x/mod.rs` beside the declaring file.
fn test_files(files: &[(String, String)]) -> Vec<String> {
    let mut tests = Vec::new();
    for (path, source) in files {
        let code = code_only(source);
        for (start, _) in cfg_test_items(&code) {
            let rest = code[start..].trim_start();
            let after_attr = rest
                .strip_prefix("#[cfg(test)]")
                .unwrap_or(rest)
                .trim_start();
            let Some(decl) = after_attr
                .strip_prefix("pub ")
                .unwrap_or(after_attr)
                .strip_prefix("mod ")
            else {
                continue;
            };
            let name: String = decl.chars().take_while(|c| is_ident(*c)).collect();
            if decl[name.len()..].trim_start().starts_with(';') {
                let dir = child_dir(path);
                tests.push(format!("{dir}{name}.rs"));
                tests.push(format!("{dir}{name}/mod.rs"));
            }
        }
    }
    tests
}

/// The exported macros (`#[macro_export] macro_rules! m`) and the module defining each.
fn macros_of(files: &[(String, String)]) -> Vec<(String, String)> {
    let mut macros = Vec::new();
    for (path, source) in files {
        let code = code_only(source);
        let mut rest = code.as_str();
        while let Some(at) = rest.find("#[macro_export]") {
            rest = &rest[at + "#[macro_export]".len()..];
            if let Some(def) = rest.trim_start().strip_prefix("macro_rules!") {
                let name: String = def
                    .trim_start()
                    .chars()
                    .take_while(|c| is_ident(*c))
                    .collect();
                let module = top_module(path).unwrap_or_default();
                macros.push((name, module));
            }
        }
    }
    macros
}

/// The top-level modules a file's non-test code names: (from, to, the path as written).
fn edges_of(
    path: &str,
    source: &str,
    macros: &[(String, String)],
) -> Vec<(String, String, String)> {
    let Some(module) = top_module(path) else {
        return Vec::new();
    };
    let mut code = code_only(source);
    for (start, end) in cfg_test_items(&code) {
        code.replace_range(start..end, &" ".repeat(end - start));
    }
    let target = |name: &str| {
        macros
            .iter()
            .find(|(m, _)| m == name)
            .map_or(name.to_owned(), |(_, defined_in)| defined_in.clone())
    };
    let mut edges = Vec::new();
    let bytes = code.as_bytes();
    let depth = module_path(path).len();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let boundary = at == 0 || !is_ident(char::from(bytes[at - 1]));
        let named = if boundary && rest.starts_with("crate::") {
            Some(&rest["crate::".len()..])
        } else if boundary && rest.starts_with("super::") {
            let mut after = rest;
            let mut climbed = 0;
            while let Some(next) = after.strip_prefix("super::") {
                after = next.trim_start();
                climbed += 1;
            }
            at += rest.len() - after.len();
            (climbed >= depth + inline_modules_around(&code, at)).then_some(after)
        } else {
            None
        };
        match named {
            Some(after) => {
                for name in first_segments(after) {
                    if name != module && !name.is_empty() {
                        let to = target(&name);
                        if to != module {
                            edges.push((module.clone(), to, name));
                        }
                    }
                }
                at += 1;
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    edges
}

/// The first segment of a path, or of each path in a `{a, b::c}` group.
fn first_segments(after: &str) -> Vec<String> {
    let after = after.trim_start();
    let Some(group) = after.strip_prefix('{') else {
        return vec![after.chars().take_while(|c| is_ident(*c)).collect()];
    };
    let mut names: Vec<String> = Vec::new();
    let (mut depth, mut expecting, mut reading) = (0, true, false);
    for c in group.chars() {
        reading = reading && is_ident(c);
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expecting = true,
            c if depth == 0 && expecting && is_ident(c) => {
                names.push(c.to_string());
                (expecting, reading) = (false, true);
            }
            c if reading => names.last_mut().into_iter().for_each(|n| n.push(c)),
            _ => {}
        }
    }
    names
}

/// How many non-test inline `mod x { ... }` blocks enclose `at`.
fn inline_modules_around(code: &str, at: usize) -> usize {
    let mut count = 0;
    let mut rest = 0;
    while let Some(found) = code[rest..].find("mod ") {
        let start = rest + found;
        rest = start + 4;
        let boundary = start == 0 || !is_ident(char::from(code.as_bytes()[start - 1]));
        let name_end = code[rest..]
            .find(|c: char| !is_ident(c))
            .map_or(code.len(), |n| rest + n);
        if !boundary || !code[name_end..].trim_start().starts_with('{') {
            continue;
        }
        let open = name_end + code[name_end..].find('{').unwrap_or(0);
        if open < at && at < matching_brace(code, open) {
            count += 1;
        }
    }
    count
}

/// The byte ranges of the items under `#[cfg(test)]`: from the attribute to the end of the
/// item (its `;`, or the `}` closing its body).
fn cfg_test_items(code: &str) -> Vec<(usize, usize)> {
    let mut items = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find("#[cfg(test)]") {
        let start = from + found;
        let body = start + "#[cfg(test)]".len();
        let end = match code[body..].find(['{', ';']) {
            Some(n) if code.as_bytes()[body + n] == b';' => body + n + 1,
            Some(n) => matching_brace(code, body + n) + 1,
            None => code.len(),
        };
        items.push((start, end.min(code.len())));
        from = end.min(code.len());
    }
    items
}

/// The index of the `}` closing the `{` at `open` (comments and literals already blanked).
fn matching_brace(code: &str, open: usize) -> usize {
    let mut depth = 0;
    for (i, b) in code.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// The source with comments and the contents of string and character literals blanked
/// (spaces, lengths kept), so that only code is searched.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |out: &mut String, c: char| {
        if c == '\n' {
            out.push('\n');
        } else {
            out.push_str(&" ".repeat(c.len_utf8()));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_ident = i > 0 && is_ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    blank(&mut out, '/');
                    blank(&mut out, '*');
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    blank(&mut out, '*');
                    blank(&mut out, '/');
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if !prev_ident && (c == 'r' || (c == 'b' && next == Some('r'))) && {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            chars.get(j) == Some(&'"')
        } {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            // The prefix and the opening quote, kept; the closing quote and as many `#`.
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n(
                    '#',
                    j - i - if c == 'b' { 2 } else { 1 },
                ))
                .collect();
            out.extend(&chars[i..=j]);
            i = j + 1;
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                blank(&mut out, chars[i]);
                i += 1;
            }
            let end = (i + closing.len()).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '"' || (c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')))
        {
            // A string, or a character literal ('x', '\n', '\u{..}'; else a lifetime or label):
            // the quotes kept, what is between blanked, escapes skipped.
            out.push(c);
            i += 1;
            while i < chars.len() && chars[i] != c {
                let escaped = usize::from(chars[i] == '\\');
                for &skipped in &chars[i..(i + 1 + escaped).min(chars.len())] {
                    blank(&mut out, skipped);
                }
                i += 1 + escaped;
            }
            if i < chars.len() {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
