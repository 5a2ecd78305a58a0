//! What the fuzz targets share.
//!
//! Requests and Lambda's answers are written as text, the way they look on the wire:
//!
//! ```text
//! POST /orders?id=7&x        <- a request: method, then the path with its query
//! 200                        <- or an answer: Lambda's status
//! content-type: text/plain   <- header lines (names lower-cased and `host` made
//! :scheme: https                 `:authority`, as Envoy does; a line starting with ':'
//!                                is a pseudo header)
//!                            <- an empty line, then the body (no empty line: no body)
//! hello
//! ```
//!
//! so the seed corpus is real requests and answers a reader can check, and libFuzzer's
//! mutations stay close to them. Values are bytes (not always UTF-8), as Envoy gives them.
//! Envoy's view of the request (peer address, protocol, clock) is structured input read with
//! `arbitrary` ahead of the text, a fixed number of bytes.

use arbitrary::{Arbitrary, Unstructured};
use mesh_lambda_core::config::parse_config;
use mesh_lambda_core::event::EventContext;
use mesh_lambda_core::header_pairs;
use mesh_lambda_core::host::{Clock, HostError, RequestStream};
use mesh_lambda_core::invocation_mode::InvocationMode;
use mesh_lambda_core::local_reply::LocalReply;
use mesh_lambda_core::request::Plugin;
use mesh_lambda_core::response::FunctionErrors;
use mesh_lambda_core::streaming::crc32::crc32;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::time::Duration;

/// A request or an answer written as text (see the crate's documentation).
#[derive(Debug)]
pub struct Message<'a> {
    /// The first line: `METHOD TARGET`, or a status.
    pub start: &'a [u8],
    /// Every header, pseudo headers first, as Envoy orders them.
    pub headers: Vec<(String, &'a [u8])>,
    /// `None`: the message ended at its headers.
    pub body: Option<&'a [u8]>,
}

impl<'a> Message<'a> {
    pub fn read(data: &'a [u8]) -> Self {
        let mut rest = data;
        let mut line = || {
            let (line, after) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (rest.get(..at), rest.get(at + 1..)),
                None => (Some(rest), None),
            };
            let line = line.unwrap_or_default();
            let had_newline = after.is_some();
            rest = after.unwrap_or_default();
            (line.strip_suffix(b"\r").unwrap_or(line), had_newline)
        };
        let (start, mut more) = line();
        let mut headers = Vec::new();
        let mut body = None;
        while more {
            let (text, had_newline) = line();
            if text.is_empty() {
                body = Some(rest);
                break;
            }
            // A pseudo header's name is its ':' and what follows up to the next ':'.
            let skip = usize::from(text.first() == Some(&b':'));
            let colon = text
                .iter()
                .skip(skip)
                .position(|&b| b == b':')
                .map(|at| at + skip);
            let (name, value) = match colon {
                Some(at) => (
                    text.get(..at).unwrap_or_default(),
                    text.get(at + 1..).unwrap_or_default(),
                ),
                None => (text, &b""[..]),
            };
            let value = value.strip_prefix(b" ").unwrap_or(value);
            // Envoy's header maps hold lower-case names (HTTP/1 names are lower-cased).
            let name = String::from_utf8_lossy(name).to_lowercase();
            headers.push((name, value));
            more = had_newline;
        }
        Self {
            start,
            headers,
            body,
        }
    }

    /// A request's method: its first line up to a space.
    pub fn method(&self) -> &'a [u8] {
        split_once(self.start, b' ').0
    }

    /// A request's `:path` (with its query): its first line after the method.
    pub fn target(&self) -> &'a [u8] {
        split_once(self.start, b' ').1
    }

    /// The request's header map as the host serializes it: `:authority`, `:path`,
    /// `:method`, then the headers as written (`host` as `:authority`).
    pub fn request_headers(&self) -> Vec<(String, &'a [u8])> {
        let (method, target) = (self.method(), self.target());
        let mut pairs = Vec::with_capacity(self.headers.len() + 2);
        if let Some((_, host)) = self.headers.iter().find(|(n, _)| n == "host") {
            pairs.push((":authority".to_owned(), *host));
        }
        pairs.push((":path".to_owned(), target));
        pairs.push((":method".to_owned(), method));
        // The first line gives the request's one `:path` and `:method`.
        let given = ["host", ":path", ":method", ":authority"];
        pairs.extend(
            self.headers
                .iter()
                .filter(|(n, _)| !given.contains(&n.as_str()))
                .cloned(),
        );
        pairs
    }

    /// Lambda's answer header map: `:status` (the first line), then the headers.
    pub fn answer_headers(&self) -> Vec<(String, &'a [u8])> {
        let mut pairs = vec![(":status".to_owned(), self.start)];
        pairs.extend(self.headers.iter().cloned());
        pairs
    }
}

