use super::*;

fn leaves(xml: &str) -> Vec<(String, String)> {
    read_leaves(xml.as_bytes()).unwrap().0
}

fn refused(xml: &[u8]) -> String {
    match read_leaves(xml) {
        Err(reason) => reason.to_owned(),
        Ok(l) => panic!("accepted {:?}: {l:?}", String::from_utf8_lossy(xml)),
    }
}

#[test]
fn leaves_by_path_with_entities_decoded() {
    let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A xmlns=\"x\" b='1'>\n <B><C>one &amp; &lt;two&gt; &#65;&#x42;</C><D/><E></E></B>\n <F>  spaced  </F>\n</A>\n";
    assert_eq!(
        leaves(xml),
        vec![
            ("A/B/C".into(), "one & <two> AB".into()),
            ("A/B/D".into(), String::new()),
            ("A/B/E".into(), String::new()),
            ("A/F".into(), "  spaced  ".into()),
        ]
    );
    let l = read_leaves(xml.as_bytes()).unwrap();
    assert_eq!(l.root(), Some("A"));
    assert_eq!(l.get("A/B/C").unwrap(), Some("one & <two> AB"));
    assert_eq!(l.get("A/Z").unwrap(), None);
}

#[test]
fn a_path_given_twice_is_an_error_when_asked_for() {
    let l = read_leaves(b"<A><B>1</B><B>2</B><C>3</C></A>").unwrap();
    assert_eq!(
        l.get("A/B").unwrap_err(),
        "an element it reads appears more than once"
    );
    assert_eq!(l.get("A/C").unwrap(), Some("3"));
}

#[test]
fn what_it_does_not_need_it_refuses() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "XML does not start with an element"),
        (b"text", "XML does not start with an element"),
        (
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            "comments, CDATA, DTDs and processing instructions are not accepted",
        ),
        (
            b"<a><!-- c --></a>",
            "comments, CDATA, DTDs and processing instructions are not accepted",
        ),
        (
            b"<a><![CDATA[x]]></a>",
            "comments, CDATA, DTDs and processing instructions are not accepted",
        ),
        (
            b"<a><?pi x?></a>",
            "comments, CDATA, DTDs and processing instructions are not accepted",
        ),
        (b"<a>&x;</a>", "unknown entity"),
        (b"<a>&#0;</a>", "unknown entity"),
        (b"<a>&#+65;</a>", "unknown entity"),
        (b"<a>&#x110000;</a>", "unknown entity"),
        (b"<a>& b</a>", "'&' that starts no entity"),
        (
            b"<a>x<b/></a>",
            "text beside child elements (mixed content)",
        ),
        (
            b"<a><b/>x</a>",
            "text beside child elements (mixed content)",
        ),
        (
            b"<a></b>",
            "a closing tag that does not match the open element",
        ),
        (b"<a>", "an element is not closed"),
        (b"<a></a><b></b>", "more than one root element"),
        (b"<a></a>tail", "text outside the root element"),
        (
            b"</a>",
            "a closing tag that does not match the open element",
        ),
        (b"<a b></a>", "an attribute without '='"),
        (b"<a b=c></a>", "an attribute value not quoted"),
        (b"<a b=\"c></a>", "an attribute value not closed"),
        (b"<a b=\"<\"></a>", "'<' in an attribute value"),
        (
            b"<a\"x\"></a>",
            "a tag with something other than a space, '>' or '/>' after a name",
        ),
        (b"<1a></1a>", "expected an element or attribute name"),
        (b"<a></a ", "closing tag without '>'"),
        (b"<?xml version='1.0'", "XML declaration without its end"),
        (b"<a>\xff</a>", "XML is not UTF-8"),
    ];
    for (xml, reason) in cases {
        assert_eq!(refused(xml), *reason, "{:?}", String::from_utf8_lossy(xml));
    }
}

#[test]
fn bounded_in_size_depth_and_elements() {
    let big = format!("<a>{}</a>", "x".repeat(MAX_BYTES));
    assert_eq!(refused(big.as_bytes()), "XML longer than 64 KiB");
    let deep = format!("{}{}", "<a>".repeat(17), "</a>".repeat(17));
    assert_eq!(
        refused(deep.as_bytes()),
        "elements nested more than 16 deep"
    );
    let ok = format!("{}{}", "<a>".repeat(16), "</a>".repeat(16));
    assert_eq!(leaves(&ok).len(), 1);
    let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
    assert_eq!(refused(many.as_bytes()), "more than 512 elements");
}

#[test]
fn multibyte_text_and_cuts_never_panic() {
    assert_eq!(leaves("<a>é&amp;ü</a>"), vec![("a".into(), "é&ü".into())]);
    // '&' followed by multibyte characters: the entity window may end inside one.
    assert_eq!(
        refused("<a>&ééééééé;</a>".as_bytes()),
        "'&' that starts no entity"
    );
    for cut in 0.."<a b='1'><c>&amp;</c></a>".len() {
        let _ = read_leaves(&b"<a b='1'><c>&amp;</c></a>"[..cut]);
    }
}
