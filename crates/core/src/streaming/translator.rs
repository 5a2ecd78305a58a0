//! A streamed answer's bytes translated for the caller, with no host calls: Lambda's 200
//! headers once (`Translator::open`), then its body in whatever pieces it arrives (`push`),
//! then its end (`finish`). Out come the caller's headers, the payload bytes to pass on, or
//! a `Failure`. How the pieces are cut changes when bytes come out, never what: each event
//! is taken in order (a prelude read as its payload arrives), before an error later in the
//! same piece.

use super::caller_headers::{self, is_http_integration};
use super::event_stream::{EventStreamDecoder, StreamEvent};
use super::http_integration::PreludeReader;
use std::fmt;

#[cfg(test)]
mod tests;

/// Longest error code quoted in a failure's reason (it comes from the function).
const QUOTED_CODE_CHARS: usize = 64;

/// Why a streamed answer ended badly; the text says what happened, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The function (or Lambda) reported an error in the stream.
    Function(String),
    /// The stream is not a well-formed event stream that ended with `InvokeComplete`.
    Broken(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Function(why) | Failure::Broken(why) => f.write_str(why),
        }
    }
}

/// What to do with the caller's headers when Lambda's 200 arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// The caller's headers: set them now; the body follows as it is translated.
    Headers(Vec<u8>),
    /// Lambda's headers cannot be rewritten (the reason): they go on as they are.
    Unwritable(String),
    /// A function-URL-style answer: the caller's headers wait for the prelude.
    AwaitPrelude,
}

/// What one piece of the body gave.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The caller's headers, once, when the piece completed the prelude.
    pub headers: Option<Vec<u8>>,
    /// The payload bytes the piece completed.
    pub payload: Vec<u8>,
}

/// One streamed answer, from Lambda's 200 on; see the module's documentation.
#[derive(Debug)]
pub struct Translator {
    decoder: EventStreamDecoder,
    /// A function-URL-style answer whose prelude is not read yet, and Lambda's headers, kept
    /// until then.
    prelude: Option<(PreludeReader, Vec<u8>)>,
    completed: bool,
    /// The first failure; every later call returns it.
    failed: Option<Failure>,
    events: Vec<StreamEvent>,
}

impl Translator {
    /// Lambda answered 200 with `lambda_headers` (serialized); `end_of_stream`: and no body.
    pub fn open(lambda_headers: Vec<u8>, end_of_stream: bool) -> (Self, Result<Opening, Failure>) {
        let mut translator = Self {
            decoder: EventStreamDecoder::new(),
            prelude: None,
            completed: false,
            failed: None,
            events: Vec::new(),
        };
        if end_of_stream {
            let failure = Failure::Broken("Lambda's 200 had no body".into());
            translator.failed = Some(failure.clone());
            return (translator, Err(failure));
        }
        if caller_headers::declared_type(&lambda_headers).is_some_and(is_http_integration) {
            translator.prelude = Some((PreludeReader::new(), lambda_headers));
            return (translator, Ok(Opening::AwaitPrelude));
        }
        let opening = match caller_headers::plain(&lambda_headers) {
            Ok(headers) => Opening::Headers(headers),
            Err(why) => Opening::Unwritable(why),
        };
        (translator, Ok(opening))
    }

    /// The next bytes of Lambda's body.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Translated, Failure> {
        if let Some(failure) = &self.failed {
            return Err(failure.clone());
        }
        let translated = self.translate(bytes);
        if let Err(failure) = &translated {
            self.failed = Some(failure.clone());
        }
        translated
    }

    /// Lambda's body ended: it must have ended its prelude and sent `InvokeComplete`.
    pub fn finish(&mut self) -> Result<(), Failure> {
        if let Some(failure) = &self.failed {
            return Err(failure.clone());
        }
        let failure = if self.prelude.is_some() {
            Failure::Broken("the answer ended before its prelude did".into())
        } else if !self.completed {
            Failure::Broken("the answer ended without InvokeComplete".into())
        } else {
            return Ok(());
        };
        self.failed = Some(failure.clone());
        Err(failure)
    }

    /// The caller's headers still wait for the prelude.
    pub fn awaits_prelude(&self) -> bool {
        self.prelude.is_some()
    }

    /// `InvokeComplete` arrived without an error.
    pub fn is_complete(&self) -> bool {
        self.completed
    }

    fn translate(&mut self, bytes: &[u8]) -> Result<Translated, Failure> {
        if self.completed && !bytes.is_empty() {
            return Err(Failure::Broken("bytes after InvokeComplete".into()));
        }
        let decoded = self.decoder.push(bytes, &mut self.events);
        let mut events = std::mem::take(&mut self.events);
        let mut out = Translated::default();
        let taken = events
            .drain(..)
            .try_for_each(|event| self.take(event, &mut out));
        // (the list is empty again; it keeps its allocation for the next piece)
        self.events = events;
        taken?;
        decoded.map_err(|e| Failure::Broken(format!("corrupt event stream: {e}")))?;
        if self.completed && self.decoder.pending() > 0 {
            return Err(Failure::Broken("bytes after InvokeComplete".into()));
        }
        Ok(out)
    }

    /// One event, in order: its payload added to `out`, or the end, or a failure.
    fn take(&mut self, event: StreamEvent, out: &mut Translated) -> Result<(), Failure> {
        if self.completed {
            return Err(Failure::Broken("an event after InvokeComplete".into()));
        }
        match event {
            StreamEvent::Payload(bytes) => self.pass(bytes, out),
            StreamEvent::Complete { error: None } if self.prelude.is_some() => Err(
                Failure::Broken("the answer ended before its prelude did".into()),
            ),
            StreamEvent::Complete { error: None } => {
                self.completed = true;
                Ok(())
            }
            StreamEvent::Complete { error: Some(error) } => Err(Failure::Function(format!(
                "the function failed mid-stream: {}",
                quoted(&error.code)
            ))),
            StreamEvent::Exception { exception_type, .. } => Err(Failure::Function(format!(
                "Lambda ended the stream with exception {}",
                quoted(&exception_type)
            ))),
        }
    }

    /// Payload bytes: the caller's, or the prelude's until it is read (then the caller's
    /// headers come out, and the bytes after it).
    fn pass(&mut self, bytes: Vec<u8>, out: &mut Translated) -> Result<(), Failure> {
        let Some((reader, lambda_headers)) = self.prelude.as_mut() else {
            if out.payload.is_empty() {
                out.payload = bytes;
            } else {
                out.payload.extend_from_slice(&bytes);
            }
            return Ok(());
        };
        let read = reader
            .push(&bytes)
            .map_err(|e| Failure::Broken(format!("bad HTTP integration prelude: {e}")))?;
        if let Some((prelude, rest)) = read {
            let headers = caller_headers::after_prelude(lambda_headers, &prelude);
            out.headers = Some(headers.map_err(Failure::Broken)?);
            out.payload = rest;
            self.prelude = None;
        }
        Ok(())
    }
}

/// A value from the function, made safe and short for a log line.
fn quoted(text: &str) -> String {
    text.chars()
        .take(QUOTED_CODE_CHARS)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
