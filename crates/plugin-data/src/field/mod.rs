//! [`Field`]: one named, typed column of a frame, with labels and display config.

mod cell;
mod labels;
mod types;
mod values;

use arrow_array::{Array, ArrayRef};

pub use cell::{CellValue, OwnedCellValue};
pub use labels::Labels;
pub use types::FieldType;
pub use values::{EnumIndex, FieldElement, FieldValues};
pub(crate) use values::{TimeElement, normalize_array};

use crate::config::FieldConfig;
use crate::error::Error;

/// A column of a [`Frame`](crate::Frame): a name, optional labels and config, and values held in
/// an Arrow array.
///
/// ```
/// use plugin_data::{Field, FieldConfig, FieldType};
///
/// let field = Field::new("cpu", vec![0.5_f64, 0.75])
///     .with_label("host", "a")
///     .with_config(FieldConfig::default().with_unit("percentunit"));
/// assert_eq!(field.field_type(), FieldType::Float64);
/// assert_eq!(field.len(), 2);
/// assert_eq!(field.labels().and_then(|l| l.get("host")), Some("a"));
/// ```
#[derive(Debug, Clone)]
pub struct Field {
    name: String,
    labels: Option<Labels>,
    config: Option<FieldConfig>,
    values: FieldValues,
}

impl Field {
    /// Creates a field from anything convertible to [`FieldValues`]: `Vec<T>` (moved into Arrow
    /// without a copy for numbers), `Vec<Option<T>>`, slices, arrays, typed Arrow arrays, or
    /// `FieldValues` built by [`FieldValues::try_from_array`] / collected from an iterator.
    pub fn new(name: impl Into<String>, values: impl Into<FieldValues>) -> Self {
        Field {
            name: name.into(),
            labels: None,
            config: None,
            values: values.into(),
        }
    }

    /// Wraps an existing Arrow array (no copy) as a field.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedArrowType`] when Grafana has no field type for the array's type.
    pub fn try_from_array(name: impl Into<String>, array: ArrayRef) -> Result<Self, Error> {
        Ok(Field::new(name, FieldValues::try_from_array(array)?))
    }

    /// Creates a field from an iterator of values (or of `Option`s for a nullable field).
    pub fn from_values<I>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator,
        FieldValues: FromIterator<I::Item>,
    {
        Field::new(name, values.into_iter().collect::<FieldValues>())
    }

    /// Empty field of the given type.
    pub fn empty(name: impl Into<String>, field_type: FieldType, nullable: bool) -> Self {
        Field::new(name, FieldValues::empty(field_type, nullable))
    }

