//! Encoding a [`QueryDataResponse`] without copying its frames.
//!
//! `prost::Message::encode` writes every field into one buffer, so a 30 MB
//! frame is copied once more on its way to the socket, into a buffer that
//! is allocated (and page-faulted) for every answer. [`ScatteredMessage`]
//! instead holds the message as a list of buffers: small ones for tags,
//! lengths and the other fields, and each large frame as the very
//! [`Bytes`] the frame encoder produced. Written one after the other, the
//! buffers are exactly a valid protobuf encoding of the message, which
//! `QueryDataResponse::decode` reads back equal; an HTTP/2 server can send
//! them with vectored writes.
//!
//! The encoding differs from prost's only in field order: within each
//! `DataResponse`, the frames come after the other fields. Protobuf parsers
//! accept fields in any order (Go's and prost's both do) and keep the order
//! of a repeated field's elements, so the decoded message is the same.

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

use crate::pluginv2::{DataResponse, QueryDataResponse};

/// Frames shorter than this are copied into the surrounding buffer: a
/// separate buffer costs an extra `iovec` and HTTP/2 data frame, which is
/// more than copying a small frame.
const BORROW_THRESHOLD: usize = 4096;

/// A protobuf message as the buffers that, concatenated, encode it.
#[derive(Debug, Clone, Default)]
pub struct ScatteredMessage {
    chunks: Vec<Bytes>,
    len: usize,
}

impl ScatteredMessage {
    /// Encodes `response`, keeping every frame of 4 KiB or more as its own
    /// buffer (shared, not copied).
    pub fn query_data_response(response: QueryDataResponse) -> Self {
        let mut writer = ScatterWriter::default();
        for (ref_id, mut answer) in response.responses {
            let frames = std::mem::take(&mut answer.frames);
            encode_entry(&mut writer, &ref_id, &answer, frames);
        }
        writer.finish()
    }

    /// The encoded length in bytes: the sum of the buffers' lengths.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message encodes to no bytes at all (a message with every
    /// field at its default).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffers, in order.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// The buffers, in order, by value.
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks
    }
}

/// One `responses` map entry: `refId` → `answer`, whose `frames` were taken
/// out of it and are written after its other fields.
fn encode_entry(
    writer: &mut ScatterWriter,
    ref_id: &str,
    answer: &DataResponse,
    frames: Vec<Bytes>,
) {
    const RESPONSES: u32 = 1;
    const ENTRY_KEY: u32 = 1;
    const ENTRY_VALUE: u32 = 2;
    const FRAMES: u32 = 1;

    // As prost does, a map entry leaves out a key or value equal to its
    // default, so the encoded length is the same as prost's.
    let frames_len: usize = frames
        .iter()
        .map(|frame| length_delimited_len(FRAMES, frame.len()))
        .sum();
    let value_len = answer.encoded_len() + frames_len;
    let key_field_len = match ref_id.len() {
        0 => 0,
        len => length_delimited_len(ENTRY_KEY, len),
    };
    let value_field_len = match value_len {
        0 => 0,
        len => length_delimited_len(ENTRY_VALUE, len),
    };

    let buf = &mut writer.current;
    encode_key(RESPONSES, WireType::LengthDelimited, buf);
    encode_varint((key_field_len + value_field_len) as u64, buf);
    if key_field_len > 0 {
        encode_key(ENTRY_KEY, WireType::LengthDelimited, buf);
        encode_varint(ref_id.len() as u64, buf);
        buf.put_slice(ref_id.as_bytes());
    }
    if value_field_len == 0 {
        return;
    }
    encode_key(ENTRY_VALUE, WireType::LengthDelimited, buf);
    encode_varint(value_len as u64, buf);
    answer.encode(buf).expect("a BytesMut grows to any length");
    for frame in frames {
        let buf = &mut writer.current;
        encode_key(FRAMES, WireType::LengthDelimited, buf);
        encode_varint(frame.len() as u64, buf);
        writer.push(frame);
    }
}