/// Serialized as the host does; the pairs round-trip through the reader.
pub fn serialize(pairs: &[(String, &[u8])]) -> Vec<u8> {
    let borrowed: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let Some(serialized) = header_pairs::serialize(&borrowed) else {
        panic!("a header map of {} pairs did not serialize", pairs.len());
    };
    assert_eq!(
        header_pairs::parse(&serialized).as_deref(),
        Some(&borrowed[..]),
        "the header map did not read back"
    );
    serialized
}

fn split_once(bytes: &[u8], separator: u8) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == separator) {
        Some(at) => (
            bytes.get(..at).unwrap_or_default(),
            bytes.get(at + 1..).unwrap_or_default(),
        ),
        None => (bytes, &b""[..]),
    }
}

/// Envoy's view of a request, ahead of the text: its peer, its protocol, the clock.
#[derive(Debug, Arbitrary)]
pub struct Envoy {
    ipv6: bool,
    address: [u8; 16],
    port: u16,
    protocol: u8,
    pub now_ms: u64,
}

impl Envoy {
    /// Envoy's view, then the rest of `data` (the text).
    pub fn read(data: &[u8]) -> (Self, &[u8]) {
        let mut u = Unstructured::new(data);
        let envoy = Envoy::arbitrary(&mut u).unwrap_or(Envoy {
            ipv6: false,
            address: [0; 16],
            port: 0,
            protocol: 0,
            now_ms: 0,
        });
        (envoy, u.take_rest())
    }

    /// `source.address` as Envoy gives it: `10.0.0.1:5000`, `[::1]:5000`.
    pub fn source_address(&self) -> String {
        let ip = if self.ipv6 {
            format!("[{}]", std::net::Ipv6Addr::from(self.address))
        } else {
            let [a, b, c, d, ..] = self.address;
            std::net::Ipv4Addr::new(a, b, c, d).to_string()
        };
        format!("{ip}:{}", self.port)
    }

    pub fn protocol(&self) -> &'static str {
        const PROTOCOLS: [&str; 4] = ["HTTP/1.1", "HTTP/2", "HTTP/1.0", "HTTP/3"];
        PROTOCOLS
            .get(usize::from(self.protocol % 4))
            .copied()
            .unwrap_or_default()
    }

    pub fn context(&self, account_id: &str) -> EventContext {
        let address = self.source_address();
        let ip = address.rsplit_once(':').map_or("", |(ip, _)| ip);
        EventContext {
            account_id: account_id.to_owned(),
            source_ip: ip.trim_matches(['[', ']']).to_owned(),
            protocol: self.protocol().to_owned(),
            now_ms: self.now_ms,
            caller: None,
        }
    }
}

/// The JSON object `bytes` hold; fails the run if they are not one.
pub fn json_object(bytes: &[u8], what: &str) -> Map<String, Value> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => object,
        Ok(other) => panic!("{what} is JSON but not an object: {other}"),
        Err(e) => panic!(
            "{what} is not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// The string field `name` of `object`; fails the run if it is missing or not a string.
pub fn text<'v>(object: &'v Map<String, Value>, name: &str) -> &'v str {
    match object.get(name) {
        Some(Value::String(s)) => s,
        other => panic!("{name} is not a string: {other:?}"),
    }
}

/// An event's body field carries `original`: as text, or base64 when flagged.
pub fn check_event_body(body: &str, base64: bool, original: &[u8]) {
    if base64 {
        let decoded = mesh_lambda_core::event::base64::decode(body);
        assert_eq!(
            decoded.as_deref(),
            Some(original),
            "base64 body does not decode"
        );
    } else {
        assert_eq!(body.as_bytes(), original, "text body changed");
    }
}

