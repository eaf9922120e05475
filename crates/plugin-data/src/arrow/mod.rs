//! The Arrow IPC codec: one Arrow IPC *file* per frame, laid out exactly as the Go SDK's
//! `data/arrow.go` does it.
//!
//! | Frame / field | Arrow |
//! |---|---|
//! | frame name, refId, meta | schema metadata `name`, `refId` (always), `meta` (compact JSON, only when set) |
//! | field name | Arrow field name |
//! | field type | `tstype` field metadata (`number`, `string`, `boolean`, `time`, `other`, `enum`) and the Arrow type: ints/floats as themselves, `Utf8`, `Boolean`, `Timestamp(ns)`, `Binary` for JSON, `UInt16` + `tstype=enum` for enums |
//! | nullability | the Arrow `nullable` flag |
//! | labels, config | `labels`, `config` field metadata (compact JSON, only when set) |

mod decode;
mod encode;

pub(crate) use decode::decode_frame;
pub(crate) use encode::encode_frame;

/// Schema metadata key of the frame name.
pub(crate) const KEY_NAME: &str = "name";
/// Schema metadata key of the refId.
pub(crate) const KEY_REF_ID: &str = "refId";
/// Schema metadata key of the frame meta JSON.
pub(crate) const KEY_META: &str = "meta";
/// Field metadata key of the labels JSON.
pub(crate) const KEY_LABELS: &str = "labels";
/// Field metadata key of the field config JSON.
pub(crate) const KEY_CONFIG: &str = "config";
/// Field metadata key of the TypeScript type.
pub(crate) const KEY_TSTYPE: &str = "tstype";