/// The length of a length-delimited field: key, length and payload.
fn length_delimited_len(tag: u32, payload: usize) -> usize {
    prost::encoding::key_len(tag) + encoded_len_varint(payload as u64) + payload
}

/// Builds the buffer list: small writes go into `current`, large payloads
/// become buffers of their own.
#[derive(Default)]
struct ScatterWriter {
    current: BytesMut,
    chunks: Vec<Bytes>,
    len: usize,
}

impl ScatterWriter {
    /// Appends `payload`: shared when large, copied when small.
    fn push(&mut self, payload: Bytes) {
        if payload.len() < BORROW_THRESHOLD {
            self.current.put_slice(&payload);
        } else {
            self.flush();
            self.len += payload.len();
            self.chunks.push(payload);
        }
    }

    /// Moves what `current` holds into the list.
    fn flush(&mut self) {
        if !self.current.is_empty() {
            let small = self.current.split().freeze();
            self.len += small.len();
            self.chunks.push(small);
        }
    }

    fn finish(mut self) -> ScatteredMessage {
        self.flush();
        ScatteredMessage {
            chunks: self.chunks,
            len: self.len,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn concatenated(message: &ScatteredMessage) -> Vec<u8> {
        message
            .chunks()
            .iter()
            .flat_map(|chunk| chunk.iter().copied())
            .collect()
    }

    fn answer(frames: Vec<Bytes>) -> DataResponse {
        DataResponse {
            frames,
            error: "partial".into(),
            json_meta: Bytes::from_static(b"{\"a\":1}"),
            status: 207,
            error_source: "downstream".into(),
            format: 1,
        }
    }

    #[test]
    fn decodes_back_to_the_same_message() {
        let big = Bytes::from(vec![7u8; 100_000]);
        let response = QueryDataResponse {
            responses: HashMap::from([
                (
                    "A".to_owned(),
                    answer(vec![big.clone(), Bytes::from_static(b"tiny"), big]),
                ),
                ("B".to_owned(), DataResponse::default()),
                (String::new(), answer(Vec::new())),
                ("C".to_owned(), answer(vec![Bytes::new()])),
            ]),
        };
        let scattered = ScatteredMessage::query_data_response(response.clone());
        let bytes = concatenated(&scattered);
        assert_eq!(bytes.len(), scattered.len());
        assert_eq!(
            scattered.len(),
            response.encoded_len(),
            "same length as prost's encoding"
        );
        assert_eq!(
            QueryDataResponse::decode(bytes.as_slice()).unwrap(),
            response
        );
    }

    #[test]
    fn large_frames_are_shared_not_copied() {
        let frame = Bytes::from(vec![1u8; 1 << 20]);
        let response = QueryDataResponse {
            responses: HashMap::from([("A".to_owned(), answer(vec![frame.clone()]))]),
        };
        let scattered = ScatteredMessage::query_data_response(response);
        let shared = scattered
            .chunks()
            .iter()
            .filter(|chunk| chunk.as_ptr() == frame.as_ptr() && chunk.len() == frame.len())
            .count();
        assert_eq!(shared, 1, "the frame's own buffer is one of the chunks");
        let copied: usize = scattered.chunks().iter().map(Bytes::len).sum::<usize>() - frame.len();
        assert!(
            copied < 64,
            "only tags, lengths and small fields are written: {copied} bytes"
        );
    }

    #[test]
    fn small_frames_are_copied_into_one_buffer() {
        let response = QueryDataResponse {
            responses: HashMap::from([(
                "A".to_owned(),
                answer(vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]),
            )]),
        };
        let scattered = ScatteredMessage::query_data_response(response.clone());
        assert_eq!(scattered.chunks().len(), 1);
        assert_eq!(
            QueryDataResponse::decode(concatenated(&scattered).as_slice()).unwrap(),
            response
        );
    }

    #[test]
    fn an_empty_response_is_empty() {
        let scattered = ScatteredMessage::query_data_response(QueryDataResponse::default());
        assert!(scattered.is_empty());
        assert!(scattered.chunks().is_empty());
    }
}
