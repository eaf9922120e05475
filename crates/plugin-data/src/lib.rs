//! Grafana data frames on Apache Arrow.
//!
//! A [`Frame`] is what a Grafana backend plugin returns for a query: named, typed columns
//! ([`Field`]s) held in [arrow-rs](https://docs.rs/arrow-array) arrays, with labels,
//! display config ([`FieldConfig`]) and frame metadata ([`FrameMeta`]). This crate encodes frames
//! exactly as the Go SDK (`grafana-plugin-sdk-go/data`) does, in both of Grafana's wire formats:
//! the Arrow IPC file format and frame JSON.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use plugin_data::{Field, FieldConfig, Frame, FrameInclude};
//!
//! let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let frame = Frame::new("response")
//!     .with_ref_id("A")
//!     .with_field(Field::new("time", vec![start, start + Duration::from_secs(10)]))
//!     .with_field(
//!         Field::new("temperature", vec![21.5_f64, 22.0])
//!             .with_label("room", "kitchen")
//!             .with_config(FieldConfig::default().with_unit("celsius")),
//!     )
//!     .with_field(Field::new("note", vec![Some("ok"), None]));
//!
//! // Arrow IPC file bytes, ready for `DataResponse.frames`.
//! let arrow = frame.to_arrow_ipc()?;
//! assert_eq!(Frame::from_arrow_ipc(&arrow)?, frame);
//!
//! // Frame JSON, as used for `format=JSON` responses and streaming.
//! let json = frame.to_json(FrameInclude::All)?;
//! assert_eq!(Frame::from_json(&json)?, frame);
//!
//! // Lookups never panic.
//! assert!(frame.field("missing").is_none());
//! # Ok::<(), plugin_data::Error>(())
//! ```
//!
//! # Features
//!
//! | Feature | Default | Adds |
//! |---|---|---|
//! | `chrono` | no | `chrono::DateTime<Utc>`, `DateTime<FixedOffset>` and `NaiveDateTime` (as UTC) as time values |
//! | `time` | no | `time::OffsetDateTime` and `time::UtcDateTime` as time values |
//! | `derive` | no | `#[derive(ToFrame)]` ([`to_frame`]), from the `plugin-data-derive` crate |
//!
//! `std::time::SystemTime` values and nanosecond `i64`s ([`FieldValues::time_nanos`]) always work.
//!
//! # Modules
//!
//! * [`golden`]: the Go SDK's golden-file formats (`.txt` with base64 Arrow frames, `.jsonc`
//!   with DataResponse JSON), read and write, plus file sniffing for `cargo xtask frame`.
//! * [`convert`]: long ↔ wide time-series conversions and wide field sorting, with the Go
//!   SDK's rules (`LongToWide`, `WideToLong`, `SortWideFrameFields`).
//! * [`builder`]: row-wise building: [`FrameBuilder`](builder::FrameBuilder) (typed, checked
//!   rows and cells; Go `NewFrameOfFieldTypes`/`AppendRow`/`Set`) and
//!   [`FrameInputConverter`](builder::FrameInputConverter) (rows of raw input through
//!   per-field converters).
//! * [`to_frame`]: [`ToFrame`], a frame from a list of structs, column by column; derive it
//!   with feature `derive`.
//!
//! ```
//! use plugin_data::builder::{FieldSpec, FrameBuilder};
//! use plugin_data::{CellValue, FieldType};
//!
//! // Rows of dynamic values, each checked against its field's type.
//! let mut rows = FrameBuilder::of_field_types([
//!     FieldSpec::new(FieldType::String),
//!     FieldSpec::nullable(FieldType::Int64),
//! ])
//! .with_field_names(["host", "errors"])?;
//! rows.append_row(&["a".into(), 3_i64.into()])?;
//! rows.append_row(&["b".into(), CellValue::Null])?;
//! assert!(rows.append_row(&["c".into()]).is_err()); // one value short
//! assert_eq!(rows.build()?.num_rows()?, 2);
//! # Ok::<(), plugin_data::Error>(())
//! ```
//!
//! # Copies
//!
//! A `Vec<T>` of numbers becomes a field without copying: the allocation moves into the Arrow
//! buffer. Encoding to Arrow IPC copies each column exactly once, into the output buffer.
//! Existing Arrow arrays are wrapped as they are ([`Field::try_from_array`]). The row builder
//! and [`ToFrame`] collect each column straight into the buffers its Arrow array is made of.

mod arrow;
pub mod builder;
mod config;
pub mod convert;
mod error;
mod field;
mod format;
mod frame;
pub mod golden;
mod json;
mod meta;
mod string_enum;
mod table;
pub mod to_frame;

pub use config::{
    DataLink, EnumFieldConfig, FieldConfig, FieldTypeConfig, InternalDataLink, LinkTimeRange,
    LinkTransformationConfig, SpecialValueMatch, Threshold, ThresholdsConfig, ThresholdsMode,
    ValueMapping, ValueMappingResult,
};
pub use error::Error;
pub use field::{
    CellValue, EnumIndex, Field, FieldElement, FieldType, FieldValues, Labels, OwnedCellValue,
};
pub use frame::{Frame, FrameInclude};
pub use meta::{
    DataTopic, FrameMeta, FrameType, FrameTypeKind, FrameTypeVersion, InspectType, Notice,
    NoticeSeverity, QueryStat, VisType,
};
/// `#[derive(ToFrame)]`: see [`to_frame`] for the attributes (feature `derive`).
#[cfg(feature = "derive")]
pub use plugin_data_derive::ToFrame;
pub use to_frame::ToFrame;

/// Re-exported arrow-rs crates, so users build arrays with the same versions this crate uses.
pub mod arrow_reexport {
    pub use arrow_array as array;
    pub use arrow_buffer as buffer;
    pub use arrow_schema as schema;
}