/// What the filter did to a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Reply(LocalReply),
    Response {
        status: u32,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    Status(u32),
    /// The request rewritten (serialized), to go on to Lambda.
    Rewritten(Vec<u8>),
    /// The Invoke call the filter sent itself.
    CallOut {
        cluster: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The response header map rewritten (serialized).
    ResponseHeaders(Vec<u8>),
    /// The response body part replaced: the bytes that stand in for its first `size`.
    ResponseBody {
        size: usize,
        bytes: Vec<u8>,
    },
    /// Bytes appended to the response body part, whose length was `length`.
    ResponseBodyAppended {
        length: usize,
        bytes: Vec<u8>,
    },
    /// The stream was reset.
    Reset,
}

/// A stream that records what the filter sends it: its request is `request` (serialized)
/// and `body`, Lambda's answer headers (for the response path) are `response`, Envoy's view
/// of the request is `envoy`.
#[derive(Default)]
pub struct Stream {
    pub now_ms: u64,
    pub request: Vec<u8>,
    pub body: Vec<u8>,
    pub envoy: Option<Envoy>,
    pub response: Vec<u8>,
    /// The response body part being handled.
    pub response_body: Vec<u8>,
    pub sent: RefCell<Vec<Sent>>,
}

impl Stream {
    fn send(&self, sent: Sent) -> Result<(), HostError> {
        self.sent.borrow_mut().push(sent);
        Ok(())
    }
}

impl Clock for Stream {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

impl RequestStream for Stream {
    fn request_headers(&self) -> Vec<u8> {
        self.request.clone()
    }
    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        header_pairs::find(&self.request, name).map(<[u8]>::to_vec)
    }
    fn request_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError> {
        offset
            .checked_add(size)
            .and_then(|end| self.body.get(offset..end))
            .map(<[u8]>::to_vec)
            // Envoy refuses a range past the buffer's end.
            .ok_or(HostError::BadArgument)
    }
    fn set_request_headers(&self, serialized: &[u8]) -> Result<(), HostError> {
        self.send(Sent::Rewritten(serialized.to_vec()))
    }
    fn send_reply(&self, reply: &LocalReply, _detailed: bool) -> Result<(), HostError> {
        self.send(Sent::Reply(reply.clone()))
    }
    fn resume_request(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn response_headers(&self) -> Vec<u8> {
        self.response.clone()
    }
    fn set_response_status(&self, status: u32) -> Result<(), HostError> {
        self.send(Sent::Status(status))
    }
    fn set_response_headers(&self, serialized: &[u8]) -> Result<(), HostError> {
        self.send(Sent::ResponseHeaders(serialized.to_vec()))
    }
    fn response_body(&self, offset: usize, size: usize) -> Result<Vec<u8>, HostError> {
        offset
            .checked_add(size)
            .and_then(|end| self.response_body.get(offset..end))
            .map(<[u8]>::to_vec)
            .ok_or(HostError::BadArgument)
    }
    fn replace_response_body(&self, size: usize, bytes: &[u8]) -> Result<(), HostError> {
        self.send(Sent::ResponseBody {
            size,
            bytes: bytes.to_vec(),
        })
    }
    fn append_response_body(&self, length: usize, bytes: &[u8]) -> Result<(), HostError> {
        self.send(Sent::ResponseBodyAppended {
            length,
            bytes: bytes.to_vec(),
        })
    }
    fn reset_stream(&self) -> Result<(), HostError> {
        self.send(Sent::Reset)
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        let envoy = self.envoy.as_ref();
        match path {
            ["xds", "cluster_name"] => Some(b"lambda".to_vec()),
            ["source", "address"] => envoy.map(|e| e.source_address().into_bytes()),
            ["request", "protocol"] => envoy.map(|e| e.protocol().as_bytes().to_vec()),
            _ => None,
        }
    }
    fn call_out(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        _timeout: Duration,
    ) -> Result<u32, HostError> {
        self.send(Sent::CallOut {
            cluster: cluster.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        })?;
        Ok(7)
    }
    fn send_response(
        &self,
        status: u32,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Result<(), HostError> {
        self.send(Sent::Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.to_vec()))
                .collect(),
            body: body.to_vec(),
        })
    }
}

/// The function every target's configuration names.
pub const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";

/// The filter's set-up for the configuration `choice` picks: its two low bits the invocation
/// mode, the next `function_error`, the next two passthrough or an event format (streaming
/// is passthrough only); `extra` adds fields.
pub fn plugin(choice: u8, extra: &str) -> Plugin {
    let mode = InvocationMode::ALL
        .get(usize::from(choice & 3))
        .copied()
        .unwrap_or_default();
    let function_error = FunctionErrors::ALL
        .get(usize::from(choice >> 2 & 1))
        .copied()
        .unwrap_or_default();
    let format = match choice >> 3 & 3 {
        _ if mode == InvocationMode::Streaming => r#","payload_passthrough":true"#,
        0 => r#","payload_passthrough":true"#,
        1 => r#","payload_passthrough":false,"payload_format":"envoy""#,
        _ => r#","payload_passthrough":false,"payload_format":"api_gateway_v2""#,
    };
    let json = format!(
        r#"{{"arn":"{ARN}","invocation_mode":"{}","function_error":"{}"{format}{extra}}}"#,
        mode.name(),
        function_error.name()
    );
    match parse_config(json.as_bytes()) {
        Ok(config) => Plugin::new(&config),
        Err(e) => panic!("{e}"),
    }
}

