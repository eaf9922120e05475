//! `#[derive(ToFrame)]` for [plugin-data](https://docs.rs/plugin-data): a Grafana data frame
//! from a list of structs, one field per struct field.
//!
//! Use it through plugin-data's `derive` feature (`plugin_data::ToFrame`); the attributes and
//! column types are documented on `plugin_data::to_frame`. The generated code walks the rows
//! once, pushing each struct field into its column's collector (a `Vec<T>` or an arrow-rs
//! builder), then moves every collector into its Arrow array.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

/// Derives `plugin_data::ToFrame` for a struct with named fields.
///
/// Attributes: `#[frame(rename_all = "...", crate = "...")]` on the struct;
/// `#[frame(rename = "...")]`, `#[frame(skip)]`, `#[frame(labels = "k=v,...")]` and
/// `#[frame(col0)]` on fields.
#[proc_macro_derive(ToFrame, attributes(frame))]
pub fn derive_to_frame(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// One struct field that becomes a frame field.
struct Column {
    member: syn::Ident,
    ty: syn::Type,
    name: String,
    labels: Vec<(String, String)>,
    col0: bool,
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let container = ContainerAttrs::parse(&input.attrs)?;
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "ToFrame needs a struct with named fields: field names become frame field names",
                ));
            }
        },
        Data::Enum(data) => {
            return Err(syn::Error::new(
                data.enum_token.span,
                "ToFrame can only be derived for structs",
            ));
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span,
                "ToFrame can only be derived for structs",
            ));
        }
    };

    let mut columns = Vec::new();
    for field in fields {
        let attrs = FieldAttrs::parse(&field.attrs)?;
        if attrs.skip {
            continue;
        }
        let Some(member) = field.ident.clone() else {
            continue;
        };
        let rust_name = member.to_string();
        let rust_name = rust_name.strip_prefix("r#").unwrap_or(&rust_name);
        let name = match attrs.rename {
            Some(name) => name,
            None => container.rename_all.apply(rust_name),
        };
        columns.push(Column {
            member,
            ty: field.ty.clone(),
            name,
            labels: attrs.labels,
            col0: attrs.col0,
        });
    }
    if columns.iter().filter(|c| c.col0).count() > 1 {
        return Err(syn::Error::new(
            input.ident.span(),
            "only one field can be #[frame(col0)]",
        ));
    }
    // framestruct's `col0`: that field first, the others in declaration order.
    columns.sort_by_key(|c| !c.col0);

    let krate = container.krate;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let collectors: Vec<syn::Ident> = (0..columns.len())
        .map(|i| syn::Ident::new(&format!("__column_{i}"), Span::mixed_site()))
        .collect();
    let new_collectors = columns.iter().zip(&collectors).map(|(c, var)| {
        let ty = &c.ty;
        quote! {
            let mut #var = <#ty as #krate::to_frame::ToFrameColumn>::collector(__capacity);
        }
    });
    // Fully qualified: one collector type serves several column types (`String`, `&str`).
    let pushes = columns.iter().zip(&collectors).map(|(c, var)| {
        let (member, ty) = (&c.member, &c.ty);
        quote! {
            <<#ty as #krate::to_frame::ToFrameColumn>::Collector
                as #krate::to_frame::ColumnCollector<#ty>>::push(&mut #var, &__row.#member);
        }
    });
    let fields_out = columns
        .iter()
        .zip(&collectors)
        .enumerate()
        .map(|(i, (c, var))| {
            let (name, ty) = (&c.name, &c.ty);
            let labels = c.labels.iter().map(|(k, v)| quote! { .with_label(#k, #v) });
            quote! {
                .with_field(
                    #krate::Field::new(
                        #name,
                        <<#ty as #krate::to_frame::ToFrameColumn>::Collector
                            as #krate::to_frame::ColumnCollector<#ty>>::finish(#var, #i)?,
                    )
                    #(#labels)*
                )
            }
        });

    Ok(quote! {
        impl #impl_generics #krate::ToFrame for #ident #ty_generics #where_clause {
            fn to_frame<__I>(
                name: impl ::core::convert::Into<::std::string::String>,
                rows: __I,
            ) -> ::core::result::Result<#krate::Frame, #krate::Error>
            where
                __I: ::core::iter::IntoIterator,
                __I::Item: ::core::borrow::Borrow<Self>,
            {
                let __rows = ::core::iter::IntoIterator::into_iter(rows);
                let __capacity = ::core::iter::Iterator::size_hint(&__rows).0;
                #(#new_collectors)*
                for __item in __rows {
                    let __row: &Self = ::core::borrow::Borrow::borrow(&__item);
                    #(#pushes)*
                }
                ::core::result::Result::Ok(#krate::Frame::new(name) #(#fields_out)*)
            }
        }
    })
}

struct ContainerAttrs {
    rename_all: RenameRule,
    krate: syn::Path,
}

impl ContainerAttrs {
    fn parse(attrs: &[syn::Attribute]) -> syn::Result<Self> {
        let mut out = ContainerAttrs {
            rename_all: RenameRule::None,
            krate: syn::parse_quote!(::plugin_data),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("frame")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    let rule: LitStr = meta.value()?.parse()?;
                    out.rename_all = RenameRule::parse(&rule)?;
                    Ok(())
                } else if meta.path.is_ident("crate") {
                    let path: LitStr = meta.value()?.parse()?;
                    out.krate = path.parse()?;
                    Ok(())
                } else {
                    Err(meta.error(
                        "unknown #[frame] attribute on a struct: expected `rename_all` or `crate`",
                    ))
                }
            })?;
        }
        Ok(out)
    }
}