    /// The field name (may be empty; names may repeat within a frame).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the field.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Renames the field, builder style.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.set_name(name);
        self
    }

    /// The labels (dimensions) of the field, if set. `Some` of empty labels is kept distinct
    /// from `None`, as in the Go SDK.
    pub fn labels(&self) -> Option<&Labels> {
        self.labels.as_ref()
    }

    /// Mutable labels, created empty if absent.
    pub fn labels_mut(&mut self) -> &mut Labels {
        self.labels.get_or_insert_with(Labels::new)
    }

    /// Replaces the labels.
    pub fn set_labels(&mut self, labels: Option<Labels>) {
        self.labels = labels;
    }

    /// Sets the labels, builder style.
    pub fn with_labels(mut self, labels: impl Into<Labels>) -> Self {
        self.labels = Some(labels.into());
        self
    }

    /// Adds one label, builder style.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels_mut().insert(key, value);
        self
    }

    /// The display config, if set.
    pub fn config(&self) -> Option<&FieldConfig> {
        self.config.as_ref()
    }

    /// Mutable config, created empty if absent.
    pub fn config_mut(&mut self) -> &mut FieldConfig {
        self.config.get_or_insert_with(FieldConfig::default)
    }

    /// Replaces the config.
    pub fn set_config(&mut self, config: Option<FieldConfig>) {
        self.config = config;
    }

    /// Sets the config, builder style.
    pub fn with_config(mut self, config: FieldConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// The type of the values.
    pub fn field_type(&self) -> FieldType {
        self.values.field_type
    }

    /// Whether the field is of the nullable variant of its type (Arrow `nullable` flag).
    pub fn is_nullable(&self) -> bool {
        self.values.nullable
    }

    /// Marks the field nullable or not, builder style.
    ///
    /// # Errors
    ///
    /// [`Error::NullsInNonNullableField`] when making a field with nulls non-nullable.
    pub fn with_nullable(mut self, nullable: bool) -> Result<Self, Error> {
        if !nullable && self.values.array.null_count() > 0 {
            return Err(Error::NullsInNonNullableField(self.name));
        }
        self.values.nullable = nullable;
        Ok(self)
    }

    /// The values.
    pub fn values(&self) -> &FieldValues {
        &self.values
    }

    /// The Arrow array holding the values (cheap to clone: reference counted).
    pub fn array(&self) -> &ArrayRef {
        &self.values.array
    }

    /// Replaces the values (and so possibly the type).
    pub fn set_values(&mut self, values: impl Into<FieldValues>) {
        self.values = values.into();
    }

    /// Takes the values out of the field.
    pub fn into_values(self) -> FieldValues {
        self.values
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.values.array.len()
    }

    /// Whether the field has no values.
    pub fn is_empty(&self) -> bool {
        self.values.array.is_empty()
    }

    /// The value at `row`, or `None` when `row` is out of bounds. Nulls are
    /// [`CellValue::Null`].
    pub fn get(&self, row: usize) -> Option<CellValue<'_>> {
        cell::value_at(self, row)
    }

    /// An iterator over all values.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = CellValue<'_>> + '_ {
        (0..self.len()).map(|row| self.get(row).unwrap_or(CellValue::Null))
    }

    /// The Go SDK's name for this field's vector type: `[]float64`, `[]*time.Time`, ...
    /// (used in golden-file tables).
    pub fn go_type_name(&self) -> String {
        let star = if self.is_nullable() { "*" } else { "" };
        format!("[]{star}{}", self.field_type().type_info_name())
    }

    /// A copy of the field with the same name, labels, config and type but no values.
    pub fn empty_like(&self) -> Field {
        Field {
            name: self.name.clone(),
            labels: self.labels.clone(),
            config: self.config.clone(),
            values: FieldValues::empty(self.field_type(), self.is_nullable()),
        }
    }

    pub(crate) fn from_parts(
        name: String,
        labels: Option<Labels>,
        config: Option<FieldConfig>,
        values: FieldValues,
    ) -> Self {
        Field {
            name,
            labels,
            config,
            values,
        }
    }
}

impl PartialEq for Field {
    /// Fields are equal when name, labels, config, type, nullability and values are equal.
    /// Floats compare bitwise, so `NaN` equals `NaN`.
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.labels == other.labels
            && self.config == other.config
            && self.field_type() == other.field_type()
            && self.is_nullable() == other.is_nullable()
            && arrays_equal_bitwise(&self.values.array, &other.values.array)
    }
}

/// Array equality where every `NaN` equals every other `NaN` (Arrow's own equality follows
/// IEEE 754, and Go's `NaN` has a different payload than Rust's).
fn arrays_equal_bitwise(a: &ArrayRef, b: &ArrayRef) -> bool {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type};
    use arrow_schema::DataType;
    match (a.data_type(), b.data_type()) {
        (DataType::Float64, DataType::Float64) => {
            let (a, b) = (
                a.as_primitive::<Float64Type>(),
                b.as_primitive::<Float64Type>(),
            );
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_float(x, y))
        }
        (DataType::Float32, DataType::Float32) => {
            let (a, b) = (
                a.as_primitive::<Float32Type>(),
                b.as_primitive::<Float32Type>(),
            );
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| same_float(x.map(f64::from), y.map(f64::from)))
        }
        _ => a.to_data() == b.to_data(),
    }
}

/// Float equality for value comparison: NaNs are equal, `0.0` and `-0.0` are not.
fn same_float(x: Option<f64>, y: Option<f64>) -> bool {
    match (x, y) {
        (Some(x), Some(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        (x, y) => x.is_none() && y.is_none(),
    }
}
