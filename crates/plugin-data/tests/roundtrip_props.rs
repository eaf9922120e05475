//! Random frames of every field type round-trip through Arrow IPC and through frame JSON.

use std::sync::Arc;

use arrow_array::types::*;
use arrow_array::{ArrayRef, BinaryArray, BooleanArray, PrimitiveArray, StringArray};
use plugin_data::{Field, FieldType, FieldValues, Frame, FrameInclude, FrameMeta, Labels};
use proptest::prelude::*;

/// Arbitrary values of one field type, `len` rows, nulls only when `nullable`.
fn field_values(field_type: FieldType, nullable: bool, len: usize) -> BoxedStrategy<FieldValues> {
    fn column<T: std::fmt::Debug + Clone + 'static>(
        values: impl Strategy<Value = T> + 'static,
        nullable: bool,
        len: usize,
        build: impl Fn(Vec<Option<T>>) -> ArrayRef + 'static,
    ) -> BoxedStrategy<ArrayRef> {
        let cell = if nullable {
            proptest::option::of(values).boxed()
        } else {
            values.prop_map(Some).boxed()
        };
        proptest::collection::vec(cell, len).prop_map(build).boxed()
    }
    macro_rules! primitive {
        ($arrow:ty, $strategy:expr) => {
            column($strategy, nullable, len, |v| {
                Arc::new(v.into_iter().collect::<PrimitiveArray<$arrow>>()) as ArrayRef
            })
        };
    }
    // -0.0 is kept distinct by the encoders, so plain `any` floats are fine.
    let array = match field_type {
        FieldType::Int8 => primitive!(Int8Type, any::<i8>()),
        FieldType::Int16 => primitive!(Int16Type, any::<i16>()),
        FieldType::Int32 => primitive!(Int32Type, any::<i32>()),
        FieldType::Int64 => primitive!(Int64Type, any::<i64>()),
        FieldType::UInt8 => primitive!(UInt8Type, any::<u8>()),
        FieldType::UInt16 | FieldType::Enum => primitive!(UInt16Type, any::<u16>()),
        FieldType::UInt32 => primitive!(UInt32Type, any::<u32>()),
        FieldType::UInt64 => primitive!(UInt64Type, any::<u64>()),
        FieldType::Float32 => primitive!(Float32Type, any::<f32>()),
        FieldType::Float64 => primitive!(Float64Type, any::<f64>()),
        FieldType::Time => primitive!(TimestampNanosecondType, any::<i64>()),
        FieldType::Bool => column(any::<bool>(), nullable, len, |v| {
            Arc::new(v.into_iter().collect::<BooleanArray>())
        }),
        FieldType::String => column(".*", nullable, len, |v: Vec<Option<String>>| {
            Arc::new(v.into_iter().collect::<StringArray>())
        }),
        // No `null` document: in frame JSON (as in Go) it is indistinguishable from a null cell.
        FieldType::Json => column(
            prop_oneof![
                Just("{\"a\":1}"),
                Just("[1,2.5,\"x\"]"),
                Just("true"),
                Just("\"s\\\"q\""),
                Just("{}")
            ],
            nullable,
            len,
            |v| {
                Arc::new(
                    v.iter()
                        .map(|s| s.map(str::as_bytes))
                        .collect::<BinaryArray>(),
                )
            },
        ),
        _ => unreachable!("every field type is listed"),
    };
    array
        .prop_map(move |array| {
            let values = if field_type == FieldType::Enum {
                let uint16 = array
                    .as_any()
                    .downcast_ref::<arrow_array::UInt16Array>()
                    .cloned();
                FieldValues::enum_from_array(uint16.expect("enum columns are built as UInt16"))
            } else {
                FieldValues::try_from_array(array).expect("supported type")
            };
            values
                .with_nullable(nullable)
                .expect("no nulls unless nullable")
        })
        .boxed()
}

fn field(len: usize) -> impl Strategy<Value = Field> {
    (
        proptest::sample::select(FieldType::ALL.to_vec()),
        any::<bool>(),
        "[a-z ]{0,8}",
        proptest::option::of(proptest::collection::btree_map(
            "[a-z]{1,4}",
            "[a-z0-9]{0,4}",
            0..3,
        )),
    )
        .prop_flat_map(move |(field_type, nullable, name, labels)| {
            field_values(field_type, nullable, len).prop_map(move |values| {
                let mut field = Field::new(name.clone(), values);
                field.set_labels(labels.clone().map(Labels::from));
                field
            })
        })
}

fn frame() -> impl Strategy<Value = Frame> {
    (0usize..20, "[a-zA-Z ]{0,6}", "[A-Z]{0,2}", any::<bool>()).prop_flat_map(
        |(rows, name, ref_id, with_meta)| {
            proptest::collection::vec(field(rows), 0..6).prop_map(move |fields| {
                let mut frame = Frame::new(name.clone())
                    .with_ref_id(ref_id.clone())
                    .with_fields(fields);
                if with_meta {
                    frame.set_meta(FrameMeta::default().with_executed_query_string("q"));
                }
                frame
            })
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arrow_round_trip(frame in frame()) {
        let bytes = frame.to_arrow_ipc().expect("encodes");
        prop_assert_eq!(Frame::from_arrow_ipc(&bytes).expect("decodes"), frame);
    }

    #[test]
    fn json_round_trip(frame in frame()) {
        let bytes = frame.to_json(FrameInclude::All).expect("encodes");
        prop_assert_eq!(Frame::from_json(&bytes).expect("decodes"), frame);
    }
}
