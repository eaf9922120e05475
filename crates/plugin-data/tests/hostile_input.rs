//! Frame JSON nested 100k levels deep, wherever a document can nest: a clear
//! error, never a stack overflow; where the format takes any JSON (a
//! `json.RawMessage` cell), it is kept and survives a round trip.

use plugin_data::{Field, FieldType, Frame, FrameInclude};

/// Far past serde_json's recursion limit (128); a recursive descent
/// without one overflows the test thread's stack long before this.
const DEPTH: usize = 100_000;

fn nested_arrays() -> String {
    "[".repeat(DEPTH) + &"]".repeat(DEPTH)
}

fn nested_objects() -> String {
    r#"{"a":"#.repeat(DEPTH) + "null" + &"}".repeat(DEPTH)
}

/// Documents with `@` where a deep array goes: every place that expects a
/// value of some shape, where it must be an error.
const MUST_FAIL: &[&str] = &[
    "@",
    r#"{"schema":@}"#,
    r#"{"schema":{"name":@}}"#,
    r#"{"schema":{"meta":@}}"#,
    r#"{"schema":{"meta":{"notices":[{"text":"x","inspect":@}]}}}"#,
    r#"{"schema":{"meta":{"stats":[{"displayName":"s","value":@}]}}}"#,
    r#"{"schema":{"fields":@}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"},"labels":@}]}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":@}]}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"},"config":@}]}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"},"config":{"mappings":[@]}}]}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"}}]},"data":@}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"}}]},"data":{"values":@}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"}}]},"data":{"values":[@]}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"}}]},"data":{"values":[[1,@]]}}"#,
    r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"}}]},"data":{"values":[[1]],"entities":@}}"#,
    r#"{"schema":{"fields":[{"name":"t","type":"time","typeInfo":{"frame":"time.Time"}}]},"data":{"values":[[1]],"nanos":[@]}}"#,
    // Data before schema: kept raw, parsed once the schema is known.
    r#"{"data":{"values":[[1,@]]},"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"}}]}}"#,
    r#"{"data":@,"schema":{"fields":[]}}"#,
];

fn documents(template: &str) -> [String; 2] {
    [nested_arrays(), nested_objects()].map(|deep| template.replace('@', &deep))
}

#[test]
fn deep_nesting_where_the_format_has_structure_is_an_error() {
    let deep = nested_arrays();
    let decoded: Vec<&str> = MUST_FAIL
        .iter()
        .copied()
        .filter(|template| Frame::from_json(template.replace('@', &deep).as_bytes()).is_ok())
        .collect();
    assert!(decoded.is_empty(), "decoded: {decoded:#?}");
    // Free-form JSON (meta and config `custom`) is parsed into a tree, so
    // serde_json's recursion limit stops it, objects as well as arrays.
    // (A field config's `custom` is an object, so only objects nest there.)
    let config = r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"},"config":{"custom":@}}]}}"#;
    let meta = r#"{"schema":{"meta":{"custom":@}}}"#;
    let [arrays, objects] = documents(meta);
    let cases = [
        (meta, arrays),
        (meta, objects),
        (config, config.replace('@', &nested_objects())),
    ];
    for (template, document) in cases {
        let error = Frame::from_json(document.as_bytes()).expect_err(template);
        assert!(
            error.to_string().contains("recursion limit"),
            "{template}: {error}"
        );
    }
}

#[test]
fn deep_values_under_unknown_keys_are_skipped() {
    // Unknown keys are ignored, as Go ignores them; serde_json skips a
    // value without recursing, so depth costs nothing there. (Go's decoder
    // stops at 10 000 levels, `encoding/json/scanner.go` maxNestingDepth;
    // accepting more is harmless here.)
    for template in [
        r#"{"schema":{"fields":[]},"unknown":@}"#,
        r#"{"schema":{"fields":[],"unknown":@}}"#,
        r#"{"schema":{"fields":[{"name":"v","type":"number","typeInfo":{"frame":"float64"},"unknown":@}]}}"#,
    ] {
        for document in documents(template) {
            let frame = Frame::from_json(document.as_bytes()).expect(template);
            assert_eq!(frame.name(), "", "{template}");
        }
    }
}

#[test]
fn deep_nesting_in_data_only_documents_is_an_error() {
    let schema = Frame::new("s").with_field(Field::new("v", Vec::<Option<f64>>::new()));
    for template in [
        "@",
        r#"{"data":@}"#,
        r#"{"data":{"values":[@]}}"#,
        r#"{"data":{"values":[[1,@]]}}"#,
        r#"{"data":{"values":[[1]],"entities":[@]}}"#,
    ] {
        let document = template.replace('@', &nested_arrays());
        let decoded = Frame::from_json_data(&schema, document.as_bytes());
        assert!(decoded.is_err(), "{template} decoded");
    }
}

#[test]
fn a_deep_json_cell_is_kept_and_round_trips() {
    // A `json.RawMessage` cell is any JSON; it is kept as it is, without a
    // parse tree (so without recursion).
    let template = r#"{"schema":{"fields":[{"name":"j","type":"other","typeInfo":{"frame":"json.RawMessage"}}]},"data":{"values":[[@]]}}"#;
    for document in documents(template) {
        let frame = Frame::from_json(document.as_bytes()).expect("a JSON cell takes any JSON");
        assert_eq!(frame.fields()[0].field_type(), FieldType::Json);
        assert_eq!(frame.num_rows().unwrap(), 1);
        let again = frame.to_json(FrameInclude::All).expect("encodes");
        assert_eq!(Frame::from_json(&again).expect("decodes"), frame);
        let ipc = frame.to_arrow_ipc().expect("encodes as Arrow");
        assert_eq!(Frame::from_arrow_ipc(&ipc).expect("decodes"), frame);
    }
}

/// Regression (found by the fuzz target `frame_json_structured`): value
/// columns of different lengths decode into a frame that no encoder writes
/// back (`to_json` and `to_arrow_ipc` answer `FieldLengthMismatch`). Go
/// refuses such a document while reading it: every column after the first
/// must have the first's length (`data/frame_json.go`, `readFrameData`, and
/// the `read*VectorJSON` readers of `data/frame_json.gen.go`: "expected
/// array" / "expected close array").
#[test]
fn value_columns_of_different_lengths_are_an_error() {
    let schema = r#""schema":{"fields":[{"name":"a","type":"boolean","typeInfo":{"frame":"bool"}},{"name":"b","type":"boolean","typeInfo":{"frame":"bool","nullable":true}}]}"#;
    for values in ["[[null],[]]", "[[true],[true,false]]", "[[],[true]]"] {
        let schema_first = format!(r#"{{{schema},"data":{{"values":{values}}}}}"#);
        let data_first = format!(r#"{{"data":{{"values":{values}}},{schema}}}"#);
        for document in [schema_first, data_first] {
            let decoded = Frame::from_json(document.as_bytes());
            assert!(decoded.is_err(), "{document} decoded: {decoded:?}");
        }
    }
    let known = Frame::new("s")
        .with_field(Field::new("a", vec![true]))
        .with_field(Field::new("b", vec![Some(true)]));
    let decoded = Frame::from_json_data(&known, br#"{"data":{"values":[[true],[]]}}"#);
    assert!(decoded.is_err(), "{decoded:?}");
}
