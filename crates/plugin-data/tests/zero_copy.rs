//! Building fields from vectors moves the allocation into Arrow; encoding sizes its buffer once.

use plugin_data::{EnumIndex, Field, FieldValues, Frame};

#[test]
fn numeric_vectors_move_into_arrow_without_a_copy() {
    let values: Vec<f64> = (0..1024).map(f64::from).collect();
    let vec_ptr = values.as_ptr() as usize;
    let field = Field::new("v", values);
    let buffer_ptr = field.array().to_data().buffers()[0].as_ptr() as usize;
    assert_eq!(vec_ptr, buffer_ptr);

    let nanos: Vec<i64> = (0..1024).collect();
    let vec_ptr = nanos.as_ptr() as usize;
    let field = Field::new("t", FieldValues::time_nanos(nanos));
    assert_eq!(
        field.array().to_data().buffers()[0].as_ptr() as usize,
        vec_ptr
    );

    let enums: Vec<EnumIndex> = (0..1024).map(EnumIndex).collect();
    let vec_ptr = enums.as_ptr() as usize;
    let field = Field::new("e", enums);
    assert_eq!(
        field.array().to_data().buffers()[0].as_ptr() as usize,
        vec_ptr
    );
}

#[test]
fn wrapping_an_arrow_array_shares_its_buffers() {
    let array: arrow_array::ArrayRef =
        std::sync::Arc::new(arrow_array::Int32Array::from(vec![1, 2, 3]));
    let field = Field::try_from_array("x", array.clone()).expect("supported type");
    assert!(std::sync::Arc::ptr_eq(&array, field.array()));
}

#[test]
fn mismatched_lengths_cannot_be_encoded() {
    let frame = Frame::new("f")
        .with_field(Field::new("a", vec![1_i32, 2]))
        .with_field(Field::new("b", vec![1_i32]));
    assert!(matches!(
        frame.num_rows(),
        Err(plugin_data::Error::FieldLengthMismatch { .. })
    ));
    assert!(frame.to_arrow_ipc().is_err());
    assert!(frame.to_json(plugin_data::FrameInclude::All).is_err());
    // Schema-only JSON has no rows, so it is fine.
    assert!(frame.to_json(plugin_data::FrameInclude::SchemaOnly).is_ok());
}