/// How a streamed input is cut into the pieces Envoy would hand over: the input's first byte
/// is the number of pattern bytes after it (at most 16), each the length of a piece (0 is an
/// empty push), used in turn until the stream is consumed; no pattern is one-byte pieces.
/// Returns the pattern and the rest of the input.
pub fn split_pattern(data: &[u8]) -> (SplitPattern, &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return (SplitPattern(Vec::new()), data);
    };
    let (pattern, rest) = rest.split_at(usize::from(count).min(16).min(rest.len()));
    (
        SplitPattern(pattern.iter().map(|&b| usize::from(b)).collect()),
        rest,
    )
}

/// The piece lengths of `split_pattern`.
#[derive(Debug, Clone)]
pub struct SplitPattern(Vec<usize>);

impl SplitPattern {
    /// The lengths of the pieces of a stream of `len` bytes, adding up to `len`.
    pub fn pieces(&self, len: usize) -> Vec<usize> {
        let mut pieces = Vec::new();
        let mut left = len;
        let mut lengths = self.0.iter().copied().cycle();
        while left > 0 {
            let piece = if self.0.iter().all(|&l| l == 0) {
                // Only empty pushes: pushes of one byte between them, so the stream ends.
                lengths.next().unwrap_or(0).max(1)
            } else {
                lengths.next().unwrap_or(1)
            };
            pieces.push(piece.min(left));
            left -= piece.min(left);
        }
        pieces
    }
}

/// A field value as RFC 9110 section 5.5 allows it: HTAB, SP, VCHAR and obs-text (0x80 and
/// up), so no control byte (CR, LF, NUL and the rest of 0x00..=0x1F, DEL).
pub fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

/// Records `length (u8) | bytes` framed as a good event stream, as Lambda sends it:
/// PayloadChunk messages with the right lengths and CRCs, then InvokeComplete. Returns the
/// stream and the payloads.
pub fn seal_payloads(mut records: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut stream = Vec::new();
    let mut payloads = Vec::new();
    while let Some((&len, rest)) = records.split_first() {
        let (payload, rest) = rest.split_at(usize::from(len).min(rest.len()));
        stream.extend(lambda_message("PayloadChunk", payload));
        payloads.push(payload.to_vec());
        records = rest;
    }
    stream.extend(lambda_message("InvokeComplete", b"{}"));
    (stream, payloads)
}

fn lambda_message(event_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut headers = Vec::new();
    for (name, value) in [(":message-type", "event"), (":event-type", event_type)] {
        headers.push(name.len() as u8);
        headers.extend(name.as_bytes());
        headers.push(7);
        headers.extend((value.len() as u16).to_be_bytes());
        headers.extend(value.as_bytes());
    }
    let total = (16 + headers.len() + payload.len()) as u32;
    let mut out = total.to_be_bytes().to_vec();
    out.extend((headers.len() as u32).to_be_bytes());
    out.extend(crc32(&out).to_be_bytes());
    out.extend(headers);
    out.extend(payload);
    out.extend(crc32(&out).to_be_bytes());
    out
}

/// The input of the streamed-answer targets: after the split pattern, a flags byte: bit 0
/// set, a function-URL answer (prelude) is declared; bit 1 set, the rest is payloads
/// (`length (u8) | bytes`) framed by `seal_payloads`; clear, the rest is the body as it is.
pub struct StreamedInput {
    pub pattern: SplitPattern,
    pub prelude: bool,
    pub body: Vec<u8>,
    /// The payloads of a framed body (`None`: the body as it is).
    pub payloads: Option<Vec<Vec<u8>>>,
}

impl StreamedInput {
    pub fn read(data: &[u8]) -> Option<Self> {
        let (pattern, rest) = split_pattern(data);
        let (&flags, rest) = rest.split_first()?;
        let (body, payloads) = if flags & 2 == 2 {
            let (body, payloads) = seal_payloads(rest);
            (body, Some(payloads))
        } else {
            (rest.to_vec(), None)
        };
        Some(Self {
            pattern,
            prelude: flags & 1 == 1,
            body,
            payloads,
        })
    }

    /// Lambda's content type for the answer.
    pub fn content_type(&self) -> &'static [u8] {
        if self.prelude {
            mesh_lambda_core::streaming::http_integration::HTTP_INTEGRATION_CONTENT_TYPE.as_bytes()
        } else {
            b"text/plain"
        }
    }
}