#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    skip: bool,
    col0: bool,
    labels: Vec<(String, String)>,
}

impl FieldAttrs {
    fn parse(attrs: &[syn::Attribute]) -> syn::Result<Self> {
        let mut out = FieldAttrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("frame")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let name: LitStr = meta.value()?.parse()?;
                    out.rename = Some(name.value());
                } else if meta.path.is_ident("skip") {
                    out.skip = true;
                } else if meta.path.is_ident("col0") {
                    out.col0 = true;
                } else if meta.path.is_ident("labels") {
                    let text: LitStr = meta.value()?.parse()?;
                    out.labels = parse_labels(&text)?;
                } else {
                    return Err(meta.error(
                        "unknown #[frame] attribute on a field: expected `rename`, `skip`, `labels` or `col0`",
                    ));
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// Parses `k=v,k2=v2` (spaces around items are trimmed; an empty string is no labels).
fn parse_labels(text: &LitStr) -> syn::Result<Vec<(String, String)>> {
    let value = text.value();
    let mut labels: Vec<(String, String)> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((key, val)) = item.split_once('=') else {
            return Err(syn::Error::new(
                text.span(),
                format!("label {item:?} is not `key=value`; write labels as \"k=v,k2=v2\""),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(syn::Error::new(
                text.span(),
                format!("label {item:?} has an empty key"),
            ));
        }
        if labels.iter().any(|(k, _)| k == key) {
            return Err(syn::Error::new(
                text.span(),
                format!("label key {key:?} appears twice"),
            ));
        }
        labels.push((key.to_owned(), val.trim().to_owned()));
    }
    Ok(labels)
}

/// serde's `rename_all` rules, applied to snake_case Rust field names.
#[derive(Clone, Copy)]
enum RenameRule {
    None,
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn parse(rule: &LitStr) -> syn::Result<Self> {
        Ok(match rule.value().as_str() {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            other => {
                return Err(syn::Error::new(
                    rule.span(),
                    format!(
                        "unknown rename_all rule {other:?}: expected lowercase, UPPERCASE, PascalCase, \
                         camelCase, snake_case, SCREAMING_SNAKE_CASE, kebab-case or SCREAMING-KEBAB-CASE"
                    ),
                ));
            }
        })
    }

    fn apply(self, field: &str) -> String {
        match self {
            RenameRule::None | RenameRule::Snake => field.to_owned(),
            RenameRule::Lower => field.to_ascii_lowercase(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => pascal(field),
            RenameRule::Camel => {
                let pascal = pascal(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

fn pascal(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut capitalize = true;
    for c in field.chars() {
        if c == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(c.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules_match_serde() {
        let cases = [
            (RenameRule::Lower, "taken_at", "taken_at"),
            (RenameRule::Upper, "taken_at", "TAKEN_AT"),
            (RenameRule::Pascal, "taken_at", "TakenAt"),
            (RenameRule::Camel, "taken_at", "takenAt"),
            (RenameRule::Snake, "taken_at", "taken_at"),
            (RenameRule::ScreamingSnake, "taken_at", "TAKEN_AT"),
            (RenameRule::Kebab, "taken_at", "taken-at"),
            (RenameRule::ScreamingKebab, "taken_at", "TAKEN-AT"),
            (RenameRule::Camel, "value", "value"),
        ];
        for (rule, field, want) in cases {
            assert_eq!(rule.apply(field), want, "{field}");
        }
    }

    #[test]
    fn labels_parse_and_reject_malformed_text() {
        let parsed = parse_labels(&LitStr::new(" host = a , dc=eu ", Span::call_site()))
            .expect("valid labels");
        assert_eq!(
            parsed,
            [("host".into(), "a".into()), ("dc".into(), "eu".into())]
        );
        assert!(
            parse_labels(&LitStr::new("", Span::call_site()))
                .expect("empty")
                .is_empty()
        );
        for bad in ["host", "=a", "a=1,a=2"] {
            assert!(
                parse_labels(&LitStr::new(bad, Span::call_site())).is_err(),
                "{bad}"
            );
        }
    }
}
